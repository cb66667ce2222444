#include "lib/base/bound.h"

#include <catch2/catch.hpp>

using namespace evt;

TEST_CASE("positions parse", "[bound]") {
  int64_t now = 1'000'000'000;
  CHECK(ParseBound("beginning", now)->kind == Bound::kBeginning);
  CHECK(ParseBound("end", now)->kind == Bound::kEnd);
  auto o = ParseBound("123", now);
  CHECK(o->kind == Bound::kOffset);
  CHECK(o->value == 123);
  auto n = ParseBound("-5", now);
  CHECK(n->kind == Bound::kFromEnd);
  CHECK(n->value == 5);
  auto d = ParseBound("-1h", now);
  CHECK(d->kind == Bound::kTime);
  CHECK(d->value == now - 3600000);
  auto t = ParseBound("1970-01-01T00:00:01Z", now);
  CHECK(t->kind == Bound::kTime);
  CHECK(t->value == 1000);
  CHECK_FALSE(ParseBound("soon", now).ok());
  CHECK_FALSE(ParseBound("-", now).ok());
}

TEST_CASE("positions: now, @epoch-ms, and ranges that select nothing") {
  auto now = ParseBound("now", 5000);
  REQUIRE(now.ok());
  CHECK(now->kind == Bound::kTime);
  CHECK(now->value == 5000);
  auto at = ParseBound("@1700001000000", 0);
  REQUIRE(at.ok());
  CHECK(at->kind == Bound::kTime);
  CHECK(at->value == 1700001000000);
  auto digits = ParseBound("1700001000000", 0);  // 13 digits without @ stay an offset
  REQUIRE(digits.ok());
  CHECK(digits->kind == Bound::kOffset);
  CHECK_FALSE(ParseBound("@", 0).ok());
  CHECK_FALSE(ParseBound("@12x", 0).ok());
  CHECK_FALSE(ParseBound("@99999999999999999999999", 0).ok());
  CHECK(BoundsOutOfOrder({Bound::kOffset, 10}, {Bound::kOffset, 5}) != "");
  CHECK(BoundsOutOfOrder({Bound::kOffset, 5}, {Bound::kOffset, 5}) == "");  // empty, but not reversed
  CHECK(BoundsOutOfOrder({Bound::kTime, 2000}, {Bound::kTime, 1000}) != "");
  CHECK(BoundsOutOfOrder({Bound::kFromEnd, 3}, {Bound::kFromEnd, 10}) != "");
  CHECK(BoundsOutOfOrder({Bound::kFromEnd, 10}, {Bound::kFromEnd, 3}) == "");
  CHECK(BoundsOutOfOrder({Bound::kOffset, 10}, {Bound::kTime, 5}) == "");  // not comparable before reading
}
