// lib/inspect: RunInspect's numbers for segments built here, the partial summary of a
// damaged partition, JSON Lines input, and the JSON and table renderings.
#include "lib/jobs/inspect.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "formats/kafka/layout.h"
#include "lib/base/coding.h"
#include "tests/testutil.h"

using namespace evt;
using namespace evt::test;

namespace {

// Batch 0: offsets 0-1 (key k0 with header h; a null key), batch 1: offset 2 (key k2, a
// tombstone, header g), batch 2: offset 3, a COMMIT marker of producer 7.
std::string KnownPartition(const TempDir& tmp, const std::string& name = "t-0") {
  std::string dir = tmp / name;
  std::vector<RecordSpec> recs(3);
  recs[0].timestamp = 1000;
  recs[0].key = "k0";
  recs[0].value = "hello";
  recs[0].headers = {{"h", "x"}};
  recs[1].timestamp = 1001;
  recs[1].value = "world";
  recs[2].timestamp = 1002;
  recs[2].key = "k2";
  recs[2].null_value = true;
  recs[2].headers = {{"g", "y"}, {"h", "z"}};
  PartitionSpec spec;
  spec.batch_records = 2;
  WritePartition(dir, recs, spec);
  REQUIRE(AppendControlBatch(dir, 7, true, 1003) == 3);
  return dir;
}

struct Run {
  Status status;
  RecordingReporter rep;
  std::vector<PartitionStats> parts;
  PartitionStats total;
};

void Inspect(const std::vector<std::string>& paths, Run* r) {
  InspectOptions o;
  o.source.paths = paths;
  r->status = RunInspect(o, &r->rep, &r->parts, &r->total);
}

}  // namespace

TEST_CASE("inspect: the summary of a known segment", "[inspect]") {
  TempDir tmp;
  std::string dir = KnownPartition(tmp);
  std::string log = ReadFile(dir + "/00000000000000000000.log");
  auto pos = BatchPositions(log);
  REQUIRE(pos.size() == 3);
  Run r;
  Inspect({dir}, &r);
  REQUIRE(r.status.ok());
  CHECK(r.rep.corruptions == 0);
  REQUIRE(r.parts.size() == 1);
  const PartitionStats& s = r.parts[0];
  CHECK(s.topic == "t");
  CHECK(s.partition == 0);
  CHECK(s.path == dir);
  CHECK(s.segments == 1);
  CHECK(s.batches == 3);
  CHECK(s.control_batches == 1);
  CHECK(s.records == 3);  // data records: the marker is not one
  CHECK(s.tombstones == 1);
  CHECK(s.first_offset == 0);
  CHECK(s.last_offset == 2);
  CHECK(s.first_timestamp == 1000);
  CHECK(s.last_timestamp == 1002);
  CHECK(s.bytes == log.size());
  // Uncompressed batches: the records sections as they are on disk.
  CHECK(s.uncompressed_bytes == log.size() - 3 * kafka::kBatchHeaderSize);
  CHECK(s.codecs == std::map<std::string, uint64_t>{{"none", 3}});
  CHECK(s.producer_ids == std::set<int64_t>{7});
  CHECK(s.header_keys == std::set<std::string>{"g", "h"});
  CHECK_FALSE(s.producer_ids_truncated);
  CHECK_FALSE(s.header_keys_truncated);
  CHECK(s.keys.Estimate() == 2);
  CHECK(s.times.Counts(3) == std::vector<uint64_t>{1, 1, 1});
  // One partition: the total is the same.
  CHECK(r.total.records == 3);
  CHECK(r.total.batches == 3);
  CHECK(r.total.bytes == log.size());
  CHECK(r.total.first_offset == 0);
  CHECK(r.total.last_offset == 2);
}

TEST_CASE("inspect: totals over partitions", "[inspect]") {
  TempDir tmp;
  KnownPartition(tmp, "t-0");
  WritePartition(tmp / "t-1", SimpleRecords(50, 5000));  // keys k0..k3, ts 5000..5049
  Run r;
  Inspect({tmp.path()}, &r);
  REQUIRE(r.status.ok());
  REQUIRE(r.parts.size() == 2);
  CHECK(r.parts[1].partition == 1);
  CHECK(r.parts[1].records == 50);
  CHECK(r.parts[1].batches == 5);
  CHECK(r.parts[1].first_timestamp == 5000);
  CHECK(r.parts[1].last_timestamp == 5049);
  CHECK(r.parts[1].producer_ids.empty());
  CHECK(r.total.records == 53);
  CHECK(r.total.batches == 8);
  CHECK(r.total.segments == 2);
  CHECK(r.total.tombstones == 1);
  CHECK(r.total.first_timestamp == 1000);
  CHECK(r.total.last_timestamp == 5049);
  CHECK(r.total.last_offset == 49);
  CHECK(r.total.keys.Estimate() == 4);  // k0..k3: k0 and k2 are in both partitions
  CHECK(r.total.codecs.at("none") == 8);
}

TEST_CASE("inspect: a damaged partition is summarised up to the damage, the others whole", "[inspect]") {
  TempDir tmp;
  WritePartition(tmp / "t-0", SimpleRecords(100));
  WritePartition(tmp / "t-1", SimpleRecords(30));
  std::string log_path = tmp / "t-0/00000000000000000000.log";
  std::string log = ReadFile(log_path);
  auto pos = BatchPositions(log);
  REQUIRE(pos.size() == 10);
  FlipByte(&log, pos[4] + kafka::kRecordsOffset + 7);
  WriteFile(log_path, log);
  Run r;
  Inspect({tmp.path()}, &r);
  CHECK(r.status.IsCorruption());
  CHECK_THAT(r.status.message(), Catch::StartsWith(fmt::format("{}@{}: crc mismatch", log_path, pos[4])));
  REQUIRE(r.parts.size() == 2);
  CHECK(r.parts[0].batches == 4);
  CHECK(r.parts[0].records == 40);
  CHECK(r.parts[0].last_offset == 39);
  CHECK(r.parts[0].bytes == pos[4]);
  CHECK(r.parts[1].records == 30);  // read after the error
  CHECK(r.total.records == 70);
}

TEST_CASE("inspect: a torn tail ends the partition with a warning, not an error", "[inspect]") {
  TempDir tmp;
  WritePartition(tmp / "t-0", SimpleRecords(30));
  std::string log_path = tmp / "t-0/00000000000000000000.log";
  std::string log = ReadFile(log_path);
  auto pos = BatchPositions(log);
  Truncate(&log, pos[2] + 20);
  WriteFile(log_path, log);
  Run r;
  Inspect({tmp / "t-0"}, &r);
  CHECK(r.status.ok());
  CHECK(r.rep.warnings == 1);
  CHECK_THAT(r.rep.first_warning, Catch::StartsWith(fmt::format("{}@{}: ", log_path, pos[2])));
  REQUIRE(r.parts.size() == 1);
  CHECK(r.parts[0].records == 20);
}

TEST_CASE("inspect: JSON Lines input is summarised from its records", "[inspect]") {
  TempDir tmp;
  WriteFile(tmp / "in.jsonl",
            "{\"topic\":\"a\",\"partition\":0,\"offset\":3,\"timestamp\":10,\"key\":\"k\",\"value\":\"vv\",\"headers\":[]}\n"
            "{\"topic\":\"a\",\"partition\":0,\"offset\":4,\"timestamp\":30,\"key\":null,\"value\":null,"
            "\"headers\":[{\"key\":\"h\",\"value\":\"1\"}]}\n"
            "{\"topic\":\"a\",\"partition\":2,\"offset\":0,\"timestamp\":20,\"key\":\"k\",\"value\":\"v\",\"headers\":[]}\n");
  Run r;
  Inspect({tmp / "in.jsonl"}, &r);
  REQUIRE(r.status.ok());
  REQUIRE(r.parts.size() == 2);
  CHECK(r.parts[0].partition == 0);
  CHECK(r.parts[0].records == 2);
  CHECK(r.parts[0].first_offset == 3);
  CHECK(r.parts[0].last_offset == 4);
  CHECK(r.parts[0].tombstones == 1);
  CHECK(r.parts[0].batches == 0);  // records, not batches
  CHECK(r.parts[0].uncompressed_bytes == 1 + 2);
  CHECK(r.parts[0].header_keys == std::set<std::string>{"h"});
  CHECK(r.parts[1].partition == 2);
  CHECK(r.total.records == 3);
  CHECK(r.total.first_timestamp == 10);
  CHECK(r.total.last_timestamp == 30);
  CHECK(r.total.keys.Estimate() == 1);
}

TEST_CASE("inspect: a missing path is an error", "[inspect]") {
  TempDir tmp;
  Run r;
  Inspect({tmp / "nope-0"}, &r);
  CHECK_FALSE(r.status.ok());
  CHECK(r.parts.empty());
}

TEST_CASE("inspect: JSON and table renderings of a known segment", "[inspect]") {
  TempDir tmp;
  std::string dir = KnownPartition(tmp);
  std::string log = ReadFile(dir + "/00000000000000000000.log");
  const uint64_t raw = log.size() - 3 * kafka::kBatchHeaderSize;
  Run r;
  Inspect({dir}, &r);
  REQUIRE(r.status.ok());
  std::string stats = fmt::format(
      "\"segments\":1,\"batches\":3,\"control_batches\":1,\"records\":3,\"tombstones\":1,\"first_offset\":0,"
      "\"last_offset\":2,\"first_timestamp\":1000,\"last_timestamp\":1002,\"bytes\":{},\"uncompressed_bytes\":{},"
      "\"distinct_keys_estimate\":2,\"codecs\":{{\"none\":3}},\"producer_ids\":[7],\"header_keys\":[\"g\",\"h\"]",
      log.size(), raw);
  CHECK(InspectJson(r.parts, r.total, 0) == fmt::format("{{\"partitions\":[{{\"topic\":\"t\",\"partition\":0,\"path\":"
                                                         "\"{}\",{}}}],\"total\":{{{}}}}}\n",
                                                         dir, stats, stats));
  CHECK_THAT(InspectJson(r.parts, r.total, 3), Catch::Contains(",\"histogram\":[1,1,1]}"));

  std::string table = InspectTable(r.parts, r.total, 0);
  std::vector<std::string> lines;
  for (size_t p = 0, nl; (nl = table.find('\n', p)) != std::string::npos; p = nl + 1) lines.push_back(table.substr(p, nl - p));
  REQUIRE(lines.size() == 4);
  CHECK_THAT(lines[0], Catch::StartsWith("PARTITION "));
  CHECK_THAT(lines[0], Catch::EndsWith(" CODECS"));
  CHECK_THAT(lines[1], Catch::StartsWith("t-0 "));
  CHECK_THAT(lines[1], Catch::Contains(" 1970-01-01T00:00:01.000Z "));
  CHECK_THAT(lines[1], Catch::EndsWith(" 1970-01-01T00:00:01.002Z none"));
  CHECK(lines[2].empty());
  CHECK(lines[3] == "tombstones 1  control batches 1  distinct keys ~2  producer ids 1  header keys: g, h");
  // With buckets: a sparkline per partition.
  std::string spark = InspectTable(r.parts, r.total, 3);
  CHECK_THAT(spark, Catch::Contains("RECORDS OVER TIME (each column 1/3 of the partition's span)\n"));
  CHECK_THAT(spark, Catch::Contains("| 1970-01-01T00:00:01.000Z .. 1970-01-01T00:00:01.002Z\n"));
}
