// libFuzzer target: the filter expression parser and compiler (any bytes as an expression).
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <string>

#include "lib/filter/filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string expr(reinterpret_cast<const char*>(data), size);
  auto f = evt::filter::Filter::Compile({expr}, evt::filter::Mode::kRecord);
  if (f.ok()) {
    // A compiled expression must evaluate on a small document without crashing.
    evt::filter::Evaluator ev(*f);
    std::string doc = R"({"a":1,"b":"x","c":[1,2,{"d":null}],"e":{"f":true}})";
    doc.append(64, '\0');
    (void)ev.Json(doc.data(), doc.size() - 64, doc.size());
  }
  return 0;
}
