// --where: a Source decorator that keeps only the records a filter expression selects.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "lib/filter/filter.h"
#include "lib/base/source.h"

namespace evt {

struct WhereOptions {
  std::vector<std::string> exprs;  // ANDed
  bool strict = false;             // a value that is not valid JSON is an error (exit 1)
};

class WhereSource : public Source {
 public:
  // Compiles the expressions (InvalidArgument with a caret on syntax errors).
  static Result<std::unique_ptr<WhereSource>> Create(std::unique_ptr<Source> inner, const WhereOptions& opts,
                                                     Reporter* reporter);
  Status Next(RecordBatch* out, bool* eof) override;
  std::string Describe() const override { return inner_->Describe(); }
  bool wants_ack() const override { return inner_->wants_ack(); }
  Status Ack(const Record* upto) override { return inner_->Ack(upto); }
  uint64_t evaluated() const { return evaluated_; }
  uint64_t errors() const { return errors_; }

 private:
  WhereSource() = default;
  void ReportSummary();
  std::unique_ptr<Source> inner_;
  std::unique_ptr<filter::Evaluator> eval_;
  WhereOptions opts_;
  Reporter* reporter_ = nullptr;
  uint64_t evaluated_ = 0;
  uint64_t errors_ = 0;
  std::string first_error_;
  bool reported_ = false;
};

// Wraps `src` in a WhereSource when `opts.exprs` is not empty.
Result<std::unique_ptr<Source>> MaybeWhere(std::unique_ptr<Source> src, const WhereOptions& opts, Reporter* reporter);

}  // namespace evt
