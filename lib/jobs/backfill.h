// `evt backfill SRC --exec CMD | --pipe CMD`: hand each selected record to a program,
// in parallel, with per-key ordering, retries, dead letters and checkpoints.
//
//   --exec CMD  runs `/bin/sh -c CMD` once per record: the record on stdin (the envelope
//               JSON line, or the raw value with --input value), EVT_TOPIC, EVT_PARTITION,
//               EVT_OFFSET, EVT_KEY (or EVT_KEY_BASE64 for keys that are not UTF-8) and
//               EVT_ATTEMPT in its environment; exit status 0 = done.
//   --pipe CMD  starts long-lived workers that read envelope JSON Lines on stdin and answer
//               one line per record, in order: `ok`, `retry <reason>` or `fail <reason>`.
//               Several records are in flight per worker (pipelined writes).
//
// Records of one key are processed in order and never two at once: a key's records go to
// the worker that has that key in flight, and a worker does not send a record while an
// earlier record of its key is unanswered or waiting for a retry. Failures are retried
// with exponential backoff and jitter; after the last retry (or on `fail`) the record goes
// to the dead-letter destination with Kafka Connect's error headers, or, without one, the
// run stops (exit 1) with a checkpoint before the record.
//
// The checkpoint holds, per source partition, the lowest offset not yet acknowledged (a
// dead letter counts once it is written and flushed): after kill -9 and a rerun, every
// selected record has been handed to a worker and acknowledged at least once.
#pragma once
#include <cstdint>
#include <string>

#include <vector>

#include "lib/base/term.h"
#include "lib/kafka/client.h"
#include "lib/pipeline/progress.h"
#include "lib/log/segment_writer.h"
#include "lib/pipeline/selection.h"

namespace evt {

struct BackfillOptions {
  SelectionOptions sel;
  std::string exec_cmd;  // one of exec_cmd / pipe_cmd
  std::string pipe_cmd;
  bool input_value = false;  // --exec: the raw value on stdin instead of the envelope line
  int workers = 1;
  int retries = 3;
  int64_t backoff_min_ms = 100;
  int64_t backoff_max_ms = 30000;
  std::string dead_letter;  // a JSON Lines file, a segment directory or kafka://HOST/TOPIC
  int64_t max_failures = -1;
  int64_t drain_timeout_ms = 30000;
  size_t pipeline_depth = 64;  // records in flight per --pipe worker
  bool dry_run = false;
  std::string checkpoint;
  int64_t checkpoint_interval_ms = 1000;
  std::string identity;
  Progress* progress = nullptr;  // figures for a progress line (cmd/ gives one on a terminal)
  StopToken stop;                // Ctrl-C: stop cleanly, checkpoint what reached the destination
  kafka::KafkaWriteOptions dlq_kafka;
  WriterOptions dlq_writer;
  // --group G (lib/jobs/group_run.h): work on the partitions the group assigns, follow the
  // run's frozen plan (stored in the commit metadata), commit progress as the checkpoint,
  // end when every partition of the plan is committed at its end. --new-run: a new plan.
  std::string group;
  bool new_run = false;
};

struct BackfillStats {
  uint64_t scanned = 0, selected = 0, handed = 0, ok = 0, attempts = 0, retried = 0, dead_lettered = 0;
  uint64_t worker_restarts = 0, missing_time_field = 0;
  double seconds = 0;
  bool resumed = false, already_complete = false;
  std::string run_id;  // --group: the plan followed
  std::string first_failure;  // topic/partition@offset: reason
  std::vector<PartitionPlan> plan;  // --dry-run: what would be handed out
};

Status RunBackfill(const BackfillOptions& o, Reporter* reporter, BackfillStats* stats);
std::string BackfillStatsJson(const BackfillStats& s);
// "100ms..30s" -> (100, 30000)
Status ParseBackoff(const std::string& s, int64_t* min_ms, int64_t* max_ms);

}  // namespace evt
