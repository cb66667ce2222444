#include "lib/jobs/dlq_ledger.h"

#include <catch2/catch.hpp>

#include "lib/jobs/dlq.h"
#include "tests/testutil.h"

using namespace evt;

namespace {
Code ParseCode(const std::string& text) {
  auto l = ParseDlqLedger(text, "l");
  return l.ok() ? Code::kOk : l.status().code();
}
std::string WithDone(const std::string& done) {
  return "{\"version\":1,\"identity\":\"x\",\"done\":[" + done + "]}";
}
}  // namespace

TEST_CASE("dlq ledger: what WriteDlqLedger writes reads back the same", "[dlq]") {
  test::TempDir d;
  DlqLedger l;
  l.identity = "id";
  l.source = "src \"quoted\"\n";
  l.last_run = "run";
  l.clean = false;
  l.runs = 3;
  l.redriven = 5;
  for (int64_t off : {4, 0, 2, 1, 3, 9}) CHECK(l.Add({"dlq", 0}, off));
  CHECK_FALSE(l.Add({"dlq", 0}, 2));
  CHECK(l.Add({"in.jsonl", -1}, 77));
  l.dest_ends["orders"]["0"] = 12;
  REQUIRE(WriteDlqLedger(d / "l", &l).ok());
  auto r = ReadDlqLedger(d / "l");
  REQUIRE(r.ok());
  CHECK(r->identity == "id");
  CHECK(r->source == l.source);
  CHECK(r->last_run == "run");
  CHECK_FALSE(r->clean);
  CHECK(r->runs == 3);
  CHECK(r->redriven == 5);
  CHECK(r->updated_ms == l.updated_ms);
  CHECK(r->done == l.done);
  CHECK(r->done.at({"dlq", 0}) == DlqLedger::Ranges{{0, 4}, {9, 9}});
  CHECK(r->dest_ends == l.dest_ends);
  CHECK(DlqLedgerText(*r) == DlqLedgerText(l));
  CHECK(ReadDlqLedger(d / "none").status().code() == Code::kNotFound);
}

// Found while writing ledger_fuzz: a range reaching INT64_MAX (or from INT64_MIN) made
// `--status` count z - a + 1 past INT64_MAX (signed overflow, UBSan), and a negative
// "runs" read as 2^64-1, written back as a number the reader then ignored (the count reset to 0).
TEST_CASE("dlq ledger: out-of-range numbers are refused, not wrapped", "[dlq]") {
  CHECK(ParseCode(WithDone(R"({"topic":"t","partition":0,"ranges":[[0,5],[7,9]]})")) == Code::kOk);
  CHECK(ParseCode(WithDone(R"({"topic":"t","partition":-1,"ranges":[[0,5]]})")) == Code::kOk);
  CHECK(ParseCode(WithDone(R"({"topic":"t","partition":0,"ranges":[[-9223372036854775808,9223372036854775806]]})")) ==
        Code::kCorruption);
  CHECK(ParseCode(WithDone(R"({"topic":"t","partition":0,"ranges":[[0,9223372036854775807]]})")) ==
        Code::kCorruption);
  CHECK(ParseCode(WithDone(R"({"topic":"t","partition":0,"ranges":[[-1,3]]})")) == Code::kCorruption);
  CHECK(ParseCode(WithDone(R"({"topic":"t","partition":4294967296,"ranges":[[0,1]]})")) == Code::kCorruption);
  CHECK(ParseCode(WithDone(R"({"topic":"t","partition":-2,"ranges":[[0,1]]})")) == Code::kCorruption);
  CHECK(ParseCode(WithDone(R"({"topic":"t","partition":0,"ranges":[[3,5],[4,6]]})")) == Code::kCorruption);
  CHECK(ParseCode(R"({"identity":"x","runs":-1})") == Code::kCorruption);
  CHECK(ParseCode(R"({"identity":"x","runs":"3"})") == Code::kCorruption);
  CHECK(ParseCode(R"({"identity":"x","clean":1})") == Code::kCorruption);
  CHECK(ParseCode(R"({"identity":"x","dest_ends":{"t":{"0":-4}}})") == Code::kCorruption);
  CHECK(ParseCode(R"({"identity":"x","version":2})") == Code::kCorruption);
  CHECK(ParseCode(R"({"identity":"x","runs":18446744073709551615})") == Code::kOk);
  CHECK(ParseCode("[]") == Code::kCorruption);
  CHECK(ParseCode("") == Code::kCorruption);
  auto big = ParseDlqLedger(WithDone(R"({"topic":"t","partition":0,"ranges":[[0,9223372036854775806]]})"), "l");
  REQUIRE(big.ok());
  test::TempDir d;
  test::WriteFile(d / "l", DlqLedgerText(*big));
  std::string json;
  REQUIRE(DlqLedgerStatus(d / "l", &json).ok());
  CHECK(json.find("\"records\":9223372036854775807") != std::string::npos);
}

TEST_CASE("dlq ledger: positions it could not write back are not added", "[dlq]") {
  DlqLedger l;
  l.identity = "x";
  CHECK_FALSE(l.Add({"t", 0}, -1));
  CHECK_FALSE(l.Add({"t", 0}, INT64_MAX));
  CHECK(l.Add({"t", 0}, DlqLedger::kMaxPosition));
  CHECK(l.Add({"t", 0}, DlqLedger::kMaxPosition - 1));
  CHECK(l.done.at({"t", 0}) == DlqLedger::Ranges{{DlqLedger::kMaxPosition - 1, DlqLedger::kMaxPosition}});
  CHECK(ParseDlqLedger(DlqLedgerText(l), "l").ok());
}

TEST_CASE("dlq ledger: RangesOf + AddTo (redrive's batched adds) keep what Add keeps", "[dlq]") {
  DlqLedger a, b;
  const DlqLedger::TP tp{"dlq", 3};
  const int64_t offs[] = {5, 6, 7, 1, 9, 8, 6, 0, -1, 2};
  std::vector<bool> added_a, added_b;
  for (int64_t off : offs) added_a.push_back(a.Add(tp, off));
  DlqLedger::Ranges& v = b.RangesOf(tp);
  for (int64_t off : offs) added_b.push_back(DlqLedger::AddTo(&v, off));
  CHECK(added_a == added_b);
  CHECK(a.done == b.done);
  CHECK(b.done.at(tp) == DlqLedger::Ranges{{0, 2}, {5, 9}});
  // Has() sees what AddTo added after an earlier Has() cached the partition.
  RecordBatch batch;
  batch.topic = "dlq";
  DlqLedger c;
  CHECK_FALSE(c.Has(batch, 3, 4));
  DlqLedger::AddTo(&c.RangesOf(tp), 4);
  CHECK(c.Has(batch, 3, 4));
}
