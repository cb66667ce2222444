// A small encoder of Kafka's message-schema primitives, for tests: bytes are written field by
// field as the tests read Kafka's schema files, independently of the decoder's tables.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/coding.h"

namespace evt::test {

class Enc {
 public:
  explicit Enc(bool flexible = false) : flex_(flexible) {}
  Enc& i8(int8_t v) { b_.push_back(static_cast<char>(v)); return *this; }
  Enc& i16(int16_t v) { PutFixed16BE(&b_, static_cast<uint16_t>(v)); return *this; }
  Enc& i32(int32_t v) { PutFixed32BE(&b_, static_cast<uint32_t>(v)); return *this; }
  Enc& i64(int64_t v) { PutFixed64BE(&b_, static_cast<uint64_t>(v)); return *this; }
  Enc& uvar(uint64_t v) { PutUnsignedVarint64(&b_, v); return *this; }
  // string / nullable string: int16 length, or compact (uvarint length + 1).
  Enc& str(std::string_view s) {
    if (flex_) uvar(s.size() + 1); else i16(static_cast<int16_t>(s.size()));
    b_.append(s);
    return *this;
  }
  Enc& nullstr() { return flex_ ? uvar(0) : i16(-1); }
  // bytes: int32 length, or compact.
  Enc& bytes(std::string_view s) {
    if (flex_) uvar(s.size() + 1); else i32(static_cast<int32_t>(s.size()));
    b_.append(s);
    return *this;
  }
  Enc& nullbytes() { return flex_ ? uvar(0) : i32(-1); }
  // Array count: int32 (-1 null), or compact (count + 1, 0 null).
  Enc& count(int32_t n) { return flex_ ? uvar(static_cast<uint64_t>(n + 1)) : i32(n); }
  // The tagged-field section of a flexible struct (nothing in other versions).
  Enc& tags(const std::vector<std::pair<uint32_t, std::string>>& fields = {}) {
    if (!flex_) return *this;
    uvar(fields.size());
    for (auto& [tag, data] : fields) {
      uvar(tag);
      uvar(data.size());
      b_.append(data);
    }
    return *this;
  }
  Enc& raw(std::string_view s) { b_.append(s); return *this; }
  const std::string& out() const { return b_; }
  bool flexible() const { return flex_; }

 private:
  bool flex_;
  std::string b_;
};

inline std::string Be16(int16_t v) { std::string s; PutFixed16BE(&s, static_cast<uint16_t>(v)); return s; }
inline std::string Be32(int32_t v) { std::string s; PutFixed32BE(&s, static_cast<uint32_t>(v)); return s; }
inline std::string Be64(int64_t v) { std::string s; PutFixed64BE(&s, static_cast<uint64_t>(v)); return s; }

}  // namespace evt::test
