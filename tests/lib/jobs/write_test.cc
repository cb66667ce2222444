// lib/write: RunWrite from JSON Lines and from segments into a data directory and into a
// partition directory, --on-invalid error/skip/dead-letter, retargeted segment inputs,
// header filters and the usage errors; every output is read back with SegmentSource.
#include "lib/jobs/write.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "formats/kafka/layout.h"
#include "lib/log/segment.h"
#include "tests/testutil.h"

using namespace evt;
using namespace evt::test;

namespace {

struct Rec {
  std::string topic;
  int32_t partition;
  int64_t offset, timestamp;
  std::string key, value, headers;  // "<null>" for null; headers as k=v;...
  bool operator==(const Rec& o) const {
    return topic == o.topic && partition == o.partition && offset == o.offset && timestamp == o.timestamp &&
           key == o.key && value == o.value && headers == o.headers;
  }
};
std::ostream& operator<<(std::ostream& os, const Rec& r) {
  return os << fmt::format("{}-{}@{} ts {} key {} value {} headers {}", r.topic, r.partition, r.offset, r.timestamp,
                           r.key, r.value, r.headers);
}

// Every record under `path`, read back with SegmentSource.
std::vector<Rec> ReadBack(const std::string& path) {
  auto parts = DiscoverPartitions(path);
  REQUIRE(parts.ok());
  CountingReporter rep;
  SegmentSource src(*parts, ReadOptions{}, &rep);
  std::vector<Rec> out;
  RecordBatch b;
  for (;;) {
    bool eof = false;
    REQUIRE(src.Next(&b, &eof).ok());
    if (eof) break;
    for (const Record& r : b.records) {
      auto text = [](const Bytes& x) { return x.null() ? std::string("<null>") : std::string(x.view()); };
      std::string hs;
      const Header* h = b.HeadersOf(r);
      for (uint32_t i = 0; i < r.header_count; ++i) hs += fmt::format("{}{}={}", i ? ";" : "", h[i].key, text(h[i].value));
      out.push_back(Rec{b.topic, r.partition, r.offset, r.timestamp, text(r.key), text(r.value), hs});
    }
  }
  CHECK(rep.corruptions == 0);
  return out;
}

std::string Envelope(const std::string& topic, int partition, int64_t offset, int64_t ts, const std::string& key,
                     const std::string& value, const std::string& headers = "") {
  return fmt::format("{{\"topic\":\"{}\",\"partition\":{},\"offset\":{},\"timestamp\":{},\"key\":{},\"value\":\"{}\","
                     "\"headers\":[{}]}}\n",
                     topic, partition, offset, ts, key == "<null>" ? "null" : "\"" + key + "\"", value, headers);
}

WriteOptions Options(const std::string& dst, std::vector<std::string> inputs) {
  WriteOptions o;
  o.dst = dst;
  o.inputs = std::move(inputs);
  o.writer.encode.codec = kafka::kNone;
  o.writer.fsync = FsyncPolicy::kNever;
  return o;
}

}  // namespace

TEST_CASE("write: JSON Lines into a data directory, one partition directory per topic-partition", "[write]") {
  TempDir tmp;
  WriteFile(tmp / "in.jsonl", Envelope("a", 0, 100, 1000, "k1", "v1", "{\"key\":\"h\",\"value\":\"x\"}") +
                                  Envelope("b", 1, 7, 2000, "<null>", "v2") + Envelope("a", 0, 101, 3000, "k3", "v3") +
                                  "\n" /* a blank line is not a record */);
  RecordingReporter rep;
  WriteStats st;
  REQUIRE(RunWrite(Options(tmp / "data", {tmp / "in.jsonl"}), &rep, &st).ok());
  CHECK(st.records == 3);
  CHECK(st.acknowledged == 3);
  CHECK(st.invalid == 0);
  CHECK(PathExists(tmp / "data/a-0/00000000000000000000.log"));
  CHECK(PathExists(tmp / "data/b-1/00000000000000000000.log"));
  // Offsets are assigned by the destination, from 0; the rest is kept.
  CHECK(ReadBack(tmp / "data") == std::vector<Rec>{{"a", 0, 0, 1000, "k1", "v1", "h=x"},
                                                   {"a", 0, 1, 3000, "k3", "v3", ""},
                                                   {"b", 1, 0, 2000, "<null>", "v2", ""}});
  // A second write appends.
  WriteFile(tmp / "more.jsonl", Envelope("a", 0, 0, 4000, "k4", "v4"));
  REQUIRE(RunWrite(Options(tmp / "data", {tmp / "more.jsonl"}), &rep, &st).ok());
  auto all = ReadBack(tmp / "data/a-0");
  REQUIRE(all.size() == 3);
  CHECK(all.back() == Rec{"a", 0, 2, 4000, "k4", "v4", ""});
}

TEST_CASE("write: into a partition directory, records take its topic and partition", "[write]") {
  TempDir tmp;
  WriteFile(tmp / "in.jsonl", Envelope("a", 0, 5, 1000, "k1", "v1") + Envelope("b", 3, 9, 2000, "k2", "v2"));
  CHECK(IsPartitionDirTarget(tmp / "orders-2"));
  RecordingReporter rep;
  WriteStats st;
  REQUIRE(RunWrite(Options(tmp / "orders-2", {tmp / "in.jsonl"}), &rep, &st).ok());
  CHECK(st.records == 2);
  CHECK(ReadBack(tmp / "orders-2") ==
        std::vector<Rec>{{"orders", 2, 0, 1000, "k1", "v1", ""}, {"orders", 2, 1, 2000, "k2", "v2", ""}});
}

TEST_CASE("write: --input lines, each line a value", "[write]") {
  TempDir tmp;
  WriteFile(tmp / "in.txt", "first line\n{\"not\":\"an envelope\"}\n\nlast");
  WriteOptions o = Options(tmp / "raw-0", {tmp / "in.txt"});
  o.input.format = InputFormat::kLines;
  RecordingReporter rep;
  WriteStats st;
  REQUIRE(RunWrite(o, &rep, &st).ok());
  auto got = ReadBack(tmp / "raw-0");
  REQUIRE(got.size() == 4);  // blank lines are values too in this mode
  CHECK(got[0].value == "first line");
  CHECK(got[1].value == "{\"not\":\"an envelope\"}");
  CHECK(got[2].value == "");
  CHECK(got[3].value == "last");
  CHECK(got[0].key == "<null>");
  // A data directory: lines carry no topic or partition.
  WriteOptions d = Options(tmp / "data", {tmp / "in.txt"});
  d.input.format = InputFormat::kLines;
  CHECK(RunWrite(d, &rep, &st).code() == Code::kInvalidArgument);
  d.input.topic = "lines";
  d.input.partition = 4;
  REQUIRE(RunWrite(d, &rep, &st).ok());
  CHECK(ReadBack(tmp / "data/lines-4").size() == 4);
}

TEST_CASE("write --on-invalid: error stops, skip and dead-letter count and go on", "[write]") {
  TempDir tmp;
  const std::string bad_utf8("\xff\xfe", 2);
  WriteFile(tmp / "in.jsonl", Envelope("a", 0, 0, 1000, "k1", "v1") + "garbage\n" +
                                  "{\"topic\":\"a\",\"partition\":\"x\"}\n" + bad_utf8 + "\n" +
                                  Envelope("a", 0, 1, 2000, "k2", "v2"));
  const std::string in = tmp / "in.jsonl";

  SECTION("error (the default): stops at the first, what came before is written") {
    RecordingReporter rep;
    WriteStats st;
    Status s = RunWrite(Options(tmp / "out-0", {in}), &rep, &st);
    CHECK(s.IsCorruption());
    CHECK(s.message() == in + ":2: not JSON");
    CHECK(st.invalid == 0);
    CHECK(ReadBack(tmp / "out-0").size() == 1);
  }
  SECTION("skip") {
    WriteOptions o = Options(tmp / "out-0", {in});
    o.on_invalid = OnInvalid::kSkip;
    RecordingReporter rep;
    WriteStats st;
    REQUIRE(RunWrite(o, &rep, &st).ok());
    CHECK(st.records == 2);
    CHECK(st.invalid == 3);
    REQUIRE(rep.notices.size() == 3);
    CHECK(rep.notices[0] == in + ":2: skipped: not JSON");
    CHECK_THAT(rep.notices[1], Catch::StartsWith(in + ":3: skipped: partition must be an integer"));
    CHECK_THAT(rep.notices[2], Catch::StartsWith(in + ":4: skipped: "));
    auto got = ReadBack(tmp / "out-0");
    REQUIRE(got.size() == 2);
    CHECK(got[1].value == "v2");
  }
  SECTION("dead-letter: one JSON line per invalid line, appended") {
    WriteOptions o = Options(tmp / "out-0", {in});
    o.on_invalid = OnInvalid::kDeadLetter;
    o.dead_letter = tmp / "dead.jsonl";
    WriteFile(o.dead_letter, "{\"earlier\":true}\n");
    RecordingReporter rep;
    WriteStats st;
    REQUIRE(RunWrite(o, &rep, &st).ok());
    CHECK(st.records == 2);
    CHECK(st.invalid == 3);
    CHECK(rep.notices.empty());
    std::string dead = ReadFile(o.dead_letter);
    std::vector<std::string> lines;
    for (size_t p = 0, nl; (nl = dead.find('\n', p)) != std::string::npos; p = nl + 1) lines.push_back(dead.substr(p, nl - p));
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "{\"earlier\":true}");
    CHECK(lines[1] == "{\"file\":\"" + in + "\",\"line\":2,\"error\":\"not JSON\",\"raw\":\"garbage\"}");
    CHECK_THAT(lines[2], Catch::StartsWith("{\"file\":\"" + in + "\",\"line\":3,\"error\":\"partition must be"));
    CHECK_THAT(lines[2], Catch::EndsWith(",\"raw\":\"{\\\"topic\\\":\\\"a\\\",\\\"partition\\\":\\\"x\\\"}\"}"));
    CHECK_THAT(lines[3], Catch::StartsWith("{\"file\":\"" + in + "\",\"line\":4,\"error\":"));
    CHECK_THAT(lines[3], Catch::EndsWith(",\"raw_base64\":\"//4=\"}"));
    CHECK(ReadBack(tmp / "out-0").size() == 2);
  }
  SECTION("dead-letter to a file that cannot be opened: refused before any record moves") {
    WriteOptions o = Options(tmp / "out-0", {in});
    o.on_invalid = OnInvalid::kDeadLetter;
    o.dead_letter = tmp / "no/such/dir/dead.jsonl";
    RecordingReporter rep;
    WriteStats st;
    CHECK_FALSE(RunWrite(o, &rep, &st).ok());
    CHECK(st.records == 0);
  }
}

TEST_CASE("AppendInvalidLine", "[write]") {
  std::string out;
  AppendInvalidLine(InvalidLine{"a \"b\".jsonl", 12, "not JSON", "x\ty"}, &out);
  CHECK(out == "{\"file\":\"a \\\"b\\\".jsonl\",\"line\":12,\"error\":\"not JSON\",\"raw\":\"x\\ty\"}\n");
  out.clear();
  AppendInvalidLine(InvalidLine{"-", 1, "bad", std::string_view("\x80", 1)}, &out);
  CHECK(out == "{\"file\":\"-\",\"line\":1,\"error\":\"bad\",\"raw_base64\":\"gA==\"}\n");
}

TEST_CASE("write: segment inputs keep their topic and partition unless retargeted", "[write]") {
  TempDir tmp;
  std::vector<RecordSpec> recs = SimpleRecords(25, 1000, 3, 8);
  recs[4].headers = {{"keep-me", "1"}, {"drop-me", "2"}};
  WritePartition(tmp / "src/t-1", recs);
  RecordingReporter rep;
  WriteStats st;

  SECTION("kept") {
    REQUIRE(RunWrite(Options(tmp / "data", {tmp / "src/t-1"}), &rep, &st).ok());
    CHECK(st.records == 25);
    auto got = ReadBack(tmp / "data/t-1");
    REQUIRE(got.size() == 25);
    CHECK(got[4] == Rec{"t", 1, 4, 1004, "k1", std::string(8, 'e'), "keep-me=1;drop-me=2"});
  }
  SECTION("--topic and --partition") {
    WriteOptions o = Options(tmp / "data", {tmp / "src/t-1/00000000000000000000.log"});
    o.input.topic = "renamed";
    o.input.partition = 5;
    REQUIRE(RunWrite(o, &rep, &st).ok());
    CHECK_FALSE(PathExists(tmp / "data/t-1"));
    auto got = ReadBack(tmp / "data/renamed-5");
    REQUIRE(got.size() == 25);
    CHECK(got[0].topic == "renamed");
    CHECK(got[0].partition == 5);
  }
  SECTION("a partition directory as the destination") {
    REQUIRE(RunWrite(Options(tmp / "copy-7", {tmp / "src/t-1"}), &rep, &st).ok());
    auto got = ReadBack(tmp / "copy-7");
    REQUIRE(got.size() == 25);
    CHECK(got[24] == Rec{"copy", 7, 24, 1024, "k0", std::string(8, 'y'), ""});
  }
  SECTION("--keep-header / --drop-header") {
    WriteOptions o = Options(tmp / "data", {tmp / "src/t-1"});
    auto f = HeaderFilter::Make({"*-me"}, {"drop*"});
    REQUIRE(f.ok());
    o.headers = *f;
    REQUIRE(RunWrite(o, &rep, &st).ok());
    CHECK(ReadBack(tmp / "data/t-1")[4].headers == "keep-me=1");
  }
}

TEST_CASE("write: damaged segment inputs stop, or with --on-corruption skip go on", "[write]") {
  TempDir tmp;
  WritePartition(tmp / "src/t-0", SimpleRecords(30, 1000, 3, 8));  // 3 batches
  std::string log = tmp / "src/t-0/00000000000000000000.log";
  std::string data = ReadFile(log);
  auto pos = BatchPositions(data);
  REQUIRE(pos.size() == 3);
  FlipByte(&data, pos[1] + kafka::kRecordsOffset + 1);
  WriteFile(log, data);
  RecordingReporter rep;
  WriteStats st;
  Status s = RunWrite(Options(tmp / "a-0", {tmp / "src/t-0"}), &rep, &st);
  CHECK(s.IsCorruption());
  CHECK_THAT(s.message(), Catch::StartsWith(fmt::format("{}@{}: ", log, pos[1])));
  CHECK(ReadBack(tmp / "a-0").size() == 10);  // the batch before it, closed cleanly

  WriteOptions o = Options(tmp / "b-0", {tmp / "src/t-0"});
  o.skip_corruption = true;
  RecordingReporter skip;
  REQUIRE(RunWrite(o, &skip, &st).ok());
  CHECK(skip.corruptions == 1);
  CHECK_THAT(skip.first_error, Catch::StartsWith(fmt::format("{}@{}: ", log, pos[1])));
  auto got = ReadBack(tmp / "b-0");
  REQUIRE(got.size() == 20);
  CHECK(got[10].timestamp == 1020);  // the third batch follows the first
}

TEST_CASE("write: usage errors", "[write]") {
  TempDir tmp;
  WritePartition(tmp / "src/t-0", SimpleRecords(3));
  WriteFile(tmp / "in.jsonl", Envelope("a", 0, 0, 1, "k", "v"));
  RecordingReporter rep;
  WriteStats st;
  auto code = [&](WriteOptions o) { return RunWrite(o, &rep, &st).code(); };
  CHECK(code(Options(tmp / "d", {tmp / "src/t-0", tmp / "in.jsonl"})) == Code::kInvalidArgument);
  WriteOptions lines = Options(tmp / "d", {tmp / "src/t-0"});
  lines.input.format = InputFormat::kLines;
  CHECK(code(lines) == Code::kInvalidArgument);
  WriteOptions inv = Options(tmp / "d", {tmp / "src/t-0"});
  inv.on_invalid = OnInvalid::kSkip;
  CHECK(code(inv) == Code::kInvalidArgument);
  WriteOptions corr = Options(tmp / "d", {tmp / "in.jsonl"});
  corr.skip_corruption = true;
  CHECK(code(corr) == Code::kInvalidArgument);
  CHECK_FALSE(PathExists(tmp / "d"));  // nothing was created
  CHECK(code(Options(tmp / "d", {tmp / "missing.jsonl"})) != Code::kOk);
}

TEST_CASE("IsPartitionDirTarget", "[write]") {
  TempDir tmp;
  CHECK(IsPartitionDirTarget(tmp / "orders-0"));       // does not exist yet: by its name
  CHECK(IsPartitionDirTarget(tmp / "my-topic-12"));
  CHECK_FALSE(IsPartitionDirTarget(tmp / "data"));
  CHECK_FALSE(IsPartitionDirTarget(tmp / "orders-x"));
  WritePartition(tmp / "backup-1/orders-0", SimpleRecords(1));
  CHECK_FALSE(IsPartitionDirTarget(tmp / "backup-1"));  // holds partition directories
  CHECK(IsPartitionDirTarget(tmp / "backup-1/orders-0"));
}
