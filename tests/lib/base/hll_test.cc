#include "lib/base/hll.h"

#include <catch2/catch.hpp>
#include <xxhash.h>

#include <cmath>
#include <cstdint>
#include <string>

using evt::HyperLogLog;

namespace {
std::string Item(uint64_t i) { return "item-" + std::to_string(i); }

void AddRange(HyperLogLog* h, uint64_t from, uint64_t to) {
  for (uint64_t i = from; i < to; ++i) h->Add(Item(i));
}

double RelErr(uint64_t est, uint64_t n) { return std::fabs(static_cast<double>(est) - n) / static_cast<double>(n); }
}  // namespace

TEST_CASE("HyperLogLog basics", "[hll]") {
  HyperLogLog h;
  CHECK(h.precision() == 14);
  CHECK(h.MemoryUsage() == 16384);
  CHECK(h.Empty());
  CHECK(h.Estimate() == 0);
  h.Add("a");
  CHECK_FALSE(h.Empty());
  CHECK(h.Estimate() == 1);
  for (int i = 0; i < 100; ++i) h.Add("a");  // duplicates do not count
  CHECK(h.Estimate() == 1);
  h.Add("");  // the empty string is a value too
  CHECK(h.Estimate() == 2);
  h.Clear();
  CHECK(h.Empty());
  CHECK(h.Estimate() == 0);
  CHECK(HyperLogLog::Hash("hello") == XXH3_64bits("hello", 5));
}

TEST_CASE("HyperLogLog small counts are nearly exact", "[hll]") {
  for (uint64_t n : {1, 2, 5, 10, 50, 100, 500, 1000, 5000}) {
    HyperLogLog h;
    AddRange(&h, 0, n);
    AddRange(&h, 0, n);  // again: no change
    uint64_t est = h.Estimate();
    INFO("n=" << n << " estimate=" << est);
    if (n <= 100)
      CHECK(est == n);
    else
      CHECK(RelErr(est, n) < 0.01);
  }
}

TEST_CASE("HyperLogLog large counts within 3%", "[hll]") {
  HyperLogLog h;
  uint64_t added = 0;
  // Checks across the whole range, including the switch from linear counting at 2.5m.
  for (uint64_t n : {20000, 40000, 41000, 50000, 70000, 100000, 300000, 1000000}) {
    AddRange(&h, added, n);
    added = n;
    uint64_t est = h.Estimate();
    INFO("n=" << n << " estimate=" << est);
    CHECK(RelErr(est, n) < 0.03);
  }
}

TEST_CASE("HyperLogLog AddHash matches Add", "[hll]") {
  HyperLogLog a, b;
  for (uint64_t i = 0; i < 10000; ++i) {
    a.Add(Item(i));
    b.AddHash(HyperLogLog::Hash(Item(i)));
  }
  CHECK(a.registers() == b.registers());
  // Extreme hashes stay in range.
  HyperLogLog c;
  c.AddHash(0);
  c.AddHash(~uint64_t{0});
  c.AddHash(uint64_t{1} << 63);
  CHECK(c.Estimate() == 3);
}

TEST_CASE("HyperLogLog merge", "[hll]") {
  HyperLogLog a, b, all;
  AddRange(&a, 0, 60000);
  AddRange(&b, 40000, 100000);  // overlaps a by 20000
  AddRange(&all, 0, 100000);
  HyperLogLog u = a;
  u.Merge(b);
  CHECK(u.registers() == all.registers());
  CHECK(u.Estimate() == all.Estimate());
  CHECK(RelErr(u.Estimate(), 100000) < 0.03);
  // Merging is commutative and idempotent.
  HyperLogLog v = b;
  v.Merge(a);
  v.Merge(a);
  CHECK(v.registers() == u.registers());
  // Merging an empty sketch changes nothing.
  HyperLogLog e;
  v.Merge(e);
  CHECK(v.registers() == u.registers());
}

TEST_CASE("HyperLogLog merge across precisions folds exactly", "[hll]") {
  HyperLogLog fine(14), coarse(12), coarse_all(12), fine_other(14);
  AddRange(&fine, 0, 50000);
  AddRange(&coarse, 30000, 80000);
  AddRange(&coarse_all, 0, 80000);
  // fine into coarse: coarse keeps precision 12.
  HyperLogLog x = coarse;
  x.Merge(fine);
  CHECK(x.precision() == 12);
  CHECK(x.registers() == coarse_all.registers());
  // coarse into fine: the result drops to precision 12.
  HyperLogLog y = fine;
  y.Merge(coarse);
  CHECK(y.precision() == 12);
  CHECK(y.registers() == coarse_all.registers());
  CHECK(RelErr(y.Estimate(), 80000) < 0.05);
}
