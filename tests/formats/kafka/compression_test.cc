// Unit tests for formats/kafka/compression: every codec round trips, snappy's xerial
// framing is read, malformed input and decompression bombs are errors, never crashes.
#include "formats/kafka/compression.h"

#include <catch2/catch.hpp>
#include <snappy.h>

#include <random>
#include <string>

#include "lib/base/coding.h"

using namespace evt;
using namespace evt::kafka;

namespace {
std::string Compressible(size_t n) {
  std::string s;
  while (s.size() < n) s += R"({"type":"order.paid","amount":12345,"currency":"EUR"})";
  s.resize(n);
  return s;
}
std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}
const Codec kAll[] = {kNone, kGzip, kSnappy, kLz4, kZstd};
}  // namespace

TEST_CASE("compression: names", "[compression]") {
  for (Codec c : kAll) {
    auto p = ParseCodec(CodecName(c));
    REQUIRE(p.has_value());
    CHECK(*p == c);
  }
  CHECK_FALSE(ParseCodec("brotli").has_value());
  CHECK(std::string(CodecName(7)) == "unknown");
}

TEST_CASE("compression: every codec round trips", "[compression]") {
  for (Codec c : kAll) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{100} << 10, size_t{5} << 20}) {
      for (int kind = 0; kind < 2; ++kind) {
        std::string in = kind ? Random(n, static_cast<uint32_t>(n)) : Compressible(n);
        for (int level : {-1, 1}) {
          std::string z, back;
          REQUIRE(Compress(c, level, in, &z).ok());
          REQUIRE(Decompress(c, z, in.size() + 1, &back).ok());
          CHECK(back == in);
        }
      }
    }
  }
}

TEST_CASE("compression: xerial-framed snappy is read", "[compression]") {
  std::string in = Compressible(200000);
  std::string framed("\x82SNAPPY\0", 8);
  PutFixed32BE(&framed, 1);
  PutFixed32BE(&framed, 1);
  for (size_t off = 0; off < in.size(); off += 32768) {
    std::string block;
    snappy::Compress(in.data() + off, std::min<size_t>(32768, in.size() - off), &block);
    PutFixed32BE(&framed, static_cast<uint32_t>(block.size()));
    framed += block;
  }
  std::string back;
  REQUIRE(Decompress(kSnappy, framed, in.size(), &back).ok());
  CHECK(back == in);
  std::string cut = framed.substr(0, framed.size() - 10), out;
  CHECK(Decompress(kSnappy, cut, in.size(), &out).code() == Code::kCorruption);
}

TEST_CASE("compression: decompression bombs are refused", "[compression]") {
  std::string in(8 << 20, 'a');
  for (Codec c : kAll) {
    std::string z, out;
    REQUIRE(Compress(c, -1, in, &z).ok());
    Status s = Decompress(c, z, 1 << 20, &out);
    CHECK(s.code() == Code::kCorruption);
    CHECK(out.capacity() < (4u << 20));  // never allocated the whole expansion
  }
}

TEST_CASE("compression: truncated and garbage input is corruption", "[compression]") {
  std::string in = Compressible(50000);
  for (Codec c : {kGzip, kSnappy, kLz4, kZstd}) {
    std::string z;
    REQUIRE(Compress(c, -1, in, &z).ok());
    for (size_t cut : {size_t{0}, size_t{1}, z.size() / 2, z.size() - 1}) {
      std::string out;
      CHECK_FALSE(Decompress(c, z.substr(0, cut), 1 << 20, &out).ok());
    }
    for (uint32_t seed = 0; seed < 50; ++seed) {
      std::string g = Random(100 + seed * 7, seed), out;
      Status s = Decompress(c, g, 1 << 20, &out);  // must not crash
      if (!s.ok()) CHECK(s.code() == Code::kCorruption);
    }
  }
}
