#include "lib/base/arena.h"

#include <catch2/catch.hpp>
#include <cstdint>

using evt::Arena;

TEST_CASE("arena: allocations stay put, alignment holds, usage is counted", "[arena]") {
  Arena a(1024);
  CHECK(a.MemoryUsage() == 0);
  std::string_view s = a.Copy("hello");
  CHECK(a.MemoryUsage() == 1024);
  auto* d = a.AllocateArray<double>(3);
  CHECK(reinterpret_cast<uintptr_t>(d) % alignof(double) == 0);
  char* big = a.Allocate(5000);  // larger than a block: a block of its own
  big[4999] = 'x';
  CHECK(a.MemoryUsage() == 1024 + 5000);
  CHECK(s == "hello");  // earlier memory did not move
  CHECK(a.Copy("").empty());
}

TEST_CASE("arena: Reset merges the blocks of the last fill into one and keeps the count true", "[arena]") {
  Arena a(1024);
  for (int i = 0; i < 10; ++i) a.Allocate(1000);
  CHECK(a.MemoryUsage() == 10 * 1024);
  a.Reset();
  CHECK(a.MemoryUsage() == 10 * 1024);  // one block of the total
  for (int i = 0; i < 10; ++i) a.Allocate(1000);
  CHECK(a.MemoryUsage() == 10 * 1024);  // reused, nothing new
  a.Reset();
  CHECK(a.MemoryUsage() == 10 * 1024);
}

TEST_CASE("arena: past 64 MiB, Reset keeps only the largest block", "[arena]") {
  Arena a(1 << 20);
  for (int i = 0; i < 70; ++i) a.Allocate(1 << 20);
  a.Allocate(3 << 20);
  CHECK(a.MemoryUsage() == (73u << 20));
  a.Reset();
  CHECK(a.MemoryUsage() == (3u << 20));
}
