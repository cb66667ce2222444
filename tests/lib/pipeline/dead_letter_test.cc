// lib/pipeline/dead_letter: a failed record with Connect's and evt's error headers, read
// back as evt's dead-letter profile (formats/dlq).
#include "lib/pipeline/dead_letter.h"

#include <catch2/catch.hpp>

#include "formats/dlq/profile.h"
#include "lib/base/file.h"
#include "lib/pipeline/read.h"
#include "tests/testutil.h"

using namespace evt;

namespace {

std::string HeaderValue(const RecordBatch& b, const Record& r, std::string_view key, int* count) {
  std::string v;
  *count = 0;
  const Header* hs = b.HeadersOf(r);
  for (uint32_t i = 0; i < r.header_count; ++i)
    if (hs[i].key == key) {
      ++*count;
      v.assign(hs[i].value.view());
    }
  return v;
}

}  // namespace

TEST_CASE("dead letters: the record with its error headers, earlier ones replaced, redrive count kept") {
  test::TempDir d;
  CountingReporter rep;
  const std::string path = d / "dl.jsonl";
  RecordBatch in;
  in.topic = "orders";
  in.partition = 3;
  test::RecordSpec spec;
  spec.offset = 42;
  spec.timestamp = 1700000000000;
  spec.key = "k1";
  spec.value = "{\"a\":1}";
  spec.headers = {{"trace", "t-1"},
                  {"__connect.errors.exception.message", "an older failure"},
                  {"evt.dlq.attempts", "7"},
                  {"evt.redrive.count", "2"}};
  test::AddRecord(&in, spec);
  {
    auto w = DeadLetterWriter::Open(path, "--dead-letter", SinkOptions{}, &rep);
    REQUIRE(w.ok());
    DeadLetterCause c;
    c.class_name = "evt.project.ReduceError";
    c.message = "bad seq";
    c.where = "orders/3/42";
    REQUIRE((*w)->Write(in, in.records[0], c).ok());
    REQUIRE((*w)->Commit().ok());
    CHECK((*w)->written() == 1);
    REQUIRE((*w)->Close().ok());
  }
  SourceSpec ss;
  ss.paths = {path};
  auto src = OpenSource(ss, &rep);
  REQUIRE(src.ok());
  RecordBatch b;
  bool eof = false;
  REQUIRE((*src)->Next(&b, &eof).ok());
  REQUIRE(b.records.size() == 1);
  const Record& r = b.records[0];
  CHECK(r.key.view() == "k1");
  CHECK(r.value.view() == "{\"a\":1}");
  CHECK(r.timestamp == 1700000000000);
  int n = 0;
  CHECK(HeaderValue(b, r, "trace", &n) == "t-1");
  CHECK(n == 1);
  CHECK(HeaderValue(b, r, "evt.redrive.count", &n) == "2");  // kept: --max-redrives counts on it
  CHECK(n == 1);
  CHECK(HeaderValue(b, r, "__connect.errors.exception.message", &n) == "bad seq");
  CHECK(n == 1);  // the older failure's is replaced, not kept beside it
  CHECK(HeaderValue(b, r, "evt.dlq.attempts", &n) == "1");
  CHECK(n == 1);
  CHECK(HeaderValue(b, r, "evt.dlq.where", &n) == "orders/3/42");
  dlq::DeadLetter dl;
  dlq::Decode(b.HeadersOf(r), r.header_count, dlq::Profile::kNone, nullptr, &dl);
  CHECK(dl.profile == dlq::Profile::kEvt);
  CHECK(dl.has_coordinates());
  CHECK(dl.topic == "orders");
  CHECK(dl.partition == 3);
  CHECK(dl.offset == 42);
  CHECK(dl.error_class == "evt.project.ReduceError");
  CHECK(dl.attempts == 1);
  CHECK(dl.redrive_count == 2);
  CHECK(dl.problems.empty());
}

TEST_CASE("dead letters: never to stdout") {
  CountingReporter rep;
  auto w = DeadLetterWriter::Open("-", "--dead-letter", SinkOptions{}, &rep);
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().message().find("--dead-letter") != std::string::npos);
}
