#include "lib/base/bound.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string_view>

#include "lib/base/timeutil.h"

namespace evt {

namespace {
Status NotAPosition(const std::string& text) {
  return Status::InvalidArgument(
      fmt::format("'{}' is not a position: use beginning, end, now, an offset, -N, an RFC 3339 time, @EPOCH_MS or "
                  "-DURATION (e.g. -1h)",
                  text));
}
}  // namespace

Result<Bound> ParseBound(const std::string& text, int64_t now_ms) {
  Bound b;
  if (text == "now") {
    b.kind = Bound::kTime;
    b.value = now_ms;
    return b;
  }
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
  // `digits` (all digits) as a bound of `kind`; `what` names it when it does not fit.
  auto number = [&](std::string_view digits, Bound::Kind kind, const char* what) -> Result<Bound> {
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), b.value);
    if (ec != std::errc()) return Status::InvalidArgument(fmt::format("{} out of range: {}", what, text));
    b.kind = kind;
    return b;
  };
  if (all_digits(text)) return number(text, Bound::kOffset, "offset");
  // @1700001000000: a time in epoch milliseconds (a bare 13-digit number stays an offset).
  if (text.size() > 1 && text[0] == '@') {
    std::string_view rest = std::string_view(text).substr(1);
    if (!all_digits(rest)) return NotAPosition(text);
    return number(rest, Bound::kTime, "time");
  }
  if (text.size() > 1 && text[0] == '-') {
    std::string_view rest = std::string_view(text).substr(1);
    if (all_digits(rest)) return number(rest, Bound::kFromEnd, "count");
    auto d = ParseDuration(rest);
    if (!d.ok()) return NotAPosition(text);
    b.kind = Bound::kTime;
    b.value = now_ms - *d;
    return b;
  }
  auto t = ParseRfc3339(text);
  if (!t.ok()) return NotAPosition(text);
  b.kind = Bound::kTime;
  b.value = *t;
  return b;
}

std::string BoundsOutOfOrder(const Bound& from, const Bound& until) {
  bool after = false;
  if (from.kind == until.kind && (from.kind == Bound::kOffset || from.kind == Bound::kTime)) after = from.value > until.value;
  if (from.kind == Bound::kFromEnd && until.kind == Bound::kFromEnd) after = from.value < until.value;
  if (from.kind == Bound::kEnd && (until.kind == Bound::kFromEnd || until.kind == Bound::kBeginning)) after = true;
  return after ? "--from is after --until: the range selects nothing" : "";
}

}  // namespace evt
