#include "lib/jobs/dlq.h"

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "tests/testutil.h"

using namespace evt;

namespace {
// Connect dead letters as envelope JSON Lines: `n` of cause A (offsets differ), 2 of cause B,
// one without headers.
std::string Dlq(int n) {
  std::string s;
  auto line = [&](int i, const std::string& cls, const std::string& msg, bool headers) {
    s += "{\"topic\":\"dlq\",\"partition\":0,\"offset\":" + std::to_string(i) + ",\"timestamp\":" +
         std::to_string(1709251200000 + i * 1000) + ",\"key\":\"k" + std::to_string(i) + "\",\"value\":\"v\",\"headers\":[";
    if (headers)
      s += "{\"key\":\"__connect.errors.topic\",\"value\":\"orders\"},{\"key\":\"__connect.errors.partition\",\"value\":\"" +
           std::to_string(i % 2) + "\"},{\"key\":\"__connect.errors.offset\",\"value\":\"" + std::to_string(100 + i) +
           "\"},{\"key\":\"__connect.errors.exception.class.name\",\"value\":\"" + cls +
           "\"},{\"key\":\"__connect.errors.exception.message\",\"value\":\"" + msg + "\"}";
    s += "]}\n";
  };
  int i = 0;
  for (; i < n; ++i) line(i, "E", "bad offset " + std::to_string(1000 + i), true);
  line(i++, "E", "other 'x' thing", true);
  line(i++, "E", "other 'y' thing", true);
  line(i++, "", "", false);
  return s;
}
}  // namespace

TEST_CASE("dlq summary: groups by cause, counts, ranges, JSON", "[dlq]") {
  test::TempDir d;
  test::WriteFile(d / "dlq.jsonl", Dlq(6));
  DlqSummaryOptions o;
  o.read.sel.paths = {d / "dlq.jsonl"};
  CountingReporter rep;
  DlqSummary s;
  REQUIRE(RunDlqSummary(o, &rep, &s).ok());
  REQUIRE(s.groups.size() == 3);
  CHECK(s.records == 9);
  CHECK(s.no_coordinates == 1);
  CHECK(s.groups[0].count == 6);
  CHECK(s.groups[0].pattern == "bad offset <n>");
  REQUIRE(s.groups[0].ranges.size() == 2);
  CHECK(s.groups[0].ranges[0].first == 100);
  CHECK(s.groups[0].ranges[0].last == 104);
  CHECK(s.groups[0].ranges[1].first == 101);
  CHECK(s.groups[0].first_ts == 1709251200000);
  CHECK(s.groups[0].last_ts == 1709251205000);
  CHECK(s.groups[1].count == 2);  // quoted values normalised
  CHECK(s.groups[1].pattern == "other '?' thing");
  const std::string json = DlqSummaryJson(s);
  CHECK(json.find("{\"count\":6,\"fingerprint\":\"" + s.groups[0].fingerprint + "\"") == 0);
  CHECK(DlqSummaryTable(s).find("9 records in 3 groups, 1 without original coordinates") != std::string::npos);

  // --by and --fingerprint
  o.by = *ParseDlqFields("class");
  REQUIRE(RunDlqSummary(o, &rep, &s).ok());
  CHECK(s.groups.size() == 2);
  CHECK(s.groups[0].count == 8);
  o.by.clear();
  o.read.fingerprint = "";
  DlqSummary all;
  REQUIRE(RunDlqSummary(o, &rep, &all).ok());
  o.read.fingerprint = all.groups[1].fingerprint.substr(0, 5);
  REQUIRE(RunDlqSummary(o, &rep, &s).ok());
  REQUIRE(s.groups.size() == 1);
  CHECK(s.groups[0].count == 2);
  CHECK_FALSE(ParseDlqFields("nope").ok());
  CHECK_FALSE(ParseDlqFields(",").ok());
}

TEST_CASE("dlq redrive --dry-run: counts per destination, the ledger untouched", "[dlq]") {
  test::TempDir d;
  test::WriteFile(d / "dlq.jsonl", Dlq(6));
  DlqRedriveOptions o;
  o.read.sel.paths = {d / "dlq.jsonl"};
  o.dry_run = true;
  o.ledger = d / "l";
  o.identity = "x";
  CountingReporter rep;
  DlqRedriveStats st;
  REQUIRE(RunDlqRedrive(o, &rep, &st).ok());
  CHECK(st.planned == 8);
  CHECK(st.no_coordinates == 1);
  CHECK((st.per_destination[{"orders", 0}]) == 4);
  CHECK((st.per_destination[{"orders", 1}]) == 4);
  CHECK(st.per_fingerprint.size() == 2);
  CHECK(DlqRedrivePlanJson(st).find("\"would_send\":8") != std::string::npos);
  CHECK_FALSE(PathExists(d / "l"));
  // the cap (no Kafka needed: it refuses before anything is opened)
  o.dry_run = false;
  o.max = 5;
  Status s = RunDlqRedrive(o, &rep, &st);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message().find("refusing to redrive 8 records: more than --max 5") == 0);
  CHECK(st.capped);
  std::string json;
  CHECK(DlqLedgerStatus(d / "l", &json).code() == Code::kNotFound);
}

TEST_CASE("dlq redrive: a damaged ledger is refused, not overwritten", "[dlq]") {
  test::TempDir d;
  test::WriteFile(d / "dlq.jsonl", Dlq(1));
  test::WriteFile(d / "l", "{\"identity\":\"x\",\"done\":[{\"topic\":\"dlq\",\"partition\":0,\"ranges\":[[5,3]]}]}");
  DlqRedriveOptions o;
  o.read.sel.paths = {d / "dlq.jsonl"};
  o.ledger = d / "l";
  o.identity = "x";
  CountingReporter rep;
  DlqRedriveStats st;
  CHECK(RunDlqRedrive(o, &rep, &st).code() == Code::kCorruption);
  test::WriteFile(d / "l", "not json");
  CHECK(RunDlqRedrive(o, &rep, &st).code() == Code::kCorruption);
  std::string json;
  CHECK(DlqLedgerStatus(d / "l", &json).code() == Code::kCorruption);
}
