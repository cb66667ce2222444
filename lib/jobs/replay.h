// `evt replay SRC DST`: moves a chosen slice of history to a Kafka topic, a segment
// directory, a JSON Lines file or stdout, paced, checkpointed and safe to kill.
//
// What it reads is a Selection (lib/pipeline/selection.h, shared with `evt backfill`); where it
// writes is any Sink (lib/pipeline/sink.h).
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
#include <string>
#include <vector>

#include "lib/base/term.h"
#include "lib/kafka/client.h"
#include "lib/pipeline/encode.h"
#include "lib/pipeline/progress.h"
#include "lib/log/segment_writer.h"
#include "lib/pipeline/selection.h"

namespace evt {

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
  Progress* progress = nullptr;  // figures for a progress line (cmd/ gives one on a terminal)
  StopToken stop;                // Ctrl-C: stop cleanly, checkpoint what reached the destination
  WriterOptions writer;  // segment destinations
  kafka::KafkaWriteOptions kafka_write;
  int64_t checkpoint_interval_ms = 1000;
  // --group G (lib/jobs/group_run.h, as for evt backfill): the partitions the group assigns,
  // the run's frozen plan from the commit metadata, progress committed once the destination
  // acknowledged it. --new-run: a new plan.
  std::string group;
  bool new_run = false;
  EncodeOptions encode;  // --encode: decoded values back to bytes, on the records sent
};

struct ReplayStats {
  uint64_t scanned = 0, selected = 0, written = 0, skipped_dedupe = 0, missing_time_field = 0;
  int64_t first_ts = -1, last_ts = -1;
  uint64_t bytes = 0;  // keys + values
  double seconds = 0;
  double max_lag_ms = 0;  // furthest behind the pacing schedule
  bool resumed = false, already_complete = false;
  std::string replay_id;
  std::vector<PartitionPlan> plan;  // --dry-run: what would be sent
};

Status RunReplay(const ReplayOptions& o, Reporter* reporter, ReplayStats* stats);
std::string ReplayStatsJson(const ReplayStats& s);

}  // namespace evt
