// Source and Sink: every subcommand is a pipeline from one to the other.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// Where each source partition stands: (topic, partition) -> next offset to read. A
// checkpoint keeps it; a resumed run starts there.
using Positions = std::map<std::pair<std::string, int32_t>, int64_t>;
// Reads "<topic>/<partition>/<offset>" (the evt.source header replay --provenance adds).
bool ParseSourceRef(std::string_view s, std::string* topic, int32_t* partition, int64_t* offset);

// Where a destination ends: what a checkpoint keeps of it, so that a resumed run can go
// back to it (Sink::Rewind).
struct SinkPosition {
  // Segment destinations: partition directory -> next offset; Kafka: partition ("0", "1",
  // ...) -> high watermark.
  std::map<std::string, int64_t> ends;
  int64_t size = -1;  // a JSON Lines file: its size in bytes (-1: none)
};

// What a destination found when it went back to a checkpoint's position.
struct RewindResult {
  uint64_t removed = 0;  // files and segment directories: records cut after the position
  // Kafka with a provenance id: per source partition, the highest source offset whose
  // record (evt.source header, same evt.replay.id) is already past the position.
  Positions already_there;
  uint64_t found = 0;  // how many such records
  // Each such record's source reference, exactly (a redrive's records of one source
  // partition need not arrive in order: they go to many destination partitions).
  std::map<std::pair<std::string, int32_t>, std::vector<int64_t>> refs;
};

// A destination's end state, for summaries: records handed to it and records it holds
// for sure (written and closed, or acknowledged by Kafka).
struct SinkEnd {
  uint64_t written = 0;
  uint64_t acknowledged = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Write(const RecordBatch& batch) = 0;
  // Hands buffered records on (to the kernel, to the broker); not necessarily durable.
  virtual Status Flush() = 0;
  // Makes everything written so far durable (fsynced files and segment directories; Kafka:
  // every delivery acknowledged, a DataProblem naming how many were not) and says where
  // the destination ends: what a checkpoint records. The wait is bounded by the sink's own
  // timeout, also after Ctrl-C, so that a job stopped by the user still checkpoints what
  // reached the destination.
  virtual Status Commit(SinkPosition* at) {
    *at = SinkPosition{};
    return Flush();
  }
  // Resuming from a checkpoint, before the first Write: goes back to `at` (Commit's answer
  // when the checkpoint was written). Files and segment directories cut what was written
  // after it (exactly once); Kafka cannot, and with a non-empty `provenance_id` reads each
  // partition past it for records a run with that id already delivered (--dedupe).
  virtual Status Rewind(const SinkPosition& at, std::string_view provenance_id, RewindResult* r) {
    (void)at;
    (void)provenance_id;
    *r = RewindResult{};
    return Status::OK();
  }
  // True when Rewind restores the destination exactly (files, segment directories).
  virtual bool rewinds_exactly() const { return false; }
  virtual SinkEnd End() const = 0;
  // Flush and release. Must be called; a sink destroyed without Close() abandons work.
  virtual Status Close() = 0;
};

}  // namespace evt
