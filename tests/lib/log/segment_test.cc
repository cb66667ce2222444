#include "lib/log/segment.h"

#include <catch2/catch.hpp>

#include "lib/base/coding.h"
#include "lib/log/segment_writer.h"
#include "testutil.h"

using namespace evt;
using evt::test::AddRecord;
using evt::test::RecordSpec;
using evt::test::TempDir;

TEST_CASE("partition dir names", "[segment]") {
  std::string t;
  int32_t p;
  CHECK(ParsePartitionDirName("orders-3", &t, &p));
  CHECK(t == "orders");
  CHECK(p == 3);
  CHECK(ParsePartitionDirName("my-topic-12", &t, &p));
  CHECK(t == "my-topic");
  CHECK(p == 12);
  CHECK_FALSE(ParsePartitionDirName("orders", &t, &p));
  CHECK_FALSE(ParsePartitionDirName("orders-x", &t, &p));
  CHECK_FALSE(ParsePartitionDirName("-1", &t, &p));
  CHECK(SegmentFileStem(42) == "00000000000000000042");
}

TEST_CASE("index builder follows Kafka's recovery rule", "[segment][index]") {
  IndexBuilder b(100);
  // batches of 3000 bytes: entries appear when pos - last > 4096
  uint64_t pos = 0;
  for (int i = 0; i < 6; ++i) {
    b.OnBatch(pos, 100 + i * 10 + 9, 1000 + i);
    pos += 3000;
  }
  b.OnClose();
  // positions 0,3000,6000,9000,12000,15000; entries at 6000 (6000-0>4096), 12000 (12000-6000>4096)
  REQUIRE(b.offset_entries().size() == 2);
  CHECK(b.offset_entries()[0].position == 6000);
  CHECK(b.offset_entries()[0].relative_offset == 29);
  CHECK(b.offset_entries()[1].position == 12000);
  REQUIRE(b.time_entries().size() == 3);
  CHECK(b.time_entries()[0].timestamp == 1002);
  CHECK(b.time_entries()[2].timestamp == 1005);  // final entry at close
  CHECK(b.time_entries()[2].relative_offset == 59);
  CHECK(b.OffsetIndexBytes().size() == 16);
  CHECK(b.TimeIndexBytes().size() == 36);
}

TEST_CASE("index builder: no entry for a timestamp that is not newer", "[segment][index]") {
  IndexBuilder b(0);
  b.OnBatch(0, 0, 500);
  b.OnBatch(5000, 1, 400);  // older timestamp: time entry repeats max so far (500) -> appended once
  b.OnBatch(10000, 2, 450);
  b.OnClose();
  CHECK(b.offset_entries().size() == 2);
  REQUIRE(b.time_entries().size() == 1);
  CHECK(b.time_entries()[0].timestamp == 500);
  CHECK(b.time_entries()[0].relative_offset == 0);
}

namespace {
RecordBatch Records(int n, int64_t ts0 = 1000) {
  RecordBatch b;
  b.topic = "t";
  b.partition = 0;
  for (int i = 0; i < n; ++i) {
    RecordSpec s;
    s.timestamp = ts0 + i;
    s.value = std::string(100, static_cast<char>('a' + i % 26));
    AddRecord(&b, s);
  }
  return b;
}

std::vector<int64_t> ReadOffsets(const std::string& path, ReadOptions ro = {}) {
  auto parts = DiscoverPartitions(path);
  REQUIRE(parts.ok());
  CountingReporter rep;
  SegmentSource src(*parts, ro, &rep);
  std::vector<int64_t> offs;
  RecordBatch b;
  for (;;) {
    bool eof;
    Status s = src.Next(&b, &eof);
    REQUIRE(s.ok());
    if (eof) break;
    for (auto& r : b.records) offs.push_back(r.offset);
  }
  return offs;
}
}  // namespace

TEST_CASE("writer rolls, names segments by base offset, and reads back", "[segment][writer]") {
  TempDir tmp;
  std::string dir = tmp / "t-0";
  WriterOptions o;
  o.segment_bytes = 4096;
  o.batch_records = 10;
  o.encode.codec = kafka::kNone;
  CountingReporter rep;
  {
    auto w = PartitionWriter::Open(dir, o, &rep);
    REQUIRE(w.ok());
    RecordBatch b = Records(200);
    REQUIRE((*w)->Append(b, 0, b.records.size()).ok());
    REQUIRE((*w)->Close().ok());
  }
  auto pd = ScanPartitionDir(dir);
  REQUIRE(pd.ok());
  CHECK(pd->segments.size() > 3);
  for (auto& s : pd->segments) CHECK(s.size <= 4096);
  auto offs = ReadOffsets(dir);
  REQUIRE(offs.size() == 200);
  for (int i = 0; i < 200; ++i) CHECK(offs[i] == i);
  // Reopen and append: offsets continue.
  {
    auto w = PartitionWriter::Open(dir, o, &rep);
    REQUIRE(w.ok());
    CHECK((*w)->next_offset() == 200);
    RecordBatch b = Records(5);
    REQUIRE((*w)->Append(b, 0, 5).ok());
  }
  CHECK(ReadOffsets(dir).size() == 205);
}

TEST_CASE("a second writer on the same partition is refused", "[segment][writer]") {
  TempDir tmp;
  CountingReporter rep;
  auto w1 = PartitionWriter::Open(tmp / "t-0", WriterOptions{}, &rep);
  REQUIRE(w1.ok());
  auto w2 = PartitionWriter::Open(tmp / "t-0", WriterOptions{}, &rep);
  REQUIRE_FALSE(w2.ok());
  CHECK(w2.status().code() == Code::kBusy);
}

TEST_CASE("writer recovers a torn tail by truncating it", "[segment][writer]") {
  TempDir tmp;
  std::string dir = tmp / "t-0";
  CountingReporter rep;
  {
    auto w = PartitionWriter::Open(dir, WriterOptions{}, &rep);
    RecordBatch b = Records(10);
    REQUIRE((*w)->Append(b, 0, 10).ok());
  }
  std::string log = dir + "/00000000000000000000.log";
  std::string content = test::ReadFile(log);
  test::WriteFile(log, content + content.substr(0, 30));  // a torn second copy
  {
    auto w = PartitionWriter::Open(dir, WriterOptions{}, &rep);
    REQUIRE(w.ok());
    CHECK(rep.warnings == 1);
    CHECK((*w)->next_offset() == 10);
  }
  CHECK(test::ReadFile(log).size() == content.size());
}

TEST_CASE("reader bounds: offsets, -N, times", "[segment]") {
  TempDir tmp;
  std::string dir = tmp / "t-0";
  CountingReporter rep;
  {
    WriterOptions o;
    o.batch_records = 7;
    auto w = PartitionWriter::Open(dir, o, &rep);
    RecordBatch b = Records(50, 10'000);
    REQUIRE((*w)->Append(b, 0, 50).ok());
  }
  ReadOptions ro;
  ro.from = {Bound::kOffset, 10};
  ro.until = {Bound::kOffset, 13};
  CHECK(ReadOffsets(dir, ro) == std::vector<int64_t>{10, 11, 12});
  ro = {};
  ro.from = {Bound::kFromEnd, 2};
  CHECK(ReadOffsets(dir, ro) == std::vector<int64_t>{48, 49});
  ro = {};
  ro.from = {Bound::kTime, 10'020};
  ro.until = {Bound::kTime, 10'023};
  CHECK(ReadOffsets(dir, ro) == std::vector<int64_t>{20, 21, 22});
  ro = {};
  ro.from = {Bound::kEnd, 0};
  CHECK(ReadOffsets(dir, ro).empty());
}

TEST_CASE("merge by time interleaves partitions", "[segment]") {
  TempDir tmp;
  CountingReporter rep;
  for (int p = 0; p < 2; ++p) {
    auto w = PartitionWriter::Open(tmp / ("t-" + std::to_string(p)), WriterOptions{}, &rep);
    RecordBatch b;
    for (int i = 0; i < 20; ++i) {
      RecordSpec s;
      s.timestamp = i * 2 + p;
      s.value = "v";
      AddRecord(&b, s);
    }
    REQUIRE((*w)->Append(b, 0, 20).ok());
  }
  auto parts = DiscoverPartitions(tmp.path());
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 2);
  auto src = MergeByTime(SegmentSource::PerPartition(*parts, ReadOptions{}, &rep));
  std::vector<int64_t> ts;
  RecordBatch b;
  for (;;) {
    bool eof;
    REQUIRE(src->Next(&b, &eof).ok());
    if (eof) break;
    for (auto& r : b.records) ts.push_back(r.timestamp);
  }
  REQUIRE(ts.size() == 40);
  for (int i = 0; i < 40; ++i) CHECK(ts[i] == i);
}

TEST_CASE("discovery skips -delete and -future dirs and non-segment files", "[segment]") {
  TempDir tmp;
  CountingReporter rep;
  for (const char* d : {"a-0", "a-1", "a-0.abc-delete", "b-0.abc-future"}) {
    auto w = PartitionWriter::Open(tmp / d, WriterOptions{}, &rep);
    RecordBatch b = Records(1);
    REQUIRE((*w)->Append(b, 0, 1).ok());
  }
  test::WriteFile(tmp / "a-0/leader-epoch-checkpoint", "0\n0\n");
  test::WriteFile(tmp / "a-0/00000000000000000000.snapshot", "x");
  auto parts = DiscoverPartitions(tmp.path());
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 2);
  CHECK((*parts)[0].topic == "a");
  CHECK((*parts)[1].partition == 1);
}
