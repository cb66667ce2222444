#include "lib/base/coding.h"

#include <catch2/catch.hpp>

#include <climits>
#include <random>

using namespace evt;

TEST_CASE("coding: fixed big-endian", "[coding]") {
  std::string s;
  PutFixed16BE(&s, 0x0102);
  PutFixed32BE(&s, 0x03040506);
  PutFixed64BE(&s, 0x0708090a0b0c0d0eull);
  CHECK(s == std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e", 14));
  CHECK(DecodeFixed32BE(s.data() + 2) == 0x03040506u);
  CHECK(DecodeFixed64BE(s.data() + 6) == 0x0708090a0b0c0d0eull);
}

TEST_CASE("coding: zigzag varints round trip at the limits", "[coding]") {
  std::mt19937_64 rng(3);
  std::vector<int64_t> longs = {0, 1, -1, 63, -64, 64, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
  for (int i = 0; i < 1000; ++i) longs.push_back(static_cast<int64_t>(rng()) >> (rng() % 64));
  for (int64_t v : longs) {
    std::string s;
    PutVarlong(&s, v);
    CHECK(s.size() == VarlongLength(v));
    ByteReader r(s);
    int64_t got;
    REQUIRE(r.GetVarlong(&got));
    CHECK(got == v);
    CHECK(r.remaining() == 0);
    if (v >= INT32_MIN && v <= INT32_MAX) {
      std::string t;
      PutVarint(&t, static_cast<int32_t>(v));
      CHECK(t.size() == VarintLength(static_cast<int32_t>(v)));
      ByteReader r2(t);
      int32_t g32;
      REQUIRE(r2.GetVarint(&g32));
      CHECK(g32 == v);
    }
  }
}

TEST_CASE("coding: ByteReader refuses to read past the end or overlong varints", "[coding]") {
  ByteReader r("\x01\x02\x03", 3);
  int32_t v32;
  CHECK_FALSE(r.GetI32(&v32));
  CHECK(r.failed());
  int64_t v64;
  ByteReader overlong("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
  CHECK_FALSE(overlong.GetVarlong(&v64));
  ByteReader too_long32("\xff\xff\xff\xff\xff\x01", 6);
  CHECK_FALSE(too_long32.GetVarint(&v32));
  ByteReader truncated("\x80", 1);
  CHECK_FALSE(truncated.GetVarint(&v32));
  std::string_view bytes;
  ByteReader b("abc", 3);
  CHECK_FALSE(b.GetBytes(4, &bytes));
}
