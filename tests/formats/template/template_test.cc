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

TEST_CASE("template: %T{iso} prints the timestamp as RFC 3339 UTC with milliseconds", "[template]") {
  RecordBatch b;
  b.topic = "t";
  Record r;
  r.timestamp = 1700000000000;
  auto t = tmpl::Template::Parse("%T{iso}|%T|%T{iso}{x}|%%T{iso}");
  REQUIRE(t.ok());
  std::string out;
  t->Append(b, r, &out);
  CHECK(out == "2023-11-14T22:13:20.000Z|1700000000000|2023-11-14T22:13:20.000Z{x}|%T{iso}");
  out.clear();
  r.timestamp = 1700000000123;
  t->Append(b, r, &out);
  CHECK(out.substr(0, 25) == "2023-11-14T22:13:20.123Z|");
  out.clear();
  r.timestamp = -1;  // no timestamp
  t->Append(b, r, &out);
  CHECK(out == "-|-1|-{x}|%T{iso}");
  out.clear();
  r.timestamp = 0;
  tmpl::Template::Parse("%T{iso}")->Append(b, r, &out);
  CHECK(out == "1970-01-01T00:00:00.000Z");

  auto bad = tmpl::Template::Parse("%o %T{utc} %k");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("'%T{utc}' at position 3") != std::string::npos);
  CHECK(bad.status().message().find("%T{iso}") != std::string::npos);
  CHECK_FALSE(tmpl::Template::Parse("%T{iso").ok());
  CHECK_FALSE(tmpl::Template::Parse("%T{").ok());
  auto unknown = tmpl::Template::Parse("%x");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("%T %T{iso} %k") != std::string::npos);
}
