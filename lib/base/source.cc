#include "lib/base/source.h"

#include <fmt/format.h>

#include <cstdlib>

namespace evt {

bool ParseSourceRef(std::string_view s, std::string* topic, int32_t* partition, int64_t* offset) {
  size_t b = s.rfind('/');
  if (b == std::string_view::npos || b == 0) return false;
  size_t a = s.rfind('/', b - 1);
  if (a == std::string_view::npos) return false;
  std::string p(s.substr(a + 1, b - a - 1)), o(s.substr(b + 1));
  char* end = nullptr;
  long pv = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end || pv < 0) return false;
  long long ov = std::strtoll(o.c_str(), &end, 10);
  if (o.empty() || *end || ov < 0) return false;
  *topic = std::string(s.substr(0, a));
  *partition = static_cast<int32_t>(pv);
  *offset = ov;
  return true;
}

void CountingReporter::Corruption(std::string_view where, uint64_t pos, uint64_t dropped,
                                  std::string_view reason) {
  if (corruptions++ == 0) first_error = fmt::format("{}@{}: {}", where, pos, reason);
}

void CountingReporter::Warning(std::string_view where, uint64_t pos, std::string_view what) {
  if (warnings++ == 0) first_warning = fmt::format("{}@{}: {}", where, pos, what);
}

}  // namespace evt
