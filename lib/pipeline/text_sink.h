// Text output of records: the JSONL envelope, raw values, CloudEvents, kcat-style templates.
#pragma once
#include <memory>
#include <string>

#include "lib/base/file.h"
#include "lib/base/source.h"

namespace evt {

namespace tmpl { class Template; }

enum class OutputFormat { kEnvelope, kValue, kCloudEvents, kTemplate };

struct TextFormat {
  OutputFormat kind = OutputFormat::kEnvelope;
  std::string template_text;  // for kTemplate
};
// Parses "envelope" | "json" | "value" | "cloudevents" | a template containing '%'.
Result<TextFormat> ParseTextFormat(const std::string& text);

class TextSink : public Sink {
 public:
  static Result<std::unique_ptr<TextSink>> Create(const TextFormat& fmt, std::unique_ptr<WritableFile> out);
  ~TextSink() override;
  Status Write(const RecordBatch& batch) override;
  // Writes records [begin, end) of a batch.
  Status WriteRange(const RecordBatch& batch, size_t begin, size_t end);
  Status Flush() override;
  Status Sync();  // Flush, then fsync (files)
  // A file opened by path: Sync, and its size. A descriptor (stdout): Flush, no position.
  Status Commit(SinkPosition* at) override;
  // A file: truncates it to the checkpoint's size.
  Status Rewind(const SinkPosition& at, std::string_view provenance_id, RewindResult* r) override;
  bool rewinds_exactly() const override;
  SinkEnd End() const override { return {records_, closed_ ? records_ : 0}; }
  Status Close() override;
  uint64_t records_written() const { return records_; }

 private:
  TextSink() = default;
  TextFormat fmt_;
  std::unique_ptr<tmpl::Template> tmpl_;
  std::unique_ptr<WritableFile> out_;
  std::string buf_;
  uint64_t records_ = 0;
  bool closed_ = false;
};

}  // namespace evt
