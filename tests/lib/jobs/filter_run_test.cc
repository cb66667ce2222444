// lib/filter_run: RunFilter over JSON Lines files (mapped and streamed, compressed, several
// at once) into a file: selection, --invert, --count, --limit, invalid lines with and
// without --strict, evaluation errors, order across threads, and interruption.
#include "lib/jobs/filter_run.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/base/term.h"
#include "tests/testutil.h"

using namespace evt;
using namespace evt::test;

namespace {

const std::string kInput =
    "{\"type\":\"a\",\"n\":1}\n"    // 1
    "{\"type\":\"b\",\"n\":2}\n"    // 2
    "not json\n"                    // 3
    "   \n"                         // 4: blank, not a document
    "{\"type\":\"a\",\"n\":\"x\"}\n"  // 5
    "{\"type\":\"a\",\"n\":5}";     // 6: no final newline

struct Run {
  TempDir tmp;
  Status status;
  FilterRunStats stats;
  RecordingReporter rep;
  std::string out;
};

void Filter(Run* r, FilterRunOptions o) {
  auto out = WritableFile::Open(r->tmp / "out", false);
  REQUIRE(out.ok());
  r->status = RunFilter(o, out->get(), &r->rep, &r->stats);
  REQUIRE((*out)->Close().ok());
  r->out = ReadFile(r->tmp / "out");
}

FilterRunOptions Options(const std::string& file, std::vector<std::string> exprs, int threads = 1) {
  FilterRunOptions o;
  o.exprs = std::move(exprs);
  o.files = {file};
  o.threads = threads;
  return o;
}

}  // namespace

TEST_CASE("filter: selected lines come out unchanged; invalid lines are counted", "[filter_run]") {
  TempDir in;
  WriteFile(in / "in.jsonl", kInput);
  const std::string file = in / "in.jsonl";
  Run r;
  Filter(&r, Options(file, {".type == \"a\""}));
  REQUIRE(r.status.ok());
  CHECK(r.out == "{\"type\":\"a\",\"n\":1}\n{\"type\":\"a\",\"n\":\"x\"}\n{\"type\":\"a\",\"n\":5}\n");
  CHECK(r.stats.lines == 5);
  CHECK(r.stats.selected == 3);
  CHECK(r.stats.invalid == 1);
  CHECK(r.stats.first_invalid == file + ":3");
  CHECK(r.stats.errors == 0);
  REQUIRE(r.rep.notices.size() == 1);
  CHECK(r.rep.notices[0] == "1 line was not valid JSON and not selected (first: " + file + ":3)");
}

TEST_CASE("filter: expressions ANDed, --invert, --count, --limit", "[filter_run]") {
  TempDir in;
  WriteFile(in / "in.jsonl", kInput);
  const std::string file = in / "in.jsonl";
  {
    Run r;
    Filter(&r, Options(file, {".type == \"a\"", ".n == 5"}));
    CHECK(r.out == "{\"type\":\"a\",\"n\":5}\n");
  }
  {
    Run r;  // invalid lines are selected by neither
    FilterRunOptions o = Options(file, {".type == \"a\""});
    o.invert = true;
    Filter(&r, o);
    CHECK(r.out == "{\"type\":\"b\",\"n\":2}\n");
  }
  {
    Run r;
    FilterRunOptions o = Options(file, {".n"});
    o.count = true;
    Filter(&r, o);
    REQUIRE(r.status.ok());
    CHECK(r.out == "4\n");
    CHECK(r.stats.selected == 4);
  }
  {
    Run r;
    FilterRunOptions o = Options(file, {"true"});
    o.limit = 2;
    Filter(&r, o);
    REQUIRE(r.status.ok());
    CHECK(r.out == "{\"type\":\"a\",\"n\":1}\n{\"type\":\"b\",\"n\":2}\n");
    CHECK(r.stats.selected == 2);
  }
  {
    Run r;
    FilterRunOptions o = Options(file, {"true"});
    o.limit = 0;
    Filter(&r, o);
    CHECK(r.out.empty());
  }
  {
    Run r;
    Filter(&r, Options(file, {".type == \"zzz\""}));
    REQUIRE(r.status.ok());
    CHECK(r.out.empty());
    CHECK(r.stats.selected == 0);
  }
}

TEST_CASE("filter --strict: the first invalid line stops it, after the lines before it", "[filter_run]") {
  TempDir in;
  WriteFile(in / "in.jsonl", kInput);
  const std::string file = in / "in.jsonl";
  Run r;
  FilterRunOptions o = Options(file, {".type == \"a\""});
  o.strict = true;
  Filter(&r, o);
  CHECK(r.status.code() == Code::kDataProblem);
  CHECK(r.status.message() == file + ":3: not valid JSON (--strict)");
  CHECK(r.out == "{\"type\":\"a\",\"n\":1}\n");
  CHECK(r.rep.notices.empty());  // the error says it
}

TEST_CASE("filter: evaluation errors are counted and the first one named", "[filter_run]") {
  TempDir in;
  WriteFile(in / "in.jsonl", kInput);
  const std::string file = in / "in.jsonl";
  Run r;
  Filter(&r, Options(file, {".n + 1 > 2"}));
  REQUIRE(r.status.ok());
  CHECK(r.out == "{\"type\":\"b\",\"n\":2}\n{\"type\":\"a\",\"n\":5}\n");
  CHECK(r.stats.errors == 1);
  CHECK_THAT(r.stats.first_error, Catch::StartsWith(file + ":5: "));
  REQUIRE(r.rep.notices.size() == 2);
  CHECK_THAT(r.rep.notices[1],
             Catch::StartsWith("1 line was not selected because evaluation raised an error (first: " + file + ":5: "));
}

TEST_CASE("filter: a bad expression is a usage error and reads nothing", "[filter_run]") {
  TempDir in;
  WriteFile(in / "in.jsonl", kInput);
  Run r;
  Filter(&r, Options(in / "in.jsonl", {".type =="}));
  CHECK(r.status.code() == Code::kInvalidArgument);
  CHECK(r.out.empty());
  CHECK(r.stats.lines == 0);
  Run m;
  Filter(&m, Options(in / "missing.jsonl", {"true"}));
  CHECK_FALSE(m.status.ok());
}

TEST_CASE("filter: compressed and several files, line numbers per file", "[filter_run]") {
  TempDir in;
  std::string z(ZSTD_compressBound(kInput.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), kInput.data(), kInput.size(), 3));
  WriteFile(in / "a.jsonl.zst", z);
  gzFile g = gzopen((in / "b.jsonl.gz").c_str(), "wb");
  gzwrite(g, kInput.data(), static_cast<unsigned>(kInput.size()));
  gzclose(g);
  WriteFile(in / "c.jsonl", "{\"type\":\"a\",\"n\":9}\n");
  Run r;
  FilterRunOptions o = Options(in / "a.jsonl.zst", {".type == \"a\" and (.n | type) == \"number\""});
  o.files = {in / "a.jsonl.zst", in / "b.jsonl.gz", in / "c.jsonl"};
  Filter(&r, o);
  REQUIRE(r.status.ok());
  CHECK(r.out == "{\"type\":\"a\",\"n\":1}\n{\"type\":\"a\",\"n\":5}\n{\"type\":\"a\",\"n\":1}\n{\"type\":\"a\",\"n\":5}\n"
                 "{\"type\":\"a\",\"n\":9}\n");
  CHECK(r.stats.lines == 11);
  CHECK(r.stats.invalid == 2);
  CHECK(r.stats.first_invalid == in / "a.jsonl.zst:3");
}

TEST_CASE("filter: many small chunks over several threads keep the input order", "[filter_run]") {
  TempDir in;
  std::string text, want;
  for (int i = 0; i < 3000; ++i) {
    std::string line = fmt::format("{{\"i\":{},\"pad\":\"{}\"}}", i, std::string(i % 17, 'p'));
    text += line + "\n";
    if (i % 3 == 0) want += line + "\n";
  }
  WriteFile(in / "big.jsonl", text);
  for (int threads : {1, 2, 4}) {
    Run r;
    FilterRunOptions o = Options(in / "big.jsonl", {".i % 3 == 0"}, threads);
    o.chunk_bytes = 256;
    Filter(&r, o);
    INFO("threads " << threads);
    REQUIRE(r.status.ok());
    CHECK(r.out == want);
    CHECK(r.stats.lines == 3000);
    CHECK(r.stats.selected == 1000);
  }
  // A limit across chunks and threads: exactly the first N.
  Run r;
  FilterRunOptions o = Options(in / "big.jsonl", {".i % 3 == 0"}, 4);
  o.chunk_bytes = 256;
  o.limit = 10;
  Filter(&r, o);
  REQUIRE(r.status.ok());
  CHECK(r.out == want.substr(0, [&] {
          size_t p = 0;
          for (int i = 0; i < 10; ++i) p = want.find('\n', p) + 1;
          return p;
        }()));
}

TEST_CASE("filter: an interruption stops it with nothing written", "[filter_run]") {
  TempDir in;
  WriteFile(in / "in.jsonl", kInput);
  struct Interrupt {
    Interrupt() { g_interrupted = true; }
    ~Interrupt() { g_interrupted = false; }
  };
  for (int threads : {1, 2}) {
    Run r;
    {
      Interrupt on;
      Filter(&r, Options(in / "in.jsonl", {"true"}, threads));
    }
    CHECK(r.status.code() == Code::kInterrupted);
    CHECK(r.out.empty());
  }
}

TEST_CASE("filter --limit: what follows the limit-th selected line is not read, whatever the chunking", "[filter_run]") {
  // Once the limit is reached nothing after it counts: an invalid line there is neither an
  // error with --strict nor counted (and noticed) without it, however lines fall in chunks.
  TempDir in;
  WriteFile(in / "in.jsonl", "{\"a\":1}\n{\"a\":2}\nnot json\n{\"a\":3}\n");
  for (size_t chunk : {size_t{1}, size_t{12}, size_t{1} << 20}) {
    for (int threads : {1, 2}) {
      for (bool strict : {false, true}) {
        INFO("chunk_bytes " << chunk << ", threads " << threads << ", strict " << strict);
        Run r;
        FilterRunOptions o = Options(in / "in.jsonl", {"true"}, threads);
        o.chunk_bytes = chunk;
        o.strict = strict;
        o.limit = 1;
        Filter(&r, o);
        CHECK(r.status.ok());
        CHECK(r.out == "{\"a\":1}\n");
        CHECK(r.stats.selected == 1);
        CHECK(r.stats.lines == 1);
        CHECK(r.stats.invalid == 0);
        CHECK(r.rep.notices.empty());
        // The limit reached on the line before the invalid one: the same.
        Run two;
        o.limit = 2;
        Filter(&two, o);
        CHECK(two.status.ok());
        CHECK(two.out == "{\"a\":1}\n{\"a\":2}\n");
        CHECK(two.stats.invalid == 0);
        // A limit past the invalid line: it is reached, so --strict stops there.
        Run three;
        o.limit = 3;
        Filter(&three, o);
        CHECK(three.status.ok() == !strict);
        CHECK(three.stats.invalid == 1);
        CHECK(three.out == (strict ? "{\"a\":1}\n{\"a\":2}\n" : "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"));
      }
    }
  }
}
