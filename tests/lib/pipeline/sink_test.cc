// lib/sink: OpenSink decides what a destination is; every Sink commits (durable, and where
// it ends), rewinds to a committed position, and reports its end state.
#include "lib/pipeline/sink.h"

#include <catch2/catch.hpp>

#include <algorithm>

#include "lib/base/file.h"
#include "lib/pipeline/read.h"
#include "lib/jobs/sandbox.h"
#include "tests/testutil.h"

using namespace evt;

namespace {

// n records of topic t, partition p, keys k<first+i> (test::AddRecord).
void Fill(RecordBatch* b, int first, int n, int32_t p) {
  b->Clear();
  b->topic = "t";
  b->partition = p;
  for (int i = first; i < first + n; ++i) {
    test::RecordSpec r;
    r.offset = i;
    r.timestamp = 1000 + i;
    r.key_bytes = "k" + std::to_string(i);
    r.has_key = true;
    r.value = "v";
    test::AddRecord(b, r);
  }
}

uint64_t CountRecords(const std::string& path) {
  SourceSpec spec;
  spec.paths = {path};
  CountingReporter rep;
  auto src = OpenSource(spec, &rep);
  REQUIRE(src.ok());
  uint64_t n = 0;
  RecordBatch b;
  for (;;) {
    bool eof = false;
    REQUIRE((*src)->Next(&b, &eof).ok());
    if (eof) break;
    n += b.records.size();
  }
  return n;
}

}  // namespace

TEST_CASE("sink: what a destination names") {
  test::TempDir d;
  test::WriteFile(d / "plain", "x");
  CHECK(SinkKindOf("kafka://h/t") == SinkKind::kKafka);
  CHECK(SinkKindOf("-") == SinkKind::kStdout);
  CHECK(SinkKindOf(d / "a.jsonl") == SinkKind::kJsonl);
  CHECK(SinkKindOf(d / "a.ndjson") == SinkKind::kJsonl);
  CHECK(SinkKindOf(d / "plain") == SinkKind::kJsonl);  // an existing regular file
  CHECK(SinkKindOf(d / "out") == SinkKind::kSegments);
  CHECK(SinkKindOf(d / "t-0") == SinkKind::kSegments);
  CHECK(std::string(SinkKindName(SinkKind::kSegments)) == "segments");
  CHECK(IsPartitionDirTarget(d / "t-0"));
  CHECK(!IsPartitionDirTarget(d / "out"));
  CountingReporter rep;
  SinkOptions no_stdout;
  no_stdout.allow_stdout = false;
  no_stdout.flag = "--dead-letter";
  auto s = OpenSink("-", no_stdout, &rep);
  REQUIRE(!s.ok());
  CHECK(s.status().message().find("--dead-letter: stdout") != std::string::npos);
  // Without text destinations (evt write), a .jsonl name is a segment directory.
  SinkOptions segs;
  segs.text = false;
  auto w = OpenSink(d / "x.jsonl", segs, &rep);
  REQUIRE(w.ok());
  RecordBatch b;
  Fill(&b, 0, 3, 0);
  REQUIRE((*w)->Write(b).ok());
  REQUIRE((*w)->Close().ok());
  CHECK(IsDirectory(d / "x.jsonl/t-0"));
}

TEST_CASE("sink: a JSON Lines file commits its size and rewinds to it") {
  test::TempDir d;
  CountingReporter rep;
  const std::string path = d / "out.jsonl";
  SinkPosition at;
  {
    auto s = OpenSink(path, SinkOptions{}, &rep);
    REQUIRE(s.ok());
    CHECK((*s)->rewinds_exactly());
    RecordBatch b;
    Fill(&b, 0, 3, 0);
    REQUIRE((*s)->Write(b).ok());
    REQUIRE((*s)->Commit(&at).ok());
    CHECK(at.size == static_cast<int64_t>(ReadFileToString(path)->size()));
    CHECK(at.ends.empty());
    Fill(&b, 3, 2, 0);
    REQUIRE((*s)->Write(b).ok());  // written after the checkpoint: a crash here
    REQUIRE((*s)->Close().ok());
    CHECK((*s)->End().written == 5);
    CHECK((*s)->End().acknowledged == 5);
  }
  CHECK(CountRecords(path) == 5);
  auto s = OpenSink(path, SinkOptions{}, &rep);  // the rerun
  REQUIRE(s.ok());
  RewindResult rr;
  REQUIRE((*s)->Rewind(at, "", &rr).ok());
  REQUIRE((*s)->Close().ok());
  CHECK(CountRecords(path) == 3);
  CHECK(static_cast<int64_t>(ReadFileToString(path)->size()) == at.size);
}

TEST_CASE("sink: a segment directory commits next offsets and rewinds to them") {
  test::TempDir d;
  CountingReporter rep;
  const std::string dst = d / "out";
  SinkPosition start, at;
  {
    auto s = OpenSink(dst, SinkOptions{}, &rep);
    REQUIRE(s.ok());
    CHECK((*s)->rewinds_exactly());
    REQUIRE((*s)->Commit(&start).ok());
    CHECK(start.ends.empty());  // nothing there yet
    RecordBatch b;
    Fill(&b, 0, 4, 0);
    REQUIRE((*s)->Write(b).ok());
    Fill(&b, 0, 2, 1);
    REQUIRE((*s)->Write(b).ok());
    REQUIRE((*s)->Commit(&at).ok());
    CHECK(at.ends == std::map<std::string, int64_t>{{dst + "/t-0", 4}, {dst + "/t-1", 2}});
    Fill(&b, 4, 5, 0);
    REQUIRE((*s)->Write(b).ok());
    Fill(&b, 0, 3, 2);  // a partition the checkpoint does not know
    REQUIRE((*s)->Write(b).ok());
    REQUIRE((*s)->Close().ok());
    CHECK((*s)->End().written == 14);
  }
  CHECK(CountRecords(dst) == 14);
  auto s = OpenSink(dst, SinkOptions{}, &rep);
  REQUIRE(s.ok());
  RewindResult rr;
  REQUIRE((*s)->Rewind(at, "", &rr).ok());
  CHECK(rr.removed == 8);
  SinkPosition again;
  REQUIRE((*s)->Commit(&again).ok());
  CHECK(again.ends[dst + "/t-0"] == 4);
  CHECK(again.ends[dst + "/t-1"] == 2);
  CHECK(again.ends[dst + "/t-2"] == 0);
  REQUIRE((*s)->Close().ok());
  CHECK(CountRecords(dst) == 6);
  // A rewind once records were written would lose them: refused.
  auto late = OpenSink(dst, SinkOptions{}, &rep);
  REQUIRE(late.ok());
  RecordBatch b;
  Fill(&b, 6, 1, 0);
  REQUIRE((*late)->Write(b).ok());
  CHECK(!(*late)->Rewind(at, "", &rr).ok());
  REQUIRE((*late)->Close().ok());
}

TEST_CASE("sink: a topic commits watermarks once acknowledged, and finds its own records past them") {
  CountingReporter rep;
  kafka::SandboxOptions so;
  so.topics = *kafka::ParseSandboxTopics("t:2");
  auto sb = kafka::Sandbox::Start(so, &rep);
  REQUIRE(sb.ok());
  const std::string url = "kafka://" + (*sb)->bootstrap() + "/t";
  SinkOptions o;
  o.kafka_write.policy = kafka::PartitionPolicy::kKeep;
  auto s = OpenSink(url, o, &rep);
  REQUIRE(s.ok());
  CHECK(!(*s)->rewinds_exactly());
  SinkPosition start;
  REQUIRE((*s)->Commit(&start).ok());
  CHECK(start.ends == std::map<std::string, int64_t>{{"0", 0}, {"1", 0}});
  // Records as replay --provenance sends them: evt.source and evt.replay.id.
  RecordBatch b;
  Fill(&b, 0, 3, 1);
  std::vector<std::string> refs;
  for (auto& r : b.records) refs.push_back("src/4/" + std::to_string(10 + r.offset));
  for (size_t i = 0; i < b.records.size(); ++i) {
    Record& r = b.records[i];
    r.header_begin = static_cast<uint32_t>(b.headers.size());
    b.headers.push_back(Header{"evt.source", Bytes::Of(b.arena.Copy(refs[i]))});
    b.headers.push_back(Header{"evt.replay.id", Bytes::Of(i == 2 ? "other" : "run1")});
    r.header_count = 2;
  }
  REQUIRE((*s)->Write(b).ok());
  SinkPosition at;
  REQUIRE((*s)->Commit(&at).ok());
  CHECK(at.ends["1"] == 3);
  CHECK((*s)->End().acknowledged == 3);
  // Past `start`: records 0 and 1 carry run1's id (source offsets 10, 11); record 2 is another run's.
  RewindResult rr;
  REQUIRE((*s)->Rewind(start, "run1", &rr).ok());
  CHECK(rr.found == 2);
  CHECK(rr.already_there == Positions{{{"src", 4}, 11}});
  REQUIRE((*s)->Rewind(at, "run1", &rr).ok());  // nothing past the last commit
  CHECK(rr.found == 0);
  REQUIRE((*s)->Close().ok());
}
