#include "lib/pipeline/text_sink.h"

#include <fmt/format.h>

#include "formats/cloudevents/cloudevents.h"
#include "formats/envelope/envelope.h"
#include "formats/template/template.h"

namespace evt {

Result<TextFormat> ParseTextFormat(const std::string& text) {
  TextFormat f;
  if (text == "envelope" || text == "json" || text == "jsonl") {
    f.kind = OutputFormat::kEnvelope;
  } else if (text == "value") {
    f.kind = OutputFormat::kValue;
  } else if (text == "cloudevents") {
    f.kind = OutputFormat::kCloudEvents;
  } else if (text.find('%') != std::string::npos) {
    f.kind = OutputFormat::kTemplate;
    f.template_text = text;
    auto t = tmpl::Template::Parse(text);
    if (!t.ok()) return t.status();
  } else {
    return Status::InvalidArgument(fmt::format(
        "unknown format '{}': use envelope, value, cloudevents, or a template such as '%k %v\\n'", text));
  }
  return f;
}

Result<std::unique_ptr<TextSink>> TextSink::Create(const TextFormat& f, std::unique_ptr<WritableFile> out) {
  std::unique_ptr<TextSink> s(new TextSink());
  s->fmt_ = f;
  s->out_ = std::move(out);
  if (f.kind == OutputFormat::kTemplate) {
    auto t = tmpl::Template::Parse(f.template_text);
    if (!t.ok()) return t.status();
    s->tmpl_ = std::make_unique<tmpl::Template>(std::move(*t));
  }
  s->buf_.reserve(1 << 20);
  return s;
}

TextSink::~TextSink() = default;

Status TextSink::Write(const RecordBatch& batch) { return WriteRange(batch, 0, batch.records.size()); }

Status TextSink::WriteRange(const RecordBatch& batch, size_t begin, size_t end) {
  buf_.clear();
  for (size_t i = begin; i < end; ++i) {
    const Record& r = batch.records[i];
    switch (fmt_.kind) {
      case OutputFormat::kEnvelope: envelope::AppendRecord(batch, r, &buf_); break;
      case OutputFormat::kValue:
        buf_.append(r.value.view());
        buf_.push_back('\n');
        break;
      case OutputFormat::kCloudEvents: cloudevents::AppendRecord(batch, r, &buf_); break;
      case OutputFormat::kTemplate: tmpl_->Append(batch, r, &buf_); break;
    }
    if (buf_.size() >= (1 << 20)) {
      EVT_RETURN_IF_ERROR(out_->Append(buf_));
      buf_.clear();
    }
  }
  records_ += end - begin;
  return out_->Append(buf_);
}

Status TextSink::Sync() {
  EVT_RETURN_IF_ERROR(Flush());
  return out_->Sync();
}

Status TextSink::Flush() { return out_->Flush(); }

Status TextSink::Commit(SinkPosition* at) {
  *at = SinkPosition{};
  if (!out_->is_named_file()) return Flush();
  EVT_RETURN_IF_ERROR(Sync());
  at->size = static_cast<int64_t>(out_->size());
  return Status::OK();
}

Status TextSink::Rewind(const SinkPosition& at, std::string_view provenance_id, RewindResult* r) {
  (void)provenance_id;
  *r = RewindResult{};
  if (!out_->is_named_file() || at.size < 0 || static_cast<uint64_t>(at.size) >= out_->size()) return Status::OK();
  return out_->Truncate(static_cast<uint64_t>(at.size));
}

bool TextSink::rewinds_exactly() const { return out_->is_named_file(); }

Status TextSink::Close() {
  Status s = out_->Close();
  closed_ = s.ok();
  return s;
}

}  // namespace evt
