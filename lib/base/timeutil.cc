#include "lib/base/timeutil.h"

#include <fmt/format.h>

#include <chrono>
#include <limits>

namespace evt {

namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;
constexpr int64_t kMsPerWeek = 7 * kMsPerDay;

// The input as shown in messages: long inputs are cut.
std::string Shown(std::string_view s) {
  if (s.size() <= 80) return std::string(s);
  return std::string(s.substr(0, 77)) + "...";
}

Status BadTime(std::string_view s, std::string_view why) {
  return Status::InvalidArgument(
      fmt::format("invalid time '{}': {} (expected RFC 3339, e.g. 2024-05-01T12:00:00Z or 2024-05-01)", Shown(s),
                  why));
}

Status BadDuration(std::string_view s, std::string_view why) {
  return Status::InvalidArgument(fmt::format(
      "invalid duration '{}': {} (expected e.g. 500ms, 30s, 5m, 1h30m, 1.5h, 7d, 2w)", Shown(s), why));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at s[*pos].
bool ReadDigits(std::string_view s, size_t* pos, int n, int* out) {
  if (s.size() - *pos < static_cast<size_t>(n)) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

inline void Put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);                // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;    // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;              // [0, 146096]
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);                // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                     // [0, 11]
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

Result<int64_t> ParseRfc3339(std::string_view s) {
  if (s.empty()) return BadTime(s, "empty");
  size_t pos = 0;
  int year = 0, month = 0, day = 0;  // set by ReadDigits; initialised for -Wmaybe-uninitialized
  if (!ReadDigits(s, &pos, 4, &year) || pos >= s.size() || s[pos++] != '-' || !ReadDigits(s, &pos, 2, &month) ||
      pos >= s.size() || s[pos++] != '-' || !ReadDigits(s, &pos, 2, &day))
    return BadTime(s, "expected a date YYYY-MM-DD");
  if (month < 1 || month > 12) return BadTime(s, "month out of range");
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, month)) return BadTime(s, "day out of range");
  const int64_t days = DaysFromCivil(year, month, day);
  if (pos == s.size()) return days * kMsPerDay;

  char sep = s[pos++];
  if (sep != 'T' && sep != 't' && sep != ' ') return BadTime(s, "expected 'T' or end of input after the date");
  int hour, minute, second;
  if (!ReadDigits(s, &pos, 2, &hour) || pos >= s.size() || s[pos++] != ':' || !ReadDigits(s, &pos, 2, &minute) ||
      pos >= s.size() || s[pos++] != ':' || !ReadDigits(s, &pos, 2, &second))
    return BadTime(s, "expected a time hh:mm:ss after the date");
  if (hour > 23) return BadTime(s, "hour out of range");
  if (minute > 59) return BadTime(s, "minute out of range");
  if (second > 59) return BadTime(s, "second out of range");

  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return BadTime(s, "expected digits after '.'");
    for (size_t i = digits; i < 3; ++i) frac_ms *= 10;
  }

  if (pos == s.size()) return BadTime(s, "missing time zone (Z or an offset like +02:00)");
  int64_t offset_ms = 0;
  char z = s[pos++];
  if (z == 'Z' || z == 'z') {
    offset_ms = 0;
  } else if (z == '+' || z == '-') {
    int oh, om;
    if (!ReadDigits(s, &pos, 2, &oh)) return BadTime(s, "expected an offset +hh:mm or +hhmm");
    if (pos < s.size() && s[pos] == ':') ++pos;
    if (!ReadDigits(s, &pos, 2, &om)) return BadTime(s, "expected an offset +hh:mm or +hhmm");
    if (oh > 23 || om > 59) return BadTime(s, "offset out of range");
    offset_ms = (oh * kMsPerHour + om * kMsPerMinute) * (z == '-' ? -1 : 1);
  } else {
    return BadTime(s, "expected a time zone (Z or an offset like +02:00)");
  }
  if (pos != s.size()) return BadTime(s, "unexpected text after the time zone");
  return days * kMsPerDay + hour * kMsPerHour + minute * kMsPerMinute + second * kMsPerSecond + frac_ms - offset_ms;
}

Result<int64_t> ParseDuration(std::string_view s) {
  if (s.empty()) return BadDuration(s, "empty");
  // Sum in units of 1e-18 ms so that fractions of several components add up exactly
  // before truncation: INT64_MAX ms * 1e18 < 2^127.
  constexpr __int128 kScale = 1000000000000000000;  // 1e18
  constexpr __int128 kMax = static_cast<__int128>(std::numeric_limits<int64_t>::max()) * kScale;
  __int128 total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    uint64_t ip = 0;
    bool digits = false;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (ip > (std::numeric_limits<uint64_t>::max() - 9) / 10) return BadDuration(s, "out of range");
      ip = ip * 10 + static_cast<uint64_t>(s[pos] - '0');
      digits = true;
      ++pos;
    }
    __int128 frac = 0;  // the first 18 fraction digits, scaled to 1e18
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      __int128 place = kScale / 10;
      while (pos < s.size() && IsDigit(s[pos])) {
        frac += (s[pos] - '0') * place;
        place /= 10;
        digits = true;
        ++pos;
      }
    }
    if (!digits) {
      if (pos < s.size() && s[pos] == '-') return BadDuration(s, "no sign allowed here");
      return BadDuration(s, "expected a number");
    }
    if (pos == s.size()) {
      // A bare zero ("0", "0.0") needs no unit, as in Kafka's delete.retention.ms=0.
      if (start == 0 && ip == 0 && frac == 0) return int64_t{0};
      return BadDuration(s, "missing unit (ms, s, m, h, d or w)");
    }
    int64_t unit;
    char c = s[pos];
    if (c == 'm' && pos + 1 < s.size() && s[pos + 1] == 's') {
      unit = 1;
      pos += 2;
    } else {
      switch (c) {
        case 's': unit = kMsPerSecond; break;
        case 'm': unit = kMsPerMinute; break;
        case 'h': unit = kMsPerHour; break;
        case 'd': unit = kMsPerDay; break;
        case 'w': unit = kMsPerWeek; break;
        default: return BadDuration(s, "unknown unit (use ms, s, m, h, d or w)");
      }
      ++pos;
    }
    __int128 part = static_cast<__int128>(ip) * unit;
    if (part > std::numeric_limits<int64_t>::max()) return BadDuration(s, "out of range");
    total += part * kScale + frac * unit;
    if (total > kMax) return BadDuration(s, "out of range");
  }
  return static_cast<int64_t>(total / kScale);
}

size_t FormatRfc3339MsTo(int64_t ms, char* out) {
  int64_t days = ms / kMsPerDay;
  int64_t rem = ms % kMsPerDay;
  if (rem < 0) {
    rem += kMsPerDay;
    days -= 1;
  }
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, &y, &mo, &d);
  const unsigned r = static_cast<unsigned>(rem);
  const unsigned hh = r / 3600000, mm = r / 60000 % 60, ss = r / 1000 % 60, fff = r % 1000;
  if (y >= 0 && y <= 9999) {
    const unsigned yy = static_cast<unsigned>(y);
    Put2(out, yy / 100);
    Put2(out + 2, yy % 100);
    out[4] = '-';
    Put2(out + 5, mo);
    out[7] = '-';
    Put2(out + 8, d);
    out[10] = 'T';
    Put2(out + 11, hh);
    out[13] = ':';
    Put2(out + 14, mm);
    out[16] = ':';
    Put2(out + 17, ss);
    out[19] = '.';
    out[20] = static_cast<char>('0' + fff / 100);
    Put2(out + 21, fff % 100);
    out[23] = 'Z';
    return 24;
  }
  // Outside 0000-9999 (ISO 8601 expanded years): a sign and at least 4 digits.
  auto res = fmt::format_to_n(out, kRfc3339MsMaxLen, "{}{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                              y < 0 ? '-' : '+', y < 0 ? -static_cast<uint64_t>(y) : static_cast<uint64_t>(y),
                              mo, d, hh, mm, ss, fff);
  return res.size < kRfc3339MsMaxLen ? res.size : kRfc3339MsMaxLen;
}

std::string FormatRfc3339Ms(int64_t ms) {
  char buf[kRfc3339MsMaxLen];
  size_t n = FormatRfc3339MsTo(ms, buf);
  return std::string(buf, n);
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace evt
