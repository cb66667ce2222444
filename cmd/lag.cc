// evt lag -G GROUP [TOPIC...] | --checkpoint FILE SRC: how far consumers are behind, in
// records and in time, with Burrow's status over a window of samples.
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "cmd/common.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"
#include "lib/jobs/lag.h"

namespace evt::cmd {

namespace {

struct LagFlags {
  KafkaFlags kafka;
  std::vector<std::string> groups;
  bool all_groups = false;
  std::vector<std::string> args;
  std::string no_commit = "earliest";
  std::string now;
  std::string history;
  size_t samples = 10;
  std::string watch;
  int64_t max_lag = -1;
  std::string max_time_lag;
  std::vector<std::string> fail_on;
  bool json = false;
  std::string format;
  std::string cluster_name;
  std::string checkpoint;
};

bool IsDataDirArg(const std::string& a);

// Flags into options and thresholds: every usage error before any request.
Status Resolve(const LagFlags& f, LagOptions* o, LagThresholds* t, std::string* format, std::string* cluster_name,
               int64_t* watch_ms) {
  EVT_RETURN_IF_ERROR(ResolveKafkaConfig(f.kafka, &o->kafka));
  kafka::KafkaReadOptions ro;
  EVT_RETURN_IF_ERROR(ResolveKafkaRead(f.kafka, &ro));
  o->isolation = ro.isolation;
  if (!f.checkpoint.empty()) {
    if (!f.groups.empty() || f.all_groups)
      return Status::InvalidArgument("--checkpoint is the lag of a checkpoint file, not of groups: drop -G/--all-groups");
    if (f.args.size() != 1)
      return Status::InvalidArgument(
          "--checkpoint FILE needs exactly one SRC: the replay's source (a segment directory or kafka://HOST/TOPIC)");
    o->checkpoint_path = f.checkpoint;
    o->checkpoint_source = WithBrokers(f.args[0], f.kafka);
    if (kafka::IsKafkaUrl(o->checkpoint_source)) {
      auto t = kafka::ParseKafkaUrl(o->checkpoint_source);
      if (!t.ok()) return t.status();
      o->brokers = t->brokers;
    }
  } else if (!f.args.empty() && IsDataDirArg(f.args[0])) {
    // Offline: a broker's data directory, then topic names.
    o->data_dir = f.args[0];
    o->groups = f.groups;
    o->all_groups = f.all_groups;
    for (size_t i = 1; i < f.args.size(); ++i) {
      const std::string& a = f.args[i];
      if (a.empty() || a.find('/') != std::string::npos || kafka::IsKafkaUrl(a))
        return Status::InvalidArgument(fmt::format(
            "'{}': after a data directory, only topic names (the partitions are the directory's)", a));
      o->topics.push_back({a, {}});
    }
  } else {
    if (f.groups.empty() && !f.all_groups)
      return Status::InvalidArgument(
          "which group? -G GROUP (repeatable) or --all-groups (or --checkpoint FILE SRC, or a data directory)");
    o->groups = f.groups;
    o->all_groups = f.all_groups;
    std::string url_brokers;
    for (const auto& a : f.args) {
      std::string arg = WithBrokers(a, f.kafka);
      if (kafka::IsKafkaUrl(arg)) {
        auto t = kafka::ParseKafkaUrl(arg);
        if (!t.ok()) return t.status();
        if (!url_brokers.empty() && url_brokers != t->brokers)
          return Status::InvalidArgument(
              fmt::format("{}: one cluster per run (the other URLs name {})", a, url_brokers));
        url_brokers = t->brokers;
        if (!t->topic.empty()) o->topics.push_back({t->topic, t->partitions});
      } else if (a.empty() || a.find('/') != std::string::npos) {
        return Status::InvalidArgument(fmt::format("'{}' is not a topic name (TOPIC, or kafka://HOST/TOPIC)", a));
      } else {
        o->topics.push_back({a, {}});
      }
    }
    if (!url_brokers.empty() && !f.kafka.brokers.empty() && f.kafka.brokers != url_brokers) {
      // -b and a URL with hosts: the URL's hosts win only when they agree.
      auto b = kafka::KafkaTargetFrom(f.kafka.brokers, "x");
      if (!b.ok()) return b.status();
      if (b->brokers != url_brokers)
        return Status::InvalidArgument(fmt::format("-b {} and the URL's {} name different clusters", f.kafka.brokers,
                                                   url_brokers));
    }
    if (url_brokers.empty()) {
      auto b = kafka::KafkaTargetFrom(f.kafka.brokers, "");
      if (!b.ok()) return b.status();
      url_brokers = b->brokers;
    }
    o->brokers = url_brokers;
  }
  if (f.no_commit == "earliest") o->no_commit = NoCommitAs::kEarliest;
  else if (f.no_commit == "latest") o->no_commit = NoCommitAs::kLatest;
  else o->no_commit = NoCommitAs::kSkip;
  if (!f.now.empty()) {
    auto b = ParseBound(f.now, NowMs());
    if (!b.ok() || b->kind != Bound::kTime)
      return Status::InvalidArgument(fmt::format(
          "--now: expected a time (RFC 3339, @EPOCH_MS, now or -DURATION), not '{}'", f.now));
    o->now_ms = b->value;
  }
  o->samples = f.samples;
  o->history_path = f.history;
  *watch_ms = 0;
  if (!f.watch.empty()) EVT_RETURN_IF_ERROR(ParseDurationFlag("--watch", f.watch, watch_ms, true));
  t->max_lag = f.max_lag;
  if (!f.max_time_lag.empty()) EVT_RETURN_IF_ERROR(ParseDurationFlag("--max-time-lag", f.max_time_lag, &t->max_time_lag_ms));
  for (const auto& list : f.fail_on) {
    size_t pos = 0;
    while (pos <= list.size()) {
      size_t comma = list.find(',', pos);
      std::string word = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      pos = comma == std::string::npos ? list.size() + 1 : comma + 1;
      LagStatus s;
      if (!ParseLagStatus(word, &s) || s == LagStatus::kOk || s == LagStatus::kLagging)
        return Status::InvalidArgument(
            fmt::format("--fail-on: expected warn, stall, stop, rewind or err (a comma list), not '{}'", word));
      t->fail_on.insert(s);
    }
  }
  if (f.json && !f.format.empty() && f.format != "json")
    return Status::InvalidArgument(fmt::format("--json and --format {} contradict each other", f.format));
  *format = f.json ? "json" : !f.format.empty() ? f.format : IsTerminal(1) ? "table" : "json";
  *cluster_name = !f.cluster_name.empty()           ? f.cluster_name
                  : !o->data_dir.empty()             ? o->data_dir
                  : o->checkpoint_path.empty()       ? o->brokers
                                                     : o->checkpoint_source;
  return Status::OK();
}

// The first argument names a broker's data directory (offline lag) when it is a directory
// and looks like a path (has a /, or is . or ..), or holds __consumer_offsets-0: a bare name
// is otherwise a topic.
bool IsDataDirArg(const std::string& a) {
  if (a.empty() || kafka::IsKafkaUrl(a) || !IsDirectory(a)) return false;
  return a.find('/') != std::string::npos || a == "." || a == ".." || IsDirectory(a + "/__consumer_offsets-0");
}

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// The terminal's width in columns (0: unknown).
size_t TerminalColumns(int fd) {
  struct winsize ws {};
  return ioctl(fd, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
}

// Each line cut to `cols` code points, so that a redraw moves up over exactly the lines it
// drew (a wrapped line would take two).
std::string FitLines(const std::string& text, size_t cols) {
  if (cols == 0) return text;
  std::string o;
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      width = 0;
      o += '\n';
      continue;
    }
    if ((c & 0xc0) != 0x80) ++width;  // a code point starts
    if (width < cols) o += text[i];
  }
  return o;
}

}  // namespace

RunFn SetupLag(CLI::App* app) {
  auto f = std::make_shared<LagFlags>();
  app->add_option("TOPIC", f->args,
                  "Topics to look at (names, or kafka://HOST/TOPIC); default: every topic the group has commits for. "
                  "Offline: DATADIR [TOPIC...], a broker's data directory (its __consumer_offsets; every group without -G). "
                  "With --checkpoint: SRC, the replay's source (a segment directory or kafka://HOST/TOPIC)");
  AddRepeatable(app, "-G,--group", &f->groups, "Consumer group to look at (repeatable)");
  app->add_flag("--all-groups", f->all_groups,
                "Every group the cluster lists (ListGroups; librdkafka's mock cluster has none: an error there)");
  AddKafkaFlags(app, &f->kafka, kKafkaReader);
  app->add_option("--no-commit-as", f->no_commit,
                  "A partition without a commit counts from: earliest (the log start, default), latest (caught up) "
                  "or skip (left out)")
      ->check(CLI::IsMember({"earliest", "latest", "skip"}));
  app->add_option("--now", f->now,
                  "The time the time lag is measured against (any time evt accepts; default: the clock, offline the "
                  "newest record time in the data directory)");
  app->add_option("--history", f->history,
                  "Samples file: each run appends one sample per partition (the last --samples kept, written "
                  "atomically) and evaluates the trend over them");
  app->add_option("--samples", f->samples, "The window: samples kept per partition and evaluated (default 10)")
      ->check(Between(1, 100000));
  app->add_option("--watch", f->watch, "Sample every INTERVAL until Ctrl-C, redrawing the table in place");
  app->add_option("--max-lag", f->max_lag, "Exit 1 when a partition lags by more than N records")->check(AtLeast(0));
  app->add_option("--max-time-lag", f->max_time_lag, "Exit 1 when a partition's time lag exceeds DURATION");
  AddRepeatable(app, "--fail-on", &f->fail_on,
                "Exit 1 when a partition has one of these statuses: warn, stall, stop, rewind, err (repeatable or a "
                "comma list)");
  app->add_flag("--json", f->json, "JSON Lines output (the default when stdout is not a terminal)");
  app->add_option("--format", f->format, "Output: table (default on a terminal), json, prometheus or csv")
      ->check(CLI::IsMember({"table", "json", "prometheus", "csv"}));
  app->add_option("--cluster-name", f->cluster_name,
                  "The cluster_name label of the Prometheus metrics (default: the bootstrap servers)");
  app->add_option("--checkpoint", f->checkpoint,
                  "The lag of an evt replay/backfill checkpoint FILE against its source SRC instead of a group's");
  return [f]() {
    if (PrintPropertyListIfAsked(f->kafka)) return kExitOk;
    LagOptions o;
    LagThresholds t;
    std::string format, cluster_name;
    int64_t watch_ms = 0;
    Status s = Resolve(*f, &o, &t, &format, &cluster_name, &watch_ms);
    if (!s.ok()) return Finish(s);
    LagMonitor monitor(o);
    StderrReporter rep;
    auto out = Stdout();
    bool redraw = watch_ms > 0 && format == "table" && IsTerminal(1);
    size_t drawn = 0;
    int code = kExitOk;
    for (int round = 0;; ++round) {
      LagReport r;
      s = monitor.Round(&rep, &r);
      if (s.code() == Code::kInterrupted && round > 0) return kExitInterrupted;
      if (!s.ok()) return Finish(s);
      std::string text;
      if (format == "table") text = LagTable(r);
      else if (format == "prometheus") text = LagPrometheus(r, cluster_name);
      else if (format == "csv") text = LagCsv(r, round == 0);
      else text = LagJsonLines(r);
      if (redraw) {
        std::string head = fmt::format("evt lag: {}, every {} (Ctrl-C stops)\n", FormatRfc3339Ms(r.now_ms), f->watch);
        text = FitLines(head + text, TerminalColumns(1));
        size_t lines = Lines(text);
        text = (drawn ? fmt::format("\x1b[{}F\x1b[J", drawn) : std::string()) + text;
        drawn = lines;
      }
      s = out->Append(text);
      if (s.ok()) s = out->Flush();
      if (!s.ok()) return Finish(s);
      std::vector<std::string> bad = LagViolations(r, t);
      for (const auto& v : bad) PrintError(v);
      if (redraw && IsTerminal(2)) drawn += bad.size();
      code = bad.empty() ? kExitOk : kExitData;
      if (watch_ms <= 0) break;
      for (int64_t waited = 0; waited < watch_ms; waited += 100) {
        if (InterruptRequested()) return kExitInterrupted;
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(100, watch_ms - waited)));
      }
    }
    return code;
  };
}

}  // namespace evt::cmd
