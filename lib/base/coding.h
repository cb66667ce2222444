// Byte coding in one place: big-endian fixed-width integers and Kafka's zigzag varints,
// plus a bounds-checked reader that fails instead of reading past the end.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace evt {

inline void PutFixed8(std::string* dst, uint8_t v) { dst->push_back(static_cast<char>(v)); }
inline void PutFixed16BE(std::string* dst, uint16_t v) {
  char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  dst->append(b, 2);
}
inline void EncodeFixed16BE(char* p, uint16_t v) {
  p[0] = static_cast<char>(v >> 8); p[1] = static_cast<char>(v);
}
inline void EncodeFixed32BE(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24); p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);  p[3] = static_cast<char>(v);
}
inline void EncodeFixed64BE(char* p, uint64_t v) {
  EncodeFixed32BE(p, static_cast<uint32_t>(v >> 32));
  EncodeFixed32BE(p + 4, static_cast<uint32_t>(v));
}
inline void PutFixed32BE(std::string* dst, uint32_t v) { char b[4]; EncodeFixed32BE(b, v); dst->append(b, 4); }
inline void PutFixed64BE(std::string* dst, uint64_t v) { char b[8]; EncodeFixed64BE(b, v); dst->append(b, 8); }

inline uint16_t DecodeFixed16BE(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t DecodeFixed32BE(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
inline uint64_t DecodeFixed64BE(const uint8_t* p) {
  return (uint64_t(DecodeFixed32BE(p)) << 32) | DecodeFixed32BE(p + 4);
}
inline uint16_t DecodeFixed16BE(const char* p) { return DecodeFixed16BE(reinterpret_cast<const uint8_t*>(p)); }
inline uint32_t DecodeFixed32BE(const char* p) { return DecodeFixed32BE(reinterpret_cast<const uint8_t*>(p)); }
inline uint64_t DecodeFixed64BE(const char* p) { return DecodeFixed64BE(reinterpret_cast<const uint8_t*>(p)); }

// Kafka varint (zigzag-encoded signed 32-bit) and varlong (zigzag 64-bit).
inline void PutUnsignedVarint64(std::string* dst, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) { buf[n++] = static_cast<char>((v & 0x7f) | 0x80); v >>= 7; }
  buf[n++] = static_cast<char>(v);
  dst->append(buf, n);
}
inline void PutVarint(std::string* dst, int32_t v) {
  PutUnsignedVarint64(dst, static_cast<uint32_t>((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31)));
}
inline void PutVarlong(std::string* dst, int64_t v) {
  PutUnsignedVarint64(dst, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
inline size_t VarintLength(int32_t v) {
  uint32_t u = (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
  size_t n = 1;
  while (u >= 0x80) { u >>= 7; ++n; }
  return n;
}
inline size_t VarlongLength(int64_t v) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  size_t n = 1;
  while (u >= 0x80) { u >>= 7; ++n; }
  return n;
}

// Bounds-checked reader over a byte span. Every getter returns false (and leaves the
// reader failed) instead of reading past the end.
class ByteReader {
 public:
  ByteReader(const char* data, size_t size) : p_(reinterpret_cast<const uint8_t*>(data)), size_(size) {}
  explicit ByteReader(std::string_view s) : ByteReader(s.data(), s.size()) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  bool failed() const { return failed_; }
  const char* cur() const { return reinterpret_cast<const char*>(p_ + pos_); }

  bool Skip(size_t n) { if (!Need(n)) return false; pos_ += n; return true; }
  bool GetU8(uint8_t* v) { if (!Need(1)) return false; *v = p_[pos_++]; return true; }
  bool GetI8(int8_t* v) { uint8_t u; if (!GetU8(&u)) return false; *v = static_cast<int8_t>(u); return true; }
  bool GetI16(int16_t* v) { if (!Need(2)) return false; *v = static_cast<int16_t>(DecodeFixed16BE(p_ + pos_)); pos_ += 2; return true; }
  bool GetI32(int32_t* v) { if (!Need(4)) return false; *v = static_cast<int32_t>(DecodeFixed32BE(p_ + pos_)); pos_ += 4; return true; }
  bool GetU32(uint32_t* v) { if (!Need(4)) return false; *v = DecodeFixed32BE(p_ + pos_); pos_ += 4; return true; }
  bool GetI64(int64_t* v) { if (!Need(8)) return false; *v = static_cast<int64_t>(DecodeFixed64BE(p_ + pos_)); pos_ += 8; return true; }
  bool GetBytes(size_t n, std::string_view* out) {
    if (!Need(n)) return false;
    *out = std::string_view(reinterpret_cast<const char*>(p_ + pos_), n);
    pos_ += n;
    return true;
  }
  // Zigzag varint limited to 5 bytes (32-bit), as Kafka's ByteUtils.readVarint.
  bool GetVarint(int32_t* v) {
    uint64_t u;
    if (!GetUnsigned(5, &u) || u > 0xffffffffull) return Fail();
    uint32_t x = static_cast<uint32_t>(u);
    *v = static_cast<int32_t>((x >> 1) ^ (~(x & 1) + 1));
    return true;
  }
  // Zigzag varlong limited to 10 bytes (64-bit).
  bool GetVarlong(int64_t* v) {
    uint64_t u;
    if (!GetUnsigned(10, &u)) return false;
    *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }

 private:
  bool Need(size_t n) {
    if (failed_ || n > size_ - pos_) return Fail();
    return true;
  }
  bool Fail() { failed_ = true; return false; }
  bool GetUnsigned(int max_bytes, uint64_t* out) {
    uint64_t result = 0;
    for (int i = 0; i < max_bytes; ++i) {
      if (!Need(1)) return false;
      uint8_t b = p_[pos_++];
      result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) { *out = result; return true; }
    }
    return Fail();  // too long
  }

  const uint8_t* p_;
  size_t size_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace evt
