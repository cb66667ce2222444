// lib/kafka/groups: committed offsets, ends and first records of many partitions against
// an in-process mock cluster (lib/jobs/sandbox), ListGroups on a broker without it, and the
// consumer protocol's assignment bytes.
#include "lib/kafka/groups.h"

#include <catch2/catch.hpp>

#include <chrono>

#include "lib/jobs/sandbox.h"
#include "tests/sandbox_cluster.h"
#include "tests/testutil.h"

using namespace evt;
using namespace evt::kafka;

namespace {

using Cluster = test::SandboxCluster;

}  // namespace

TEST_CASE("consumer protocol assignments") {
  // version 1, [("orders", [0, 2]), ("t", [])], user data null
  std::string b("\x00\x01\x00\x00\x00\x02\x00\x06orders\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x02"
                "\x00\x01t\x00\x00\x00\x00\xff\xff\xff\xff",
                37);
  std::vector<TopicPartition> got;
  REQUIRE(ParseConsumerAssignment(b, &got));
  CHECK(got == std::vector<TopicPartition>{{"orders", 0}, {"orders", 2}});
  CHECK(!ParseConsumerAssignment(b.substr(0, 20), &got));               // cut short
  CHECK(!ParseConsumerAssignment(std::string("\x00\x00\xff\xff\xff\xff", 6), &got));  // negative count
  std::string huge("\x00\x00\x00\x00\x00\x01\x00\x01t\x7f\xff\xff\xff", 13);  // a count no bytes back
  CHECK(!ParseConsumerAssignment(huge, &got));
}

TEST_CASE("committed offsets, ends and first records of many partitions on the sandbox") {
  Cluster c("a:8,b:3");
  std::string bs = c.sb->bootstrap();
  for (int32_t p = 0; p < 8; ++p) REQUIRE(test::ProduceWithTimestamps(bs, "a", p, 10, 1'000'000 + p * 100'000));
  REQUIRE(test::ProduceWithTimestamps(bs, "b", 1, 4, 5'000'000));
  REQUIRE(test::CommitOffsets(bs, "g1", {{"a", 0, 3}, {"a", 5, 10}, {"b", 1, 2}}));
  KafkaConfig cfg;
  cfg.timeout_ms = 10000;
  auto gc = GroupClient::Open(bs, cfg, Isolation::kReadCommitted);
  REQUIRE(gc.ok());
  std::vector<TopicMeta> topics;
  REQUIRE((*gc)->Topics(false, &topics).ok());
  REQUIRE(topics.size() == 2);
  CHECK(topics[0].topic == "a");
  CHECK(topics[0].partitions.size() == 8);
  std::vector<TopicPartition> parts;
  for (const auto& t : topics)
    for (int32_t p : t.partitions) parts.emplace_back(t.topic, p);
  std::map<TopicPartition, int64_t> committed;
  REQUIRE((*gc)->Committed("g1", parts, &committed).ok());
  CHECK(committed.size() == 11);
  CHECK(committed[{"a", 0}] == 3);
  CHECK(committed[{"a", 1}] == -1);
  CHECK(committed[{"a", 5}] == 10);
  CHECK(committed[{"b", 1}] == 2);
  std::map<TopicPartition, int64_t> none;
  REQUIRE((*gc)->Committed("nobody", parts, &none).ok());
  for (const auto& [tp, o] : none) CHECK(o == -1);
  std::map<TopicPartition, PartitionEnds> ends;
  REQUIRE((*gc)->Ends(parts, &ends).ok());
  CHECK(ends[{"a", 7}].low == 0);
  CHECK(ends[{"a", 7}].high == 10);
  CHECK(ends[{"a", 7}].lso == 10);  // the mock reports the high watermark as the last stable offset
  CHECK(ends[{"b", 0}].high == 0);
  CHECK(ends[{"b", 1}].high == 4);
  // One consumer, every partition at once.
  std::map<TopicPartition, std::pair<int64_t, int64_t>> want;
  for (int32_t p = 0; p < 8; ++p) want[{"a", p}] = {p, 10};
  want[{"b", 1}] = {2, 4};
  std::map<TopicPartition, FirstRecord> first;
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE((*gc)->FirstRecords(want, &first).ok());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  CHECK(ms < 5000);
  for (int32_t p = 0; p < 8; ++p) {
    INFO("partition " << p);
    CHECK(first[{"a", p}].found);
    CHECK(first[{"a", p}].offset == p);
    CHECK(first[{"a", p}].timestamp == 1'000'000 + p * 100'000 + 1000 * p);
  }
  CHECK(first[{"b", 1}].timestamp == 5'002'000);
  // Asked for a range that ends where the log ends: EOF at the end, no record.
  std::map<TopicPartition, FirstRecord> at_end;
  REQUIRE((*gc)->FirstRecords({{{"a", 0}, {10, 10}}}, &at_end).ok());
  CHECK(!at_end[{"a", 0}].found);
  CHECK(at_end[{"a", 0}].eof);
  CHECK(at_end[{"a", 0}].eof_position == 10);
}

TEST_CASE("first records of more partitions than one reader takes: whole topics to each reader, answers merged") {
  // 520 partitions: "big" (260) alone, c0 and c1 together, c2 on a third reader.
  Cluster c("big:260,c0:100,c1:100,c2:60");
  std::string bs = c.sb->bootstrap();
  const std::vector<std::pair<TopicPartition, int64_t>> produced = {
      {{"big", 0}, 1'000'000}, {{"big", 259}, 2'000'000}, {{"c0", 7}, 3'000'000}, {{"c1", 99}, 4'000'000},
      {{"c2", 30}, 5'000'000}};
  for (const auto& [tp, ts] : produced) REQUIRE(test::ProduceWithTimestamps(bs, tp.first, tp.second, 3, ts));
  KafkaConfig cfg;
  cfg.timeout_ms = 10000;
  auto gc = GroupClient::Open(bs, cfg, Isolation::kReadCommitted);
  REQUIRE(gc.ok());
  std::map<TopicPartition, std::pair<int64_t, int64_t>> want;
  for (const auto& [topic, n] : std::vector<std::pair<std::string, int32_t>>{{"big", 260}, {"c0", 100}, {"c1", 100}, {"c2", 60}})
    for (int32_t p = 0; p < n; ++p) want[{topic, p}] = {0, 1};
  for (const auto& [tp, ts] : produced) want[tp] = {1, 3};
  std::map<TopicPartition, FirstRecord> first;
  REQUIRE((*gc)->FirstRecords(want, &first).ok());
  REQUIRE(first.size() == 520);
  size_t eof = 0;
  for (const auto& [tp, fr] : first) {
    INFO(tp.first << "/" << tp.second);
    CHECK(fr.error.empty());
    if (!fr.found && fr.eof && fr.eof_position == 0) ++eof;
  }
  CHECK(eof == 515);  // the empty partitions: the end at 0
  for (const auto& [tp, ts] : produced) {
    INFO(tp.first << "/" << tp.second);
    CHECK(first[tp].found);
    CHECK(first[tp].offset == 1);
    CHECK(first[tp].timestamp == ts + 1000);
  }
  // Again with other shares: c1 and c2 now go to the reader that had "big" (and c1's
  // partitions stay paused on the reader that had them): still every answer.
  std::map<TopicPartition, std::pair<int64_t, int64_t>> again = {{{"c1", 99}, {0, 3}}, {{"c2", 30}, {2, 3}}};
  std::map<TopicPartition, FirstRecord> second;
  REQUIRE((*gc)->FirstRecords(again, &second).ok());
  CHECK(second[{"c1", 99}].offset == 0);
  CHECK(second[{"c1", 99}].timestamp == 4'000'000);
  CHECK(second[{"c2", 30}].offset == 2);
  CHECK(second[{"c2", 30}].timestamp == 5'002'000);
}

TEST_CASE("ListGroups and DescribeGroups on the sandbox: unsupported, said so") {
  Cluster c("t:1");
  KafkaConfig cfg;
  cfg.timeout_ms = 5000;
  auto gc = GroupClient::Open(c.sb->bootstrap(), cfg, Isolation::kReadCommitted);
  REQUIRE(gc.ok());
  std::vector<GroupInfo> groups;
  Status s = (*gc)->ListGroups(&groups);
  CHECK(s.code() == Code::kUnsupported);
  CHECK(s.message().find("does not answer ListGroups") != std::string::npos);
  GroupInfo gi;
  CHECK((*gc)->DescribeGroup("g", &gi).code() == Code::kUnsupported);
}
