// `evt compact`: Kafka's log cleaner (cleanup.policy=compact) for segment directories,
// offline.
//
// For each key only the record with the highest offset is kept; offsets of kept records
// are preserved and records are never reordered. The rules follow Kafka 3.x's cleaner:
//   - the active (newest) segment is left alone unless --include-active, and so is every
//     segment from the first one holding a record newer than now - --min-compaction-lag, and
//     everything from the first unstable offset (a transaction without its marker);
//   - tombstones (null values) in v2 batches follow KIP-534: the first cleaning that keeps
//     one stamps its batch with a delete horizon (now + --delete-retention, in the batch's
//     base-timestamp field, attribute bit 6); a later cleaning at or after the horizon
//     removes it. Legacy (magic 0/1) tombstones go once now >= the segment file's mtime +
//     --delete-retention;
//   - records of aborted transactions are removed; a transaction marker goes once no batch
//     of its transaction is left and its own delete horizon has passed; the last batch of
//     each producer is kept (emptied, if all its records go) to preserve producer state;
//   - a batch whose records all stay and that needs no horizon is copied byte for byte;
//     otherwise it is rebuilt keeping its base and last offset, producer fields, flags and
//     partition leader epoch (legacy entries become v2 batches, as Kafka does).
//
// The key map stores xxh3-128 hashes of keys (16 bytes) with the latest offset (8 bytes),
// bounded by --max-memory. When the dirty part of a partition has more distinct keys than
// fit, it is cleaned in several passes, each covering as much as fits. Two distinct keys
// with the same 128-bit hash (odds ~2^-128 per pair) would be treated as one key: the
// older one's records would be removed as if superseded.
//
// Crash safety is Kafka's: each group of segments is written to `<base>.log.cleaned` (and
// index files), fsync'd, renamed to `<base>.log.swap`, the old segments are renamed to
// `*.deleted`, the swap is renamed to `<base>.log`, and the leftovers are removed. Readers
// read a `.log.swap` in place of the segments it covers; the next compact, retain or write
// finishes an interrupted run (FinishInterruptedCompaction in lib/log/partition_dir.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/status.h"
#include "lib/base/source.h"

namespace evt {

enum class NullKeyPolicy { kError, kKeep, kDrop };

struct CompactOptions {
  std::vector<std::string> paths;
  bool include_active = false;
  int64_t min_compaction_lag_ms = 0;
  int64_t delete_retention_ms = 24 * 3600 * 1000;  // delete.retention.ms
  int64_t now_ms = -1;                              // < 0: the clock
  NullKeyPolicy null_keys = NullKeyPolicy::kError;
  double min_cleanable_ratio = 0.5;
  bool force = false;
  uint64_t segment_bytes = 1ull << 30;
  int codec = -1;  // -1: keep each batch's codec; else a kafka::Codec for rebuilt batches
  int level = -1;
  uint64_t max_memory = 256ull << 20;
  bool dry_run = false;
  bool wait_for_lock = false;
};

struct CompactPartition {
  std::string path;
  std::string skipped;  // why nothing was done ("" when it was cleaned)
  bool recovered = false;  // finished an interrupted compaction first
  double dirty_ratio = 0;
  int64_t first_dirty = 0;  // cleaner checkpoint before the run
  int64_t clean_end = 0;    // ... and after it
  uint64_t segments_before = 0, segments_after = 0;
  uint64_t records_before = 0, records_after = 0;  // whole partition
  uint64_t bytes_before = 0, bytes_after = 0;      // .log bytes, whole partition
  uint64_t keys = 0;                               // distinct keys in the dirty part
  uint64_t tombstones_removed = 0;
  uint64_t tombstones_stamped = 0;  // batches given a delete horizon
  uint64_t null_key_records = 0;    // in the dirty part
  uint64_t aborted_removed = 0;     // records of aborted transactions
  uint64_t markers_removed = 0;
  int passes = 0;
  double seconds = 0;
};

Status RunCompact(const CompactOptions& opts, Reporter* reporter, std::vector<CompactPartition>* out);
std::string CompactJson(const std::vector<CompactPartition>& parts, bool dry_run);
// "compact: 3 of 4 partitions cleaned, 1.2 GiB -> 80 MiB, 10M -> 100k records, 2.1 s"
std::string CompactSummary(const std::vector<CompactPartition>& parts, bool dry_run);

}  // namespace evt
