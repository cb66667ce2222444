#include "formats/kafka_internal/records.h"

#include <catch2/catch.hpp>

#include <random>

#include "formats/envelope/envelope.h"
#include "tests/formats/kafka_internal/encoder.h"

namespace evt::kafka_internal {
namespace {

using test::Be16;
using test::Enc;

std::string KeyJson(Log log, const std::string& key) {
  std::string o;
  AppendKeyJson(DecodeKey(log, key), key, &o);
  return o;
}

std::string ValueJson(KeyType type, const std::string& value) {
  std::string o;
  AppendValueJson(DecodeValue(type, value), value, &o);
  return o;
}

// ---------------------------------------------------------------- keys

TEST_CASE("offset commit keys, versions 0 and 1") {
  for (int16_t v : {0, 1}) {
    std::string key = Enc().i16(v).str("my-group").str("orders").i32(7).out();
    DecodedKey k = DecodeKey(Log::kConsumerOffsets, key);
    REQUIRE(k.ok);
    CHECK(k.type == KeyType::kOffsetCommit);
    CHECK(k.version == v);
    CHECK(k.group() == "my-group");
    CHECK(k.topic() == "orders");
    CHECK(k.partition() == 7);
    CHECK(KeyJson(Log::kConsumerOffsets, key) ==
          "{\"type\":\"offset_commit\",\"version\":" + std::to_string(v) +
              ",\"group\":\"my-group\",\"topic\":\"orders\",\"partition\":7}");
  }
}

TEST_CASE("group metadata key, version 2") {
  std::string key = Enc().i16(2).str("g1").out();
  DecodedKey k = DecodeKey(Log::kConsumerOffsets, key);
  REQUIRE(k.ok);
  CHECK(k.type == KeyType::kGroupMetadata);
  CHECK(k.group() == "g1");
  CHECK(KeyJson(Log::kConsumerOffsets, key) == "{\"type\":\"group_metadata\",\"version\":2,\"group\":\"g1\"}");
}

TEST_CASE("transaction log key, version 0") {
  std::string key = Enc().i16(0).str("tx-1").out();
  DecodedKey k = DecodeKey(Log::kTransactionState, key);
  REQUIRE(k.ok);
  CHECK(k.type == KeyType::kTransaction);
  CHECK(k.transactional_id() == "tx-1");
  CHECK(KeyJson(Log::kTransactionState, key) ==
        "{\"type\":\"transaction\",\"version\":0,\"transactional_id\":\"tx-1\"}");
}

TEST_CASE("keys evt does not know keep their version and bytes") {
  // KIP-848 consumer-group records (type 3 and up) in __consumer_offsets.
  std::string key = Enc().i16(3).str("g").out();
  DecodedKey k = DecodeKey(Log::kConsumerOffsets, key);
  CHECK_FALSE(k.ok);
  CHECK(k.type == KeyType::kUnknown);
  CHECK(k.version == 3);
  CHECK(KeyJson(Log::kConsumerOffsets, key) ==
        "{\"type\":\"unknown\",\"version\":3,\"error\":\"unknown __consumer_offsets key version 3\","
        "\"base64\":\"AAMAAWc=\"}");
  CHECK(KeyJson(Log::kTransactionState, Enc().i16(1).str("t").out()) ==
        "{\"type\":\"unknown\",\"version\":1,\"error\":\"unknown __transaction_state key version 1\","
        "\"base64\":\"AAEAAXQ=\"}");
  // Too short for a version: no version member.
  CHECK(KeyJson(Log::kConsumerOffsets, "\x01") ==
        "{\"type\":\"unknown\",\"error\":\"1 bytes: too short for a key version\",\"base64\":\"AQ==\"}");
  CHECK(KeyJson(Log::kConsumerOffsets, "") ==
        "{\"type\":\"unknown\",\"error\":\"0 bytes: too short for a key version\",\"base64\":\"\"}");
  // A known version whose fields do not decode: the type stays, with the reason.
  std::string cut = Enc().i16(1).str("my-group").str("orders").out();
  CHECK(KeyJson(Log::kConsumerOffsets, cut) ==
        "{\"type\":\"offset_commit\",\"version\":1,\"error\":\"truncated at byte 20 (partition)\","
        "\"base64\":\"AAEACG15LWdyb3VwAAZvcmRlcnM=\"}");
}

// ---------------------------------------------------------------- offset commit values

std::string OffsetCommitValue(int16_t v) {
  Enc e(v >= 4);
  e.i16(v).i64(42);
  if (v >= 3) e.i32(5);
  e.str("meta").i64(1700000000000);
  if (v == 1) e.i64(1700086400000);
  e.tags();
  return e.out();
}

TEST_CASE("offset commit values, versions 0 to 4") {
  CHECK(ValueJson(KeyType::kOffsetCommit, OffsetCommitValue(0)) ==
        "{\"version\":0,\"offset\":42,\"metadata\":\"meta\",\"commit_timestamp\":1700000000000}");
  CHECK(ValueJson(KeyType::kOffsetCommit, OffsetCommitValue(1)) ==
        "{\"version\":1,\"offset\":42,\"metadata\":\"meta\",\"commit_timestamp\":1700000000000,"
        "\"expire_timestamp\":1700086400000}");
  CHECK(ValueJson(KeyType::kOffsetCommit, OffsetCommitValue(2)) ==
        "{\"version\":2,\"offset\":42,\"metadata\":\"meta\",\"commit_timestamp\":1700000000000}");
  CHECK(ValueJson(KeyType::kOffsetCommit, OffsetCommitValue(3)) ==
        "{\"version\":3,\"offset\":42,\"leader_epoch\":5,\"metadata\":\"meta\",\"commit_timestamp\":1700000000000}");
  CHECK(ValueJson(KeyType::kOffsetCommit, OffsetCommitValue(4)) ==
        "{\"version\":4,\"offset\":42,\"leader_epoch\":5,\"metadata\":\"meta\",\"commit_timestamp\":1700000000000}");
  // Version 4 is flexible: the metadata is a compact string, and tagged fields may follow.
  CHECK(OffsetCommitValue(4).size() == 2 + 8 + 4 + 5 + 8 + 1);
  std::string tagged = Enc(true).i16(4).i64(1).i32(-1).str("").i64(2).tags({{0, "\x05"}}).out();
  CHECK(ValueJson(KeyType::kOffsetCommit, tagged) ==
        "{\"version\":4,\"offset\":1,\"leader_epoch\":-1,\"metadata\":\"\",\"commit_timestamp\":2,"
        "\"unknown_tagged_fields\":[{\"tag\":0,\"base64\":\"BQ==\"}]}");
  const std::string c3 = OffsetCommitValue(3);
  DecodedValue v = DecodeValue(KeyType::kOffsetCommit, c3);
  REQUIRE(v.ok);
  CHECK(v.fields.IntOr("offset", -1) == 42);
  CHECK(v.fields.IntOr("commit_timestamp", -1) == 1700000000000);
}

TEST_CASE("values of unknown versions keep their version and bytes") {
  std::string v5 = Enc(true).i16(5).i64(1).out();
  CHECK(ValueJson(KeyType::kOffsetCommit, v5) ==
        "{\"version\":5,\"error\":\"unknown OffsetCommitValue version 5\",\"base64\":\"AAUAAAAAAAAAAQ==\"}");
  CHECK(ValueJson(KeyType::kUnknown, v5) ==
        "{\"version\":5,\"error\":\"the key was not decoded\",\"base64\":\"AAUAAAAAAAAAAQ==\"}");
  CHECK(ValueJson(KeyType::kOffsetCommit, std::string("\x00", 1)) ==
        "{\"error\":\"1 bytes: too short for a version\",\"base64\":\"AA==\"}");
}

// ---------------------------------------------------------------- group metadata values

std::string Subscription(int16_t v, bool user_data = false) {
  Enc e;
  e.i16(v).count(2).str("orders").str("payments");
  if (user_data) e.bytes("\x01\x02"); else e.nullbytes();
  if (v >= 1) e.count(1).str("orders").count(2).i32(0).i32(3);
  if (v >= 2) e.i32(9);
  if (v >= 3) e.str("rack-a");
  return e.out();
}

std::string Assignment(int16_t v) {
  return Enc().i16(v).count(1).str("orders").count(2).i32(0).i32(1).nullbytes().out();
}

std::string GroupMetadataValue(int16_t v, const std::string& protocol_type, const std::string& sub,
                               const std::string& assign) {
  Enc e(v >= 4);
  e.i16(v).str(protocol_type).i32(12).str("range").str("m-1");
  if (v >= 2) e.i64(1700000000123);
  e.count(1).str("m-1");
  if (v >= 3) e.nullstr();
  e.str("client-1").str("/10.0.0.1");
  if (v >= 1) e.i32(300000);
  e.i32(45000).bytes(sub).bytes(assign).tags();
  e.tags();
  return e.out();
}

TEST_CASE("group metadata values, versions 0 to 4, with the consumer protocol decoded") {
  const std::string sub0 =
      "\"subscription\":{\"version\":0,\"topics\":[\"orders\",\"payments\"],\"user_data\":null}";
  const std::string assign0 =
      "\"assignment\":{\"version\":0,\"assigned_partitions\":[{\"topic\":\"orders\",\"partitions\":[0,1]}],"
      "\"user_data\":null}";
  const std::string head = ",\"protocol_type\":\"consumer\",\"generation\":12,\"protocol\":\"range\",\"leader\":\"m-1\"";
  CHECK(ValueJson(KeyType::kGroupMetadata, GroupMetadataValue(0, "consumer", Subscription(0), Assignment(0))) ==
        "{\"version\":0" + head +
            ",\"members\":[{\"member_id\":\"m-1\",\"client_id\":\"client-1\",\"client_host\":\"/10.0.0.1\","
            "\"session_timeout\":45000," + sub0 + "," + assign0 + "}]}");
  CHECK(ValueJson(KeyType::kGroupMetadata, GroupMetadataValue(1, "consumer", Subscription(0), Assignment(0))) ==
        "{\"version\":1" + head +
            ",\"members\":[{\"member_id\":\"m-1\",\"client_id\":\"client-1\",\"client_host\":\"/10.0.0.1\","
            "\"rebalance_timeout\":300000,\"session_timeout\":45000," + sub0 + "," + assign0 + "}]}");
  CHECK(ValueJson(KeyType::kGroupMetadata, GroupMetadataValue(2, "consumer", Subscription(0), Assignment(0))) ==
        "{\"version\":2" + head +
            ",\"current_state_timestamp\":1700000000123"
            ",\"members\":[{\"member_id\":\"m-1\",\"client_id\":\"client-1\",\"client_host\":\"/10.0.0.1\","
            "\"rebalance_timeout\":300000,\"session_timeout\":45000," + sub0 + "," + assign0 + "}]}");
  const std::string v3_member =
      "\"members\":[{\"member_id\":\"m-1\",\"group_instance_id\":null,\"client_id\":\"client-1\","
      "\"client_host\":\"/10.0.0.1\",\"rebalance_timeout\":300000,\"session_timeout\":45000,";
  CHECK(ValueJson(KeyType::kGroupMetadata, GroupMetadataValue(3, "consumer", Subscription(1), Assignment(1))) ==
        "{\"version\":3" + head + ",\"current_state_timestamp\":1700000000123," + v3_member +
            "\"subscription\":{\"version\":1,\"topics\":[\"orders\",\"payments\"],\"user_data\":null,"
            "\"owned_partitions\":[{\"topic\":\"orders\",\"partitions\":[0,3]}]},"
            "\"assignment\":{\"version\":1,\"assigned_partitions\":[{\"topic\":\"orders\",\"partitions\":[0,1]}],"
            "\"user_data\":null}}]}");
  // Version 4 is flexible (compact strings and arrays, tagged fields in the value and in each
  // member); the consumer protocol inside stays non-flexible.
  CHECK(ValueJson(KeyType::kGroupMetadata, GroupMetadataValue(4, "consumer", Subscription(3, true), Assignment(3))) ==
        "{\"version\":4" + head + ",\"current_state_timestamp\":1700000000123," + v3_member +
            "\"subscription\":{\"version\":3,\"topics\":[\"orders\",\"payments\"],\"user_data_base64\":\"AQI=\","
            "\"owned_partitions\":[{\"topic\":\"orders\",\"partitions\":[0,3]}],\"generation_id\":9,"
            "\"rack_id\":\"rack-a\"},"
            "\"assignment\":{\"version\":3,\"assigned_partitions\":[{\"topic\":\"orders\",\"partitions\":[0,1]}],"
            "\"user_data\":null}}]}");
  // Subscription version 2 (generation id, no rack).
  const std::string g3 = GroupMetadataValue(3, "consumer", Subscription(2), Assignment(2));
  DecodedValue v = DecodeValue(KeyType::kGroupMetadata, g3);
  REQUIRE(v.ok);
  std::string o;
  AppendValueJson(v, "", &o);
  CHECK(o.find("\"generation_id\":9}") != std::string::npos);
}

TEST_CASE("group metadata: other protocols and unparsable consumer bytes stay base64") {
  // Kafka Connect's protocol is not the consumer protocol.
  std::string json = ValueJson(KeyType::kGroupMetadata, GroupMetadataValue(3, "connect", Subscription(0), Assignment(0)));
  CHECK(json.find("\"subscription_base64\":\"") != std::string::npos);
  CHECK(json.find("\"assignment_base64\":\"") != std::string::npos);
  // A consumer group whose member bytes are cut, of a future version, or have extra bytes.
  for (const std::string& sub : {Subscription(1).substr(0, 10), Subscription(4), Subscription(0) + "x"}) {
    json = ValueJson(KeyType::kGroupMetadata, GroupMetadataValue(3, "consumer", sub, Assignment(0)));
    CHECK(json.find("\"subscription_base64\":\"") != std::string::npos);
    CHECK(json.find("\"assignment\":{\"version\":0") != std::string::npos);
  }
  // An empty group (no members, no protocol, no leader: after a rebalance emptied it).
  std::string empty = Enc().i16(3).str("consumer").i32(3).nullstr().nullstr().i64(5).count(0).out();
  CHECK(ValueJson(KeyType::kGroupMetadata, empty) ==
        "{\"version\":3,\"protocol_type\":\"consumer\",\"generation\":3,\"protocol\":null,\"leader\":null,"
        "\"current_state_timestamp\":5,\"members\":[]}");
}

// ---------------------------------------------------------------- transaction values

TEST_CASE("transaction log values, versions 0 and 1, with state names") {
  std::string v0 = Enc().i16(0).i64(4001).i16(3).i32(60000).i8(1).count(2)
                       .str("orders").count(2).i32(0).i32(2)
                       .str("payments").count(1).i32(5)
                       .i64(1700000001000).i64(1700000000000).out();
  CHECK(ValueJson(KeyType::kTransaction, v0) ==
        "{\"version\":0,\"producer_id\":4001,\"producer_epoch\":3,\"transaction_timeout_ms\":60000,"
        "\"state\":\"Ongoing\",\"partitions\":[{\"topic\":\"orders\",\"partition_ids\":[0,2]},"
        "{\"topic\":\"payments\",\"partition_ids\":[5]}],\"last_update_timestamp\":1700000001000,"
        "\"start_timestamp\":1700000000000}");
  // Empty transactions are written with null partitions.
  std::string empty = Enc().i16(0).i64(4001).i16(3).i32(60000).i8(0).count(-1).i64(1).i64(-1).out();
  CHECK(ValueJson(KeyType::kTransaction, empty) ==
        "{\"version\":0,\"producer_id\":4001,\"producer_epoch\":3,\"transaction_timeout_ms\":60000,"
        "\"state\":\"Empty\",\"partitions\":null,\"last_update_timestamp\":1,\"start_timestamp\":-1}");
  // Version 1: flexible, with the tagged PreviousProducerId (0), NextProducerId (1) and
  // ClientTransactionVersion (2).
  Enc e(true);
  e.i16(1).i64(4002).i16(0).i32(60000).i8(2).count(1).str("orders").count(1).i32(1).tags()
      .i64(10).i64(9).tags({{0, test::Be64(4001)}, {1, test::Be64(-1)}, {2, Be16(2)}});
  CHECK(ValueJson(KeyType::kTransaction, e.out()) ==
        "{\"version\":1,\"producer_id\":4002,\"producer_epoch\":0,\"transaction_timeout_ms\":60000,"
        "\"state\":\"PrepareCommit\",\"partitions\":[{\"topic\":\"orders\",\"partition_ids\":[1]}],"
        "\"last_update_timestamp\":10,\"start_timestamp\":9,\"previous_producer_id\":4001,\"next_producer_id\":-1,"
        "\"client_transaction_version\":2}");
  // Every state id has a name; others are shown as Unknown(N).
  const char* names[] = {"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort",
                         "Dead", "PrepareEpochFence"};
  for (int8_t s = 0; s < 9; ++s) {
    std::string val = Enc().i16(0).i64(1).i16(0).i32(1).i8(s).count(-1).i64(0).i64(0).out();
    std::string want = s < 8 ? std::string(names[s]) : "Unknown(8)";
    CHECK(ValueJson(KeyType::kTransaction, val).find("\"state\":\"" + want + "\"") != std::string::npos);
  }
}

// ---------------------------------------------------------------- hostile values

TEST_CASE("every truncation of every known value gives the fallback") {
  std::vector<std::pair<KeyType, std::string>> values;
  for (int16_t v = 0; v <= 4; ++v) values.emplace_back(KeyType::kOffsetCommit, OffsetCommitValue(v));
  for (int16_t v = 0; v <= 4; ++v)
    values.emplace_back(KeyType::kGroupMetadata, GroupMetadataValue(v, "consumer", Subscription(1), Assignment(0)));
  values.emplace_back(KeyType::kTransaction,
                      Enc(true).i16(1).i64(1).i16(0).i32(1).i8(1).count(0).i64(1).i64(1).tags({{2, Be16(2)}}).out());
  for (auto& [type, val] : values) {
    REQUIRE(DecodeValue(type, val).ok);
    for (size_t n = 0; n < val.size(); ++n) {
      INFO(KeyTypeName(type) << " cut at " << n << " of " << val.size());
      const std::string cut = val.substr(0, n);
      DecodedValue d = DecodeValue(type, cut);
      CHECK_FALSE(d.ok);
      std::string o;
      AppendValueJson(d, cut, &o);
      CHECK(o.find("\"base64\":\"") != std::string::npos);
    }
  }
}

TEST_CASE("hostile group metadata: huge member counts, negative lengths") {
  std::string huge = Enc().i16(3).str("consumer").i32(1).str("r").str("l").i64(0).i32(0x7fffffff).out();
  DecodedValue d = DecodeValue(KeyType::kGroupMetadata, huge);
  CHECK_FALSE(d.ok);
  CHECK(d.error == "2147483647 elements do not fit the 0 bytes left at byte 30 (members)");
  std::string neg = Enc().i16(0).str("consumer").i32(1).i16(-7).out();
  d = DecodeValue(KeyType::kGroupMetadata, neg);
  CHECK_FALSE(d.ok);
  CHECK(d.error == "negative length -7 at byte 16 (protocol)");
  std::string flex_huge = Enc(true).i16(4).str("consumer").i32(1).str("r").str("l").i64(0).uvar(0xffffffffu).out();
  CHECK_FALSE(DecodeValue(KeyType::kGroupMetadata, flex_huge).ok);
}

TEST_CASE("random bytes never crash the record decoders") {
  std::mt19937 rng(99);
  std::vector<std::string> seeds = {OffsetCommitValue(3), OffsetCommitValue(4),
                                    GroupMetadataValue(4, "consumer", Subscription(3), Assignment(3)),
                                    GroupMetadataValue(2, "consumer", Subscription(1), Assignment(1))};
  for (int i = 0; i < 20000; ++i) {
    std::string m = seeds[i % seeds.size()];
    for (int k = 0; k < 1 + i % 4; ++k) m[rng() % m.size()] = static_cast<char>(rng());
    if (i % 7 == 0) m.resize(rng() % m.size());
    // Whatever the bytes, the JSON is one valid object the envelope embeds.
    for (KeyType t : {KeyType::kOffsetCommit, KeyType::kGroupMetadata, KeyType::kTransaction}) {
      std::string o;
      AppendValueJson(DecodeValue(t, m), m, &o);
      CHECK(envelope::IsEmbeddableJson(o));
    }
    for (Log log : {Log::kConsumerOffsets, Log::kTransactionState}) {
      std::string o;
      AppendKeyJson(DecodeKey(log, m), m, &o);
      CHECK(envelope::IsEmbeddableJson(o));
    }
  }
}

TEST_CASE("LogOfTopic knows the two internal topics") {
  Log log;
  CHECK(LogOfTopic("__consumer_offsets", &log));
  CHECK(log == Log::kConsumerOffsets);
  CHECK(LogOfTopic("__transaction_state", &log));
  CHECK(log == Log::kTransactionState);
  CHECK_FALSE(LogOfTopic("__consumer_offsets2", &log));
  CHECK_FALSE(LogOfTopic("orders", &log));
  CHECK(std::string(LogTopic(Log::kTransactionState)) == "__transaction_state");
}

}  // namespace
}  // namespace evt::kafka_internal
