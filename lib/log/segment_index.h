// Reading a partition directory through its indexes: where to start reading for an offset
// (the `.index`), and the log end and newest record time (the last segment's tail and the
// `.timeindex` files), touching a few pages instead of whole segments. Indexes are hints: an
// entry that does not point at a batch holding its offset is not used (reading starts at the
// segment's beginning instead), so a stale or damaged index never changes what is read.
#pragma once
#include <cstdint>
#include <string_view>

#include "lib/base/status.h"
#include "lib/log/segment.h"

namespace evt {

class MappedFile;

// The byte position in `data` (the mapping of segment `sf`) at which a read for `offset` may
// start: the position of the offset index's last entry at or below `offset`, when the index
// exists and a whole batch is at that position whose offsets are the entry's; 0 otherwise.
uint64_t IndexedPosition(const SegmentFile& sf, std::string_view data, int64_t offset);

// Walks the batch headers of `f` from byte `pos` to the first bad or torn one, raising *end
// to the end offset (last offset + 1) and *max_ts to the newest header timestamp seen.
// Pages are released every 8 MiB as the walk goes: small batches put a header on every
// page, so without it a walk over a 1 GiB segment leaves all of it resident.
void WalkHeaders(MappedFile* f, uint64_t pos, int64_t* end, int64_t* max_ts);

struct PartitionTail {
  int64_t end = 0;             // the offset after the last batch
  int64_t max_timestamp = -1;  // the newest record time (ms); -1 when no batch has one
};
// The log end and the newest record time of a partition directory: the last segment's batch
// headers from its last offset-index entry on, and each segment's time index (whose last
// entry is the segment's newest time so far); a segment without a time index has its batch
// headers walked. Pages read are released as the walk goes (bounded memory).
Result<PartitionTail> ReadPartitionTail(const PartitionDir& pd);

}  // namespace evt
