#include "lib/base/crc.h"

#include <catch2/catch.hpp>

#include <random>
#include <string>

using namespace evt;

namespace {
// Bitwise reference CRC32C (Castagnoli, reflected 0x82F63B78).
uint32_t Reference(const std::string& s) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
  }
  return ~c;
}
}  // namespace

TEST_CASE("crc32c: known vectors", "[crc]") {
  CHECK(Crc32c("123456789", 9) == 0xE3069283u);
  CHECK(Crc32c("", 0) == 0u);
  CHECK(Crc32(std::string("123456789").data(), 9) == 0xCBF43926u);
}

TEST_CASE("crc32c: every length and alignment agrees with the bitwise reference", "[crc]") {
  std::mt19937 rng(11);
  std::string buf(4096 + 16, '\0');
  for (auto& c : buf) c = static_cast<char>(rng());
  for (size_t off = 0; off < 16; ++off)
    for (size_t n : {0, 1, 7, 8, 9, 15, 16, 63, 64, 100, 1000, 4096}) {
      std::string s = buf.substr(off, n);
      CHECK(Crc32c(buf.data() + off, n) == Reference(s));
    }
  // Incremental computation equals one pass.
  uint32_t part = Crc32c(buf.data(), 1000);
  CHECK(Crc32c(buf.data() + 1000, 3000, part) == Crc32c(buf.data(), 4000));
}
