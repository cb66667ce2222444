// `evt lag`: how far consumer groups (or an evt replay/backfill checkpoint) are behind
// the end of their partitions, in records and in time, and Burrow's evaluation of the
// trend over a window of samples (kept in a history file, or taken by --watch).
//
// The pieces are pure functions over data so that they are tested without Kafka:
//   LagStart / ComputeLag   one observation of a partition -> its lag (the --no-commit-as
//                           rule, retention, the transaction-marker rule)
//   EvaluateWindow          Burrow's status rules, rates and the drain ETA over samples
//   LagHistory              the bounded history file (the last N samples per partition)
//   LagViolations           --max-lag, --max-time-lag, --fail-on
//   LagTable/Json/...       output as text (lib never prints)
// LagMonitor runs one round against a cluster or a checkpoint's source.
#pragma once
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "lib/base/source.h"
#include "lib/base/status.h"
#include "lib/kafka/client.h"
#include "lib/kafka/groups.h"

namespace evt {

// In order of severity (a group's status is its worst partition's).
enum class LagStatus { kOk, kLagging, kWarn, kStall, kStop, kRewind, kErr };
const char* LagStatusName(LagStatus s);  // "OK", "LAGGING", "WARN", ...
// "warn", "STALL", ... (any case); false for an unknown name.
bool ParseLagStatus(std::string_view name, LagStatus* out);

// What a partition without a committed offset counts as.
enum class NoCommitAs { kEarliest, kLatest, kSkip };

// One observation of one partition, as the history keeps it.
struct LagSample {
  int64_t time_ms = 0;
  int64_t committed = -1;  // -1: no commit
  int64_t position = -1;   // where consumption stands: the committed offset, or the start counted from
  int64_t end = -1;        // high watermark
  int64_t lag = -1;        // records; -1 unknown
  // When `committed` took its value, as far as evt saw: the time of the first sample
  // holding it (carried from sample to sample, also past samples that left the window).
  int64_t since_ms = 0;
  std::string error;       // the partition could not be observed (group or topic gone)
};

// Burrow's evaluation of one partition over a window of samples.
struct WindowEval {
  LagStatus status = LagStatus::kOk;
  std::string reason;
  size_t samples = 0;   // samples evaluated (without error)
  int64_t span_ms = 0;  // newest - oldest
  double consume_rate = NAN;  // records/s the committed offset moved; NaN with one sample
  double produce_rate = NAN;  // records/s the log end moved
  double eta_s = NAN;         // time to catch up at these rates: 0 when caught up, +inf never
};
// The samples are oldest first; the last is now. Rules, first match wins:
//   ERR      the current sample has an error
//   (one sample) OK when the lag is 0, else LAGGING: a trend needs two
//   OK       the lag was 0 in some sample of the window
//   REWIND   the committed offset went backwards between two samples
//   STOP     the committed offset is the same throughout, and was already before the
//            window's oldest sample (unchanged for longer than the window spans)
//   STALL    the committed offset is the same throughout
//   WARN     the committed offset moves but the lag never decreases
//   OK       otherwise (the lag decreases)
WindowEval EvaluateWindow(const std::vector<LagSample>& window);

// Where a partition's lag is counted from. `start` is also where its first unconsumed
// record is fetched: the committed offset, or the log start when that is below it.
struct LagStartPos {
  int64_t start = -1;
  bool skip = false;             // no commit under --no-commit-as skip
  bool below_log_start = false;  // the committed offset is below the log start (retention)
};
LagStartPos LagStart(int64_t committed, int64_t low, int64_t end, NoCommitAs no_commit);

// What was asked about one partition.
struct PartitionObservation {
  std::string group;  // or the checkpoint file
  std::string topic;
  int32_t partition = -1;
  int64_t committed = -1;  // -1: none
  int64_t low = -1, end = -1, lso = -1;
  int64_t commit_timestamp = -1;  // offline: when the coordinator stored the commit (ms); -1 unknown
  std::string error;
};

struct PartitionLag {
  std::string group, topic;
  int32_t partition = -1;
  int64_t committed = -1;  // -1: no commit
  int64_t low = -1, end = -1, lso = -1;
  int64_t commit_timestamp = -1;  // offline only (brokers never return it over the protocol)
  int64_t start = -1;        // where the lag is counted from
  int64_t lag = -1;          // records (end - committed; from `start` without a commit); -1 unknown
  int64_t time_lag_ms = -1;  // now - timestamp of the first unconsumed record; -1 unknown
  int64_t first_offset = -1, first_timestamp = -1;  // that record
  bool below_log_start = false;
  bool markers_only = false;  // lag 0 by the transaction-marker rule
  std::string note;           // what the figures mean where they are not plain
  std::string error;
  std::string member;  // client-id@host of the member assigned the partition, when known
  // Over the window:
  WindowEval eval;
  std::vector<int64_t> lag_window;  // lag per sample, oldest first
};
// The lag of one observation. `first` is the fetch at `LagStart().start` (null when none
// was made: no lag, or no fetch possible). A fetch that reached the end without a record
// means that only transaction markers (or aborted records) remain: lag 0. A lag of 0 has a
// time lag of 0. `now_ms` is what the time lag is measured against.
PartitionLag ComputeLag(const PartitionObservation& ob, const kafka::FirstRecord* first, NoCommitAs no_commit,
                        int64_t now_ms);

struct GroupLag {
  std::string group;
  LagStatus status = LagStatus::kOk;
  std::string reason;
  std::string error;  // the group as a whole (no commits found, OffsetFetch failed)
  std::vector<PartitionLag> partitions;
  int64_t lag = 0;                // sum over partitions
  int64_t max_lag = 0;
  int64_t max_time_lag_ms = -1;   // -1 unknown
  std::map<std::string, int64_t> topic_lag;  // sum per topic
  double consume_rate = NAN, produce_rate = NAN, eta_s = NAN;
  bool members_known = false;
  std::vector<std::string> members;  // client-id@host
};
// Fills status, reason, sums and rates from the partitions.
void SummarizeGroup(GroupLag* g);

struct LagReport {
  int64_t now_ms = 0;
  std::string cluster;       // the bootstrap string or the checkpoint's source
  std::string members_note;  // once for the report: why members are unknown ("" when known or not asked)
  bool with_history = false; // some partition has more than one sample
  bool offline = false;      // read from a data directory: commit times are known
  bool now_from_data = false; // offline without --now: now_ms is the newest record time in the directory
  std::vector<GroupLag> groups;
};

using LagKey = std::tuple<std::string, std::string, int32_t>;  // group, topic, partition

// The bounded history: the last N samples per partition, as JSON Lines
//   {"group":"g","topic":"t","partition":0,"time":1700000000000,"committed":5,
//    "position":5,"end":9,"lag":4,"since":1699999940000}
// (an error sample has "error" instead of the figures), written atomically.
class LagHistory {
 public:
  // Empty when the file does not exist; InvalidArgument naming the line when it is not a history.
  static Result<LagHistory> Load(const std::string& path);
  static Result<LagHistory> Parse(std::string_view text, const std::string& name);
  std::string Serialize() const;
  Status Save(const std::string& path) const;
  // Appends `s` (its since_ms carried from the previous sample when the committed offset is
  // the same) and keeps the last `keep` samples of that partition.
  void Add(const LagKey& key, LagSample s, size_t keep);
  void Erase(const LagKey& key) { samples_.erase(key); }
  const std::vector<LagSample>& Samples(const LagKey& key) const;
  std::vector<LagKey> Keys() const;

 private:
  std::map<LagKey, std::vector<LagSample>> samples_;
};

struct LagTopic {
  std::string topic;
  std::vector<int32_t> partitions;  // empty: all
};

struct LagOptions {
  std::string brokers;  // bootstrap servers
  kafka::KafkaConfig kafka;
  kafka::Isolation isolation = kafka::Isolation::kReadCommitted;
  std::vector<std::string> groups;
  bool all_groups = false;          // ListGroups
  std::vector<LagTopic> topics;     // empty: the topics each group has commits for
  NoCommitAs no_commit = NoCommitAs::kEarliest;
  int64_t now_ms = -1;              // -1: the clock, every round
  size_t samples = 10;              // the window; the history keeps this many per partition
  std::string history_path;         // "" : samples are kept in memory (for --watch) only
  // --checkpoint FILE SRC: the positions of an evt replay/backfill checkpoint against its
  // source (a segment directory, or kafka://HOST/TOPIC).
  std::string checkpoint_path;
  std::string checkpoint_source;
  // Offline: a broker's data directory (or a backup of it). Commits come from its
  // __consumer_offsets partitions (every group there when `groups` is empty), ends and
  // first records from its topic partitions, and without now_ms "now" is the newest record
  // time in the directory.
  std::string data_dir;
};

// Rounds of `evt lag`: each observes every partition, adds a sample per partition to the
// history (the file, re-read and rewritten each round, or memory), and evaluates the window.
class LagMonitor {
 public:
  explicit LagMonitor(LagOptions o);
  ~LagMonitor();
  Status Round(Reporter* reporter, LagReport* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct LagThresholds {
  int64_t max_lag = -1;          // -1: none
  int64_t max_time_lag_ms = -1;  // -1: none
  std::set<LagStatus> fail_on;
};
// One line per offending partition (or group), "" -free; empty when every threshold holds.
std::vector<std::string> LagViolations(const LagReport& r, const LagThresholds& t);

// Rows of cells as aligned columns (widths in code points): `numeric` columns right-aligned,
// the others left-aligned, the last column not padded; the first row is the header.
std::string AlignedTable(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& numeric);

// "0s", "450ms", "4.2s", "12s", "3m05s", "2h07m", "3d04h".
std::string FormatLagDuration(int64_t ms);
// Output. The table shows the trend columns (sparkline, rates, ETA) when the report has
// history; the JSON Lines have one object per partition and one per group.
std::string LagTable(const LagReport& r);
std::string LagJsonLines(const LagReport& r);
// kafka-lag-exporter's metric names, with # HELP and # TYPE lines.
std::string LagPrometheus(const LagReport& r, const std::string& cluster_name);
std::string LagCsv(const LagReport& r, bool header);

}  // namespace evt
