// Committed offsets read offline from a broker's data directory: the `__consumer_offsets-*`
// partitions replayed as the group coordinator loads them, into the latest commit per
// (group, topic, partition). What `evt lag DATADIR` builds on.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/source.h"

namespace evt {

struct CommittedOffset {
  std::string group;
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int32_t leader_epoch = -1;       // -1 when the value version has none (before 3) or none was given
  std::string metadata;
  int64_t commit_timestamp = -1;   // ms since the epoch, as the coordinator stored it
  int64_t expire_timestamp = -1;   // value version 1 only
  int16_t value_version = -1;
  // Where the commit is: the __consumer_offsets partition and the record's offset in it.
  int32_t log_partition = -1;
  int64_t log_offset = -1;
};

struct OffsetsLogStats {
  uint64_t partitions = 0;       // __consumer_offsets partitions read
  uint64_t records = 0;          // data records read
  uint64_t commits = 0;          // offset commit records applied
  uint64_t tombstones = 0;       // offset commit tombstones applied
  uint64_t group_records = 0;    // group metadata records (and their tombstones)
  uint64_t not_decoded = 0;      // records whose key or value did not decode (skipped)
  uint64_t aborted = 0;          // transactional commits dropped by an ABORT marker
  uint64_t pending = 0;          // transactional commits with no marker yet (not applied)
};

// Reads every `__consumer_offsets-N` partition under `paths` (data directories, or the
// partition directories themselves) in offset order and returns the live commits sorted by
// (group, topic, partition): a later commit replaces an earlier one, a tombstone (null
// value) deletes it, and commits in transactional batches count only once their
// transaction's COMMIT marker is read (an ABORT marker drops them), as the coordinator does.
// Memory is one entry per live commit plus the commits of transactions still open.
// Records that do not decode are counted in stats->not_decoded and skipped. NotFound when
// there is no __consumer_offsets partition; Corruption (file@position) from the segments.
Status ReadCommittedOffsets(const std::vector<std::string>& paths, Reporter* reporter,
                            std::vector<CommittedOffset>* out, OffsetsLogStats* stats);

}  // namespace evt
