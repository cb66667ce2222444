// The encoding stage (--encode): values that were decoded to JSON — by `--decode` in the same
// run (lib/pipeline/decode.h), or read back from an envelope whose `value_format` and
// `schema_id` say so — go back to the bytes their consumers read: Avro binary (or JSON
// Schema's JSON text) behind Confluent's 5-byte header, or unframed Avro with --schema FILE.
// `evt write`, `evt replay` and `evt dlq redrive` apply it to what they send, after their
// selection and before the destination (write as a Source stage; replay and redrive on the
// batch they are about to send).
//
// A record whose value was not decoded (no value_format), failed to decode (decode_error: its
// bytes are the stored ones), is null or a control record is passed on unchanged. Keys are
// not encoded: the envelope does not say which keys were decoded.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "formats/avro/avro.h"
#include "lib/base/source.h"
#include "lib/pipeline/schemas.h"

namespace evt {

// --encode: none; auto (each value in the format its value_format names); avro; json;
// protobuf (framed only: the message indexes of `message`, or of the schema's first message
// type, in Java's zigzag encoding, then the message; the envelope does not say which type
// a decoded value was).
enum class EncodeMode { kNone, kAuto, kAvro, kJson, kProtobuf };
Result<EncodeMode> ParseEncodeMode(std::string_view text);

struct EncodeOptions {
  EncodeMode value = EncodeMode::kNone;
  int32_t schema_id = -1;                      // --schema-id (-1: each record's own schema_id)
  std::shared_ptr<SchemaRegistry> schemas;     // --schemas: where ids are looked up
  std::shared_ptr<const avro::Schema> schema;  // --schema FILE: unframed Avro, no header
  avro::JsonStyle avro_json = avro::JsonStyle::kNatural;  // the JSON the values are in
  std::string message;  // --message: the Protobuf message type (default: the schema's first)
  bool any() const { return value != EncodeMode::kNone; }
};

// The checks that need no record (usage errors, InvalidArgument): protobuf, --schema with a
// mode other than avro, a --schema-id that the schema sources lack or whose type is not
// the mode's, avro without --schemas or --schema.
Status CheckEncodeOptions(const EncodeOptions& o);

class Encoder {
 public:
  explicit Encoder(EncodeOptions o);
  ~Encoder();
  // Encodes the decoded values of `batch` in place (the bytes go into its arena; the
  // record's value_format becomes 0 and schema_id the id written). On a value that does
  // not encode, the records before it stay in the batch, the rest are cut off, and the
  // answer is a DataProblem naming the record.
  Status Encode(RecordBatch* batch);
  uint64_t encoded() const { return encoded_; }
  uint64_t passed() const { return passed_; }

 private:
  bool EncodeValue(const Record& r, std::string* why);
  EncodeOptions o_;
  avro::JsonEncoder avro_;
  std::string buf_;
  int32_t last_id_ = -1;  // the schema looked up last (most runs use one or two)
  std::shared_ptr<const avro::Schema> last_avro_;
  std::shared_ptr<const protobuf::Schema> last_pb_;
  int last_message_ = -1;  // in last_pb_
  std::string last_pb_error_;  // why last_pb_ has no such message
  SchemaType last_type_ = SchemaType::kAvro;
  uint64_t encoded_ = 0, passed_ = 0;
};

// A Source whose batches pass through an Encoder.
class EncodeSource : public Source {
 public:
  EncodeSource(std::unique_ptr<Source> inner, EncodeOptions o) : inner_(std::move(inner)), enc_(std::move(o)) {}
  Status Next(RecordBatch* out, bool* eof) override;
  std::string Describe() const override { return inner_->Describe(); }
  bool wants_ack() const override { return inner_->wants_ack(); }
  Status Ack(const Record* upto) override { return inner_->Ack(upto); }

 private:
  std::unique_ptr<Source> inner_;
  Encoder enc_;
};

// Wraps `src` in an EncodeSource unless there is nothing to encode.
std::unique_ptr<Source> MaybeEncode(std::unique_ptr<Source> src, const EncodeOptions& o);

}  // namespace evt
