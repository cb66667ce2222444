#include "formats/kafka_internal/schema.h"

#include <catch2/catch.hpp>

#include <random>

#include "tests/formats/kafka_internal/encoder.h"

namespace evt::kafka_internal {
namespace {

using test::Enc;

// A test message that uses every primitive: fields that come and go with versions, nullable
// ones, a tagged field, arrays of each kind, and embedded bytes.
constexpr Field kInnerFields[] = {
    {.name = "name", .kafka_name = "Name", .type = Type::kString, .versions = From(0)},
    {.name = "ids", .kafka_name = "Ids", .type = Type::kInt32Array, .versions = From(0)},
};
constexpr Struct kInner{"Inner", kInnerFields};

constexpr Field kEmbeddedFields[] = {
    {.name = "x", .kafka_name = "X", .type = Type::kInt32, .versions = From(0)},
};
constexpr Struct kEmbeddedStruct{"Embedded", kEmbeddedFields};
const Schema kEmbedded{"Embedded", Between(0, 0), kNoVersions, &kEmbeddedStruct};

constexpr Field kTestFields[] = {
    {.name = "a8", .kafka_name = "A8", .type = Type::kInt8, .versions = From(0)},
    {.name = "a16", .kafka_name = "A16", .type = Type::kInt16, .versions = From(0)},
    {.name = "a32", .kafka_name = "A32", .type = Type::kInt32, .versions = From(1)},
    {.name = "a64", .kafka_name = "A64", .type = Type::kInt64, .versions = From(0)},
    {.name = "old", .kafka_name = "Old", .type = Type::kInt32, .versions = Only(0)},
    {.name = "s", .kafka_name = "S", .type = Type::kString, .versions = From(0)},
    {.name = "ns", .kafka_name = "Ns", .type = Type::kString, .versions = From(0), .nullable = From(0)},
    {.name = "b", .kafka_name = "B", .type = Type::kBytes, .versions = From(0), .nullable = From(1)},
    {.name = "strs", .kafka_name = "Strs", .type = Type::kStringArray, .versions = From(0)},
    {.name = "inner", .kafka_name = "Inner", .type = Type::kStructArray, .versions = From(0), .nullable = From(2),
     .elem = &kInner},
    {.name = "emb", .kafka_name = "Emb", .type = Type::kBytes, .versions = From(0), .embedded = &kEmbedded},
    {.name = "t", .kafka_name = "T", .type = Type::kInt64, .versions = kNoVersions, .tagged = From(2), .tag = 3},
    {.name = "st", .kafka_name = "St", .type = Type::kInt8, .versions = From(0), .show = Show::kTransactionState},
};
constexpr Struct kTestStruct{"Test", kTestFields};
const Schema kTest{"Test", Between(0, 2), From(2), &kTestStruct};

// Version `v` of the test message, field by field.
std::string TestMessage(int16_t v, bool with_tag = false) {
  Enc e(v >= 2);
  e.i8(-3).i16(-300);
  if (v >= 1) e.i32(70000);
  e.i64(-5000000000LL);
  if (v == 0) e.i32(9);
  e.str("h\xc3\xa9\"llo").nullstr().bytes("\x01\xff");
  e.count(2).str("x").str("");
  e.count(1).str("in").count(2).i32(1).i32(-2).tags();
  e.bytes(test::Be16(0) + test::Be32(77));
  e.i8(1);
  if (with_tag) e.tags({{3, test::Be64(12)}, {9, "zz"}});
  else e.tags();
  return e.out();
}

std::string Json(const Node& n) {
  std::string o = "{";
  AppendMembers(n, &o);
  o.push_back('}');
  return o;
}

TEST_CASE("schema reader: every primitive, fields by version") {
  const char* common_tail =
      "\"s\":\"h\xc3\xa9\\\"llo\",\"ns\":null,\"b_base64\":\"Af8=\",\"strs\":[\"x\",\"\"],"
      "\"inner\":[{\"name\":\"in\",\"ids\":[1,-2]}]";
  // Nodes point into the message: keep it.
  const std::string m0 = TestMessage(0), m1 = TestMessage(1), m2 = TestMessage(2, true), m2b = TestMessage(2, false);
  const std::string m1v = test::Be16(1) + m1;
  Node n;
  std::string err;
  REQUIRE(Decode(kTest, 0, m0, &n, &err));
  CHECK(Json(n) == std::string("{\"a8\":-3,\"a16\":-300,\"a64\":-5000000000,\"old\":9,") + common_tail +
                       ",\"emb_base64\":\"AAAAAABN\",\"st\":\"Ongoing\"}");
  REQUIRE(Decode(kTest, 1, m1, &n, &err));
  CHECK(Json(n) == std::string("{\"a8\":-3,\"a16\":-300,\"a32\":70000,\"a64\":-5000000000,") + common_tail +
                       ",\"emb_base64\":\"AAAAAABN\",\"st\":\"Ongoing\"}");
  // Flexible version 2: compact forms, a known and an unknown tagged field.
  REQUIRE(Decode(kTest, 2, m2, &n, &err));
  DecodeEmbedded(&n);
  CHECK(Json(n) == std::string("{\"a8\":-3,\"a16\":-300,\"a32\":70000,\"a64\":-5000000000,") + common_tail +
                       ",\"emb\":{\"version\":0,\"x\":77},\"st\":\"Ongoing\",\"t\":12,"
                       "\"unknown_tagged_fields\":[{\"tag\":9,\"base64\":\"eno=\"}]}");
  CHECK(n.IntOr("a32", 0) == 70000);
  CHECK(n.IntOr("t", 0) == 12);
  CHECK(n.StrOr("s") == "h\xc3\xa9\"llo");
  CHECK(n.Find("old") == nullptr);
  CHECK(n.IntOr("missing", -7) == -7);
  // Without the tagged field it is absent.
  REQUIRE(Decode(kTest, 2, m2b, &n, &err));
  CHECK(n.Find("t") == nullptr);
  // Versioned: the int16 first.
  int16_t v = -9;
  REQUIRE(DecodeVersioned(kTest, m1v, &v, &n, &err));
  CHECK(v == 1);
}

TEST_CASE("schema reader: nulls only where the version allows them") {
  Node n;
  std::string err;
  // b (bytes) is nullable from version 1 on; inner (array) from 2 on.
  std::string v0 = Enc().i8(0).i16(0).i64(0).i32(0).str("").nullstr().nullbytes().count(0).count(0)
                       .bytes("").i8(0).out();
  CHECK_FALSE(Decode(kTest, 0, v0, &n, &err));
  CHECK(err == "null in a field that is not nullable at byte 21 (B)");
  std::string v1 = Enc().i8(0).i16(0).i32(0).i64(0).str("").nullstr().nullbytes().count(0).count(0)
                       .bytes("").i8(0).out();
  REQUIRE(Decode(kTest, 1, v1, &n, &err));
  CHECK(Json(n).find("\"b\":null") != std::string::npos);
  std::string v2 = Enc(true).i8(0).i16(0).i32(0).i64(0).str("").nullstr().nullbytes().count(0).count(-1)
                       .bytes("").i8(9).tags().out();
  REQUIRE(Decode(kTest, 2, v2, &n, &err));
  CHECK(Json(n).find("\"inner\":null") != std::string::npos);
  CHECK(Json(n).find("\"st\":\"Unknown(9)\"") != std::string::npos);
  // A null string inside a string array is never allowed.
  std::string bad = Enc(true).i8(0).i16(0).i32(0).i64(0).str("").nullstr().nullbytes().count(1).nullstr()
                        .count(-1).bytes("").i8(0).tags().out();
  CHECK_FALSE(Decode(kTest, 2, bad, &n, &err));
  CHECK(err.find("null string in an array") != std::string::npos);
}

TEST_CASE("schema reader: unknown versions and leftover bytes") {
  Node n;
  std::string err;
  CHECK_FALSE(Decode(kTest, 3, TestMessage(2), &n, &err));
  CHECK(err == "unknown Test version 3");
  CHECK_FALSE(Decode(kTest, -1, TestMessage(2), &n, &err));
  CHECK_FALSE(Decode(kTest, 1, TestMessage(1) + "x", &n, &err));
  CHECK(err.find("1 bytes left over after the Test (version 1)") != std::string::npos);
  int16_t v;
  CHECK_FALSE(DecodeVersioned(kTest, "\x01", &v, &n, &err));
  CHECK(v == -1);
  CHECK(err == "1 bytes: too short for a version");
}

TEST_CASE("schema reader: every truncation fails cleanly") {
  for (int16_t v = 0; v <= 2; ++v) {
    std::string m = TestMessage(v, true);
    for (size_t n = 0; n < m.size(); ++n) {
      Node node;
      std::string err;
      INFO("version " << v << " cut at " << n);
      CHECK_FALSE(Decode(kTest, v, m.substr(0, n), &node, &err));
      CHECK(!err.empty());
      CHECK(node.children.empty());
    }
  }
}

TEST_CASE("schema reader: hostile lengths and counts") {
  Node n;
  std::string err;
  auto prefix = [](bool flex) { return Enc(flex).i8(0).i16(0).i32(0).i64(0); };
  // String length past the end.
  CHECK_FALSE(Decode(kTest, 1, prefix(false).i16(100).raw("ab").out(), &n, &err));
  CHECK(err == "length 100 past the end (2 bytes left) at byte 17 (S)");
  // Negative lengths other than -1.
  CHECK_FALSE(Decode(kTest, 1, prefix(false).i16(-2).out(), &n, &err));
  CHECK(err == "negative length -2 at byte 17 (S)");
  CHECK_FALSE(Decode(kTest, 1, prefix(false).str("").nullstr().i32(-5).out(), &n, &err));
  CHECK(err.find("negative length -5") != std::string::npos);
  // Huge array counts: refused before anything is allocated.
  CHECK_FALSE(Decode(kTest, 1, prefix(false).str("").nullstr().bytes("").i32(0x7fffffff).out(), &n, &err));
  CHECK(err.find("2147483647 elements do not fit") != std::string::npos);
  CHECK_FALSE(Decode(kTest, 1, prefix(false).str("").nullstr().bytes("").i32(-2).out(), &n, &err));
  CHECK(err.find("negative array count -2") != std::string::npos);
  CHECK_FALSE(Decode(kTest, 1,
                     prefix(false).str("").nullstr().bytes("").count(0).count(1).str("x").i32(0x40000000).out(), &n,
                     &err));
  CHECK(err.find("1073741824 elements of 4 bytes do not fit") != std::string::npos);
  // Compact: a varint longer than 5 bytes, and one above 32 bits.
  CHECK_FALSE(Decode(kTest, 2, prefix(true).raw("\xff\xff\xff\xff\xff\x01").out(), &n, &err));
  CHECK(err.find("unsigned varint longer than 5 bytes") != std::string::npos);
  CHECK_FALSE(Decode(kTest, 2, prefix(true).raw("\xff\xff\xff\xff\x7f").out(), &n, &err));
  CHECK(err.find("unsigned varint above 32 bits") != std::string::npos);
  CHECK_FALSE(Decode(kTest, 2, prefix(true).uvar(0xfffffff0u).out(), &n, &err));
  CHECK(err.find("past the end") != std::string::npos);
  // Strings must be UTF-8.
  CHECK_FALSE(Decode(kTest, 1, prefix(false).str("\xc3(").out(), &n, &err));
  CHECK(err == "string is not valid UTF-8 at byte 17 (S)");
}

TEST_CASE("schema reader: tagged field section") {
  Node n;
  std::string err;
  auto body = [] {
    return Enc(true).i8(0).i16(0).i32(0).i64(0).str("").nullstr().nullbytes().count(0).count(0).bytes("").i8(0);
  };
  const std::string t1 = body().tags({{3, test::Be64(-1)}}).out();
  REQUIRE(Decode(kTest, 2, t1, &n, &err));
  CHECK(n.IntOr("t", 0) == -1);
  // Tags must ascend.
  CHECK_FALSE(Decode(kTest, 2, body().tags({{5, ""}, {3, test::Be64(1)}}).out(), &n, &err));
  CHECK(err.find("tag 3 after tag 5") != std::string::npos);
  CHECK_FALSE(Decode(kTest, 2, body().tags({{5, ""}, {5, ""}}).out(), &n, &err));
  // A known tag whose bytes are too few or too many for its type.
  CHECK_FALSE(Decode(kTest, 2, body().tags({{3, "1234"}}).out(), &n, &err));
  CHECK(err.find("truncated") != std::string::npos);
  CHECK_FALSE(Decode(kTest, 2, body().tags({{3, test::Be64(1) + "x"}}).out(), &n, &err));
  CHECK(err.find("tagged field of 9 bytes holds 1 more") != std::string::npos);
  // Sizes and counts past the end.
  CHECK_FALSE(Decode(kTest, 2, body().uvar(1).uvar(3).uvar(50).raw("ab").out(), &n, &err));
  CHECK(err.find("tagged field 3 of 50 bytes past the end") != std::string::npos);
  CHECK_FALSE(Decode(kTest, 2, body().uvar(1000).out(), &n, &err));
  CHECK(err.find("1000 tagged fields do not fit") != std::string::npos);
}

TEST_CASE("schema reader: embedded messages decode only when they parse whole") {
  Node n;
  std::string err;
  auto with_emb = [](const std::string& emb) {
    return Enc().i8(0).i16(0).i32(0).i64(0).str("").nullstr().bytes("").count(0).count(0).bytes(emb).i8(0).out();
  };
  const std::string m5 = with_emb(test::Be16(0) + test::Be32(5));
  REQUIRE(Decode(kTest, 1, m5, &n, &err));
  DecodeEmbedded(&n);
  CHECK(Json(n).find("\"emb\":{\"version\":0,\"x\":5}") != std::string::npos);
  for (std::string emb : {test::Be16(0) + test::Be32(5) + "x", test::Be16(1) + test::Be32(5), std::string("\0", 1),
                          std::string()}) {
    const std::string m = with_emb(emb);
    REQUIRE(Decode(kTest, 1, m, &n, &err));
    DecodeEmbedded(&n);
    CHECK(Json(n).find("\"emb_base64\":") != std::string::npos);
  }
}

TEST_CASE("schema reader: random bytes never crash") {
  std::mt19937 rng(1234);
  std::string good = TestMessage(2, true);
  for (int i = 0; i < 20000; ++i) {
    std::string m;
    if (i % 2 == 0) {
      m = good;
      for (int k = 0; k < 3; ++k) m[rng() % m.size()] = static_cast<char>(rng());
    } else {
      m.resize(rng() % 64);
      for (auto& c : m) c = static_cast<char>(rng());
    }
    Node n;
    std::string err;
    int16_t v;
    if (DecodeVersioned(kTest, m, &v, &n, &err)) {
      DecodeEmbedded(&n);
      std::string o;
      AppendMembers(n, &o);
    } else {
      CHECK(!err.empty());
    }
  }
}

TEST_CASE("TransactionStateName names Kafka's states") {
  CHECK(TransactionStateName(0) == "Empty");
  CHECK(TransactionStateName(1) == "Ongoing");
  CHECK(TransactionStateName(2) == "PrepareCommit");
  CHECK(TransactionStateName(3) == "PrepareAbort");
  CHECK(TransactionStateName(4) == "CompleteCommit");
  CHECK(TransactionStateName(5) == "CompleteAbort");
  CHECK(TransactionStateName(6) == "Dead");
  CHECK(TransactionStateName(7) == "PrepareEpochFence");
  CHECK(TransactionStateName(8).empty());
  CHECK(TransactionStateName(-1).empty());
}

}  // namespace
}  // namespace evt::kafka_internal
