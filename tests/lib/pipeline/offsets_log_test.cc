#include "lib/pipeline/offsets_log.h"

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "formats/kafka/batch.h"
#include "tests/formats/kafka_internal/encoder.h"
#include "tests/testutil.h"

namespace evt {
namespace {

using test::Enc;

std::string CommitKey(const char* group, const char* topic, int32_t p) {
  return Enc().i16(1).str(group).str(topic).i32(p).out();
}
std::string CommitValue3(int64_t offset, int64_t ts) { return Enc().i16(3).i64(offset).i32(4).str("m").i64(ts).out(); }
std::string CommitValue1(int64_t offset, int64_t ts, int64_t expire) {
  return Enc().i16(1).i64(offset).str("").i64(ts).i64(expire).out();
}

test::RecordSpec Rec(const std::string& key, const std::string* value) {
  test::RecordSpec s;
  s.has_key = true;
  s.key_bytes = key;
  if (value) s.value = *value; else s.null_value = true;
  s.timestamp = 1000;
  return s;
}

// A segment being written batch by batch, offsets counted.
struct Log {
  std::string bytes;
  int64_t next = 0;
  void Add(std::vector<test::RecordSpec> recs, int64_t pid = -1, bool txn = false, bool control = false) {
    RecordBatch b;
    for (auto& r : recs) test::AddRecord(&b, r);
    kafka::EncodeOptions eo;
    eo.codec = next % 2 ? kafka::kZstd : kafka::kNone;
    eo.producer_id = pid;
    eo.producer_epoch = pid >= 0 ? 0 : -1;
    eo.base_sequence = pid >= 0 && !control ? 0 : -1;
    eo.transactional = txn;
    eo.control = control;
    REQUIRE(kafka::EncodeBatch(b, 0, b.records.size(), next, false, eo, &bytes, nullptr).ok());
    next += static_cast<int64_t>(recs.size());
  }
  void Marker(int64_t pid, bool commit) {
    test::RecordSpec s;
    s.has_key = true;
    s.key_bytes = std::string("\0\0\0", 3) + (commit ? '\1' : '\0');
    s.value = std::string("\0\0\0\0\0\0", 6);
    Add({s}, pid, true, true);
  }
  void Write(const std::string& dir) {
    ::mkdir(dir.c_str(), 0755);
    test::WriteFile(dir + "/00000000000000000000.log", bytes);
  }
};

TEST_CASE("ReadCommittedOffsets: the latest commit per group, topic and partition") {
  test::TempDir tmp;
  std::string v5 = CommitValue3(5, 100), v7 = CommitValue3(7, 200), v3 = CommitValue3(3, 150),
              v11 = CommitValue3(11, 300), v12 = CommitValue3(12, 310), v1 = CommitValue3(1, 320),
              v99 = CommitValue1(99, 400, 900), bad = Enc().i16(7).i64(1).out(),
              group = Enc().i16(3).str("consumer").i32(1).str("range").str("m").i64(0).count(0).out();
  Log p0;
  p0.Add({Rec(CommitKey("g1", "orders", 0), &v5), Rec(CommitKey("g1", "orders", 1), &v3)});
  p0.Add({Rec(Enc().i16(2).str("g1").out(), &group)});
  p0.Add({Rec(CommitKey("g1", "orders", 0), &v7), Rec(CommitKey("g1", "orders", 1), nullptr)});
  // Transactional commits: producer 9 commits, 10 aborts, 11 never finishes.
  p0.Add({Rec(CommitKey("g2", "orders", 0), &v11)}, 9, true);
  p0.Add({Rec(CommitKey("g2", "orders", 1), &v12)}, 10, true);
  p0.Add({Rec(CommitKey("g3", "x", 0), &v1)}, 11, true);
  p0.Marker(10, false);
  p0.Marker(9, true);
  // A value of a version evt does not know, and a record type it does not know.
  p0.Add({Rec(CommitKey("g5", "x", 0), &bad), Rec(Enc().i16(6).str("g").out(), &v5)});
  p0.Write(tmp / "__consumer_offsets-0");
  Log p1;
  p1.Add({Rec(CommitKey("g4", "t", 0), &v99)});
  p1.Write(tmp / "__consumer_offsets-1");
  Log other;  // not an internal topic: ignored
  other.Add({Rec(CommitKey("gx", "t", 0), &v99)});
  other.Write(tmp / "orders-0");

  CountingReporter rep;
  std::vector<CommittedOffset> out;
  OffsetsLogStats st;
  REQUIRE(ReadCommittedOffsets({tmp.path()}, &rep, &out, &st).ok());
  REQUIRE(out.size() == 3);
  CHECK(out[0].group == "g1");
  CHECK(out[0].topic == "orders");
  CHECK(out[0].partition == 0);
  CHECK(out[0].offset == 7);
  CHECK(out[0].commit_timestamp == 200);
  CHECK(out[0].leader_epoch == 4);
  CHECK(out[0].metadata == "m");
  CHECK(out[0].value_version == 3);
  CHECK(out[0].log_partition == 0);
  CHECK(out[0].log_offset == 3);
  CHECK(out[1].group == "g2");
  CHECK(out[1].partition == 0);
  CHECK(out[1].offset == 11);
  CHECK(out[2].group == "g4");
  CHECK(out[2].offset == 99);
  CHECK(out[2].commit_timestamp == 400);
  CHECK(out[2].expire_timestamp == 900);
  CHECK(out[2].leader_epoch == -1);
  CHECK(out[2].log_partition == 1);
  CHECK(st.partitions == 2);
  CHECK(st.records == 11);
  CHECK(st.commits == 5);
  CHECK(st.tombstones == 1);
  CHECK(st.group_records == 1);
  CHECK(st.not_decoded == 2);
  CHECK(st.aborted == 1);
  CHECK(st.pending == 1);

  // A partition directory given directly.
  REQUIRE(ReadCommittedOffsets({tmp / "__consumer_offsets-1"}, &rep, &out, &st).ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].group == "g4");
}

TEST_CASE("ReadCommittedOffsets: a tombstone after the last commit deletes it; re-commits bring it back") {
  test::TempDir tmp;
  std::string a = CommitValue3(1, 10), b = CommitValue3(2, 20);
  Log p;
  p.Add({Rec(CommitKey("g", "t", 0), &a)});
  p.Add({Rec(CommitKey("g", "t", 0), nullptr)});
  p.Add({Rec(CommitKey("g", "t", 1), &a), Rec(CommitKey("g", "t", 1), nullptr), Rec(CommitKey("g", "t", 1), &b)});
  p.Write(tmp / "__consumer_offsets-7");
  CountingReporter rep;
  std::vector<CommittedOffset> out;
  OffsetsLogStats st;
  REQUIRE(ReadCommittedOffsets({tmp.path()}, &rep, &out, &st).ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].partition == 1);
  CHECK(out[0].offset == 2);
  CHECK(out[0].log_partition == 7);
  CHECK(out[0].log_offset == 4);
  CHECK(st.tombstones == 2);
}

TEST_CASE("ReadCommittedOffsets: no __consumer_offsets partition is NotFound; corruption is reported") {
  test::TempDir tmp;
  std::string v = CommitValue3(1, 1);
  Log other;
  other.Add({Rec(CommitKey("g", "t", 0), &v)});
  other.Write(tmp / "orders-0");
  CountingReporter rep;
  std::vector<CommittedOffset> out;
  OffsetsLogStats st;
  Status s = ReadCommittedOffsets({tmp.path()}, &rep, &out, &st);
  CHECK(s.code() == Code::kNotFound);
  CHECK(s.message().find("no __consumer_offsets-N partition directory") != std::string::npos);

  Log p;
  p.Add({Rec(CommitKey("g", "t", 0), &v)});
  p.Add({Rec(CommitKey("g", "t", 1), &v)});
  test::FlipByte(&p.bytes, p.bytes.size() - 3);  // inside the second batch: its CRC fails
  p.Write(tmp / "__consumer_offsets-0");
  s = ReadCommittedOffsets({tmp.path()}, &rep, &out, &st);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().find("__consumer_offsets-0/00000000000000000000.log@") != std::string::npos);
}

// Real broker data dirs (../shared/corpus). The expected commits were read by hand from the
// segments' bytes (xxd) and agree with `evt cat`; see tests/e2e/offsets_corpus.sh.
TEST_CASE("ReadCommittedOffsets: real data directories from the corpus") {
  const std::string corpus = test::CorpusDir();
  if (corpus.empty()) {
    WARN("SKIP: corpus not found (expected ../shared/corpus beside the project)");
    return;
  }
  CountingReporter rep;
  std::vector<CommittedOffset> out;
  OffsetsLogStats st;
  // kafkafun (ZooKeeper-mode broker, 2020): three groups reading `first` (3 partitions) and
  // `first_topic`, spread over 5 __consumer_offsets partitions.
  REQUIRE(ReadCommittedOffsets({corpus + "/real/kafkafun"}, &rep, &out, &st).ok());
  std::vector<std::string> got;
  for (const auto& c : out)
    got.push_back(c.group + "/" + c.topic + "/" + std::to_string(c.partition) + "=" + std::to_string(c.offset) +
                  "@" + std::to_string(c.commit_timestamp));
  CHECK(got == std::vector<std::string>{
                   "my-first-app/first/0=7@1599689880026", "my-first-app/first/1=11@1599689880026",
                   "my-first-app/first/2=7@1599689880026", "my-second-app/first/0=7@1599689882085",
                   "my-second-app/first/1=11@1599689882085", "my-second-app/first/2=7@1599689882085",
                   "third/first/0=7@1599778674777", "third/first/1=11@1599778674777",
                   "third/first/2=7@1599778674777", "third/first_topic/0=3@1599777257946"});
  CHECK(st.partitions == 5);
  CHECK(st.records == 1241 + 223 + 80 + 3 + 3);
  CHECK(st.commits == 1521);
  CHECK(st.group_records == 29);
  CHECK(st.not_decoded == 0);
  CHECK(st.tombstones == 0);  // the three tombstones delete groups, not commits
  // ldi-poc (Kafka 3.7, KRaft): one group.
  REQUIRE(ReadCommittedOffsets({corpus + "/real/ldi-poc"}, &rep, &out, &st).ok());
  got.clear();
  for (const auto& c : out)
    got.push_back(c.group + "/" + c.topic + "/" + std::to_string(c.partition) + "=" + std::to_string(c.offset));
  CHECK(got == std::vector<std::string>{"DEVSmileCDR/Retry.TestTopicPatient/0=0", "DEVSmileCDR/TestTopicPatient/0=3",
                                        "DEVSmileCDR/batch2.work.notification.SHR_PROD.persistence/0=0",
                                        "DEVSmileCDR/subscription.matching.SHR_PROD.persistence/0=0"});
  REQUIRE(out.size() == 4);
  CHECK(out[1].commit_timestamp == 1769793578176);
  CHECK(out[1].log_partition == 6);
  CHECK(out[1].log_offset == 12);
  CHECK(out[1].leader_epoch == -1);
}

}  // namespace
}  // namespace evt
