// Avro's binary encoding of longs (zigzag varints) and strings/bytes, for tests and the fuzz
// seed corpus: written from the spec, independently of formats/avro's decoder.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace evt::test::avro {

// Avro's zigzag varint (int and long).
inline std::string Long(int64_t v) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  std::string o;
  while (u >= 0x80) {
    o.push_back(static_cast<char>((u & 0x7f) | 0x80));
    u >>= 7;
  }
  o.push_back(static_cast<char>(u));
  return o;
}
// string and bytes: the length as a long, then the bytes.
inline std::string Str(std::string_view s) { return Long(static_cast<int64_t>(s.size())) + std::string(s); }

}  // namespace evt::test::avro
