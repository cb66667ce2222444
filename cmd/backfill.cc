// evt backfill SRC... --exec CMD | --pipe CMD: hand each selected record to a program, in
// parallel with per-key order, retries, dead letters and checkpoints.
#include <fmt/format.h>

#include "cmd/common.h"
#include "cmd/selection.h"
#include "lib/jobs/backfill.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"

namespace evt::cmd {

RunFn SetupBackfill(CLI::App* app) {
  struct Flags {
    std::vector<std::string> sources;
    SelectionFlags sel;
    std::string exec, pipe, input = "envelope", backoff = "100ms..30s", dead_letter, drain_timeout = "30s",
                            checkpoint, checkpoint_interval = "1s", stats_json;
    int workers = 1, retries = 3;
    int64_t max_failures = -1;
    size_t depth = 64;
    bool dry_run = false, create_topic = false;
    std::string group, instance_id;
    bool new_run = false, status = false, json = false;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("SRC", f->sources, "Segment files/directories, kafka://HOST/TOPIC, or JSON Lines files")->required();
  AddSelectionFlags(app, &f->sel);
  app->add_option("--exec", f->exec,
                  "Run `sh -c CMD` once per record: the record on stdin, EVT_TOPIC EVT_PARTITION EVT_OFFSET EVT_KEY "
                  "(EVT_KEY_BASE64) EVT_ATTEMPT set; exit 0 = done");
  app->add_option("--pipe", f->pipe,
                  "Start long-lived `sh -c CMD` workers: envelope JSON Lines in, one answer per record out (ok, "
                  "retry REASON, fail REASON)");
  app->add_option("--input", f->input, "--exec stdin: envelope (default: the JSON line) or value (the raw value)")
      ->check(CLI::IsMember({"envelope", "value"}));
  app->add_option("--workers", f->workers, "Workers in parallel (default 1)")->check(Between(1, 4096));
  app->add_option("--pipeline", f->depth, "--pipe: records in flight per worker (default 64)")
      ->check(Between(1, 1 << 20));
  app->add_option("--retries", f->retries, "Retries of a failed record (default 3)")->check(Between(0, 1000000));
  app->add_option("--backoff", f->backoff, "Exponential backoff with jitter between retries: MIN..MAX (default 100ms..30s)");
  app->add_option("--dead-letter", f->dead_letter,
                  "Where records go after the last retry (JSON Lines file, segment directory or kafka://HOST/TOPIC); "
                  "without it a final failure stops the run");
  AddCreateTopicFlag(app, &f->create_topic);
  app->add_option("--max-failures", f->max_failures, "Stop after N dead letters")->check(AtLeast(0));
  app->add_option("--drain-timeout", f->drain_timeout,
                  "On Ctrl-C or a stopping failure: how long to wait for records in flight (default 30s)");
  app->add_flag("--dry-run", f->dry_run, "Print the plan (per partition: offsets, records, times, bytes) and run nothing");
  app->add_option("--checkpoint", f->checkpoint,
                  "Record the lowest unacknowledged offset per partition in FILE and resume from it");
  app->add_option("--checkpoint-interval", f->checkpoint_interval, "How often to write the checkpoint (default 1s)");
  app->add_option("--stats-json", f->stats_json, "Write the run's figures as JSON to FILE");
  app->add_option("--group", f->group,
                  "Share the run with every evt backfill --group G on the same topic: work on the partitions the "
                  "consumer group assigns (up to one process per partition), follow the run's frozen plan kept in "
                  "the group's commit metadata, commit progress there; all exit 0 when the plan is done");
  app->add_flag("--new-run", f->new_run, "--group: start a new plan (start and end offsets) instead of following the stored one");
  app->add_option("--instance-id", f->instance_id,
                  "--group: static membership (group.instance.id): a restarted process gets its partitions back "
                  "without a rebalance");
  app->add_flag("--status", f->status,
                "--group: print the run's progress per partition (start, committed, end, remaining, ETA) and exit");
  app->add_flag("--json", f->json, "--status: one JSON object per partition instead of a table");
  return [f]() {
    if (PrintPropertyListIfAsked(f->sel.kafka)) return kExitOk;
    if (f->status) return GroupStatusCommand("backfill", f->sel, f->sources, f->group, f->json);
    if (f->json) return Finish(Status::InvalidArgument("--json is for --status"));
    if (f->group.empty() && (f->new_run || !f->instance_id.empty()))
      return Finish(Status::InvalidArgument("--new-run and --instance-id are for --group"));
    BackfillOptions o;
    std::string sel_identity;
    Status s = ResolveSelection(f->sel, f->sources, &o.sel, &sel_identity);
    if (!s.ok()) return Finish(s);
    if (!f->instance_id.empty()) o.sel.kafka.props.push_back({"group.instance.id", f->instance_id});
    o.exec_cmd = f->exec;
    o.pipe_cmd = f->pipe;
    if (o.exec_cmd.empty() == o.pipe_cmd.empty() && !f->dry_run)
      return Finish(Status::InvalidArgument("give --exec CMD or --pipe CMD (one of them)"));
    o.input_value = f->input == "value";
    o.workers = f->workers;
    o.pipeline_depth = f->depth;
    o.retries = f->retries;
    s = ParseBackoff(f->backoff, &o.backoff_min_ms, &o.backoff_max_ms);
    if (!s.ok()) return Finish(s);
    o.dead_letter = f->dead_letter;
    o.dead_letter = WithBrokers(o.dead_letter, f->sel.kafka);
    if (Status k = CheckKafkaSinkFlags(kafka::IsKafkaUrl(o.dead_letter), f->create_topic, 0); !k.ok()) return Finish(k);
    o.dlq_kafka.create_topic = f->create_topic;
    o.max_failures = f->max_failures;
    if (o.max_failures >= 0 && o.dead_letter.empty())
      return Finish(Status::InvalidArgument("--max-failures counts dead letters: give --dead-letter"));
    if (Status d = ParseDurationFlag("--drain-timeout", f->drain_timeout, &o.drain_timeout_ms); !d.ok()) return Finish(d);
    if (Status d = ParseDurationFlag("--checkpoint-interval", f->checkpoint_interval, &o.checkpoint_interval_ms); !d.ok())
      return Finish(d);
    o.dry_run = f->dry_run;
    o.checkpoint = f->checkpoint;
    o.group = f->group;
    o.new_run = f->new_run;
    auto progress = MakeProgress(f->dry_run);
    o.progress = progress.get();
    // The command is not part of the job's identity: a fixed command may resume the job.
    o.identity = fmt::format("backfill|{}|mode={}|input={}", sel_identity, f->exec.empty() ? "pipe" : "exec", f->input);
    StderrReporter rep;
    BackfillStats st;
    Status run = RunBackfill(o, &rep, &st);
    s = FinishSelectionJob(run, o.dry_run, st.plan, o.sel.read, rep, f->stats_json, BackfillStatsJson(st));
    if (!st.already_complete) {
      if (o.dry_run) {
        PrintSummary(fmt::format("backfill: would hand {} of {} records scanned to the workers", st.selected, st.scanned));
      } else {
        PrintSummary(fmt::format("backfill: {} records: {} ok, {} retries, {} dead letter{}, in {:.1f} s ({:.0f}/s){}",
                               st.handed, st.ok, st.retried, st.dead_lettered, st.dead_lettered == 1 ? "" : "s",
                               st.seconds, st.seconds > 0 ? st.ok / st.seconds : 0.0,
                               o.checkpoint.empty() ? "" : "; checkpoint " + o.checkpoint));
      }
    }
    return Finish(s);
  };
}

}  // namespace evt::cmd
