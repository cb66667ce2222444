// lib/sandbox: librdkafka's mock cluster started with topics and loaded from segments and
// JSON Lines through OpenSource; its metadata and records seen by evt's own clients; the
// refusals before anything starts; and the cluster gone once the Sandbox is destroyed.
#include "lib/jobs/sandbox.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "lib/kafka/client.h"
#include "lib/pipeline/read.h"
#include "tests/testutil.h"

using namespace evt;
using namespace evt::kafka;
using evt::test::TempDir;

namespace {

KafkaConfig Config() {
  KafkaConfig cfg;
  cfg.timeout_ms = 10000;
  return cfg;
}

const KafkaTopicInfo* Topic(const KafkaClusterInfo& info, const std::string& name) {
  for (const auto& t : info.topics)
    if (t.topic == name) return &t;
  return nullptr;
}

struct Seen {
  std::string key, value, headers;
  int64_t timestamp;
};

// Every record of a topic of the sandbox, per partition, in offset order.
std::map<int32_t, std::vector<Seen>> Consume(const Sandbox& sb, const std::string& topic) {
  SourceSpec spec;
  spec.paths = {"kafka://" + sb.bootstrap() + "/" + topic};
  spec.kafka = Config();
  CountingReporter rep;
  auto src = OpenSource(spec, &rep);
  REQUIRE(src.ok());
  std::map<int32_t, std::vector<Seen>> out;
  RecordBatch b;
  for (;;) {
    bool eof = false;
    REQUIRE((*src)->Next(&b, &eof).ok());
    if (eof) break;
    for (const Record& r : b.records) {
      CHECK(r.offset == static_cast<int64_t>(out[r.partition].size()));  // renumbered from 0
      std::string hs;
      const Header* h = b.HeadersOf(r);
      for (uint32_t i = 0; i < r.header_count; ++i) hs += fmt::format("{}={};", h[i].key, h[i].value.view());
      out[r.partition].push_back(Seen{r.key.null() ? "<null>" : std::string(r.key.view()),
                                      r.value.null() ? "<null>" : std::string(r.value.view()), hs, r.timestamp});
    }
  }
  return out;
}

}  // namespace

TEST_CASE("sandbox: topics, loads from segments and JSON Lines, metadata, records, stop", "[sandbox]") {
  TempDir tmp;
  // Segments: partitions 0 and 1 of "seg".
  std::vector<test::RecordSpec> p0 = test::SimpleRecords(20, 1000, 4, 16), p1 = test::SimpleRecords(5, 5000, 0, 8);
  p0[3].headers = {{"trace", "abc"}};
  p1[2].null_value = true;
  test::WritePartition(tmp / "seg/seg-0", p0);
  test::WritePartition(tmp / "seg/seg-1", p1);
  // JSON Lines: records for partition 2 (the topic is created with 3) and one without a partition.
  test::WriteFile(tmp / "in.jsonl",
                  "{\"topic\":\"x\",\"partition\":2,\"offset\":50,\"timestamp\":7,\"key\":\"k\",\"value\":{\"a\":1},"
                  "\"headers\":[]}\n"
                  "{\"timestamp\":8,\"key\":null,\"value\":\"no partition\"}\n");

  SandboxOptions o;
  o.topics = *ParseSandboxTopics("empty:2,json:3");
  o.loads = {*ParseSandboxLoad("seg=" + tmp / "seg"), *ParseSandboxLoad("json=" + tmp / "in.jsonl")};
  test::RecordingReporter rep;
  auto sb = Sandbox::Start(o, &rep);
  REQUIRE(sb.ok());
  CHECK(rep.corruptions == 0);
  CHECK((*sb)->loaded() == 27);
  const std::string bootstrap = (*sb)->bootstrap();
  CHECK_THAT(bootstrap, Catch::StartsWith("127.0.0.1:"));

  // Metadata: every topic with its partitions; a loaded topic has as many partitions as
  // its records named (seg: 2), or as --topics asked (json: 3).
  KafkaClusterInfo info;
  REQUIRE(InspectKafka(*ParseKafkaUrl("kafka://" + bootstrap + "/"), Config(), &info).ok());
  REQUIRE(info.broker_list.size() == 1);
  for (const char* t : {"empty", "json", "seg"}) {
    INFO(t);
    REQUIRE(Topic(info, t) != nullptr);
  }
  CHECK(Topic(info, "empty")->partitions.size() == 2);
  CHECK(Topic(info, "json")->partitions.size() == 3);
  CHECK(Topic(info, "seg")->partitions.size() == 2);
  KafkaClusterInfo seg;
  REQUIRE(InspectKafka(*ParseKafkaUrl("kafka://" + bootstrap + "/seg"), Config(), &seg).ok());
  REQUIRE(seg.topics.size() == 1);
  std::map<int32_t, int64_t> high;
  for (const auto& p : seg.topics[0].partitions) high[p.partition] = p.high;
  CHECK(high == std::map<int32_t, int64_t>{{0, 20}, {1, 5}});

  // Records: keys, values, headers and timestamps as loaded, per partition.
  auto got = Consume(**sb, "seg");
  REQUIRE(got[0].size() == 20);
  REQUIRE(got[1].size() == 5);
  CHECK(got[0][3].key == "k3");
  CHECK(got[0][3].value == std::string(16, 'd'));
  CHECK(got[0][3].headers == "trace=abc;");
  CHECK(got[0][3].timestamp == 1003);
  CHECK(got[1][0].key == "<null>");
  CHECK(got[1][2].value == "<null>");
  CHECK(got[1][4].timestamp == 5004);
  auto json = Consume(**sb, "json");
  REQUIRE(json[2].size() == 1);
  CHECK(json[2][0].value == "{\"a\":1}");
  CHECK(json[2][0].timestamp == 7);
  REQUIRE(json[0].size() == 1);  // no partition: the default, 0
  CHECK(json[0][0].value == "no partition");
  CHECK(Consume(**sb, "empty").empty());

  // Stop: the cluster is gone with the Sandbox.
  sb->reset();
  KafkaConfig quick;
  quick.timeout_ms = 500;
  KafkaClusterInfo gone;
  CHECK_FALSE(InspectKafka(*ParseKafkaUrl("kafka://" + bootstrap + "/seg"), quick, &gone).ok());
}

TEST_CASE("sandbox: several brokers", "[sandbox]") {
  SandboxOptions o;
  o.brokers = 3;
  o.topics = *ParseSandboxTopics("t:4");
  CountingReporter rep;
  auto sb = Sandbox::Start(o, &rep);
  REQUIRE(sb.ok());
  const std::string& b = (*sb)->bootstrap();
  CHECK(std::count(b.begin(), b.end(), ',') == 2);
  CHECK((*sb)->loaded() == 0);
  KafkaClusterInfo info;
  REQUIRE(InspectKafka(*ParseKafkaUrl("kafka://" + b + "/t"), Config(), &info).ok());
  CHECK(info.broker_list.size() == 3);
  REQUIRE(info.topics.size() == 1);
  CHECK(info.topics[0].partitions.size() == 4);
  for (const auto& p : info.topics[0].partitions) CHECK(p.replicas.size() == 3);
}

TEST_CASE("sandbox: refusals before a cluster starts", "[sandbox]") {
  TempDir tmp;
  CountingReporter rep;
  SandboxOptions o;
  o.brokers = 0;
  CHECK(Sandbox::Start(o, &rep).status().code() == Code::kInvalidArgument);
  o.brokers = 17;
  CHECK(Sandbox::Start(o, &rep).status().code() == Code::kInvalidArgument);

  SandboxOptions missing;
  missing.loads = {SandboxLoad{"t", tmp / "nope-0"}};
  CHECK_FALSE(Sandbox::Start(missing, &rep).ok());

  // A load that a mock partition could not keep (it silently drops older data): refused,
  // with the number of partitions it would need.
  std::string big;
  const std::string value(1000, 'v');
  for (int i = 0; i < 6000; ++i)
    big += fmt::format("{{\"partition\":0,\"timestamp\":{},\"key\":null,\"value\":\"{}\"}}\n", i, value);
  test::WriteFile(tmp / "big.jsonl", big);
  SandboxOptions large;
  large.loads = {SandboxLoad{"big", tmp / "big.jsonl"}};
  auto s = Sandbox::Start(large, &rep);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == Code::kInvalidArgument);
  CHECK_THAT(s.status().message(), Catch::StartsWith("--load big: partition 0 would hold about "));
  CHECK_THAT(s.status().message(), Catch::Contains("over at least 2 partitions"));
}

TEST_CASE("sandbox: topic and load specs", "[sandbox]") {
  auto t = ParseSandboxTopics("a,b:3,,c-d:10000");
  REQUIRE(t.ok());
  REQUIRE(t->size() == 3);
  CHECK((*t)[0].name == "a");
  CHECK((*t)[0].partitions == 1);
  CHECK((*t)[1].name == "b");
  CHECK((*t)[1].partitions == 3);
  CHECK((*t)[2].name == "c-d");
  CHECK((*t)[2].partitions == 10000);
  CHECK(ParseSandboxTopics("")->empty());
  CHECK_FALSE(ParseSandboxTopics("a:0").ok());
  CHECK_FALSE(ParseSandboxTopics("a:10001").ok());
  CHECK_FALSE(ParseSandboxTopics("a:x").ok());
  CHECK_FALSE(ParseSandboxTopics("a:").ok());
  CHECK_FALSE(ParseSandboxTopics(":3").ok());

  auto l = ParseSandboxLoad("orders=/data/orders-0");
  REQUIRE(l.ok());
  CHECK(l->topic == "orders");
  CHECK(l->path == "/data/orders-0");
  CHECK(ParseSandboxLoad("t=a=b")->path == "a=b");
  CHECK_FALSE(ParseSandboxLoad("orders").ok());
  CHECK_FALSE(ParseSandboxLoad("=path").ok());
  CHECK_FALSE(ParseSandboxLoad("orders=").ok());
}
