#include "lib/base/timeutil.h"

#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <vector>

using namespace evt;

namespace {
int64_t MustParse(std::string_view s) {
  auto r = ParseRfc3339(s);
  INFO(std::string(s) << ": " << r.status().message());
  REQUIRE(r.ok());
  return r.value();
}
int64_t MustDuration(std::string_view s) {
  auto r = ParseDuration(s);
  INFO(std::string(s) << ": " << r.status().message());
  REQUIRE(r.ok());
  return r.value();
}
}  // namespace

TEST_CASE("ParseRfc3339 known epoch values", "[timeutil]") {
  CHECK(MustParse("1970-01-01T00:00:00Z") == 0);
  CHECK(MustParse("1970-01-01") == 0);
  CHECK(MustParse("2023-11-14T22:13:20Z") == 1700000000000);
  CHECK(MustParse("2024-02-29T23:59:59.999Z") == 1709251199999);
  CHECK(MustParse("2000-02-29") == 951782400000);
  CHECK(MustParse("1969-07-20T20:17:40Z") == -14182940000);
  CHECK(MustParse("1969-12-31T23:59:59.999Z") == -1);
  CHECK(MustParse("1900-01-01T00:00:00Z") == -2208988800000);
  CHECK(MustParse("0000-01-01T00:00:00Z") == -62167219200000);
  CHECK(MustParse("9999-12-31T23:59:59.999Z") == 253402300799999);
}

TEST_CASE("ParseRfc3339 variants", "[timeutil]") {
  const int64_t base = 1714564800000;  // 2024-05-01T12:00:00Z
  CHECK(MustParse("2024-05-01T12:00:00Z") == base);
  CHECK(MustParse("2024-05-01t12:00:00z") == base);
  CHECK(MustParse("2024-05-01 12:00:00Z") == base);
  CHECK(MustParse("2024-05-01T12:00:00+00:00") == base);
  CHECK(MustParse("2024-05-01T12:00:00-00:00") == base);
  CHECK(MustParse("2024-05-01") == base - 12 * 3600000);
  // Offsets: local time minus offset is UTC.
  CHECK(MustParse("2024-05-01T12:00:00+02:00") == 1714557600000);  // 10:00Z
  CHECK(MustParse("2024-05-01T12:00:00+0200") == 1714557600000);
  CHECK(MustParse("2024-05-01T12:00:00-05:30") == 1714584600000);  // 17:30Z
  CHECK(MustParse("2024-05-01T12:00:00-0530") == 1714584600000);
  CHECK(MustParse("2024-05-01T00:30:00+01:00") == base - 12 * 3600000 - 30 * 60000);  // previous day 23:30Z
  // Fractions of any length, truncated to ms.
  CHECK(MustParse("2024-05-01T12:00:00.1Z") == base + 100);
  CHECK(MustParse("2024-05-01T12:00:00.12Z") == base + 120);
  CHECK(MustParse("2024-05-01T12:00:00.123Z") == base + 123);
  CHECK(MustParse("2024-05-01T12:00:00.1239Z") == base + 123);
  CHECK(MustParse("2024-05-01T12:00:00.123999999999999Z") == base + 123);
  CHECK(MustParse("2024-05-01T12:00:00.000000001Z") == base);
  CHECK(MustParse("2024-05-01T12:00:00.5+02:00") == 1714557600500);
  // Before the epoch, with a fraction: still exact.
  CHECK(MustParse("1969-12-31T23:59:59.5Z") == -500);
}

TEST_CASE("ParseRfc3339 rejects bad input", "[timeutil]") {
  const std::vector<std::string> bad = {
      "",
      "2024",
      "2024-05",
      "2024-5-01",
      "2024-05-1",
      "24-05-01",
      "12024-05-01",
      "-2024-05-01",
      "2024/05/01",
      "2024-00-01",
      "2024-13-01",
      "2024-01-00",
      "2024-01-32",
      "2024-02-30",
      "2023-02-29",
      "1900-02-29",
      "2024-04-31",
      "2024-05-01T",
      "2024-05-01T12:00:00",  // no zone
      "2024-05-01T12:00Z",
      "2024-05-01T1:00:00Z",
      "2024-05-01T24:00:00Z",
      "2024-05-01T12:60:00Z",
      "2024-05-01T12:00:60Z",
      "2024-05-01T12:00:00.Z",
      "2024-05-01T12:00:00,5Z",
      "2024-05-01T12:00:00Zjunk",
      "2024-05-01T12:00:00Z ",
      "2024-05-01 ",
      "2024-05-01x",
      "2024-05-01T12:00:00+24:00",
      "2024-05-01T12:00:00+02:60",
      "2024-05-01T12:00:00+2:00",
      "2024-05-01T12:00:00+02",
      "2024-05-01T12:00:00+02:0",
      "2024-05-01T12:00:00+02:00:00",
      "2024-05-01T12:00:00UTC",
      "2024-05-01X12:00:00Z",
      " 2024-05-01",
      "now",
  };
  for (const auto& s : bad) {
    auto r = ParseRfc3339(s);
    INFO("input: '" << s << "'");
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message().find("'" + s + "'") != std::string::npos);
  }
}

TEST_CASE("FormatRfc3339Ms", "[timeutil]") {
  CHECK(FormatRfc3339Ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(FormatRfc3339Ms(1) == "1970-01-01T00:00:00.001Z");
  CHECK(FormatRfc3339Ms(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(FormatRfc3339Ms(-1000) == "1969-12-31T23:59:59.000Z");
  CHECK(FormatRfc3339Ms(-86400000) == "1969-12-31T00:00:00.000Z");
  CHECK(FormatRfc3339Ms(-86400001) == "1969-12-30T23:59:59.999Z");
  CHECK(FormatRfc3339Ms(1709251199999) == "2024-02-29T23:59:59.999Z");
  CHECK(FormatRfc3339Ms(1714564800123) == "2024-05-01T12:00:00.123Z");
  CHECK(FormatRfc3339Ms(-2208988800000) == "1900-01-01T00:00:00.000Z");
  CHECK(FormatRfc3339Ms(-62167219200000) == "0000-01-01T00:00:00.000Z");
  CHECK(FormatRfc3339Ms(253402300799999) == "9999-12-31T23:59:59.999Z");
  // Outside 0000-9999: expanded years with a sign.
  CHECK(FormatRfc3339Ms(253402300800000) == "+10000-01-01T00:00:00.000Z");
  CHECK(FormatRfc3339Ms(-62167219200001) == "-0001-12-31T23:59:59.999Z");
  // Extremes do not crash.
  CHECK(!FormatRfc3339Ms(std::numeric_limits<int64_t>::max()).empty());
  CHECK(!FormatRfc3339Ms(std::numeric_limits<int64_t>::min()).empty());
  char buf[kRfc3339MsMaxLen];
  CHECK(FormatRfc3339MsTo(0, buf) == 24);
}

TEST_CASE("FormatRfc3339Ms round trips through ParseRfc3339", "[timeutil]") {
  const int64_t lo = -62167219200000;  // 0000-01-01
  const int64_t hi = 253402300799999;  // 9999-12-31T23:59:59.999
  uint64_t x = 12345;
  for (int i = 0; i < 20000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    int64_t ms = lo + static_cast<int64_t>((x >> 11) % static_cast<uint64_t>(hi - lo + 1));
    std::string s = FormatRfc3339Ms(ms);
    auto back = ParseRfc3339(s);
    INFO(ms << " -> " << s);
    REQUIRE(back.ok());
    REQUIRE(back.value() == ms);
  }
  for (int64_t ms : {int64_t{0}, int64_t{-1}, int64_t{-999}, int64_t{-1000}, int64_t{-1001}, lo, hi})
    CHECK(ParseRfc3339(FormatRfc3339Ms(ms)).value() == ms);
}

TEST_CASE("DaysFromCivil and CivilFromDays agree", "[timeutil]") {
  for (int64_t days = -800000; days <= 3000000; days += 37) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    REQUIRE(DaysFromCivil(y, m, d) == days);
  }
  CHECK(DaysFromCivil(1970, 1, 1) == 0);
  CHECK(DaysFromCivil(2000, 3, 1) == 11017);
}

TEST_CASE("ParseDuration", "[timeutil]") {
  CHECK(MustDuration("0s") == 0);
  CHECK(MustDuration("0") == 0);  // a bare zero needs no unit (Kafka's delete.retention.ms=0)
  CHECK(MustDuration("00") == 0);
  CHECK(MustDuration("0.0") == 0);
  CHECK(MustDuration("1ms") == 1);
  CHECK(MustDuration("250ms") == 250);
  CHECK(MustDuration("1s") == 1000);
  CHECK(MustDuration("90s") == 90000);
  CHECK(MustDuration("1m") == 60000);
  CHECK(MustDuration("1h") == 3600000);
  CHECK(MustDuration("1d") == 86400000);
  CHECK(MustDuration("1w") == 604800000);
  CHECK(MustDuration("1h30m") == 5400000);
  CHECK(MustDuration("1.5h") == 5400000);
  CHECK(MustDuration("2w3d4h5m6s7ms") == 2 * 604800000LL + 3 * 86400000LL + 4 * 3600000 + 5 * 60000 + 6007);
  CHECK(MustDuration("1m30s") == 90000);
  CHECK(MustDuration("1m1ms") == 60001);
  CHECK(MustDuration("0.5s") == 500);
  CHECK(MustDuration(".5s") == 500);
  CHECK(MustDuration("1.0005s") == 1000);  // truncated to ms
  CHECK(MustDuration("0.5ms0.5ms") == 1);  // fractions add up before truncation
  CHECK(MustDuration("0.1s0.2s") == 300);
  CHECK(MustDuration("0.001s") == 1);
  CHECK(MustDuration("1.25d") == 108000000);
  CHECK(MustDuration("007s") == 7000);
  CHECK(MustDuration("100000w") == 60480000000000LL);
}

TEST_CASE("ParseDuration rejects bad input", "[timeutil]") {
  const std::vector<std::string> bad = {
      "",    "10",  "1",      "s",      "ms",    "-1h",  "+1h",      "1h-30m", "1h ", " 1h",
      "1 h", "1H",  "1x",     "1us",    "1ns",   "1y",   "1h30",     ".h",     "1..5h", "1.5.h",
      "1e3s", "1,5h", "abc",  "1hh",  "0.5", "1h0", "0h0", ".", "-0",    "99999999999999999999ms",  "9223372036854775808ms",
      "106751991167301w",     "9223372036854775807ms1ms",
  };
  for (const auto& s : bad) {
    auto r = ParseDuration(s);
    INFO("input: '" << s << "'");
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message().find("'" + s + "'") != std::string::npos);
  }
  CHECK(MustDuration("9223372036854775807ms") == std::numeric_limits<int64_t>::max());
}

TEST_CASE("NowMs is plausible", "[timeutil]") {
  int64_t now = NowMs();
  CHECK(now > 1700000000000);           // after 2023-11
  CHECK(now < 4102444800000);           // before 2100
}
