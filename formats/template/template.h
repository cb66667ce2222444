// kcat-style output templates (`--format '%k %v\n'`); spec in README.md beside this file.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/base/record.h"

namespace evt::tmpl {

// Tokens: %t topic, %p partition, %o offset, %T timestamp (ms), %T{iso} timestamp as
// RFC 3339 UTC with milliseconds (2023-11-14T22:13:20.000Z), %k key, %v value,
// %K key length (-1 for null), %S value length (-1 for null), %h headers as
// k1=v1,k2=v2 (kcat's form; a null header value prints NULL), %% a percent sign. Escapes: \n \r \t \\ \0.
// Null keys/values print as nothing (as kcat prints them with -Z off).
class Template {
 public:
  static Result<Template> Parse(std::string_view fmt);
  void Append(const RecordBatch& b, const Record& r, std::string* out) const;

 private:
  enum class Op : uint8_t {
    kLiteral, kTopic, kPartition, kOffset, kTimestamp, kTimestampIso, kKey, kValue, kKeyLen, kValueLen, kHeaders
  };
  struct Piece {
    Op op;
    std::string text;  // kLiteral
  };
  std::vector<Piece> pieces_;
};

}  // namespace evt::tmpl
