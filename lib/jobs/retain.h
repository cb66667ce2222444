// `evt retain`: Kafka's time and size retention for segment directories, offline.
//
// Like the broker, retention deletes whole segments, oldest first, and never the active
// (newest) segment of a partition:
//   --max-age D    segments whose newest record timestamp is older than now - D
//                  (retention.ms; for a segment without record timestamps, magic 0,
//                  the file's modification time, as Kafka does)
//   --max-bytes N  the oldest segments while the partition would still hold at least N
//                  bytes without them (retention.bytes: the result stays >= N)
//   --before P     segments that end before P (an offset: last offset < P; a time: newest
//                  timestamp < P)
// A segment goes when any rule selects it; selection stops at the first segment no rule
// selects (Kafka deletes a prefix of the log). Deletion is crash-safe as in Kafka: every
// file of the segment is renamed to `<name>.deleted` (the .log first, so readers stop seeing
// the segment at once), the directory is synced, then the files are removed; leftover
// `*.deleted` files and index files whose .log is gone, from an interrupted run, are removed
// by the next run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/bound.h"
#include "lib/base/source.h"

namespace evt {

struct RetainOptions {
  std::vector<std::string> paths;
  int64_t max_age_ms = -1;    // < 0: no time rule
  int64_t max_bytes = -1;     // < 0: no size rule
  Bound before{Bound::kNone, 0};  // kOffset or kTime
  int64_t now_ms = -1;        // < 0: the clock
  bool dry_run = false;
  bool wait_for_lock = false;
};

struct RetainSegment {
  std::string log_path;
  int64_t base_offset = -1;  // first offset of its first batch
  int64_t last_offset = -1;
  int64_t max_timestamp = -1;
  uint64_t bytes = 0;
  std::string reason;  // "max-age", "max-bytes", "before"
};

struct RetainPartition {
  std::string path;
  std::vector<RetainSegment> deleted;
  uint64_t segments_before = 0;
  uint64_t bytes_before = 0;
  uint64_t bytes_deleted = 0;
  int64_t new_start_offset = -1;  // first offset left (-1: empty)
  uint64_t leftovers_removed = 0;  // *.deleted files of an interrupted run
};

Status RunRetain(const RetainOptions& opts, Reporter* reporter, std::vector<RetainPartition>* out);
std::string RetainJson(const std::vector<RetainPartition>& parts, bool dry_run);
// "retain: deleted 3 segments (1.5 GiB) in 2 of 8 partitions" (or "would delete" with dry-run)
std::string RetainSummary(const std::vector<RetainPartition>& parts, bool dry_run);
// "10G", "512M", "4096": K/M/G/T are powers of 1024.
Result<int64_t> ParseByteSize(const std::string& s);

}  // namespace evt
