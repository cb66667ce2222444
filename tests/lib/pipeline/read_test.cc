// lib/read: InputKindOf for every kind of path, OpenSource (segments, JSON Lines and the
// mixes it refuses, --from/--until on JSON Lines, --merge time, --where), and Drain with a
// limit, into a text sink and a segment sink, on error and when interrupted.
#include "lib/pipeline/read.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>

#include "formats/kafka/layout.h"
#include "lib/base/term.h"
#include "lib/log/segment_writer.h"
#include "lib/pipeline/text_sink.h"
#include "tests/testutil.h"

using namespace evt;
using namespace evt::test;

namespace {

// Reads a source to its end: "partition/offset" per record.
Status ReadAll(Source* src, std::vector<std::string>* out) {
  RecordBatch b;
  for (;;) {
    bool eof = false;
    Status s = src->Next(&b, &eof);
    for (const Record& r : b.records)
      out->push_back(fmt::format("{}/{}", r.partition >= 0 ? r.partition : b.partition, r.offset));
    if (!s.ok() || eof) return s;
  }
}

std::vector<std::string> Open(const SourceSpec& spec) {
  CountingReporter rep;
  auto src = OpenSource(spec, &rep);
  REQUIRE(src.ok());
  std::vector<std::string> got;
  REQUIRE(ReadAll(src->get(), &got).ok());
  return got;
}

std::string Line(int partition, int64_t offset, int64_t ts) {
  return fmt::format("{{\"topic\":\"j\",\"partition\":{},\"offset\":{},\"timestamp\":{},\"key\":null,\"value\":\"v\","
                     "\"headers\":[]}}\n",
                     partition, offset, ts);
}

// Restores g_interrupted however the test ends.
struct Interrupt {
  Interrupt() { g_interrupted = true; }
  ~Interrupt() { g_interrupted = false; }
};

}  // namespace

TEST_CASE("InputKindOf: every kind of path", "[read]") {
  TempDir tmp;
  WritePartition(tmp / "t-0", SimpleRecords(3));
  CHECK(InputKindOf(tmp / "t-0") == InputKind::kSegments);
  CHECK(InputKindOf(tmp.path()) == InputKind::kSegments);
  REQUIRE(MakeDirs(tmp / "odd.jsonl").ok());
  CHECK(InputKindOf(tmp / "odd.jsonl") == InputKind::kSegments);  // a directory, whatever its name

  // By name, whether or not the file exists.
  for (const char* p : {"a/00000000000000000000.log", "x.log.swap", "x.log.deleted", "x.log.cleaned"})
    CHECK(InputKindOf(p) == InputKind::kSegments);
  for (const char* p : {"in.jsonl", "in.json", "in.ndjson", "in.jsonl.zst", "in.jsonl.gz", "x.zst", "-"})
    CHECK(InputKindOf(p) == InputKind::kJsonl);
  for (const char* p : {"t-0/00000000000000000000.index", "t-0/00000000000000000000.timeindex",
                        "t-0/00000000000000000000.txnindex", "t-0/00000000000000000000.snapshot",
                        "t-0/leader-epoch-checkpoint", "recovery-point-offset-checkpoint", "t-0/partition.metadata",
                        ".lock", "t-0/.evt.lock", "x.index.swap", "x.timeindex.deleted"})
    CHECK(InputKindOf(p) == InputKind::kNotRecords);
  CHECK(InputKindOf("kafka://127.0.0.1:9092/orders") == InputKind::kKafka);
  CHECK(InputKindOf("kafka:///orders?partition=1") == InputKind::kKafka);

  // Other names: by the first byte that is not white space.
  WriteFile(tmp / "records.txt", " \r\n\t{\"value\":1}\n");
  CHECK(InputKindOf(tmp / "records.txt") == InputKind::kJsonl);
  WriteFile(tmp / "segment.bin", ReadFile(tmp / "t-0/00000000000000000000.log"));
  CHECK(InputKindOf(tmp / "segment.bin") == InputKind::kSegments);
  WriteFile(tmp / "empty", "");
  CHECK(InputKindOf(tmp / "empty") == InputKind::kSegments);
  WriteFile(tmp / "blank", "   \n");
  CHECK(InputKindOf(tmp / "blank") == InputKind::kSegments);
  CHECK(InputKindOf(tmp / "missing") == InputKind::kSegments);
}

TEST_CASE("OpenSource: segments, several paths, merged by time", "[read]") {
  TempDir tmp;
  // t-0 has even timestamps, t-1 odd ones.
  std::vector<RecordSpec> even, odd;
  for (int i = 0; i < 5; ++i) {
    RecordSpec s;
    s.value = "v";
    s.timestamp = 2 * i;
    even.push_back(s);
    s.timestamp = 2 * i + 1;
    odd.push_back(s);
  }
  PartitionSpec spec;
  spec.batch_records = 2;
  WritePartition(tmp / "t-0", even, spec);
  WritePartition(tmp / "t-1", odd, spec);
  SourceSpec s;
  s.paths = {tmp / "t-1", tmp / "t-0"};
  CHECK(Open(s) == std::vector<std::string>{"1/0", "1/1", "1/2", "1/3", "1/4", "0/0", "0/1", "0/2", "0/3", "0/4"});
  s.paths = {tmp.path()};
  s.merge_time = true;
  CHECK(Open(s) == std::vector<std::string>{"0/0", "1/0", "0/1", "1/1", "0/2", "1/2", "0/3", "1/3", "0/4", "1/4"});
  // Bounds apply per partition; --where after them.
  s.merge_time = false;
  s.read.from = Bound{Bound::kOffset, 3};
  CHECK(Open(s) == std::vector<std::string>{"0/3", "0/4", "1/3", "1/4"});
  s.where.exprs = {"$timestamp % 2 == 1"};
  CHECK(Open(s) == std::vector<std::string>{"1/3", "1/4"});
  // A single segment file.
  SourceSpec one;
  one.paths = {tmp / "t-0/00000000000000000000.log"};
  CHECK(Open(one).size() == 5);
}

TEST_CASE("OpenSource: JSON Lines files, plain and compressed", "[read]") {
  TempDir tmp;
  std::string text = Line(0, 0, 10) + Line(0, 1, 20);
  WriteFile(tmp / "a.jsonl", text);
  gzFile g = gzopen((tmp / "b.jsonl.gz").c_str(), "wb");
  std::string more = Line(1, 7, 30);
  gzwrite(g, more.data(), static_cast<unsigned>(more.size()));
  gzclose(g);
  WriteFile(tmp / "c.txt", Line(2, 9, 40));  // by its first byte
  SourceSpec s;
  s.paths = {tmp / "a.jsonl", tmp / "b.jsonl.gz", tmp / "c.txt"};
  CHECK(Open(s) == std::vector<std::string>{"0/0", "0/1", "1/7", "2/9"});
}

TEST_CASE("OpenSource refuses mixes and files without records", "[read]") {
  TempDir tmp;
  WritePartition(tmp / "t-0", SimpleRecords(3));
  WriteFile(tmp / "a.jsonl", Line(0, 0, 1));
  CountingReporter rep;
  auto refused = [&](std::vector<std::string> paths, const std::string& message_part) {
    SourceSpec s;
    s.paths = std::move(paths);
    auto src = OpenSource(s, &rep);
    REQUIRE_FALSE(src.ok());
    CHECK(src.status().code() == Code::kInvalidArgument);
    CHECK_THAT(src.status().message(), Catch::Contains(message_part));
  };
  refused({tmp / "t-0", tmp / "a.jsonl"}, "not a mix");
  refused({tmp / "a.jsonl", "kafka://127.0.0.1:1/t"}, "not a mix");
  refused({"kafka://127.0.0.1:1/t", tmp / "t-0"}, "read one Kafka topic at a time");
  refused({"kafka://127.0.0.1:1/t", "kafka://127.0.0.1:1/u"}, "read one Kafka topic at a time");
  refused({tmp / "t-0/00000000000000000000.index"}, "`evt dump` shows it");
  refused({tmp / "t-0", tmp / "t-0/leader-epoch-checkpoint"}, "not a segment file");

  // Options that do not fit the input, refused before anything is read (or connected to).
  SourceSpec k;
  k.paths = {"kafka://127.0.0.1:1/t"};
  k.read.include_control = true;
  CHECK(OpenSource(k, &rep).status().message() == "--include-control: Kafka consumers never see control records");
  SourceSpec j;
  j.paths = {tmp / "a.jsonl"};
  j.merge_time = true;
  CHECK(OpenSource(j, &rep).status().code() == Code::kInvalidArgument);
  j.merge_time = false;
  j.where.exprs = {"(("};
  CHECK(OpenSource(j, &rep).status().code() == Code::kInvalidArgument);
  SourceSpec missing;
  missing.paths = {tmp / "nope-0"};
  CHECK_FALSE(OpenSource(missing, &rep).ok());
}

TEST_CASE("OpenSource: --from/--until on JSON Lines, per partition", "[read]") {
  TempDir tmp;
  // Partition 0: offsets 0..4 at 100 200 300 250 400; partition 1: offsets 0..2 at 150 50 350.
  WriteFile(tmp / "in.jsonl", Line(0, 0, 100) + Line(1, 0, 150) + Line(0, 1, 200) + Line(1, 1, 50) + Line(0, 2, 300) +
                                  Line(0, 3, 250) + Line(1, 2, 350) + Line(0, 4, 400));
  SourceSpec s;
  s.paths = {tmp / "in.jsonl"};
  s.read.from = Bound{Bound::kOffset, 2};
  CHECK(Open(s) == std::vector<std::string>{"0/2", "0/3", "1/2", "0/4"});
  s.read.from = Bound{Bound::kBeginning, 0};
  s.read.until = Bound{Bound::kOffset, 2};
  CHECK(Open(s) == std::vector<std::string>{"0/0", "1/0", "0/1", "1/1"});
  // From a time: each partition starts at its first record at or after it, and keeps what
  // follows (offset 3 of partition 0 is older, and kept).
  s.read.until = Bound{Bound::kNone, 0};
  s.read.from = Bound{Bound::kTime, 250};
  CHECK(Open(s) == std::vector<std::string>{"0/2", "0/3", "1/2", "0/4"});
  // Until a time: records at or after it are left out.
  s.read.from = Bound{Bound::kBeginning, 0};
  s.read.until = Bound{Bound::kTime, 300};
  CHECK(Open(s) == std::vector<std::string>{"0/0", "1/0", "0/1", "1/1", "0/3"});
  s.read.from = Bound{Bound::kOffset, 1};
  s.read.until = Bound{Bound::kOffset, 2};
  CHECK(Open(s) == std::vector<std::string>{"0/1", "1/1"});

  // Positions that need the end of the input cannot be known from a stream.
  CountingReporter rep;
  for (Bound b : {Bound{Bound::kEnd, 0}, Bound{Bound::kFromEnd, 2}}) {
    SourceSpec f;
    f.paths = {tmp / "in.jsonl"};
    f.read.from = b;
    CHECK(OpenSource(f, &rep).status().code() == Code::kInvalidArgument);
    SourceSpec u;
    u.paths = {tmp / "in.jsonl"};
    u.read.until = b;
    CHECK(OpenSource(u, &rep).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("Drain: a limit cuts a batch, into a text sink and into a segment sink", "[read]") {
  TempDir tmp;
  WritePartition(tmp / "t-0", SimpleRecords(100, 1000, 4, 10));  // batches of 10
  SourceSpec s;
  s.paths = {tmp / "t-0"};
  CountingReporter rep;
  for (int64_t limit : {int64_t{25}, int64_t{0}, int64_t{-1}, int64_t{100}, int64_t{1000}}) {
    DYNAMIC_SECTION("text sink, limit " << limit) {
      auto src = OpenSource(s, &rep);
      REQUIRE(src.ok());
      auto sink = TextSink::Create(*ParseTextFormat("%o\\n"), std::move(*WritableFile::Open(tmp / "out", false)));
      REQUIRE(sink.ok());
      uint64_t n = 99999;
      REQUIRE(Drain(src->get(), sink->get(), limit, &n).ok());
      REQUIRE((*sink)->Close().ok());
      uint64_t want = limit < 0 ? 100 : std::min<uint64_t>(100, static_cast<uint64_t>(limit));
      CHECK(n == want);
      std::string expect;
      for (uint64_t i = 0; i < want; ++i) expect += std::to_string(i) + "\n";
      CHECK(ReadFile(tmp / "out") == expect);
    }
  }
  SECTION("segment sink, limit 15") {
    auto src = OpenSource(s, &rep);
    REQUIRE(src.ok());
    SegmentDirSink sink(tmp / "copy-0", true, WriterOptions{}, &rep);
    uint64_t n = 0;
    REQUIRE(Drain(src->get(), &sink, 15, &n).ok());
    REQUIRE(sink.Close().ok());
    CHECK(n == 15);
    SourceSpec back;
    back.paths = {tmp / "copy-0"};
    auto got = Open(back);
    REQUIRE(got.size() == 15);
    CHECK(got.back() == "0/14");
  }
}

TEST_CASE("Drain: records before a corrupt batch are written, then the error", "[read]") {
  TempDir tmp;
  WritePartition(tmp / "t-0", SimpleRecords(30, 1000, 4, 10));
  std::string log = tmp / "t-0/00000000000000000000.log";
  std::string data = ReadFile(log);
  auto pos = BatchPositions(data);
  REQUIRE(pos.size() == 3);
  FlipByte(&data, pos[2] + kafka::kRecordsOffset + 3);
  WriteFile(log, data);
  SourceSpec s;
  s.paths = {tmp / "t-0"};
  CountingReporter rep;
  auto src = OpenSource(s, &rep);
  REQUIRE(src.ok());
  auto sink = TextSink::Create(*ParseTextFormat("%o\\n"), std::move(*WritableFile::Open(tmp / "out", false)));
  uint64_t n = 0;
  Status st = Drain(src->get(), sink->get(), -1, &n);
  REQUIRE((*sink)->Close().ok());
  CHECK(st.IsCorruption());
  CHECK_THAT(st.message(), Catch::StartsWith(fmt::format("{}@{}: ", log, pos[2])));
  CHECK(n == 20);
  std::string out = ReadFile(tmp / "out");
  CHECK(std::count(out.begin(), out.end(), '\n') == 20);
}

TEST_CASE("Drain: an interruption stops it before the next batch", "[read]") {
  TempDir tmp;
  WritePartition(tmp / "t-0", SimpleRecords(30));
  SourceSpec s;
  s.paths = {tmp / "t-0"};
  CountingReporter rep;
  auto src = OpenSource(s, &rep);
  REQUIRE(src.ok());
  auto sink = TextSink::Create(*ParseTextFormat("%o\\n"), std::move(*WritableFile::Open(tmp / "out", false)));
  uint64_t n = 1;
  Status st;
  {
    Interrupt on;
    st = Drain(src->get(), sink->get(), -1, &n);
  }
  REQUIRE((*sink)->Close().ok());
  CHECK(st.code() == Code::kInterrupted);
  CHECK(n == 0);
  CHECK(ReadFile(tmp / "out").empty());
}

TEST_CASE("ResolvePartitions: every partition the paths name, in order", "[read]") {
  TempDir tmp;
  WritePartition(tmp / "data/a-0", SimpleRecords(1));
  WritePartition(tmp / "data/a-1", SimpleRecords(1));
  WritePartition(tmp / "b-2", SimpleRecords(1));
  auto parts = ResolvePartitions({tmp / "b-2", tmp / "data"});
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 3);
  CHECK((*parts)[0].topic == "b");
  CHECK((*parts)[0].partition == 2);
  CHECK((*parts)[1].partition == 0);
  CHECK((*parts)[2].partition == 1);
  CHECK_FALSE(ResolvePartitions({tmp / "b-2", tmp / "nope"}).ok());
}
