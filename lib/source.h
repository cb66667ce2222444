// Source and Sink: every subcommand is a pipeline from one to the other.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "lib/base/status.h"
#include "lib/base/record.h"

namespace evt {

// Receives problems found while reading. The caller decides whether to stop, skip or count.
class Reporter {
 public:
  virtual ~Reporter() = default;
  // Corrupt data at file@pos; `dropped` bytes could not be decoded.
  virtual void Corruption(std::string_view where, uint64_t pos, uint64_t dropped, std::string_view reason) = 0;
  // Something worth saying that is not an error (a torn tail, an interrupted compaction).
  virtual void Warning(std::string_view where, uint64_t pos, std::string_view what) = 0;
  // A summary worth saying that has no position (e.g. how many records a filter skipped).
  virtual void Notice(std::string_view what) { (void)what; }
};

// A reporter that keeps counts and the first error, for tests and library callers.
class CountingReporter : public Reporter {
 public:
  void Corruption(std::string_view where, uint64_t pos, uint64_t dropped, std::string_view reason) override;
  void Warning(std::string_view where, uint64_t pos, std::string_view what) override;
  int corruptions = 0;
  int warnings = 0;
  std::string first_error;
  std::string first_warning;
};

class Source {
 public:
  virtual ~Source() = default;
  // Fills `out` (after clearing it) with the next group of records. Sets *eof and returns
  // OK with an empty batch at the end. A data error is returned as Corruption with location.
  virtual Status Next(RecordBatch* out, bool* eof) = 0;
  // Human-readable name for messages.
  virtual std::string Describe() const = 0;
  // Consumption tracking (Kafka consumer groups). When wants_ack(), the drain loop flushes
  // the sink after each batch and calls Ack: `upto` null means every record Next() has
  // returned so far reached the sink; otherwise the records of the last batch up to and
  // including *upto did (a limit cut the batch).
  virtual bool wants_ack() const { return false; }
  virtual Status Ack(const Record* upto) {
    (void)upto;
    return Status::OK();
  }
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Write(const RecordBatch& batch) = 0;
  // Make everything written so far durable (or delivered).
  virtual Status Flush() = 0;
  // Flush and release. Must be called; a sink destroyed without Close() abandons work.
  virtual Status Close() = 0;
};

}  // namespace evt
