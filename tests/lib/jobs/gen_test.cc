#include "lib/jobs/gen.h"
#include "formats/kafka/partitioner.h"

#include <catch2/catch.hpp>
#include <simdjson.h>
#include <xxhash.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/base/timeutil.h"

using namespace evt;

namespace {

struct Rec {
  int32_t partition;
  int64_t offset;
  int64_t timestamp;
  std::optional<std::string> key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  bool operator==(const Rec&) const = default;
};

// Drains a GenSource, checking the batch invariants on the way.
std::vector<Rec> GenAll(const GenOptions& o, size_t* batches = nullptr) {
  GenSource src(o);
  RecordBatch b;
  std::vector<Rec> out;
  size_t n = 0;
  for (;;) {
    bool eof = false;
    Status s = src.Next(&b, &eof);
    REQUIRE(s.ok());
    if (eof) {
      REQUIRE(b.records.empty());
      break;
    }
    REQUIRE(!b.records.empty());
    REQUIRE(b.records.size() <= o.batch_records);
    REQUIRE(b.topic == o.topic);
    REQUIRE(b.partition >= 0);
    REQUIRE(b.partition < o.partitions);
    ++n;
    for (const Record& r : b.records) {
      REQUIRE(r.partition == b.partition);
      Rec x{r.partition, r.offset, r.timestamp, std::nullopt, std::string(r.value.view()), {}};
      REQUIRE_FALSE(r.value.null());
      if (!r.key.null()) x.key = std::string(r.key.view());
      const Header* h = b.HeadersOf(r);
      for (uint32_t i = 0; i < r.header_count; ++i)
        x.headers.emplace_back(std::string(h[i].key), std::string(h[i].value.view()));
      out.push_back(std::move(x));
    }
  }
  if (batches) *batches = n;
  return out;
}

std::map<int32_t, std::vector<Rec>> ByPartition(const std::vector<Rec>& v) {
  std::map<int32_t, std::vector<Rec>> m;
  for (const auto& r : v) m[r.partition].push_back(r);
  return m;
}

simdjson::dom::parser& Parser() {
  static simdjson::dom::parser p;
  return p;
}

}  // namespace

TEST_CASE("gen is deterministic", "[gen]") {
  GenOptions o;
  o.count = 3000;
  o.partitions = 3;
  auto a = GenAll(o);
  auto b = GenAll(o);
  REQUIRE(a.size() == 3000);
  CHECK(a == b);
  o.seed = 2;
  auto c = GenAll(o);
  REQUIRE(c.size() == 3000);
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i].value == c[i].value;
  CHECK(same == 0);
}

TEST_CASE("gen output is pinned (identical across machines)", "[gen]") {
  GenOptions o;
  o.count = 1000;
  auto v = GenAll(o);
  REQUIRE(v.size() == 1000);
  CHECK(v[0].timestamp == 1700000000000);
  CHECK(v[0].offset == 0);
  // If this changes, `evt gen` output changed: update the README tour along with it.
  INFO(v[0].value);
  CHECK(v[0].value ==
        R"({"specversion":"1.0","id":"92f89756-082a-4514-a42e-1c7bc266a3a7","source":"/evt/gen",)"
        R"("type":"order.shipped","time":"2023-11-14T22:13:20.000Z","subject":"key-52",)"
        R"("datacontenttype":"application/json","data":{"customer":"cust-144","amount":7197,)"
        R"("currency":"EUR","seq":0,"payload":""}})");
  CHECK(*v[0].key == "key-52");
  XXH64_hash_t h = 0;
  for (const auto& r : v) {
    h = XXH3_64bits_withSeed(r.value.data(), r.value.size(), h);
    h = XXH3_64bits_withSeed(r.key->data(), r.key->size(), h);
    h ^= static_cast<uint64_t>(r.timestamp) * 0x9e3779b97f4a7c15ULL;
  }
  CHECK(h == 0xca17256cc54cde08ULL);
}

TEST_CASE("gen count, keys and offsets", "[gen]") {
  GenOptions o;
  o.count = 5000;
  o.keys = 10;
  auto v = GenAll(o);
  REQUIRE(v.size() == 5000);
  std::set<std::string> keys;
  for (size_t i = 0; i < v.size(); ++i) {
    REQUIRE(v[i].partition == 0);
    REQUIRE(v[i].offset == static_cast<int64_t>(i));
    REQUIRE(v[i].key.has_value());
    keys.insert(*v[i].key);
  }
  CHECK(keys == std::set<std::string>{"key-0", "key-1", "key-2", "key-3", "key-4", "key-5", "key-6", "key-7",
                                       "key-8", "key-9"});

  o.count = 0;
  CHECK(GenAll(o).empty());

  o.count = 1;
  CHECK(GenAll(o).size() == 1);

  o.count = 100;
  o.keys = 1;
  for (const auto& r : GenAll(o)) CHECK(*r.key == "key-0");
}

TEST_CASE("gen with many keys uses many of them", "[gen]") {
  GenOptions o;
  o.count = 20000;
  o.keys = 1000000;
  o.value_size = 0;
  std::set<std::string> keys;
  for (const auto& r : GenAll(o)) {
    REQUIRE(r.key->rfind("key-", 0) == 0);
    REQUIRE(std::stoull(r.key->substr(4)) < 1000000);
    keys.insert(*r.key);
  }
  CHECK(keys.size() > 19500);
}

TEST_CASE("gen partitions", "[gen]") {
  GenOptions o;
  o.count = 10000;
  o.partitions = 4;
  o.batch_records = 300;
  size_t batches = 0;
  auto v = GenAll(o, &batches);
  REQUIRE(v.size() == 10000);
  auto parts = ByPartition(v);
  REQUIRE(parts.size() == 4);
  for (auto& [p, recs] : parts) {
    INFO("partition " << p);
    CHECK(recs.size() > 1000);
    for (size_t i = 0; i < recs.size(); ++i) {
      REQUIRE(recs[i].offset == static_cast<int64_t>(i));
      if (i > 0) REQUIRE(recs[i].timestamp >= recs[i - 1].timestamp);
      REQUIRE(kafka::Murmur2Partition(*recs[i].key, 4) == p);
    }
  }
  CHECK(batches >= 10000 / 300);

  SECTION("null keys go round robin") {
    o.keys = 0;
    auto w = GenAll(o);
    REQUIRE(w.size() == 10000);
    auto wp = ByPartition(w);
    REQUIRE(wp.size() == 4);
    for (auto& [p, recs] : wp) {
      CHECK(recs.size() == 2500);
      for (size_t i = 0; i < recs.size(); ++i) {
        REQUIRE_FALSE(recs[i].key.has_value());
        REQUIRE(recs[i].offset == static_cast<int64_t>(i));
      }
    }
  }
}

TEST_CASE("gen partition contents do not depend on batch_records", "[gen]") {
  GenOptions o;
  o.count = 2000;
  o.partitions = 3;
  o.batch_records = 1000;
  auto ref = ByPartition(GenAll(o));
  for (size_t br : {1, 7, 64, 5000}) {
    o.batch_records = br;
    INFO("batch_records=" << br);
    CHECK(ByPartition(GenAll(o)) == ref);
  }
}

TEST_CASE("gen timestamps", "[gen]") {
  GenOptions o;
  o.count = 10000;
  o.start_ms = 1714564800000;
  o.step_ms = 1000;
  auto v = GenAll(o);
  CHECK(v.front().timestamp == o.start_ms);
  for (size_t i = 1; i < v.size(); ++i) {
    REQUIRE(v[i].timestamp >= v[i - 1].timestamp);
    REQUIRE(v[i].timestamp - v[i - 1].timestamp <= 2000);
  }
  double avg = static_cast<double>(v.back().timestamp - v.front().timestamp) / (v.size() - 1);
  CHECK(avg > 970);
  CHECK(avg < 1030);

  o.step_ms = 0;
  for (const auto& r : GenAll(o)) REQUIRE(r.timestamp == o.start_ms);

  // Before 1970 works too.
  o.start_ms = -86400000;
  o.step_ms = 10;
  o.count = 10;
  auto w = GenAll(o);
  CHECK(w.front().value.find(R"("time":"1969-12-31T00:00:00.000Z")") != std::string::npos);
}

TEST_CASE("gen values are CloudEvents JSON", "[gen]") {
  GenOptions o;
  o.count = 2000;
  o.keys = 50;
  o.types = {"a.b", "with \"quotes\" and \\ and \t tab", "ünïcode"};
  auto v = GenAll(o);
  std::set<std::string> types_seen, ids;
  std::set<uint64_t> seqs;
  for (const auto& r : v) {
    INFO(r.value);
    simdjson::dom::element doc;
    REQUIRE(Parser().parse(r.value).get(doc) == simdjson::SUCCESS);
    REQUIRE(doc.is_object());
    std::string_view s;
    REQUIRE(doc["specversion"].get(s) == simdjson::SUCCESS);
    CHECK(s == "1.0");
    REQUIRE(doc["source"].get(s) == simdjson::SUCCESS);
    CHECK(s == "/evt/gen");
    REQUIRE(doc["datacontenttype"].get(s) == simdjson::SUCCESS);
    CHECK(s == "application/json");
    REQUIRE(doc["id"].get(s) == simdjson::SUCCESS);
    REQUIRE(s.size() == 36);
    CHECK(s[8] == '-');
    CHECK(s[14] == '4');
    CHECK(std::string_view("89ab").find(s[19]) != std::string_view::npos);
    ids.emplace(s);
    REQUIRE(doc["type"].get(s) == simdjson::SUCCESS);
    types_seen.emplace(s);
    REQUIRE(doc["time"].get(s) == simdjson::SUCCESS);
    CHECK(s == FormatRfc3339Ms(r.timestamp));
    REQUIRE(doc["subject"].get(s) == simdjson::SUCCESS);
    CHECK(s == *r.key);
    simdjson::dom::object data;
    REQUIRE(doc["data"].get(data) == simdjson::SUCCESS);
    REQUIRE(data["customer"].get(s) == simdjson::SUCCESS);
    CHECK(s.rfind("cust-", 0) == 0);
    int64_t amount;
    REQUIRE(data["amount"].get(amount) == simdjson::SUCCESS);
    CHECK(amount >= 100);
    CHECK(amount < 100000);
    REQUIRE(data["currency"].get(s) == simdjson::SUCCESS);
    CHECK(s == "EUR");
    uint64_t seq;
    REQUIRE(data["seq"].get(seq) == simdjson::SUCCESS);
    seqs.insert(seq);
    REQUIRE(data["payload"].get(s) == simdjson::SUCCESS);
    // headers
    REQUIRE(r.headers.size() == 2);
    CHECK(r.headers[0] == std::pair<std::string, std::string>("content-type", "application/json"));
    CHECK(r.headers[1].first == "trace-id");
    CHECK(r.headers[1].second.size() == 32);
    CHECK(r.headers[1].second.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
  CHECK(types_seen == std::set<std::string>(o.types.begin(), o.types.end()));
  CHECK(ids.size() == v.size());
  CHECK(seqs.size() == v.size());
  CHECK(*seqs.begin() == 0);
  CHECK(*seqs.rbegin() == v.size() - 1);

  SECTION("null keys have no subject") {
    o.keys = 0;
    o.headers = false;
    o.count = 100;
    for (const auto& r : GenAll(o)) {
      simdjson::dom::element doc;
      REQUIRE(Parser().parse(r.value).get(doc) == simdjson::SUCCESS);
      CHECK(doc["subject"].error() == simdjson::NO_SUCH_FIELD);
      CHECK(r.headers.empty());
    }
  }
}

TEST_CASE("gen value sizes", "[gen]") {
  for (size_t size : {size_t{0}, size_t{100}, size_t{256}, size_t{1000}, size_t{4096}, size_t{100000}}) {
    GenOptions o;
    o.count = size >= 100000 ? 50 : 500;
    o.value_size = size;
    auto v = GenAll(o);
    INFO("value_size=" << size);
    for (const auto& r : v) {
      if (size >= 512) REQUIRE(r.value.size() == size);  // exact once the fields fit
      // The fields alone take ~300 bytes: smaller sizes get an empty payload.
      if (size <= 300) REQUIRE(r.value.size() <= 320);
      simdjson::dom::element doc;
      REQUIRE(Parser().parse(r.value).get(doc) == simdjson::SUCCESS);
    }
  }
}

TEST_CASE("gen headers off", "[gen]") {
  GenOptions o;
  o.count = 100;
  GenOptions p = o;
  p.headers = false;
  auto a = GenAll(o), b = GenAll(p);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(b[i].headers.empty());
    CHECK(a[i].value == b[i].value);  // the headers flag does not change values
  }
}

TEST_CASE("gen bounds pending memory with many partitions", "[gen]") {
  GenOptions o;
  o.count = 30000;
  o.partitions = 500;
  o.keys = 100000;
  o.value_size = 4096;  // ~125 MB in total, ~60 records per partition
  GenSource src(o);
  RecordBatch b;
  std::vector<int64_t> next(500, 0);
  uint64_t total = 0;
  size_t batches = 0;
  for (;;) {
    bool eof = false;
    REQUIRE(src.Next(&b, &eof).ok());
    if (eof) break;
    ++batches;
    for (const Record& r : b.records) {
      REQUIRE(r.offset == next[r.partition]++);
      REQUIRE(r.value.size == 4096);
    }
    total += b.records.size();
  }
  CHECK(total == 30000);
  CHECK(batches > 500);  // emitted early, more than one batch per partition
}

TEST_CASE("gen rejects bad options", "[gen]") {
  auto bad = [](GenOptions o) {
    GenSource src(o);
    RecordBatch b;
    bool eof = false;
    Status s = src.Next(&b, &eof);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK_FALSE(ValidateGenOptions(o).ok());
  };
  GenOptions o;
  CHECK(ValidateGenOptions(o).ok());
  o.types.clear();
  bad(o);
  o = GenOptions();
  o.partitions = 0;
  bad(o);
  o = GenOptions();
  o.batch_records = 0;
  bad(o);
  o = GenOptions();
  o.step_ms = -1;
  bad(o);
  o = GenOptions();
  o.value_size = size_t{1} << 30;
  bad(o);
  GenSource src(GenOptions{});
  CHECK(src.Describe().find("seed 1") != std::string::npos);
}
