// The JSON Lines envelope: one record per line,
// {"topic":..,"partition":..,"offset":..,"timestamp":..[,"timestamp_type":"LogAppendTime"],
//  "key":..,"value":..,"headers":[{"key":..,"value":..},..]}
// The spec in prose is README.md beside this file.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "lib/base/status.h"
#include "lib/base/record.h"

namespace evt::envelope {

// ---- Writing ----
// Appends the envelope line for `r` (a record of `b`, whose topic/partition it carries),
// followed by '\n'.
void AppendRecord(const RecordBatch& b, const Record& r, std::string* out);

// Key/value rendering rule shared by writers: null -> null; one complete, fully valid JSON
// object/array with no raw CR/LF -> embedded verbatim; valid UTF-8 -> JSON string; else
// the field is renamed "<name>_base64". Appends `"name":...` to *out.
void AppendBytesField(std::string_view name, const Bytes& b, bool allow_embed, std::string* out);

// JSON string with quotes; escapes only '"', '\\' and bytes below 0x20.
void AppendJsonString(std::string_view s, std::string* out);
// The same, also escaping DEL (0x7F) as \u007f, as jq 1.6 prints strings.
void AppendJqJsonString(std::string_view s, std::string* out);
bool IsValidUtf8(std::string_view s);          // RFC 3629: no surrogates, no overlong forms
bool IsEmbeddableJson(std::string_view s);     // the embedding rule above (full validation)
// "" when `s` is one valid JSON value; else why not, in words: "not JSON" for text that
// does not start like JSON, "not JSON at column 12: unexpected 'tru}'" for broken JSON.
std::string DescribeNotJson(std::string_view s);
void AppendBase64(std::string_view in, std::string* out);   // standard alphabet, padded
bool DecodeBase64(std::string_view in, std::string* out);   // false on bad input

// ---- Reading ----
struct ParsedRecord {
  std::string_view topic;  // empty when absent
  bool has_topic = false;
  int32_t partition = -1;  // -1 when absent
  Record record;           // offset -1 when absent; timestamp -1 when absent
  // False when the line has no "timestamp": the writer then stamps the time of writing,
  // as a producer does (every sink alike). An explicit -1 (no timestamp) stays -1.
  bool has_timestamp = false;
};

// What a failed Parse found, so a caller can suggest a remedy (another --input).
enum class ParseProblem {
  kNone,
  kNotJson,    // the line is not JSON at all
  kNotObject,  // JSON, but not an object
  kBadField,   // an object with a field of the wrong type or out of range
};

// Parses envelope lines. Bytes of key/value/headers/topic are copied into batch->arena;
// headers are appended to batch->headers and referenced by the returned record.
class Parser {
 public:
  Parser();
  ~Parser();
  // `line` has no trailing newline. Errors are Corruption with a message that says what is
  // wrong in words (the caller adds file:line): "not JSON", "a JSON array, not an envelope
  // (...)", "partition must be an integer, not \"x\"".
  Status Parse(std::string_view line, RecordBatch* batch, ParsedRecord* out);
  ParseProblem problem() const;  // of the last Parse

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace evt::envelope
