#include "formats/kafka/entry.h"

#include <catch2/catch.hpp>

#include <vector>

#include "formats/kafka/batch.h"
#include "formats/kafka/compression.h"
#include "lib/base/coding.h"
#include "lib/base/crc.h"
#include "testutil.h"

using namespace evt;
using namespace evt::kafka;
using evt::test::AddRecord;
using evt::test::RecordSpec;

namespace {

RecordBatch Records(int n, int64_t ts0 = 1700000000000) {
  RecordBatch b;
  for (int i = 0; i < n; ++i) {
    RecordSpec s;
    s.timestamp = ts0 + i * 10;
    s.has_key = true;
    s.key_bytes = "k" + std::to_string(i);
    s.value = "value " + std::to_string(i);
    if (i % 2 == 0) s.headers = {{"h", "v"}};
    AddRecord(&b, s);
  }
  return b;
}

std::string EncodeWith(const RecordBatch& b, int64_t base, const EncodeOptions& o, BatchInfo* info = nullptr) {
  std::string out;
  REQUIRE(EncodeBatch(b, 0, b.records.size(), base, false, o, &out, info).ok());
  return out;
}

std::string Encode(int n, int64_t base, Codec c = kNone) {
  EncodeOptions o;
  o.codec = c;
  return EncodeWith(Records(n), base, o);
}

// A legacy message (magic 0 or 1), as the broker wrote them before 0.11.
std::string Legacy(int8_t magic, int8_t attrs, int64_t offset, int64_t ts, const std::string& key,
                   const std::string& value) {
  return test::LegacyMessage(magic, attrs, offset, ts, &key, value);
}

struct Step {
  uint64_t pos;
  EntryState state;
  std::string reason;
  int64_t base_offset;
};

// Everything a walk sees, stopping at the first entry that is not ok.
std::vector<Step> Walk(std::string_view data, uint64_t from = 0) {
  std::vector<Step> steps;
  for (EntryWalker w(data, from); !w.done(); w.Next()) {
    if (!w.ok()) {
      steps.push_back({w.pos(), w.state(), w.reason(), -1});
      break;
    }
    REQUIRE(w.entry().data() == data.data() + w.pos());
    REQUIRE(w.entry().size() == w.entry().total_size());
    REQUIRE(w.next_pos() == w.pos() + w.entry().total_size());
    steps.push_back({w.pos(), EntryState::kOk, "", w.entry().base_offset()});
  }
  return steps;
}

// The same walk done with PeekEntry directly, as readers did before the walker.
std::vector<Step> PeekLoop(std::string_view data, uint64_t pos = 0) {
  std::vector<Step> steps;
  while (pos < data.size()) {
    EntryHeader h;
    std::string reason;
    EntryState st = PeekEntry(data, pos, &h, &reason);
    if (st != EntryState::kOk) {
      steps.push_back({pos, st, reason, -1});
      break;
    }
    steps.push_back({pos, st, "", h.base_offset});
    pos += h.total_size();
  }
  return steps;
}

void CheckSame(const std::vector<Step>& a, const std::vector<Step>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("step " << i);
    CHECK(a[i].pos == b[i].pos);
    CHECK(a[i].state == b[i].state);
    CHECK(a[i].reason == b[i].reason);
    CHECK(a[i].base_offset == b[i].base_offset);
  }
}

}  // namespace

TEST_CASE("entry view: every v2 accessor reads what the encoder wrote", "[entry]") {
  EncodeOptions o;
  o.codec = kZstd;
  o.partition_leader_epoch = 7;
  o.producer_id = 123456789012;
  o.producer_epoch = 3;
  o.base_sequence = 42;
  o.transactional = true;
  o.delete_horizon = 1690000000000;
  o.last_offset = 1009;
  BatchInfo info;
  std::string bytes = EncodeWith(Records(5), 1000, o, &info);
  EntryView e(bytes);

  CHECK(e.data() == bytes.data());
  CHECK(e.size() == bytes.size());
  CHECK(e.bytes() == bytes);
  CHECK(e.base_offset() == 1000);
  CHECK(e.length() == static_cast<int32_t>(bytes.size() - kLogOverhead));
  CHECK(e.total_size() == bytes.size());
  CHECK(e.magic() == 2);
  CHECK(e.is_v2());
  CHECK(e.partition_leader_epoch() == 7);
  CHECK(e.crc() == info.crc);
  CHECK(e.ComputeCrc() == e.crc());
  CHECK(e.attributes() == info.attributes);
  CHECK(e.codec() == kZstd);
  CHECK(e.timestamp_type() == TimestampType::kCreateTime);
  CHECK(e.is_transactional());
  CHECK_FALSE(e.is_control());
  CHECK(e.has_delete_horizon());
  CHECK(e.last_offset_delta() == 9);
  CHECK(e.last_offset() == 1009);
  CHECK(e.base_timestamp() == 1690000000000);
  CHECK(e.max_timestamp() == 1700000000040);
  CHECK(e.producer_id() == 123456789012);
  CHECK(e.producer_epoch() == 3);
  CHECK(e.base_sequence() == 42);
  CHECK(e.records_count() == 5);
  CHECK(e.records().data() == bytes.data() + kRecordsOffset);
  CHECK(e.records().size() == bytes.size() - kRecordsOffset);

  // The decoder reads the same fields.
  RecordBatch d;
  REQUIRE(DecodeEntry(bytes, 0, DecodeOptions{}, &d).ok());
  const BatchInfo& bi = d.batches.at(0);
  CHECK(bi.base_offset == e.base_offset());
  CHECK(bi.batch_length == e.length());
  CHECK(bi.partition_leader_epoch == e.partition_leader_epoch());
  CHECK(bi.crc == e.crc());
  CHECK(bi.attributes == e.attributes());
  CHECK(bi.codec == e.codec());
  CHECK(bi.transactional == e.is_transactional());
  CHECK(bi.control == e.is_control());
  CHECK(bi.has_delete_horizon == e.has_delete_horizon());
  CHECK(bi.last_offset_delta == e.last_offset_delta());
  CHECK(bi.last_offset() == e.last_offset());
  CHECK(bi.first_timestamp == e.base_timestamp());
  CHECK(bi.max_timestamp == e.max_timestamp());
  CHECK(bi.producer_id == e.producer_id());
  CHECK(bi.producer_epoch == e.producer_epoch());
  CHECK(bi.base_sequence == e.base_sequence());
  CHECK(bi.record_count == e.records_count());
}

TEST_CASE("entry view: defaults, control and LogAppendTime batches", "[entry]") {
  SECTION("what evt writes by default") {
    std::string bytes = Encode(3, 0);
    EntryView e(bytes);
    CHECK(e.codec() == kNone);
    CHECK(e.attributes() == 0);
    CHECK(e.partition_leader_epoch() == 0);
    CHECK(e.producer_id() == kNoProducerId);
    CHECK(e.producer_epoch() == kNoProducerEpoch);
    CHECK(e.base_sequence() == kNoSequence);
    CHECK(e.base_timestamp() == 1700000000000);
    CHECK_FALSE(e.is_transactional());
    CHECK_FALSE(e.is_control());
    CHECK_FALSE(e.has_delete_horizon());
    CHECK(e.last_offset() == 2);
  }
  SECTION("control") {
    EncodeOptions o;
    o.control = true;
    o.transactional = true;
    std::string bytes = EncodeWith(Records(1), 50, o);
    EntryView e(bytes);
    CHECK(e.is_control());
    CHECK(e.is_transactional());
    CHECK(e.attributes() == (kControlFlag | kTransactionalFlag | kZstd));
  }
  SECTION("LogAppendTime") {
    RecordBatch b = Records(2);
    for (auto& r : b.records) {
      r.timestamp = 5000;
      r.timestamp_type = TimestampType::kLogAppendTime;
    }
    std::string bytes = EncodeWith(b, 0, EncodeOptions{});
    EntryView e(bytes);
    CHECK(e.timestamp_type() == TimestampType::kLogAppendTime);
    CHECK(e.max_timestamp() == 5000);
  }
  SECTION("the empty batch the cleaner keeps") {
    BatchInfo orig;
    orig.base_offset = 70;
    orig.last_offset_delta = 4;
    orig.partition_leader_epoch = 2;
    orig.attributes = kTransactionalFlag | kLz4;
    orig.first_timestamp = 11;
    orig.max_timestamp = 22;
    orig.producer_id = 9;
    orig.producer_epoch = 1;
    orig.base_sequence = 100;
    std::string bytes;
    EncodeEmptyBatch(orig, &bytes);
    REQUIRE(bytes.size() == static_cast<size_t>(kBatchHeaderSize));
    EntryView e(bytes);
    CHECK(e.is_v2());
    CHECK(e.base_offset() == 70);
    CHECK(e.last_offset() == 74);
    CHECK(e.length() == kBatchLengthMin);
    CHECK(e.partition_leader_epoch() == 2);
    CHECK(e.attributes() == kTransactionalFlag);  // no codec: there are no records
    CHECK(e.base_timestamp() == 11);
    CHECK(e.max_timestamp() == 22);
    CHECK(e.producer_id() == 9);
    CHECK(e.producer_epoch() == 1);
    CHECK(e.base_sequence() == 100);
    CHECK(e.records_count() == 0);
    CHECK(e.records().empty());
    CHECK(e.crc() == e.ComputeCrc());
  }
  SECTION("negative fields keep their sign") {
    std::string bytes = Encode(1, 0);
    MutableEntryView m(bytes.data(), bytes.size());
    m.set_partition_leader_epoch(-2);
    m.set_base_timestamp(-1);
    m.set_producer_epoch(-300);
    m.set_attributes(static_cast<int16_t>(0x8000));
    CHECK(m.partition_leader_epoch() == -2);
    CHECK(m.base_timestamp() == -1);
    CHECK(m.producer_epoch() == -300);
    CHECK(m.attributes() == static_cast<int16_t>(0x8000));
    CHECK(m.codec() == kNone);
  }
}

TEST_CASE("entry view: setters write the layout.h positions and the decoder agrees", "[entry]") {
  std::string bytes = Encode(4, 10);
  const std::string before = bytes;
  MutableEntryView m(bytes.data(), bytes.size());
  CHECK(m.mutable_data() == bytes.data());
  m.set_base_offset(500);
  m.set_partition_leader_epoch(9);
  m.set_attributes(kTransactionalFlag | kTimestampTypeMask);
  m.set_last_offset_delta(6);
  m.set_base_timestamp(100);
  m.set_max_timestamp(200);
  m.set_producer_id(77);
  m.set_producer_epoch(5);
  m.set_base_sequence(8);
  // Raw positions, independently of the accessors.
  CHECK(DecodeFixed64BE(bytes.data()) == 500);
  CHECK(DecodeFixed32BE(bytes.data() + 12) == 9);
  CHECK(bytes[21] == 0);
  CHECK(bytes[22] == (kTransactionalFlag | kTimestampTypeMask));
  CHECK(DecodeFixed32BE(bytes.data() + 23) == 6);
  CHECK(DecodeFixed64BE(bytes.data() + 27) == 100);
  CHECK(DecodeFixed64BE(bytes.data() + 35) == 200);
  CHECK(DecodeFixed64BE(bytes.data() + 43) == 77);
  CHECK(DecodeFixed16BE(bytes.data() + 51) == 5);
  CHECK(DecodeFixed32BE(bytes.data() + 53) == 8);
  // The records did not move.
  CHECK(bytes.substr(kRecordsOffset) == before.substr(kRecordsOffset));

  RecordBatch d;
  CHECK_FALSE(DecodeEntry(bytes, 0, DecodeOptions{}, &d).ok());  // the CRC still says otherwise
  m.UpdateCrc();
  CHECK(m.crc() == m.ComputeCrc());
  d.Clear();
  REQUIRE(DecodeEntry(bytes, 0, DecodeOptions{}, &d).ok());
  const BatchInfo& bi = d.batches.at(0);
  CHECK(bi.base_offset == 500);
  CHECK(bi.partition_leader_epoch == 9);
  CHECK(bi.transactional);
  CHECK(bi.timestamp_type == TimestampType::kLogAppendTime);
  CHECK(bi.last_offset() == 506);
  CHECK(bi.first_timestamp == 100);
  CHECK(bi.max_timestamp == 200);
  CHECK(bi.producer_id == 77);
  CHECK(bi.producer_epoch == 5);
  CHECK(bi.base_sequence == 8);
  REQUIRE(d.records.size() == 4);
  CHECK(d.records[0].offset == 500);
  CHECK(d.records[3].timestamp == 200);  // LogAppendTime: the batch's max timestamp

  SECTION("length, magic and count") {
    m.set_records_count(3);
    CHECK(DecodeFixed32BE(bytes.data() + 57) == 3);
    m.set_magic(1);
    CHECK(bytes[16] == 1);
    CHECK_FALSE(m.is_v2());
    m.set_length(1234);
    CHECK(DecodeFixed32BE(bytes.data() + 8) == 1234);
    CHECK(m.total_size() == 1246);
  }
}

TEST_CASE("entry view: legacy messages", "[entry][legacy]") {
  SECTION("magic 0") {
    std::string m = Legacy(0, 0, 5, 0, "key", "hello");
    EntryView e(m);
    CHECK(e.magic() == 0);
    CHECK_FALSE(e.is_v2());
    CHECK(e.base_offset() == 5);
    CHECK(e.last_offset() == 5);
    CHECK(e.length() == static_cast<int32_t>(m.size() - kLogOverhead));
    CHECK(e.legacy_crc() == e.ComputeLegacyCrc());
    CHECK(e.legacy_attributes() == 0);
    CHECK(e.legacy_codec() == kNone);
    CHECK(e.legacy_timestamp_type() == TimestampType::kNone);
    CHECK(e.legacy_timestamp() == kNoTimestamp);
  }
  SECTION("magic 1, LogAppendTime") {
    std::string m = Legacy(1, kLegacyTimestampTypeMask, 9, 1234, "k", "v");
    EntryView e(m);
    CHECK(e.magic() == 1);
    CHECK(e.legacy_timestamp_type() == TimestampType::kLogAppendTime);
    CHECK(e.legacy_timestamp() == 1234);
    CHECK(e.legacy_crc() == e.ComputeLegacyCrc());
    RecordBatch d;
    REQUIRE(DecodeEntry(m, 0, DecodeOptions{}, &d).ok());
    CHECK(d.batches.at(0).crc == e.legacy_crc());
    CHECK(d.batches.at(0).timestamp_type == e.legacy_timestamp_type());
  }
  SECTION("a compressed wrapper's offset is its last offset") {
    std::string inner = Legacy(1, 0, 0, 1000, "a", "1") + Legacy(1, 0, 1, 1001, "b", "2");
    std::string z;
    REQUIRE(Compress(kGzip, -1, inner, &z).ok());
    std::string w = Legacy(1, kGzip, 21, 1001, "", z);
    EntryView e(w);
    CHECK(e.legacy_codec() == kGzip);
    CHECK(e.last_offset() == 21);
    RecordBatch d;
    REQUIRE(DecodeEntry(w, 0, DecodeOptions{}, &d).ok());
    CHECK(d.batches.at(0).last_offset() == e.last_offset());
    CHECK(d.batches.at(0).base_offset == 20);
  }
  SECTION("setters and the legacy CRC") {
    std::string m = Legacy(1, 0, 3, 10, "k", "v");
    MutableEntryView e(m.data(), m.size());
    e.set_legacy_timestamp(99);
    e.set_legacy_attributes(kLegacyTimestampTypeMask);
    CHECK(e.legacy_timestamp() == 99);
    CHECK(e.legacy_crc() != e.ComputeLegacyCrc());
    RecordBatch d;
    CHECK_FALSE(DecodeEntry(m, 0, DecodeOptions{}, &d).ok());
    e.UpdateLegacyCrc();
    d.Clear();
    REQUIRE(DecodeEntry(m, 0, DecodeOptions{}, &d).ok());
    CHECK(d.records.at(0).timestamp == 99);
    CHECK(d.batches.at(0).timestamp_type == TimestampType::kLogAppendTime);
  }
}

TEST_CASE("entry walker: a good segment", "[entry][walker]") {
  std::string seg = Encode(3, 0) + Encode(5, 3, kZstd) + Encode(1, 8, kGzip) + Legacy(1, 0, 9, 5, "k", "v");
  std::vector<Step> steps = Walk(seg);
  REQUIRE(steps.size() == 4);
  CHECK(steps[0].pos == 0);
  CHECK(steps[0].base_offset == 0);
  CHECK(steps[1].base_offset == 3);
  CHECK(steps[2].base_offset == 8);
  CHECK(steps[3].base_offset == 9);
  for (const Step& s : steps) CHECK(s.state == EntryState::kOk);
  CheckSame(steps, PeekLoop(seg));

  // Header fields through the walker, last offsets from headers alone.
  std::vector<int64_t> lasts;
  for (EntryWalker w(seg); !w.done(); w.Next()) {
    REQUIRE(w.ok());
    lasts.push_back(w.entry().last_offset());
    CHECK(w.remaining() == seg.size() - w.pos());
    CHECK(w.data().data() == seg.data());
  }
  CHECK(lasts == std::vector<int64_t>{2, 7, 8, 9});

  SECTION("empty data: nothing to walk") {
    EntryWalker w("");
    CHECK(w.done());
    CHECK(w.remaining() == 0);
  }
  SECTION("from the middle, and Seek") {
    CheckSame(Walk(seg, steps[1].pos), PeekLoop(seg, steps[1].pos));
    EntryWalker w(seg);
    w.Seek(steps[2].pos);
    REQUIRE(w.ok());
    CHECK(w.entry().base_offset() == 8);
    w.Seek(seg.size());
    CHECK(w.done());
    w.Seek(seg.size() + 10);  // past the end: done too
    CHECK(w.done());
    CHECK(w.remaining() == 0);
    w.Seek(0);
    CHECK(w.ok());
    CHECK(w.pos() == 0);
  }
}

TEST_CASE("entry walker: truncation at every length is a torn tail", "[entry][walker][damage]") {
  std::string a = Encode(2, 0), b = Encode(3, 2, kZstd);
  std::string good = a + b;
  for (size_t n = 1; n < good.size(); ++n) {
    std::string cut = good;
    test::Truncate(&cut, n);
    INFO("cut at " << n);
    std::vector<Step> steps = Walk(cut);
    CheckSame(steps, PeekLoop(cut));
    if (n == a.size()) {  // a whole first batch and nothing after it
      REQUIRE(steps.size() == 1);
      CHECK(steps[0].state == EntryState::kOk);
      continue;
    }
    REQUIRE(!steps.empty());
    CHECK(steps.back().state == EntryState::kTorn);
    CHECK(steps.back().pos == (n < a.size() ? 0 : a.size()));
    CHECK(steps.size() == (n < a.size() ? 1u : 2u));
    CHECK_FALSE(steps.back().reason.empty());
  }
}

TEST_CASE("entry walker: corrupt headers stop it where they are", "[entry][walker][damage]") {
  std::string a = Encode(2, 0), b = Encode(3, 2), c = Encode(1, 5);
  const std::string good = a + b + c;
  SECTION("bad magic in the second entry") {
    std::string bad = good;
    MutableEntryView(bad.data() + a.size(), b.size()).set_magic(7);
    std::vector<Step> steps = Walk(bad);
    REQUIRE(steps.size() == 2);
    CHECK(steps[1].pos == a.size());
    CHECK(steps[1].state == EntryState::kCorrupt);
    CHECK(steps[1].reason.find("magic") != std::string::npos);
    CheckSame(steps, PeekLoop(bad));
  }
  SECTION("length below the minimum, negative offset, absurd length") {
    for (int which = 0; which < 3; ++which) {
      std::string bad = good;
      MutableEntryView m(bad.data() + a.size(), b.size());
      if (which == 0) m.set_length(kBatchLengthMin - 1);
      if (which == 1) m.set_base_offset(-5);
      if (which == 2) m.set_length(0x7fffffff);
      std::vector<Step> steps = Walk(bad);
      INFO("damage " << which);
      REQUIRE(steps.size() == 2);
      CHECK(steps[1].state == EntryState::kCorrupt);
      CheckSame(steps, PeekLoop(bad));
    }
  }
  SECTION("a length that runs past the end is torn") {
    std::string bad = good;
    MutableEntryView(bad.data() + a.size() + b.size(), c.size()).set_length(static_cast<int32_t>(c.size()));
    std::vector<Step> steps = Walk(bad);
    REQUIRE(steps.size() == 3);
    CHECK(steps[2].state == EntryState::kTorn);
    CheckSame(steps, PeekLoop(bad));
  }
  SECTION("skipping: Seek past a bad entry to the next good one") {
    std::string bad = good;
    MutableEntryView(bad.data() + a.size(), b.size()).set_magic(9);
    EntryWalker w(bad);
    REQUIRE(w.ok());
    w.Next();
    REQUIRE(w.corrupt());
    CHECK_FALSE(w.done());
    w.Seek(a.size() + b.size());
    REQUIRE(w.ok());
    CHECK(w.entry().base_offset() == 5);
    w.Next();
    CHECK(w.done());
  }
  SECTION("every single-byte flip: the walker says what PeekEntry says") {
    for (size_t off = 0; off < good.size(); ++off) {
      std::string bad = good;
      test::FlipByte(&bad, off, 0x80);
      INFO("flip at " << off);
      CheckSame(Walk(bad), PeekLoop(bad));
    }
  }
}

TEST_CASE("entry walker: torn tails of legacy message sets", "[entry][walker][legacy]") {
  std::string set = Legacy(0, 0, 0, 0, "a", "1") + Legacy(1, 0, 1, 7, "b", "2");
  for (size_t n = 1; n <= set.size(); ++n) {
    std::string cut = set.substr(0, n);
    INFO("cut at " << n);
    std::vector<Step> steps = Walk(cut);
    CheckSame(steps, PeekLoop(cut));
    CHECK((steps.back().state == EntryState::kOk) == (n == set.size() || n == Legacy(0, 0, 0, 0, "a", "1").size()));
  }
}

TEST_CASE("CheckEntry and PeekEntry: every rule, its state and its words", "[entry][walker][damage]") {
  const std::string good = Encode(2, 40);
  struct Case {
    const char* what;
    std::string data;
    uint64_t pos;
    EntryProblem problem;
    EntryState state;
    std::string reason;
  };
  auto with = [&](auto&& damage) {
    std::string b = good;
    damage(MutableEntryView(b.data(), b.size()));
    return b;
  };
  const std::string n = std::to_string(good.size());
  std::vector<Case> cases = {
      {"ok", good, 0, EntryProblem::kNone, EntryState::kOk, ""},
      {"past the end", good, good.size() + 1, EntryProblem::kPastEnd, EntryState::kCorrupt,
       "position past end of data"},
      {"no header", good.substr(0, 16), 0, EntryProblem::kNoHeader, EntryState::kTorn,
       "incomplete entry header (16 bytes at end of file)"},
      {"at the very end", good, good.size(), EntryProblem::kNoHeader, EntryState::kTorn,
       "incomplete entry header (0 bytes at end of file)"},
      {"bad magic", with([](const MutableEntryView& m) { m.set_magic(3); }), 0, EntryProblem::kBadMagic,
       EntryState::kCorrupt, "unknown magic byte 3 (offset field 40, length field " + std::to_string(good.size() - 12) + ")"},
      {"negative magic", with([](const MutableEntryView& m) { m.set_magic(-1); }), 0, EntryProblem::kBadMagic,
       EntryState::kCorrupt, "unknown magic byte -1 (offset field 40, length field " + std::to_string(good.size() - 12) + ")"},
      {"too short v2", with([](const MutableEntryView& m) { m.set_length(48); }), 0, EntryProblem::kTooShort,
       EntryState::kCorrupt, "entry length 48 below the minimum 49 for magic 2"},
      {"too short v1", with([](const MutableEntryView& m) { m.set_magic(1); m.set_length(21); }), 0,
       EntryProblem::kTooShort, EntryState::kCorrupt, "entry length 21 below the minimum 22 for magic 1"},
      {"too short v0", with([](const MutableEntryView& m) { m.set_magic(0); m.set_length(13); }), 0,
       EntryProblem::kTooShort, EntryState::kCorrupt, "entry length 13 below the minimum 14 for magic 0"},
      {"too long", with([](const MutableEntryView& m) { m.set_length((1 << 30) + 1); }), 0, EntryProblem::kTooLong,
       EntryState::kCorrupt, "entry length 1073741825 exceeds the limit 1073741824"},
      {"negative offset", with([](const MutableEntryView& m) { m.set_base_offset(-7); }), 0,
       EntryProblem::kNegativeOffset, EntryState::kCorrupt, "negative offset -7"},
      {"cut off", good.substr(0, good.size() - 1), 0, EntryProblem::kCutOff, EntryState::kTorn,
       "entry of " + n + " bytes cut off after " + std::to_string(good.size() - 1) + " bytes"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    EntryHeader h;
    CHECK(CheckEntry(c.data, c.pos, &h) == c.problem);
    EntryHeader h2;
    std::string reason;
    CHECK(PeekEntry(c.data, c.pos, &h2, &reason) == c.state);
    CHECK(reason == c.reason);
    if (c.pos < c.data.size()) {  // the walker says the same
      EntryWalker w(c.data, c.pos);
      CHECK(w.state() == c.state);
      if (!w.ok()) CHECK(w.reason() == c.reason);
    }
  }
}
