// Confluent's wire format for schema-registry values and keys: byte 0 is the magic 0x00,
// bytes 1-4 the schema id (big-endian), then the payload (Avro binary, JSON text; Protobuf
// puts its message indexes first). The spec in prose is README.md beside this file.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace evt::confluent {

inline constexpr uint8_t kMagic = 0;
inline constexpr size_t kSchemaIdOffset = 1;
inline constexpr size_t kHeaderSize = kSchemaIdOffset + 4;
static_assert(kHeaderSize == 5);

struct Frame {
  int32_t schema_id = -1;
  std::string_view payload;  // the bytes after the 5-byte header
};

// True when `bytes` start with the magic byte and hold a whole header (the payload may be
// empty); *frame then holds the id and the rest.
bool ParseFrame(std::string_view bytes, Frame* frame);
// Appends the 5-byte header for `schema_id`.
void AppendHeader(int32_t schema_id, std::string* out);

}  // namespace evt::confluent
