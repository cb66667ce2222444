// lib/retain: size parsing and the retention rules on a directory written by evt itself.
#include "lib/jobs/retain.h"

#include <catch2/catch.hpp>

#include "tests/testutil.h"

using namespace evt;

TEST_CASE("retain: byte sizes are powers of 1024") {
  CHECK(*ParseByteSize("4096") == 4096);
  CHECK(*ParseByteSize("10K") == 10240);
  CHECK(*ParseByteSize("512M") == 512ll << 20);
  CHECK(*ParseByteSize("10G") == 10ll << 30);
  CHECK(*ParseByteSize("2TiB") == 2ll << 40);
  CHECK(!ParseByteSize("").ok());
  CHECK(!ParseByteSize("G").ok());
  CHECK(!ParseByteSize("10X").ok());
  CHECK(!ParseByteSize("99999999999999999999").ok());
  CHECK(!ParseByteSize("9000000000T").ok());
}

TEST_CASE("retain: rules select a prefix and never the active segment") {
  test::TempDir dir;
  // 10 segments of 100 records, timestamps 1000 * offset.
  auto r = test::RunEvt("gen --count 1000 --start 1970-01-01T00:00:01Z --step 1s --batch-records 50 --segment-bytes 9000 "
                        "--topic t --output " + dir.path());
  REQUIRE(r.exit_code == 0);
  CountingReporter rep;
  RetainOptions o;
  o.paths = {dir.path()};
  std::vector<RetainPartition> out;
  CHECK(RunRetain(o, &rep, &out).code() == Code::kInvalidArgument);  // no rule

  o.dry_run = true;
  o.max_age_ms = 0;
  o.now_ms = INT64_MAX / 2;
  out.clear();
  REQUIRE(RunRetain(o, &rep, &out).ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].deleted.size() + 1 == out[0].segments_before);  // all but the active one

  o.max_age_ms = -1;
  o.before = Bound{Bound::kOffset, 0};
  out.clear();
  REQUIRE(RunRetain(o, &rep, &out).ok());
  CHECK(out[0].deleted.empty());
  CHECK(out[0].new_start_offset == 0);

  o.before = Bound{Bound::kOffset, 1000000};
  out.clear();
  REQUIRE(RunRetain(o, &rep, &out).ok());
  CHECK(out[0].deleted.size() + 1 == out[0].segments_before);
  for (size_t i = 1; i < out[0].deleted.size(); ++i)
    CHECK(out[0].deleted[i].base_offset == out[0].deleted[i - 1].last_offset + 1);  // a contiguous prefix
}
