// formats/kafka/partitioner: Java's murmur2 and the default partitioner's choice.
#include "formats/kafka/partitioner.h"

#include <catch2/catch.hpp>

#include <string>

using namespace evt::kafka;

TEST_CASE("Kafka murmur2 matches the Java client", "[partitioner]") {
  CHECK(Murmur2("21") == -973932308);
  CHECK(Murmur2("foobar") == -790332482);
  CHECK(Murmur2("a-little-bit-long-string") == -985981536);
  CHECK(Murmur2("a-little-bit-longer-string") == -1486304829);
  CHECK(Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971);
  CHECK(Murmur2("abc") == 479470107);
  CHECK(Murmur2("") == 275646681);
  CHECK(Murmur2Partition("foobar", 50) == 16);
  CHECK(Murmur2Partition("foobar", 1) == 0);
  CHECK(Murmur2Partition("foobar", 0) == 0);
}

TEST_CASE("murmur2 partitioner matches Java's (vectors from kafka-python's Java-compatible murmur2)", "[partitioner]") {
  struct V {
    std::string key;
    int32_t p3, p7, p128;
  };
  const V vs[] = {{"", 0, 2, 89},           {"a", 1, 5, 124},      {"ab", 2, 0, 42},
                  {"abc", 0, 4, 27},        {"abcd", 2, 5, 116},   {"key-1", 0, 5, 56},
                  {"21", 0, 3, 108},        {"foobar", 0, 0, 62},  {std::string("\x00\xff\x10", 3), 0, 1, 111},
                  {"k\xc3\xa9y-\xe4\xb8\x96", 1, 4, 93}};
  for (const auto& v : vs) {
    INFO(v.key);
    CHECK(Murmur2Partition(v.key, 3) == v.p3);
    CHECK(Murmur2Partition(v.key, 7) == v.p7);
    CHECK(Murmur2Partition(v.key, 128) == v.p128);
  }
}

