// evt compact DIR...: Kafka's log cleaner (keep the latest record per key) for segment
// directories, offline and crash-safe.
#include <fmt/format.h>

#include "cmd/common.h"
#include "formats/kafka/compression.h"
#include "lib/base/timeutil.h"
#include "lib/jobs/compact.h"
#include "lib/jobs/retain.h"

namespace evt::cmd {

RunFn SetupCompact(CLI::App* app) {
  struct Flags {
    std::vector<std::string> dirs;
    std::string min_lag, delete_retention = "24h", now, null_keys = "error", segment_bytes = "1G",
                                  compression = "keep", max_memory = "256M", stats_json;
    int level = -1;
    double min_ratio = 0.5;
    bool include_active = false, force = false, dry_run = false, wait = false;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("DIR", f->dirs, "Partition directories, topic or broker data directories")->required();
  app->add_flag("--include-active", f->include_active, "Also compact the active (newest) segment");
  app->add_option("--min-compaction-lag", f->min_lag,
                  "Leave segments holding records newer than this alone (e.g. 1h), like min.compaction.lag.ms");
  app->add_option("--delete-retention", f->delete_retention,
                  "How long tombstones stay after the first compaction that keeps them (default 24h), like "
                  "delete.retention.ms");
  app->add_option("--now", f->now, "The time to apply horizons and lags against (RFC 3339; default: the clock)");
  app->add_option("--null-keys", f->null_keys,
                  "Records with a null key: error (default: stop and say how many), keep, drop (Kafka's cleaner "
                  "drops them)")
      ->check(CLI::IsMember({"error", "keep", "drop"}));
  app->add_option("--min-cleanable-ratio", f->min_ratio,
                  "Skip partitions whose dirty part is a smaller share of the log than this (default 0.5)")
      ->check(Between(0.0, 1.0));
  app->add_flag("--force", f->force, "Compact even below --min-cleanable-ratio");
  app->add_option("--segment-bytes", f->segment_bytes,
                  "Largest cleaned segment: source segments are grouped up to this size (default 1G)");
  app->add_option("--compression", f->compression,
                  "Codec of rebuilt batches: keep (default: each batch's own), none, gzip, snappy, lz4, zstd")
      ->check(CLI::IsMember({"keep", "none", "gzip", "snappy", "lz4", "zstd"}));
  app->add_option("--compression-level", f->level, "Codec level (default: the codec's own)");
  app->add_option("--max-memory", f->max_memory,
                  "Bound on the key map (default 256M); more distinct keys are cleaned in several passes");
  app->add_flag("--dry-run", f->dry_run, "Print what compaction would do (JSON Lines on stdout) and change nothing");
  app->add_flag("--wait", f->wait, "Wait for another evt process holding a partition lock");
  app->add_option("--stats-json", f->stats_json, "Write per-partition results as JSON Lines to FILE");
  return [f]() {
    CompactOptions o;
    o.paths = f->dirs;
    o.include_active = f->include_active;
    o.force = f->force;
    o.dry_run = f->dry_run;
    o.wait_for_lock = f->wait;
    o.min_cleanable_ratio = f->min_ratio;
    o.null_keys = f->null_keys == "keep" ? NullKeyPolicy::kKeep
                  : f->null_keys == "drop" ? NullKeyPolicy::kDrop
                                           : NullKeyPolicy::kError;
    if (!f->min_lag.empty()) {
      Status s = ParseDurationFlag("--min-compaction-lag", f->min_lag, &o.min_compaction_lag_ms);
      if (!s.ok()) return Finish(s);
    }
    Status ds = ParseDurationFlag("--delete-retention", f->delete_retention, &o.delete_retention_ms);
    if (!ds.ok()) return Finish(ds);
    if (!f->now.empty()) {
      auto t = ParseRfc3339(f->now);
      if (!t.ok()) return Finish(Status::InvalidArgument(fmt::format("--now: bad time '{}'", f->now)));
      o.now_ms = *t;
    }
    for (auto [flag, text, dst] : {std::tuple<const char*, std::string*, uint64_t*>{"--segment-bytes", &f->segment_bytes, &o.segment_bytes},
                                   {"--max-memory", &f->max_memory, &o.max_memory}}) {
      auto b = ParseByteSize(*text);
      if (!b.ok()) return Finish(Status::InvalidArgument(fmt::format("{}: {}", flag, b.status().message())));
      *dst = static_cast<uint64_t>(*b);
    }
    if (f->compression != "keep") o.codec = *kafka::ParseCodec(f->compression);
    o.level = f->level;
    StderrReporter rep;
    std::vector<CompactPartition> parts;
    Status s = RunCompact(o, &rep, &parts);
    s = WriteResults(o.dry_run, f->stats_json, CompactJson(parts, o.dry_run), s);
    if (s.ok()) PrintSummary(CompactSummary(parts, o.dry_run));
    return Finish(s);
  };
}

}  // namespace evt::cmd
