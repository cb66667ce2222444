// lib/log/segment_index: where a read for an offset starts (the offset index, used only
// when it points at a batch holding its offset), reads that start there see the same
// records as a scan, and the log end and newest time from the indexes and the tail.
#include "lib/log/segment_index.h"

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/log/segment.h"
#include "tests/testutil.h"

using namespace evt;

namespace {

// The first record a SegmentSource returns from `from`.
int64_t FirstOffsetFrom(const std::string& dir, int64_t from, int64_t* ts) {
  auto pd = ScanPartitionDir(dir);
  REQUIRE(pd.ok());
  ReadOptions ro;
  ro.from = Bound{Bound::kOffset, from};
  CountingReporter rep;
  SegmentSource src({*pd}, ro, &rep);
  RecordBatch b;
  for (;;) {
    bool eof = false;
    REQUIRE(src.Next(&b, &eof).ok());
    for (const Record& r : b.records)
      if (r.offset >= from) {
        *ts = r.timestamp;
        return r.offset;
      }
    if (eof) return -1;
  }
}

}  // namespace

TEST_CASE("IndexedPosition: the offset index's entry at or below the offset, checked against the batch there") {
  test::TempDir tmp;
  std::string dir = tmp.path() + "/t-0";
  test::PartitionSpec spec;
  spec.batch_records = 10;
  spec.segment_bytes = 1 << 20;
  auto files = test::WritePartition(dir, test::SimpleRecords(3000, 1000, 4, 100), spec);
  REQUIRE(files.size() == 1);
  auto pd = ScanPartitionDir(dir);
  REQUIRE(pd.ok());
  const SegmentFile& sf = pd->segments[0];
  REQUIRE(PathExists(sf.index_path));
  auto f = MappedFile::Open(sf.log_path);
  REQUIRE(f.ok());
  std::string_view data = (*f)->data();
  CHECK(IndexedPosition(sf, data, 0) == 0);
  uint64_t pos = IndexedPosition(sf, data, 2500);
  CHECK(pos > 0);
  kafka::EntryWalker w(data, pos);
  REQUIRE(w.ok());
  CHECK(w.entry().base_offset() <= 2500);
  CHECK(IndexedPosition(sf, data, INT64_MAX) >= pos);
  // Reads from an offset see what a scan sees.
  for (int64_t from : {0, 1, 9, 10, 11, 1234, 2500, 2999}) {
    int64_t ts = -1;
    CHECK(FirstOffsetFrom(dir, from, &ts) == from);
    CHECK(ts == 1000 + from);
  }
  int64_t ts = -1;
  CHECK(FirstOffsetFrom(dir, 3000, &ts) == -1);

  // A damaged index is not used: positions that are not a batch, offsets that do not match.
  std::string idx = test::ReadFile(sf.index_path);
  std::string garbage(idx.size(), '\x7f');
  test::WriteFile(sf.index_path, garbage);
  CHECK(IndexedPosition(sf, data, 2500) == 0);
  std::string shifted = idx;
  for (size_t i = 7; i < shifted.size(); i += 8) shifted[i] = static_cast<char>(shifted[i] + 3);  // positions off by 3
  test::WriteFile(sf.index_path, shifted);
  CHECK(IndexedPosition(sf, data, 2500) == 0);
  CHECK(FirstOffsetFrom(dir, 2500, &ts) == 2500);
  // A preallocated index (zeros after the entries), as a live broker leaves it.
  test::WriteFile(sf.index_path, idx + std::string(800, '\0'));
  CHECK(IndexedPosition(sf, data, 2500) == pos);
  test::WriteFile(sf.index_path, "");
  CHECK(IndexedPosition(sf, data, 2500) == 0);
}

TEST_CASE("ReadPartitionTail: end and newest time from the time indexes and the last segment's tail") {
  test::TempDir tmp;
  std::string dir = tmp.path() + "/t-0";
  test::PartitionSpec spec;
  spec.batch_records = 7;
  spec.segment_bytes = 30000;
  auto recs = test::SimpleRecords(2000, 5000, 4, 100);
  recs[500].timestamp = 999999;  // the newest record is in an early segment
  auto files = test::WritePartition(dir, recs, spec);
  REQUIRE(files.size() > 3);
  auto pd = ScanPartitionDir(dir);
  REQUIRE(pd.ok());
  auto t = ReadPartitionTail(*pd);
  REQUIRE(t.ok());
  CHECK(t->end == 2000);
  CHECK(t->max_timestamp == 999999);
  // Without any index: headers walked, same answer.
  for (const auto& sf : pd->segments) {
    (void)RemoveFile(sf.index_path);
    (void)RemoveFile(sf.timeindex_path);
  }
  t = ReadPartitionTail(*pd);
  REQUIRE(t.ok());
  CHECK(t->end == 2000);
  CHECK(t->max_timestamp == 999999);
  PartitionDir empty;
  t = ReadPartitionTail(empty);
  REQUIRE(t.ok());
  CHECK(t->end == 0);
  CHECK(t->max_timestamp == -1);
}
