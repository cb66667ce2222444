// lib/verify: RunVerify and CheckIndexBesideLog on partition directories written by evt's
// own writer, clean and damaged (a flipped byte, a torn tail, bad indexes), with --repair.
#include "lib/jobs/verify.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "formats/kafka/layout.h"
#include "lib/base/coding.h"
#include "lib/log/segment_writer.h"
#include "tests/testutil.h"

using namespace evt;
using namespace evt::test;

namespace {

// 200 records of ~100 bytes in batches of 10: 20 batches, several .index entries.
std::string CleanPartition(const TempDir& tmp, const std::string& name = "t-0") {
  std::string dir = tmp / name;
  WritePartition(dir, SimpleRecords(200));
  return dir;
}

std::string Log(const std::string& dir) { return dir + "/00000000000000000000.log"; }
std::string Index(const std::string& dir) { return dir + "/00000000000000000000.index"; }
std::string TimeIndex(const std::string& dir) { return dir + "/00000000000000000000.timeindex"; }

struct Run {
  Status status;
  CountingReporter rep;
  std::vector<VerifyReport> reports;
};

void Verify(const std::string& dir, Run* r, bool repair = false, bool check_indexes = true) {
  VerifyOptions o;
  o.paths = {dir};
  o.repair = repair;
  o.check_indexes = check_indexes;
  r->status = RunVerify(o, &r->rep, &r->reports);
}

}  // namespace

TEST_CASE("verify: a clean partition is OK and counted", "[verify]") {
  TempDir tmp;
  std::string dir = CleanPartition(tmp);
  REQUIRE(ReadFile(Index(dir)).size() >= 2 * kafka::kOffsetIndexEntrySize);  // the index is exercised
  Run r;
  Verify(dir, &r);
  CHECK(r.status.ok());
  CHECK(r.rep.corruptions == 0);
  CHECK(r.rep.warnings == 0);
  REQUIRE(r.reports.size() == 1);
  const VerifyReport& v = r.reports[0];
  CHECK(v.topic == "t");
  CHECK(v.partition == 0);
  CHECK(v.path == dir);
  CHECK(v.segments == 1);
  CHECK(v.batches == 20);
  CHECK(v.records == 200);
  CHECK(v.control_records == 0);
  CHECK(v.errors == 0);
  CHECK(v.warnings == 0);
  CHECK(v.repaired == 0);
}

TEST_CASE("verify: several partitions and segments under one data directory", "[verify]") {
  TempDir tmp;
  PartitionSpec spec;
  spec.segment_bytes = 4096;
  WritePartition(tmp / "a-0", SimpleRecords(100), spec);
  WritePartition(tmp / "a-1", SimpleRecords(30), spec);
  Run r;
  Verify(tmp.path(), &r);
  CHECK(r.status.ok());
  REQUIRE(r.reports.size() == 2);
  CHECK(r.reports[0].partition == 0);
  CHECK(r.reports[0].segments > 1);
  CHECK(r.reports[0].records == 100);
  CHECK(r.reports[1].partition == 1);
  CHECK(r.reports[1].records == 30);
}

TEST_CASE("verify: a flipped byte is a CRC error at file@position of its batch", "[verify]") {
  TempDir tmp;
  std::string dir = CleanPartition(tmp);
  std::string log = ReadFile(Log(dir));
  auto pos = BatchPositions(log);
  REQUIRE(pos.size() == 20);
  FlipByte(&log, pos[5] + kafka::kRecordsOffset + 30);  // inside the records of batch 5
  WriteFile(Log(dir), log);
  Run r;
  Verify(dir, &r);
  CHECK(r.status.IsCorruption());
  CHECK(r.status.message() == "1 problem found");
  CHECK(r.rep.corruptions == 1);
  CHECK_THAT(r.rep.first_error, Catch::StartsWith(fmt::format("{}@{}: crc mismatch (stored 0x", Log(dir), pos[5])));
  REQUIRE(r.reports.size() == 1);
  CHECK(r.reports[0].errors == 1);
  CHECK(r.reports[0].batches == 19);  // the others are still checked
  CHECK(r.reports[0].records == 190);
}

TEST_CASE("verify: a flipped base offset (outside the CRC) breaks the offset order", "[verify]") {
  TempDir tmp;
  std::string dir = CleanPartition(tmp);
  std::string log = ReadFile(Log(dir));
  auto pos = BatchPositions(log);
  FlipByte(&log, pos[3] + kafka::kOffsetLength - 1, 0x10);  // base offset 30 -> 14
  WriteFile(Log(dir), log);
  Run r;
  Verify(dir, &r);
  CHECK(r.status.IsCorruption());
  CHECK(r.rep.corruptions == 1);  // one fault for the bad batch, none for those after it
  CHECK(r.rep.first_error ==
        fmt::format("{}@{}: offset 14 is not above the previous batch's last offset 29", Log(dir), pos[3]));
  CHECK(r.reports[0].errors == 1);
  CHECK(r.reports[0].batches == 19);
}

TEST_CASE("verify: a junk length field stops the segment there", "[verify]") {
  TempDir tmp;
  std::string dir = CleanPartition(tmp);
  std::string log = ReadFile(Log(dir));
  auto pos = BatchPositions(log);
  EncodeFixed32BE(log.data() + pos[2] + kafka::kSizeOffset, 3);  // below the v2 minimum
  WriteFile(Log(dir), log);
  Run r;
  Verify(dir, &r);
  CHECK(r.status.IsCorruption());
  CHECK(r.rep.first_error ==
        fmt::format("{}@{}: entry length 3 below the minimum {} for magic 2", Log(dir), pos[2], kafka::kBatchLengthMin));
  CHECK(r.reports[0].batches == 2);
}

TEST_CASE("verify: a torn tail of the newest segment is a warning; --repair truncates it", "[verify]") {
  TempDir tmp;
  std::string dir = CleanPartition(tmp);
  std::string log = ReadFile(Log(dir));
  auto pos = BatchPositions(log);
  Truncate(&log, pos[19] + 40);  // the last batch cut inside its header
  WriteFile(Log(dir), log);

  Run r;
  Verify(dir, &r);
  CHECK(r.status.ok());
  CHECK(r.rep.corruptions == 0);
  CHECK(r.rep.warnings >= 1);
  CHECK_THAT(r.rep.first_warning, Catch::StartsWith(fmt::format("{}@{}: torn tail: ", Log(dir), pos[19])));
  CHECK_THAT(r.rep.first_warning, Catch::EndsWith("(40 bytes); `--repair` truncates it"));
  CHECK(r.reports[0].batches == 19);
  CHECK(r.reports[0].records == 190);
  CHECK(r.reports[0].warnings >= 1);

  Run fix;
  Verify(dir, &fix, /*repair=*/true);
  CHECK(fix.status.ok());
  CHECK_THAT(fix.rep.first_warning, Catch::EndsWith("; truncating"));
  CHECK(fix.reports[0].repaired == 3);  // the log truncated, both indexes rewritten
  CHECK(ReadFile(Log(dir)).size() == pos[19]);

  Run again;
  Verify(dir, &again);
  CHECK(again.status.ok());
  CHECK(again.rep.warnings == 0);
  CHECK(again.reports[0].batches == 19);
}

TEST_CASE("verify: a torn batch in an older segment is corruption, not a tail", "[verify]") {
  TempDir tmp;
  std::string dir = tmp / "t-0";
  PartitionSpec spec;
  spec.segment_bytes = 4096;
  auto logs = WritePartition(dir, SimpleRecords(100), spec);
  REQUIRE(logs.size() >= 2);
  std::string first = ReadFile(logs[0]);
  Truncate(&first, first.size() - 10);
  WriteFile(logs[0], first);
  Run r;
  Verify(dir, &r);
  CHECK(r.status.IsCorruption());
  CHECK_THAT(r.rep.first_error, Catch::StartsWith(logs[0] + "@"));
  CHECK_THAT(r.rep.first_error, Catch::Contains("cut off"));
}

TEST_CASE("verify: bad indexes are errors; --repair rebuilds them as the writer wrote them", "[verify]") {
  TempDir tmp;
  std::string dir = CleanPartition(tmp);
  const std::string good_index = ReadFile(Index(dir));
  const std::string good_timeindex = ReadFile(TimeIndex(dir));

  SECTION("a size that is not a multiple of the entry size") {
    WriteFile(Index(dir), good_index + "xyz");
    Run r;
    Verify(dir, &r);
    CHECK(r.status.IsCorruption());
    CHECK(r.rep.first_error == fmt::format("{}@0: size {} is not a multiple of 8 (`--repair` rebuilds it)", Index(dir),
                                           good_index.size() + 3));
  }
  SECTION("an entry that points inside a batch") {
    std::string idx = good_index;
    EncodeFixed32BE(idx.data() + 4, DecodeFixed32BE(idx.data() + 4) + 1);
    WriteFile(Index(dir), idx);
    Run r;
    Verify(dir, &r);
    CHECK(r.status.IsCorruption());
    CHECK_THAT(r.rep.first_error, Catch::Contains("which is not the start of a batch"));
  }
  SECTION("a time index entry above the segment's largest timestamp") {
    std::string tidx = good_timeindex;
    REQUIRE(tidx.size() >= kafka::kTimeIndexEntrySize);
    size_t last = tidx.size() - kafka::kTimeIndexEntrySize;
    EncodeFixed64BE(tidx.data() + last, 1'000'000);
    WriteFile(TimeIndex(dir), tidx);
    Run r;
    Verify(dir, &r);
    CHECK(r.status.IsCorruption());
    CHECK_THAT(r.rep.first_error, Catch::StartsWith(TimeIndex(dir) + "@0: "));
    CHECK_THAT(r.rep.first_error, Catch::Contains("above the segment's largest timestamp 1199"));
  }
  // Each damage: --no-index does not look; --repair rebuilds the same bytes as the writer.
  Run skip;
  Verify(dir, &skip, false, /*check_indexes=*/false);
  CHECK(skip.status.ok());
  Run fix;
  Verify(dir, &fix, /*repair=*/true);
  CHECK(fix.status.ok());
  CHECK(fix.reports[0].repaired == 1);
  CHECK_THAT(fix.rep.first_warning, Catch::Contains("rebuilt: "));
  CHECK(ReadFile(Index(dir)) == good_index);
  CHECK(ReadFile(TimeIndex(dir)) == good_timeindex);
  Run again;
  Verify(dir, &again);
  CHECK(again.status.ok());
}

TEST_CASE("verify: missing indexes are fine, and --repair writes them", "[verify]") {
  TempDir tmp;
  std::string dir = CleanPartition(tmp);
  const std::string good_index = ReadFile(Index(dir));
  REQUIRE(RemoveFile(Index(dir)).ok());
  REQUIRE(RemoveFile(TimeIndex(dir)).ok());
  Run r;
  Verify(dir, &r);
  CHECK(r.status.ok());
  CHECK(r.rep.warnings == 0);
  Run fix;
  Verify(dir, &fix, /*repair=*/true);
  CHECK(fix.status.ok());
  CHECK(fix.reports[0].repaired == 2);
  CHECK(fix.rep.warnings == 0);  // nothing was wrong: written, not "rebuilt"
  CHECK(ReadFile(Index(dir)) == good_index);
  CHECK(PathExists(TimeIndex(dir)));
}

TEST_CASE("verify --repair refuses a partition another writer holds", "[verify]") {
  TempDir tmp;
  std::string dir = CleanPartition(tmp);
  CountingReporter wrep;
  auto w = PartitionWriter::Open(dir, WriterOptions{}, &wrep);
  REQUIRE(w.ok());
  Run r;
  Verify(dir, &r, /*repair=*/true);
  CHECK(r.status.code() == Code::kBusy);
  Run plain;  // reading needs no lock
  Verify(dir, &plain);
  CHECK(plain.status.ok());
}

TEST_CASE("verify: a path that does not exist is an error, not a clean result", "[verify]") {
  TempDir tmp;
  Run r;
  Verify(tmp / "nope-0", &r);
  CHECK_FALSE(r.status.ok());
  CHECK_FALSE(r.status.IsCorruption());
  CHECK(r.reports.empty());
}

TEST_CASE("CheckIndexBesideLog: consistent, inconsistent, and without a segment", "[verify]") {
  TempDir tmp;
  std::string dir = CleanPartition(tmp);
  bool checked = false;
  CHECK(CheckIndexBesideLog(Index(dir), false, &checked) == "");
  CHECK(checked);
  checked = false;
  CHECK(CheckIndexBesideLog(TimeIndex(dir), true, &checked) == "");
  CHECK(checked);

  std::string idx = ReadFile(Index(dir));
  // Swap the first two entries: no longer ascending.
  std::string swapped = idx.substr(8, 8) + idx.substr(0, 8) + idx.substr(16);
  WriteFile(Index(dir), swapped);
  CHECK_THAT(CheckIndexBesideLog(Index(dir), false, &checked), Catch::Contains("is not ascending"));
  CHECK(checked);

  // An index whose segment is gone: nothing to check against.
  std::string alone = tmp / "alone";
  REQUIRE(MakeDirs(alone).ok());
  WriteFile(alone + "/00000000000000000000.index", idx);
  checked = true;
  CHECK(CheckIndexBesideLog(alone + "/00000000000000000000.index", false, &checked) == "");
  CHECK_FALSE(checked);
  // A name that is not a segment's.
  WriteFile(dir + "/other.index", idx);
  CHECK(CheckIndexBesideLog(dir + "/other.index", false, &checked) == "");
  CHECK_FALSE(checked);
}
