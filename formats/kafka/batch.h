// Decoding and encoding of log entries: RecordBatch v2 and legacy (magic 0/1) messages,
// including compressed wrappers. Pure codecs: no file I/O, no policy.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/kafka/entry.h"  // EntryView, EntryWalker, PeekEntry
#include "formats/kafka/layout.h"
#include "lib/base/status.h"
#include "lib/base/record.h"

namespace evt::kafka {

struct DecodeOptions {
  bool verify_crc = true;
  bool decode_records = true;  // false: fill BatchInfo only (fast scans)
  bool include_control = true; // false: control batches add BatchInfo but no records
  size_t max_uncompressed = static_cast<size_t>(kMaxUncompressedBatch);
};

// Decodes one entry (`entry` starts at the 12-byte offset/length prefix and is exactly
// total_size() long). Appends one BatchInfo per top-level entry to out->batches and its
// records to out->records/out->headers; decompressed bytes live in out's buffers.
// Returns Corruption with a reason (without location: the caller adds file@position).
// A CRC mismatch is reported as Corruption unless !verify_crc (then BatchInfo.crc_ok=false).
Status DecodeEntry(std::string_view entry, uint64_t position, const DecodeOptions& opts, RecordBatch* out);

struct EncodeOptions {
  Codec codec = kZstd;
  int level = -1;
  int32_t partition_leader_epoch = 0;
  int64_t producer_id = kNoProducerId;
  int16_t producer_epoch = kNoProducerEpoch;
  int32_t base_sequence = kNoSequence;
  bool transactional = false;
  bool control = false;
  // >= 0: a KIP-534 delete horizon. It is stored in the base-timestamp field (attribute
  // bit 6 set) and record timestamp deltas are taken relative to it, as Kafka does.
  int64_t delete_horizon = kNoTimestamp;
  // Offsets: record i gets offset delta (offsets[i] - base_offset) instead of the rule
  // below (the cleaner keeps a batch's original base offset when records go).
  bool absolute_offsets = false;
  // >= 0: the batch's last offset (>= the last record's); the cleaner keeps the original
  // one so that a producer's last sequence number survives.
  int64_t last_offset = -1;
};

// Encodes records [begin, end) of `b` as one RecordBatch v2 with the given base offset;
// record i gets offset base_offset + (offsets[i]-offsets[begin]) when `keep_offsets`
// (they must increase), else base_offset + (i - begin). All records must share the same
// timestamp type; for LogAppendTime they must share the same timestamp. Appends the batch
// bytes to *out and describes it in *info (position left 0).
Status EncodeBatch(const RecordBatch& b, size_t begin, size_t end, int64_t base_offset, bool keep_offsets,
                   const EncodeOptions& opts, std::string* out, BatchInfo* info);

// Encodes a v2 batch header without records, as Kafka's cleaner writes when it removes
// every record of a producer's last batch (to keep producer state): base and last offset,
// producer fields, flags and timestamps of `orig`, no compression.
void EncodeEmptyBatch(const BatchInfo& orig, std::string* out);

}  // namespace evt::kafka
