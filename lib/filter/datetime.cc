// jq 1.6's date builtins in pure arithmetic. What each piece reproduces was checked against
// Debian 12's jq 1.6 (glibc 2.36, TZ=UTC); tests/e2e/filter_jq.py compares them.
#include "lib/filter/datetime.h"

#include <fmt/format.h>

#include "lib/base/timeutil.h"

namespace evt::filter {

namespace {

constexpr int64_t kSecondsPerDay = 86400;

constexpr const char* kWeekdays[7] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr const char* kMonths[12] = {"January", "February", "March",     "April",   "May",      "June",
                                     "July",    "August",   "September", "October", "November", "December"};

// Days before each month, common years then leap years, each row with the year's length
// last: glibc's strptime reads past the first row into the second when it derives a month
// from a day of the year (day 366 of a common year is "month 24", day 31), so one flat table.
constexpr int kDaysBefore[26] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365,
                                 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

// int arithmetic that wraps as jq's C code does on x86-64.
int32_t Wrap(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))); }

// Leap days in years 1..y with C's truncating division (glibc's weekday formula; for year
// 0's January and February this gives one day more than the proleptic calendar, as glibc does).
int64_t LeapsThrough(int64_t y) { return y / 4 - y / 100 + y / 400; }

// glibc strptime's weekday of (year, month, day): month may run past 11 (see kDaysBefore).
int32_t WeekdayOf(int64_t year, int32_t mon, int32_t mday) {
  int64_t days = 365 * (year - 1970) + LeapsThrough(year - (mon < 2)) - LeapsThrough(1969) + kDaysBefore[mon] + mday - 1;
  return static_cast<int32_t>(FloorMod(days + 4, 7));  // 1970-01-01 was a Thursday
}

// Appends v in at least `width` characters: zeros after the sign, or spaces before it.
void AppendPadded(int64_t v, int width, char pad, std::string* out) {
  char digits[24];
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  int fill = width - n - (v < 0);
  if (pad == ' ' && fill > 0) out->append(static_cast<size_t>(fill), ' ');
  if (v < 0) out->push_back('-');
  if (pad == '0' && fill > 0) out->append(static_cast<size_t>(fill), '0');
  while (n) out->push_back(digits[--n]);
}

// ---------------------------------------------------------------- strptime
struct Parse {
  std::string_view in;
  size_t pos = 0;
  BrokenTime tm;
  bool have_wday = false, have_yday = false, have_mon = false, have_mday = false, want_xday = false;

  void SkipSpace() {
    while (pos < in.size() && IsSpace(in[pos])) ++pos;
  }
  // glibc's numbers: leading white space, then at most `digits` digits, stopping early
  // once another digit would exceed `hi`; the value must lie in [lo, hi].
  bool Number(int lo, int hi, int digits, int32_t* out) {
    SkipSpace();
    if (pos >= in.size() || !IsDigit(in[pos])) return false;
    int v = 0;
    do {
      v = v * 10 + (in[pos++] - '0');
    } while (--digits > 0 && v * 10 <= hi && pos < in.size() && IsDigit(in[pos]));
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
  }
  // A full name or its three-letter abbreviation, case-insensitively; the index or -1.
  int Name(const char* const* names, int count) {
    for (int i = 0; i < count; ++i) {
      std::string_view full = names[i];
      for (size_t len : {full.size(), size_t{3}}) {
        if (in.size() - pos < len) continue;
        size_t k = 0;
        while (k < len && Lower(in[pos + k]) == Lower(full[k])) ++k;
        if (k == len) {
          pos += len;
          return i;
        }
      }
    }
    return -1;
  }
  bool Zone() {  // %z: Z, +hh, +hhmm or +hh:mm (any hours, minutes below 60); the offset is dropped
    SkipSpace();
    if (pos < in.size() && in[pos] == 'Z') {
      ++pos;
      return true;
    }
    if (pos >= in.size() || (in[pos] != '+' && in[pos] != '-')) return false;
    ++pos;
    int n = 0, v = 0;
    while (n < 4 && pos < in.size() && IsDigit(in[pos])) {
      v = v * 10 + (in[pos++] - '0');
      ++n;
      if (n == 2 && pos + 1 < in.size() && in[pos] == ':' && IsDigit(in[pos + 1])) ++pos;
    }
    return n == 2 || (n == 4 && v % 100 < 60);
  }
  bool Seconds() {  // %s: digits (no sign, no white space), wrapping like glibc's time_t
    if (pos >= in.size() || !IsDigit(in[pos])) return false;
    uint64_t v = 0;
    while (pos < in.size() && IsDigit(in[pos])) v = v * 10 + static_cast<uint64_t>(in[pos++] - '0');
    return GmTime(static_cast<int64_t>(v), &tm);
  }

  bool Run(std::string_view fmt) {
    for (size_t i = 0; i < fmt.size(); ++i) {
      char c = fmt[i];
      if (IsSpace(c)) {
        SkipSpace();
        continue;
      }
      if (c != '%') {
        if (pos >= in.size() || in[pos] != c) return false;
        ++pos;
        continue;
      }
      if (++i >= fmt.size()) return false;
      int32_t v = 0;
      switch (fmt[i]) {
        case '%':
          if (pos >= in.size() || in[pos] != '%') return false;
          ++pos;
          break;
        case 'Y':
          if (!Number(0, 9999, 4, &v)) return false;
          tm.year = v - 1900;
          want_xday = true;
          break;
        case 'm':
          if (!Number(1, 12, 2, &v)) return false;
          tm.mon = v - 1;
          have_mon = want_xday = true;
          break;
        case 'd':
        case 'e':
          if (!Number(1, 31, 2, &tm.mday)) return false;
          have_mday = want_xday = true;
          break;
        case 'H':
          if (!Number(0, 23, 2, &tm.hour)) return false;
          break;
        case 'M':
          if (!Number(0, 59, 2, &tm.min)) return false;
          break;
        case 'S':
          if (!Number(0, 61, 2, &tm.sec)) return false;
          break;
        case 'j':
          if (!Number(1, 366, 3, &v)) return false;
          tm.yday = v - 1;
          have_yday = true;
          break;
        case 'a':
          if ((v = Name(kWeekdays, 7)) < 0) return false;
          tm.wday = v;
          have_wday = true;
          break;
        case 'b':
          if ((v = Name(kMonths, 12)) < 0) return false;
          tm.mon = v;
          have_mon = want_xday = true;
          break;
        case 'T':
          if (!Run("%H:%M:%S")) return false;
          break;
        case 'F':
          if (!Run("%Y-%m-%d")) return false;
          break;
        case 's':
          if (!Seconds()) return false;
          break;
        case 'z':
          if (!Zone()) return false;
          break;
        case 'Z':  // a zone name: read and ignored
          SkipSpace();
          while (pos < in.size() && !IsSpace(in[pos])) ++pos;
          break;
        default: return false;  // not reached with a checked format
      }
    }
    return true;
  }

  // What glibc derives once the whole format is read: month and day from the day of the
  // year, then the weekday and the day of the year from the date.
  void Finish() {
    int64_t year = static_cast<int64_t>(tm.year) + 1900;
    int row = IsLeapYear(year) ? 13 : 0;
    if (want_xday && !have_wday) {
      if (!(have_mon && have_mday) && have_yday) {
        int m = 0;
        while (kDaysBefore[row + m] <= tm.yday) ++m;
        if (!have_mon) tm.mon = m - 1;
        if (!have_mday) tm.mday = tm.yday - kDaysBefore[row + m - 1] + 1;
        have_mon = have_mday = true;
      }
      tm.wday = WeekdayOf(year, tm.mon, tm.mday);
    }
    if (want_xday && !have_yday) tm.yday = kDaysBefore[row + tm.mon] + tm.mday - 1;
  }
};

}  // namespace

int64_t ToTimeT(double d) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return INT64_MIN;
  return static_cast<int64_t>(d);
}

BrokenTime FromJqFields(const double f[8]) {
  auto field = [](double d) {
    if (!(d > -2147483649.0 && d < 2147483648.0)) return INT32_MIN;
    return static_cast<int32_t>(d);
  };
  BrokenTime t;
  t.year = Wrap(static_cast<int64_t>(field(f[0])) - 1900);
  t.mon = field(f[1]);
  t.mday = field(f[2]);
  t.hour = field(f[3]);
  t.min = field(f[4]);
  t.sec = field(f[5]);
  t.wday = field(f[6]);
  t.yday = field(f[7]);
  return t;
}

int32_t JqYear(const BrokenTime& t) { return Wrap(static_cast<int64_t>(t.year) + 1900); }

bool GmTime(int64_t secs, BrokenTime* out) {
  int64_t days = secs / kSecondsPerDay, rem = secs % kSecondsPerDay;  // days * 86400 may not fit
  if (rem < 0) {
    rem += kSecondsPerDay;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y - 1900 < INT32_MIN || y - 1900 > INT32_MAX) return false;
  out->year = static_cast<int32_t>(y - 1900);
  out->mon = static_cast<int32_t>(m) - 1;
  out->mday = static_cast<int32_t>(d);
  out->hour = static_cast<int32_t>(rem / 3600);
  out->min = static_cast<int32_t>(rem / 60 % 60);
  out->sec = static_cast<int32_t>(rem % 60);
  out->wday = static_cast<int32_t>(FloorMod(days + 4, 7));
  out->yday = static_cast<int32_t>(days - DaysFromCivil(y, 1, 1));
  return true;
}

bool TimeGm(const BrokenTime& t, int64_t* out) {
  int64_t year = static_cast<int64_t>(t.year) + 1900 + FloorDiv(t.mon, 12);
  auto month = static_cast<unsigned>(FloorMod(t.mon, 12)) + 1;
  int64_t days = DaysFromCivil(year, month, 1) + t.mday - 1;
  int64_t secs = days * kSecondsPerDay + static_cast<int64_t>(t.hour) * 3600 + static_cast<int64_t>(t.min) * 60 + t.sec;
  BrokenTime check;
  if (!GmTime(secs, &check)) return false;
  *out = secs;
  return true;
}

Status CheckTimeFormat(std::string_view fmt, std::string_view fn) {
  for (size_t i = 0; i + 1 < fmt.size(); ++i) {
    if (fmt[i] != '%') continue;
    char d = fmt[++i];
    if (kTimeDirectives.find(d) == std::string_view::npos)
      return Status::InvalidArgument(fmt::format(
          "{}: directive '%{}' is not supported; evt implements %Y %m %d %H %M %S %Z %z %j %a %b %e %T %F %s %%", fn, d));
  }
  return Status::OK();
}

bool FormatTime(std::string_view fmt, const BrokenTime& t, std::string* out) {
  const size_t start = out->size();
  auto year = [&] { AppendPadded(JqYear(t), 1, '0', out); };  // glibc's int arithmetic wraps too
  auto two = [&](int64_t v) { AppendPadded(v, 2, '0', out); };
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 == fmt.size()) {  // a lone '%' at the end prints as itself
      out->push_back(fmt[i]);
      continue;
    }
    switch (fmt[++i]) {
      case 'Y': year(); break;
      case 'm': two(Wrap(static_cast<int64_t>(t.mon) + 1)); break;
      case 'd': two(t.mday); break;
      case 'e': AppendPadded(t.mday, 2, ' ', out); break;
      case 'H': two(t.hour); break;
      case 'M': two(t.min); break;
      case 'S': two(t.sec); break;
      case 'j': AppendPadded(Wrap(static_cast<int64_t>(t.yday) + 1), 3, '0', out); break;
      case 'a': out->append(t.wday >= 0 && t.wday < 7 ? std::string_view(kWeekdays[t.wday], 3) : "?"); break;
      case 'b': out->append(t.mon >= 0 && t.mon < 12 ? std::string_view(kMonths[t.mon], 3) : "?"); break;
      case 'T':
        two(t.hour);
        out->push_back(':');
        two(t.min);
        out->push_back(':');
        two(t.sec);
        break;
      case 'F':
        year();
        out->push_back('-');
        two(Wrap(static_cast<int64_t>(t.mon) + 1));
        out->push_back('-');
        two(t.mday);
        break;
      case 's': {  // glibc: mktime of the fields, -1 when that fails
        int64_t s = -1;
        if (!TimeGm(t, &s)) s = -1;
        AppendPadded(s, 1, '0', out);
        break;
      }
      case 'z': out->append("+0000"); break;
      case 'Z': out->append("UTC"); break;
      case '%': out->push_back('%'); break;
      default: return false;  // not reached with a checked format
    }
  }
  size_t n = out->size() - start;
  return n > 0 && n < fmt.size() + 100;
}

bool ParseTime(std::string_view in, std::string_view fmt, BrokenTime* out, std::string_view* rest) {
  Parse p;
  p.in = in;
  p.tm.wday = 8;
  p.tm.yday = 367;
  if (!p.Run(fmt)) return false;
  if (p.pos < in.size() && !IsSpace(in[p.pos])) return false;
  p.Finish();
  *out = p.tm;
  *rest = in.substr(p.pos);
  return true;
}

}  // namespace evt::filter
