// Segment files on disk: discovering partition directories, reading them as a Source, and
// the index rule shared by the writer, `verify` and `verify --repair`.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/kafka/batch.h"
#include "lib/base/file.h"
#include "lib/base/status.h"
#include "lib/base/bound.h"  // Bound, ParseBound: for ReadOptions and existing includers
#include "lib/base/source.h"

namespace evt {

struct SegmentFile {
  int64_t base_offset = 0;  // from the file name: orders segments, never used as an offset
  std::string log_path;
  std::string index_path;      // may not exist
  std::string timeindex_path;  // may not exist
  uint64_t size = 0;
};

struct PartitionDir {
  std::string path;
  std::string topic;
  int32_t partition = 0;
  std::vector<SegmentFile> segments;  // ascending base offset
  // An interrupted compaction left `<base>.log.swap` files: they are read in place of the
  // segments they replace (Kafka's recovery rule), without changing the directory.
  bool interrupted_compaction = false;
};

// Splits "<topic>-<N>" into its parts; false if the name does not have that form.
bool ParsePartitionDirName(const std::string& name, std::string* topic, int32_t* partition);
// The paths of `dir`'s subdirectories named <topic>-<N> (none when `dir` is not a directory).
Result<std::vector<std::string>> ListPartitionSubdirs(const std::string& dir);
// Formats a base offset as the 20-digit file stem.
std::string SegmentFileStem(int64_t base_offset);

// The offset after the last batch of a segment file (walking batch headers only); for a
// file without batches, `base_offset` + 1. Used to tell which segments a `.log.swap` file
// replaces: those whose base offset lies in [swap base, this).
Result<int64_t> SegmentNextOffset(const std::string& log_path, int64_t base_offset);
// Parses "<20 digits><suffix>"; false if the name does not have that form.
bool ParseSegmentFileName(const std::string& name, const char* suffix, int64_t* base);

// Why a batch holding offsets [base, last], found in segment `seg` of `pd` after a batch
// whose last offset was `prev_last` (-1 for the first), cannot be where it is, or "" when
// it can: offsets rise through a partition, stay at or above the segment's base offset
// (its file name), fit the 4-byte relative offsets of the indexes, and stay below the next
// segment's base. The base offset is outside the CRC, so a flipped byte there is caught
// only by this rule; readers and `verify` share it.
std::string BatchOffsetProblem(const PartitionDir& pd, size_t seg, int64_t prev_last, int64_t base, int64_t last);

// Resolves a source path: a .log file, a partition directory, or any directory that holds
// partition directories (a topic backup dir, a broker data dir), searched a few levels
// deep. Partition dirs Kafka is deleting or moving (`-delete`, `-future`) are skipped.
Result<std::vector<PartitionDir>> DiscoverPartitions(const std::string& path);
// Lists the segments of one partition directory.
Result<PartitionDir> ScanPartitionDir(const std::string& dir);

struct ReadOptions {
  Bound from{Bound::kBeginning, 0};
  Bound until{Bound::kNone, 0};
  bool include_control = false;
  bool verify_crc = true;
  bool decode_records = true;
  // --on-corruption skip: a bad batch is reported to the Reporter as Corruption (file,
  // position, bytes dropped, reason) and reading goes on at the next position that holds a
  // batch with a good CRC and rising offsets. Otherwise (stop) it ends the read with a
  // Corruption status, as without the flag.
  bool skip_corruption = false;
  // --max-batch-bytes: a batch whose payload would decompress to more than this is
  // Corruption (the decompression-bomb guard), so memory stays bounded by it.
  size_t max_batch_bytes = size_t{1} << 30;
  size_t target_records = 4096;  // records per yielded RecordBatch (approximate)
  // Calls of Next() a returned batch stays valid for: 1 = until the next call (the Source
  // contract); 2 = also through the next call, so a ReadAheadSource can decode batch N+1
  // while its caller still uses batch N. Records of stored (uncompressed) batches point
  // into the segment's mapping, which is kept that much longer.
  int hold = 1;
};

// Reads records from partition directories, partition by partition, in offset order.
// Corruption stops reading with a Corruption status naming file@position; a torn tail of
// the newest segment of a partition is reported to the Reporter as a warning and ends it.
class SegmentSource : public Source {
 public:
  SegmentSource(std::vector<PartitionDir> parts, ReadOptions opts, Reporter* reporter);
  ~SegmentSource() override;
  Status Next(RecordBatch* out, bool* eof) override;
  std::string Describe() const override;
  // One source per partition (for merging by time).
  static std::vector<std::unique_ptr<Source>> PerPartition(const std::vector<PartitionDir>& parts,
                                                           const ReadOptions& opts, Reporter* reporter);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Merges several sources by record timestamp (ties: lower source index first).
std::unique_ptr<Source> MergeByTime(std::vector<std::unique_ptr<Source>> sources);

// ---- Index files ----
struct OffsetIndexEntry {
  int32_t relative_offset;
  int32_t position;
};
struct TimeIndexEntry {
  int64_t timestamp;
  int32_t relative_offset;
};

// Builds indexes batch by batch with the rule Kafka's log recovery uses.
class IndexBuilder {
 public:
  explicit IndexBuilder(int64_t base_offset) : base_(base_offset) {}
  // Call before appending the batch at byte position `pos` with the given last offset and
  // max timestamp.
  void OnBatch(uint64_t pos, int64_t last_offset, int64_t max_timestamp);
  // Call when the segment is closed: appends the final time-index entry if newer.
  void OnClose();
  std::string OffsetIndexBytes() const;
  std::string TimeIndexBytes() const;
  const std::vector<OffsetIndexEntry>& offset_entries() const { return offsets_; }
  const std::vector<TimeIndexEntry>& time_entries() const { return times_; }

 private:
  int64_t base_;
  uint64_t last_index_pos_ = 0;
  int64_t max_ts_ = -1;
  int64_t max_ts_offset_ = -1;
  std::vector<OffsetIndexEntry> offsets_;
  std::vector<TimeIndexEntry> times_;
  void MaybeAppendTime(int64_t ts, int64_t offset);
};

}  // namespace evt
