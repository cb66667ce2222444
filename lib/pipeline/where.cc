#include "lib/pipeline/where.h"

#include <fmt/format.h>

namespace evt {

Result<std::unique_ptr<WhereSource>> WhereSource::Create(std::unique_ptr<Source> inner, const WhereOptions& opts,
                                                         Reporter* reporter) {
  auto f = filter::Filter::Compile(opts.exprs, filter::Mode::kRecord);
  if (!f.ok()) return Status::InvalidArgument("--where: " + f.status().message());
  std::unique_ptr<WhereSource> w(new WhereSource());
  w->inner_ = std::move(inner);
  w->eval_ = std::make_unique<filter::Evaluator>(*f);
  w->opts_ = opts;
  w->reporter_ = reporter;
  return w;
}

void WhereSource::ReportSummary() {
  if (reported_) return;
  reported_ = true;
  if (errors_ > 0 && reporter_)
    reporter_->Notice(fmt::format("--where: {} record{} not selected because evaluation raised an error (first: {})",
                                  errors_, errors_ == 1 ? " was" : "s were", first_error_));
}

Status WhereSource::Next(RecordBatch* out, bool* eof) {
  while (true) {
    Status s = inner_->Next(out, eof);
    // An empty batch (a source that gives control back while it waits: evt backfill
    // --group) is passed on as it is.
    if (s.ok() && !*eof && out->records.empty() && out->batches.empty()) return s;
    // Filter what was decoded even when an error follows: those records are still output.
    size_t w = 0;
    for (size_t i = 0; i < out->records.size(); ++i) {
      const Record& r = out->records[i];
      ++evaluated_;
      filter::Match m = eval_->Record(*out, r, opts_.strict);
      if (m == filter::Match::kInvalid) {
        out->records.resize(w);
        std::string where = out->file.empty() ? fmt::format("{}/{}@{}", out->topic, out->partition, r.offset)
                                              : fmt::format("{}@{} (offset {})", out->file, r.source_pos, r.offset);
        ReportSummary();
        return Status::DataProblem(fmt::format("{}: --strict: {}", where, eval_->error()));
      }
      if (m == filter::Match::kError) {
        if (errors_++ == 0)
          first_error_ = fmt::format("{}/{}@{}: {}", out->topic, r.partition >= 0 ? r.partition : out->partition,
                                     r.offset, eval_->error());
        continue;
      }
      if (m == filter::Match::kYes) out->records[w++] = r;
    }
    out->records.resize(w);
    if (!s.ok()) {
      ReportSummary();
      return s;
    }
    if (*eof) {
      ReportSummary();
      return s;
    }
    if (!out->records.empty() || !out->batches.empty()) return s;
  }
}

Result<std::unique_ptr<Source>> MaybeWhere(std::unique_ptr<Source> src, const WhereOptions& opts, Reporter* reporter) {
  if (opts.exprs.empty()) return src;
  auto w = WhereSource::Create(std::move(src), opts, reporter);
  if (!w.ok()) return w.status();
  return std::unique_ptr<Source>(std::move(*w));
}

}  // namespace evt
