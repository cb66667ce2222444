// The records of Kafka's internal topics: `__consumer_offsets` (offset commits and group
// metadata, written by the group coordinator) and `__transaction_state` (transaction
// metadata, written by the transaction coordinator). Keys and values are decoded with the
// schema reader (schema.h) from the tables in records.cc, which follow Kafka's message
// definitions field by field. The spec in prose is README.md beside this file.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/kafka_internal/schema.h"

namespace evt::kafka_internal {

enum class Log : uint8_t { kConsumerOffsets, kTransactionState };
// "__consumer_offsets", "__transaction_state".
const char* LogTopic(Log log);
// The log a topic name is, if it is one of the two.
bool LogOfTopic(std::string_view topic, Log* log);

enum class KeyType : uint8_t { kUnknown, kOffsetCommit, kGroupMetadata, kTransaction };
// "unknown", "offset_commit", "group_metadata", "transaction".
const char* KeyTypeName(KeyType t);

// The message definitions (Kafka's `common/message/*.json`).
extern const Schema kOffsetCommitKey;      // key versions 0-1
extern const Schema kGroupMetadataKey;     // key version 2
extern const Schema kOffsetCommitValue;    // 0-4, flexible 4+
extern const Schema kGroupMetadataValue;   // 0-4, flexible 4+
extern const Schema kTransactionLogKey;    // 0
extern const Schema kTransactionLogValue;  // 0-1, flexible 1+
extern const Schema kConsumerProtocolSubscription;  // 0-3 (inside group metadata members)
extern const Schema kConsumerProtocolAssignment;    // 0-3

struct DecodedKey {
  KeyType type = KeyType::kUnknown;  // from the version; kUnknown for versions evt does not know
  int16_t version = -1;              // -1 when the key has fewer than 2 bytes (or is null)
  bool ok = false;                   // fields decoded
  Node fields;
  std::string error;  // why not, when !ok
  // Offset commit / group metadata keys.
  std::string_view group() const { return fields.StrOr("group"); }
  std::string_view topic() const { return fields.StrOr("topic"); }
  int32_t partition() const { return static_cast<int32_t>(fields.IntOr("partition", -1)); }
  // Transaction keys.
  std::string_view transactional_id() const { return fields.StrOr("transactional_id"); }
};

// Decodes a key of `log`. Never fails: a key of an unknown version, or one that does not
// decode, comes back with ok = false and the reason in `error`.
DecodedKey DecodeKey(Log log, std::string_view key);

struct DecodedValue {
  int16_t version = -1;
  bool ok = false;
  Node fields;
  std::string error;
};

// Decodes the (non-null) value of a record whose key decoded as `type`; group metadata
// members' subscription and assignment are decoded as the consumer protocol when the
// group's protocol type is "consumer" and they parse, and stay bytes otherwise.
DecodedValue DecodeValue(KeyType type, std::string_view value);

// The JSON object shown for a key:
//   {"type":"offset_commit","version":1,"group":"g","topic":"t","partition":0}
// and, when it did not decode, its version, the reason and the raw bytes:
//   {"type":"unknown","version":9,"error":"...","base64":"AAk..."}
void AppendKeyJson(const DecodedKey& k, std::string_view raw, std::string* out);
// The JSON object shown for a value: {"version":3,"offset":42,...}; when it did not
// decode: {"version":9,"error":"...","base64":"..."}.
void AppendValueJson(const DecodedValue& v, std::string_view raw, std::string* out);

}  // namespace evt::kafka_internal
