// Internal to lib/filter: jq 1.6's date builtins (gmtime, mktime, strftime, strptime) as
// they behave on Debian's jq 1.6 with glibc in the UTC zone, down to the quirks (broken-down
// times outside the usual ranges, glibc's strptime field rules), in pure arithmetic: no
// libc time functions, TZ or locale. Only the directives listed in kTimeDirectives.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace evt::filter {

// A struct tm as jq 1.6 keeps it: jq's "broken down time" arrays are
// [tm_year + 1900, tm_mon, tm_mday, tm_hour, tm_min, tm_sec, tm_wday, tm_yday].
struct BrokenTime {
  int32_t year = 0;  // tm_year: years since 1900
  int32_t mon = 0;   // 0-11
  int32_t mday = 0;  // 1-31
  int32_t hour = 0;
  int32_t min = 0;
  int32_t sec = 0;
  int32_t wday = 0;  // 0-6, Sunday 0
  int32_t yday = 0;  // 0-365
};

// The directives evt's strftime and strptime implement (after the '%').
inline constexpr std::string_view kTimeDirectives = "YmdHMSZzjabeTFs%";

// jq 1.6 converts a number of seconds to time_t and array elements to ints as C does on
// x86-64: truncation toward zero, and the lowest value when out of range or NaN.
int64_t ToTimeT(double d);
// The struct tm of a broken-down time array's first 8 elements (jq's jv2tm).
BrokenTime FromJqFields(const double fields[8]);
// tm_year + 1900 as jq computes it for the array (in int, wrapping).
int32_t JqYear(const BrokenTime& t);

// gmtime_r: false when the year does not fit in tm_year (glibc's EOVERFLOW).
bool GmTime(int64_t secs, BrokenTime* out);
// timegm: the fields need not be in range (15 months is a year and 3 months, -1 seconds is
// the second before); wday and yday are ignored. False when the result's year does not fit.
bool TimeGm(const BrokenTime& t, int64_t* out);

// OK when every directive of `fmt` is one of kTimeDirectives; otherwise the message names
// the first one that is not. `fn` names the function in the message.
Status CheckTimeFormat(std::string_view fmt, std::string_view fn);

// strftime with a checked format. False where glibc's strftime returns 0 and jq 1.6 raises
// "unknown system failure": an empty result, or one longer than strlen(fmt) + 99 bytes.
bool FormatTime(std::string_view fmt, const BrokenTime& t, std::string* out);

// strptime with a checked format, as jq 1.6 calls it: fields start at 0 (wday 8 and yday
// 367, jq's "not set" marks) and glibc fills in wday and yday from the date it read. False
// when `in` does not match, or when text follows that does not start with white space;
// *rest is that text (jq appends it to the array).
bool ParseTime(std::string_view in, std::string_view fmt, BrokenTime* out, std::string_view* rest);

}  // namespace evt::filter
