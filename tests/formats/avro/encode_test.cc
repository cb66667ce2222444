#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "formats/avro/avro.h"
#include "tests/formats/avro/encoder.h"

namespace evt::avro {
namespace {

using test::avro::Long;
using test::avro::Str;

std::shared_ptr<const Schema> Parse(const char* schema) {
  auto s = Schema::Parse(schema);
  INFO(schema);
  REQUIRE(s.ok());
  return *s;
}

// bytes -> JSON -> bytes gives the same bytes, in both styles; returns the natural JSON.
std::string RoundTrip(const char* schema, const std::string& bytes) {
  auto s = Parse(schema);
  JsonEncoder enc;
  std::string natural;
  for (JsonStyle style : {JsonStyle::kNatural, JsonStyle::kSpec}) {
    std::string json, err, back;
    INFO(schema);
    REQUIRE(s->ToJson(bytes, style, &json, &err));
    INFO(json);
    bool ok = enc.Encode(*s, json, style, &back, &err);
    INFO(err);
    REQUIRE(ok);
    CHECK(back == bytes);
    if (style == JsonStyle::kNatural) natural = json;
  }
  return natural;
}

std::string Encoded(const char* schema, const std::string& json, JsonStyle style = JsonStyle::kNatural) {
  auto s = Parse(schema);
  JsonEncoder enc;
  std::string out, err;
  bool ok = enc.Encode(*s, json, style, &out, &err);
  INFO(err);
  REQUIRE(ok);
  return out;
}

std::string EncodeError(const char* schema, const std::string& json, JsonStyle style = JsonStyle::kNatural) {
  auto s = Parse(schema);
  JsonEncoder enc;
  std::string out, err;
  CHECK_FALSE(enc.Encode(*s, json, style, &out, &err));
  return err;
}

std::string Le64(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  std::string o;
  for (int i = 0; i < 8; ++i) o.push_back(static_cast<char>(u >> (8 * i)));
  return o;
}
std::string Le32(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  std::string o;
  for (int i = 0; i < 4; ++i) o.push_back(static_cast<char>(u >> (8 * i)));
  return o;
}

TEST_CASE("avro encode: primitives round trip", "[avro][encode]") {
  CHECK(RoundTrip(R"("null")", "") == "null");
  CHECK(RoundTrip(R"("boolean")", std::string(1, '\1')) == "true");
  CHECK(RoundTrip(R"("int")", Long(-2147483648LL)) == "-2147483648");
  CHECK(RoundTrip(R"("long")", Long(INT64_MAX)) == "9223372036854775807");
  CHECK(RoundTrip(R"("long")", Long(INT64_MIN)) == "-9223372036854775808");
  CHECK(RoundTrip(R"("string")", Str("h\"é\n")) == "\"h\\\"é\\n\"");
  CHECK(RoundTrip(R"("bytes")", Str(std::string("\0\xff\x80", 3))) == "\"AP+A\"");
  for (double d : {0.0, -0.0, 1.0, 0.1, -1e-300, 1.7976931348623157e308, 5e-324, std::nan(""), HUGE_VAL, -HUGE_VAL})
    RoundTrip(R"("double")", Le64(d));
  CHECK(RoundTrip(R"("double")", Le64(-0.0)) == "-0");
  for (float f : {0.0f, -0.0f, 1.5f, 0.1f, 3.4028235e38f, 1e-45f, -HUGE_VALF})
    RoundTrip(R"("float")", Le32(f));
  CHECK(RoundTrip(R"("double")", Le64(std::nan(""))) == "\"NaN\"");
}

TEST_CASE("avro encode: logical types round trip", "[avro][encode]") {
  const char* dec = R"({"type":"bytes","logicalType":"decimal","precision":40,"scale":3})";
  CHECK(RoundTrip(dec, Str(std::string("\x30\x39", 2))) == R"("12.345")");
  CHECK(RoundTrip(dec, Str(std::string("\xcf\xc7", 2))) == R"("-12.345")");
  CHECK(RoundTrip(dec, Str(std::string("\x00", 1))) == R"("0.000")");
  CHECK(RoundTrip(dec, Str(std::string("\x7f", 1))) == R"("0.127")");
  CHECK(RoundTrip(dec, Str(std::string("\x00\x80", 2))) == R"("0.128")");
  CHECK(RoundTrip(dec, Str(std::string("\xff\x7f", 2))) == R"("-0.129")");
  // python3-avro writes -128 in two bytes (the magnitude's bits and a sign bit).
  CHECK(RoundTrip(dec, Str(std::string("\xff\x80", 2))) == R"("-0.128")");
  CHECK(RoundTrip(dec, Str(std::string("\x01\0\0\0\0\0\0\0\0\0", 10))) == R"("4722366482869645213.696")");
  const char* fdec = R"({"type":"fixed","name":"P","size":4,"logicalType":"decimal","precision":9,"scale":2})";
  CHECK(RoundTrip(fdec, std::string("\xff\xff\xff\x9c", 4)) == R"("-1.00")");
  CHECK(RoundTrip(fdec, std::string("\x80\0\0\0", 4)) == R"("-21474836.48")");
  CHECK(RoundTrip(fdec, std::string("\x7f\xff\xff\xff", 4)) == R"("21474836.47")");
  CHECK(EncodeError(fdec, R"("21474836.48")").find("does not fit the fixed size of 4 bytes") != std::string::npos);
  // Fewer digits than the scale are padded; more are refused.
  CHECK(Encoded(dec, R"("12.3")") == Str(std::string("\x30\x0c", 2)));
  CHECK(Encoded(dec, R"("12")") == Str(std::string("\x2e\xe0", 2)));
  CHECK(EncodeError(dec, R"("1.2345")").find("4 digits after the point, more than the scale 3") != std::string::npos);
  CHECK(EncodeError(dec, R"("1e3")").find("not a decimal number") != std::string::npos);

  CHECK(RoundTrip(R"({"type":"long","logicalType":"timestamp-millis"})", Long(1700000000123)) ==
        R"("2023-11-14T22:13:20.123Z")");
  CHECK(RoundTrip(R"({"type":"long","logicalType":"timestamp-millis"})", Long(INT64_MIN)) ==
        R"("-292275055-05-16T16:47:04.192Z")");
  RoundTrip(R"({"type":"long","logicalType":"timestamp-millis"})", Long(INT64_MAX));
  RoundTrip(R"({"type":"long","logicalType":"timestamp-micros"})", Long(INT64_MIN));
  CHECK(RoundTrip(R"({"type":"long","logicalType":"timestamp-micros"})", Long(-1)) == R"("1969-12-31T23:59:59.999999Z")");
  CHECK(RoundTrip(R"({"type":"long","logicalType":"local-timestamp-millis"})", Long(0)) == R"("1970-01-01T00:00:00.000")");
  RoundTrip(R"({"type":"long","logicalType":"local-timestamp-micros"})", Long(253402300800000000LL));  // year 10000
  CHECK(RoundTrip(R"({"type":"int","logicalType":"date"})", Long(19000)) == R"("2022-01-08")");
  CHECK(RoundTrip(R"({"type":"int","logicalType":"date"})", Long(-719529)) == R"("-1-12-31")");
  RoundTrip(R"({"type":"int","logicalType":"date"})", Long(INT32_MAX));
  RoundTrip(R"({"type":"int","logicalType":"date"})", Long(INT32_MIN));
  CHECK(RoundTrip(R"({"type":"int","logicalType":"time-millis"})", Long(3723004)) == R"("01:02:03.004")");
  CHECK(RoundTrip(R"({"type":"int","logicalType":"time-millis"})", Long(-5)) == "-5");
  CHECK(RoundTrip(R"({"type":"long","logicalType":"time-micros"})", Long(86399999999LL)) == R"("23:59:59.999999")");
  CHECK(RoundTrip(R"({"type":"string","logicalType":"uuid"})", Str("6ba7b810-9dad-11d1-80b4-00c04fd430c8")) ==
        R"("6ba7b810-9dad-11d1-80b4-00c04fd430c8")");
  std::string dur;
  for (uint32_t v : {1u, 2u, 4000000000u})
    for (int i = 0; i < 4; ++i) dur.push_back(static_cast<char>(v >> (8 * i)));
  CHECK(RoundTrip(R"({"type":"fixed","name":"D","size":12,"logicalType":"duration"})", dur) ==
        R"({"months":1,"days":2,"milliseconds":4000000000})");
  // Not a date that exists; not the form evt writes.
  CHECK(EncodeError(R"({"type":"int","logicalType":"date"})", R"("2023-02-30")").find("expected a date") != std::string::npos);
  CHECK(EncodeError(R"({"type":"long","logicalType":"timestamp-millis"})", R"("2023-11-14T22:13:20Z")")
            .find("expected an RFC 3339 time") != std::string::npos);
  // Outside unions, the underlying number is taken too.
  CHECK(Encoded(R"({"type":"long","logicalType":"timestamp-millis"})", "5") == Long(5));
}

TEST_CASE("avro encode: records, arrays, maps, enums, fixed round trip", "[avro][encode]") {
  const char* s = R"({"type":"record","name":"R","namespace":"a.b","fields":[
    {"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]}},
    {"name":"f","type":{"type":"fixed","name":"F","size":2}},
    {"name":"g","type":"F"},
    {"name":"l","type":{"type":"array","items":"a.b.E"}},
    {"name":"m","type":{"type":"map","values":"int"}},
    {"name":"n","type":{"type":"array","items":"int"}}]})";
  std::string b = Long(1) + "ab" + "cd" + Long(3) + Long(0) + Long(1) + Long(1) + Long(0) + Long(2) + Str("k") +
                  Long(7) + Str("") + Long(-1) + Long(0) + Long(0);
  CHECK(RoundTrip(s, b) == R"({"e":"Y","f":"YWI=","g":"Y2Q=","l":["X","Y","Y"],"m":{"k":7,"":-1},"n":[]})");
  // Fields in another order are written in the schema's.
  CHECK(Encoded(s, R"({"n":[],"m":{"k":7,"":-1},"l":["X","Y","Y"],"g":"Y2Q=","f":"YWI=","e":"Y"})") == b);
  CHECK(EncodeError(s, R"({"e":"Z"})").find("e: \"Z\" is not a symbol of enum a.b.E") != std::string::npos);
  CHECK(EncodeError(s, R"({"e":"X","f":"YQ==","g":"Y2Q=","l":[],"m":{},"n":[]})") ==
        "f: 1 bytes for fixed a.b.F of size 2");
  CHECK(EncodeError(s, R"({"e":"X","f":"YWI=","g":"Y2Q=","l":[],"m":{"a":1.5},"n":[]})") ==
        "m[\"a\"]: expected an int, not 1.5");
  CHECK(EncodeError(s, R"({"e":"X","f":"YWI=","g":"Y2Q=","l":[],"m":{},"n":[1,"x"]})") ==
        "n[1]: expected an int, not \"x\"");
  CHECK(EncodeError(s, R"({"e":"X","f":"YWI=","g":"Y2Q=","l":[],"m":{},"n":[],"zz":1})") == "a.b.R has no field \"zz\"");
  CHECK(EncodeError(s, R"({"e":"X","f":"YWI=","g":"Y2Q=","l":[],"m":{}})") ==
        "field \"n\" of a.b.R is missing (and has no default)");
  CHECK(EncodeError(s, "[1").find("not JSON") == 0);
}

TEST_CASE("avro encode: defaults fill missing fields", "[avro][encode]") {
  const char* s = R"({"type":"record","name":"R","fields":[
    {"name":"a","type":"int"},
    {"name":"b","type":["null","string"],"default":null},
    {"name":"c","type":"string","default":"x"},
    {"name":"d","type":"bytes","default":"\u00ff"},
    {"name":"e","type":{"type":"record","name":"In","fields":[{"name":"x","type":"long","default":3}]},"default":{}},
    {"name":"f","type":["long","null"],"default":9},
    {"name":"g","type":"int","default":"oops"}]})";
  CHECK(Encoded(s, R"({"a":1,"g":2})") == Long(1) + Long(0) + Str("x") + Str("\xff") + Long(3) + Long(0) + Long(9) + Long(2));
  CHECK(EncodeError(s, R"({"a":1})").find("field \"g\" of R is missing and its default does not fit") == 0);
}

TEST_CASE("avro encode: union branches", "[avro][encode]") {
  const char* u = R"(["null","int","string",{"type":"record","name":"ns.R","fields":[{"name":"a","type":"int"}]},
    {"type":"map","values":"int"},{"type":"array","items":"string"}])";
  CHECK(RoundTrip(u, Long(0)) == "null");
  CHECK(RoundTrip(u, Long(1) + Long(5)) == "5");
  CHECK(RoundTrip(u, Long(2) + Str("s")) == R"("s")");
  CHECK(RoundTrip(u, Long(3) + Long(7)) == R"({"a":7})");
  // An object that is not the record is the map; the record's shape with a map's values too
  // (first wins: the record, the ambiguity README.md describes).
  CHECK(RoundTrip(u, Long(4) + Long(1) + Str("b") + Long(2) + Long(0)) == R"({"b":2})");
  CHECK(Encoded(u, R"({"a":7})") == Long(3) + Long(7));
  CHECK(RoundTrip(u, Long(5) + Long(0)) == "[]");
  CHECK(EncodeError(u, "1.5").find("fits no branch of the union") != std::string::npos);
  // The spec style names the branch, so it is never ambiguous.
  CHECK(Encoded(u, R"({"map":{"a":7}})", JsonStyle::kSpec) == Long(4) + Long(1) + Str("a") + Long(7) + Long(0));
  CHECK(Encoded(u, R"({"ns.R":{"a":7}})", JsonStyle::kSpec) == Long(3) + Long(7));
  CHECK(EncodeError(u, R"({"long":1})", JsonStyle::kSpec).find("\"long\" is not a branch") != std::string::npos);
  // Logical types tell branches apart: a timestamp string is not the string branch.
  const char* t = R"(["null",{"type":"long","logicalType":"timestamp-millis"},"int","string"])";
  CHECK(RoundTrip(t, Long(1) + Long(0)) == R"("1970-01-01T00:00:00.000Z")");
  CHECK(RoundTrip(t, Long(2) + Long(0)) == "0");
  CHECK(RoundTrip(t, Long(3) + Str("1970-01-01T00:00:00Z")) == R"("1970-01-01T00:00:00Z")");
  const char* d = R"([{"type":"bytes","logicalType":"decimal","precision":5,"scale":2},"double","string"])";
  CHECK(RoundTrip(d, Long(0) + Str("\x01")) == R"("0.01")");
  CHECK(RoundTrip(d, Long(2) + Str("0.1")) == R"("0.1")");
  CHECK(RoundTrip(d, Long(1) + Le64(std::nan(""))) == R"("NaN")");
  // A string before a double takes "NaN": the ambiguity README.md describes.
  CHECK(Encoded(R"(["string","double"])", R"("NaN")") == Long(0) + Str("NaN"));
  // Two records that both fit: the first wins.
  const char* rr = R"([{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]},
                       {"type":"record","name":"B","fields":[{"name":"x","type":"int"}]}])";
  CHECK(Encoded(rr, R"({"x":1})") == Long(0) + Long(1));
  CHECK(Encoded(rr, R"({"B":{"x":1}})", JsonStyle::kSpec) == Long(1) + Long(1));
  // One branch besides null: its own error.
  CHECK(EncodeError(R"({"type":"record","name":"R","fields":[{"name":"o","type":["null","int"]}]})", R"({"o":"x"})") ==
        "o: expected an int, not \"x\"");
}

TEST_CASE("avro encode: recursive schemas", "[avro][encode]") {
  const char* list = R"({"type":"record","name":"Node","fields":[{"name":"v","type":"int"},
    {"name":"next","type":["null","Node"]}]})";
  CHECK(RoundTrip(list, Long(1) + Long(1) + Long(2) + Long(0)) == R"({"v":1,"next":{"v":2,"next":null}})");
}

}  // namespace
}  // namespace evt::avro
