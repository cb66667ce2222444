#include "lib/pipeline/decode.h"

#include <fmt/format.h>

#include "formats/confluent/framing.h"
#include "formats/envelope/envelope.h"

namespace evt {

using kafka_internal::KeyType;
using kafka_internal::Log;

Result<DecodeMode> ParseDecodeMode(std::string_view text) {
  if (text == "auto") return DecodeMode::kAuto;
  if (text == "none") return DecodeMode::kNone;
  if (text == "offsets") return DecodeMode::kOffsets;
  if (text == "transactions") return DecodeMode::kTransactions;
  if (text == "avro") return DecodeMode::kAvro;
  if (text == "json") return DecodeMode::kJson;
  if (text == "protobuf") return DecodeMode::kProtobuf;
  return Status::InvalidArgument(
      fmt::format("--decode {}: use auto (internal topics by name, framed values by schema id), avro, protobuf, "
                  "json, offsets, transactions or none",
                  text));
}

Result<DecodeMode> ParseDecodeKeyMode(std::string_view text) {
  if (text == "auto") return DecodeMode::kAuto;
  if (text == "none") return DecodeMode::kNone;
  if (text == "avro") return DecodeMode::kAvro;
  if (text == "json") return DecodeMode::kJson;
  if (text == "protobuf") return DecodeMode::kProtobuf;
  return Status::InvalidArgument(fmt::format("--decode-key {}: use auto, avro, protobuf, json or none", text));
}

bool DecoderFor(DecodeMode mode, std::string_view topic, Log* log) {
  switch (mode) {
    case DecodeMode::kAuto: return kafka_internal::LogOfTopic(topic, log);
    case DecodeMode::kNone: return false;
    case DecodeMode::kOffsets: *log = Log::kConsumerOffsets; return true;
    case DecodeMode::kTransactions: *log = Log::kTransactionState; return true;
    case DecodeMode::kAvro:
    case DecodeMode::kProtobuf:
    case DecodeMode::kJson: return false;
  }
  return false;
}

bool LooksDecoded(const Bytes& key) {
  return !key.null() && key.size >= 2 && key.data[0] == '{' && key.data[1] == '"';
}

namespace {
Bytes InArena(RecordBatch* batch, const std::string& s) {
  std::string_view v = batch->arena.Copy(s);
  return Bytes{v.data(), static_cast<uint32_t>(v.size()), false};
}
}  // namespace

void DecodeRecord(Log log, RecordBatch* batch, Record* r, DecodeInfo* info) {
  *info = DecodeInfo();
  info->key_size = r->key.null() ? -1 : static_cast<int64_t>(r->key.size);
  info->value_size = r->value.null() ? -1 : static_cast<int64_t>(r->value.size);
  info->tombstone = r->value.null();
  std::string json;
  kafka_internal::DecodedKey k;
  if (r->key.null()) {
    k.error = "null key";
  } else {
    k = kafka_internal::DecodeKey(log, r->key.view());
  }
  info->type = k.type;
  info->key_ok = k.ok;
  if (k.ok) info->id = k.type == KeyType::kTransaction ? k.transactional_id() : k.group();
  if (!k.ok) info->error = "key: " + k.error;
  if (!r->key.null()) {
    kafka_internal::AppendKeyJson(k, r->key.view(), &json);
    r->key = InArena(batch, json);
  }
  if (r->value.null()) {
    info->value_ok = true;  // a tombstone: the key's entry is deleted
    return;
  }
  kafka_internal::DecodedValue v;
  if (k.ok) {
    v = kafka_internal::DecodeValue(k.type, r->value.view());
  } else {
    v = kafka_internal::DecodeValue(KeyType::kUnknown, r->value.view());
  }
  info->value_ok = v.ok;
  if (!v.ok && k.ok) info->error = "value: " + v.error;
  json.clear();
  kafka_internal::AppendValueJson(v, r->value.view(), &json);
  r->value = InArena(batch, json);
}

DecodeSource::DecodeSource(std::unique_ptr<Source> inner, DecodeOptions opts, Reporter* reporter, bool keep_info)
    : inner_(std::move(inner)), opts_(std::move(opts)), mode_(opts_.value), reporter_(reporter), keep_info_(keep_info) {}

bool DecodeSource::DecodeBytes(bool is_key, RecordBatch* batch, Bytes* b, uint8_t* format, int32_t* schema_id,
                               std::string* error, protobuf::FramedInfo* indexes) {
  const DecodeMode mode = is_key ? opts_.key : opts_.value;
  if (b->null() || mode == DecodeMode::kNone || mode == DecodeMode::kOffsets || mode == DecodeMode::kTransactions)
    return true;
  json_.clear();
  if (opts_.schema && !is_key) {  // --schema FILE: unframed Avro
    if (!opts_.schema->ToJson(b->view(), opts_.avro_json, &json_, error)) return false;
    *format = static_cast<uint8_t>(ValueFormat::kAvro);
  } else if (opts_.proto_schema && !is_key) {  // --schema FILE.proto --message TYPE
    if (!opts_.proto_schema->MessageToJson(opts_.proto_message, b->view(), &json_, error)) return false;
    *format = static_cast<uint8_t>(ValueFormat::kProtobuf);
  } else {
    if (!opts_.schemas) return true;
    confluent::Frame frame;
    if (!confluent::ParseFrame(b->view(), &frame)) {
      if (mode == DecodeMode::kAuto) return true;  // not framed: left as it is
      *error = b->size == 0 ? "empty, not in Confluent's framing" : "not in Confluent's framing (no magic byte 0)";
      return false;
    }
    *schema_id = frame.schema_id;
    auto entry = opts_.schemas->ById(frame.schema_id);
    if (!entry.ok()) {
      *error = entry.status().message();
      return false;
    }
    if (!*entry) {
      *error = fmt::format("schema id {} not found in {}", frame.schema_id, opts_.schemas->Describe());
      return false;
    }
    const SchemaType type = (*entry)->type;
    if ((mode == DecodeMode::kAvro && type != SchemaType::kAvro) ||
        (mode == DecodeMode::kJson && type != SchemaType::kJson) ||
        (mode == DecodeMode::kProtobuf && type != SchemaType::kProtobuf)) {
      *error = fmt::format("schema id {} is {}, not {}", frame.schema_id, SchemaTypeName(type),
                           mode == DecodeMode::kAvro ? "AVRO" : mode == DecodeMode::kJson ? "JSON" : "PROTOBUF");
      return false;
    }
    if (type == SchemaType::kProtobuf) {
      auto schema = opts_.schemas->ProtobufById(frame.schema_id);
      if (!schema.ok()) {
        *error = schema.status().message();
        return false;
      }
      if (!(*schema)->FramedToJson(frame.payload, &json_, indexes, error)) return false;
      *format = static_cast<uint8_t>(ValueFormat::kProtobuf);
      *b = InArena(batch, json_);
      return true;
    }
    if (type == SchemaType::kJson) {
      std::string why = envelope::DescribeNotJson(frame.payload);
      if (!why.empty()) {
        *error = why;
        return false;
      }
      // The JSON itself: a view into the stored bytes past the header, or, when it spans
      // lines, a copy without its line breaks (which JSON allows only between tokens).
      if (frame.payload.find_first_of("\r\n") == std::string_view::npos) {
        *b = Bytes::Of(frame.payload);
      } else {
        for (char c : frame.payload)
          if (c != '\n' && c != '\r') json_.push_back(c);
        *b = InArena(batch, json_);
      }
      *format = static_cast<uint8_t>(ValueFormat::kJson);
      return true;
    }
    auto schema = opts_.schemas->AvroById(frame.schema_id);
    if (!schema.ok()) {
      *error = schema.status().message();
      return false;
    }
    if (!(*schema)->ToJson(frame.payload, opts_.avro_json, &json_, error)) return false;
    *format = static_cast<uint8_t>(ValueFormat::kAvro);
  }
  *b = InArena(batch, json_);
  return true;
}

Status DecodeSource::DecodeSchemas(RecordBatch* out) {
  std::string error;
  for (size_t i = 0; i < out->records.size(); ++i) {
    Record& r = out->records[i];
    if (r.control) continue;
    bool failed = false;
    int32_t key_id = -1;
    error.clear();
    protobuf::FramedInfo key_indexes, value_indexes;
    if (!DecodeBytes(true, out, &r.key, &r.key_format, &key_id, &error, &key_indexes)) {
      r.key_format = kFormatFailed;
      error = "key: " + error;
      failed = true;
    }
    std::string verror;
    if (!DecodeBytes(false, out, &r.value, &r.value_format, &r.schema_id, &verror, &value_indexes)) {
      r.value_format = kFormatFailed;
      error = error.empty() ? verror : error + "; value: " + verror;
      failed = true;
    }
    if (keep_info_ && value_indexes.encoding != protobuf::IndexEncoding::kNone && !r.value.null())
      indexes_[r.value.data] = std::move(value_indexes);
    if (!failed) {
      if (r.value_format != 0 || r.key_format != 0) ++decoded_;
      continue;
    }
    const std::string where =
        fmt::format("{}/{}@{}", out->topic, r.partition >= 0 ? r.partition : out->partition, r.offset);
    if (opts_.strict) {
      out->records.resize(i);  // what decoded before it is still output
      return Status::DataProblem(fmt::format("{}: {} (--strict)", where, error));
    }
    if (not_decoded_++ == 0) first_problem_ = where + ": " + error;
    out->decode_errors.push_back(std::move(error));
    r.decode_error = static_cast<uint32_t>(out->decode_errors.size());
  }
  return Status::OK();
}

void DecodeSource::ReportSummary() {
  if (reported_) return;
  reported_ = true;
  if (not_decoded_ > 0 && reporter_ && opts_.schema_decoding())
    reporter_->Notice(fmt::format("{} record{} could not be decoded and {} shown as stored, with \"decode_error\" "
                                  "(first: {})",
                                  not_decoded_, not_decoded_ == 1 ? "" : "s", not_decoded_ == 1 ? "is" : "are",
                                  first_problem_));
  else if (not_decoded_ > 0 && reporter_)
    reporter_->Notice(fmt::format("{} record{} of an internal topic could not be decoded and {} shown with "
                                  "\"error\" and the stored bytes in \"base64\" (first: {})",
                                  not_decoded_, not_decoded_ == 1 ? "" : "s", not_decoded_ == 1 ? "is" : "are",
                                  first_problem_));
}

Status DecodeSource::Next(RecordBatch* out, bool* eof) {
  Status s = inner_->Next(out, eof);
  info_.clear();
  indexes_.clear();
  Log log;
  if (DecoderFor(mode_, out->topic, &log)) {
    DecodeInfo info;
    for (Record& r : out->records) {
      if (r.control || LooksDecoded(r.key)) continue;
      DecodeRecord(log, out, &r, &info);
      if (info.key_ok && info.value_ok) {
        ++decoded_;
      } else if (not_decoded_++ == 0) {
        first_problem_ = fmt::format("{}/{}@{}: {}", out->topic, r.partition >= 0 ? r.partition : out->partition,
                                     r.offset, info.error);
      }
      if (keep_info_ && !r.key.null()) info_[r.key.data] = std::move(info);
    }
  } else if (opts_.schema_decoding()) {
    Status d = DecodeSchemas(out);
    if (!d.ok()) return d;
  }
  if (!s.ok() || *eof) ReportSummary();
  return s;
}

const DecodeInfo* DecodeSource::InfoOf(const Record& r) const {
  if (r.key.null()) return nullptr;
  auto it = info_.find(r.key.data);
  return it == info_.end() ? nullptr : &it->second;
}

const protobuf::FramedInfo* DecodeSource::IndexesOf(const Record& r) const {
  if (r.value.null()) return nullptr;
  auto it = indexes_.find(r.value.data);
  return it == indexes_.end() ? nullptr : &it->second;
}

std::unique_ptr<Source> MaybeDecode(std::unique_ptr<Source> src, const DecodeOptions& opts, Reporter* reporter) {
  if (!opts.any()) return src;
  return std::make_unique<DecodeSource>(std::move(src), opts, reporter);
}

std::unique_ptr<Source> MaybeDecodeTopic(std::unique_ptr<Source> src, const DecodeOptions& opts,
                                         std::string_view topic, Reporter* reporter, DecodeSource** stage) {
  *stage = nullptr;
  Log log;
  if (!DecoderFor(opts.value, topic, &log) && !opts.schema_decoding()) return src;
  auto d = std::make_unique<DecodeSource>(std::move(src), opts, reporter, /*keep_info=*/true);
  *stage = d.get();
  return d;
}

Result<std::unique_ptr<Source>> OpenDecodedSource(const SourceSpec& spec, const DecodeOptions& opts,
                                                  Reporter* reporter, DecodeSource** stage, SourceInfo* info) {
  if (stage) *stage = nullptr;
  if (!opts.any()) return OpenSource(spec, reporter, info);
  SourceSpec inner = spec;
  inner.where = WhereOptions();
  auto src = OpenSource(inner, reporter, info);
  if (!src.ok()) return src.status();
  auto dec = std::make_unique<DecodeSource>(std::move(*src), opts, reporter, stage != nullptr);
  if (stage) *stage = dec.get();
  return MaybeWhere(std::move(dec), spec.where, reporter);
}

}  // namespace evt
