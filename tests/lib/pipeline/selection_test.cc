// lib/selection: the records a replay or backfill selects, resumable from positions.
#include "lib/pipeline/selection.h"

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "tests/testutil.h"

using namespace evt;

namespace {
// The source offsets a selection yields, in order.
std::vector<int64_t> Offsets(Selection& sel) {
  std::vector<int64_t> offs;
  RecordBatch b;
  for (;;) {
    bool eof = false;
    REQUIRE(sel.Next(&b, &eof).ok());
    if (eof) break;
    for (const auto& r : b.records) offs.push_back(r.offset);
  }
  return offs;
}
}  // namespace

TEST_CASE("replay: selection by event time, keys, partitions and resume positions") {
  test::TempDir d;
  std::string in;
  for (int i = 0; i < 30; ++i)
    in += "{\"topic\":\"s\",\"partition\":" + std::to_string(i % 2) + ",\"key\":\"k" + std::to_string(i % 5) +
          "\",\"value\":{\"at\":" + std::to_string(1000 * i) + "},\"timestamp\":" + std::to_string(i) + "}\n";
  REQUIRE(test::RunEvt("write " + d.path(), in).exit_code == 0);
  test::WriteFile(d / "keys", "k1\nk3\n");
  SelectionOptions o;
  o.paths = {d.path()};
  o.time_field = ".at";
  o.event_from = 4000;
  o.event_until = 20000;  // i in [4, 20)
  auto keys = ReadKeysFile(d / "keys");
  REQUIRE(keys.ok());
  o.keys = *keys;
  o.partitions = {1};
  CountingReporter rep;
  auto run = [&](const Positions& resume) {
    auto sel = Selection::Open(o, resume, 0, &rep);
    REQUIRE(sel.ok());
    return Offsets(**sel);
  };
  // partition 1 holds i = 1,3,...,29 at offsets 0..14; keys k1/k3 are i%5 in {1,3}: i = 11, 13 (and 1, 3,
  // 21, 23 outside the time window).
  CHECK(run({}) == std::vector<int64_t>{5, 6});
  CHECK(run({{{"s", 1}, 6}}) == std::vector<int64_t>{6});
  CHECK(run({{{"s", 1}, 7}}).empty());
}

TEST_CASE("replay --dedupe: only the records found in the destination are skipped, not every offset below them") {
  // A failed batch followed by acknowledged ones leaves a gap below the highest offset found:
  // the records in the gap were never delivered and must be sent again on resume.
  test::TempDir d;
  std::string in;
  for (int i = 0; i < 10; ++i)
    in += "{\"topic\":\"s\",\"partition\":0,\"key\":\"k\",\"value\":" + std::to_string(i) + "}\n";
  REQUIRE(test::RunEvt("write " + d.path(), in).exit_code == 0);
  SelectionOptions o;
  o.paths = {d.path()};
  CountingReporter rep;
  auto sel = Selection::Open(o, {}, 0, &rep);
  REQUIRE(sel.ok());
  (*sel)->SkipExactly({{{"s", 0}, {7, 1, 2, 8}}});  // 3..6 (a failed batch) are not among them
  CHECK(Offsets(**sel) == std::vector<int64_t>{0, 3, 4, 5, 6, 9});
}
