#include "formats/kafka/batch.h"

#include <catch2/catch.hpp>

#include "formats/kafka/compression.h"
#include "lib/base/coding.h"
#include "lib/base/crc.h"
#include "testutil.h"

using namespace evt;
using namespace evt::kafka;
using evt::test::AddRecord;
using evt::test::RecordSpec;

namespace {

RecordBatch Sample(int n) {
  RecordBatch b;
  b.topic = "t";
  b.partition = 0;
  for (int i = 0; i < n; ++i) {
    RecordSpec s;
    s.timestamp = 1700000000000 + i * 10;
    std::string key = "k" + std::to_string(i);
    if (i % 3 != 0) {
      s.has_key = true;
      s.key_bytes = key;
    }
    s.value = "{\"i\":" + std::to_string(i) + "}";
    s.null_value = i == 4;
    if (i % 2 == 0) s.headers = {{"h1", "v" + std::to_string(i)}, {"h2", ""}};
    AddRecord(&b, s);
  }
  return b;
}

std::string Encode(const RecordBatch& b, Codec c, int64_t base = 0) {
  std::string out;
  EncodeOptions o;
  o.codec = c;
  REQUIRE(EncodeBatch(b, 0, b.records.size(), base, false, o, &out, nullptr).ok());
  return out;
}

}  // namespace

TEST_CASE("batch round trip with every codec", "[batch]") {
  RecordBatch src = Sample(10);
  for (Codec c : {kNone, kGzip, kSnappy, kLz4, kZstd}) {
    INFO(CodecName(c));
    std::string bytes = Encode(src, c, 100);
    EntryHeader h;
    std::string reason;
    REQUIRE(PeekEntry(bytes, 0, &h, &reason) == EntryState::kOk);
    REQUIRE(h.total_size() == bytes.size());
    RecordBatch out;
    REQUIRE(DecodeEntry(bytes, 0, DecodeOptions{}, &out).ok());
    REQUIRE(out.records.size() == 10);
    REQUIRE(out.batches.size() == 1);
    CHECK(out.batches[0].codec == c);
    CHECK(out.batches[0].base_offset == 100);
    CHECK(out.batches[0].last_offset() == 109);
    CHECK(out.batches[0].crc_ok);
    CHECK(out.batches[0].max_timestamp == 1700000000090);
    for (int i = 0; i < 10; ++i) {
      const Record& a = src.records[i];
      const Record& r = out.records[i];
      CHECK(r.offset == 100 + i);
      CHECK(r.timestamp == a.timestamp);
      CHECK(r.key.null() == a.key.null());
      CHECK(r.key.view() == a.key.view());
      CHECK(r.value.null() == a.value.null());
      CHECK(r.value.view() == a.value.view());
      REQUIRE(r.header_count == a.header_count);
      for (uint32_t k = 0; k < r.header_count; ++k) {
        CHECK(out.HeadersOf(r)[k].key == src.HeadersOf(a)[k].key);
        CHECK(out.HeadersOf(r)[k].value.view() == src.HeadersOf(a)[k].value.view());
      }
    }
  }
}

TEST_CASE("batch layout matches Kafka's constants", "[batch]") {
  RecordBatch src = Sample(1);
  std::string bytes = Encode(src, kNone, 7);
  CHECK(DecodeFixed64BE(bytes.data()) == 7);
  CHECK(DecodeFixed32BE(bytes.data() + kSizeOffset) == bytes.size() - kLogOverhead);
  CHECK(bytes[kMagicOffset] == 2);
  CHECK(DecodeFixed32BE(bytes.data() + kRecordsCountOffset) == 1);
  CHECK(static_cast<int64_t>(DecodeFixed64BE(bytes.data() + kProducerIdOffset)) == -1);
}

TEST_CASE("keep offsets keeps gaps", "[batch]") {
  RecordBatch b;
  for (int64_t off : {10, 12, 20}) {
    RecordSpec s;
    s.offset = off;
    s.value = "x";
    AddRecord(&b, s);
  }
  std::string out;
  REQUIRE(EncodeBatch(b, 0, 3, 10, true, EncodeOptions{}, &out, nullptr).ok());
  RecordBatch d;
  REQUIRE(DecodeEntry(out, 0, DecodeOptions{}, &d).ok());
  CHECK(d.records[0].offset == 10);
  CHECK(d.records[1].offset == 12);
  CHECK(d.records[2].offset == 20);
  CHECK(d.batches[0].last_offset() == 20);
}

TEST_CASE("LogAppendTime gives every record the batch's max timestamp", "[batch]") {
  RecordBatch b;
  for (int i = 0; i < 3; ++i) {
    RecordSpec s;
    s.timestamp = 5000;
    s.value = "v";
    AddRecord(&b, s);
    b.records.back().timestamp_type = TimestampType::kLogAppendTime;
  }
  std::string out;
  REQUIRE(EncodeBatch(b, 0, 3, 0, false, EncodeOptions{}, &out, nullptr).ok());
  RecordBatch d;
  REQUIRE(DecodeEntry(out, 0, DecodeOptions{}, &d).ok());
  CHECK(d.batches[0].timestamp_type == TimestampType::kLogAppendTime);
  for (auto& r : d.records) {
    CHECK(r.timestamp == 5000);
    CHECK(r.timestamp_type == TimestampType::kLogAppendTime);
  }
}

TEST_CASE("attributes: control, transactional, delete horizon", "[batch]") {
  RecordBatch src = Sample(2);
  std::string bytes = Encode(src, kNone);
  MutableEntryView(bytes.data(), bytes.size()).set_attributes(kControlFlag | kTransactionalFlag | kDeleteHorizonFlag);
  test::FixCrc(&bytes, 0);
  RecordBatch d;
  DecodeOptions o;
  o.include_control = false;
  REQUIRE(DecodeEntry(bytes, 0, o, &d).ok());
  CHECK(d.records.empty());
  REQUIRE(d.batches.size() == 1);
  CHECK(d.batches[0].control);
  CHECK(d.batches[0].transactional);
  CHECK(d.batches[0].has_delete_horizon);
}

TEST_CASE("damage matrix: every single-byte flip is caught or harmless", "[batch][damage]") {
  RecordBatch src = Sample(5);
  for (Codec c : {kNone, kZstd, kGzip}) {
    std::string good = Encode(src, c);
    for (size_t off = 0; off < good.size(); ++off) {
      std::string bad = good;
      test::FlipByte(&bad, off, 0x10);
      EntryHeader h;
      std::string reason;
      EntryState st = PeekEntry(bad, 0, &h, &reason);
      if (st != EntryState::kOk) continue;  // length/magic damage caught by the header check
      RecordBatch d;
      Status s = DecodeEntry(std::string_view(bad).substr(0, h.total_size()), 0, DecodeOptions{}, &d);
      // Bytes before the CRC-covered area (offset, leader epoch) are not protected.
      if (off < static_cast<size_t>(kCrcOffset) && off >= static_cast<size_t>(kLogOverhead) && off != kMagicOffset) {
        CHECK(s.ok());
      } else if (off >= static_cast<size_t>(kCrcOffset)) {
        CHECK_FALSE(s.ok());
        CHECK(s.IsCorruption());
      }
    }
  }
}

TEST_CASE("damage with fixed CRC: hostile fields never crash", "[batch][damage]") {
  RecordBatch src = Sample(6);
  std::string good = Encode(src, kNone);
  int failures = 0;
  for (size_t off = kCrcCoveredFrom; off < good.size(); ++off) {
    for (uint8_t mask : {0x01, 0x40, 0x80, 0xff}) {
      std::string bad = good;
      test::FlipByte(&bad, off, mask);
      test::FixCrc(&bad, 0);
      RecordBatch d;
      Status s = DecodeEntry(bad, 0, DecodeOptions{}, &d);
      if (!s.ok()) {
        ++failures;
        CHECK(d.records.empty());  // no half-decoded records left behind
      }
    }
  }
  CHECK(failures > 0);
}

TEST_CASE("truncation is a torn entry", "[batch][damage]") {
  std::string good = Encode(Sample(3), kZstd);
  for (size_t n = 0; n < good.size(); ++n) {
    std::string bad = good;
    test::Truncate(&bad, n);
    EntryHeader h;
    std::string reason;
    if (n == 0) continue;
    CHECK(PeekEntry(bad, 0, &h, &reason) == EntryState::kTorn);
  }
}

TEST_CASE("hostile headers: lengths, magic, counts", "[batch][damage]") {
  std::string good = Encode(Sample(3), kNone);
  EntryHeader h;
  std::string reason;
  SECTION("absurd length") {
    std::string bad = good;
    MutableEntryView(bad.data(), bad.size()).set_length(0x7fffffff);
    CHECK(PeekEntry(bad, 0, &h, &reason) != EntryState::kOk);
  }
  SECTION("negative length") {
    std::string bad = good;
    MutableEntryView(bad.data(), bad.size()).set_length(static_cast<int32_t>(0xffffff00u));
    CHECK(PeekEntry(bad, 0, &h, &reason) == EntryState::kCorrupt);
  }
  SECTION("wrong magic") {
    std::string bad = good;
    MutableEntryView(bad.data(), bad.size()).set_magic(7);
    CHECK(PeekEntry(bad, 0, &h, &reason) == EntryState::kCorrupt);
    CHECK(reason.find("magic") != std::string::npos);
  }
  SECTION("unknown codec") {
    std::string bad = good;
    MutableEntryView(bad.data(), bad.size()).set_attributes(6);  // was 0: codec 6
    test::FixCrc(&bad, 0);
    RecordBatch d;
    Status s = DecodeEntry(bad, 0, DecodeOptions{}, &d);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("codec") != std::string::npos);
  }
  SECTION("huge record count") {
    std::string bad = good;
    MutableEntryView(bad.data(), bad.size()).set_records_count(0x7ffffff0);
    test::FixCrc(&bad, 0);
    RecordBatch d;
    CHECK_FALSE(DecodeEntry(bad, 0, DecodeOptions{}, &d).ok());
  }
  SECTION("negative record count") {
    std::string bad = good;
    MutableEntryView(bad.data(), bad.size()).set_records_count(-1);
    test::FixCrc(&bad, 0);
    RecordBatch d;
    CHECK_FALSE(DecodeEntry(bad, 0, DecodeOptions{}, &d).ok());
  }
}

TEST_CASE("decompression bomb is refused", "[batch][damage]") {
  RecordBatch b;
  RecordSpec s;
  s.value = std::string(8 << 20, 'a');
  AddRecord(&b, s);
  std::string bytes = Encode(b, kZstd);
  RecordBatch d;
  DecodeOptions o;
  o.max_uncompressed = 1 << 20;
  Status st = DecodeEntry(bytes, 0, o, &d);
  CHECK_FALSE(st.ok());
  CHECK(st.IsCorruption());
}

TEST_CASE("legacy magic 0 and 1 messages, plain and compressed", "[batch][legacy]") {
  std::string k = "key";
  SECTION("magic 0 has no timestamp") {
    std::string m = test::LegacyMessage(0, 0, 5, 0, &k, "hello");
    RecordBatch d;
    REQUIRE(DecodeEntry(m, 0, DecodeOptions{}, &d).ok());
    REQUIRE(d.records.size() == 1);
    CHECK(d.records[0].offset == 5);
    CHECK(d.records[0].timestamp == -1);
    CHECK(d.records[0].key.view() == "key");
    CHECK(d.records[0].value.view() == "hello");
  }
  SECTION("magic 1 gzip wrapper with relative inner offsets") {
    std::string inner = test::LegacyMessage(1, 0, 0, 1000, &k, "a") + test::LegacyMessage(1, 0, 1, 1001, nullptr, "b") +
                        test::LegacyMessage(1, 0, 2, 1002, &k, "c");
    std::string z;
    REQUIRE(Compress(kGzip, -1, inner, &z).ok());
    std::string w = test::LegacyMessage(1, 1, 12, 1002, nullptr, z);
    RecordBatch d;
    REQUIRE(DecodeEntry(w, 0, DecodeOptions{}, &d).ok());
    REQUIRE(d.records.size() == 3);
    CHECK(d.records[0].offset == 10);
    CHECK(d.records[2].offset == 12);
    CHECK(d.records[1].timestamp == 1001);
    CHECK(d.records[1].key.null());
    CHECK(d.batches[0].base_offset == 10);
    CHECK(d.batches[0].last_offset() == 12);
  }
  SECTION("inner offsets that overflow the wrapper's (batch_fuzz regression: signed overflow)") {
    auto wrap = [&](int8_t magic, int64_t wrapper_offset, int64_t inner0, int64_t inner1) {
      std::string inner = test::LegacyMessage(magic, 0, inner0, 1000, &k, "a") +
                          test::LegacyMessage(magic, 0, inner1, 1001, &k, "b");
      std::string z;
      REQUIRE(Compress(kGzip, -1, inner, &z).ok());
      return test::LegacyMessage(magic, 1, wrapper_offset, 1001, nullptr, z);
    };
    RecordBatch d;
    // base = wrapper offset - last inner offset; base + a huge first inner offset overflowed.
    Status s = DecodeEntry(wrap(1, INT64_MAX - 1, INT64_MAX, 1), 0, DecodeOptions{}, &d);
    REQUIRE_FALSE(s.ok());
    INFO(s.message());
    CHECK(s.message().find("out of range") != std::string::npos);
    s = DecodeEntry(wrap(1, 2451110816187940869, 7710162562058289152, 5), 0, DecodeOptions{}, &d);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("out of range") != std::string::npos);
    s = DecodeEntry(wrap(1, 10, 0, -3), 0, DecodeOptions{}, &d);  // the walker refuses negative offsets
    REQUIRE_FALSE(s.ok());
    s = DecodeEntry(wrap(0, 7, 5, INT64_MAX), 0, DecodeOptions{}, &d);  // magic 0: absolute inner offsets
    REQUIRE(s.ok());
    CHECK(d.records.back().offset == INT64_MAX);
  }
  SECTION("bad CRC") {
    std::string m = test::LegacyMessage(1, 0, 5, 0, &k, "hello");
    test::FlipByte(&m, m.size() - 1);
    RecordBatch d;
    CHECK_FALSE(DecodeEntry(m, 0, DecodeOptions{}, &d).ok());
  }
}
