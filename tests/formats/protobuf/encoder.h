// A tiny Protobuf wire-format writer for tests and fuzz seeds (tags, varints, lengths,
// fixed-width numbers), independent of libprotobuf.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace evt::test::pb {

inline std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
inline std::string Tag(int field, int wire) { return Varint(static_cast<uint64_t>(field) << 3 | wire); }
// Field `field` as a varint (wire type 0).
inline std::string V(int field, uint64_t v) { return Tag(field, 0) + Varint(v); }
inline std::string ZigZag(int field, int64_t v) {
  return V(field, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
// Length-delimited (wire type 2): strings, bytes, messages, packed repeated.
inline std::string L(int field, const std::string& body) { return Tag(field, 2) + Varint(body.size()) + body; }
inline std::string F64(int field, double d) {
  char b[8];
  std::memcpy(b, &d, 8);
  return Tag(field, 1) + std::string(b, 8);
}
inline std::string F32(int field, float f) {
  char b[4];
  std::memcpy(b, &f, 4);
  return Tag(field, 5) + std::string(b, 4);
}

}  // namespace evt::test::pb
