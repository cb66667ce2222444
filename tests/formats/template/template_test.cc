#include "formats/template/template.h"

#include <catch2/catch.hpp>

using namespace evt;

TEST_CASE("template: kcat tokens and escapes", "[template]") {
  RecordBatch b;
  b.topic = "orders";
  b.partition = 2;
  b.headers.push_back({b.arena.Copy("a"), Bytes::Of(b.arena.Copy("1"))});
  b.headers.push_back({b.arena.Copy("b"), Bytes::Null()});
  Record r;
  r.partition = 2;
  r.offset = 42;
  r.timestamp = 1700000000000;
  r.key = Bytes::Of(b.arena.Copy("k"));
  r.value = Bytes::Null();
  r.header_count = 2;
  auto t = tmpl::Template::Parse("%t %p %o %T %k %v %K %S %h %%\\t\\n\\r\\\\\\0!");
  REQUIRE(t.ok());
  std::string out;
  t->Append(b, r, &out);
  static const char kWant[] = "orders 2 42 1700000000000 k  1 -1 a=1,b=NULL %\t\n\r\\\0!";
  CHECK(out == std::string(kWant, sizeof(kWant) - 1));
  CHECK_FALSE(tmpl::Template::Parse("%x").ok());
  CHECK_FALSE(tmpl::Template::Parse("abc %").ok());
}
