#include "lib/pipeline/jsonl_source.h"

#include <catch2/catch.hpp>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "testutil.h"

using namespace evt;
using namespace evt::test;

namespace {
std::vector<std::string> Lines(const std::string& path) {
  auto r = LineReader::Open(path);
  REQUIRE(r.ok());
  std::vector<std::string> out;
  std::string_view l;
  while ((*r)->Next(&l)) out.emplace_back(l);
  REQUIRE((*r)->status().ok());
  return out;
}
}  // namespace

TEST_CASE("LineReader: plain, .gz and .zst, last line without newline, long lines", "[jsonl]") {
  TempDir d;
  std::string text = "a\n\nccc\r\n" + std::string(3 << 20, 'x') + "\nlast";
  WriteFile(d / "p.txt", text);
  std::vector<std::string> want = {"a", "", "ccc\r", std::string(3 << 20, 'x'), "last"};
  CHECK(Lines(d / "p.txt") == want);
  // zstd
  std::string z(ZSTD_compressBound(text.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), text.data(), text.size(), 3));
  WriteFile(d / "p.txt.zst", z);
  CHECK(Lines(d / "p.txt.zst") == want);
  // gzip
  gzFile g = gzopen((d / "p.txt.gz").c_str(), "wb");
  gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
  gzclose(g);
  CHECK(Lines(d / "p.txt.gz") == want);
  WriteFile(d / "empty", "");
  CHECK(Lines(d / "empty").empty());
  // A corrupt .zst is an error, not a silent end.
  WriteFile(d / "bad.zst", "not zstd at all");
  auto r = LineReader::Open(d / "bad.zst");
  REQUIRE(r.ok());
  std::string_view l;
  while ((*r)->Next(&l)) {
  }
  CHECK_FALSE((*r)->status().ok());
}

TEST_CASE("JsonlSource: envelope batches split on topic/partition, and errors name file:line", "[jsonl]") {
  TempDir d;
  WriteFile(d / "in.jsonl",
            "{\"topic\":\"a\",\"partition\":0,\"offset\":1,\"timestamp\":5,\"key\":\"k\",\"value\":{\"x\":1},\"headers\":[]}\n"
            "{\"topic\":\"a\",\"partition\":0,\"offset\":2,\"timestamp\":6,\"key\":null,\"value\":\"v\",\"headers\":[]}\n"
            "{\"topic\":\"b\",\"partition\":1,\"offset\":3,\"timestamp\":7,\"key\":null,\"value\":null,\"headers\":[]}\n"
            "not json\n");
  JsonlSource src({d / "in.jsonl"}, JsonlSourceOptions{});
  RecordBatch b;
  bool eof = false;
  REQUIRE(src.Next(&b, &eof).ok());
  CHECK(b.topic == "a");
  CHECK(b.records.size() == 2);
  CHECK(b.records[0].value.view() == "{\"x\":1}");
  // The next batch holds topic b's record when the bad line stops it: the caller still
  // writes what was decoded before the error.
  Status s = src.Next(&b, &eof);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("in.jsonl:4") != std::string::npos);
  CHECK(b.topic == "b");
  CHECK(b.partition == 1);
  CHECK(b.records.size() == 1);
}

TEST_CASE("JsonlSource: lines and values with a key field", "[jsonl]") {
  TempDir d;
  WriteFile(d / "v.jsonl", "{\"id\":7,\"n\":{\"k\":\"x\"}}\n{\"n\":{\"k\":\"y\"}}\n");
  JsonlSourceOptions o;
  o.format = InputFormat::kValues;
  o.key_field = ".n.k";
  o.topic = "t";
  o.partition = 3;
  JsonlSource src({d / "v.jsonl"}, o);
  RecordBatch b;
  bool eof = false;
  REQUIRE(src.Next(&b, &eof).ok());
  REQUIRE(b.records.size() == 2);
  CHECK(b.records[0].key.view() == "x");
  CHECK(b.records[1].key.view() == "y");
  CHECK(b.topic == "t");
  CHECK(b.partition == 3);
  WriteFile(d / "bad.jsonl", "{\"a\":1}\nnot json\n");
  JsonlSource bad({d / "bad.jsonl"}, o);
  CHECK_FALSE(bad.Next(&b, &eof).ok());
}

TEST_CASE("JsonlSource: on_invalid passes over bad lines and hands each one over", "[jsonl]") {
  TempDir d;
  WriteFile(d / "in.jsonl",
            "{\"topic\":\"a\",\"value\":1}\n"
            "hello\n"
            "{\"topic\":\"a\",\"value\":2}\n"
            "[1]\n"
            "{\"topic\":\"b\",\"value\":3,\"headers\":[{\"key\":\"h\",\"value\":\"x\"}]}\n"
            "{\"topic\":\"b\",\"value\":4,\"headers\":[{\"key\":\"h\",\"value\":5}]}\n"
            "{\"topic\":\"b\",\"value\":5}\n");
  struct Seen {
    std::string file, error, raw;
    uint64_t line;
  };
  std::vector<Seen> seen;
  JsonlSourceOptions o;
  o.suggest_input = true;
  o.on_invalid = [&](const InvalidLine& l) {
    seen.push_back({std::string(l.file), std::string(l.error), std::string(l.raw), l.line});
    return Status::OK();
  };
  JsonlSource src({d / "in.jsonl"}, o);
  RecordBatch b;
  bool eof = false;
  std::vector<std::string> values;
  size_t headers = 0;
  while (true) {
    REQUIRE(src.Next(&b, &eof).ok());
    if (eof) break;
    for (const Record& r : b.records) {
      values.emplace_back(r.value.view());
      headers += r.header_count;
    }
  }
  CHECK(values == std::vector<std::string>{"1", "2", "3", "5"});
  CHECK(headers == 1);  // the bad line's first header does not stay behind
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].file == d / "in.jsonl");
  CHECK(seen[0].line == 2);
  CHECK(seen[0].raw == "hello");
  CHECK(seen[0].error == "not JSON (use --input lines for raw text)");
  CHECK(seen[1].line == 4);
  CHECK(seen[1].error.find("a JSON array, not an envelope") == 0);
  CHECK(seen[1].error.find("use --input values") != std::string::npos);
  CHECK(seen[2].line == 6);
  CHECK(seen[2].error == "headers[0].value must be a string or null, not 5");

  // An error from on_invalid ends the read; without suggest_input there is no hint.
  JsonlSourceOptions stop;
  stop.on_invalid = [](const InvalidLine& l) { return Status::IOError("dead letters: disk full"); };
  JsonlSource src2({d / "in.jsonl"}, stop);
  Status s = src2.Next(&b, &eof);
  CHECK(s.code() == Code::kIOError);
  JsonlSource src3({d / "in.jsonl"}, JsonlSourceOptions{});
  s = src3.Next(&b, &eof);
  CHECK(s.message() == d / "in.jsonl" + ":2: not JSON");
}

TEST_CASE("JsonlSource: from a pipe, the records there are handed on without waiting for more", "[jsonl]") {
  // `tail -f app.log | evt write ...`: two lines in a pipe whose writer stays open must make
  // a batch now, not after 4096 lines or the end of the input.
  int p[2];
  REQUIRE(::pipe(p) == 0);
  const std::string two = "{\"key\":\"a\",\"value\":1}\n{\"key\":\"b\",\"value\":2}\n";
  REQUIRE(::write(p[1], two.data(), two.size()) == static_cast<ssize_t>(two.size()));
  JsonlSourceOptions o;
  o.hand_on_when_idle = true;  // what evt write sets for a topic
  JsonlSource src({"/dev/fd/" + std::to_string(p[0])}, o);
  RecordBatch b;
  bool eof = true;
  REQUIRE(src.Next(&b, &eof).ok());  // would hang here if it waited for more lines
  CHECK_FALSE(eof);
  REQUIRE(b.records.size() == 2);
  CHECK(b.records[1].key.view() == "b");
  const std::string third = "{\"key\":\"c\",\"value\":3}\n";
  REQUIRE(::write(p[1], third.data(), third.size()) == static_cast<ssize_t>(third.size()));
  ::close(p[1]);
  REQUIRE(src.Next(&b, &eof).ok());
  REQUIRE(b.records.size() == 1);
  CHECK(b.records[0].key.view() == "c");
  REQUIRE(src.Next(&b, &eof).ok());
  CHECK(eof);
  ::close(p[0]);
}
