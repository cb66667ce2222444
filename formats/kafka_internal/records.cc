#include "formats/kafka_internal/records.h"

#include <fmt/format.h>

#include "formats/envelope/envelope.h"
#include "lib/base/coding.h"

namespace evt::kafka_internal {

// ---------------------------------------------------------------- the schemas
// Each table lists a message's fields in Kafka's order with the versions of its schema file
// (README.md names the files). JSON names are Kafka's in snake_case, shortened where Kafka
// repeats the message name (TransactionStatus → state).

namespace {

// ConsumerProtocolSubscription / ConsumerProtocolAssignment (clients/.../message/).
constexpr Field kTopicPartitionFields[] = {
    {.name = "topic", .kafka_name = "Topic", .type = Type::kString, .versions = From(0)},
    {.name = "partitions", .kafka_name = "Partitions", .type = Type::kInt32Array, .versions = From(0)},
};
constexpr Struct kTopicPartition{"TopicPartition", kTopicPartitionFields};

constexpr Field kSubscriptionFields[] = {
    {.name = "topics", .kafka_name = "Topics", .type = Type::kStringArray, .versions = From(0)},
    {.name = "user_data", .kafka_name = "UserData", .type = Type::kBytes, .versions = From(0), .nullable = From(0)},
    {.name = "owned_partitions", .kafka_name = "OwnedPartitions", .type = Type::kStructArray, .versions = From(1),
     .elem = &kTopicPartition},
    {.name = "generation_id", .kafka_name = "GenerationId", .type = Type::kInt32, .versions = From(2)},
    {.name = "rack_id", .kafka_name = "RackId", .type = Type::kString, .versions = From(3), .nullable = From(3)},
};
constexpr Struct kSubscription{"ConsumerProtocolSubscription", kSubscriptionFields};

constexpr Field kAssignmentFields[] = {
    {.name = "assigned_partitions", .kafka_name = "AssignedPartitions", .type = Type::kStructArray,
     .versions = From(0), .elem = &kTopicPartition},
    {.name = "user_data", .kafka_name = "UserData", .type = Type::kBytes, .versions = From(0), .nullable = From(0)},
};
constexpr Struct kAssignment{"ConsumerProtocolAssignment", kAssignmentFields};

}  // namespace

const Schema kConsumerProtocolSubscription{"ConsumerProtocolSubscription", Between(0, 3), kNoVersions,
                                           &kSubscription};
const Schema kConsumerProtocolAssignment{"ConsumerProtocolAssignment", Between(0, 3), kNoVersions, &kAssignment};

namespace {

// OffsetCommitKey: versions 0 and 1 are the same (1 was written by brokers before 0.10.1
// for commits with an expire timestamp). GroupMetadataKey is version 2.
constexpr Field kOffsetCommitKeyFields[] = {
    {.name = "group", .kafka_name = "group", .type = Type::kString, .versions = From(0)},
    {.name = "topic", .kafka_name = "topic", .type = Type::kString, .versions = From(0)},
    {.name = "partition", .kafka_name = "partition", .type = Type::kInt32, .versions = From(0)},
};
constexpr Struct kOffsetCommitKeyStruct{"OffsetCommitKey", kOffsetCommitKeyFields};

constexpr Field kGroupMetadataKeyFields[] = {
    {.name = "group", .kafka_name = "group", .type = Type::kString, .versions = From(0)},
};
constexpr Struct kGroupMetadataKeyStruct{"GroupMetadataKey", kGroupMetadataKeyFields};

constexpr Field kOffsetCommitValueFields[] = {
    {.name = "offset", .kafka_name = "offset", .type = Type::kInt64, .versions = From(0)},
    {.name = "leader_epoch", .kafka_name = "leaderEpoch", .type = Type::kInt32, .versions = From(3)},
    {.name = "metadata", .kafka_name = "metadata", .type = Type::kString, .versions = From(0)},
    {.name = "commit_timestamp", .kafka_name = "commitTimestamp", .type = Type::kInt64, .versions = From(0)},
    {.name = "expire_timestamp", .kafka_name = "expireTimestamp", .type = Type::kInt64, .versions = Only(1)},
};
constexpr Struct kOffsetCommitValueStruct{"OffsetCommitValue", kOffsetCommitValueFields};

constexpr Field kMemberMetadataFields[] = {
    {.name = "member_id", .kafka_name = "memberId", .type = Type::kString, .versions = From(0)},
    {.name = "group_instance_id", .kafka_name = "groupInstanceId", .type = Type::kString, .versions = From(3),
     .nullable = From(3)},
    {.name = "client_id", .kafka_name = "clientId", .type = Type::kString, .versions = From(0)},
    {.name = "client_host", .kafka_name = "clientHost", .type = Type::kString, .versions = From(0)},
    {.name = "rebalance_timeout", .kafka_name = "rebalanceTimeout", .type = Type::kInt32, .versions = From(1)},
    {.name = "session_timeout", .kafka_name = "sessionTimeout", .type = Type::kInt32, .versions = From(0)},
    {.name = "subscription", .kafka_name = "subscription", .type = Type::kBytes, .versions = From(0),
     .embedded = &kConsumerProtocolSubscription},
    {.name = "assignment", .kafka_name = "assignment", .type = Type::kBytes, .versions = From(0),
     .embedded = &kConsumerProtocolAssignment},
};
constexpr Struct kMemberMetadata{"MemberMetadata", kMemberMetadataFields};

constexpr Field kGroupMetadataValueFields[] = {
    {.name = "protocol_type", .kafka_name = "protocolType", .type = Type::kString, .versions = From(0)},
    {.name = "generation", .kafka_name = "generation", .type = Type::kInt32, .versions = From(0)},
    {.name = "protocol", .kafka_name = "protocol", .type = Type::kString, .versions = From(0), .nullable = From(0)},
    {.name = "leader", .kafka_name = "leader", .type = Type::kString, .versions = From(0), .nullable = From(0)},
    {.name = "current_state_timestamp", .kafka_name = "currentStateTimestamp", .type = Type::kInt64,
     .versions = From(2)},
    {.name = "members", .kafka_name = "members", .type = Type::kStructArray, .versions = From(0),
     .elem = &kMemberMetadata},
};
constexpr Struct kGroupMetadataValueStruct{"GroupMetadataValue", kGroupMetadataValueFields};

constexpr Field kTransactionLogKeyFields[] = {
    {.name = "transactional_id", .kafka_name = "TransactionalId", .type = Type::kString, .versions = From(0)},
};
constexpr Struct kTransactionLogKeyStruct{"TransactionLogKey", kTransactionLogKeyFields};

constexpr Field kPartitionsSchemaFields[] = {
    {.name = "topic", .kafka_name = "Topic", .type = Type::kString, .versions = From(0)},
    {.name = "partition_ids", .kafka_name = "PartitionIds", .type = Type::kInt32Array, .versions = From(0)},
};
constexpr Struct kPartitionsSchema{"PartitionsSchema", kPartitionsSchemaFields};

constexpr Field kTransactionLogValueFields[] = {
    {.name = "producer_id", .kafka_name = "ProducerId", .type = Type::kInt64, .versions = From(0)},
    {.name = "previous_producer_id", .kafka_name = "PreviousProducerId", .type = Type::kInt64,
     .versions = kNoVersions, .tagged = From(1), .tag = 0},
    {.name = "next_producer_id", .kafka_name = "NextProducerId", .type = Type::kInt64, .versions = kNoVersions,
     .tagged = From(1), .tag = 1},
    {.name = "producer_epoch", .kafka_name = "ProducerEpoch", .type = Type::kInt16, .versions = From(0)},
    {.name = "transaction_timeout_ms", .kafka_name = "TransactionTimeoutMs", .type = Type::kInt32,
     .versions = From(0)},
    {.name = "state", .kafka_name = "TransactionStatus", .type = Type::kInt8, .versions = From(0),
     .show = Show::kTransactionState},
    {.name = "partitions", .kafka_name = "TransactionPartitions", .type = Type::kStructArray, .versions = From(0),
     .nullable = From(0), .elem = &kPartitionsSchema},
    {.name = "last_update_timestamp", .kafka_name = "TransactionLastUpdateTimestampMs", .type = Type::kInt64,
     .versions = From(0)},
    {.name = "start_timestamp", .kafka_name = "TransactionStartTimestampMs", .type = Type::kInt64,
     .versions = From(0)},
    {.name = "client_transaction_version", .kafka_name = "ClientTransactionVersion", .type = Type::kInt16,
     .versions = kNoVersions, .tagged = From(1), .tag = 2},
};
constexpr Struct kTransactionLogValueStruct{"TransactionLogValue", kTransactionLogValueFields};

}  // namespace

const Schema kOffsetCommitKey{"OffsetCommitKey", Between(0, 1), kNoVersions, &kOffsetCommitKeyStruct};
const Schema kGroupMetadataKey{"GroupMetadataKey", Only(2), kNoVersions, &kGroupMetadataKeyStruct};
const Schema kOffsetCommitValue{"OffsetCommitValue", Between(0, 4), From(4), &kOffsetCommitValueStruct};
const Schema kGroupMetadataValue{"GroupMetadataValue", Between(0, 4), From(4), &kGroupMetadataValueStruct};
const Schema kTransactionLogKey{"TransactionLogKey", Only(0), kNoVersions, &kTransactionLogKeyStruct};
const Schema kTransactionLogValue{"TransactionLogValue", Between(0, 1), From(1), &kTransactionLogValueStruct};

// ---------------------------------------------------------------- records

const char* LogTopic(Log log) {
  return log == Log::kConsumerOffsets ? "__consumer_offsets" : "__transaction_state";
}

bool LogOfTopic(std::string_view topic, Log* log) {
  if (topic == "__consumer_offsets") {
    *log = Log::kConsumerOffsets;
    return true;
  }
  if (topic == "__transaction_state") {
    *log = Log::kTransactionState;
    return true;
  }
  return false;
}

const char* KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kOffsetCommit: return "offset_commit";
    case KeyType::kGroupMetadata: return "group_metadata";
    case KeyType::kTransaction: return "transaction";
    default: return "unknown";
  }
}

namespace {
int16_t VersionOf(std::string_view b) {
  return b.size() < 2 ? -1 : static_cast<int16_t>(DecodeFixed16BE(reinterpret_cast<const uint8_t*>(b.data())));
}
}  // namespace

DecodedKey DecodeKey(Log log, std::string_view key) {
  DecodedKey k;
  k.version = VersionOf(key);
  if (k.version < 0) {
    k.error = fmt::format("{} bytes: too short for a key version", key.size());
    return k;
  }
  const Schema* schema = nullptr;
  if (log == Log::kConsumerOffsets) {
    // The key version is the record type: 0 and 1 offset commits, 2 group metadata. Newer
    // brokers write further types (KIP-848 consumer groups, share groups) that evt does not
    // decode.
    if (k.version == 0 || k.version == 1) {
      k.type = KeyType::kOffsetCommit;
      schema = &kOffsetCommitKey;
    } else if (k.version == 2) {
      k.type = KeyType::kGroupMetadata;
      schema = &kGroupMetadataKey;
    } else {
      k.error = fmt::format("unknown __consumer_offsets key version {}", k.version);
      return k;
    }
  } else {
    if (k.version != 0) {
      k.error = fmt::format("unknown __transaction_state key version {}", k.version);
      return k;
    }
    k.type = KeyType::kTransaction;
    schema = &kTransactionLogKey;
  }
  k.ok = Decode(*schema, k.version, key.substr(2), &k.fields, &k.error);
  return k;
}

DecodedValue DecodeValue(KeyType type, std::string_view value) {
  DecodedValue v;
  const Schema* schema = nullptr;
  switch (type) {
    case KeyType::kOffsetCommit: schema = &kOffsetCommitValue; break;
    case KeyType::kGroupMetadata: schema = &kGroupMetadataValue; break;
    case KeyType::kTransaction: schema = &kTransactionLogValue; break;
    case KeyType::kUnknown: break;
  }
  if (!schema) {
    v.version = VersionOf(value);
    v.error = "the key was not decoded";
    return v;
  }
  v.ok = DecodeVersioned(*schema, value, &v.version, &v.fields, &v.error);
  if (v.ok && type == KeyType::kGroupMetadata && v.fields.StrOr("protocol_type") == "consumer")
    DecodeEmbedded(&v.fields);
  return v;
}

namespace {
void AppendFallback(std::string_view error, std::string_view raw, std::string* out) {
  out->append("\"error\":");
  envelope::AppendJsonString(error, out);
  out->append(",\"base64\":\"");
  envelope::AppendBase64(raw, out);
  out->push_back('"');
}
}  // namespace

void AppendKeyJson(const DecodedKey& k, std::string_view raw, std::string* out) {
  out->append("{\"type\":\"");
  out->append(KeyTypeName(k.type));
  out->push_back('"');
  if (raw.size() >= 2) fmt::format_to(std::back_inserter(*out), ",\"version\":{}", k.version);
  out->push_back(',');
  if (k.ok) {
    if (!AppendMembers(k.fields, out)) out->pop_back();
  } else {
    AppendFallback(k.error, raw, out);
  }
  out->push_back('}');
}

void AppendValueJson(const DecodedValue& v, std::string_view raw, std::string* out) {
  out->push_back('{');
  if (raw.size() >= 2) fmt::format_to(std::back_inserter(*out), "\"version\":{},", v.version);
  if (v.ok) {
    if (!AppendMembers(v.fields, out)) out->pop_back();  // no fields: drop the comma
  } else {
    AppendFallback(v.error, raw, out);
  }
  out->push_back('}');
}

}  // namespace evt::kafka_internal
