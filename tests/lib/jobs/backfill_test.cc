// lib/backfill: backoff parsing, and a run through --pipe and --exec workers.
#include "lib/jobs/backfill.h"

#include <catch2/catch.hpp>

#include "tests/testutil.h"

using namespace evt;

TEST_CASE("backfill: --backoff MIN..MAX") {
  int64_t a = 0, b = 0;
  REQUIRE(ParseBackoff("100ms..30s", &a, &b).ok());
  CHECK((a == 100 && b == 30000));
  REQUIRE(ParseBackoff("2s", &a, &b).ok());
  CHECK((a == 2000 && b == 2000));
  CHECK(!ParseBackoff("5s..1s", &a, &b).ok());
  CHECK(!ParseBackoff("x..1s", &a, &b).ok());
  CHECK(!ParseBackoff("", &a, &b).ok());
}

TEST_CASE("backfill: workers answer, fail and retry, with dead letters and counts") {
  test::TempDir d;
  REQUIRE(test::RunEvt("gen --count 90 --partitions 3 --keys 7 --output " + d.path()).exit_code == 0);
  CountingReporter rep;
  BackfillOptions o;
  o.sel.paths = {d.path()};
  o.pipe_cmd = "awk '{print \"ok\"; fflush()}'";
  o.workers = 2;
  BackfillStats st;
  REQUIRE(RunBackfill(o, &rep, &st).ok());
  CHECK((st.handed == 90 && st.ok == 90 && st.dead_lettered == 0));

  // Offsets 3 fail for good (one per partition); everything else succeeds on attempt 2.
  o.pipe_cmd.clear();
  o.exec_cmd = "case \"$EVT_OFFSET\" in 3) exit 1;; esac; test \"$EVT_ATTEMPT\" -ge 2";
  o.retries = 2;
  o.backoff_min_ms = o.backoff_max_ms = 1;
  o.dead_letter = d / "dl.jsonl";
  o.workers = 4;
  BackfillStats st2;
  Status s = RunBackfill(o, &rep, &st2);
  CHECK(s.code() == Code::kDataProblem);
  CHECK(st2.dead_lettered == 3);
  CHECK(st2.ok == 87);
  CHECK(st2.attempts == 87 * 2 + 3 * 3);
  std::string dl = test::ReadFile(d / "dl.jsonl");
  CHECK(std::count(dl.begin(), dl.end(), '\n') == 3);
  CHECK(dl.find("\"__connect.errors.exception.class.name\",\"value\":\"evt.backfill.WorkerFailure\"") !=
        std::string::npos);
}
