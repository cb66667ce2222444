#include "lib/base/histogram.h"

#include <catch2/catch.hpp>

#include <numeric>

using namespace evt;

TEST_CASE("time histogram: counts over the span in bounded memory") {
  TimeHistogram h;
  CHECK(h.empty());
  CHECK(h.Counts(4) == std::vector<uint64_t>{0, 0, 0, 0});
  // A burst, a gap, a steady stretch: 100 records at t=0..99, none until 1000, 100 at 1000..1099.
  for (int64_t t = 0; t < 100; ++t) h.Add(t);
  for (int64_t t = 1000; t < 1100; ++t) h.Add(t);
  CHECK(h.lo() == 0);
  CHECK(h.hi() == 1099);
  auto c = h.Counts(11);  // slices of 100 ms
  CHECK(std::accumulate(c.begin(), c.end(), uint64_t{0}) == 200);
  CHECK(c.front() == 100);
  CHECK(c.back() == 100);
  for (size_t i = 1; i + 1 < c.size(); ++i) CHECK(c[i] == 0);
  // Values far left and right widen it; nothing is lost.
  h.Add(-5000000);
  h.Add(1700000000000);
  auto all = h.Counts(3);
  CHECK(std::accumulate(all.begin(), all.end(), uint64_t{0}) == 202);
  CHECK(all[0] == 201);  // -5e6 .. 1099 sit together at the start of a 1.7e12 span
  CHECK(all[2] == 1);
}

TEST_CASE("time histogram: merge adds counts; sparkline levels") {
  TimeHistogram a, b;
  for (int64_t t = 0; t < 10; ++t) a.Add(t * 1000);
  for (int64_t t = 10; t < 20; ++t) b.Add(t * 1000);
  a.Merge(b);
  auto c = a.Counts(2);
  CHECK(c == std::vector<uint64_t>{10, 10});
  CHECK(Sparkline({0, 1, 8, 4}) == " \u2581\u2588\u2584");
  CHECK(Sparkline({}) == "");
}
