// lib/jobs/offsets: the plan's arithmetic (every mode, clamping, a shift without a commit),
// plan files (kafka-consumer-groups' CSV with and without groups, evt's JSON Lines, bad
// lines named), and the plan's outputs; the cluster side runs in tests/e2e/offsets.sh.
#include "lib/jobs/offsets.h"

#include <catch2/catch.hpp>

using namespace evt;

TEST_CASE("ResetTarget and ClampOffset: every mode, kafka-consumer-groups' clamping") {
  std::string note;
  CHECK(ResetTarget(ResetMode::kEarliest, 0, 7, 3, 20, -1, &note) == 3);
  CHECK(ResetTarget(ResetMode::kLatest, 0, 7, 3, 20, -1, &note) == 20);
  CHECK(ResetTarget(ResetMode::kOffset, 12, 7, 3, 20, -1, &note) == 12);
  CHECK(ResetTarget(ResetMode::kFile, 15, -1, 3, 20, -1, &note) == 15);
  CHECK(ResetTarget(ResetMode::kDatetime, 0, 7, 3, 20, 9, &note) == 9);
  CHECK(ResetTarget(ResetMode::kShiftBy, -10, 7, 3, 20, -1, &note) == -3);  // clamped later
  CHECK(ResetTarget(ResetMode::kShiftBy, 5, 7, 3, 20, -1, &note) == 12);
  CHECK(note.empty());
  ResetTarget(ResetMode::kShiftBy, 5, -1, 3, 20, -1, &note);
  CHECK(note.find("no committed offset to shift from") != std::string::npos);
  bool clamped = false;
  CHECK(ClampOffset(-3, 3, 20, &clamped) == 3);
  CHECK(clamped);
  CHECK(ClampOffset(25, 3, 20, &clamped) == 20);
  CHECK(clamped);
  CHECK(ClampOffset(20, 3, 20, &clamped) == 20);
  CHECK(!clamped);
  CHECK(ClampOffset(3, 3, 20, &clamped) == 3);
  CHECK(!clamped);
}

TEST_CASE("OffsetRow: records skipped and read again") {
  OffsetRow r;
  r.low = 0;
  r.end = 100;
  r.committed = 40;
  r.next = 70;
  CHECK(r.Skipped() == 30);
  CHECK(r.Reread() == 0);
  r.next = 10;
  CHECK(r.Skipped() == 0);
  CHECK(r.Reread() == 30);
  r.committed = -1;  // no commit: a consumer would start at the log start
  r.low = 5;
  CHECK(r.Skipped() == 5);
  CHECK(r.Reread() == 0);
  r.next = -1;  // left out
  CHECK(r.Skipped() == 0);
}

TEST_CASE("ParsePlanFile: kafka-consumer-groups' CSV") {
  auto p = ParsePlanFile("orders,0,5\norders,1,7\r\n\naudit,0,0\n", "plan.csv", "g");
  REQUIRE(p.ok());
  REQUIRE(p->size() == 3);
  CHECK((*p)[1].topic == "orders");
  CHECK((*p)[1].partition == 1);
  CHECK((*p)[1].offset == 7);
  // several groups: only this group's lines; a header line
  p = ParsePlanFile("group,topic,partition,offset\ng,orders,0,5\nh,orders,0,9\n", "x.csv", "g");
  REQUIRE(p.ok());
  REQUIRE(p->size() == 1);
  CHECK((*p)[0].offset == 5);
  CHECK(ParsePlanFile("h,orders,0,9\n", "x.csv", "g").status().message().find("no offsets for group g") !=
        std::string::npos);
  auto bad = ParsePlanFile("orders,0,5\norders,0\n", "x.csv", "g");
  CHECK(bad.status().message().find("x.csv:2: expected topic,partition,offset") == 0);
  CHECK(ParsePlanFile("orders,-1,5\n", "x.csv", "g").status().message().find("x.csv:1: '-1' is not a partition") == 0);
  CHECK(ParsePlanFile("orders,0,-5\n", "x.csv", "g").status().message().find("'-5' is not an offset") !=
        std::string::npos);
  CHECK(ParsePlanFile("orders,0,5\norders,0,6\n", "x.csv", "g").status().message().find("planned twice") !=
        std::string::npos);
  CHECK(!ParsePlanFile("", "x.csv", "g").ok());
}

TEST_CASE("ParsePlanFile: evt's JSON Lines (its export and its stdout)") {
  std::string text =
      "{\"kind\":\"partition\",\"group\":\"g\",\"topic\":\"orders\",\"partition\":0,\"current\":2,\"new\":0}\n"
      "{\"kind\":\"partition\",\"group\":\"g\",\"topic\":\"orders\",\"partition\":2,\"current\":null,\"new\":null}\n"
      "{\"kind\":\"partition\",\"group\":\"other\",\"topic\":\"orders\",\"partition\":1,\"new\":4}\n"
      "{\"topic\":\"audit\",\"partition\":0,\"offset\":3}\n"
      "{\"kind\":\"total\",\"group\":\"g\",\"partitions\":2}\n";
  auto p = ParsePlanFile(text, "plan.json", "g");
  REQUIRE(p.ok());
  REQUIRE(p->size() == 2);  // the left-out partition, the other group and the total skipped
  CHECK((*p)[0].topic == "orders");
  CHECK((*p)[0].offset == 0);
  CHECK((*p)[1].topic == "audit");
  CHECK((*p)[1].offset == 3);
  CHECK(ParsePlanFile("{\"topic\":\"t\",\"partition\":0}\n", "p.json", "g").status().message().find(
            "p.json:1: no \"new\" or \"offset\"") == 0);
  CHECK(ParsePlanFile("{\"topic\":\"t\",\"partition\":0,\n", "p.json", "g").status().message().find("not a JSON") !=
        std::string::npos);
}

TEST_CASE("The plan's outputs: table with totals, JSON Lines that --from-file reads back, CSV") {
  OffsetsReport r;
  r.group = "g";
  r.members_note = "unknown: the broker does not answer DescribeGroups";
  OffsetRow a;
  a.topic = "orders";
  a.partition = 0;
  a.committed = 40;
  a.low = 0;
  a.end = 100;
  a.wanted = 150;
  a.next = 100;
  a.clamped = true;
  a.note = "150 is past the log end 100: clamped";
  OffsetRow b = a;
  b.partition = 1;
  b.committed = 50;
  b.wanted = b.next = 20;
  b.clamped = false;
  b.note.clear();
  r.rows = {a, b};
  std::string table = ResetPlanTable(r);
  CHECK(table.find("skips 60") != std::string::npos);
  CHECK(table.find("re-reads 30") != std::string::npos);
  CHECK(table.find("2 partitions, 2 changed: 60 records skipped, 30 read again, 1 clamped") != std::string::npos);
  CHECK(table.find("plan only") != std::string::npos);
  std::string json = ResetPlanJson(r);
  CHECK(json.find("\"clamped\":true,\"wanted\":150") != std::string::npos);
  CHECK(json.find("\"kind\":\"total\",\"group\":\"g\",\"partitions\":2,\"changed\":2,\"skipped\":60,\"reread\":30") !=
        std::string::npos);
  auto back = ParsePlanFile(json, "stdout", "g");
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  CHECK((*back)[0].offset == 100);
  CHECK((*back)[1].offset == 20);
  CHECK(ResetPlanCsv(r) == "orders,0,100\norders,1,20\n");
  auto csv = ParsePlanFile(ResetPlanCsv(r), "plan.csv", "g");
  REQUIRE(csv.ok());
  CHECK(csv->size() == 2);
}
