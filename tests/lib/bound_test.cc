#include "lib/bound.h"

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
