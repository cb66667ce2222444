// libFuzzer target: Avro schema JSON (a hostile `_schemas` log or registry answer) compiled,
// then the rest of the input decoded with it when it compiles.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "formats/avro/avro.h"
#include "formats/envelope/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Schema text, a NUL, then the datum.
  size_t nul = in.find('\0');
  std::string_view schema = in.substr(0, nul);
  std::string_view datum = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  auto s = evt::avro::Schema::Parse(schema);
  if (!s.ok()) return 0;
  std::string out, err;
  if ((*s)->ToJson(datum, evt::avro::JsonStyle::kNatural, &out, &err) && !evt::envelope::IsEmbeddableJson("[" + out + "]"))
    std::abort();
  return 0;
}
