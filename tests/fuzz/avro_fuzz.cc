// libFuzzer target: Confluent's framing and the Avro decoder over a fixed set of schemas
// (every type, logical types, recursion); the output must always be one valid JSON value.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "formats/avro/avro.h"
#include "formats/confluent/framing.h"
#include "formats/envelope/envelope.h"

namespace {
const char* const kSchemas[] = {
    R"({"type":"record","name":"R","fields":[{"name":"a","type":["null","string","long","double","float","boolean"]},
      {"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":40,"scale":5}},
      {"name":"t","type":{"type":"long","logicalType":"timestamp-micros"}},
      {"name":"dt","type":{"type":"int","logicalType":"date"}},
      {"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
      {"name":"f","type":{"type":"fixed","name":"F","size":12,"logicalType":"duration"}},
      {"name":"m","type":{"type":"map","values":{"type":"array","items":"bytes"}}},
      {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]})",
    R"({"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]})",
    R"({"type":"array","items":"null"})",
    R"({"type":"map","values":{"type":"record","name":"Empty","fields":[]}})",
};
std::vector<std::shared_ptr<const evt::avro::Schema>>& Schemas() {
  static auto* s = [] {
    auto* v = new std::vector<std::shared_ptr<const evt::avro::Schema>>();
    for (const char* j : kSchemas) v->push_back(*evt::avro::Schema::Parse(j));
    return v;
  }();
  return *s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  evt::confluent::Frame f;
  if (!evt::confluent::ParseFrame(in, &f)) return 0;
  const auto& schemas = Schemas();
  const auto& s = schemas[static_cast<uint32_t>(f.schema_id) % schemas.size()];
  for (auto style : {evt::avro::JsonStyle::kNatural, evt::avro::JsonStyle::kSpec}) {
    std::string out, err;
    if (s->ToJson(f.payload, style, &out, &err) && !evt::envelope::IsEmbeddableJson("[" + out + "]")) std::abort();
  }
  return 0;
}
