// The selected records of a job's sources (shared by `evt replay` and `evt backfill`):
// --from/--until as for `evt cat`, or with --time-field the event time read from each
// value (a filter over the scanned range), --where, --keys FILE, --partitions; the selected
// records' headers pass through --keep-header/--drop-header (lib/pipeline/headers.h). Resumable
// from the positions a checkpoint (lib/pipeline/checkpoint.h) kept.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "lib/base/term.h"
#include "lib/pipeline/checkpoint.h"
#include "lib/pipeline/decode.h"
#include "lib/pipeline/headers.h"
#include "lib/kafka/client.h"
#include "lib/pipeline/read.h"
#include "lib/log/segment.h"
#include "lib/base/source.h"
#include "lib/pipeline/where.h"

namespace evt {

// --keys FILE: one key per line (a trailing \r is dropped, empty lines are ignored).
struct KeySet {
  std::unordered_set<std::string> keys;
  std::string hash;  // of the file's content: part of a job's identity
};
Result<std::shared_ptr<const KeySet>> ReadKeysFile(const std::string& path);

// What to read (the SourceSpec: paths, --from/--until, --merge, --where, Kafka client
// settings, --partitions) and which records of it.
struct SelectionOptions : SourceSpec {
  std::string time_field;            // --time-field: event time from the value (dotted path)
  int64_t event_from = INT64_MIN;    // with time_field: [event_from, event_until)
  int64_t event_until = INT64_MAX;
  std::shared_ptr<const KeySet> keys;  // --keys (null: every key)
  // --keep-header/--drop-header: the headers the selected records carry on (applied after
  // --where, which sees them as read).
  HeaderFilter headers;
  // --decode/--schemas: values (and keys) decoded to JSON before --where, --keys and
  // --time-field see them, and before the job gets them (replay writes them decoded).
  // None by default: a job moves the stored bytes.
  DecodeOptions decode{DecodeMode::kNone};
  StopToken stop;  // Next() returns Interrupted once it is set
};

// The selected records of the sources, resumable from Positions.
class Selection {
 public:
  static Result<std::unique_ptr<Selection>> Open(const SelectionOptions& o, const Positions& resume,
                                                 uint64_t resume_jsonl_records, Reporter* reporter);
  ~Selection();
  // Next batch of selected records (one topic-partition per batch). Records scanned and not
  // selected still advance positions().
  Status Next(RecordBatch* out, bool* eof);
  // Positions after the records returned so far and the records skipped before them.
  const Positions& positions() const;
  // A partition this process gave up (a group's rebalance): if it comes back, its records
  // are selected again from wherever the source starts.
  void ForgetPosition(const std::string& topic, int32_t partition);
  uint64_t jsonl_records() const;  // JSON Lines sources: records consumed
  bool is_kafka() const;
  bool is_jsonl() const;
  uint64_t scanned() const;
  // Records the scan will cover, from offsets (segment sources; -1 when unknown): an upper
  // bound on what is selected, for progress ETAs.
  int64_t estimated_records() const;
  size_t partition_count() const;  // partitions read: segment sources, or a topic's --partitions (0 otherwise)
  uint64_t missing_time_field() const;  // records without a usable --time-field value
  // Event time of a record (--time-field, else its timestamp); -1 when absent.
  int64_t TimeOf(const Record& r) const;
  // Skip exactly these source records, per source partition (--dedupe on resume: the
  // records a destination already holds, RewindResult::refs). Not "every offset below the
  // highest": a batch that failed before acknowledged ones leaves a gap to send again.
  void SkipExactly(const std::map<std::pair<std::string, int32_t>, std::vector<int64_t>>& refs);

 private:
  Selection() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The dry-run plan of one source partition.
struct PartitionPlan {
  std::string topic;
  int32_t partition = -1;
  int64_t first_offset = -1, last_offset = -1, first_timestamp = -1, last_timestamp = -1;
  uint64_t records = 0, bytes = 0;  // bytes of keys and values
};
// Reads the whole selection into a plan, one entry per source partition.
Status PlanSelection(Selection* s, std::vector<PartitionPlan>* plan, uint64_t* selected);
// The plan as JSON Lines, one line per partition: topic, partition, first_offset,
// last_offset, records, exact, first_timestamp, last_timestamp, bytes.
std::string PlanJson(const std::vector<PartitionPlan>& plan);

}  // namespace evt
