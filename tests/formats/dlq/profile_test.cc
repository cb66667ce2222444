#include "formats/dlq/profile.h"

#include <catch2/catch.hpp>

#include "lib/base/coding.h"

using namespace evt;
using namespace evt::dlq;

namespace {
struct Hs {
  RecordBatch b;
  void Add(const std::string& k, const std::string& v) { b.headers.push_back({b.arena.Copy(k), Bytes::Of(b.arena.Copy(v))}); }
  void AddNull(const std::string& k) { b.headers.push_back({b.arena.Copy(k), Bytes::Null()}); }
  void Decode(DeadLetter* d, Profile forced = Profile::kNone, const HeaderMap* m = nullptr) {
    dlq::Decode(b.headers.data(), static_cast<uint32_t>(b.headers.size()), forced, m, d);
  }
};
std::string I32(int32_t v) {
  std::string s;
  PutFixed32BE(&s, static_cast<uint32_t>(v));
  return s;
}
std::string I64(int64_t v) {
  std::string s;
  PutFixed64BE(&s, static_cast<uint64_t>(v));
  return s;
}
std::string Norm(std::string_view s) {
  std::string o;
  NormaliseMessage(s, &o);
  return o;
}
}  // namespace

TEST_CASE("dlq: Kafka Connect headers are UTF-8 strings", "[dlq]") {
  Hs h;
  h.Add("app", "x");
  h.Add("__connect.errors.topic", "orders");
  h.Add("__connect.errors.partition", "3");
  h.Add("__connect.errors.offset", "1234");
  h.Add("__connect.errors.connector.name", "sink-pg");
  h.Add("__connect.errors.task.id", "1");
  h.Add("__connect.errors.stage", "VALUE_CONVERTER");
  h.Add("__connect.errors.class.name", "io.confluent.connect.avro.AvroConverter");
  h.Add("__connect.errors.exception.class.name", "org.apache.kafka.connect.errors.DataException");
  h.Add("__connect.errors.exception.message", "Failed to deserialize data for topic orders to Avro");
  h.Add("__connect.errors.exception.stacktrace",
        "org.apache.kafka.connect.errors.DataException: Failed\n\tat io.confluent.X.toConnectData(X.java:42)\n\tat y\n");
  DeadLetter d;
  h.Decode(&d);
  CHECK(d.profile == Profile::kConnect);
  CHECK(d.problems.empty());
  CHECK(d.has_coordinates());
  CHECK(d.topic == "orders");
  CHECK(d.partition == 3);
  CHECK(d.offset == 1234);
  CHECK(d.connector == "sink-pg");
  CHECK(d.task == 1);
  CHECK(d.stage == "VALUE_CONVERTER");
  CHECK(d.error_class == "org.apache.kafka.connect.errors.DataException");
  CHECK(FirstFrame(d.stacktrace) == "at io.confluent.X.toConnectData(X.java:42)");
}

TEST_CASE("dlq: evt backfill's dead letters are Connect's headers plus evt.dlq.*", "[dlq]") {
  Hs h;
  h.Add("__connect.errors.topic", "orders");
  h.Add("__connect.errors.partition", "0");
  h.Add("__connect.errors.offset", "7");
  h.Add("__connect.errors.exception.message", "exit 3");
  h.Add("__connect.errors.exception.class.name", "evt.backfill.WorkerFailure");
  h.Add("evt.dlq.attempts", "3");
  h.Add("evt.dlq.time", "2024-03-01T00:00:00.000Z");
  DeadLetter d;
  h.Decode(&d);
  CHECK(d.profile == Profile::kEvt);
  CHECK(d.problems.empty());
  CHECK(d.attempts == 3);
  CHECK(d.dlq_time == "2024-03-01T00:00:00.000Z");
  CHECK(d.offset == 7);
}

TEST_CASE("dlq: Spring's coordinates are big-endian binary", "[dlq]") {
  Hs h;
  h.Add("kafka_dlt-original-topic", "payments");
  h.Add("kafka_dlt-original-partition", I32(5));
  h.Add("kafka_dlt-original-offset", I64(9876543210));
  h.Add("kafka_dlt-original-timestamp", I64(1709251200000));
  h.Add("kafka_dlt-original-timestamp-type", "CreateTime");
  h.Add("kafka_dlt-original-consumer-group", "billing");
  h.Add("kafka_dlt-exception-fqcn", "org.springframework.kafka.listener.ListenerExecutionFailedException");
  h.Add("kafka_dlt-exception-cause-fqcn", "java.lang.IllegalStateException");
  h.Add("kafka_dlt-exception-message", "Listener failed; amount -3 < 0");
  h.Add("retry_topic-attempts", I32(4));
  DeadLetter d;
  h.Decode(&d);
  CHECK(d.profile == Profile::kSpring);
  CHECK(d.problems.empty());
  CHECK(d.topic == "payments");
  CHECK(d.partition == 5);
  CHECK(d.offset == 9876543210);
  CHECK(d.timestamp == 1709251200000);
  CHECK(d.group == "billing");
  CHECK(d.cause_class == "java.lang.IllegalStateException");
  CHECK(d.attempts == 4);
}

TEST_CASE("dlq: a binary header of the wrong size or a missing one is a problem, never a number", "[dlq]") {
  Hs h;
  h.Add("kafka_dlt-original-topic", "payments");
  h.Add("kafka_dlt-original-partition", "5");          // text where Spring writes 4 bytes
  h.Add("kafka_dlt-original-timestamp", I32(17));     // 4 bytes where 8 are expected
  DeadLetter d;
  h.Decode(&d);
  CHECK(d.profile == Profile::kSpring);
  CHECK(d.partition == -1);
  CHECK(d.offset == -1);
  CHECK(d.timestamp == -1);
  CHECK_FALSE(d.has_coordinates());
  REQUIRE(d.problems.size() == 3);
  CHECK(d.problems[0].header == "kafka_dlt-original-partition");
  CHECK(d.problems[0].what == "1 byte, expected a 4-byte big-endian int32");
  CHECK(d.problems[1].header == "kafka_dlt-original-timestamp");
  CHECK(d.problems[1].what.find("4 bytes, expected an 8-byte big-endian int64") == 0);
  CHECK(d.problems[2].header == "kafka_dlt-original-offset");
  CHECK(d.problems[2].what == "missing");

  // Binary where Connect writes text: reported, with what it would be as binary.
  Hs c;
  c.Add("__connect.errors.topic", "t");
  c.Add("__connect.errors.partition", I32(2));
  c.Add("__connect.errors.offset", "12x");
  c.AddNull("__connect.errors.exception.message");
  DeadLetter e;
  c.Decode(&e);
  REQUIRE(e.problems.size() == 2);
  CHECK(e.problems[0].what.find("as a big-endian int32 it would be 2") != std::string::npos);
  CHECK(e.problems[1].what == "'12x' is not a decimal number");
  CHECK(e.partition == -1);
  CHECK(e.offset == -1);

  // Out of range, negative, null.
  Hs n;
  n.Add("kafka_dlt-original-topic", "t");
  n.Add("kafka_dlt-original-partition", I32(-1));
  n.AddNull("kafka_dlt-original-offset");
  DeadLetter f;
  n.Decode(&f);
  CHECK(f.problems.size() == 2);
  CHECK(f.partition == -1);
}

TEST_CASE("dlq: Kafka Streams (KIP-1034) and forcing a profile", "[dlq]") {
  Hs h;
  h.Add("__streams.errors.exception", "org.apache.kafka.common.errors.SerializationException");
  h.Add("__streams.errors.message", "Size of data received by IntegerDeserializer is not 4");
  h.Add("__streams.errors.topic", "clicks");
  h.Add("__streams.errors.partition", "1");
  h.Add("__streams.errors.offset", "55");
  DeadLetter d;
  h.Decode(&d);
  CHECK(d.profile == Profile::kStreams);
  CHECK(d.problems.empty());
  CHECK(d.offset == 55);
  h.Decode(&d, Profile::kSpring);  // forced: none of Spring's headers are there
  CHECK(d.profile == Profile::kSpring);
  CHECK(d.problems.size() == 3);
  CHECK_FALSE(d.has_coordinates());
  Hs none;
  none.Add("a", "b");
  none.Decode(&d);
  CHECK(d.profile == Profile::kNone);
  CHECK(d.problems.empty());
  CHECK_FALSE(d.has_coordinates());
}

TEST_CASE("dlq: --header-map for home-made dead letters", "[dlq]") {
  HeaderMap m;
  REQUIRE(ParseHeaderMap("original.topic=x-topic,original.partition=x-part:int32,original.offset=x-off:int64,"
                         "error.class=x-err,error.message=x-msg",
                         &m)
              .ok());
  CHECK(m.partition.encoding == Encoding::kInt32);
  Hs h;
  h.Add("x-topic", "orders");
  h.Add("x-part", I32(2));
  h.Add("x-off", I64(40));
  h.Add("x-err", "Boom");
  h.Add("x-msg", "id 42 failed");
  h.Add("keep", "me");
  DeadLetter d;
  h.Decode(&d, Profile::kNone, &m);
  CHECK(d.profile == Profile::kCustom);
  CHECK(d.problems.empty());
  CHECK(d.partition == 2);
  CHECK(d.offset == 40);
  CHECK(d.error_class == "Boom");
  CHECK(IsDeadLetterHeader("x-off", &m));
  CHECK_FALSE(IsDeadLetterHeader("keep", &m));
  CHECK(IsDeadLetterHeader("kafka_dlt-original-offset", nullptr));
  CHECK(IsDeadLetterHeader("evt.redrive.count", nullptr));
  CHECK_FALSE(IsDeadLetterHeader("evt.source", nullptr));

  CHECK_FALSE(ParseHeaderMap("original.topic", &m).ok());
  CHECK_FALSE(ParseHeaderMap("bogus=h", &m).ok());
  CHECK_FALSE(ParseHeaderMap("error.class=h:int32", &m).ok());
  CHECK_FALSE(ParseHeaderMap("original.offset=:int64", &m).ok());
  CHECK_FALSE(ParseHeaderMap("", &m).ok());
  // A header name with a colon that is not an encoding keeps it.
  REQUIRE(ParseHeaderMap("original.topic=a:b", &m).ok());
  CHECK(m.topic.header == "a:b");
}

TEST_CASE("dlq: evt.redrive.count is read, a wrong one reported", "[dlq]") {
  Hs h;
  h.Add("__connect.errors.topic", "t");
  h.Add("__connect.errors.partition", "0");
  h.Add("__connect.errors.offset", "1");
  h.Add("evt.redrive.count", "2");
  h.Add("evt.redrive.id", "abc");
  DeadLetter d;
  h.Decode(&d);
  CHECK(d.redrive_count == 2);
  CHECK(d.redrive_id == "abc");
  Hs w;
  w.Add("evt.redrive.count", "many");
  w.Decode(&d);
  CHECK(d.redrive_count == 0);
  CHECK(d.problems.size() == 1);
}

TEST_CASE("dlq: fingerprints group one cause with different numbers, ids and values", "[dlq]") {
  CHECK(Norm("offset 1234 bad") == Norm("offset 99 bad"));
  CHECK(Norm("offset 1234 bad") == "offset <n> bad");
  CHECK(Norm("order 3f2c1a9e-77b1-4c1e-9a43-0c5d2e6f7a81 not found") == "order <uuid> not found");
  CHECK(Norm("hash deadbeef12 at 0x7ffe12") == "hash <hex> at <hex>");
  CHECK(Norm("field 'amount' was \"abc\"") == "field '?' was \"?\"");
  CHECK(Norm("can't parse 12") == "can't parse <n>");
  CHECK(Norm("Base64 utf8 decode failed at 2024-03-01T10:00:00.5Z") == "Base64 utf8 decode failed at <n>-<n>-<n>T<n>:<n>:<n>.<n>Z");
  CHECK(Norm("topic orders-7 partition=3") == "topic orders-<n> partition=<n>");
  CHECK(Norm("amount -3 < 0") == Norm("amount 0 < 0"));
  CHECK(Norm("a - 3 -x") == "a - <n> -x");
  CHECK(Norm("") == "");
  CHECK(Norm("'unterminated 5") == "'unterminated <n>");
  const std::string a = Fingerprint("E", Norm("offset 1 bad")), b = Fingerprint("E", Norm("offset 2 bad"));
  CHECK(a == b);
  CHECK(a.size() == 12);
  CHECK(a != Fingerprint("E", Norm("offset 1 worse")));
  CHECK(a != Fingerprint("F", Norm("offset 1 bad")));
  CHECK(FirstFrame("no frames here") == "");
  // Hostile input: binary bytes, long runs, lone quotes.
  std::string junk(5000, '\'');
  junk += std::string("\0\xff\x80", 3);
  CHECK_NOTHROW(Norm(junk));
}
