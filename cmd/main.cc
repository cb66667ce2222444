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
RunFn SetupVerify(CLI::App*);
RunFn SetupDump(CLI::App*);
RunFn SetupGen(CLI::App*);
RunFn SetupFilter(CLI::App*);
RunFn SetupSandbox(CLI::App*);
RunFn SetupRetain(CLI::App*);
RunFn SetupCompact(CLI::App*);
RunFn SetupReplay(CLI::App*);
RunFn SetupBackfill(CLI::App*);
RunFn SetupCompletion(CLI::App*);

const std::vector<Command>& Commands() {
  static const std::vector<Command> table = {
      {"cat", "Print records of segment files as JSON Lines, values, CloudEvents or a template", SetupCat},
      {"write", "Write JSON Lines records into a segment directory", SetupWrite},
      {"inspect", "Summarise partitions: offsets, times, sizes, codecs, keys", SetupInspect},
      {"verify", "Check CRCs, offsets and indexes; --repair torn tails and indexes", SetupVerify},
      {"dump", "List batches and records, like kafka-dump-log", SetupDump},
      {"filter", "Select JSON Lines with a jq expression, much faster than jq", SetupFilter},
      {"gen", "Generate deterministic synthetic events", SetupGen},
      {"replay", "Move a slice of history to a topic, a log or a file: paced, checkpointed, safe to kill", SetupReplay},
      {"backfill", "Hand each selected record to a program: parallel, per-key order, retries, dead letters", SetupBackfill},
      {"compact", "Keep the latest record per key, like Kafka's log cleaner, crash-safe", SetupCompact},
      {"retain", "Delete old segments by age, size or position, like Kafka's retention", SetupRetain},
      {"sandbox", "Run a throwaway Kafka-protocol cluster (librdkafka's mock) for tests and rehearsals", SetupSandbox},
      {"completion", "Print the shell completion script for bash, zsh or fish", SetupCompletion},
  };
  return table;
}

namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

void OnSignal(int) { g_interrupted.store(true); }

void InstallSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // writes then fail with EPIPE: exit 0 quietly
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
  // An unknown subcommand gets a suggestion from the table.
  if (argc > 1 && argv[1][0] != '-') {
    std::string name = argv[1];
    bool known = std::any_of(Commands().begin(), Commands().end(), [&](const Command& c) { return name == c.name; });
    if (!known) {
      std::string best;
      size_t best_d = 3;
      for (const Command& c : Commands()) {
        size_t d = EditDistance(name, c.name);
        if (d < best_d) {
          best_d = d;
          best = c.name;
        }
      }
      PrintError(best.empty() ? fmt::format("unknown command '{}' (see evt --help)", name)
                              : fmt::format("unknown command '{}'; did you mean '{}'?", name, best));
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    PrintError(e.what());
    std::string hint = "run 'evt --help' for usage";
    for (auto& [sub, run] : runs)
      if (sub->parsed()) hint = fmt::format("run 'evt {} --help' for usage", sub->get_name());
    (void)!::write(2, ("evt: " + hint + "\n").data(), hint.size() + 6);
    return kExitUsage;
  }
  for (auto& [sub, run] : runs)
    if (sub->parsed()) return run();
  return kExitUsage;
}

}  // namespace evt::cmd

int main(int argc, char** argv) { return evt::cmd::Main(argc, argv); }
