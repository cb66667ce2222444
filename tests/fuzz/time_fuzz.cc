// libFuzzer target: times, durations and --from/--until positions (ParseRfc3339,
// ParseDuration, ParseBound), with the properties the callers rely on.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lib/base/bound.h"
#include "lib/base/timeutil.h"

using namespace evt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  if (auto d = ParseDuration(s); d.ok() && *d < 0) std::abort();  // no sign, no overflow
  if (auto t = ParseRfc3339(s); t.ok()) {
    // What we print, we read back: the time truncated to ms.
    auto back = ParseRfc3339(FormatRfc3339Ms(*t));
    if (*t >= -62135596800000LL && *t <= 253402300799999LL && (!back.ok() || *back != *t)) std::abort();
  }
  const int64_t now = 1700000000000;
  auto from = ParseBound(s, now);
  // "A..B": the bound pair as replay's --from/--until reach BoundsOutOfOrder.
  if (size_t dots = s.find(".."); dots != std::string::npos) {
    auto a = ParseBound(s.substr(0, dots), now), b = ParseBound(s.substr(dots + 2), now);
    if (a.ok() && b.ok()) (void)BoundsOutOfOrder(*a, *b);
  }
  (void)from;
  return 0;
}
