#include "formats/confluent/framing.h"

#include "lib/base/coding.h"

namespace evt::confluent {

bool ParseFrame(std::string_view bytes, Frame* frame) {
  if (bytes.size() < kHeaderSize || static_cast<uint8_t>(bytes[0]) != kMagic) return false;
  frame->schema_id =
      static_cast<int32_t>(DecodeFixed32BE(bytes.data() + kSchemaIdOffset));
  frame->payload = bytes.substr(kHeaderSize);
  return true;
}

void AppendHeader(int32_t schema_id, std::string* out) {
  out->push_back(static_cast<char>(kMagic));
  PutFixed32BE(out, static_cast<uint32_t>(schema_id));
}

}  // namespace evt::confluent
