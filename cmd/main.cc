// evt: the command table and dispatch. Each subcommand lives in its own file.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "cmd/common.h"
#include "lib/base/term.h"

namespace evt::cmd {

RunFn SetupCat(CLI::App*);
RunFn SetupWrite(CLI::App*);
RunFn SetupInspect(CLI::App*);
RunFn SetupSchema(CLI::App*);
RunFn SetupVerify(CLI::App*);
RunFn SetupDump(CLI::App*);
RunFn SetupGen(CLI::App*);
RunFn SetupFilter(CLI::App*);
RunFn SetupSandbox(CLI::App*);
RunFn SetupRetain(CLI::App*);
RunFn SetupCompact(CLI::App*);
RunFn SetupReplay(CLI::App*);
RunFn SetupBackfill(CLI::App*);
RunFn SetupLag(CLI::App*);
RunFn SetupOffsets(CLI::App*);
RunFn SetupDlq(CLI::App*);
RunFn SetupProject(CLI::App*);
RunFn SetupCompletion(CLI::App*);

const std::vector<Command>& Commands() {
  static const std::vector<Command> table = {
      {"cat", "Print records of segment files, JSON Lines or Kafka topics as JSON Lines, values, CloudEvents or a template",
       SetupCat},
      {"write", "Write JSON Lines records into a segment directory or a Kafka topic", SetupWrite},
      {"inspect", "Summarise partitions: offsets, times, sizes, codecs, keys", SetupInspect},
      {"schema", "Schema sources, the schema ids of a log, and whether a new schema reads every old event", SetupSchema},
      {"verify", "Check CRCs, offsets and indexes; --repair torn tails and indexes", SetupVerify},
      {"dump", "List batches and records, like kafka-dump-log", SetupDump},
      {"filter", "Select JSON Lines with a jq expression, much faster than jq", SetupFilter},
      {"gen", "Generate deterministic synthetic events", SetupGen},
      {"replay", "Move a slice of history to a topic, a log or a file: paced, checkpointed, safe to kill", SetupReplay},
      {"backfill", "Hand each selected record to a program: parallel, per-key order, retries, dead letters", SetupBackfill},
      {"lag", "How far consumer groups (or a replay checkpoint) are behind, in records and time; Burrow's status",
       SetupLag},
      {"offsets", "A consumer group's committed offsets; reset them (plan, export, execute) like kafka-consumer-groups",
       SetupOffsets},
      {"dlq", "Dead-letter queues: summary by cause, show with decoded headers, redrive capped and never twice",
       SetupDlq},
      {"project", "Fold events by key into a read model (SQLite, JSON Lines, CSV): as of a time, incremental",
       SetupProject},
      {"compact", "Keep the latest record per key, like Kafka's log cleaner, crash-safe", SetupCompact},
      {"retain", "Delete old segments by age, size or position, like Kafka's retention", SetupRetain},
      {"sandbox", "Run a throwaway Kafka-protocol cluster (librdkafka's mock) for tests and rehearsals", SetupSandbox},
      {"completion", "Print the shell completion script for bash, zsh or fish", SetupCompletion},
  };
  return table;
}

namespace {

// Edits between a and b, a swap of two neighbours counting as one ("cta" -> "cat").
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// The name in `names` closest to `word`, when it is close enough to be a typo: at most a
// third of the word's letters off (so "man" suggests nothing, "inpsect" suggests "inspect").
std::string Closest(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  size_t best_d = std::max<size_t>(1, word.size() / 3) + 1;
  for (const std::string& n : names) {
    size_t d = EditDistance(word, n);
    if (d < best_d) {
      best_d = d;
      best = n;
    }
  }
  return best;
}

// "did you mean '--format'?" for the first unknown flag among `extras`, or "".
std::string FlagSuggestion(const CLI::App* sub, const std::vector<std::string>& extras) {
  std::vector<std::string> names;
  for (const CLI::Option* o : sub->get_options()) {
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    for (const std::string& n : o->get_snames()) names.push_back("-" + n);
  }
  for (const std::string& e : extras) {
    if (e.size() < 2 || e[0] != '-') continue;
    std::string word = e.substr(0, e.find('='));
    // A flag cut short ("--form") means the one flag it begins, before any close spelling.
    std::vector<std::string> longer;
    for (const std::string& n : names)
      if (word.size() > 2 && n.size() > word.size() && n.compare(0, word.size(), word) == 0) longer.push_back(n);
    std::string best = longer.size() == 1 ? longer[0] : Closest(word, names);
    if (!best.empty()) return fmt::format("unknown flag '{}'; did you mean '{}'?", word, best);
  }
  return "";
}

void OnSignal(int) { g_interrupted.store(true); }

// Segment files are read through mmap: when another process truncates one under us, the
// pages past its new end are gone and touching them raises SIGBUS. Say so in one line and
// exit 2 instead of dying with "Bus error" (async-signal-safe: write and _exit only).
void OnBusError(int) {
  static const char kMsg[] = "evt: error: an input file was truncated while being read (SIGBUS); nothing after "
                             "that point was read\n";
  ssize_t ignored = write(2, kMsg, sizeof kMsg - 1);
  (void)ignored;
  _exit(2);
}

void InstallSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // writes then fail with EPIPE: exit 0 quietly
  struct sigaction bus {};
  bus.sa_handler = OnBusError;
  sigemptyset(&bus.sa_mask);
  sigaction(SIGBUS, &bus, nullptr);
}

}  // namespace

int Main(int argc, char** argv) {
  InstallSignals();
  CLI::App app{"evt: inspect, repair, replay and backfill event logs (Kafka segment files and topics)", "evt"};
  app.set_version_flag("--version", std::string("evt ") + EVT_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  std::vector<std::pair<CLI::App*, RunFn>> runs;
  for (const Command& c : Commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runs.emplace_back(sub, c.setup(sub));
  }
  GuardNumberFlags(&app);
  // `evt version`, `evt -V`: the version; `evt help [CMD]`: that command's help.
  std::vector<char*> args(argv, argv + argc);
  std::string help_flag = "--help";
  if (argc == 2 && (std::strcmp(argv[1], "version") == 0 || std::strcmp(argv[1], "-V") == 0)) {
    std::string v = std::string("evt ") + EVT_VERSION + "\n";
    (void)!::write(1, v.data(), v.size());
    return kExitOk;
  }
  if (argc >= 2 && std::strcmp(argv[1], "help") == 0) {
    args.erase(args.begin() + 1);
    args.push_back(help_flag.data());
  }
  // An unknown subcommand gets a suggestion from the table.
  if (args.size() > 1 && args[1][0] != '-') {
    std::string name = args[1];
    std::vector<std::string> names;
    for (const Command& c : Commands()) names.push_back(c.name);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      std::string best = Closest(name, names);
      PrintError(best.empty() ? fmt::format("unknown command '{}' (see evt --help)", name)
                              : fmt::format("unknown command '{}'; did you mean '{}'?", name, best));
      return kExitUsage;
    }
  }
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    CLI::App* parsed = nullptr;
    for (auto& [sub, run] : runs)
      if (sub->parsed()) parsed = sub;
    // "--limit: must be >= 0, not -5" reads "--limit must be >= 0, not -5".
    std::string msg = e.what();
    if (size_t at = msg.find(": must be "); at != std::string::npos && msg.rfind(' ', at) == std::string::npos)
      msg.erase(at, 1);
    std::string suggestion = parsed ? FlagSuggestion(parsed, parsed->remaining()) : "";
    PrintError(suggestion.empty() ? msg : suggestion);
    std::string hint = parsed ? fmt::format("run 'evt {} --help' for usage", parsed->get_name())
                              : "run 'evt --help' for usage";
    (void)!::write(2, ("evt: " + hint + "\n").data(), hint.size() + 6);
    return kExitUsage;
  }
  for (auto& [sub, run] : runs)
    if (sub->parsed()) return run();
  return kExitUsage;
}

}  // namespace evt::cmd

int main(int argc, char** argv) { return evt::cmd::Main(argc, argv); }
