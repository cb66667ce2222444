#include "formats/protobuf/protobuf.h"

#include <catch2/catch.hpp>

#include "formats/envelope/envelope.h"
#include "tests/formats/protobuf/encoder.h"

namespace evt::protobuf {
namespace {

using test::pb::F32;
using test::pb::F64;
using test::pb::L;
using test::pb::V;
using test::pb::ZigZag;

const char* const kCommon = R"(syntax = "proto3";
package common;
message Money { int64 units = 1; string currency = 2; }
)";

const char* const kShop = R"(syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "common.proto";
message Order {
  string id = 1;
  int32 n = 2;
  int64 big = 3;
  repeated string tags = 4;
  map<string, int32> attrs = 5;
  oneof pay { string card = 6; common.Money cash = 7; }
  Status status = 8;
  google.protobuf.Timestamp at = 9;
  message Line { string sku = 1; uint32 qty = 2; }
  repeated Line lines = 10;
  bytes raw = 11;
  double ratio = 12;
  float f = 13;
  bool ok = 14;
  sint32 s = 15;
}
enum Status { UNKNOWN = 0; PAID = 1; SHIPPED = 2; }
message Other { string name = 1; }
)";

std::shared_ptr<const Schema> Shop() {
  auto s = Schema::Parse(kShop, "shop.proto", {{"common.proto", kCommon}});
  INFO((s.ok() ? std::string() : s.status().message()));
  REQUIRE(s.ok());
  return *s;
}

std::string OrderBytes() {
  return L(1, "o-1") + V(2, static_cast<uint64_t>(-5)) + V(3, 1ull << 60) + L(4, "a") + L(4, "b") +
         L(5, L(1, "k") + V(2, 7)) + L(7, V(1, 12) + L(2, "EUR")) + V(8, 2) + L(9, V(1, 1700000000) + V(2, 5000000)) +
         L(10, L(1, "sku-1") + V(2, 3)) + L(11, std::string("\0\xff", 2)) + F64(12, 0.25) + F32(13, 1.5f) + V(14, 1) +
         ZigZag(15, -3);
}

TEST_CASE("protobuf: message names in declaration order", "[protobuf]") {
  auto s = Shop();
  CHECK(s->MessageNames() == std::vector<std::string>{"shop.Order", "shop.Order.Line", "shop.Other"});
  CHECK(s->FindMessage("Other") >= 0);
  CHECK(s->FindMessage("shop.Order.Line") >= 0);
  CHECK(s->FindMessage("Order.Line") == s->FindMessage("shop.Order.Line"));
  CHECK(s->FindMessage("Nope") == -1);
  CHECK(s->MessageName(s->MessageAt({1})) == "shop.Other");
  CHECK(s->MessageName(s->MessageAt({0, 1})) == "shop.Order.Line");  // [0,0] is the map entry
  CHECK(s->MessageAt({2}) == -1);
  CHECK(s->MessageAt({0, 5}) == -1);
}

TEST_CASE("protobuf: a message as proto3 JSON", "[protobuf]") {
  auto s = Shop();
  std::string out, err;
  REQUIRE(s->MessageToJson(s->FindMessage("Order"), OrderBytes(), &out, &err));
  CHECK(out ==
        R"({"id":"o-1","n":-5,"big":"1152921504606846976","tags":["a","b"],"attrs":{"k":7},)"
        R"("cash":{"units":"12","currency":"EUR"},"status":"SHIPPED","at":"2023-11-14T22:13:20.005Z",)"
        R"("lines":[{"sku":"sku-1","qty":3}],"raw":"AP8=","ratio":0.25,"f":1.5,"ok":true,"s":-3})");
  CHECK(envelope::IsEmbeddableJson(out));
  out.clear();
  REQUIRE(s->MessageToJson(s->FindMessage("Order"), "", &out, &err));
  CHECK(out == "{}");  // defaults are left out
}

TEST_CASE("protobuf: JSON back to the message (--encode protobuf)", "[protobuf]") {
  auto s = Shop();
  const int order = s->FindMessage("Order");
  std::string json, err, bytes;
  REQUIRE(s->MessageToJson(order, OrderBytes(), &json, &err));
  REQUIRE(s->JsonToMessage(order, json, &bytes, &err));
  CHECK(bytes == OrderBytes());  // the same bytes: fields in number order, defaults left out
  bytes.clear();
  REQUIRE(s->JsonToMessage(order, "{}", &bytes, &err));
  CHECK(bytes.empty());
  CHECK_FALSE(s->JsonToMessage(order, R"({"nope":1})", &bytes, &err));
  CHECK_THAT(err, Catch::Contains("nope"));
  CHECK_FALSE(s->JsonToMessage(order, R"({"n":"x"})", &bytes, &err));
  CHECK_FALSE(s->JsonToMessage(order, "not json", &bytes, &err));
  CHECK(s->IndexesOf(s->FindMessage("Order")) == std::vector<int32_t>{0});
  CHECK(s->IndexesOf(s->FindMessage("Order.Line")) == std::vector<int32_t>{0, 1});  // [0,0]: the map entry
  CHECK(s->IndexesOf(s->FindMessage("Other")) == std::vector<int32_t>{1});
  for (int m = 0; m < 3; ++m) CHECK(s->MessageAt(s->IndexesOf(m)) == m);
  CHECK(s->IndexesOf(-1).empty());
}

TEST_CASE("protobuf: message indexes in both encodings", "[protobuf]") {
  std::vector<int32_t> idx;
  size_t used = 0;
  REQUIRE(ReadMessageIndexes(std::string(1, '\0'), IndexEncoding::kZigzag, &idx, &used));
  CHECK(idx == std::vector<int32_t>{0});
  CHECK(used == 1);
  REQUIRE(ReadMessageIndexes(std::string("\x04\x00\x02", 3), IndexEncoding::kZigzag, &idx, &used));
  CHECK(idx == std::vector<int32_t>{0, 1});
  CHECK(used == 3);
  CHECK_FALSE(ReadMessageIndexes("\x01\x01", IndexEncoding::kZigzag, &idx, &used));  // a negative count
  REQUIRE(ReadMessageIndexes("\x01\x01", IndexEncoding::kUnsigned, &idx, &used));
  CHECK(idx == std::vector<int32_t>{1});
  CHECK_FALSE(ReadMessageIndexes("\x02", IndexEncoding::kZigzag, &idx, &used));   // truncated
  CHECK_FALSE(ReadMessageIndexes("\xff\xff\xff\xff\xff\x01", IndexEncoding::kUnsigned, &idx, &used));
  CHECK_FALSE(ReadMessageIndexes("", IndexEncoding::kUnsigned, &idx, &used));
  CHECK_FALSE(ReadMessageIndexes("\x7f", IndexEncoding::kUnsigned, &idx, &used));  // over kMaxIndexes
  for (auto enc : {IndexEncoding::kZigzag, IndexEncoding::kUnsigned}) {
    for (const std::vector<int32_t>& path : {std::vector<int32_t>{0}, {3}, {0, 1}, {200, 70000}}) {
      std::string b;
      AppendMessageIndexes(path, enc, &b);
      REQUIRE(ReadMessageIndexes(b + "rest", enc, &idx, &used));
      CHECK(idx == path);
      CHECK(used == b.size());
    }
  }
  std::string zero;
  AppendMessageIndexes({0}, IndexEncoding::kZigzag, &zero);
  CHECK(zero == std::string(1, '\0'));
}

TEST_CASE("protobuf: framed payloads tell the encodings apart", "[protobuf]") {
  auto s = Shop();
  const std::string other = L(1, "x");
  const std::string line = L(1, "s") + V(2, 9);
  struct Case {
    std::string payload;
    IndexEncoding enc;
    std::vector<int32_t> path;
    std::string json;
  } cases[] = {
      {std::string(1, '\0') + L(1, "o"), IndexEncoding::kZigzag, {0}, R"({"id":"o"})"},
      {std::string("\x02\x02", 2) + other, IndexEncoding::kZigzag, {1}, R"({"name":"x"})"},
      {std::string("\x01\x01", 2) + other, IndexEncoding::kUnsigned, {1}, R"({"name":"x"})"},
      {std::string("\x01\x00", 2) + L(1, "o"), IndexEncoding::kUnsigned, {0}, R"({"id":"o"})"},
      {std::string("\x04\x00\x02", 3) + line, IndexEncoding::kZigzag, {0, 1}, R"({"sku":"s","qty":9})"},
      {std::string("\x02\x00\x01", 3) + line, IndexEncoding::kUnsigned, {0, 1}, R"({"sku":"s","qty":9})"},
      {std::string("\x02\x02", 2), IndexEncoding::kZigzag, {1}, "{}"},  // an empty Other
  };
  for (const Case& c : cases) {
    std::string out, err;
    FramedInfo info;
    INFO(c.json);
    REQUIRE(s->FramedToJson(c.payload, &out, &info, &err));
    CHECK(out == c.json);
    CHECK(info.encoding == c.enc);
    CHECK(info.indexes == c.path);
  }
}

TEST_CASE("protobuf: bad values are errors", "[protobuf]") {
  auto s = Shop();
  auto error = [&](const std::string& payload) {
    std::string out, err;
    FramedInfo info;
    CHECK_FALSE(s->FramedToJson(payload, &out, &info, &err));
    CHECK_FALSE(err.empty());
    return err;
  };
  const std::string order = std::string(1, '\0') + OrderBytes();
  CHECK_THAT(error(order.substr(0, order.size() - 3)), Catch::Contains("not a valid shop.Order"));
  CHECK_THAT(error(std::string(1, '\0') + "\x0f\x01"), Catch::Contains("not a valid"));  // wire type 7
  CHECK_THAT(error("\x02\x0a"), Catch::Contains("select no message type"));  // [5]
  CHECK_THAT(error(""), Catch::Contains("empty"));
  CHECK_THAT(error("\x81"), Catch::Contains("no valid message indexes"));
  CHECK_THAT(error(std::string(1, '\0') + L(1, "\xff\xfe")), Catch::Contains("not a valid"));  // not UTF-8
  // A timestamp the JSON form cannot show.
  CHECK_THAT(error(std::string(1, '\0') + L(9, V(1, 1ull << 62))), Catch::Contains("JSON"));
}

TEST_CASE("protobuf: schemas that do not compile", "[protobuf]") {
  CHECK_THAT(Schema::Parse("syntax = \"proto3\"; message {").status().message(), Catch::Contains("schema.proto:1"));
  CHECK_THAT(Schema::Parse(kShop, "shop.proto").status().message(), Catch::Contains("common.proto"));
  CHECK_THAT(Schema::Parse("syntax = \"proto3\"; message A { B b = 1; }").status().message(),
             Catch::Contains("B"));
  // An import from the resolver (a file beside the schema).
  auto s = Schema::Parse(kShop, "shop.proto", {}, [](const std::string& name, std::string* text) {
    if (name != "common.proto") return false;
    *text = kCommon;
    return true;
  });
  CHECK(s.ok());
}

TEST_CASE("protobuf: proto2 required fields, well-known types", "[protobuf]") {
  auto s = Schema::Parse(R"(syntax = "proto2";
import "google/protobuf/duration.proto";
import "google/protobuf/wrappers.proto";
import "google/protobuf/struct.proto";
message R { required int32 a = 1; optional string b = 2 [default = "x"];
  optional google.protobuf.Duration d = 3; optional google.protobuf.Int64Value w = 4;
  optional google.protobuf.Struct st = 5; })");
  REQUIRE(s.ok());
  std::string out, err;
  CHECK_FALSE((*s)->MessageToJson(0, L(2, "y"), &out, &err));
  CHECK_THAT(err, Catch::Contains("required") && Catch::Contains("a"));
  out.clear();
  const std::string st = L(1, L(1, "k") + L(2, L(3, "v")));  // {"k":"v"}
  REQUIRE((*s)->MessageToJson(0, V(1, 4) + L(3, V(1, 1) + V(2, 500000000)) + L(4, V(1, 9)) + L(5, st), &out, &err));
  CHECK(out == R"({"a":4,"d":"1.500s","w":"9","st":{"k":"v"}})");
}

}  // namespace
}  // namespace evt::protobuf
