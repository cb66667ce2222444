// libFuzzer target: random documents fed to a set of compiled expressions that touch every
// operator and function (partial extraction, full materialisation, regexes, arithmetic).
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lib/filter/filter.h"

namespace {
std::vector<std::unique_ptr<evt::filter::Evaluator>>& Evaluators() {
  static auto* v = [] {
    auto* out = new std::vector<std::unique_ptr<evt::filter::Evaluator>>();
    const char* exprs[] = {
        ".a == 1 and .b.c > 2", ".a.b[0].c // .d", ". == {\"a\":[1,2]}", "tostring | length > 3",
        ".s | test(\"^a.*z$\"; \"i\")", ".x | contains({\"y\":[1]})", ".arr | any(.k == \"v\")",
        ".n + .m * 2 - 1 / .z % 3 > 0", "(.q | tonumber)? // 0 | . > 1", ".[\"k w\"]?.x? // null",
        ".a[-1] | type == \"object\"", "has(\"a\") and (.a | ascii_downcase | startswith(\"x\"))",
        ".v * 3 | length", ".o * {\"p\":{\"q\":1}} | .p.q == 1", ".s / \",\" | length > 1",
        ".s | fromdate > .n", ".n | todate | length", ".a | mktime", ".n | gmtime | mktime",
        ".s | strptime(.f) | mktime", ".a | strftime(.f)", ".n | strftime(\"%F %T %s %j %a %b %e %z %Z %%\")",
    };
    for (const char* e : exprs) {
      auto f = evt::filter::Filter::Compile({e}, evt::filter::Mode::kJson);
      if (!f.ok()) abort();
      out->push_back(std::make_unique<evt::filter::Evaluator>(*f));
    }
    return out;
  }();
  return *v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string doc(reinterpret_cast<const char*>(data), size);
  size_t len = doc.size();
  doc.append(64, '\0');
  for (auto& ev : Evaluators()) (void)ev->Json(doc.data(), len, doc.size());
  return 0;
}
