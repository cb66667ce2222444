#include "lib/bound.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string_view>

#include "lib/base/timeutil.h"

namespace evt {

Result<Bound> ParseBound(const std::string& text, int64_t now_ms) {
  Bound b;
  if (text == "beginning" || text == "earliest" || text == "start") {
    b.kind = Bound::kBeginning;
    return b;
  }
  if (text == "end" || text == "latest") {
    b.kind = Bound::kEnd;
    return b;
  }
  auto all_digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (all_digits(text)) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), b.value);
    if (ec != std::errc()) return Status::InvalidArgument(fmt::format("offset out of range: {}", text));
    b.kind = Bound::kOffset;
    return b;
  }
  if (text.size() > 1 && text[0] == '-') {
    std::string_view rest = std::string_view(text).substr(1);
    if (all_digits(rest)) {
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), b.value);
      if (ec != std::errc()) return Status::InvalidArgument(fmt::format("count out of range: {}", text));
      b.kind = Bound::kFromEnd;
      return b;
    }
    auto d = ParseDuration(rest);
    if (!d.ok())
      return Status::InvalidArgument(fmt::format(
          "'{}' is not a position: use beginning, end, an offset, -N, an RFC 3339 time or -DURATION (e.g. -1h)",
          text));
    b.kind = Bound::kTime;
    b.value = now_ms - *d;
    return b;
  }
  auto t = ParseRfc3339(text);
  if (!t.ok())
    return Status::InvalidArgument(fmt::format(
        "'{}' is not a position: use beginning, end, an offset, -N, an RFC 3339 time or -DURATION (e.g. -1h)",
        text));
  b.kind = Bound::kTime;
  b.value = *t;
  return b;
}

}  // namespace evt
