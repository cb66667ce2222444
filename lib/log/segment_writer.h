// Appending RecordBatch v2 batches to a partition directory, Kafka-style: segments roll at
// --segment-bytes or when offsets would overflow a 4-byte relative offset; .index and
// .timeindex follow Kafka's recovery rule; opening recovers a torn tail.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "formats/kafka/batch.h"
#include "lib/base/file.h"
#include "lib/log/segment.h"
#include "lib/base/source.h"

namespace evt {

enum class FsyncPolicy { kNever, kBatch, kEnd };

struct WriterOptions {
  kafka::EncodeOptions encode;
  uint64_t segment_bytes = 1ull << 30;
  size_t batch_records = 1000;
  size_t batch_bytes = 1 << 20;  // uncompressed record bytes per batch
  bool keep_offsets = false;
  FsyncPolicy fsync = FsyncPolicy::kEnd;
  bool wait_for_lock = false;
};

class PartitionWriter {
 public:
  // Opens (creating if needed) a partition directory and recovers its newest segment.
  static Result<std::unique_ptr<PartitionWriter>> Open(const std::string& dir, const WriterOptions& opts,
                                                       Reporter* reporter);
  ~PartitionWriter();
  // Encodes records [begin, end) of `b` into batches and appends them.
  Status Append(const RecordBatch& b, size_t begin, size_t end);
  // Appends an already-encoded batch (offsets already assigned).
  Status AppendRawBatch(std::string_view bytes, int64_t base_offset, int64_t last_offset, int64_t max_timestamp);
  Status Flush();  // data per fsync policy + index files
  Status Close();
  int64_t next_offset() const { return next_offset_; }
  uint64_t records_written() const { return records_written_; }
  uint64_t bytes_written() const { return bytes_written_; }
  const std::string& dir() const { return dir_; }

 private:
  PartitionWriter() = default;
  Status OpenSegment(int64_t base, bool existing);
  Status CloseSegment();
  Status WriteIndexes();
  Status Recover(const SegmentFile& sf);

  std::string dir_;
  WriterOptions opts_;
  Reporter* reporter_ = nullptr;
  std::unique_ptr<FileLock> lock_;
  int64_t next_offset_ = 0;
  int64_t seg_base_ = 0;
  std::unique_ptr<WritableFile> log_;
  std::unique_ptr<IndexBuilder> index_;
  uint64_t records_written_ = 0;
  uint64_t bytes_written_ = 0;
  std::string scratch_;
  bool dirty_index_ = false;
};

// A Sink writing to a partition directory (every record), or to a data directory where
// each record goes to <dir>/<topic>-<partition>.
class SegmentDirSink : public Sink {
 public:
  // `fixed_partition_dir`: true = `dir` is one partition directory.
  SegmentDirSink(std::string dir, bool fixed_partition_dir, WriterOptions opts, Reporter* reporter);
  ~SegmentDirSink() override;
  Status Write(const RecordBatch& batch) override;
  Status Flush() override;
  // Flush, then the next offset of every partition directory under the destination (those
  // written to and those that were there): SinkPosition::ends.
  Status Commit(SinkPosition* at) override;
  // Cuts every partition directory back to the position's next offset (0 for one it does
  // not name: created after the checkpoint).
  Status Rewind(const SinkPosition& at, std::string_view provenance_id, RewindResult* r) override;
  bool rewinds_exactly() const override { return true; }
  SinkEnd End() const override { return {records_, closed_ ? records_ : 0}; }
  Status Close() override;
  uint64_t records_written() const { return records_; }

 private:
  Result<PartitionWriter*> WriterFor(const std::string& topic, int32_t partition);
  // The partition directories the destination holds now.
  Result<std::vector<std::string>> PartitionDirs() const;
  std::string dir_;
  bool fixed_;
  WriterOptions opts_;
  Reporter* reporter_;
  std::map<std::pair<std::string, int32_t>, std::unique_ptr<PartitionWriter>> writers_;
  std::map<std::string, int64_t> ends_;  // partition dir -> next offset, once known
  bool scanned_ = false;                 // ends_ holds every directory that was there
  uint64_t records_ = 0;
  bool closed_ = false;
};

// Removes every batch at or after `next_offset` from a partition directory (whole
// segments, then the tail of the one holding it), so that the next append gets
// `next_offset`; used to resume an exactly-once replay from its checkpoint. Takes the
// partition's lock. *removed counts the records removed.
Status TruncatePartitionTo(const std::string& dir, int64_t next_offset, uint64_t* removed);
// The next offset a partition directory would assign (0 for a new one).
Result<int64_t> PartitionNextOffset(const std::string& dir);

}  // namespace evt
