// Where reading starts and stops (--from, --until, retain's --before): the same words for
// segment files and Kafka topics alike.
#pragma once
#include <cstdint>
#include <string>

#include "lib/base/status.h"

namespace evt {

// A bound on where reading of one partition starts and stops.
struct Bound {
  enum Kind { kBeginning, kEnd, kOffset, kFromEnd, kTime, kNone } kind = kNone;
  int64_t value = 0;  // offset, count (kFromEnd) or ms (kTime)
};
// Parses `beginning`, `end`, `now`, an offset, `-N`, an RFC 3339 time, `@EPOCH_MS`, or
// `-<duration>` (now - d).
Result<Bound> ParseBound(const std::string& text, int64_t now_ms);
// Why [from, until) is empty for every partition whatever it holds (both offsets, both
// times, both -N, ...), or "". Bounds of different kinds cannot be compared before reading.
std::string BoundsOutOfOrder(const Bound& from, const Bound& until);

}  // namespace evt
