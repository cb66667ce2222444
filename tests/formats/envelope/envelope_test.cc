// Unit tests for formats/envelope: UTF-8 and JSON checks, escaping, base64, the writer's
// rendering rules, and the parser (round trips byte for byte).
#include "formats/envelope/envelope.h"

#include <catch2/catch.hpp>

#include <random>
#include <string>

using namespace evt;
using namespace evt::envelope;

namespace {
std::string Line(const RecordBatch& b, const Record& r) {
  std::string s;
  AppendRecord(b, r, &s);
  return s;
}
Record Rec(RecordBatch* b, const char* key, const char* value) {
  Record r;
  r.partition = b->partition;
  r.offset = 7;
  r.timestamp = 1700000000000;
  r.key = key ? Bytes::Of(b->arena.Copy(key)) : Bytes::Null();
  r.value = value ? Bytes::Of(b->arena.Copy(value)) : Bytes::Null();
  r.header_begin = static_cast<uint32_t>(b->headers.size());
  return r;
}
}  // namespace

TEST_CASE("envelope: UTF-8 validation follows RFC 3629", "[envelope]") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("plain ascii text that is long enough for the 8-byte fast path"));
  CHECK(IsValidUtf8("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80"));
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));          // surrogate U+D800
  CHECK_FALSE(IsValidUtf8("\xC0\x80"));              // overlong NUL
  CHECK_FALSE(IsValidUtf8("\xE0\x80\x80"));          // overlong 3-byte
  CHECK_FALSE(IsValidUtf8("\xF0\x80\x80\x80"));      // overlong 4-byte
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));      // above U+10FFFF
  CHECK_FALSE(IsValidUtf8("\xE4\xB8"));              // truncated
  CHECK_FALSE(IsValidUtf8("a\x80"));                 // stray continuation
  CHECK_FALSE(IsValidUtf8("\xFF"));
}

TEST_CASE("envelope: embedding rule validates the whole value", "[envelope]") {
  CHECK(IsEmbeddableJson(R"({"a":1})"));
  CHECK(IsEmbeddableJson(R"([1, {"b" : [true, null]}, "x"])"));
  CHECK(IsEmbeddableJson("{ }"));
  CHECK_FALSE(IsEmbeddableJson(R"({"a":1,"b":tru})"));  // On-Demand would not notice
  CHECK_FALSE(IsEmbeddableJson("{\"a\":\n1}"));         // raw LF
  CHECK_FALSE(IsEmbeddableJson("{\"a\":1}\r"));
  CHECK_FALSE(IsEmbeddableJson(R"({"a":1} x)"));
  CHECK_FALSE(IsEmbeddableJson(R"({"a":1}{"b":2})"));
  CHECK_FALSE(IsEmbeddableJson("\"string\""));
  CHECK_FALSE(IsEmbeddableJson("42"));
  CHECK_FALSE(IsEmbeddableJson(R"({"a":01})"));
  CHECK_FALSE(IsEmbeddableJson(R"({"a":"\x"})"));
  CHECK_FALSE(IsEmbeddableJson("{\"a\":\"\xFF\"}"));
  CHECK(IsEmbeddableJson(std::string(1000, '[') + std::string(1000, ']')));
  CHECK_FALSE(IsEmbeddableJson(std::string(5000, '[') + std::string(5000, ']')));  // nesting limit
}

TEST_CASE("envelope: strings escape only quote, backslash and control bytes", "[envelope]") {
  std::string s;
  AppendJsonString(std::string("a\"b\\c\b\f\n\r\t\x01\x1f\x7f\xC3\xA9/", 16), &s);
  CHECK(s == "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xC3\xA9/\"");
}

TEST_CASE("envelope: base64 round trips and rejects bad input", "[envelope]") {
  std::mt19937 rng(1);
  for (int n = 0; n < 64; ++n) {
    std::string in;
    for (int i = 0; i < n; ++i) in.push_back(static_cast<char>(rng()));
    std::string enc, dec;
    AppendBase64(in, &enc);
    REQUIRE(DecodeBase64(enc, &dec));
    CHECK(dec == in);
  }
  std::string out;
  CHECK_FALSE(DecodeBase64("abc", &out));
  CHECK_FALSE(DecodeBase64("ab!d", &out));
  CHECK_FALSE(DecodeBase64("a===", &out));
  CHECK_FALSE(DecodeBase64("ab=c", &out));
  std::string enc;
  AppendBase64("\xff\xfe", &enc);
  CHECK(enc == "//4=");
}

TEST_CASE("envelope: writer output, field by field", "[envelope]") {
  RecordBatch b;
  b.topic = "orders";
  b.partition = 3;
  CHECK(Line(b, Rec(&b, nullptr, nullptr)) ==
        "{\"topic\":\"orders\",\"partition\":3,\"offset\":7,\"timestamp\":1700000000000,\"key\":null,\"value\":null,\"headers\":[]}\n");
  CHECK(Line(b, Rec(&b, "", "{ \"a\" : [1] }")) ==
        "{\"topic\":\"orders\",\"partition\":3,\"offset\":7,\"timestamp\":1700000000000,\"key\":\"\",\"value\":{ \"a\" : [1] },\"headers\":[]}\n");
  CHECK(Line(b, Rec(&b, "k", "{\"a\":\n1}")).find("\"value\":\"{\\\"a\\\":\\n1}\"") != std::string::npos);
  CHECK(Line(b, Rec(&b, "\xff", "ok")).find("\"key_base64\":\"/w==\",\"value\":\"ok\"") != std::string::npos);
  Record r = Rec(&b, "k", "v");
  r.timestamp_type = TimestampType::kLogAppendTime;
  CHECK(Line(b, r).find("\"timestamp\":1700000000000,\"timestamp_type\":\"LogAppendTime\",\"key\"") != std::string::npos);
  Record h = Rec(&b, "k", "v");
  b.headers.push_back({b.arena.Copy("a"), Bytes::Of(b.arena.Copy("{\"x\":1}"))});
  b.headers.push_back({b.arena.Copy("n"), Bytes::Null()});
  b.headers.push_back({b.arena.Copy("\xfe"), Bytes::Of(b.arena.Copy("\xff"))});
  h.header_count = 3;
  CHECK(Line(b, h).find("\"headers\":[{\"key\":\"a\",\"value\":\"{\\\"x\\\":1}\"},{\"key\":\"n\",\"value\":null},"
                        "{\"key_base64\":\"/g==\",\"value_base64\":\"/w==\"}]}") != std::string::npos);
}

TEST_CASE("envelope: the parser reads what the writer wrote, byte for byte", "[envelope]") {
  std::mt19937 rng(7);
  Parser p;
  for (int iter = 0; iter < 500; ++iter) {
    RecordBatch b;
    b.topic = "t-" + std::to_string(iter % 3);
    b.partition = iter % 5;
    auto bytes = [&](int kind) -> std::string {
      switch (kind) {
        case 0: return "";
        case 1: return R"({"a": [1, 2.5e3, "x\u00e9"], "b": {}})";
        case 2: return "text with \"quotes\" and \n newlines \x01";
        default: {
          std::string s;
          int n = static_cast<int>(rng() % 20);
          for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(rng()));
          return s;
        }
      }
    };
    std::string k = bytes(static_cast<int>(rng() % 4)), v = bytes(static_cast<int>(rng() % 4));
    Record r = Rec(&b, rng() % 5 ? k.c_str() : nullptr, nullptr);
    r.value = rng() % 5 ? Bytes::Of(b.arena.Copy(v)) : Bytes::Null();
    if (!r.key.null()) r.key = Bytes::Of(b.arena.Copy(k));
    r.timestamp_type = rng() % 4 ? TimestampType::kCreateTime : TimestampType::kLogAppendTime;
    int nh = static_cast<int>(rng() % 3);
    for (int i = 0; i < nh; ++i)
      b.headers.push_back({b.arena.Copy(bytes(static_cast<int>(2 + rng() % 2))),
                           rng() % 3 ? Bytes::Of(b.arena.Copy(bytes(static_cast<int>(rng() % 4)))) : Bytes::Null()});
    r.header_count = static_cast<uint32_t>(nh);
    std::string once = Line(b, r);
    RecordBatch b2;
    ParsedRecord pr;
    REQUIRE(p.Parse(std::string_view(once).substr(0, once.size() - 1), &b2, &pr).ok());
    b2.topic = std::string(pr.topic);
    b2.partition = pr.partition;
    CHECK(Line(b2, pr.record) == once);
  }
}

TEST_CASE("envelope: parser defaults, unknown fields and errors", "[envelope]") {
  Parser p;
  RecordBatch b;
  ParsedRecord pr;
  REQUIRE(p.Parse(R"({"value":"v","extra":{"x":[1]}})", &b, &pr).ok());
  CHECK_FALSE(pr.has_topic);
  CHECK(pr.partition == -1);
  CHECK(pr.record.offset == -1);
  CHECK(pr.record.key.null());
  CHECK(pr.record.value.view() == "v");
  REQUIRE(p.Parse(R"({"value":42,"key":true})", &b, &pr).ok());
  CHECK(pr.record.value.view() == "42");
  CHECK(pr.record.key.view() == "true");
  REQUIRE(p.Parse(R"({"value":{ "a" : 1 }  ,"key":null})", &b, &pr).ok());
  CHECK(pr.record.value.view() == R"({ "a" : 1 })");
  CHECK_FALSE(p.Parse("not json", &b, &pr).ok());
  CHECK_FALSE(p.Parse("[1]", &b, &pr).ok());
  CHECK_FALSE(p.Parse(R"({"value":"v"} trailing)", &b, &pr).ok());
  CHECK_FALSE(p.Parse(R"({"value_base64":"!!"})", &b, &pr).ok());
  CHECK_FALSE(p.Parse(R"({"headers":[1]})", &b, &pr).ok());
  CHECK_FALSE(p.Parse(R"({"headers":[{"value":"x"}]})", &b, &pr).ok());
  CHECK_FALSE(p.Parse(R"({"partition":4294967296})", &b, &pr).ok());
  CHECK_FALSE(p.Parse(R"({"timestamp_type":"Other"})", &b, &pr).ok());
  CHECK_FALSE(p.Parse(R"({"value":{"a":tru}})", &b, &pr).ok());
}

TEST_CASE("envelope: errors say in words what is wrong", "[envelope]") {
  Parser p;
  RecordBatch b;
  ParsedRecord pr;
  auto err = [&](std::string_view line) {
    Status s = p.Parse(line, &b, &pr);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == Code::kCorruption);
    CHECK(b.headers.empty());  // nothing of a bad line stays in the batch
    return s.message();
  };
  CHECK(err("not json") == "not JSON");
  CHECK(p.problem() == ParseProblem::kNotJson);
  CHECK(err("{\"value\": tru}") == "not JSON at column 11: unexpected 'tru}'");
  CHECK(err("{\"value\":\"a") == "not JSON: the line ends before the JSON does (is a quote or bracket missing?)");
  CHECK(err("{\"value\":\"v\"} trailing") == "not JSON: text after the end of the JSON value, at column 15: 'trailing'");
  CHECK(err("{\"value\":\"a\tb\"}") == "not JSON at column 12: unexpected a raw control byte 0x09 (escape it, e.g. \\n)");
  CHECK(err("{\"value\":\"\xff\"}") == "not JSON (not valid UTF-8)");
  // Broken text On-Demand stops at a type before reaching is still called not JSON.
  CHECK(err("{\"partition\":\"x\",\"value\":tru}") == "not JSON at column 26: unexpected 'tru}'");
  CHECK(p.problem() == ParseProblem::kNotJson);

  CHECK(err("[1]") == "a JSON array, not an envelope (an envelope is an object such as {\"key\":\"k\",\"value\":\"v\"})");
  CHECK(p.problem() == ParseProblem::kNotObject);
  CHECK(err("42").find("a JSON number, not an envelope") == 0);
  CHECK(err("null").find("null, not an envelope") == 0);
  CHECK(err("\"s\"").find("a JSON string, not an envelope") == 0);
  CHECK(err("true").find("a JSON boolean, not an envelope") == 0);

  CHECK(err(R"({"partition":"x"})") == "partition must be an integer, not \"x\"");
  CHECK(p.problem() == ParseProblem::kBadField);
  CHECK(err(R"({"partition":-2})") == "partition must be between 0 and 2147483647 (or -1: unknown), not -2");
  CHECK(err(R"({"offset":1.5})") == "offset must be an integer, not 1.5");
  CHECK(err(R"({"offset":-3})") == "offset must be 0 or more (or -1: unknown), not -3");
  CHECK(err(R"({"offset":[1]})") == "offset must be an integer, not an array");
  CHECK(err(R"({"topic":7})") == "topic must be a string, not 7");
  CHECK(err(R"({"timestamp":{}})") ==
        "timestamp must be milliseconds since the epoch (an integer) or an RFC 3339 string, not an object");
  CHECK(err(R"({"timestamp_type":"Other"})") ==
        "timestamp_type must be CreateTime, LogAppendTime or NoTimestampType, not \"Other\"");
  CHECK(err(R"({"headers":"h"})") == "headers must be an array of {\"key\":..,\"value\":..} objects, not \"h\"");
  CHECK(err(R"({"headers":[{"key":"a"},1]})") == "headers[1] must be an object {\"key\":..,\"value\":..}, not 1");
  CHECK(err(R"({"headers":[{"key":1}]})") == "headers[0].key must be a string, not 1");
  CHECK(err(R"({"headers":[{"key":"a","value":{"b":1}}]})") == "headers[0].value must be a string or null, not an object");
  CHECK(err(R"({"headers":[{"key":"a"},{"value":"b"}]})") == "headers[1] has no \"key\" (or \"key_base64\")");
  CHECK(err(R"({"key_base64":5})") == "key_base64 must be a base64 string, not 5");
  CHECK(err(R"({"value_base64":"!!"})") == "value_base64 is not valid base64: \"!!\"");
  // A long token is cut at a character boundary.
  std::string long_topic = R"({"partition":")" + std::string(38, 'a') + "\xc3\xa9" + std::string(20, 'b') + R"("})";
  CHECK(err(long_topic) == "partition must be an integer, not \"" + std::string(38, 'a') + "...");

  REQUIRE(p.Parse(R"({"value":"ok"})", &b, &pr).ok());
  CHECK(p.problem() == ParseProblem::kNone);
}

TEST_CASE("envelope: DescribeNotJson", "[envelope]") {
  CHECK(DescribeNotJson("{\"a\":[1,2,{}]}").empty());
  CHECK(DescribeNotJson(" 12 ").empty());
  CHECK(DescribeNotJson("\"s\"").empty());
  CHECK(DescribeNotJson("hello") == "not JSON");
  CHECK(DescribeNotJson("nope") == "not JSON");  // not even the start of a literal
  CHECK(DescribeNotJson("  {x") == "not JSON at column 4: unexpected 'x'");
  CHECK(DescribeNotJson("") == "not JSON (an empty line)");
  CHECK(DescribeNotJson("[1,]") == "not JSON at column 4: unexpected ']'");
  CHECK(DescribeNotJson("12 13") == "not JSON: text after the end of the JSON value, at column 4: '13'");
  CHECK(DescribeNotJson("{\"a\":1") == "not JSON: the line ends before the JSON does (is a quote or bracket missing?)");
}

TEST_CASE("envelope: schema_id, value_format and decode_error are read back", "[envelope]") {
  Parser p;
  RecordBatch b;
  ParsedRecord pr;
  // A decoded Avro string value keeps its JSON token; a decoded null is the text null.
  REQUIRE(p.Parse(R"({"value":"a\"b","schema_id":7,"value_format":"avro"})", &b, &pr).ok());
  CHECK(pr.record.value.view() == R"("a\"b")");
  CHECK(pr.record.schema_id == 7);
  CHECK(pr.record.value_format == static_cast<uint8_t>(ValueFormat::kAvro));
  REQUIRE(p.Parse(R"({"value":null,"value_format":"avro","schema_id":1})", &b, &pr).ok());
  CHECK_FALSE(pr.record.value.null());
  CHECK(pr.record.value.view() == "null");
  REQUIRE(p.Parse(R"({"value":{"a" : 1},"value_format":"json"})", &b, &pr).ok());
  CHECK(pr.record.value.view() == R"({"a" : 1})");
  // Without value_format a string is its bytes, as before.
  REQUIRE(p.Parse(R"({"value":"a\"b","schema_id":7})", &b, &pr).ok());
  CHECK(pr.record.value.view() == "a\"b");
  CHECK(pr.record.value_format == 0);
  // decode_error: the bytes are the stored ones; which part failed.
  REQUIRE(p.Parse(R"({"value_base64":"AAAAAGM=","schema_id":99,"decode_error":"schema id 99 not found"})", &b, &pr).ok());
  CHECK(pr.record.value_format == kFormatFailed);
  REQUIRE(pr.record.decode_error == b.decode_errors.size());
  CHECK(b.decode_errors.back() == "schema id 99 not found");
  REQUIRE(p.Parse(R"({"key_base64":"AA==","value":{"x":1},"value_format":"avro","decode_error":"key: truncated"})", &b, &pr).ok());
  CHECK(pr.record.key_format == kFormatFailed);
  CHECK(pr.record.value_format == static_cast<uint8_t>(ValueFormat::kAvro));
  // What the writer writes comes back the same.
  std::string line;
  AppendRecord(b, pr.record, &line);
  CHECK(line.find(R"("key_base64":"AA==","value":{"x":1},"value_format":"avro","decode_error":"key: truncated")") !=
        std::string::npos);
  CHECK_FALSE(p.Parse(R"({"value_base64":"AA==","value_format":"avro"})", &b, &pr).ok());
  CHECK_FALSE(p.Parse(R"({"value":1,"value_format":"xml"})", &b, &pr).ok());
  CHECK_FALSE(p.Parse(R"({"value":1,"schema_id":-1})", &b, &pr).ok());
}
