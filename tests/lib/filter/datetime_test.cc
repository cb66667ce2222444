// Unit tests for lib/filter/datetime: jq 1.6's gmtime, timegm, strftime and strptime. The
// expected values are what Debian 12's jq 1.6 prints (TZ=UTC).
#include "lib/filter/datetime.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using evt::filter::BrokenTime;

namespace {

std::vector<int> Fields(const BrokenTime& t) {
  return {evt::filter::JqYear(t), t.mon, t.mday, t.hour, t.min, t.sec, t.wday, t.yday};
}

BrokenTime Tm(std::vector<double> f) {
  f.resize(8);
  return evt::filter::FromJqFields(f.data());
}

std::string Strftime(const std::string& fmt, const BrokenTime& t) {
  REQUIRE(evt::filter::CheckTimeFormat(fmt, "strftime/1").ok());
  std::string out;
  if (!evt::filter::FormatTime(fmt, t, &out)) return "<fail>";
  return out;
}

// The array jq's strptime gives (without the tail), or {} when it fails.
std::vector<int> Strptime(const std::string& in, const std::string& fmt, std::string* rest = nullptr) {
  REQUIRE(evt::filter::CheckTimeFormat(fmt, "strptime/1").ok());
  BrokenTime t;
  std::string_view r;
  if (!evt::filter::ParseTime(in, fmt, &t, &r)) return {};
  if (rest) *rest = std::string(r);
  return Fields(t);
}

int64_t Timegm(std::vector<double> f) {
  int64_t s = 0;
  REQUIRE(evt::filter::TimeGm(Tm(std::move(f)), &s));
  return s;
}

}  // namespace

TEST_CASE("datetime: gmtime", "[filter][datetime]") {
  BrokenTime t;
  REQUIRE(evt::filter::GmTime(1425599507, &t));
  CHECK(Fields(t) == std::vector<int>{2015, 2, 5, 23, 51, 47, 4, 63});
  REQUIRE(evt::filter::GmTime(0, &t));
  CHECK(Fields(t) == std::vector<int>{1970, 0, 1, 0, 0, 0, 4, 0});
  REQUIRE(evt::filter::GmTime(-1, &t));
  CHECK(Fields(t) == std::vector<int>{1969, 11, 31, 23, 59, 59, 3, 364});
  REQUIRE(evt::filter::GmTime(-62167219201, &t));  // the second before year 0
  CHECK(Fields(t) == std::vector<int>{-1, 11, 31, 23, 59, 59, 5, 364});
  REQUIRE(evt::filter::GmTime(951782400, &t));  // 2000-02-29
  CHECK(Fields(t) == std::vector<int>{2000, 1, 29, 0, 0, 0, 2, 59});
  // The last second whose year fits in tm_year, and jq's int arithmetic on the year.
  REQUIRE(evt::filter::GmTime(67768036191676799, &t));
  CHECK(Fields(t) == std::vector<int>{-2147481749, 11, 31, 23, 59, 59, 3, 364});
  CHECK_FALSE(evt::filter::GmTime(67768036191676800, &t));
  CHECK_FALSE(evt::filter::GmTime(INT64_MIN, &t));
  // Seconds as jq converts them: truncated toward zero; NaN and out of range are INT64_MIN.
  CHECK(evt::filter::ToTimeT(-1.5) == -1);
  CHECK(evt::filter::ToTimeT(1425599507.9) == 1425599507);
  CHECK(evt::filter::ToTimeT(1e20) == INT64_MIN);
  CHECK(evt::filter::ToTimeT(NAN) == INT64_MIN);
}

TEST_CASE("datetime: timegm normalises every field", "[filter][datetime]") {
  CHECK(Timegm({2015, 2, 5, 23, 51, 47, 4, 63}) == 1425599507);
  CHECK(Timegm({2015, 2, 5, 23, 51, 47, 0, 0}) == 1425599507);  // weekday and day of the year are ignored
  CHECK(Timegm({2015.7, 2.9, 5.9, 23, 51, 47.9}) == 1425599507);  // truncated
  CHECK(Timegm({2015, 14, 5, 23, 51, 47}) == 1457221907);
  CHECK(Timegm({2015, 2, 40, 23, 51, 47}) == 1428623507);
  CHECK(Timegm({2015, 2, 5, 23, 51, -47}) == 1425599413);
  CHECK(Timegm({2015, 1, 30}) == 1425254400);  // February 30th is March 2nd
  CHECK(Timegm({-2015.7, 2.9, 5.9, 23, 51, -47.9}) == -125748893387);
  CHECK(static_cast<double>(Timegm({1e20, 2, 5, 23, 51, 47})) == 67767976239148300.0);  // year INT_MIN, wrapped by -1900
  CHECK(Timegm({2015, 2, 5, 23, 51, 1e20}) == -721884188);       // the seconds are INT_MIN
}

TEST_CASE("datetime: strftime directives", "[filter][datetime]") {
  BrokenTime t = Tm({2015, 2, 5, 23, 51, 47, 4, 63});
  CHECK(Strftime("%Y %m %d %H %M %S %Z %z %j %a %b %e %T %F %s %%", t) ==
        "2015 03 05 23 51 47 UTC +0000 064 Thu Mar  5 23:51:47 2015-03-05 1425599507 %");
  CHECK(Strftime("%Y-%m-%dT%H:%M:%SZ", t) == "2015-03-05T23:51:47Z");
  CHECK(Strftime("a%", t) == "a%");  // a lone '%' at the end prints as itself
  CHECK(Strftime("", t) == "<fail>");  // glibc's 0: jq's "unknown system failure"
  std::string many;
  for (int i = 0; i < 12; ++i) many += "%s";
  CHECK(Strftime(many, t).size() == 120);  // up to strlen(fmt) + 99 bytes
  CHECK(Strftime(many + "%s", t) == "<fail>");  // 130 > 26 + 99
  CHECK(Strftime("%F%F%F%F%F%F%F%F%F%F%F", t).size() == 110);
  // Fields out of range print as glibc prints them.
  CHECK(Strftime("%m|%d|%e|%H|%M|%S|%j", Tm({2015, -5, -3, -1, -2, -7, 4, -1})) == "-4|-3|-3|-1|-2|-7|000");
  CHECK(Strftime("%m|%d|%e|%H|%M|%S|%j", Tm({2015, -11, -30, -10, -20, -70, 4, -100})) ==
        "-10|-30|-30|-10|-20|-70|-99");
  CHECK(Strftime("%Y|%F|%j", Tm({-5, 0, 1, 0, 0, 0, 4, -101})) == "-5|-5-01-01|-100");
  CHECK(Strftime("%F|%Y", Tm({12345, 0, 1})) == "12345-01-01|12345");
  CHECK(Strftime("%F", Tm({1, 0, 1})) == "1-01-01");
  CHECK(Strftime("%Y", Tm({1e20})) == "-2147483648");  // INT_MIN - 1900 + 1900, in int
  BrokenTime last;
  REQUIRE(evt::filter::GmTime(67768036191676792, &last));
  CHECK(Strftime("%F", last) == "-2147481749-12-31");
  CHECK(Strftime("%a|%b", Tm({2015, 13, 5, 0, 0, 0, 7, 0})) == "?|?");
  CHECK(Strftime("%a|%b", Tm({2015, 11, 5, 0, 0, 0, 6, 0})) == "Sat|Dec");
  CHECK(Strftime("%H|%T|%s", Tm({2015, 2, 5, 123, 51, 47, 4, 63})) == "123|123:51:47|1425959507");
}

TEST_CASE("datetime: unsupported directives are named", "[filter][datetime]") {
  auto s = evt::filter::CheckTimeFormat("%Y %A", "strftime/1");
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("strftime/1: directive '%A' is not supported") != std::string::npos);
  CHECK(s.message().find("%Y %m %d") != std::string::npos);
  CHECK_FALSE(evt::filter::CheckTimeFormat("%-d", "strptime/1").ok());
  CHECK(evt::filter::CheckTimeFormat("%%A %", "strftime/1").ok());
}

TEST_CASE("datetime: strptime as glibc's", "[filter][datetime]") {
  using V = std::vector<int>;
  CHECK(Strptime("2015-03-05T23:51:47Z", "%Y-%m-%dT%H:%M:%SZ") == V{2015, 2, 5, 23, 51, 47, 4, 63});
  CHECK(Strptime("2015-03-05T23:51:47Z", "%FT%TZ") == V{2015, 2, 5, 23, 51, 47, 4, 63});
  CHECK(Strptime("2015-03-05T23:51:47Z", "%Y-%m-%dT%H:%M:%S%Z") == V{2015, 2, 5, 23, 51, 47, 4, 63});
  CHECK(Strptime("2015-03-05T23:51:47+01:00", "%Y-%m-%dT%H:%M:%S%z") == V{2015, 2, 5, 23, 51, 47, 4, 63});
  CHECK(Strptime("20150305", "%Y%m%d") == V{2015, 2, 5, 0, 0, 0, 4, 63});
  // Fields the format does not set: 0, and jq's marks 8 and 367 when glibc derives nothing.
  CHECK(Strptime("12:34", "%H:%M") == V{1900, 0, 0, 12, 34, 0, 8, 367});
  CHECK(Strptime("2015", "%Y") == V{2015, 0, 0, 0, 0, 0, 3, -1});
  CHECK(Strptime("Mar", "%b") == V{1900, 2, 0, 0, 0, 0, 3, 58});
  CHECK(Strptime("05", "%d") == V{1900, 0, 5, 0, 0, 0, 5, 4});
  // Weekday and day of the year come from the date; a weekday that was read is kept.
  CHECK(Strptime("2015-02-30", "%F") == V{2015, 1, 30, 0, 0, 0, 1, 60});
  CHECK(Strptime("Fri 2015-03-05", "%a %F") == V{2015, 2, 5, 0, 0, 0, 5, 63});
  CHECK(Strptime("0000-01-01", "%F") == V{0, 0, 1, 0, 0, 0, 0, 0});  // glibc's truncating division
  CHECK(Strptime("0000-03-01", "%F") == V{0, 2, 1, 0, 0, 0, 3, 60});
  // Month and day from the day of the year, glibc's table overrun included.
  CHECK(Strptime("2015 064", "%Y %j") == V{2015, 2, 5, 0, 0, 0, 4, 63});
  CHECK(Strptime("2015 366", "%Y %j") == V{2015, 24, 31, 0, 0, 0, 5, 365});
  CHECK(Strptime("2016 366", "%Y %j") == V{2016, 11, 31, 0, 0, 0, 6, 365});
  CHECK(Strptime("2015 02 064", "%Y %m %j") == V{2015, 1, 5, 0, 0, 0, 4, 63});
  CHECK(Strptime("2015 064 07", "%Y %j %d") == V{2015, 2, 7, 0, 0, 0, 6, 63});
  CHECK(Strptime("Thu 2015 064", "%a %Y %j") == V{2015, 0, 0, 0, 0, 0, 4, 63});
  // Names: full or abbreviated, any case.
  CHECK(Strptime("thursday", "%a") == V{1900, 0, 0, 0, 0, 0, 4, 367});
  CHECK(Strptime("Thu Mar  5 2015", "%a %b %e %Y") == V{2015, 2, 5, 0, 0, 0, 4, 63});
  CHECK(Strptime("Thursda", "%a").empty());
  CHECK(Strptime("Sept", "%b").empty());
  // %s: the fields of that second; later directives override them.
  CHECK(Strptime("1425599507", "%s") == V{2015, 2, 5, 23, 51, 47, 4, 63});
  CHECK(Strptime("1425599507 2016", "%s %Y") == V{2016, 2, 5, 23, 51, 47, 6, 64});
  CHECK(Strptime("18446744073709551617", "%s") == V{1970, 0, 1, 0, 0, 1, 4, 0});  // wraps
  CHECK(Strptime("9223372036854775807", "%s").empty());
  CHECK(Strptime("-1", "%s").empty());
  CHECK(Strptime(" 12", "%s").empty());
  // Numbers: leading white space, at most so many digits, ranges (seconds up to 61).
  CHECK(Strptime(" 2015-03-\t5", "%Y-%m-%d") == V{2015, 2, 5, 0, 0, 0, 4, 63});
  CHECK(Strptime("2015-12-31T23:59:61Z", "%Y-%m-%dT%H:%M:%SZ") == V{2015, 11, 31, 23, 59, 61, 4, 364});
  CHECK(Strptime("2015-13-01", "%F").empty());
  CHECK(Strptime("2015-12-31T24:00:00Z", "%Y-%m-%dT%H:%M:%SZ").empty());
  CHECK(Strptime("2015-03-40", "%F").empty());  // reads day 4, then "0" is left
  CHECK(Strptime("+2015", "%Y").empty());
  CHECK(Strptime("2015 000", "%Y %j").empty());
  // White space in the format matches any amount, also none; other characters match exactly.
  CHECK(Strptime("2015-03", "%Y -%m") == V{2015, 2, 0, 0, 0, 0, 6, 58});
  CHECK(Strptime("2015  -03", "%Y-%m").empty());
  CHECK(Strptime("2015 %", "%Y%%").empty());
  CHECK(Strptime("x", "").empty());
  // %z: Z, +hh, +hhmm, +hh:mm; minutes below 60.
  for (const char* z : {"Z", "+01", "+0100", "+01:00", " +01", "+2400", "+9959"})
    CHECK(Strptime(z, "%z") == V{1900, 0, 0, 0, 0, 0, 8, 367});
  for (const char* z : {"z", "+1", "+010", "+0160", "+01:60", "-01:3", "+01:", "-12345"}) CHECK(Strptime(z, "%z").empty());
  // %Z reads a word.
  CHECK(Strptime("UTC2015", "%Z%Y").empty());
  CHECK(Strptime("UTC 2015", "%Z %Y") == V{2015, 0, 0, 0, 0, 0, 3, -1});
  // The tail: white space and what follows it is left for jq to append.
  std::string rest;
  CHECK(Strptime("2015-03-05 23:51:47 xx", "%F %T", &rest) == V{2015, 2, 5, 23, 51, 47, 4, 63});
  CHECK(rest == " xx");
  CHECK(Strptime("Marchx", "%b").empty());
  CHECK(Strptime("2015%", "%Y%").empty());  // a lone '%' at the end never matches
}
