// Test helpers: temporary directories, running the built binary, damage helpers for bad
// input (flip a byte, truncate, fix the CRC), and record builders.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/record.h"

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
