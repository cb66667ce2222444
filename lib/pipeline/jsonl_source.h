// JSON Lines input: envelope records, raw lines, or JSON values, from files or stdin.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/base/source.h"

namespace evt {

// Reads lines from a file or stdin ("-") with a large buffer; transparently decompresses
// `.zst` and `.gz` files. A final line without '\n' is still a line.
class LineReader {
 public:
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path);
  ~LineReader();
  // Sets *line to the next line without its '\n' (and without a trailing '\r' only if
  // strip_cr). Returns false at the end (check status()).
  // With `stop_if_blocked`: when the next line is not buffered and reading would wait (a
  // pipe or terminal with nothing ready), returns false with blocked() true, so that a
  // caller holding records hands them on instead of waiting for more (`tail -f | evt
  // write`). Regular files never block.
  bool Next(std::string_view* line, bool stop_if_blocked = false);
  bool blocked() const { return blocked_; }
  const Status& status() const { return status_; }
  uint64_t line_number() const { return line_no_; }
  const std::string& name() const { return name_; }

 private:
  LineReader() = default;
  bool Fill();
  std::string name_;
  int fd_ = -1;
  bool owns_fd_ = false;
  int codec_ = 0;  // 0 none, 1 gzip, 4 zstd
  void* dctx_ = nullptr;
  std::string raw_;      // compressed input buffer
  size_t raw_pos_ = 0;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  bool blocked_ = false;
  uint64_t line_no_ = 0;
  Status status_;
};

enum class InputFormat { kEnvelope, kLines, kValues };

// A line that cannot be read as a record: its place, what is wrong, and its bytes.
struct InvalidLine {
  std::string_view file;
  uint64_t line = 0;
  std::string_view error;  // in words, without the file:line prefix
  std::string_view raw;    // the line without its newline
};

struct JsonlSourceOptions {
  InputFormat format = InputFormat::kEnvelope;
  std::string key_field;        // lines/values: take the key from this JSON field (".a.b")
  std::string topic;            // override/assign topic
  int32_t partition = -1;       // override/assign partition
  size_t target_records = 4096;
  // From a pipe or terminal: when the next line would have to wait, hand on the records
  // read so far instead of waiting for target_records (`tail -f app.log | evt write
  // kafka://...` sends each line at once). Off by default: batches then depend on the
  // input alone, not on its timing (a segment directory's layout stays reproducible).
  bool hand_on_when_idle = false;
  // Errors suggest another --input where one would read the line (`evt write` has it).
  bool suggest_input = false;
  // When set, an invalid line (not JSON, not an object, a bad field) is handed here and
  // passed over instead of ending the read with Corruption; an error it returns ends it.
  std::function<Status(const InvalidLine&)> on_invalid;
};

// Yields batches of records parsed from JSONL files (each batch holds one topic-partition;
// a change of topic or partition starts a new batch). Errors name `file:line` and say in
// words what is wrong with the line.
class JsonlSource : public Source {
 public:
  JsonlSource(std::vector<std::string> paths, JsonlSourceOptions opts);
  ~JsonlSource() override;
  Status Next(RecordBatch* out, bool* eof) override;
  std::string Describe() const override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Extracts the field at `path` (".a.b" / ".a[0]") of a JSON document as key bytes: strings
// give their text, other values their JSON text; *found=false when absent or null.
Status ExtractJsonField(std::string_view json, const std::string& path, std::string* out, bool* found);
// Fully validates `json` as one JSON value.
bool IsValidJson(std::string_view json);

}  // namespace evt
