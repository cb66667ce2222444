// lib/replay: source references, checkpoint files, destination truncation for resumes, and
// the selection (event time, keys, partitions, resume positions).
#include "lib/replay.h"
#include "lib/selection.h"

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/segment_writer.h"
#include "tests/testutil.h"

using namespace evt;

TEST_CASE("replay: evt.source references") {
  std::string t;
  int32_t p = -1;
  int64_t o = -1;
  REQUIRE(ParseSourceRef("orders/3/1234", &t, &p, &o));
  CHECK((t == "orders" && p == 3 && o == 1234));
  REQUIRE(ParseSourceRef("a/b/2/5", &t, &p, &o));  // topics may not hold '/', but parse from the right
  CHECK((t == "a/b" && p == 2 && o == 5));
  CHECK(!ParseSourceRef("orders/x/1", &t, &p, &o));
  CHECK(!ParseSourceRef("orders/1/", &t, &p, &o));
  CHECK(!ParseSourceRef("1/2", &t, &p, &o));
  CHECK(!ParseSourceRef("o/-1/2", &t, &p, &o));
}

TEST_CASE("replay: checkpoints round-trip and reject foreign files") {
  test::TempDir d;
  Checkpoint c;
  c.identity = IdentityHash("x");
  c.replay_id = NewReplayId();
  c.positions[{"a\"b", 0}] = 10;
  c.positions[{"t", 7}] = 99;
  c.jsonl_records = 5;
  c.dest_kind = "segments";
  c.dest_ends["/x/t-0"] = 42;
  c.dest_size = 17;
  REQUIRE(WriteCheckpoint(d / "ck", c).ok());
  auto r = ReadCheckpoint(d / "ck");
  REQUIRE(r.ok());
  CHECK(r->identity == c.identity);
  CHECK(r->replay_id == c.replay_id);
  CHECK(r->positions == c.positions);
  CHECK(r->dest_ends == c.dest_ends);
  CHECK((r->jsonl_records == 5 && r->dest_size == 17 && !r->complete));
  CHECK(IdentityHash("x") != IdentityHash("y"));
  CHECK(ReadCheckpoint(d / "none").status().code() == Code::kNotFound);
  test::WriteFile(d / "bad", "{\"positions\":3");
  CHECK(ReadCheckpoint(d / "bad").status().code() == Code::kCorruption);
  test::WriteFile(d / "other", "{\"a\":1}");
  CHECK(!ReadCheckpoint(d / "other").ok());
}

TEST_CASE("replay: a destination partition is cut back to a checkpointed end") {
  test::TempDir d;
  auto r = test::RunEvt("gen --count 1000 --batch-records 7 --segment-bytes 20000 --topic t --output " + d.path());
  REQUIRE(r.exit_code == 0);
  std::string dir = d / "t-0";
  CHECK(*PartitionNextOffset(dir) == 1000);
  CHECK(*PartitionNextOffset(d / "nope-0") == 0);
  uint64_t removed = 0;
  REQUIRE(TruncatePartitionTo(dir, 2000, &removed).ok());
  CHECK(removed == 0);
  REQUIRE(TruncatePartitionTo(dir, 700, &removed).ok());
  CHECK(removed == 300);
  CHECK(*PartitionNextOffset(dir) == 700);
  REQUIRE(TruncatePartitionTo(dir, 0, &removed).ok());
  CHECK(removed == 700);
  CHECK(*PartitionNextOffset(dir) == 0);
  // The writer appends after the cut, from the cut offset.
  auto w = test::RunEvt("gen --count 10 --topic t --output " + d.path());
  REQUIRE(w.exit_code == 0);
  CHECK(*PartitionNextOffset(dir) == 10);
  CHECK(test::RunEvt("verify " + dir).exit_code == 0);
}

TEST_CASE("replay: selection by event time, keys, partitions and resume positions") {
  test::TempDir d;
  std::string in;
  for (int i = 0; i < 30; ++i)
    in += "{\"topic\":\"s\",\"partition\":" + std::to_string(i % 2) + ",\"key\":\"k" + std::to_string(i % 5) +
          "\",\"value\":{\"at\":" + std::to_string(1000 * i) + "},\"timestamp\":" + std::to_string(i) + "}\n";
  REQUIRE(test::RunEvt("write " + d.path(), in).exit_code == 0);
  test::WriteFile(d / "keys", "k1\nk3\n");
  SelectionOptions o;
  o.sources = {d.path()};
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
    std::vector<int64_t> offs;
    RecordBatch b;
    for (;;) {
      bool eof = false;
      REQUIRE((*sel)->Next(&b, &eof).ok());
      if (eof) break;
      for (const auto& r : b.records) offs.push_back(r.offset);
    }
    return offs;
  };
  // partition 1 holds i = 1,3,...,29 at offsets 0..14; keys k1/k3 are i%5 in {1,3}: i = 11, 13 (and 1, 3,
  // 21, 23 outside the time window).
  CHECK(run({}) == std::vector<int64_t>{5, 6});
  CHECK(run({{{"s", 1}, 6}}) == std::vector<int64_t>{6});
  CHECK(run({{{"s", 1}, 7}}).empty());
}
