#include "lib/pipeline/encode.h"

#include <fmt/format.h>

#include "formats/confluent/framing.h"

namespace evt {

Result<EncodeMode> ParseEncodeMode(std::string_view text) {
  if (text == "none") return EncodeMode::kNone;
  if (text == "auto") return EncodeMode::kAuto;
  if (text == "avro") return EncodeMode::kAvro;
  if (text == "json") return EncodeMode::kJson;
  if (text == "protobuf") return EncodeMode::kProtobuf;
  return Status::InvalidArgument(fmt::format("--encode {}: use avro, json, auto or none", text));
}

Status CheckEncodeOptions(const EncodeOptions& o) {
  if (o.value == EncodeMode::kNone) return Status::OK();
  if (o.value == EncodeMode::kProtobuf && o.schema)
    return Status::InvalidArgument("--encode protobuf writes framed values: --schemas SRC, not --schema FILE");
  if (o.schema) {
    if (o.value != EncodeMode::kAvro && o.value != EncodeMode::kAuto)
      return Status::InvalidArgument("--schema FILE is an Avro schema: it goes with --encode avro");
    if (o.schema_id >= 0) return Status::InvalidArgument("--schema FILE (unframed) and --schema-id N (framed): give one");
    return Status::OK();
  }
  if ((o.value == EncodeMode::kAvro || o.value == EncodeMode::kAuto) && !o.schemas)
    return Status::InvalidArgument(fmt::format(
        "--encode {} needs --schemas SRC (where schema ids are looked up) or --schema FILE (unframed Avro)",
        o.value == EncodeMode::kAvro ? "avro" : "auto"));
  if (o.value == EncodeMode::kProtobuf && !o.schemas)
    return Status::InvalidArgument("--encode protobuf needs --schemas SRC (where schema ids are looked up)");
  if (o.schema_id >= 0 && o.schemas) {
    auto e = o.schemas->ById(o.schema_id);
    if (!e.ok()) return e.status();
    if (!*e)
      return Status::InvalidArgument(fmt::format("--schema-id {}: not found in {}", o.schema_id, o.schemas->Describe()));
    const SchemaType t = (*e)->type;
    const bool fits = o.value == EncodeMode::kAuto       ? true
                      : o.value == EncodeMode::kAvro     ? t == SchemaType::kAvro
                      : o.value == EncodeMode::kProtobuf ? t == SchemaType::kProtobuf
                                                         : t == SchemaType::kJson;
    if (!fits)
      return Status::InvalidArgument(fmt::format("--schema-id {} is a {} schema, not one for --encode {}", o.schema_id,
                                                 SchemaTypeName(t),
                                                 o.value == EncodeMode::kAvro       ? "avro"
                                                 : o.value == EncodeMode::kJson     ? "json"
                                                 : o.value == EncodeMode::kProtobuf ? "protobuf"
                                                                                    : "auto"));
    if (t == SchemaType::kAvro) {
      auto s = o.schemas->AvroById(o.schema_id);
      if (!s.ok()) return Status::InvalidArgument(fmt::format("--schema-id {}: {}", o.schema_id, s.status().message()));
    }
    if (t == SchemaType::kProtobuf) {
      auto s = o.schemas->ProtobufById(o.schema_id);
      if (!s.ok()) return Status::InvalidArgument(fmt::format("--schema-id {}: {}", o.schema_id, s.status().message()));
      if (!o.message.empty() && (*s)->FindMessage(o.message) < 0)
        return Status::InvalidArgument(fmt::format("--message {}: schema id {} has no such message type", o.message,
                                                   o.schema_id));
    }
  }
  return Status::OK();
}

Encoder::Encoder(EncodeOptions o) : o_(std::move(o)) {}
Encoder::~Encoder() = default;

bool Encoder::EncodeValue(const Record& r, std::string* why) {
  EncodeMode mode = o_.value;
  if (mode == EncodeMode::kAuto) {
    switch (static_cast<ValueFormat>(r.value_format)) {
      case ValueFormat::kAvro: mode = EncodeMode::kAvro; break;
      case ValueFormat::kJson: mode = EncodeMode::kJson; break;
      default: mode = EncodeMode::kProtobuf; break;
    }
  }
  buf_.clear();
  std::string_view json = r.value.view();
  if (mode == EncodeMode::kAvro && o_.schema) {  // --schema FILE: unframed
    return avro_.Encode(*o_.schema, json, o_.avro_json, &buf_, why);
  }
  const int32_t id = o_.schema_id >= 0 ? o_.schema_id : r.schema_id;
  if (id < 0) {
    *why = "the record names no schema_id: give --schema-id N";
    return false;
  }
  if (o_.schemas && id != last_id_) {
    auto e = o_.schemas->ById(id);
    if (!e.ok()) {
      *why = e.status().message();
      return false;
    }
    if (!*e) {
      *why = fmt::format("schema id {} not found in {}", id, o_.schemas->Describe());
      return false;
    }
    last_type_ = (*e)->type;
    last_avro_.reset();
    last_pb_.reset();
    last_message_ = -1;
    if (last_type_ == SchemaType::kProtobuf) {
      auto s = o_.schemas->ProtobufById(id);
      if (!s.ok()) {
        *why = s.status().message();
        return false;
      }
      last_pb_ = *s;
      last_message_ = o_.message.empty() ? last_pb_->MessageAt({0}) : last_pb_->FindMessage(o_.message);
      last_pb_error_ = o_.message.empty() ? fmt::format("schema id {} declares no message type", id)
                                          : fmt::format("schema id {} has no message type {}", id, o_.message);
    }
    if (last_type_ == SchemaType::kAvro) {
      auto s = o_.schemas->AvroById(id);
      if (!s.ok()) {
        *why = s.status().message();
        return false;
      }
      last_avro_ = *s;
    }
    last_id_ = id;
  }
  if (o_.schemas) {
    const SchemaType want = mode == EncodeMode::kAvro       ? SchemaType::kAvro
                            : mode == EncodeMode::kProtobuf ? SchemaType::kProtobuf
                                                            : SchemaType::kJson;
    if (last_type_ != want) {
      *why = fmt::format("schema id {} is {}, not {}", id, SchemaTypeName(last_type_), SchemaTypeName(want));
      return false;
    }
  }
  confluent::AppendHeader(id, &buf_);
  if (mode == EncodeMode::kProtobuf) {
    if (last_message_ < 0) {
      *why = last_pb_error_;
      return false;
    }
    protobuf::AppendMessageIndexes(last_pb_->IndexesOf(last_message_), protobuf::IndexEncoding::kZigzag, &buf_);
    return last_pb_->JsonToMessage(last_message_, json, &buf_, why);
  }
  if (mode == EncodeMode::kJson) {
    // JSON Schema values: the JSON text as the envelope holds it.
    buf_.append(json);
    return true;
  }
  return avro_.Encode(*last_avro_, json, o_.avro_json, &buf_, why);
}

namespace {
// Where a record came from, for messages: file:line (JSON Lines) or file@position (segment
// files), and topic/partition@offset.
std::string WhereOf(const RecordBatch& b, const Record& r) {
  std::string rec;
  if (!b.topic.empty()) rec = fmt::format("{}/{}@{}", b.topic, r.partition >= 0 ? r.partition : b.partition, r.offset);
  if (b.file.empty()) return rec.empty() ? "a record" : rec;
  std::string loc = b.batches.empty() ? fmt::format("{}:{}", b.file, r.source_pos) : fmt::format("{}@{}", b.file, r.source_pos);
  return rec.empty() ? loc : fmt::format("{} ({})", loc, rec);
}
}  // namespace

Status Encoder::Encode(RecordBatch* batch) {
  std::string why;
  for (size_t i = 0; i < batch->records.size(); ++i) {
    Record& r = batch->records[i];
    if (r.control || r.value.null() || r.value_format == 0 || r.value_format == kFormatFailed) {
      ++passed_;
      continue;
    }
    why.clear();
    if (!EncodeValue(r, &why)) {
      Status st = Status::DataProblem(fmt::format("{}: cannot encode the value: {}", WhereOf(*batch, r), why));
      batch->records.resize(i);  // what encoded before it is still written
      return st;
    }
    r.value = Bytes::Of(batch->arena.Copy(buf_));
    if (o_.schema && (o_.value == EncodeMode::kAvro || o_.value == EncodeMode::kAuto)) r.schema_id = -1;
    else r.schema_id = o_.schema_id >= 0 ? o_.schema_id : r.schema_id;
    r.value_format = 0;
    ++encoded_;
  }
  return Status::OK();
}

Status EncodeSource::Next(RecordBatch* out, bool* eof) {
  Status s = inner_->Next(out, eof);
  Status e = enc_.Encode(out);
  return s.ok() ? e : s;
}

std::unique_ptr<Source> MaybeEncode(std::unique_ptr<Source> src, const EncodeOptions& o) {
  if (!o.any()) return src;
  return std::make_unique<EncodeSource>(std::move(src), o);
}

}  // namespace evt
