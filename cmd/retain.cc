// evt retain DIR...: delete whole old segments by age, size or position, like a broker's
// retention.ms / retention.bytes, offline and crash-safe.
#include <fmt/format.h>

#include "cmd/common.h"
#include "lib/base/timeutil.h"
#include "lib/jobs/retain.h"

namespace evt::cmd {

RunFn SetupRetain(CLI::App* app) {
  struct Flags {
    std::vector<std::string> dirs;
    std::string max_age, max_bytes, before, now, stats_json;
    bool dry_run = false;
    bool wait = false;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("DIR", f->dirs, "Partition directories, topic or broker data directories")->required();
  app->add_option("--max-age", f->max_age,
                  "Delete segments whose newest record is older than this (e.g. 7d, 12h), like retention.ms");
  app->add_option("--max-bytes", f->max_bytes,
                  "Per partition: delete the oldest segments while at least this much stays (10G; K/M/G/T are "
                  "powers of 1024), like retention.bytes");
  app->add_option("--before", f->before, "Delete segments that end before this offset or RFC 3339 time");
  app->add_option("--now", f->now, "The time to apply --max-age against (RFC 3339; default: the clock)");
  app->add_flag("--dry-run", f->dry_run, "Print what would be deleted (JSON Lines on stdout) and change nothing");
  app->add_flag("--wait", f->wait, "Wait for another evt process holding a partition lock");
  app->add_option("--stats-json", f->stats_json, "Write per-partition results as JSON Lines to FILE");
  return [f]() {
    RetainOptions o;
    o.paths = f->dirs;
    o.dry_run = f->dry_run;
    o.wait_for_lock = f->wait;
    if (!f->max_age.empty()) {
      if (Status d = ParseDurationFlag("--max-age", f->max_age, &o.max_age_ms); !d.ok()) return Finish(d);
    }
    if (!f->max_bytes.empty()) {
      auto b = ParseByteSize(f->max_bytes);
      if (!b.ok()) return Finish(Status::InvalidArgument("--max-bytes: " + b.status().message()));
      o.max_bytes = *b;
    }
    if (!f->now.empty()) {
      auto t = ParseRfc3339(f->now);
      if (!t.ok()) return Finish(Status::InvalidArgument(fmt::format("--now: bad time '{}'", f->now)));
      o.now_ms = *t;
    }
    if (!f->before.empty()) {
      auto b = ParseBound(f->before, o.now_ms >= 0 ? o.now_ms : NowMs());
      if (!b.ok() || (b->kind != Bound::kOffset && b->kind != Bound::kTime))
        return Finish(Status::InvalidArgument(fmt::format("--before: expected an offset or a time, got '{}'", f->before)));
      o.before = *b;
    }
    StderrReporter rep;
    std::vector<RetainPartition> parts;
    Status s = RunRetain(o, &rep, &parts);
    s = WriteResults(o.dry_run, f->stats_json, RetainJson(parts, o.dry_run), s);
    if (!parts.empty() || s.ok()) PrintSummary(RetainSummary(parts, o.dry_run));
    return Finish(s);
  };
}

}  // namespace evt::cmd
