#include "formats/avro/avro.h"

#include <catch2/catch.hpp>

#include "formats/confluent/framing.h"
#include "formats/envelope/envelope.h"
#include "tests/formats/avro/encoder.h"

namespace evt::avro {
namespace {

using test::avro::Long;
using test::avro::Str;

std::string Json(const char* schema, const std::string& bytes, JsonStyle style = JsonStyle::kNatural) {
  auto s = Schema::Parse(schema);
  REQUIRE(s.ok());
  std::string out, err;
  bool ok = (*s)->ToJson(bytes, style, &out, &err);
  INFO(err);
  REQUIRE(ok);
  CHECK(envelope::IsEmbeddableJson("[" + out + "]"));
  return out;
}

std::string Error(const char* schema, const std::string& bytes) {
  auto s = Schema::Parse(schema);
  REQUIRE(s.ok());
  std::string out, err;
  CHECK_FALSE((*s)->ToJson(bytes, JsonStyle::kNatural, &out, &err));
  return err;
}

TEST_CASE("avro: primitives and records", "[avro]") {
  CHECK(Json(R"("long")", Long(-1234567890123)) == "-1234567890123");
  CHECK(Json(R"("int")", Long(-5)) == "-5");
  CHECK(Json(R"("boolean")", std::string(1, '\1')) == "true");
  CHECK(Json(R"("string")", Str("a\"b\n")) == R"("a\"b\n")");
  CHECK(Json(R"("bytes")", Str(std::string("\0\xff", 2))) == R"("AP8=")");
  CHECK(Json(R"("null")", "") == "null");
  const char* rec = R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]})";
  CHECK(Json(rec, Long(3) + Str("x")) == R"({"a":3,"b":"x"})");
}

TEST_CASE("avro: unions unwrapped or as the spec's JSON", "[avro]") {
  const char* u = R"(["null","string",{"type":"record","name":"ns.R","fields":[]}])";
  CHECK(Json(u, Long(0)) == "null");
  CHECK(Json(u, Long(1) + Str("s")) == R"("s")");
  CHECK(Json(u, Long(1) + Str("s"), JsonStyle::kSpec) == R"({"string":"s"})");
  CHECK(Json(u, Long(2), JsonStyle::kSpec) == R"({"ns.R":{}})");
  CHECK(Json(u, Long(0), JsonStyle::kSpec) == "null");
  CHECK(Error(u, Long(3)).find("union branch 3 out of range") != std::string::npos);
}

TEST_CASE("avro: logical types", "[avro]") {
  const char* dec = R"({"type":"bytes","logicalType":"decimal","precision":20,"scale":3})";
  CHECK(Json(dec, Str(std::string("\x30\x39", 2))) == R"("12.345")");   // 12345
  CHECK(Json(dec, Str(std::string("\xcf\xc7", 2))) == R"("-12.345")");  // -12345
  CHECK(Json(dec, Str(std::string("\x05", 1))) == R"("0.005")");
  CHECK(Json(dec, Str("")) == R"("0.000")");
  // 2^64 = 18446744073709551616: past any machine integer.
  CHECK(Json(R"({"type":"bytes","logicalType":"decimal","precision":30,"scale":0})",
             Str(std::string("\x01\0\0\0\0\0\0\0\0", 9))) == R"("18446744073709551616")");
  CHECK(Json(R"({"type":"long","logicalType":"timestamp-millis"})", Long(1700000000123)) ==
        R"("2023-11-14T22:13:20.123Z")");
  CHECK(Json(R"({"type":"long","logicalType":"timestamp-micros"})", Long(-1)) == R"("1969-12-31T23:59:59.999999Z")");
  CHECK(Json(R"({"type":"long","logicalType":"local-timestamp-millis"})", Long(0)) == R"("1970-01-01T00:00:00.000")");
  CHECK(Json(R"({"type":"int","logicalType":"date"})", Long(19000)) == R"("2022-01-08")");
  CHECK(Json(R"({"type":"int","logicalType":"time-millis"})", Long(3723004)) == R"("01:02:03.004")");
  CHECK(Json(R"({"type":"string","logicalType":"uuid"})", Str("6ba7b810-9dad-11d1-80b4-00c04fd430c8")) ==
        R"("6ba7b810-9dad-11d1-80b4-00c04fd430c8")");
  // A logical type on the wrong type is ignored, as the spec says.
  CHECK(Json(R"({"type":"string","logicalType":"date"})", Str("x")) == R"("x")");
  // spec: the underlying values.
  CHECK(Json(R"({"type":"int","logicalType":"date"})", Long(1), JsonStyle::kSpec) == "1");
}

TEST_CASE("avro: arrays, maps, enums, fixed, named references", "[avro]") {
  const char* s = R"({"type":"record","name":"R","namespace":"a.b","fields":[
    {"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]}},
    {"name":"f","type":{"type":"fixed","name":"F","size":2}},
    {"name":"g","type":"F"},
    {"name":"l","type":{"type":"array","items":"a.b.E"}},
    {"name":"m","type":{"type":"map","values":"int"}}]})";
  // Arrays in two blocks, one with a negative count and its byte size.
  std::string b = Long(1) + "ab" + "cd" + Long(-2) + Long(2) + Long(0) + Long(1) + Long(1) + Long(1) + Long(0) + Long(1) +
                  Str("k") + Long(7) + Long(0);
  CHECK(Json(s, b) == R"({"e":"Y","f":"YWI=","g":"Y2Q=","l":["X","Y","Y"],"m":{"k":7}})");
}

TEST_CASE("avro: recursive schemas and references", "[avro]") {
  const char* list = R"({"type":"record","name":"Node","fields":[{"name":"v","type":"int"},
    {"name":"next","type":["null","Node"]}]})";
  CHECK(Json(list, Long(1) + Long(1) + Long(2) + Long(0)) == R"({"v":1,"next":{"v":2,"next":null}})");
  auto s = Schema::Parse(R"({"type":"record","name":"Outer","fields":[{"name":"m","type":"com.x.Money"}]})",
                         {R"({"type":"record","name":"Money","namespace":"com.x","fields":[{"name":"c","type":"string"}]})"});
  REQUIRE(s.ok());
  std::string out, err;
  REQUIRE((*s)->ToJson(Str("EUR"), JsonStyle::kNatural, &out, &err));
  CHECK(out == R"({"m":{"c":"EUR"}})");
  CHECK_FALSE(Schema::Parse(R"({"type":"record","name":"O","fields":[{"name":"m","type":"Nope"}]})").ok());
}

TEST_CASE("avro: bad input is an error, never a crash", "[avro]") {
  const char* rec = R"({"type":"record","name":"R","fields":[{"name":"a","type":"string"}]})";
  CHECK(Error(rec, Long(100) + "ab").find("past the end") != std::string::npos);
  CHECK(Error(rec, Str("a") + "x").find("left over") != std::string::npos);
  CHECK(Error(rec, Str("\xff\xfe")).find("UTF-8") != std::string::npos);
  CHECK(Error(R"("long")", std::string(11, '\xff')).find("varint") != std::string::npos);
  // Many zero-size items from a few bytes are refused, not looped over.
  CHECK(Error(R"({"type":"array","items":"null"})", Long(INT64_MAX / 2)).find("too many items") != std::string::npos);
  CHECK(Error(R"({"type":"enum","name":"E","symbols":["A"]})", Long(5)).find("out of range") != std::string::npos);
  CHECK_FALSE(Schema::Parse("{").ok());
  CHECK_FALSE(Schema::Parse("[]").ok());
  CHECK_FALSE(Schema::Parse(R"({"type":"fixed","name":"F","size":-1})").ok());
  CHECK_FALSE(Schema::Parse(std::string(5000, '[') + std::string(5000, ']')).ok());
}

Result<std::shared_ptr<const Schema>> P(const char* j) { return Schema::Parse(j); }

TEST_CASE("avro: schema resolution", "[avro]") {
  auto v1 = *P(R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"}]})");
  auto v2 = *P(R"({"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"b","type":"string"}]})");
  auto v3 = *P(R"({"type":"record","name":"ns.R","fields":[{"name":"a","type":"long"},{"name":"b","type":"string","default":"d"}]})");
  CHECK(CheckResolution(*v1, *v3).ok());
  CHECK(CheckResolution(*v1, *v2).message().find("\"b\" has no default") != std::string::npos);
  CHECK(CheckResolution(*v3, *v1).message().find("long cannot be read as int") != std::string::npos);
  CHECK(CheckDatum(*v1, *v3, Long(5)).ok());
  CHECK_FALSE(CheckDatum(*v1, *v3, Long(5) + "x").ok());
  // Unions and enums: only the branch or symbol written matters for one datum.
  auto wu = *P(R"(["null","string","int"])");
  auto ru = *P(R"(["null","long"])");
  CHECK_FALSE(CheckResolution(*wu, *ru).ok());
  CHECK(CheckDatum(*wu, *ru, Long(2) + Long(7)).ok());  // int -> long
  CHECK(CheckDatum(*wu, *ru, Long(1) + Str("s")).message().find("no branch") != std::string::npos);
  auto we = *P(R"({"type":"enum","name":"E","symbols":["A","B","C"]})");
  auto re = *P(R"({"type":"enum","name":"E","symbols":["A","B"]})");
  auto rd = *P(R"({"type":"enum","name":"E","symbols":["A","B"],"default":"A"})");
  CHECK_FALSE(CheckResolution(*we, *re).ok());
  CHECK(CheckResolution(*we, *rd).ok());
  CHECK(CheckDatum(*we, *re, Long(1)).ok());
  CHECK_FALSE(CheckDatum(*we, *re, Long(2)).ok());
  // A writer field the reader drops is skipped, whatever its type.
  auto wide = *P(R"({"type":"record","name":"R","fields":[{"name":"x","type":{"type":"array","items":["null","string"]}},{"name":"a","type":"int"}]})");
  CHECK(CheckDatum(*wide, *v1, Long(2) + Long(1) + Str("q") + Long(0) + Long(0) + Long(9)).ok());
  // Recursive schemas resolve.
  auto node = *P(R"({"type":"record","name":"N","fields":[{"name":"next","type":["null","N"]}]})");
  CHECK(CheckResolution(*node, *node).ok());
}

TEST_CASE("confluent framing", "[avro]") {
  std::string b;
  confluent::AppendHeader(258, &b);
  b += "xyz";
  confluent::Frame f;
  REQUIRE(confluent::ParseFrame(b, &f));
  CHECK(f.schema_id == 258);
  CHECK(f.payload == "xyz");
  CHECK_FALSE(confluent::ParseFrame(std::string("\0\0\0", 3), &f));
  CHECK_FALSE(confluent::ParseFrame("\x01\0\0\0\x01", &f));
}

}  // namespace
}  // namespace evt::avro
