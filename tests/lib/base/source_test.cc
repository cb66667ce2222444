// lib/source: what the Source/Sink interfaces share (evt.source references).
#include "lib/base/source.h"

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "tests/testutil.h"

using namespace evt;

TEST_CASE("replay: evt.source references") {
  std::string t;
  int32_t p = -1;
  int64_t o = -1;
  REQUIRE(ParseSourceRef("orders/3/1234", &t, &p, &o));
  CHECK((t == "orders" && p == 3 && o == 1234));
  REQUIRE(ParseSourceRef("a/b/2/5", &t, &p, &o));  // topics may not hold '/', but parse from the right
  CHECK((t == "a/b" && p == 2 && o == 5));
  CHECK(!ParseSourceRef("orders/x/1", &t, &p, &o));
  CHECK(!ParseSourceRef("orders/1/", &t, &p, &o));
  CHECK(!ParseSourceRef("1/2", &t, &p, &o));
  CHECK(!ParseSourceRef("o/-1/2", &t, &p, &o));
}
