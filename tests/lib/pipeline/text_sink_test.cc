// lib/text_sink: ParseTextFormat and TextSink's four outputs (envelope, value, CloudEvents,
// template) for records with a null key, a binary value, headers and a tombstone, compared
// byte for byte; WriteRange, Flush/Sync/Close on a real file, and write errors.
#include "lib/pipeline/text_sink.h"

#include <catch2/catch.hpp>

#include "tests/testutil.h"

using namespace evt;
using namespace evt::test;

namespace {

const std::string kBinary("\xff\x00\n", 3);  // not UTF-8, holds a NUL and a newline

// orders/3, offsets 10..12, timestamps 1700000000000 + i (2023-11-14T22:13:20.00iZ):
//  10: key user-7, JSON value, headers trace=abc and content-type=application/json
//  11: null key, binary value, no headers
//  12: key k, null value (a tombstone), one header with a null value
void Fill(RecordBatch* b) {
  b->Clear();
  b->topic = "orders";
  b->partition = 3;
  RecordSpec a;
  a.offset = 10;
  a.timestamp = 1700000000000;
  a.key = "user-7";
  a.value = "{\"amount\":5}";
  a.headers = {{"trace", "abc"}, {"content-type", "application/json"}};
  AddRecord(b, a);
  RecordSpec n;
  n.offset = 11;
  n.timestamp = 1700000000001;
  n.value = kBinary;
  AddRecord(b, n);
  RecordSpec t;
  t.offset = 12;
  t.timestamp = 1700000000002;
  t.key = "k";
  t.null_value = true;
  t.headers = {{"h", "?"}};
  AddRecord(b, t);
  b->headers.back().value = Bytes::Null();
}

// Renders the batch [begin, end) with `format` into a file and returns the file's bytes.
std::string Render(const std::string& format, size_t begin = 0, size_t end = 3) {
  TempDir tmp;
  auto fmt = ParseTextFormat(format);
  REQUIRE(fmt.ok());
  auto file = WritableFile::Open(tmp / "out", false);
  REQUIRE(file.ok());
  auto sink = TextSink::Create(*fmt, std::move(*file));
  REQUIRE(sink.ok());
  RecordBatch b;
  Fill(&b);
  if (begin == 0 && end == b.records.size()) {
    REQUIRE((*sink)->Write(b).ok());
  } else {
    REQUIRE((*sink)->WriteRange(b, begin, end).ok());
  }
  CHECK((*sink)->records_written() == end - begin);
  REQUIRE((*sink)->Close().ok());
  return ReadFile(tmp / "out");
}

}  // namespace

TEST_CASE("text sink: envelope", "[text_sink]") {
  std::string want =
      "{\"topic\":\"orders\",\"partition\":3,\"offset\":10,\"timestamp\":1700000000000,\"key\":\"user-7\","
      "\"value\":{\"amount\":5},\"headers\":[{\"key\":\"trace\",\"value\":\"abc\"},"
      "{\"key\":\"content-type\",\"value\":\"application/json\"}]}\n"
      "{\"topic\":\"orders\",\"partition\":3,\"offset\":11,\"timestamp\":1700000000001,\"key\":null,"
      "\"value_base64\":\"/wAK\",\"headers\":[]}\n"
      "{\"topic\":\"orders\",\"partition\":3,\"offset\":12,\"timestamp\":1700000000002,\"key\":\"k\","
      "\"value\":null,\"headers\":[{\"key\":\"h\",\"value\":null}]}\n";
  CHECK(Render("envelope") == want);
  CHECK(Render("json") == want);
  CHECK(Render("jsonl") == want);
}

TEST_CASE("text sink: value", "[text_sink]") {
  // Raw bytes and a newline each; a null value is an empty line.
  CHECK(Render("value") == "{\"amount\":5}\n" + kBinary + "\n" + "\n");
}

TEST_CASE("text sink: CloudEvents", "[text_sink]") {
  CHECK(Render("cloudevents") ==
        "{\"specversion\":\"1.0\",\"id\":\"orders-3-10\",\"source\":\"kafka://orders/3\",\"type\":\"kafka.record\","
        "\"time\":\"2023-11-14T22:13:20.000Z\",\"datacontenttype\":\"application/json\",\"partitionkey\":\"user-7\","
        "\"data\":{\"amount\":5}}\n"
        "{\"specversion\":\"1.0\",\"id\":\"orders-3-11\",\"source\":\"kafka://orders/3\",\"type\":\"kafka.record\","
        "\"time\":\"2023-11-14T22:13:20.001Z\",\"data_base64\":\"/wAK\"}\n"
        "{\"specversion\":\"1.0\",\"id\":\"orders-3-12\",\"source\":\"kafka://orders/3\",\"type\":\"kafka.record\","
        "\"time\":\"2023-11-14T22:13:20.002Z\",\"partitionkey\":\"k\"}\n");
}

TEST_CASE("text sink: template", "[text_sink]") {
  CHECK(Render("%t/%p@%o %T %T{iso} %K:%k %S %h\\n") ==
        "orders/3@10 1700000000000 2023-11-14T22:13:20.000Z 6:user-7 12 trace=abc,content-type=application/json\n"
        "orders/3@11 1700000000001 2023-11-14T22:13:20.001Z -1: 3 \n"
        "orders/3@12 1700000000002 2023-11-14T22:13:20.002Z 1:k -1 h=NULL\n");
  // Nothing is added after a record: the template's own bytes only.
  CHECK(Render("[%v]") == "[{\"amount\":5}][" + kBinary + "][]");
  CHECK(Render("100%%\\t%o\\n") == "100%\t10\n100%\t11\n100%\t12\n");
}

TEST_CASE("text sink: WriteRange writes only its records", "[text_sink]") {
  CHECK(Render("%o\\n", 1, 3) == "11\n12\n");
  CHECK(Render("%o\\n", 2, 3) == "12\n");
  CHECK(Render("%o\\n", 1, 1).empty());
  CHECK(Render("value", 0, 1) == "{\"amount\":5}\n");
}

TEST_CASE("text sink: output larger than its buffer arrives whole and in order", "[text_sink]") {
  TempDir tmp;
  auto sink = TextSink::Create(*ParseTextFormat("value"), std::move(*WritableFile::Open(tmp / "out", false)));
  REQUIRE(sink.ok());
  RecordBatch b;
  b.topic = "t";
  b.partition = 0;
  std::string want;
  for (int i = 0; i < 3000; ++i) {
    RecordSpec s;
    s.value = std::to_string(i) + std::string(1000, 'x');
    want += s.value + "\n";
    AddRecord(&b, s);
  }
  REQUIRE((*sink)->Write(b).ok());
  REQUIRE((*sink)->Write(b).ok());
  CHECK((*sink)->records_written() == 6000);
  REQUIRE((*sink)->Close().ok());
  CHECK(ReadFile(tmp / "out") == want + want);
}

TEST_CASE("text sink: Flush and Sync put what was written into the file before Close", "[text_sink]") {
  TempDir tmp;
  auto sink = TextSink::Create(*ParseTextFormat("%o\\n"), std::move(*WritableFile::Open(tmp / "out", false)));
  REQUIRE(sink.ok());
  RecordBatch b;
  Fill(&b);
  REQUIRE((*sink)->WriteRange(b, 0, 1).ok());
  REQUIRE((*sink)->Flush().ok());
  CHECK(ReadFile(tmp / "out") == "10\n");
  REQUIRE((*sink)->WriteRange(b, 1, 3).ok());
  REQUIRE((*sink)->Sync().ok());
  CHECK(ReadFile(tmp / "out") == "10\n11\n12\n");
  REQUIRE((*sink)->Close().ok());
  CHECK(ReadFile(tmp / "out") == "10\n11\n12\n");
}

TEST_CASE("text sink: a write that fails is an error, not silence", "[text_sink]") {
  if (!PathExists("/dev/full")) return;  // Linux's always-full device
  auto file = WritableFile::Open("/dev/full", false);
  REQUIRE(file.ok());
  auto sink = TextSink::Create(*ParseTextFormat("value"), std::move(*file));
  REQUIRE(sink.ok());
  RecordBatch b;
  Fill(&b);
  Status w = (*sink)->Write(b);  // buffered: may succeed
  Status f = w.ok() ? (*sink)->Flush() : w;
  CHECK_FALSE(f.ok());
  (void)(*sink)->Close();
}

TEST_CASE("ParseTextFormat: names, templates and errors", "[text_sink]") {
  CHECK(ParseTextFormat("envelope")->kind == OutputFormat::kEnvelope);
  CHECK(ParseTextFormat("json")->kind == OutputFormat::kEnvelope);
  CHECK(ParseTextFormat("value")->kind == OutputFormat::kValue);
  CHECK(ParseTextFormat("cloudevents")->kind == OutputFormat::kCloudEvents);
  auto t = ParseTextFormat("%k=%v\\n");
  REQUIRE(t.ok());
  CHECK(t->kind == OutputFormat::kTemplate);
  CHECK(t->template_text == "%k=%v\\n");

  auto unknown = ParseTextFormat("yaml");
  CHECK(unknown.status().code() == Code::kInvalidArgument);
  CHECK(unknown.status().message() ==
        "unknown format 'yaml': use envelope, value, cloudevents, or a template such as '%k %v\\n'");
  auto bad = ParseTextFormat("100%% %x");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "unknown template token '%x' at position 6: use %t %p %o %T %T{iso} %k %v %K %S %h or %%");
  CHECK_FALSE(ParseTextFormat("ends with %").ok());
  // Create refuses a template it cannot parse, too (a TextFormat built by hand).
  TextFormat hand;
  hand.kind = OutputFormat::kTemplate;
  hand.template_text = "%q";
  TempDir tmp;
  CHECK_FALSE(TextSink::Create(hand, std::move(*WritableFile::Open(tmp / "out", false))).ok());
}
