#include "lib/pipeline/decode.h"

#include <fmt/format.h>

namespace evt {

using kafka_internal::KeyType;
using kafka_internal::Log;

Result<DecodeMode> ParseDecodeMode(std::string_view text) {
  if (text == "auto") return DecodeMode::kAuto;
  if (text == "none") return DecodeMode::kNone;
  if (text == "offsets") return DecodeMode::kOffsets;
  if (text == "transactions") return DecodeMode::kTransactions;
  return Status::InvalidArgument(
      fmt::format("--decode {}: use auto (by topic name), offsets, transactions or none", text));
}

bool DecoderFor(DecodeMode mode, std::string_view topic, Log* log) {
  switch (mode) {
    case DecodeMode::kAuto: return kafka_internal::LogOfTopic(topic, log);
    case DecodeMode::kNone: return false;
    case DecodeMode::kOffsets: *log = Log::kConsumerOffsets; return true;
    case DecodeMode::kTransactions: *log = Log::kTransactionState; return true;
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

DecodeSource::DecodeSource(std::unique_ptr<Source> inner, DecodeMode mode, Reporter* reporter, bool keep_info)
    : inner_(std::move(inner)), mode_(mode), reporter_(reporter), keep_info_(keep_info) {}

void DecodeSource::ReportSummary() {
  if (reported_) return;
  reported_ = true;
  if (not_decoded_ > 0 && reporter_)
    reporter_->Notice(fmt::format("{} record{} of an internal topic could not be decoded and {} shown with "
                                  "\"error\" and the stored bytes in \"base64\" (first: {})",
                                  not_decoded_, not_decoded_ == 1 ? "" : "s", not_decoded_ == 1 ? "is" : "are",
                                  first_problem_));
}

Status DecodeSource::Next(RecordBatch* out, bool* eof) {
  Status s = inner_->Next(out, eof);
  info_.clear();
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
  }
  if (!s.ok() || *eof) ReportSummary();
  return s;
}

const DecodeInfo* DecodeSource::InfoOf(const Record& r) const {
  if (r.key.null()) return nullptr;
  auto it = info_.find(r.key.data);
  return it == info_.end() ? nullptr : &it->second;
}

std::unique_ptr<Source> MaybeDecode(std::unique_ptr<Source> src, DecodeMode mode, Reporter* reporter) {
  if (mode == DecodeMode::kNone) return src;
  return std::make_unique<DecodeSource>(std::move(src), mode, reporter);
}

std::unique_ptr<Source> MaybeDecodeTopic(std::unique_ptr<Source> src, DecodeMode mode, std::string_view topic,
                                         Reporter* reporter, DecodeSource** stage) {
  *stage = nullptr;
  Log log;
  if (!DecoderFor(mode, topic, &log)) return src;
  auto d = std::make_unique<DecodeSource>(std::move(src), mode, reporter, /*keep_info=*/true);
  *stage = d.get();
  return d;
}

Result<std::unique_ptr<Source>> OpenDecodedSource(const SourceSpec& spec, DecodeMode mode, Reporter* reporter,
                                                  DecodeSource** stage) {
  if (stage) *stage = nullptr;
  if (mode == DecodeMode::kNone) return OpenSource(spec, reporter);
  SourceSpec inner = spec;
  inner.where = WhereOptions();
  auto src = OpenSource(inner, reporter);
  if (!src.ok()) return src.status();
  auto dec = std::make_unique<DecodeSource>(std::move(*src), mode, reporter, stage != nullptr);
  if (stage) *stage = dec.get();
  return MaybeWhere(std::move(dec), spec.where, reporter);
}

}  // namespace evt
