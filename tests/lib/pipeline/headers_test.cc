// lib/headers: --keep-header/--drop-header globs, the in-place rewrite of a batch's header
// ranges (order kept, no allocation), and the Source decorator.
#include "lib/pipeline/headers.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "testutil.h"

using namespace evt;
using evt::test::AddRecord;
using evt::test::RecordSpec;

// Counts allocations made on this thread while armed: Apply must make none. Not under
// AddressSanitizer, which owns operator new/delete itself (a replacement pair mixes with
// its other forms and reports alloc-dealloc mismatches); the release build checks it.
#if defined(__SANITIZE_ADDRESS__)
#define EVT_COUNT_ALLOCATIONS 0
#else
#define EVT_COUNT_ALLOCATIONS 1
#endif
namespace {
thread_local bool g_counting = false;
thread_local size_t g_allocations = 0;
}  // namespace
#if EVT_COUNT_ALLOCATIONS
// GCC takes the replaced pair for a mismatch once it inlines them into a new-expression.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
#endif

namespace {

HeaderFilter Make(std::vector<std::string> keep, std::vector<std::string> drop) {
  auto f = HeaderFilter::Make(keep, drop);
  REQUIRE(f.ok());
  return *f;
}

// The header keys of each record of `b`, "a,b|c|" style.
std::string Keys(const RecordBatch& b) {
  std::string out;
  for (const Record& r : b.records) {
    const Header* h = b.HeadersOf(r);
    for (uint32_t i = 0; i < r.header_count; ++i) out += (i ? "," : "") + std::string(h[i].key) + "=" + std::string(h[i].value.view());
    out += "|";
  }
  return out;
}

RecordBatch Dlq() {
  RecordBatch b;
  b.topic = "orders.dlq";
  b.partition = 0;
  RecordSpec r;
  r.value = "v0";
  r.headers = {{"trace-id", "t0"},
               {"__connect.errors.topic", "orders"},
               {"__connect.errors.exception.message", "boom"},
               {"content-type", "json"},
               {"trace-id", "t0b"}};
  AddRecord(&b, r);
  r.value = "v1";
  r.headers = {};
  AddRecord(&b, r);
  r.value = "v2";
  r.headers = {{"__connect.errors.offset", "7"}, {"x-tenant", "acme"}};
  AddRecord(&b, r);
  return b;
}

}  // namespace

TEST_CASE("headers: an empty filter passes everything", "[headers]") {
  HeaderFilter f;
  CHECK(f.empty());
  CHECK(f.Passes("anything"));
  RecordBatch b = Dlq();
  std::string before = Keys(b);
  f.Apply(&b);
  CHECK(Keys(b) == before);
  CHECK(Make({}, {}).empty());
}

TEST_CASE("headers: shell-style globs over the whole key", "[headers]") {
  // Exact keys, prefixes, '*' alone, and patterns fnmatch decides.
  struct Case {
    const char* glob;
    const char* key;
    bool matches;
  };
  const Case cases[] = {
      {"trace-id", "trace-id", true},
      {"trace-id", "trace-id2", false},
      {"trace-id", "trace", false},
      {"Trace-ID", "trace-id", false},  // case matters, as in Kafka
      {"__connect.errors.*", "__connect.errors.topic", true},
      {"__connect.errors.*", "__connect.errors.", true},
      {"__connect.errors.*", "__connect.error", false},
      {"__connect.errors.*", "x__connect.errors.topic", false},
      {"*", "", true},
      {"**", "a.b/c", true},
      {"*.message", "__connect.errors.exception.message", true},  // '*' crosses '.'
      {"a/*", "a/b/c", true},                                     // and '/' (no FNM_PATHNAME)
      {"*", ".hidden", true},                                     // and a leading '.' (no FNM_PERIOD)
      {"kafka_dlt-original-?????", "kafka_dlt-original-topic", true},
      {"kafka_dlt-original-?????", "kafka_dlt-original-offset", false},
      {"x-[abc]*", "x-b1", true},
      {"x-[abc]*", "x-d1", false},
      {"x-[!abc]", "x-d", true},
      {"[[:upper:]]*", "Trace", true},
      {"[[:upper:]]*", "trace", false},
      {"a\\*", "a*", true},  // '\' quotes: a literal star, not a prefix
      {"a\\*", "ab", false},
      {"a\\\\", "a\\", true},
  };
  for (const Case& c : cases) {
    INFO("glob " << c.glob << " key " << c.key);
    CHECK(Make({}, {c.glob}).Passes(c.key) == !c.matches);
    CHECK(Make({c.glob}, {}).Passes(c.key) == c.matches);
  }
}

TEST_CASE("headers: keep selects, then drop removes; order and duplicates stay", "[headers]") {
  RecordBatch b = Dlq();
  Make({}, {"__connect.errors.*"}).Apply(&b);
  CHECK(Keys(b) == "trace-id=t0,content-type=json,trace-id=t0b||x-tenant=acme|");

  b = Dlq();
  Make({"trace-id", "x-*"}, {}).Apply(&b);
  CHECK(Keys(b) == "trace-id=t0,trace-id=t0b||x-tenant=acme|");

  // A key both kept and dropped is dropped: drop applies after keep.
  b = Dlq();
  auto f = Make({"__connect.errors.*", "trace-id"}, {"*.message", "trace-id"});
  f.Apply(&b);
  CHECK(Keys(b) == "__connect.errors.topic=orders||__connect.errors.offset=7|");
  CHECK_FALSE(f.Passes("content-type"));  // not kept

  // Several drops: any of them.
  b = Dlq();
  Make({}, {"trace-id", "content-type", "x-tenant"}).Apply(&b);
  CHECK(Keys(b) == "__connect.errors.topic=orders,__connect.errors.exception.message=boom||__connect.errors.offset=7|");

  // Everything dropped: records stay, without headers; their values are untouched.
  b = Dlq();
  Make({}, {"*"}).Apply(&b);
  CHECK(Keys(b) == "|||");
  REQUIRE(b.records.size() == 3);
  CHECK(b.records[2].value.view() == "v2");
}

TEST_CASE("headers: records whose ranges are not in batch order, and null values", "[headers]") {
  // A batch whose second record's headers sit before the first's in b.headers: each record
  // is rewritten within its own range.
  RecordBatch b;
  b.headers.push_back(Header{"drop-me", Bytes::Of("1")});
  b.headers.push_back(Header{"keep", Bytes::Null()});
  b.headers.push_back(Header{"keep", Bytes::Of("a")});
  b.headers.push_back(Header{"drop-me", Bytes::Of("2")});
  Record r0, r1;
  r0.header_begin = 2;
  r0.header_count = 2;
  r1.header_begin = 0;
  r1.header_count = 2;
  b.records = {r0, r1};
  Make({}, {"drop-*"}).Apply(&b);
  REQUIRE(b.records[0].header_count == 1);
  CHECK(b.HeadersOf(b.records[0])[0].value.view() == "a");
  REQUIRE(b.records[1].header_count == 1);
  CHECK(b.HeadersOf(b.records[1])[0].key == "keep");
  CHECK(b.HeadersOf(b.records[1])[0].value.null());
}

TEST_CASE("headers: keys that are long, binary or hold a NUL byte", "[headers]") {
  std::string long_key = "x-" + std::string(1000, 'k') + "-end";
  CHECK_FALSE(Make({}, {"x-*-end"}).Passes(long_key));  // fnmatch over a key longer than the stack buffer
  CHECK(Make({}, {"x-*-end"}).Passes("x-other"));
  CHECK_FALSE(Make({}, {"x-*"}).Passes(long_key));
  std::string binary("\xff\xfe-bin", 6);
  CHECK_FALSE(Make({}, {"\?\?-bin"}).Passes(binary));  // bytes, not characters (C locale)
  std::string nul("a\0b", 3);
  CHECK_FALSE(Make({}, {"a*"}).Passes(nul));      // a prefix compares bytes
  CHECK_FALSE(Make({}, {std::string("a\0b", 3)}).Passes(nul));  // exact
  CHECK(Make({}, {"a?b"}).Passes(nul));            // fnmatch cannot see past NUL: no match, passes
}

TEST_CASE("headers: bad globs are refused, naming the flag", "[headers]") {
  auto k = HeaderFilter::Make({""}, {});
  REQUIRE_FALSE(k.ok());
  CHECK(k.status().code() == Code::kInvalidArgument);
  CHECK(k.status().message().find("--keep-header: empty glob") == 0);
  auto d = HeaderFilter::Make({}, {"x\\"});
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("--drop-header: 'x\\' ends in a lone '\\'") == 0);
  CHECK(HeaderFilter::Make({}, {"x\\\\"}).ok());  // an escaped backslash
  CHECK(HeaderFilter::Make({}, {"x-[ab"}).ok());  // an unclosed '[' is a literal '[' (fnmatch)
  CHECK_FALSE(Make({}, {"x-[ab"}).Passes("x-[ab"));
}

TEST_CASE("headers: Apply allocates nothing", "[headers]") {
  RecordBatch b;
  std::string long_key = "x-" + std::string(600, 'k');
  for (int i = 0; i < 100; ++i) {
    RecordSpec r;
    r.value = "v";
    r.headers = {{"trace-id", "t"}, {"__connect.errors.topic", "o"}, {"x-tenant", "a"}, {long_key, "l"}, {"k9", "z"}};
    AddRecord(&b, r);
  }
  auto f = Make({"*-*", "k?"}, {"__connect.errors.*", "trace-id", "x-[t]enant"});
  f.Passes(long_key);  // the per-thread buffer for long keys grows once, outside the count
  g_allocations = 0;
  g_counting = true;
  f.Apply(&b);
  g_counting = false;
  if (EVT_COUNT_ALLOCATIONS) CHECK(g_allocations == 0);
  CHECK(b.records[99].header_count == 2);
  CHECK(std::string(b.HeadersOf(b.records[99])[1].key) == "k9");
}

namespace {
// Yields one batch, then an error with another batch, then the end.
class TwoBatches : public Source {
 public:
  Status Next(RecordBatch* out, bool* eof) override {
    out->Clear();
    *eof = n_ == 2;
    if (n_ == 2) return Status::OK();
    RecordSpec r;
    r.value = "v";
    r.headers = {{"a", "1"}, {"b", "2"}};
    AddRecord(out, r);
    return n_++ == 0 ? Status::OK() : Status::Corruption("bad line");
  }
  std::string Describe() const override { return "two"; }
  bool wants_ack() const override { return true; }
  Status Ack(const Record*) override {
    ++acks;
    return Status::OK();
  }
  int acks = 0;

 private:
  int n_ = 0;
};
}  // namespace

TEST_CASE("headers: FilterHeaders wraps a source", "[headers]") {
  auto raw = std::make_unique<TwoBatches>();
  Source* inner = raw.get();
  CHECK(FilterHeaders(std::move(raw), HeaderFilter()).get() == inner);  // nothing to do: the source itself

  auto two = std::make_unique<TwoBatches>();
  TwoBatches* t = two.get();
  auto src = FilterHeaders(std::move(two), Make({}, {"a"}));
  CHECK(src->Describe() == "two");
  CHECK(src->wants_ack());
  RecordBatch b;
  bool eof = false;
  REQUIRE(src->Next(&b, &eof).ok());
  CHECK(Keys(b) == "b=2|");
  REQUIRE(src->Ack(nullptr).ok());
  CHECK(t->acks == 1);
  // What was read before an error is filtered too (the caller still writes it).
  Status s = src->Next(&b, &eof);
  CHECK(s.code() == Code::kCorruption);
  CHECK(Keys(b) == "b=2|");
  REQUIRE(src->Next(&b, &eof).ok());
  CHECK(eof);
}
