// evt project SRC... --into OUT: fold events by key into a read model (SQLite, JSON Lines
// or CSV), as of a time, incremental and crash-safe.
#include <fmt/format.h>

#include "cmd/common.h"
#include "cmd/selection.h"
#include "lib/base/bound.h"
#include "lib/base/file.h"
#include "lib/base/timeutil.h"
#include "lib/jobs/project.h"
#include "lib/jobs/retain.h"

namespace evt::cmd {

namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

RunFn SetupProject(CLI::App* app) {
  struct Flags {
    std::vector<std::string> sources, columns, index;
    SelectionFlags sel;
    std::string into, format, key, reduce = "last", init, rules, at, max_memory = "256M", on_error = "stop", dead_letter, pipe, exec,
                                   stats_json, snapshots, snapshot_every;
    int keep_snapshots = 0;
    bool keep_null = false, incremental = false, rebuild = false, dry_run = false, create_topic = false;
    uint64_t commit_records = 100000;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("SRC", f->sources, "Sources: segment files/directories, kafka://HOST/TOPIC, JSON Lines files")
      ->required();
  app->add_option("--into", f->into,
                  "Where the state goes: FILE.db / FILE.sqlite (SQLite), FILE.jsonl, FILE.csv, or - (JSON Lines on "
                  "stdout)")
      ->required();
  app->add_option("--format", f->format, "Output format when the name does not say: sqlite, jsonl or csv")
      ->check(CLI::IsMember({"sqlite", "jsonl", "csv"}));
  AddSelectionFlags(app, &f->sel);
  app->add_option("--key", f->key, "The state's key: an expression over the record's value (default: the record key)");
  app->add_option("--reduce", f->reduce,
                  "How a record changes its key's state (jq 1.6 reduce: `.` the state, $event the value): an "
                  "expression, or last (default), merge, count, sum(PATH), min(PATH), max(PATH)");
  app->add_option("--init", f->init, "The state of a new key (JSON; default null)");
  app->add_option("--rules", f->rules,
                  "Per-event-type logic from a JSON file: {\"type\": EXPR, \"on\": {\"TYPE\": EXPR, ...}, "
                  "\"default\": EXPR|\"ignore\"|\"error\"}");
  app->add_option("--pipe", f->pipe,
                  "Fold with a program instead: one long-lived CMD reads {\"state\":STATE,\"event\":ENVELOPE} lines "
                  "and answers each with the key's new state as one JSON line (null deletes the key)");
  app->add_option("--exec", f->exec,
                  "As --pipe, one CMD per record: the request on its stdin, the new state its stdout (non-zero exit: "
                  "that record's error)");
  app->add_flag("--keep-null", f->keep_null, "Keep keys whose state is null (by default a null state deletes the key)");
  app->add_option("--at", f->at,
                  "The state as of this time (RFC 3339, -1d, ...): records after it are skipped (record time, or the "
                  "event time with --time-field)");
  AddRepeatable(app, "--columns", &f->columns,
                "Typed columns computed from the state: name=EXPR[:text|integer|real|json], comma-separated or repeated");
  AddRepeatable(app, "--index", &f->index, "Index this --columns column (SQLite)");
  app->add_flag("--incremental", f->incremental,
                "Continue an existing SQLite output from the positions it records (built in full when absent)");
  app->add_flag("--rebuild", f->rebuild, "With --incremental: rebuild an output made by another fold definition");
  app->add_option("--max-memory", f->max_memory,
                  "Bound on the in-memory state (default 256M); beyond it the state lives in SQLite");
  app->add_option("--commit-records", f->commit_records,
                  "--incremental: records per transaction of an output continued in place (state and positions committed together; default 100000)")
      ->check(Positive());
  app->add_option("--snapshots", f->snapshots,
                  "Directory of snapshots: written with --snapshot-every; --at starts from the newest usable one");
  app->add_option("--snapshot-every", f->snapshot_every,
                  "While folding, snapshot the whole state every N records or every DURATION (e.g. 100000, 30s)");
  app->add_option("--keep-snapshots", f->keep_snapshots, "Keep only the newest N snapshots (default: all)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--on-error", f->on_error,
                  "A record whose expression fails: stop (default, exit 1), skip (counted, exit 1 at the end) or "
                  "dead-letter (written to --dead-letter with the error in its headers, exit 1 at the end)")
      ->check(CLI::IsMember({"stop", "skip", "dead-letter"}));
  app->add_option("--dead-letter", f->dead_letter,
                  "With --on-error dead-letter (implied): where failed records go (JSON Lines file, segment directory "
                  "or kafka://HOST/TOPIC)");
  AddCreateTopicFlag(app, &f->create_topic);
  app->add_flag("--dry-run", f->dry_run,
                "Print the plan (per partition: offsets, records, times, bytes; JSON Lines) and write nothing");
  app->add_option("--stats-json", f->stats_json, "Write the run's figures as JSON to FILE");
  return [f, app]() {
    if (PrintPropertyListIfAsked(f->sel.kafka)) return kExitOk;
    ProjectOptions o;
    std::string sel_identity;
    Status s = ResolveSelection(f->sel, f->sources, &o.sel, &sel_identity);
    if (!s.ok()) return Finish(s);
    o.out = f->into;
    if (!f->format.empty()) {
      o.format = f->format == "sqlite" ? ProjectFormat::kSqlite : f->format == "csv" ? ProjectFormat::kCsv : ProjectFormat::kJsonl;
    } else if (EndsWith(o.out, ".db") || EndsWith(o.out, ".sqlite") || EndsWith(o.out, ".sqlite3")) {
      o.format = ProjectFormat::kSqlite;
    } else if (EndsWith(o.out, ".csv")) {
      o.format = ProjectFormat::kCsv;
    } else if (EndsWith(o.out, ".jsonl") || EndsWith(o.out, ".json") || EndsWith(o.out, ".ndjson") || o.out == "-") {
      o.format = ProjectFormat::kJsonl;
    } else {
      return Finish(Status::InvalidArgument(
          fmt::format("--into {}: say the format with --format (or name it .db, .sqlite, .jsonl or .csv)", o.out)));
    }
    o.key_expr = f->key;
    if (!f->pipe.empty() || !f->exec.empty()) {
      int n = (app->count("--reduce") > 0) + !f->rules.empty() + !f->pipe.empty() + !f->exec.empty();
      if (n > 1) return Finish(Status::InvalidArgument("--reduce, --rules, --pipe and --exec: choose one"));
      o.pipe_cmd = f->pipe;
      o.exec_cmd = f->exec;
      o.reduce_expr = ".";  // not used
    } else if (!f->rules.empty()) {
      if (app->count("--reduce") > 0) return Finish(Status::InvalidArgument("--rules and --reduce: choose one"));
      auto text = ReadFileToString(f->rules);
      if (!text.ok()) return Finish(text.status());
      auto e = RulesExpression(*text);
      if (!e.ok()) return Finish(e.status());
      o.reduce_expr = *e;
    } else {
      o.reduce_expr = ExpandReduce(f->reduce);
    }
    o.init_json = f->init;
    o.keep_null = f->keep_null;
    o.strict = f->sel.read.strict;  // --strict (AddWhereFlags): also for --key, --reduce
    for (const auto& c : f->columns)
      if (Status cs = ParseColumns(c, &o.columns); !cs.ok()) return Finish(cs);
    o.index = f->index;
    o.incremental = f->incremental;
    o.rebuild = f->rebuild;
    if (f->rebuild && !f->incremental) return Finish(Status::InvalidArgument("--rebuild goes with --incremental"));
    o.dry_run = f->dry_run;
    if (!f->at.empty()) {
      auto b = ParseBound(f->at, NowMs());
      if (!b.ok() || b->kind != Bound::kTime)
        return Finish(Status::InvalidArgument(fmt::format("--at: '{}' is not a time (RFC 3339 or -DURATION)", f->at)));
      o.at_ms = b->value;
    }
    auto mm = ParseByteSize(f->max_memory);
    if (!mm.ok()) return Finish(Status::InvalidArgument("--max-memory: " + mm.status().message()));
    o.max_memory = *mm;
    o.commit_records = f->commit_records;
    if (!f->dead_letter.empty() && app->count("--on-error") == 0) f->on_error = "dead-letter";
    o.on_error = f->on_error == "skip"          ? ProjectOnError::kSkip
                 : f->on_error == "dead-letter" ? ProjectOnError::kDeadLetter
                                                : ProjectOnError::kStop;
    if (o.on_error == ProjectOnError::kDeadLetter && f->dead_letter.empty())
      return Finish(Status::InvalidArgument("--on-error dead-letter: give --dead-letter DST"));
    if (o.on_error != ProjectOnError::kDeadLetter && !f->dead_letter.empty())
      return Finish(Status::InvalidArgument(fmt::format("--dead-letter goes with --on-error dead-letter, not {}", f->on_error)));
    o.dead_letter = WithBrokers(f->dead_letter, f->sel.kafka);
    if (Status k = CheckKafkaSinkFlags(kafka::IsKafkaUrl(o.dead_letter), f->create_topic, 0); !k.ok()) return Finish(k);
    o.dlq_kafka.create_topic = f->create_topic;
    o.snapshots = f->snapshots;
    o.keep_snapshots = f->keep_snapshots;
    if (!f->snapshot_every.empty()) {
      const std::string& e = f->snapshot_every;
      if (e.find_first_not_of("0123456789") == std::string::npos) {
        o.snapshot_every_records = std::stoull(e);
        if (o.snapshot_every_records == 0) return Finish(Status::InvalidArgument("--snapshot-every: give N > 0 or a duration"));
      } else if (Status d = ParseDurationFlag("--snapshot-every", e, &o.snapshot_every_ms, true); !d.ok()) {
        return Finish(d);
      }
    }
    // What defines the state: a different definition is refused by --incremental.
    std::string cols;
    for (const auto& c : o.columns) cols += fmt::format("{}={}:{};", c.name, c.expr, c.type);
    o.definition = fmt::format("key={}|reduce={}|init={}|keep-null={}|strict={}|columns={}|where={}|time-field={}|keys={}|partitions={}|merge={}",
                               o.key_expr,
                               !o.pipe_cmd.empty() ? "pipe:" + o.pipe_cmd
                               : !o.exec_cmd.empty() ? "exec:" + o.exec_cmd
                                                     : o.reduce_expr, o.init_json, o.keep_null, o.strict, cols,
                               fmt::join(f->sel.read.where, "\x1f"), f->sel.time_field,
                               o.sel.keys ? o.sel.keys->hash : "", f->sel.partitions, o.sel.merge_time);
    auto progress = MakeProgress(f->dry_run);
    o.progress = progress.get();
    StderrReporter rep;
    ProjectStats st;
    Status run = RunProject(o, &rep, &st);
    if (st.cross_partition > 0)
      PrintWarning(fmt::format("{} record{} changed a key last changed in another partition (e.g. {}): the order "
                               "across partitions is undefined; use --merge time or --partitions",
                               st.cross_partition, st.cross_partition == 1 ? "" : "s", st.first_cross_partition));
    s = FinishSelectionJob(run, o.dry_run, st.plan, o.sel.read, rep, f->stats_json, ProjectStatsJson(st));
    if (s.ok() || s.code() == Code::kInterrupted || s.code() == Code::kDataProblem) {
      std::string extra;
      if (st.after_at) extra += fmt::format(", {} after --at", st.after_at);
      if (st.no_key) extra += fmt::format(", {} without a key", st.no_key);
      if (st.dead_lettered) extra += fmt::format(", {} sent to {}", st.dead_lettered, o.dead_letter);
      else if (st.errors) extra += fmt::format(", {} skipped by --on-error", st.errors);
      if (o.dry_run) {
        PrintSummary(fmt::format("project: would fold {} of {} records scanned", st.selected, st.scanned));
      } else if (run.ok() || (run.code() == Code::kDataProblem && st.errors > 0) ||
                 (run.code() == Code::kInterrupted && o.incremental)) {
        PrintSummary(fmt::format("project: {} {} records into {} keys in {} in {:.1f} s ({} scanned{}{}{})",
                                 run.code() == Code::kInterrupted ? "interrupted after folding" : "folded", st.folded,
                                 st.keys, o.out == "-" ? "stdout" : o.out, st.seconds, st.scanned, extra,
                                 st.resumed ? "; continued from the recorded positions" : "",
                                 st.from_snapshot.empty() ? "" : "; started from " + st.from_snapshot));
      if (st.snapshots_written)
        PrintSummary(fmt::format("project: wrote {} snapshot{} to {}", st.snapshots_written,
                                 st.snapshots_written == 1 ? "" : "s", o.snapshots));
      }
    }
    return Finish(s);
  };
}

}  // namespace evt::cmd
