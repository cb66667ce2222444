// libFuzzer target: the Avro encoder (JSON -> binary) over a fixed set of schemas (every
// type, logical types, unions of look-alike branches, recursion, defaults). The first byte
// picks the schema and the style; the second what the rest is:
//  - JSON: encoding never crashes; what encodes decodes again, and that JSON encodes to the
//    same bytes (the encoder writes one canonical form);
//  - Avro bytes: what decodes to JSON J encodes again; the bytes B' it gives are the input
//    itself, or (the decoder also accepts non-canonical forms: several or negative-count
//    blocks, sign-padded decimals, other NaN payloads, a union branch that another, earlier
//    one shows the same) decode to the same J, and B' is a fixed point.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "formats/avro/avro.h"

namespace {
const char* const kSchemas[] = {
    R"({"type":"record","name":"R","fields":[{"name":"a","type":["null","int","long","float","double","string","boolean"]},
      {"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":40,"scale":5}},
      {"name":"fd","type":{"type":"fixed","name":"FD","size":5,"logicalType":"decimal","precision":11,"scale":2}},
      {"name":"t","type":{"type":"long","logicalType":"timestamp-micros"}},
      {"name":"tl","type":{"type":"long","logicalType":"local-timestamp-millis"}},
      {"name":"dt","type":{"type":"int","logicalType":"date"}},
      {"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
      {"name":"tu","type":{"type":"long","logicalType":"time-micros"}},
      {"name":"f","type":{"type":"fixed","name":"F","size":12,"logicalType":"duration"}},
      {"name":"m","type":{"type":"map","values":{"type":"array","items":"bytes"}}},
      {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
      {"name":"x","type":"string","default":"dflt"}]})",
    R"({"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]})",
    R"([{"type":"long","logicalType":"timestamp-millis"},{"type":"int","logicalType":"date"},
        {"type":"bytes","logicalType":"decimal","precision":9,"scale":2},"string","bytes","double",
        {"type":"record","name":"A","fields":[{"name":"k","type":"int"}]},{"type":"map","values":"int"},
        {"type":"array","items":["null","float"]},{"type":"fixed","name":"X","size":2}])",
    R"({"type":"map","values":{"type":"record","name":"Empty","fields":[]}})",
    R"({"type":"array","items":{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}})",
};
std::vector<std::shared_ptr<const evt::avro::Schema>>& Schemas() {
  static auto* s = [] {
    auto* v = new std::vector<std::shared_ptr<const evt::avro::Schema>>();
    for (const char* j : kSchemas) {
      auto p = evt::avro::Schema::Parse(j);
      if (!p.ok()) std::abort();
      v->push_back(*p);
    }
    return v;
  }();
  return *s;
}
evt::avro::JsonEncoder& Encoder() {
  static auto* e = new evt::avro::JsonEncoder();
  return *e;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto& schemas = Schemas();
  const auto& s = *schemas[(data[0] >> 1) % schemas.size()];
  const auto style = data[0] & 1 ? evt::avro::JsonStyle::kSpec : evt::avro::JsonStyle::kNatural;
  std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);
  std::string json, err, bytes, json2, bytes2;
  if (data[1] & 1) {  // JSON
    if (!Encoder().Encode(s, in, style, &bytes, &err)) return 0;
    if (!s.ToJson(bytes, style, &json, &err)) std::abort();  // the encoder wrote what the decoder cannot read
    if (!Encoder().Encode(s, json, style, &bytes2, &err) || bytes2 != bytes) std::abort();
    return 0;
  }
  if (!s.ToJson(in, style, &json, &err)) return 0;
  if (!Encoder().Encode(s, json, style, &bytes, &err)) std::abort();  // decoded JSON must encode
  if (bytes == in) return 0;
  if (!s.ToJson(bytes, style, &json2, &err) || json2 != json) std::abort();
  if (!Encoder().Encode(s, json2, style, &bytes2, &err) || bytes2 != bytes) std::abort();
  return 0;
}
