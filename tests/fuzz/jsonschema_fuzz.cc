// libFuzzer target: a JSON Schema (a hostile registry answer or `--reader` file) compiled,
// then the rest of the input validated with it when it compiles. Never a crash, a hang
// ($ref loops) or an exception; a value that is not JSON is invalid with a reason.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "formats/jsonschema/jsonschema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Schema text, a NUL, then the value.
  size_t nul = in.find('\0');
  std::string_view schema = in.substr(0, nul);
  std::string_view value = nul == std::string_view::npos ? std::string_view("null") : in.substr(nul + 1);
  auto s = evt::jsonschema::Schema::Parse(schema, {{"other.json", R"({"definitions":{"n":{"type":"integer"}}})"}});
  if (!s.ok()) return 0;
  std::string why;
  if (!(*s)->Validate(value, &why) && why.empty()) std::abort();  // an invalid value always says why
  return 0;
}
