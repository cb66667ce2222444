#include "lib/pipeline/decode.h"

#include <catch2/catch.hpp>

#include "lib/pipeline/where.h"
#include "tests/formats/kafka_internal/encoder.h"
#include "tests/testutil.h"

namespace evt {
namespace {

using test::Enc;

test::RecordSpec Rec(int64_t offset, const std::string& key, const std::string* value) {
  test::RecordSpec s;
  s.offset = offset;
  s.has_key = true;
  s.key_bytes = key;
  if (value) s.value = *value; else s.null_value = true;
  return s;
}

std::string CommitKey(const char* group, const char* topic, int32_t p) {
  return Enc().i16(1).str(group).str(topic).i32(p).out();
}
std::string CommitValue(int64_t offset, int64_t ts) {
  return Enc().i16(3).i64(offset).i32(0).str("").i64(ts).out();
}

// One batch, then the end.
class OneBatch : public Source {
 public:
  OneBatch(std::string topic, std::vector<test::RecordSpec> recs) : topic_(std::move(topic)), recs_(std::move(recs)) {}
  Status Next(RecordBatch* out, bool* eof) override {
    out->Clear();
    out->topic = topic_;
    out->partition = 3;
    *eof = done_;
    if (!done_)
      for (auto& r : recs_) test::AddRecord(out, r);
    done_ = true;
    return Status::OK();
  }
  std::string Describe() const override { return "one batch"; }

 private:
  std::string topic_;
  std::vector<test::RecordSpec> recs_;
  bool done_ = false;
};

TEST_CASE("decode modes: parsing and choosing by topic name") {
  kafka_internal::Log log_unused;
  CHECK(*ParseDecodeMode("auto") == DecodeMode::kAuto);
  CHECK(*ParseDecodeMode("none") == DecodeMode::kNone);
  CHECK(*ParseDecodeMode("offsets") == DecodeMode::kOffsets);
  CHECK(*ParseDecodeMode("transactions") == DecodeMode::kTransactions);
  CHECK(*ParseDecodeMode("avro") == DecodeMode::kAvro);
  CHECK(*ParseDecodeMode("json") == DecodeMode::kJson);
  CHECK(*ParseDecodeMode("protobuf") == DecodeMode::kProtobuf);
  CHECK(*ParseDecodeKeyMode("protobuf") == DecodeMode::kProtobuf);
  CHECK_FALSE(ParseDecodeMode("proto").ok());
  CHECK(*ParseDecodeKeyMode("none") == DecodeMode::kNone);
  CHECK_FALSE(ParseDecodeKeyMode("offsets").ok());
  CHECK_FALSE(DecoderFor(DecodeMode::kAvro, "__consumer_offsets", &log_unused));
  kafka_internal::Log log;
  CHECK(DecoderFor(DecodeMode::kAuto, "__consumer_offsets", &log));
  CHECK(log == kafka_internal::Log::kConsumerOffsets);
  CHECK(DecoderFor(DecodeMode::kAuto, "__transaction_state", &log));
  CHECK(log == kafka_internal::Log::kTransactionState);
  CHECK_FALSE(DecoderFor(DecodeMode::kAuto, "orders", &log));
  CHECK_FALSE(DecoderFor(DecodeMode::kNone, "__consumer_offsets", &log));
  CHECK(DecoderFor(DecodeMode::kOffsets, "offsets-copy", &log));
  CHECK(log == kafka_internal::Log::kConsumerOffsets);
  CHECK(DecoderFor(DecodeMode::kTransactions, "txn-copy", &log));
  CHECK(log == kafka_internal::Log::kTransactionState);
}

TEST_CASE("DecodeRecord: commits, tombstones, and what does not decode") {
  RecordBatch b;
  std::string v = CommitValue(42, 1700000000000);
  std::string bad_value = Enc().i16(3).i64(1).out();
  std::string unknown = Enc().i16(9).str("x").out();
  test::AddRecord(&b, Rec(0, CommitKey("g", "t", 0), &v));
  test::AddRecord(&b, Rec(1, CommitKey("g", "t", 0), nullptr));
  test::AddRecord(&b, Rec(2, CommitKey("g", "t", 1), &bad_value));
  test::AddRecord(&b, Rec(3, unknown, &v));
  test::RecordSpec null_key;
  null_key.value = v;
  test::AddRecord(&b, null_key);
  DecodeInfo info;

  DecodeRecord(kafka_internal::Log::kConsumerOffsets, &b, &b.records[0], &info);
  CHECK(b.records[0].key.view() ==
        "{\"type\":\"offset_commit\",\"version\":1,\"group\":\"g\",\"topic\":\"t\",\"partition\":0}");
  CHECK(b.records[0].value.view() ==
        "{\"version\":3,\"offset\":42,\"leader_epoch\":0,\"metadata\":\"\",\"commit_timestamp\":1700000000000}");
  CHECK(info.key_ok);
  CHECK(info.value_ok);
  CHECK_FALSE(info.tombstone);
  CHECK(info.type == kafka_internal::KeyType::kOffsetCommit);
  CHECK(info.id == "g");
  CHECK(info.key_size == 12);
  CHECK(info.value_size == static_cast<int64_t>(v.size()));

  DecodeRecord(kafka_internal::Log::kConsumerOffsets, &b, &b.records[1], &info);
  CHECK(b.records[1].value.null());
  CHECK(info.tombstone);
  CHECK(info.value_ok);
  CHECK(info.value_size == -1);

  DecodeRecord(kafka_internal::Log::kConsumerOffsets, &b, &b.records[2], &info);
  CHECK(info.key_ok);
  CHECK_FALSE(info.value_ok);
  CHECK(info.error == "value: truncated at byte 10 (leaderEpoch)");
  CHECK(b.records[2].value.view() ==
        "{\"version\":3,\"error\":\"truncated at byte 10 (leaderEpoch)\",\"base64\":\"AAMAAAAAAAAAAQ==\"}");

  DecodeRecord(kafka_internal::Log::kConsumerOffsets, &b, &b.records[3], &info);
  CHECK_FALSE(info.key_ok);
  CHECK(info.error == "key: unknown __consumer_offsets key version 9");
  CHECK(b.records[3].key.view().find("\"type\":\"unknown\",\"version\":9,") != std::string_view::npos);
  CHECK(b.records[3].value.view().find("\"error\":\"the key was not decoded\"") != std::string_view::npos);

  DecodeRecord(kafka_internal::Log::kConsumerOffsets, &b, &b.records[4], &info);
  CHECK(b.records[4].key.null());
  CHECK_FALSE(info.key_ok);
  CHECK(info.error == "key: null key");
  CHECK(b.records[4].value.view().find("\"base64\":") != std::string_view::npos);
}

TEST_CASE("DecodeSource: by topic name, before --where, with infos") {
  std::string v1 = CommitValue(5, 100), v2 = CommitValue(9, 200);
  std::vector<test::RecordSpec> recs = {Rec(0, CommitKey("a", "t", 0), &v1), Rec(1, CommitKey("b", "t", 0), &v2),
                                        Rec(2, CommitKey("b", "t", 1), nullptr)};
  CountingReporter rep;
  auto dec = std::make_unique<DecodeSource>(std::make_unique<OneBatch>("__consumer_offsets", recs),
                                            DecodeMode::kAuto, &rep, true);
  DecodeSource* stage = dec.get();
  WhereOptions w;
  w.exprs = {"$key.group == \"b\""};
  auto src = MaybeWhere(std::move(dec), w, &rep);
  REQUIRE(src.ok());
  RecordBatch b;
  bool eof = false;
  REQUIRE((*src)->Next(&b, &eof).ok());
  REQUIRE(b.records.size() == 2);
  CHECK(b.records[0].offset == 1);
  const DecodeInfo* i0 = stage->InfoOf(b.records[0]);
  REQUIRE(i0);
  CHECK(i0->id == "b");
  CHECK(i0->value_size == static_cast<int64_t>(v2.size()));
  REQUIRE(stage->InfoOf(b.records[1]));
  CHECK(stage->InfoOf(b.records[1])->tombstone);
  CHECK(stage->decoded() == 3);
  CHECK(stage->not_decoded() == 0);

  // Another topic passes through; --decode offsets decodes it anyway.
  for (DecodeMode m : {DecodeMode::kAuto, DecodeMode::kOffsets}) {
    DecodeSource other(std::make_unique<OneBatch>("offsets-copy", recs), m, &rep);
    REQUIRE(other.Next(&b, &eof).ok());
    CHECK((b.records[0].key.view()[0] == '{') == (m == DecodeMode::kOffsets));
  }
}

TEST_CASE("DecodeSource: decoded keys read back pass through; problems are summarised once") {
  std::string v = CommitValue(5, 100);
  std::string decoded_key = "{\"type\":\"offset_commit\",\"version\":1,\"group\":\"a\",\"topic\":\"t\",\"partition\":0}";
  std::string bad = Enc().i16(2).str("g").out();  // group metadata key, value cut below
  std::string cut("\x00\x03", 2);
  std::vector<test::RecordSpec> recs = {Rec(0, decoded_key, &v), Rec(1, bad, &cut), Rec(2, bad, &cut)};
  struct Notes : CountingReporter {
    void Notice(std::string_view what) override { notes.emplace_back(what); }
    std::vector<std::string> notes;
  } notes;
  DecodeSource src(std::make_unique<OneBatch>("__consumer_offsets", recs), DecodeMode::kAuto, &notes);
  RecordBatch b;
  bool eof = false;
  REQUIRE(src.Next(&b, &eof).ok());
  CHECK(b.records[0].key.view() == decoded_key);
  CHECK(b.records[0].value.view() == v);  // untouched
  CHECK(src.not_decoded() == 2);
  REQUIRE(src.Next(&b, &eof).ok());
  CHECK(eof);
  REQUIRE(notes.notes.size() == 1);
  CHECK(notes.notes[0] ==
        "2 records of an internal topic could not be decoded and are shown with \"error\" and the stored bytes in "
        "\"base64\" (first: __consumer_offsets/3@1: value: truncated at byte 2 (protocolType))");
}

TEST_CASE("LooksDecoded") {
  CHECK(LooksDecoded(Bytes::Of("{\"type\":1}")));
  CHECK_FALSE(LooksDecoded(Bytes::Of(std::string_view("\x00\x01", 2))));
  CHECK_FALSE(LooksDecoded(Bytes::Of("{")));
  CHECK_FALSE(LooksDecoded(Bytes::Null()));
}

}  // namespace
}  // namespace evt
