// lib/checkpoint: the checkpoint file of long jobs.
#include "lib/pipeline/checkpoint.h"

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "tests/testutil.h"

using namespace evt;

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
