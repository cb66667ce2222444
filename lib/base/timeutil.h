// Time parsing and formatting: RFC 3339 timestamps and Go-style durations, in ms since
// the Unix epoch (UTC). Pure arithmetic: no timegm, TZ or locale dependency.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace evt {

// Parses an RFC 3339 timestamp into ms since the epoch:
//   2024-05-01T12:00:00Z, 2024-05-01t12:00:00z, 2024-05-01 12:00:00Z,
//   2024-05-01T12:00:00.123456789+02:00, 2024-05-01T12:00:00-0530,
//   2024-05-01 (midnight UTC).
// Fractional seconds may have any number of digits (truncated to ms). A date with a time
// needs a zone (Z or an offset). Years 0000-9999. Leap seconds (:60) are rejected.
// Errors are InvalidArgument naming the input.
Result<int64_t> ParseRfc3339(std::string_view s);

// Parses a duration into ms: a sequence of <number><unit> with units ms, s, m, h, d, w
// (d = 24h, w = 7d), e.g. "500ms", "1h30m", "1.5h", "2w". Numbers may have a decimal
// fraction; the total is truncated to whole ms. No sign (callers handle "-1h"), no
// whitespace, and a unit is required ("10" is an error) except for a bare zero ("0", "0.0").
Result<int64_t> ParseDuration(std::string_view s);

// Formats ms since the epoch as 2024-05-01T12:00:00.123Z (UTC, always 3 fraction digits).
// Times before 1970 work; years outside 0000-9999 are written with a sign (+10000-..).
std::string FormatRfc3339Ms(int64_t ms);

// Allocation-free variant: writes into `out` (at least kRfc3339MsMaxLen bytes) and returns
// the length (24 for years 0000-9999). Not NUL-terminated.
inline constexpr size_t kRfc3339MsMaxLen = 40;
size_t FormatRfc3339MsTo(int64_t ms, char* out);

// Days since 1970-01-01 of a proleptic Gregorian date, and back (any int64 day count that
// fits). Exposed for tests and for callers that bucket by day.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);

// Wall-clock time (system clock) in ms since the epoch.
int64_t NowMs();
// Milliseconds on the steady clock, for deadlines and intervals: unlike NowMs it never jumps.
int64_t SteadyMs();

}  // namespace evt
