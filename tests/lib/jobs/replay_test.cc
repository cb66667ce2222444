// lib/replay: destination truncation for resumes, and stopping a replay with its token.
#include "lib/jobs/replay.h"
#include "lib/pipeline/checkpoint.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>

#include "lib/base/file.h"
#include "lib/log/segment_writer.h"
#include "tests/testutil.h"

using namespace evt;

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

TEST_CASE("replay: a stop token stops the job cleanly with a checkpoint, and a rerun finishes it") {
  test::TempDir d;
  std::string in;
  for (int i = 0; i < 100; ++i)
    in += "{\"topic\":\"s\",\"partition\":0,\"key\":\"k" + std::to_string(i) + "\",\"value\":\"v\"}\n";
  REQUIRE(test::RunEvt("write " + (d / "src"), in).exit_code == 0);
  std::atomic<bool> stop{true};
  ReplayOptions o;
  o.sel.paths = {d / "src"};
  o.dst = d / "out.jsonl";
  o.checkpoint = d / "ck";
  o.identity = "test";
  o.stop = StopToken(&stop);
  CountingReporter rep;
  ReplayStats st;
  CHECK(RunReplay(o, &rep, &st).code() == Code::kInterrupted);
  auto ck = ReadCheckpoint(d / "ck");
  REQUIRE(ck.ok());
  CHECK(!ck->complete);
  CHECK(ck->dest_kind == "jsonl");
  CHECK(ck->dest_size == 0);
  stop = false;
  ReplayStats st2;
  REQUIRE(RunReplay(o, &rep, &st2).ok());
  CHECK(st2.resumed);
  CHECK(st2.written == 100);
  ck = ReadCheckpoint(d / "ck");
  REQUIRE(ck.ok());
  CHECK(ck->complete);
  auto text = ReadFileToString(d / "out.jsonl");
  REQUIRE(text.ok());
  CHECK(std::count(text->begin(), text->end(), '\n') == 100);
  CHECK(static_cast<int64_t>(text->size()) == ck->dest_size);
}
