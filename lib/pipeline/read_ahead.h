// ReadAheadSource: decodes the next batch of a source on its own thread while the caller
// works on the current one (decompression and record decoding overlap with the sink).
//
// The inner source must keep a batch valid through one further call of its Next() (for
// segment sources: ReadOptions::hold = 2), because the thread asks for batch N+1 while the
// caller still holds batch N. Batches move between the thread and the caller by swapping
// RecordBatch objects, so no record is copied.
//
// Reports made by the inner source (torn tails, corruption skipped by a reporter) are held
// with the batch they came with and passed to the caller's reporter on the caller's thread
// when that batch is handed over, in order; the caller's reporter needs no locking.
#pragma once
#include <functional>
#include <memory>

#include "lib/base/source.h"

namespace evt {

class ReadAheadSource : public Source {
 public:
  // `make` builds the inner source with the reporter it must use (called once, here).
  ReadAheadSource(const std::function<std::unique_ptr<Source>(Reporter*)>& make, Reporter* reporter);
  ~ReadAheadSource() override;  // stops the thread (after the batch it is decoding)
  Status Next(RecordBatch* out, bool* eof) override;
  std::string Describe() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace evt
