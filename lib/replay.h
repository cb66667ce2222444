// `evt replay SRC DST`: moves a chosen slice of history to a Kafka topic, a segment
// directory, a JSON Lines file or stdout, paced, checkpointed and safe to kill.
//
// Selection (shared with `evt backfill`): --from/--until as for `evt cat`, or with
// --time-field the event time read from each value (a filter over the scanned range),
// --where, --keys FILE, --partitions; the selected records' headers pass through
// --keep-header/--drop-header (lib/headers.h).
//
// Checkpoint (--checkpoint FILE): per source partition the next offset to read (for JSON
// Lines sources, the number of records consumed), and for file and segment-directory
// destinations the destination's size or end offsets, written atomically only after the
// destination made everything before it durable or acknowledged. Guarantees after kill -9
// and a rerun of the same command:
//   segment directory, JSON Lines file: every selected record exactly once, in order (the
//     rerun first truncates what was written after the checkpoint);
//   Kafka: at least once; with --dedupe (--partition keep, --provenance) exactly once: the
//     rerun reads each destination partition past its checkpointed end and skips source
//     records already there (their evt.source header names them);
//   stdout: at least once.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "lib/headers.h"
#include "lib/kafka/client.h"
#include "lib/segment.h"
#include "lib/segment_writer.h"
#include "lib/source.h"
#include "lib/where.h"

namespace evt {

// What to read and which records of it.
struct SelectionOptions {
  std::vector<std::string> sources;  // segment files/dirs, one kafka:// URL, or JSON Lines files ("-": stdin)
  ReadOptions read;                  // from/until (offsets or record time)
  bool merge_time = false;           // --merge time: interleave partitions by timestamp
  WhereOptions where;
  kafka::KafkaConfig kafka;
  kafka::KafkaReadOptions kafka_read;
  std::string time_field;            // --time-field: event time from the value (dotted path)
  int64_t event_from = INT64_MIN;    // with time_field: [event_from, event_until)
  int64_t event_until = INT64_MAX;
  std::string keys_file;             // --keys: one key per line
  std::vector<int32_t> partitions;   // --partitions (empty: all)
  // --keep-header/--drop-header: the headers the selected records carry on (applied after
  // --where, which sees them as read).
  HeaderFilter headers;
};

// Where a source partition stands: next offset to read.
using Positions = std::map<std::pair<std::string, int32_t>, int64_t>;

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
  // Skip source records at or below these offsets (--dedupe on resume).
  void SkipUpTo(const Positions& done);

 private:
  Selection() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class ReplayPartition { kKeep, kHash, kFixed };

struct ReplayOptions {
  SelectionOptions sel;
  std::string dst;  // kafka://..., "-" (stdout), *.jsonl file, or a segment directory
  std::string to_topic;
  ReplayPartition partition = ReplayPartition::kKeep;
  int32_t fixed_partition = 0;
  bool now_timestamps = false;
  bool provenance = false;
  double rate = 0;       // records/s (0: unpaced)
  double speed = 0;      // x real time (0: unpaced)
  int64_t max_gap_ms = -1;
  bool dry_run = false;
  std::string checkpoint;
  bool dedupe = false;
  std::string identity;  // flags that define the job (the checkpoint refuses others)
  bool progress = false;
  WriterOptions writer;  // segment destinations
  kafka::KafkaWriteOptions kafka_write;
  int64_t checkpoint_interval_ms = 1000;
};

struct ReplayStats {
  uint64_t scanned = 0, selected = 0, written = 0, skipped_dedupe = 0, missing_time_field = 0;
  int64_t first_ts = -1, last_ts = -1;
  uint64_t bytes = 0;  // keys + values
  double seconds = 0;
  double max_lag_ms = 0;  // furthest behind the pacing schedule
  bool resumed = false, already_complete = false;
  std::string replay_id;
};

Status RunReplay(const ReplayOptions& o, Reporter* reporter, ReplayStats* stats);
std::string ReplayStatsJson(const ReplayStats& s);

// ---- shared with backfill ----
// The dry-run plan: reads the whole selection; JSON Lines, one line per source partition
// (first/last offset, records, exact, first/last timestamp, bytes of keys and values).
Status PlanSelection(Selection* s, std::string* json, uint64_t* selected);
// Reads "<topic>/<partition>/<offset>" (an evt.source header).
bool ParseSourceRef(std::string_view s, std::string* topic, int32_t* partition, int64_t* offset);
// A checkpoint file: identity hash, replay id, positions and destination state.
struct Checkpoint {
  std::string identity;
  std::string replay_id;
  bool complete = false;
  Positions positions;
  uint64_t jsonl_records = 0;
  std::string dest_kind;                     // "segments", "jsonl", "kafka", "stdout", "exec"
  std::map<std::string, int64_t> dest_ends;  // segment dirs / kafka partitions -> end offset
  int64_t dest_size = -1;                    // jsonl file size
};
Result<Checkpoint> ReadCheckpoint(const std::string& path);  // NotFound when absent
// Resumes from `path` when it exists (refusing a checkpoint of another job: `identity` is
// the job's description, hashed) or starts a new one (a fresh replay id). *complete when
// the checkpoint says the job is done (a Notice says so). `job` names it in messages.
Status OpenCheckpoint(const std::string& path, const std::string& identity, const char* job, const char* what_differs,
                      Reporter* reporter, Checkpoint* ck, bool* resuming, bool* complete);
Status WriteCheckpoint(const std::string& path, const Checkpoint& c);
std::string IdentityHash(const std::string& identity);
std::string NewReplayId();

}  // namespace evt
