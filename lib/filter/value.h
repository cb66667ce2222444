// Internal to lib/filter: the JSON value model the evaluator works on, the path trie that
// says which parts of a document an expression reads, and the JSON extractor.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/arena.h"
#include "lib/base/status.h"

namespace evt::filter {

struct Value;
struct Member;

enum class VType : uint8_t { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };

// A JSON value. Strings, arrays and objects point into memory owned by the evaluator's
// arena or the JSON parser; valid until the next document.
struct Value {
  VType t = VType::kNull;
  uint32_t n = 0;  // string bytes / array elements / object members
  union {
    double num;
    const char* str;
    const Value* elems;
    const Member* members;
  };
  Value() : num(0) {}
  static Value Null() { return Value(); }
  static Value Bool(bool b) {
    Value v;
    v.t = b ? VType::kTrue : VType::kFalse;
    return v;
  }
  static Value Number(double d) {
    Value v;
    v.t = VType::kNumber;
    v.num = d;
    return v;
  }
  static Value String(std::string_view s) {
    Value v;
    v.t = VType::kString;
    v.str = s.data();
    v.n = static_cast<uint32_t>(s.size());
    return v;
  }
  std::string_view sv() const { return std::string_view(str, n); }
  bool truthy() const { return t != VType::kNull && t != VType::kFalse; }
};

struct Member {
  std::string_view key;
  Value val;
};

// Values, strings and arrays built while evaluating one document; reset per document.
using EvalArena = evt::Arena;

// A field name prepared for comparison with a key as it is written in the document (the
// bytes after its opening quote): `pat` holds the name, its closing quote and zeros, so a
// key whose first len + 1 bytes equal pat's (under `mask`) is the name. Names that would
// need escaping ('"', '\\', control characters) are never written raw: `plain` is false
// and only an unescaped key can equal them.
struct FieldKey {
  uint32_t len = 0;
  uint32_t mask = 0;  // bits 0..len when len < 16, else 0 (compare with memcmp)
  bool plain = true;
  char pat[16] = {};
  explicit FieldKey(std::string_view name) : len(static_cast<uint32_t>(name.size())) {
    for (unsigned char c : name)
      if (c == '"' || c == '\\' || c < 0x20) plain = false;
    if (len < 16) {
      std::memcpy(pat, name.data(), len);
      pat[len] = '"';
      mask = (2u << len) - 1;
    } else {
      std::memcpy(pat, name.data(), 16);
    }
  }
};

// Which parts of a document an expression reads. `full`: the value is used as a whole
// (compared, printed, measured), so it is materialised completely; otherwise only the
// listed fields / elements are, and the value's type is known.
struct PathNode {
  bool full = false;
  std::vector<std::pair<std::string, std::unique_ptr<PathNode>>> fields;
  std::vector<FieldKey> keys;       // keys[i] is fields[i].first, for raw comparison
  bool plain_keys = true;           // all keys[i].plain
  std::unique_ptr<PathNode> elems;  // any array element

  PathNode* Field(const std::string& name) {
    for (auto& f : fields)
      if (f.first == name) return f.second.get();
    fields.emplace_back(name, std::make_unique<PathNode>());
    keys.emplace_back(name);
    plain_keys = plain_keys && keys.back().plain;
    return fields.back().second.get();
  }
  PathNode* Elems() {
    if (!elems) elems = std::make_unique<PathNode>();
    return elems.get();
  }
};

// Parses a JSON document with simdjson On-Demand, materialising only what `paths` asks
// for (the whole document when paths->full). `data` must have at least 64 readable bytes
// after `len` (simdjson padding): `capacity` is the number of readable bytes from data.
// Returns false when the document is not valid JSON as far as it was read.
class JsonExtractor {
 public:
  JsonExtractor();
  ~JsonExtractor();
  bool Extract(const char* data, size_t len, size_t capacity, const PathNode* paths, EvalArena* arena, Value* out);
  // Reads the document of the last Extract() again, guided by other paths, without parsing
  // it again (simdjson's rewind). Values from the earlier read are no longer valid.
  bool ExtractAgain(const PathNode* paths, Value* out);
  // Parses a complete JSON text fully (for variables such as $key); false when invalid.
  bool ExtractFull(std::string_view json, EvalArena* arena, Value* out);
  static constexpr size_t kPadding = 64;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// jq 1.6's number printing (shortest round-trip digits, %.17g-like layout).
void AppendJqNumber(double d, std::string* out);
// jq's `tojson` of a value (compact).
void AppendJqJson(const Value& v, std::string* out);

}  // namespace evt::filter
