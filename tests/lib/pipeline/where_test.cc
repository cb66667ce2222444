// lib/where: WhereSource over a segment source built here: matching and non-matching
// expressions, record variables, values that are not JSON (null, or an error with
// --strict), evaluation errors counted and summarised, and bad expressions.
#include "lib/pipeline/where.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "lib/log/segment.h"
#include "tests/testutil.h"

using namespace evt;
using namespace evt::test;

namespace {

// Offsets 0..5 of t-0, in batches of 2, keys k<offset>, header h=<offset>.
const char* const kValues[] = {
    "{\"type\":\"a\",\"n\":1}",  // 0
    "{\"type\":\"b\",\"n\":2}",  // 1
    "not json",                  // 2
    "{\"type\":\"a\",\"n\":\"x\"}",  // 3: .n + 1 raises an error
    nullptr,                     // 4: a tombstone
    "{\"type\":\"a\",\"n\":5}",  // 5
};

std::string Partition(const TempDir& tmp) {
  std::string dir = tmp / "t-0";
  std::vector<RecordSpec> recs;
  for (int i = 0; i < 6; ++i) {
    RecordSpec s;
    s.timestamp = 1000 + i;
    s.has_key = true;
    s.key_bytes = "k" + std::to_string(i);
    if (kValues[i]) s.value = kValues[i];
    else s.null_value = true;
    s.headers = {{"h", std::to_string(i)}};
    recs.push_back(s);
  }
  PartitionSpec spec;
  spec.batch_records = 2;
  WritePartition(dir, recs, spec);
  return dir;
}

std::unique_ptr<Source> Segments(const std::string& dir, Reporter* rep) {
  auto parts = DiscoverPartitions(dir);
  REQUIRE(parts.ok());
  return std::make_unique<SegmentSource>(*parts, ReadOptions{}, rep);
}

struct Result_ {
  Status status;
  std::vector<int64_t> offsets;
  uint64_t evaluated = 0, errors = 0;
};

Result_ Select(const std::string& dir, RecordingReporter* rep, std::vector<std::string> exprs, bool strict = false) {
  WhereOptions o;
  o.exprs = std::move(exprs);
  o.strict = strict;
  auto w = WhereSource::Create(Segments(dir, rep), o, rep);
  REQUIRE(w.ok());
  Result_ r;
  RecordBatch b;
  for (;;) {
    bool eof = false;
    r.status = (*w)->Next(&b, &eof);
    for (const Record& rec : b.records) r.offsets.push_back(rec.offset);
    if (!r.status.ok() || eof) break;
  }
  r.evaluated = (*w)->evaluated();
  r.errors = (*w)->errors();
  return r;
}

}  // namespace

TEST_CASE("where: matching and non-matching expressions", "[where]") {
  TempDir tmp;
  std::string dir = Partition(tmp);
  RecordingReporter rep;
  auto r = Select(dir, &rep, {".type == \"a\""});
  CHECK(r.status.ok());
  CHECK(r.offsets == std::vector<int64_t>{0, 3, 5});
  CHECK(r.evaluated == 6);
  CHECK(r.errors == 0);
  CHECK(rep.notices.empty());  // nothing was skipped for an error

  r = Select(dir, &rep, {".type == \"z\""});
  CHECK(r.status.ok());
  CHECK(r.offsets.empty());
  CHECK(r.evaluated == 6);

  // Several expressions are ANDed.
  r = Select(dir, &rep, {".type == \"a\"", "$offset > 0"});
  CHECK(r.offsets == std::vector<int64_t>{3, 5});
  r = Select(dir, &rep, {"true", "false"});
  CHECK(r.offsets.empty());
}

TEST_CASE("where: record variables", "[where]") {
  TempDir tmp;
  std::string dir = Partition(tmp);
  RecordingReporter rep;
  CHECK(Select(dir, &rep, {"$key == \"k4\""}).offsets == std::vector<int64_t>{4});
  CHECK(Select(dir, &rep, {"$timestamp >= 1004"}).offsets == std::vector<int64_t>{4, 5});
  CHECK(Select(dir, &rep, {"$headers.h == \"2\""}).offsets == std::vector<int64_t>{2});
  CHECK(Select(dir, &rep, {"$partition == 0 and $topic == \"t\" and $offset == 1"}).offsets ==
        std::vector<int64_t>{1});
}

TEST_CASE("where: values that are not JSON are null, a tombstone too", "[where]") {
  TempDir tmp;
  std::string dir = Partition(tmp);
  RecordingReporter rep;
  // `.` is null for "not json" (offset 2) and for the tombstone (offset 4).
  CHECK(Select(dir, &rep, {". == null"}).offsets == std::vector<int64_t>{2, 4});
  CHECK(Select(dir, &rep, {".type == null"}).offsets == std::vector<int64_t>{2, 4});
  CHECK(rep.notices.empty());
}

TEST_CASE("where --strict: a value that is not JSON stops with file@position", "[where]") {
  TempDir tmp;
  std::string dir = Partition(tmp);
  std::string log = dir + "/00000000000000000000.log";
  auto pos = BatchPositions(ReadFile(log));
  REQUIRE(pos.size() == 3);
  RecordingReporter rep;
  auto r = Select(dir, &rep, {".type == \"a\""}, /*strict=*/true);
  CHECK(r.status.code() == Code::kDataProblem);
  CHECK_THAT(r.status.message(), Catch::StartsWith(fmt::format("{}@{} (offset 2): --strict: ", log, pos[1])));
  CHECK(r.offsets == std::vector<int64_t>{0});  // what was selected before it is still returned
  // A tombstone has no value to be invalid: strict passes over it.
  auto t = Select(dir, &rep, {"$offset >= 4"}, /*strict=*/true);
  CHECK(t.status.ok());
  CHECK(t.offsets == std::vector<int64_t>{4, 5});
}

TEST_CASE("where: evaluation errors are counted, skipped and summarised once", "[where]") {
  TempDir tmp;
  std::string dir = Partition(tmp);
  RecordingReporter rep;
  auto r = Select(dir, &rep, {".n + 1 > 2"});
  CHECK(r.status.ok());
  CHECK(r.offsets == std::vector<int64_t>{1, 5});  // null + 1 is 1 (offsets 2 and 4): not an error
  CHECK(r.errors == 1);
  CHECK(r.evaluated == 6);
  REQUIRE(rep.notices.size() == 1);
  CHECK_THAT(rep.notices[0],
             Catch::StartsWith("--where: 1 record was not selected because evaluation raised an error (first: t/0@3: "));
  CHECK(rep.corruptions == 0);

  RecordingReporter rep2;
  auto all = Select(dir, &rep2, {"$offset / 0 > 1"});
  CHECK(all.status.ok());
  CHECK(all.offsets.empty());
  CHECK(all.errors == 6);
  REQUIRE(rep2.notices.size() == 1);
  CHECK_THAT(rep2.notices[0], Catch::StartsWith("--where: 6 records were not selected because evaluation raised an error"));
}

TEST_CASE("where: a corrupt batch ends the read after the records before it were filtered", "[where]") {
  TempDir tmp;
  std::string dir = Partition(tmp);
  std::string log = dir + "/00000000000000000000.log";
  std::string data = ReadFile(log);
  auto pos = BatchPositions(data);
  FlipByte(&data, pos[2] + 70);
  WriteFile(log, data);
  RecordingReporter rep;
  auto r = Select(dir, &rep, {".type == \"a\""});
  CHECK(r.status.IsCorruption());
  CHECK(r.offsets == std::vector<int64_t>{0, 3});
}

TEST_CASE("where: bad expressions are usage errors with a caret; no expression, no wrapper", "[where]") {
  TempDir tmp;
  std::string dir = Partition(tmp);
  RecordingReporter rep;
  WhereOptions o;
  o.exprs = {".type =="};
  auto w = WhereSource::Create(Segments(dir, &rep), o, &rep);
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().code() == Code::kInvalidArgument);
  CHECK_THAT(w.status().message(), Catch::StartsWith("--where: "));
  CHECK_THAT(w.status().message(), Catch::Contains("^"));
  CHECK(MaybeWhere(Segments(dir, &rep), o, &rep).status().code() == Code::kInvalidArgument);

  std::unique_ptr<Source> plain = Segments(dir, &rep);
  Source* raw = plain.get();
  auto same = MaybeWhere(std::move(plain), WhereOptions{}, &rep);
  REQUIRE(same.ok());
  CHECK(same->get() == raw);
  o.exprs = {"true"};
  auto wrapped = MaybeWhere(Segments(dir, &rep), o, &rep);
  REQUIRE(wrapped.ok());
  CHECK((*wrapped)->Describe() == dir);
  CHECK_FALSE((*wrapped)->wants_ack());
}
