// lib/jobs/lag: the lag of one observation (no commit, retention, the transaction-marker
// rule), Burrow's status rules over synthetic sample windows, rates and the drain ETA, the
// bounded history file, thresholds, and the Prometheus and CSV output.
#include "lib/jobs/lag.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <regex>
#include <sstream>

#include "lib/base/file.h"
#include "lib/jobs/sandbox.h"
#include "tests/testutil.h"

using namespace evt;

namespace {

// A sample at minute `min` with the committed offset and the end; lag = end - committed.
LagSample S(int min, int64_t committed, int64_t end) {
  LagSample s;
  s.time_ms = 1'700'000'000'000 + int64_t{min} * 60'000;
  s.committed = committed;
  s.position = committed;
  s.end = end;
  s.lag = end - committed;
  return s;
}

// The window as the history builds it (since carried from sample to sample).
std::vector<LagSample> Window(std::vector<LagSample> v, size_t keep = 100) {
  LagHistory h;
  LagKey k{"g", "t", 0};
  for (auto& s : v) h.Add(k, s, keep);
  return h.Samples(k);
}

PartitionObservation Ob(int64_t committed, int64_t low, int64_t end) {
  PartitionObservation ob;
  ob.group = "g";
  ob.topic = "t";
  ob.partition = 3;
  ob.committed = committed;
  ob.low = low;
  ob.end = end;
  return ob;
}

}  // namespace

TEST_CASE("lag status names") {
  LagStatus s;
  REQUIRE(ParseLagStatus("stall", &s));
  CHECK(s == LagStatus::kStall);
  REQUIRE(ParseLagStatus("WARNING", &s));
  CHECK(s == LagStatus::kWarn);
  REQUIRE(ParseLagStatus("Err", &s));
  CHECK(s == LagStatus::kErr);
  CHECK(!ParseLagStatus("late", &s));
  CHECK(std::string(LagStatusName(LagStatus::kRewind)) == "REWIND");
  CHECK(LagStatus::kErr > LagStatus::kStop);  // severity order
}

TEST_CASE("where a partition's lag is counted from") {
  auto p = LagStart(5, 0, 10, NoCommitAs::kEarliest);
  CHECK(p.start == 5);
  CHECK(!p.below_log_start);
  p = LagStart(-1, 2, 10, NoCommitAs::kEarliest);
  CHECK(p.start == 2);
  p = LagStart(-1, 2, 10, NoCommitAs::kLatest);
  CHECK(p.start == 10);
  CHECK(LagStart(-1, 2, 10, NoCommitAs::kSkip).skip);
  p = LagStart(3, 7, 10, NoCommitAs::kEarliest);  // retention deleted 3..6
  CHECK(p.start == 7);
  CHECK(p.below_log_start);
}

TEST_CASE("the lag of one observation") {
  const int64_t now = 1'700'000'100'000;
  SECTION("records and time from the first unconsumed record") {
    kafka::FirstRecord fr;
    fr.found = true;
    fr.offset = 40;
    fr.timestamp = now - 90'000;
    PartitionLag pl = ComputeLag(Ob(40, 0, 100), &fr, NoCommitAs::kEarliest, now);
    CHECK(pl.lag == 60);
    CHECK(pl.time_lag_ms == 90'000);
    CHECK(pl.first_offset == 40);
    CHECK(pl.note.empty());
  }
  SECTION("lag 0 has time lag 0, without a fetch") {
    PartitionLag pl = ComputeLag(Ob(100, 0, 100), nullptr, NoCommitAs::kEarliest, now);
    CHECK(pl.lag == 0);
    CHECK(pl.time_lag_ms == 0);
  }
  SECTION("only transaction markers after the committed offset: lag 0") {
    // A fetch at 98 reached the end (100) without a record: offsets 98 and 99 are markers.
    kafka::FirstRecord fr;
    fr.eof = true;
    fr.eof_position = 100;
    PartitionLag pl = ComputeLag(Ob(98, 0, 100), &fr, NoCommitAs::kEarliest, now);
    CHECK(pl.lag == 0);
    CHECK(pl.time_lag_ms == 0);
    CHECK(pl.markers_only);
    CHECK(pl.note.find("transaction markers") != std::string::npos);
    // The first record after them lies past the end asked for: the same.
    fr.eof_position = 101;
    CHECK(ComputeLag(Ob(98, 0, 100), &fr, NoCommitAs::kEarliest, now).lag == 0);
  }
  SECTION("an open transaction: the lag stays, the time lag is unknown") {
    kafka::FirstRecord fr;
    fr.eof = true;
    fr.eof_position = 95;  // the last stable offset
    PartitionLag pl = ComputeLag(Ob(90, 0, 100), &fr, NoCommitAs::kEarliest, now);
    CHECK(pl.lag == 10);
    CHECK(pl.time_lag_ms == -1);
    CHECK(!pl.markers_only);
    CHECK(pl.note.find("open transaction") != std::string::npos);
  }
  SECTION("committed below the log start: said, and the first available record is used") {
    kafka::FirstRecord fr;
    fr.found = true;
    fr.offset = 50;
    fr.timestamp = now - 1000;
    PartitionLag pl = ComputeLag(Ob(20, 50, 100), &fr, NoCommitAs::kEarliest, now);
    CHECK(pl.lag == 80);  // end - committed
    CHECK(pl.start == 50);
    CHECK(pl.below_log_start);
    CHECK(pl.time_lag_ms == 1000);
    CHECK(pl.note.find("below the log start 50") != std::string::npos);
  }
  SECTION("no commit") {
    PartitionLag e = ComputeLag(Ob(-1, 10, 100), nullptr, NoCommitAs::kEarliest, now);
    CHECK(e.lag == 90);
    CHECK(e.note.find("no commit") != std::string::npos);
    PartitionLag l = ComputeLag(Ob(-1, 10, 100), nullptr, NoCommitAs::kLatest, now);
    CHECK(l.lag == 0);
    CHECK(l.time_lag_ms == 0);
  }
  SECTION("an error") {
    auto ob = Ob(1, 0, 10);
    ob.error = "topic does not exist";
    PartitionLag pl = ComputeLag(ob, nullptr, NoCommitAs::kEarliest, now);
    CHECK(pl.lag == -1);
    CHECK(pl.error == "topic does not exist");
  }
}

TEST_CASE("Burrow's rules over a window of samples") {
  SECTION("one sample: only OK, LAGGING or ERR") {
    auto e = EvaluateWindow(Window({S(0, 10, 10)}));
    CHECK(e.status == LagStatus::kOk);
    CHECK(e.eta_s == 0);
    e = EvaluateWindow(Window({S(0, 5, 10)}));
    CHECK(e.status == LagStatus::kLagging);
    CHECK(e.reason.find("one sample") != std::string::npos);
    CHECK(std::isnan(e.consume_rate));
    CHECK(std::isnan(e.eta_s));
    LagSample err;
    err.time_ms = 1;
    err.error = "topic does not exist";
    e = EvaluateWindow({err});
    CHECK(e.status == LagStatus::kErr);
    CHECK(e.reason == "topic does not exist");
  }
  SECTION("OK: lag 0 somewhere in the window") {
    auto e = EvaluateWindow(Window({S(0, 10, 20), S(1, 20, 20), S(2, 21, 30)}));
    CHECK(e.status == LagStatus::kOk);
    CHECK(e.reason.find("lag was 0") != std::string::npos);
  }
  SECTION("OK: catching up") {
    auto e = EvaluateWindow(Window({S(0, 0, 100), S(1, 50, 110), S(2, 100, 120)}));
    CHECK(e.status == LagStatus::kOk);
    CHECK(e.reason.find("catching up") != std::string::npos);
    // 100 records in 2 minutes consumed, 20 produced: lag 20 drains at 80 per 120 s.
    CHECK(e.consume_rate == Approx(100.0 / 120));
    CHECK(e.produce_rate == Approx(20.0 / 120));
    CHECK(e.eta_s == Approx(20 / (80.0 / 120)));
    CHECK(e.samples == 3);
    CHECK(e.span_ms == 120'000);
  }
  SECTION("REWIND: the committed offset went backwards") {
    auto e = EvaluateWindow(Window({S(0, 50, 100), S(1, 60, 100), S(2, 30, 100)}));
    CHECK(e.status == LagStatus::kRewind);
    CHECK(e.reason.find("went back from 60 to 30") != std::string::npos);
  }
  SECTION("STALL: the committed offset unchanged while lagging") {
    auto e = EvaluateWindow(Window({S(0, 5, 10), S(1, 5, 12), S(2, 5, 15)}));
    CHECK(e.status == LagStatus::kStall);
    CHECK(std::isinf(e.eta_s));  // never: nothing is consumed
    // A fixed lag counts too.
    CHECK(EvaluateWindow(Window({S(0, 5, 10), S(1, 5, 10)})).status == LagStatus::kStall);
  }
  SECTION("STOP: unchanged for longer than the window spans") {
    // The same committed offset in five samples; the window keeps three, so the oldest two
    // (which saw it first) are gone: it has not changed since before the window.
    auto w = Window({S(0, 5, 10), S(1, 5, 10), S(2, 5, 11), S(3, 5, 12), S(4, 5, 12)}, 3);
    REQUIRE(w.size() == 3);
    auto e = EvaluateWindow(w);
    CHECK(e.status == LagStatus::kStop);
    CHECK(e.reason.find("longer than the window") != std::string::npos);
    // With the first sample that saw it still in the window, it is a STALL.
    CHECK(EvaluateWindow(Window({S(2, 5, 11), S(3, 5, 12), S(4, 5, 12)})).status == LagStatus::kStall);
    // A change inside the window, then stuck: STALL once it fills the window, not STOP.
    auto moved = Window({S(0, 1, 10), S(1, 5, 10), S(2, 5, 11), S(3, 5, 12)}, 3);
    CHECK(EvaluateWindow(moved).status == LagStatus::kStall);
  }
  SECTION("WARN: offsets move but the lag never decreases") {
    auto e = EvaluateWindow(Window({S(0, 10, 20), S(1, 15, 30), S(2, 20, 40)}));
    CHECK(e.status == LagStatus::kWarn);
    CHECK(std::isinf(e.eta_s));  // produced faster than consumed: never
    CHECK(e.reason.find("never decreases") != std::string::npos);
  }
  SECTION("ERR now, whatever came before") {
    auto w = Window({S(0, 10, 20), S(1, 15, 30)});
    LagSample gone;
    gone.time_ms = w.back().time_ms + 60'000;
    gone.error = "no longer observed";
    w.push_back(gone);
    CHECK(EvaluateWindow(w).status == LagStatus::kErr);
  }
  SECTION("past error samples are left out of the evaluation") {
    auto w = Window({S(0, 0, 100)});
    LagSample err;
    err.time_ms = w.back().time_ms + 30'000;
    err.error = "timeout";
    w.push_back(err);
    auto rest = Window({S(1, 50, 100), S(2, 90, 100)});
    w.insert(w.end(), rest.begin(), rest.end());
    auto e = EvaluateWindow(w);
    CHECK(e.status == LagStatus::kOk);
    CHECK(e.samples == 3);
  }
}

TEST_CASE("the history keeps the last N samples per partition") {
  LagHistory h;
  LagKey a{"g", "orders", 0}, b{"g", "orders", 1};
  for (int i = 0; i < 25; ++i) h.Add(a, S(i, 5, 10 + i), 10);
  h.Add(b, S(0, 1, 2), 10);
  REQUIRE(h.Samples(a).size() == 10);
  CHECK(h.Samples(a).front().time_ms == S(15, 0, 0).time_ms);
  CHECK(h.Samples(a).back().end == 34);
  // since is carried past the samples that left: the offset has been 5 since minute 0.
  CHECK(h.Samples(a).back().since_ms == S(0, 0, 0).time_ms);
  CHECK(h.Samples(b).size() == 1);
  // A sample at the time of the last one replaces it.
  h.Add(b, S(0, 2, 3), 10);
  CHECK(h.Samples(b).size() == 1);
  CHECK(h.Samples(b).back().committed == 2);
  // Round trip through the file format, errors included.
  LagSample err;
  err.time_ms = S(30, 0, 0).time_ms;
  err.error = "topic \"gone\"";
  h.Add({"g,2", "t\n", 7}, err, 10);
  auto back = LagHistory::Parse(h.Serialize(), "h");
  REQUIRE(back.ok());
  CHECK(back->Serialize() == h.Serialize());
  CHECK(back->Samples({"g,2", "t\n", 7}).back().error == "topic \"gone\"");
  CHECK(back->Keys().size() == 3);
  // Saved atomically, loaded back; a missing file is an empty history.
  test::TempDir dir;
  std::string path = dir / "lag.history";
  auto none = LagHistory::Load(path);
  REQUIRE(none.ok());
  CHECK(none->Keys().empty());
  REQUIRE(h.Save(path).ok());
  auto loaded = LagHistory::Load(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->Serialize() == h.Serialize());
  CHECK(!PathExists(path + ".tmp"));
  // Not a history: an error naming the line.
  auto bad = LagHistory::Parse("{\"group\":\"g\",\"topic\":\"t\",\"partition\":0,\"time\":1,\"lag\":1}\n", "x.history");
  CHECK(!bad.ok());
  CHECK(bad.status().message().find("x.history:1") != std::string::npos);
  CHECK(!LagHistory::Parse("\n\nnot json\n", "y").ok());
}

namespace {

LagReport Report() {
  LagReport r;
  r.now_ms = 1'700'000'000'000;
  r.cluster = "127.0.0.1:9092";
  GroupLag g;
  g.group = "billing \"eu\"";
  for (int p = 0; p < 3; ++p) {
    PartitionLag pl;
    pl.group = g.group;
    pl.topic = p < 2 ? "orders" : "refunds";
    pl.partition = p;
    pl.committed = 10;
    pl.low = 0;
    pl.end = 10 + p * 5;
    pl.lag = p * 5;
    pl.time_lag_ms = p * 1500;
    pl.eval = EvaluateWindow(Window({S(0, 10, 10 + p * 5)}));
    pl.lag_window = {pl.lag};
    g.partitions.push_back(pl);
  }
  SummarizeGroup(&g);
  r.groups.push_back(g);
  r.members_note = "unknown (the broker does not answer DescribeGroups)";
  return r;
}

}  // namespace

TEST_CASE("a group's status and sums") {
  LagReport r = Report();
  const GroupLag& g = r.groups[0];
  CHECK(g.lag == 15);
  CHECK(g.max_lag == 10);
  CHECK(g.max_time_lag_ms == 3000);
  CHECK(g.topic_lag.at("orders") == 5);
  CHECK(g.topic_lag.at("refunds") == 10);
  CHECK(g.status == LagStatus::kLagging);
  CHECK(g.reason.find("2 of 3 partitions lag") != std::string::npos);
  GroupLag worse = g;
  worse.partitions[1].eval.status = LagStatus::kStall;
  worse.partitions[1].eval.reason = "stuck";
  SummarizeGroup(&worse);
  CHECK(worse.status == LagStatus::kStall);
  CHECK(worse.reason == "1 of 3 partitions STALL (first: orders/1: stuck)");
  GroupLag none;
  none.group = "x";
  none.error = "no committed offsets on any topic";
  SummarizeGroup(&none);
  CHECK(none.status == LagStatus::kErr);
}

TEST_CASE("thresholds: --max-lag, --max-time-lag, --fail-on") {
  LagReport r = Report();
  LagThresholds t;
  CHECK(LagViolations(r, t).empty());
  t.max_lag = 5;
  auto v = LagViolations(r, t);
  REQUIRE(v.size() == 1);
  CHECK(v[0] == "billing \"eu\": refunds/2: lag 10 records > --max-lag 5");
  t = {};
  t.max_time_lag_ms = 1000;
  CHECK(LagViolations(r, t).size() == 2);
  t = {};
  t.fail_on = {LagStatus::kStall};
  CHECK(LagViolations(r, t).empty());
  r.groups[0].partitions[0].eval.status = LagStatus::kStall;
  CHECK(LagViolations(r, t).size() == 1);
}

TEST_CASE("Prometheus text format with kafka-lag-exporter's names") {
  std::string text = LagPrometheus(Report(), "prod");
  CHECK(text.find("# HELP kafka_consumergroup_group_lag Group offset lag of a partition\n"
                  "# TYPE kafka_consumergroup_group_lag gauge\n") != std::string::npos);
  CHECK(text.find("kafka_consumergroup_group_lag{cluster_name=\"prod\",group=\"billing \\\"eu\\\"\",topic=\"orders\","
                  "partition=\"1\"} 5\n") != std::string::npos);
  CHECK(text.find("kafka_consumergroup_group_lag_seconds{cluster_name=\"prod\",group=\"billing \\\"eu\\\"\",topic="
                  "\"refunds\",partition=\"2\"} 3.000\n") != std::string::npos);
  CHECK(text.find("kafka_consumergroup_group_max_lag{cluster_name=\"prod\",group=\"billing \\\"eu\\\"\"} 10\n") !=
        std::string::npos);
  CHECK(text.find("kafka_consumergroup_group_max_lag_seconds{cluster_name=\"prod\",group=\"billing \\\"eu\\\"\"} 3.000\n") !=
        std::string::npos);
  CHECK(text.find("kafka_consumergroup_group_sum_lag{cluster_name=\"prod\",group=\"billing \\\"eu\\\"\"} 15\n") !=
        std::string::npos);
  CHECK(text.find("kafka_consumergroup_group_topic_sum_lag{cluster_name=\"prod\",group=\"billing \\\"eu\\\"\",topic="
                  "\"refunds\"} 10\n") != std::string::npos);
  // Every line is a comment or a sample of the text format's grammar, and every family
  // has its HELP and TYPE before its samples.
  std::regex sample(R"re([a-zA-Z_:][a-zA-Z0-9_:]*\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\} -?[0-9]+(\.[0-9]+)?)re");
  std::regex comment(R"re(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+)re");
  std::istringstream in(text);
  std::string line, family;
  std::set<std::string> typed;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) typed.insert(line.substr(7, line.find(' ', 7) - 7));
    if (line[0] == '#') {
      CHECK(std::regex_match(line, comment));
      continue;
    }
    CHECK(std::regex_match(line, sample));
    CHECK(typed.count(line.substr(0, line.find('{'))) == 1);
    ++samples;
  }
  CHECK(samples == 3 + 3 + 1 + 1 + 1 + 2);
  CHECK(typed.size() == 6);
}

TEST_CASE("CSV and JSON Lines output") {
  LagReport r = Report();
  std::string csv = LagCsv(r, true);
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  CHECK(line.rfind("kind,time,group,topic,partition,committed,", 0) == 0);
  std::getline(in, line);
  CHECK(line.rfind("partition,2023-11-14T22:13:20.000Z,\"billing \"\"eu\"\"\",orders,0,10,0,10,,0,0,OK,1,", 0) == 0);
  int rows = 1;
  while (std::getline(in, line)) ++rows;
  CHECK(rows == 4);  // three partitions and the group
  CHECK(LagCsv(r, false).find("kind,") == std::string::npos);
  std::string json = LagJsonLines(r);
  CHECK(json.find("\"kind\":\"partition\",\"time\":\"2023-11-14T22:13:20.000Z\",\"group\":\"billing \\\"eu\\\"\","
                  "\"topic\":\"orders\",\"partition\":1,\"committed\":10,\"low\":0,\"end\":15,\"lso\":null,\"lag\":5,"
                  "\"time_lag_ms\":1500") != std::string::npos);
  CHECK(json.find("\"members\":null,\"members_note\":\"unknown (the broker does not answer DescribeGroups)\"") !=
        std::string::npos);
  std::string table = LagTable(r);
  CHECK(table.find("members: unknown (the broker does not answer DescribeGroups)\n") != std::string::npos);
  CHECK(table.find("TREND") == std::string::npos);  // one sample: no trend columns
  CHECK(FormatLagDuration(0) == "0s");
  CHECK(FormatLagDuration(450) == "450ms");
  CHECK(FormatLagDuration(4250) == "4.2s");
  CHECK(FormatLagDuration(185'000) == "3m05s");
  CHECK(FormatLagDuration(7'620'000) == "2h07m");
  CHECK(FormatLagDuration(-1) == "-");
}

TEST_CASE("LagMonitor rounds on the sandbox: lag, time lag, history and vanished partitions") {
  CountingReporter rep;
  kafka::SandboxOptions so;
  so.topics = *kafka::ParseSandboxTopics("orders:4,other:2");
  auto sb = kafka::Sandbox::Start(so, &rep);
  REQUIRE(sb.ok());
  std::string bs = (*sb)->bootstrap();
  for (int32_t p = 0; p < 4; ++p) REQUIRE(test::ProduceWithTimestamps(bs, "orders", p, 20, 1'700'000'000'000));
  REQUIRE(test::CommitOffsets(bs, "g", {{"orders", 0, 20}, {"orders", 1, 15}, {"orders", 2, 0}}));
  LagOptions o;
  o.brokers = bs;
  o.kafka.timeout_ms = 10000;
  o.groups = {"g", "ghost"};
  o.now_ms = 1'700'000'100'000;
  test::TempDir dir;
  o.history_path = dir / "h";
  o.samples = 3;
  LagMonitor m(o);
  LagReport r;
  REQUIRE(m.Round(&rep, &r).ok());
  REQUIRE(r.groups.size() == 2);
  const GroupLag& g = r.groups[0];
  REQUIRE(g.partitions.size() == 4);  // only orders: "other" has no commit of g
  CHECK(g.partitions[0].lag == 0);
  CHECK(g.partitions[1].lag == 5);
  // The first unconsumed record of orders/1 is offset 15, at 1'700'000'000'000 + 15 s.
  CHECK(g.partitions[1].time_lag_ms == 100'000 - 15'000);
  CHECK(g.partitions[2].lag == 20);
  CHECK(g.partitions[3].committed == -1);
  CHECK(g.partitions[3].lag == 20);  // --no-commit-as earliest
  CHECK(g.status == LagStatus::kLagging);
  CHECK(r.groups[1].status == LagStatus::kErr);
  CHECK(r.groups[1].reason.find("no committed offsets") != std::string::npos);
  CHECK(r.members_note.find("DescribeGroups") != std::string::npos);
  // Second round a minute later, nothing moved: STALL where lagging.
  LagOptions o2 = o;
  o2.now_ms += 60'000;
  LagMonitor m2(o2);
  REQUIRE(m2.Round(&rep, &r).ok());
  CHECK(r.with_history);
  CHECK(r.groups[0].partitions[0].eval.status == LagStatus::kOk);
  CHECK(r.groups[0].partitions[1].eval.status == LagStatus::kStall);
  auto h = LagHistory::Load(o.history_path);
  REQUIRE(h.ok());
  CHECK(h->Samples({"g", "orders", 1}).size() == 2);
  // A partition an earlier sample saw and this round does not (a deleted topic): ERR while
  // its good samples are in the window, then forgotten.
  LagSample old = h->Samples({"g", "orders", 1}).back();
  h->Add({"g", "deleted", 0}, old, 3);
  REQUIRE(h->Save(o.history_path).ok());
  for (int round = 0; round < 3; ++round) {
    LagOptions o3 = o;
    o3.now_ms += 120'000 + round * 60'000;
    LagMonitor m3(o3);
    REQUIRE(m3.Round(&rep, &r).ok());
    const auto& parts = r.groups[0].partitions;
    auto gone = std::find_if(parts.begin(), parts.end(), [](const PartitionLag& p) { return p.topic == "deleted"; });
    if (round < 2) {
      REQUIRE(gone != parts.end());
      CHECK(gone->eval.status == LagStatus::kErr);
      CHECK(gone->error.find("no longer observed") != std::string::npos);
      CHECK(r.groups[0].status == LagStatus::kErr);
    } else {
      CHECK(gone == parts.end());  // only error samples left: dropped from the history
    }
  }
}
