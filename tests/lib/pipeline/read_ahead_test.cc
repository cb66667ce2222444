#include "lib/pipeline/read_ahead.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "lib/log/segment.h"
#include "lib/log/segment_writer.h"
#include "testutil.h"

using namespace evt;
using evt::test::AddRecord;
using evt::test::RecordSpec;
using evt::test::TempDir;

namespace {

// Yields `batches` batches of 3 records (offsets 0..), then an error or the end; reports a
// warning with every second batch. Records point into the batch's arena, as sources do.
class ScriptedSource : public Source {
 public:
  ScriptedSource(int batches, bool fail, Reporter* rep) : batches_(batches), fail_(fail), rep_(rep) {}
  Status Next(RecordBatch* out, bool* eof) override {
    out->Clear();
    *eof = false;
    thread = std::this_thread::get_id();
    if (n_ == batches_) {
      if (fail_) {
        RecordSpec s;
        s.offset = next_offset_++;
        s.value = "before the damage";
        AddRecord(out, s);
        return Status::Corruption("f@7: damaged");
      }
      *eof = true;
      return Status::OK();
    }
    out->topic = "t";
    out->partition = 0;
    for (int i = 0; i < 3; ++i) {
      RecordSpec s;
      s.offset = next_offset_++;
      s.value = "value-" + std::to_string(s.offset);
      AddRecord(out, s);
    }
    if (n_ % 2 == 1) rep_->Warning("f", static_cast<uint64_t>(n_), "odd batch");
    ++n_;
    return Status::OK();
  }
  std::string Describe() const override { return "scripted"; }
  std::atomic<std::thread::id> thread{};

 private:
  int batches_;
  bool fail_;
  Reporter* rep_;
  int n_ = 0;
  int64_t next_offset_ = 0;
};

// Remembers the thread each report arrived on.
class ThreadReporter : public CountingReporter {
 public:
  void Warning(std::string_view where, uint64_t pos, std::string_view what) override {
    CountingReporter::Warning(where, pos, what);
    threads.push_back(std::this_thread::get_id());
    positions.push_back(pos);
  }
  std::vector<std::thread::id> threads;
  std::vector<uint64_t> positions;
};

}  // namespace

TEST_CASE("read-ahead yields the inner batches in order, reports on the caller's thread", "[read_ahead]") {
  ThreadReporter rep;
  ScriptedSource* inner = nullptr;
  ReadAheadSource src(
      [&](Reporter* r) {
        auto s = std::make_unique<ScriptedSource>(10, false, r);
        inner = s.get();
        return s;
      },
      &rep);
  CHECK(src.Describe() == "scripted");
  RecordBatch b;
  int64_t expect = 0;
  int batches = 0;
  for (;;) {
    bool eof = false;
    REQUIRE(src.Next(&b, &eof).ok());
    if (eof) break;
    ++batches;
    REQUIRE(b.records.size() == 3);
    for (const Record& r : b.records) {
      CHECK(r.offset == expect);
      CHECK(r.value.view() == "value-" + std::to_string(expect));
      ++expect;
    }
    // A warning made with batch n is passed on when batch n is handed over, not before.
    CHECK(rep.warnings == batches / 2);
  }
  CHECK(batches == 10);
  CHECK(b.records.empty());
  CHECK(inner->thread.load() != std::this_thread::get_id());  // decoded on the thread
  REQUIRE(rep.threads.size() == 5);
  for (auto id : rep.threads) CHECK(id == std::this_thread::get_id());
  CHECK(rep.positions == std::vector<uint64_t>{1, 3, 5, 7, 9});
  // After the end, Next keeps saying so.
  bool eof = false;
  REQUIRE(src.Next(&b, &eof).ok());
  CHECK(eof);
}

TEST_CASE("read-ahead passes an error on with the records decoded before it", "[read_ahead]") {
  CountingReporter rep;
  ReadAheadSource src([&](Reporter* r) { return std::make_unique<ScriptedSource>(2, true, r); }, &rep);
  RecordBatch b;
  bool eof = false;
  REQUIRE(src.Next(&b, &eof).ok());
  REQUIRE(src.Next(&b, &eof).ok());
  Status s = src.Next(&b, &eof);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().find("f@7") != std::string::npos);
  REQUIRE(b.records.size() == 1);
  CHECK(b.records[0].value.view() == "before the damage");
  // The error sticks.
  CHECK(src.Next(&b, &eof).code() == Code::kCorruption);
}

TEST_CASE("read-ahead stops cleanly when the caller stops early", "[read_ahead]") {
  CountingReporter rep;
  for (int taken = 0; taken < 4; ++taken) {
    ReadAheadSource src([&](Reporter* r) { return std::make_unique<ScriptedSource>(1000, false, r); }, &rep);
    RecordBatch b;
    bool eof = false;
    for (int i = 0; i < taken; ++i) REQUIRE(src.Next(&b, &eof).ok());
  }  // destroyed mid-stream: joins the thread
  SUCCEED();
}

namespace {

// Writes `n` records of distinct values into `dir` (several segment files).
void WriteSegments(const std::string& dir, int n, kafka::Codec codec) {
  WriterOptions o;
  o.segment_bytes = 4096;
  o.batch_records = 16;
  o.encode.codec = codec;
  CountingReporter rep;
  auto w = PartitionWriter::Open(dir, o, &rep);
  REQUIRE(w.ok());
  RecordBatch b;
  b.topic = "t";
  b.partition = 0;
  for (int i = 0; i < n; ++i) {
    RecordSpec s;
    s.timestamp = 1000 + i;
    s.key = "k";
    s.value = "value-" + std::to_string(i) + std::string(64, static_cast<char>('a' + i % 26));
    s.headers = {{"h", std::to_string(i)}};
    AddRecord(&b, s);
  }
  REQUIRE((*w)->Append(b, 0, b.records.size()).ok());
  REQUIRE((*w)->Close().ok());
}

std::string Expected(int64_t i) { return "value-" + std::to_string(i) + std::string(64, static_cast<char>('a' + i % 26)); }

void CheckBatch(const RecordBatch& b) {
  for (const Record& r : b.records) {
    REQUIRE(r.value.view() == Expected(r.offset));
    REQUIRE(r.header_count == 1);
    REQUIRE(b.HeadersOf(r)[0].value.view() == std::to_string(r.offset));
  }
}

}  // namespace

TEST_CASE("segment source with hold 2: a batch stays valid through the next call", "[read_ahead][segment]") {
  for (kafka::Codec codec : {kafka::kNone, kafka::kZstd}) {
    TempDir tmp;
    std::string dir = tmp / "t-0";
    WriteSegments(dir, 2000, codec);
    auto parts = DiscoverPartitions(dir);
    REQUIRE(parts.ok());
    REQUIRE((*parts)[0].segments.size() > 3);  // batches span file ends
    ReadOptions ro;
    ro.hold = 2;
    ro.target_records = 50;
    CountingReporter rep;
    SegmentSource src(*parts, ro, &rep);
    // Two batches in turn, as a read-ahead holds them: after each call, the batch from the
    // call before must still read back (for stored batches it points into a mapping that
    // a finished segment would otherwise have unmapped).
    RecordBatch a, b;
    RecordBatch* cur = &a;
    RecordBatch* prev = &b;
    int64_t seen = 0;
    for (;;) {
      bool eof = false;
      REQUIRE(src.Next(cur, &eof).ok());
      CheckBatch(*prev);
      if (eof) break;
      CheckBatch(*cur);
      seen += static_cast<int64_t>(cur->records.size());
      std::swap(cur, prev);
    }
    CHECK(seen == 2000);
  }
}

TEST_CASE("read-ahead over segments reads every record once, in order", "[read_ahead][segment]") {
  TempDir tmp;
  std::string dir = tmp / "t-0";
  WriteSegments(dir, 3000, kafka::kNone);
  auto parts = DiscoverPartitions(dir);
  REQUIRE(parts.ok());
  CountingReporter rep;
  ReadAheadSource src(
      [&](Reporter* r) {
        ReadOptions ro;
        ro.hold = 2;
        ro.target_records = 64;
        return std::make_unique<SegmentSource>(*parts, ro, r);
      },
      &rep);
  RecordBatch b;
  int64_t expect = 0;
  for (;;) {
    bool eof = false;
    REQUIRE(src.Next(&b, &eof).ok());
    if (eof) break;
    CheckBatch(b);
    for (const Record& r : b.records) CHECK(r.offset == expect++);
  }
  CHECK(expect == 3000);
  CHECK(rep.corruptions == 0);
  CHECK(rep.warnings == 0);
}
