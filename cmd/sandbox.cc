// evt sandbox: a throwaway Kafka-protocol cluster (librdkafka's mock) for tests, demos and
// runbook rehearsal.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "cmd/common.h"
#include "lib/base/term.h"
#include "lib/jobs/sandbox.h"

namespace evt::cmd {

RunFn SetupSandbox(CLI::App* app) {
  struct Flags {
    int brokers = 1;
    std::string topics;
    std::vector<std::string> loads;
    std::vector<std::string> faults;
    std::vector<std::string> command;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("--brokers", f->brokers, "Number of brokers in the mock cluster")->default_val(1)->check(Between(1, 16));
  app->add_option("--topics", f->topics, "Topics to create: name:partitions,name2:partitions (partitions default 1)");
  AddRepeatable(app, "--load", &f->loads,
                "Preload TOPIC=PATH from a segment file/dir or envelope JSON Lines (.jsonl, .zst, .gz, -); "
                "offsets renumbered from 0 (repeatable)");
  AddRepeatable(app, "--fault", &f->faults,
                "Inject a failure after loading (repeatable): down-after=DURATION, topic-error=TOPIC:ERROR, "
                "request-error=API:ERROR[:COUNT], rtt=DURATION");
  app->add_option("COMMAND", f->command,
                  "After --: run this command with EVT_BROKERS set, stop the cluster when it exits, and exit "
                  "with its status");
  return [f]() {
    kafka::SandboxOptions o;
    o.brokers = f->brokers;
    if (!f->topics.empty()) {
      auto t = kafka::ParseSandboxTopics(f->topics);
      if (!t.ok()) return Finish(t.status());
      o.topics = *t;
    }
    for (const auto& l : f->loads) {
      auto p = kafka::ParseSandboxLoad(l);
      if (!p.ok()) return Finish(p.status());
      o.loads.push_back(*p);
    }
    std::vector<kafka::SandboxFault> faults;
    for (const auto& spec : f->faults) {
      auto fl = kafka::ParseSandboxFault(spec);
      if (!fl.ok()) return Finish(fl.status());
      faults.push_back(*fl);
    }
    StderrReporter rep;
    auto sb = kafka::Sandbox::Start(o, &rep);
    if (!sb.ok()) return Finish(sb.status());
    Status fs = (*sb)->ApplyFaults(faults);
    if (!fs.ok()) return Finish(fs);
    const std::string& bootstrap = (*sb)->bootstrap();
    if (f->command.empty()) {
      // Serve until interrupted; the address is the only thing on stdout.
      std::string line = bootstrap + "\n";
      if (::write(1, line.data(), line.size()) < 0 && errno != EPIPE) return Finish(Status::IOError("stdout: write failed"));
      if (IsTerminal(2))
        PrintWarning(fmt::format("sandbox running at {} ({} broker{}); Ctrl-C stops it", bootstrap, o.brokers,
                                 o.brokers == 1 ? "" : "s"));
      while (!InterruptRequested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return kExitOk;  // stopping the sandbox is its normal end
    }
    pid_t pid = ::fork();
    if (pid < 0) return Finish(Status::IOError(fmt::format("fork: {}", std::strerror(errno))));
    if (pid == 0) {
      ::setenv("EVT_BROKERS", bootstrap.c_str(), 1);
      std::vector<char*> argv;
      for (auto& a : f->command) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      std::string msg = fmt::format("evt: error: sandbox: cannot run {}: {}\n", f->command[0], std::strerror(errno));
      (void)!::write(2, msg.data(), msg.size());
      ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return Finish(Status::IOError(fmt::format("waitpid: {}", std::strerror(errno))));
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return kExitUsage;
  };
}

}  // namespace evt::cmd
