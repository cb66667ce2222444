#include "lib/source.h"

#include <fmt/format.h>

namespace evt {

void CountingReporter::Corruption(std::string_view where, uint64_t pos, uint64_t dropped,
                                  std::string_view reason) {
  if (corruptions++ == 0) first_error = fmt::format("{}@{}: {}", where, pos, reason);
}

void CountingReporter::Warning(std::string_view where, uint64_t pos, std::string_view what) {
  if (warnings++ == 0) first_warning = fmt::format("{}@{}: {}", where, pos, what);
}

}  // namespace evt
