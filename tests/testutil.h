// Test helpers: temporary directories, running the built binary, damage helpers for bad
// input (flip a byte, truncate, fix the CRC), and record builders.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/record.h"
#include "lib/base/source.h"

namespace evt::test {

// A fresh directory under $TMPDIR, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs the built evt with `args` (a shell-quoted string), optional stdin text.
RunResult RunEvt(const std::string& args, const std::string& stdin_text = "");
std::string EvtBinary();

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);

// Damage helpers.
void FlipByte(std::string* buf, size_t off, uint8_t mask = 0x01);
void Truncate(std::string* buf, size_t n);
// Recomputes the CRC32C of the v2 batch starting at `batch_pos` so that a test can change
// a field without tripping the checksum first.
void FixCrc(std::string* buf, size_t batch_pos);

// A legacy log entry (magic 0 or 1) holding one message, as brokers wrote them before
// 0.11: offset, size, CRC32, magic, attributes, the timestamp (magic 1), key (null when
// `key` is null) and value.
std::string LegacyMessage(int8_t magic, int8_t attrs, int64_t offset, int64_t ts, const std::string* key,
                          const std::string& value);

// Builds records in a RecordBatch (bytes owned by its arena).
struct RecordSpec {
  int64_t offset = -1;
  int64_t timestamp = 0;
  const char* key = nullptr;  // nullptr = null key
  std::string key_bytes;      // used when key == nullptr && has_key
  bool has_key = false;
  std::string value;
  bool null_value = false;
  std::vector<std::pair<std::string, std::string>> headers;
};
void AddRecord(RecordBatch* b, const RecordSpec& r);

// A partition directory written by evt's own PartitionWriter (segment builders for tests
// of readers): `recs` in batches of `batch_records`, offsets from 0, segments rolled at
// `segment_bytes`, `codec` a formats/kafka Codec (0 = none), no fsync.
struct PartitionSpec {
  size_t batch_records = 10;
  uint64_t segment_bytes = 1ull << 30;
  int codec = 0;
};
// Returns the paths of the segment files, oldest first.
std::vector<std::string> WritePartition(const std::string& dir, const std::vector<RecordSpec>& recs,
                                        const PartitionSpec& spec = {});
// `n` records: timestamp ts0 + i, key "k<i % keys>" (keys == 0: null keys), value
// `value_size` bytes of 'a' + i % 26.
std::vector<RecordSpec> SimpleRecords(int n, int64_t ts0 = 1000, int keys = 4, size_t value_size = 100);

// Appends a transaction marker (a control batch holding one COMMIT or ABORT record of
// `producer_id`) to the partition directory `dir` at its next offset; returns that offset.
int64_t AppendControlBatch(const std::string& dir, int64_t producer_id, bool commit, int64_t timestamp);

// A CountingReporter that also keeps every message, notices included, as "where@pos: what"
// (a notice is its text alone).
class RecordingReporter : public CountingReporter {
 public:
  void Corruption(std::string_view where, uint64_t pos, uint64_t dropped, std::string_view reason) override;
  void Warning(std::string_view where, uint64_t pos, std::string_view what) override;
  void Notice(std::string_view what) override { notices.emplace_back(what); }
  std::vector<std::string> errors, warning_list, notices;
};

// The byte positions of the entries of a segment file's contents (by their length fields;
// stops at a length that runs past the end).
std::vector<uint64_t> BatchPositions(const std::string& segment);

// The corpus of real broker segments, or "" when it is absent.
std::string CorpusDir();

// Kafka peers for tests on the sandbox, straight through librdkafka (not evt's client):
// `n` records into topic/partition with timestamps ts0, ts0 + 1000, ... (false on a failure),
// and offsets committed for a group without joining it (a manual-assignment commit).
bool ProduceWithTimestamps(const std::string& brokers, const std::string& topic, int32_t partition, int n,
                           int64_t ts0);
struct CommitSpec {
  std::string topic;
  int32_t partition;
  int64_t offset;
};
bool CommitOffsets(const std::string& brokers, const std::string& group, const std::vector<CommitSpec>& offsets);

}  // namespace evt::test
