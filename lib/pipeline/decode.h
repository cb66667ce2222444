// The decoding stage: records of Kafka's internal topics (`__consumer_offsets`,
// `__transaction_state`) get their binary keys and values replaced by JSON objects
// (formats/kafka_internal), and values (keys with --decode-key) framed in Confluent's wire
// format get theirs replaced by the JSON of their schema (Avro, Protobuf, JSON Schema; schemas from
// lib/pipeline/schemas.h), between the source and --where, so that --where, the envelope,
// `-f value`, templates, dump and inspect all see the decoded form.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "formats/avro/avro.h"
#include "formats/kafka_internal/records.h"
#include "formats/protobuf/protobuf.h"
#include "lib/base/source.h"
#include "lib/pipeline/read.h"
#include "lib/pipeline/schemas.h"

namespace evt {

// --decode: auto (internal topics by name: __consumer_offsets, __transaction_state; other
// topics' values in Confluent's framing by their schema id, when there are schema sources),
// none, offsets (every record is a __consumer_offsets record, whatever its topic),
// transactions (the same for __transaction_state), avro, protobuf or json (every value is
// Avro / Protobuf / JSON Schema in Confluent's framing, or unframed with --schema).
enum class DecodeMode { kAuto, kNone, kOffsets, kTransactions, kAvro, kJson, kProtobuf };
Result<DecodeMode> ParseDecodeMode(std::string_view text);
// --decode-key: auto, none, avro, protobuf or json (the internal topics' keys go with --decode).
Result<DecodeMode> ParseDecodeKeyMode(std::string_view text);

// Everything the decoding stage needs. Implicit from a DecodeMode: internal topics only.
struct DecodeOptions {
  DecodeOptions() = default;
  DecodeOptions(DecodeMode m) : value(m) {}  // NOLINT: implicit on purpose
  DecodeMode value = DecodeMode::kAuto;
  DecodeMode key = DecodeMode::kNone;
  std::shared_ptr<SchemaRegistry> schemas;     // --schemas (may be null)
  std::shared_ptr<const avro::Schema> schema;  // --schema FILE: unframed Avro values
  // --schema FILE.proto --message TYPE: unframed Protobuf values of that message type
  std::shared_ptr<const protobuf::Schema> proto_schema;
  int proto_message = -1;
  avro::JsonStyle avro_json = avro::JsonStyle::kNatural;
  bool strict = false;  // a value that does not decode is an error, not a warning
  // Whether any record can be schema-decoded.
  bool schema_decoding() const { return schemas || schema || proto_schema; }
  bool any() const { return value != DecodeMode::kNone || (key != DecodeMode::kNone && schema_decoding()); }
};
// Whether records of `topic` are decoded under `mode`, and as which log.
bool DecoderFor(DecodeMode mode, std::string_view topic, kafka_internal::Log* log);

// What decoding did to one record.
struct DecodeInfo {
  kafka_internal::KeyType type = kafka_internal::KeyType::kUnknown;
  bool key_ok = false;
  bool value_ok = false;  // also true for a tombstone (nothing to decode)
  bool tombstone = false;
  int64_t key_size = -1;    // the stored sizes; -1 for null
  int64_t value_size = -1;
  // The group id (offset commits, group metadata) or transactional id, a view into the
  // stored key: valid as long as the batch.
  std::string_view id;
  std::string error;  // the first reason the key or value was not decoded
};

// Decodes record `r` of `batch` in place: its key and value become the JSON objects of
// formats/kafka_internal/records.h, written into the batch's arena. A tombstone keeps its
// null value; a null key, a key of a version evt does not know, or bytes that do not decode
// give the fallback objects with the raw bytes in base64 (never an error).
void DecodeRecord(kafka_internal::Log log, RecordBatch* batch, Record* r, DecodeInfo* info);

// A key that is already a JSON object (`{"`: evt's own decoded output read back from JSON
// Lines) is left as it is: no internal-topic key starts with those bytes (version 31522).
bool LooksDecoded(const Bytes& key);

class DecodeSource : public Source {
 public:
  // `keep_info`: remember a DecodeInfo per decoded record of the last batch (InfoOf).
  DecodeSource(std::unique_ptr<Source> inner, DecodeOptions opts, Reporter* reporter, bool keep_info = false);
  Status Next(RecordBatch* out, bool* eof) override;
  std::string Describe() const override { return inner_->Describe(); }
  bool wants_ack() const override { return inner_->wants_ack(); }
  Status Ack(const Record* upto) override { return inner_->Ack(upto); }
  // What decoding did to a record of the batch the last Next returned (or a copy of it made
  // by a stage after this one); null when it was not decoded (other topics, control records).
  const DecodeInfo* InfoOf(const Record& r) const;
  // For a Protobuf value of the last batch (keep_info): the message indexes it carried and
  // their encoding; null for other records.
  const protobuf::FramedInfo* IndexesOf(const Record& r) const;
  uint64_t decoded() const { return decoded_; }
  uint64_t not_decoded() const { return not_decoded_; }

 private:
  void ReportSummary();
  // Schema decoding of one key or value: true when it was decoded or left alone, false
  // with *error when it should have decoded and did not.
  bool DecodeBytes(bool is_key, RecordBatch* batch, Bytes* b, uint8_t* format, int32_t* schema_id,
                   std::string* error, protobuf::FramedInfo* indexes);
  Status DecodeSchemas(RecordBatch* out);
  std::unique_ptr<Source> inner_;
  DecodeOptions opts_;
  DecodeMode mode_;
  std::string json_;  // scratch for one decoded value
  Reporter* reporter_;
  bool keep_info_;
  std::unordered_map<const char*, DecodeInfo> info_;  // by the decoded key's address
  std::unordered_map<const char*, protobuf::FramedInfo> indexes_;  // by the value's address
  uint64_t decoded_ = 0;
  uint64_t not_decoded_ = 0;
  std::string first_problem_;
  bool reported_ = false;
};

// Wraps `src` in a DecodeSource unless `mode` is none.
std::unique_ptr<Source> MaybeDecode(std::unique_ptr<Source> src, const DecodeOptions& opts, Reporter* reporter);
// For a source of one topic's records (a partition directory): wraps it in a DecodeSource
// that keeps infos when `mode` decodes `topic`, with *stage pointing at it; otherwise
// returns `src` and sets *stage to null.
std::unique_ptr<Source> MaybeDecodeTopic(std::unique_ptr<Source> src, const DecodeOptions& opts,
                                         std::string_view topic, Reporter* reporter, DecodeSource** stage);

// OpenSource (lib/pipeline/read.h) with the decoding stage placed before --where, so that --where
// sees decoded keys and values ($key.group, .offset). With `stage`, the stage keeps a
// DecodeInfo per record and *stage points at it (null when `mode` is none). `info`: what
// OpenSource opened, as OpenSource gives it.
Result<std::unique_ptr<Source>> OpenDecodedSource(const SourceSpec& spec, const DecodeOptions& opts,
                                                  Reporter* reporter, DecodeSource** stage = nullptr,
                                                  SourceInfo* info = nullptr);

}  // namespace evt
