// lib/kafka/client: addressing, configuration, and the source and sink
// against an in-process mock cluster (lib/sandbox), with injected faults.
#include "lib/kafka/client.h"
#include "lib/kafka/internal.h"

#include <memory>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "lib/jobs/sandbox.h"
#include "tests/sandbox_cluster.h"
#include "tests/testutil.h"

using namespace evt;
using namespace evt::kafka;

TEST_CASE("kafka:// URLs") {
  auto t = ParseKafkaUrl("kafka://a,b:9093,[::1]/orders?partition=0,2-3");
  REQUIRE(t.ok());
  CHECK(t->brokers == "a:9092,b:9093,[::1]:9092");
  CHECK(t->topic == "orders");
  CHECK(t->partitions == std::vector<int32_t>{0, 2, 3});
  CHECK(t->Describe() == "kafka://a:9092,b:9093,[::1]:9092/orders?partition=0,2,3");

  auto all = ParseKafkaUrl("kafka://h:1/");
  REQUIRE(all.ok());
  CHECK(all->topic.empty());

  setenv("EVT_BROKERS", "env-host:1234", 1);
  auto env = ParseKafkaUrl("kafka:///t");
  REQUIRE(env.ok());
  CHECK(env->brokers == "env-host:1234");
  auto bt = KafkaTargetFrom("", "t");
  REQUIRE(bt.ok());
  CHECK(bt->brokers == "env-host:1234");
  unsetenv("EVT_BROKERS");
  CHECK(!ParseKafkaUrl("kafka:///t").ok());

  CHECK(!ParseKafkaUrl("kafka://user:pw@h/t").ok());          // no credentials in URLs
  CHECK(!ParseKafkaUrl("kafka://h:99999/t").ok());            // bad port
  CHECK(!ParseKafkaUrl("kafka://h/t?partitoin=1").ok());      // unknown parameter
  CHECK(!ParseKafkaUrl("kafka://h/t?partition=3-1").ok());    // bad range
  CHECK(!ParseKafkaUrl("kafka://h/a/b").ok());                // '/' in a topic
  CHECK(!ParseKafkaUrl("http://h/t").ok());
  CHECK(IsKafkaUrl("kafka://x/y"));
  CHECK(!IsKafkaUrl("./kafka://x"));
}

TEST_CASE("partition lists") {
  CHECK(*ParsePartitionList("3,1,1-2") == std::vector<int32_t>{1, 2, 3});
  CHECK(!ParsePartitionList("").ok());
  CHECK(!ParsePartitionList("a").ok());
  CHECK(!ParsePartitionList("-1").ok());
  CHECK(*ParsePartitionList("5-7,0,6-9,2-3,9") == std::vector<int32_t>{0, 2, 3, 5, 6, 7, 8, 9});
  CHECK(!ParsePartitionList("0-1000001").ok());
  // config_fuzz: many overlapping big ranges took seconds to expand and sort; merged first
  // they are one million numbers at most.
  std::string many;
  for (int i = 0; i < 200; ++i) many += (i ? "," : "") + std::to_string(i) + "-999999";
  auto big = ParsePartitionList(many);
  REQUIRE(big.ok());
  CHECK(big->size() == 1000000);
  CHECK(big->front() == 0);
  CHECK(big->back() == 999999);
}

TEST_CASE("librdkafka properties from X options and config files, secrets recognised") {
  KafkaConfig cfg;
  REQUIRE(AddProperty("fetch.wait.max.ms=50", &cfg).ok());
  REQUIRE(AddProperty("sasl.jaas.config=a=b", &cfg).ok());  // first '=' splits
  CHECK(cfg.props[1].second == "a=b");
  CHECK(!AddProperty("novalue", &cfg).ok());
  test::TempDir dir;
  std::string path = dir.path() + "/client.properties";
  std::ofstream(path) << "# comment\n\n! also a comment\nsecurity.protocol = SASL_SSL\nsasl.password=s3cret\n";
  REQUIRE(AddPropertiesFile(path, &cfg).ok());
  CHECK(cfg.props.size() == 4);
  CHECK(cfg.props[2] == std::pair<std::string, std::string>{"security.protocol", "SASL_SSL"});
  std::ofstream(path) << "oops\n";
  auto bad = AddPropertiesFile(path, &cfg);
  CHECK(!bad.ok());
  CHECK(bad.message().find(":1:") != std::string::npos);
  CHECK(IsSecretProperty("sasl.password"));
  CHECK(IsSecretProperty("ssl.key.password"));
  CHECK(IsSecretProperty("sasl.oauthbearer.client.secret"));
  CHECK(IsSecretProperty("ssl.key.pem"));
  CHECK(IsSecretProperty("schema.registry.basic.auth.user.info"));
  CHECK(!IsSecretProperty("ssl.key.location"));
  CHECK(!IsSecretProperty("bootstrap.servers"));
}

// librdkafka's message names the property; a secret's value in it is replaced by "***".
// Regression (config_fuzz hang): a value that is a piece of "***" itself ("*") made the
// replacement loop forever.
TEST_CASE("MakeConf redacts a secret property's value from librdkafka's message, and terminates") {
  auto message = [](const std::string& k, const std::string& v) {
    KafkaConfig cfg;
    cfg.props.emplace_back(k, v);
    internal::ErrorState errors;
    auto r = internal::MakeConf("127.0.0.1:9", cfg, {}, &errors);
    if (r.ok()) {
      rd_kafka_conf_destroy(*r);
      return std::string("ok");
    }
    return r.status().message();
  };
  std::string m = message("no.such.secret.abc", "abc");  // the value is echoed inside the name
  CHECK(m.find("-X no.such.secret.abc: ") == 0);
  CHECK(m.find("secret.***") != std::string::npos);
  m = message("no.such.secret***", "*");
  CHECK(m.find("-X no.such.secret***: ") == 0);
  m = message("no.such.secret**", "**");
  CHECK(m.find("-X no.such.secret**: ") == 0);
  CHECK(message("no.such.plain.abc", "abc").find("plain.abc") != std::string::npos);  // not a secret: kept
}

namespace {
using Cluster = test::SandboxCluster;

// n records for partition p with keys k<i>, values v<i>, a header and timestamps 1000*i.
void Fill(RecordBatch* b, int n, int32_t p) {
  b->Clear();
  b->topic = "t";
  b->partition = p;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.partition = p;
    r.offset = i;
    r.timestamp = 1000 * (i + 1);
    r.key = Bytes::Of(b->arena.Copy("k" + std::to_string(i)));
    r.value = i == 3 ? Bytes::Null() : Bytes::Of(b->arena.Copy("v" + std::to_string(i)));
    r.header_begin = static_cast<uint32_t>(b->headers.size());
    b->headers.push_back(Header{"h", i == 5 ? Bytes::Null() : Bytes::Of("x")});
    r.header_count = 1;
    b->records.push_back(r);
  }
}

std::vector<Record> ReadAll(Source* src, RecordBatch* keep, std::vector<std::string>* values) {
  std::vector<Record> out;
  RecordBatch b;
  for (;;) {
    bool eof = false;
    Status s = src->Next(&b, &eof);
    REQUIRE(s.ok());
    if (eof) break;
    for (const auto& r : b.records) {
      out.push_back(r);
      values->push_back(r.value.null() ? "<null>" : std::string(r.value.view()));
    }
  }
  (void)keep;
  return out;
}
}  // namespace

TEST_CASE("sink producer instances: automatic, capped by partitions, one for a fixed partition or a user partitioner") {
  Cluster c("t:3,one:1");
  KafkaConfig cfg;
  cfg.timeout_ms = 10000;
  auto count = [&](const std::string& topic, PartitionPolicy policy, int producers, KafkaConfig kc) {
    KafkaWriteOptions wo;
    wo.policy = policy;
    wo.producers = producers;
    auto sink = KafkaSink::Open(c.Target(topic), kc, wo);
    REQUIRE(sink.ok());
    int n = (*sink)->producer_count();
    REQUIRE((*sink)->Close().ok());
    return n;
  };
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  CHECK(count("t", PartitionPolicy::kHash, 0, cfg) == static_cast<int>(std::min(cpus, 3u)));
  CHECK(count("t", PartitionPolicy::kHash, 8, cfg) == 3);  // at most one per partition
  CHECK(count("t", PartitionPolicy::kKeep, 2, cfg) == 2);
  CHECK(count("one", PartitionPolicy::kHash, 4, cfg) == 1);
  CHECK(count("t", PartitionPolicy::kFixed, 4, cfg) == 1);
  KafkaConfig with_partitioner = cfg;
  with_partitioner.props.emplace_back("partitioner", "consistent_random");
  CHECK(count("t", PartitionPolicy::kHash, 3, with_partitioner) == 1);
  CHECK(count("t", PartitionPolicy::kKeep, 3, with_partitioner) == 3);  // keep names partitions itself

  // Three instances: every record lands where murmur2 says, in order within its partition.
  KafkaWriteOptions wo;
  wo.policy = PartitionPolicy::kHash;
  wo.producers = 3;
  auto sink = KafkaSink::Open(c.Target("t"), cfg, wo);
  REQUIRE(sink.ok());
  RecordBatch b;
  Fill(&b, 300, 0);
  REQUIRE((*sink)->Write(b).ok());
  REQUIRE((*sink)->Close().ok());
  CHECK((*sink)->delivered() == 300);
  KafkaReadOptions ro;
  auto src = KafkaSource::Open(c.Target("t"), cfg, ro, &c.rep);
  REQUIRE(src.ok());
  std::vector<std::string> values;
  RecordBatch keep;
  std::map<int32_t, int> last;
  for (const Record& r : ReadAll(src->get(), &keep, &values)) {
    INFO(r.partition << "/" << r.offset);
    std::string key = "k" + std::to_string(r.timestamp / 1000 - 1);
    CHECK(r.partition == Murmur2Partition(key, 3));
    int i = static_cast<int>(r.timestamp / 1000 - 1);
    CHECK(i > last.emplace(r.partition, -1).first->second);
    last[r.partition] = i;
  }
  CHECK(values.size() == 300);
}

TEST_CASE("sink then source on the mock cluster: records, bounds, time search") {
  Cluster c("t:2");
  KafkaConfig cfg;
  cfg.timeout_ms = 10000;
  KafkaWriteOptions wo;
  wo.policy = PartitionPolicy::kKeep;
  auto sink = KafkaSink::Open(c.Target("t"), cfg, wo);
  REQUIRE(sink.ok());
  RecordBatch b;
  Fill(&b, 50, 1);
  REQUIRE((*sink)->Write(b).ok());
  REQUIRE((*sink)->Close().ok());
  CHECK((*sink)->delivered() == 50);

  KafkaReadOptions ro;
  auto src = KafkaSource::Open(c.Target("t"), cfg, ro, &c.rep);
  REQUIRE(src.ok());
  std::vector<std::string> values;
  RecordBatch keep;
  auto recs = ReadAll(src->get(), &keep, &values);
  REQUIRE(recs.size() == 50);
  CHECK(recs[0].partition == 1);
  CHECK(recs[0].offset == 0);
  CHECK(recs[0].timestamp == 1000);
  CHECK(values[3] == "<null>");
  CHECK(values[4] == "v4");

  // Offsets and a time bound (the mock answers -1 to offsetsForTimes: client-side search).
  ro.from = Bound{Bound::kTime, 20500};
  ro.until = Bound{Bound::kOffset, 30};
  auto src2 = KafkaSource::Open(c.Target("t"), cfg, ro, &c.rep);
  REQUIRE(src2.ok());
  values.clear();
  recs = ReadAll(src2->get(), &keep, &values);
  REQUIRE(recs.size() == 10);  // offset i has timestamp 1000 * (i + 1)
  CHECK(recs.front().offset == 20);
  CHECK(recs.back().offset == 29);

  ro.from = Bound{Bound::kFromEnd, 5};
  ro.until = Bound{Bound::kTime, 48000};
  auto src3 = KafkaSource::Open(c.Target("t"), cfg, ro, &c.rep);
  REQUIRE(src3.ok());
  values.clear();
  recs = ReadAll(src3->get(), &keep, &values);
  REQUIRE(recs.size() == 2);  // offsets 45, 46 (47 has timestamp 48000)
  CHECK(recs.front().offset == 45);
}

TEST_CASE("errors: unknown topic and partition, unreachable cluster, broker down, auth") {
  Cluster c("t:1");
  KafkaConfig cfg;
  cfg.timeout_ms = 2000;
  KafkaReadOptions ro;
  auto none = KafkaSource::Open(c.Target("nope"), cfg, ro, &c.rep);
  REQUIRE(!none.ok());
  CHECK(none.status().code() == Code::kNotFound);
  KafkaTarget tp = c.Target("t");
  tp.partitions = {4};
  auto nopart = KafkaSource::Open(tp, cfg, ro, &c.rep);
  REQUIRE(!nopart.ok());
  CHECK(nopart.status().message().find("partition 4 does not exist") != std::string::npos);
  auto nosink = KafkaSink::Open(c.Target("nope"), cfg, KafkaWriteOptions{});
  REQUIRE(!nosink.ok());
  CHECK(nosink.status().message().find("--create-topic") != std::string::npos);

  auto far = KafkaSource::Open(*ParseKafkaUrl("kafka://127.0.0.1:1/t"), cfg, ro, &c.rep);
  REQUIRE(!far.ok());
  CHECK(far.status().message().find("no metadata within 2000 ms") != std::string::npos);

  // Authorization failure on fetch.
  SandboxFault f;
  f.kind = SandboxFault::kRequestError;
  f.api = 1;  // Fetch
  f.error = 29;  // TOPIC_AUTHORIZATION_FAILED
  f.count = 50;
  auto sink = KafkaSink::Open(c.Target("t"), cfg, KafkaWriteOptions{});
  REQUIRE(sink.ok());
  RecordBatch b;
  Fill(&b, 10, 0);
  REQUIRE((*sink)->Write(b).ok());
  REQUIRE((*sink)->Close().ok());
  REQUIRE(c.sb->ApplyFaults({f}).ok());
  auto src = KafkaSource::Open(c.Target("t"), cfg, ro, &c.rep);
  REQUIRE(src.ok());
  RecordBatch out;
  bool eof = false;
  Status s;
  while (s.ok() && !eof) s = (*src)->Next(&out, &eof);
  CHECK(!s.ok());
  CHECK(s.message().find("authorization") != std::string::npos);
}

TEST_CASE("a producer whose cluster goes away reports undelivered records") {
  Cluster c("t:1");
  KafkaConfig cfg;
  cfg.timeout_ms = 1500;
  auto sink = KafkaSink::Open(c.Target("t"), cfg, KafkaWriteOptions{});
  REQUIRE(sink.ok());
  SandboxFault down;
  down.kind = SandboxFault::kDownAfter;
  down.ms = 0;
  REQUIRE(c.sb->ApplyFaults({down}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  RecordBatch b;
  Fill(&b, 20, 0);
  REQUIRE((*sink)->Write(b).ok());
  Status s = (*sink)->Close();
  CHECK(s.code() == Code::kDataProblem);
  CHECK(s.message().find("20 of 20 records were not delivered") != std::string::npos);
}

TEST_CASE("sandbox fault specs") {
  CHECK(ParseSandboxFault("down-after=2s")->ms == 2000);
  CHECK(ParseSandboxFault("topic-error=t:TOPIC_AUTHORIZATION_FAILED")->error == 29);
  auto r = ParseSandboxFault("request-error=Produce:NOT_LEADER_FOR_PARTITION:3");
  REQUIRE(r.ok());
  CHECK(r->api == 0);
  CHECK(r->count == 3);
  CHECK(!ParseSandboxFault("request-error=Nope:NOT_LEADER_FOR_PARTITION").ok());
  CHECK(!ParseSandboxFault("topic-error=t:NO_SUCH_ERROR").ok());
  CHECK(!ParseSandboxFault("bogus").ok());
}

TEST_CASE("partition progress: the end is reached by position, not by the last offset received") {
  // What the mock cluster cannot produce: a transaction whose commit marker takes offset 9.
  // Records 0..8 arrive; the marker never does; the EOF event reports position 10.
  PartitionProgress p;
  p.end = 10;
  for (int64_t o = 0; o < 9; ++o) CHECK(p.OnRecord(o, 1000 + o));
  CHECK_FALSE(p.done);  // last offset received + 1 = 9 < 10: not the end yet
  p.OnEnd(10);
  CHECK(p.done);

  // Aborted records skipped under read_committed leave a gap before the end: same rule.
  PartitionProgress gap;
  gap.end = 100;
  CHECK(gap.OnRecord(50, 0));
  gap.OnEnd(60);  // EOF below the end (the LSO moved on since): keep reading
  CHECK_FALSE(gap.done);
  CHECK(gap.pos == 60);
  CHECK(gap.OnRecord(98, 0));
  CHECK_FALSE(gap.done);
  CHECK(gap.OnRecord(99, 0));
  CHECK(gap.done);
  CHECK_FALSE(gap.OnRecord(100, 0));  // past the end: dropped

  // A record at or past the end (fetched in the same batch) ends the partition, unkept.
  PartitionProgress past;
  past.end = 5;
  CHECK_FALSE(past.OnRecord(7, 0));
  CHECK(past.done);

  // --until TIME: the first record at or after it ends the range and is not kept.
  PartitionProgress t;
  t.stop_time = 2000;
  CHECK(t.OnRecord(0, 1999));
  CHECK_FALSE(t.OnRecord(1, 2000));
  CHECK(t.done);

  // --follow: no end; EOF events never finish it.
  PartitionProgress f;
  CHECK(f.OnRecord(0, 0));
  f.OnEnd(1);
  CHECK_FALSE(f.done);
}

TEST_CASE("sink sends values in shared buffers without a copy and holds the buffers until delivered") {
  Cluster c("z:2");
  KafkaConfig cfg;
  cfg.timeout_ms = 10000;
  KafkaWriteOptions wo;
  wo.policy = PartitionPolicy::kKeep;
  auto sink = KafkaSink::Open(c.Target("z"), cfg, wo);
  REQUIRE(sink.ok());
  // Values in a buffer of the batch (as decompressed payloads are), long enough to be sent
  // without a copy, and short ones and arena ones, which are copied.
  auto value = [](int i) {
    return i % 5 == 0 ? "short" + std::to_string(i) : std::string(100 + i % 300, static_cast<char>('a' + i % 26));
  };
  RecordBatch b;
  std::vector<std::string> want;
  const std::string* first_buffer = nullptr;
  std::weak_ptr<std::string> first_holder;  // round 0's buffer, to see who else holds it
  for (int round = 0; round < 20; ++round) {
    b.Clear();
    std::string* buf = b.NewBuffer();
    if (round == 0) {
      size_t hint = 0;
      first_buffer = buf;
      first_holder = *b.BufferHolding(buf->data(), 0, &hint);
    }
    // The batch may hand out round 0's buffer again only once the sink let go of it (its
    // records were delivered): then this batch is its one holder. Delivery may come at any
    // time, so whether the buffer comes back is not asserted, only that it never comes back
    // while the sink still holds it.
    if (round > 0 && buf == first_buffer) CHECK(first_holder.use_count() <= 1);
    buf->clear();
    for (int i = 0; i < 50; ++i) *buf += value(round * 50 + i);
    size_t pos = 0;
    for (int i = 0; i < 50; ++i) {
      int n = round * 50 + i;
      std::string v = value(n);
      Record r;
      r.partition = n % 2;
      r.timestamp = 1000 + n;
      r.key = Bytes::Of(b.arena.Copy("k" + std::to_string(n)));
      r.value = n % 7 == 0 ? Bytes::Of(b.arena.Copy(v)) : Bytes::Of(std::string_view(buf->data() + pos, v.size()));
      pos += v.size();
      b.records.push_back(r);
      want.push_back(std::to_string(n % 2) + "|k" + std::to_string(n) + "|" + v);
    }
    REQUIRE((*sink)->Write(b).ok());
    // Scribble over what the batch owns now: the sink must have taken the buffer along.
    b.Clear();
    std::string* scratch = b.NewBuffer();
    scratch->assign(4096, '#');
  }
  REQUIRE((*sink)->Close().ok());
  CHECK((*sink)->delivered() == 1000);
  sink->reset();  // releases every buffer it held
  // Delivered: the buffers are free again, and the batch reuses them.
  KafkaReadOptions ro;
  auto src = KafkaSource::Open(c.Target("z"), cfg, ro, &c.rep);
  REQUIRE(src.ok());
  std::vector<std::string> got;
  RecordBatch rb;
  for (;;) {
    bool eof = false;
    REQUIRE((*src)->Next(&rb, &eof).ok());
    if (eof) break;
    for (const Record& r : rb.records)
      got.push_back(std::to_string(r.partition) + "|" + std::string(r.key.view()) + "|" + std::string(r.value.view()));
  }
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  CHECK(got == want);
}
