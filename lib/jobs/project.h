// `evt project SRC... --into OUT`: folds the selected records by key into a state per key
// (a read model) with the filter language's jq 1.6 `reduce` semantics, into SQLite, JSON
// Lines or CSV; as of a time (--at); incremental and crash-safe for SQLite outputs.
//
// The fold: for each selected record, in log order, `key` (the record key, or --key EXPR
// over the value) names its state; the state becomes the output of --reduce EXPR with `.`
// the current state (--init, else null, for a new key) and $event the record's value. So
// a key's final state is `jq -n 'reduce inputs as $event (INIT; EXPR)'` over its records.
// A null (or empty) result deletes the key (--keep-null keeps it); a deleted key starts
// again from INIT.
//
// State lives in a write-back cache bounded by --max-memory over an SQLite file (the
// output itself, or a temporary file for JSON Lines / CSV when the state outgrows the
// cache), so the number of keys is bounded by disk, not memory.
//
// SQLite output: table state(key TEXT PRIMARY KEY, value TEXT, topic, partition, offset,
// timestamp, updates, <columns>) and evt_meta(name, value): format, evt version, the hash
// and text of the fold definition, the source positions (JSON), the newest record time.
// A full build writes `OUT.evt-tmp` and renames it over OUT at the end. --incremental
// opens OUT and continues from its positions; every commit (state changes and positions)
// is one SQLite transaction in WAL mode, so a kill at any moment loses nothing a rerun
// does not redo exactly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/term.h"
#include "lib/pipeline/progress.h"
#include "lib/pipeline/selection.h"

namespace evt {

enum class ProjectFormat { kSqlite, kJsonl, kCsv };
enum class ProjectOnError { kStop, kSkip, kDeadLetter };

// --columns name=EXPR[:type]: a column computed from the state.
struct ProjectColumn {
  std::string name, expr;
  std::string type;  // "text", "integer", "real", "json" or "" (SQLite's choice from the JSON type)
};
// Parses one --columns argument: name=EXPR[:type][,name=EXPR[:type]...] (commas inside
// brackets, parentheses and strings belong to the expression).
Status ParseColumns(const std::string& spec, std::vector<ProjectColumn>* out);

// --reduce: the named shorthands (last, merge, count, sum(PATH), min(PATH), max(PATH))
// expanded into their expressions; anything else is returned as is.
std::string ExpandReduce(const std::string& spec);
// --rules FILE's JSON, {"type": EXPR, "on": {"TYPE": EXPR, ...}, "default": EXPR |
// "ignore" | "error"}, as one reduce expression.
Result<std::string> RulesExpression(std::string_view json);

struct ProjectOptions {
  SelectionOptions sel;
  std::string out;  // file, or "-" (stdout; JSON Lines or CSV)
  ProjectFormat format = ProjectFormat::kSqlite;
  std::string key_expr;     // empty: the record key
  std::string reduce_expr;  // expanded (ExpandReduce / RulesExpression)
  // --pipe CMD / --exec CMD instead of reduce_expr: a program answers each record's new
  // state ({"state":STATE,"event":ENVELOPE} in, the state's JSON out; see project.cc).
  std::string pipe_cmd, exec_cmd;
  std::string init_json;    // empty: null
  bool keep_null = false;
  bool strict = false;      // a value that is not valid JSON is an error (else it is null)
  std::vector<ProjectColumn> columns;
  std::vector<std::string> index;  // --index: columns to index (SQLite)
  bool incremental = false, rebuild = false, dry_run = false;
  int64_t at_ms = INT64_MAX;   // --at: only records whose time (record or --time-field) is <= this
  int64_t max_memory = 256ll << 20;
  ProjectOnError on_error = ProjectOnError::kStop;
  // kDeadLetter: where a record whose --key or --reduce failed goes (lib/pipeline/
  // dead_letter: a JSON Lines file, a segment directory or kafka://HOST/TOPIC), with the
  // error in Connect's headers. Dead letters are made durable before the positions past
  // them are committed, so a kill never loses one (a rerun may write one again).
  std::string dead_letter;
  kafka::KafkaWriteOptions dlq_kafka;
  uint64_t commit_records = 100000;  // records per transaction (SQLite outputs)
  // Snapshots: every N records or every DURATION, the whole state with its positions and
  // newest record time, as DIR/snapshot-<position>.db (an SQLite copy of the state); the
  // newest `keep_snapshots` stay (0: all). With at_ms, the run starts from the newest
  // usable snapshot in the directory.
  std::string snapshots;
  uint64_t snapshot_every_records = 0;
  int64_t snapshot_every_ms = 0;
  int keep_snapshots = 0;
  std::string definition;  // what defines the fold (flags), hashed into evt_meta
  std::string temp_dir;    // JSON Lines / CSV spill file (default: next to OUT, or $TMPDIR)
  Progress* progress = nullptr;
  StopToken stop;
};

struct ProjectStats {
  uint64_t scanned = 0, selected = 0, folded = 0, after_at = 0, no_key = 0, errors = 0, keys = 0, deleted = 0;
  uint64_t dead_lettered = 0;  // of `errors`, written to --dead-letter
  uint64_t cross_partition = 0, missing_time_field = 0, commits = 0;
  int64_t first_ts = -1, last_ts = -1, newest_time = -1;
  double seconds = 0;
  bool resumed = false, spilled = false;
  uint64_t snapshots_written = 0;
  std::string first_error, first_cross_partition, from_snapshot;
  std::vector<PartitionPlan> plan;  // --dry-run
};

Status RunProject(const ProjectOptions& o, Reporter* reporter, ProjectStats* stats);
std::string ProjectStatsJson(const ProjectStats& s);

}  // namespace evt
