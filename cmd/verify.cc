// evt verify SRC...: CRCs, offsets, lengths, index consistency; --repair.
#include <fmt/format.h>

#include "cmd/common.h"
#include "formats/envelope/envelope.h"
#include "lib/jobs/verify.h"

namespace evt::cmd {

RunFn SetupVerify(CLI::App* app) {
  struct Flags {
    std::vector<std::string> sources;
    bool repair = false;
    bool json = false;
    bool no_index = false;
    bool wait = false;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("SRC", f->sources, "Segment files, partition directories, topic or broker data directories")
      ->required();
  app->add_flag("--repair", f->repair,
                "Truncate torn tails and rebuild missing or inconsistent indexes (atomically: temp file + rename)");
  app->add_flag("--wait", f->wait, "With --repair: wait for another evt process holding a partition lock");
  app->add_flag("--no-index", f->no_index, "Skip the index checks");
  app->add_flag("--json", f->json, "One JSON object per partition on stdout");
  return [f]() {
    VerifyOptions o;
    o.paths = f->sources;
    o.repair = f->repair;
    o.check_indexes = !f->no_index;
    o.wait_for_lock = f->wait;
    if (f->wait && !f->repair) return Finish(Status::InvalidArgument("--wait goes with --repair"));
    StderrReporter rep;
    std::vector<VerifyReport> reports;
    Status s = RunVerify(o, &rep, &reports);
    std::string text;
    for (const auto& r : reports) {
      if (f->json) {
        text += "{\"topic\":";
        envelope::AppendJsonString(r.topic, &text);
        text += fmt::format(",\"partition\":{},\"path\":", r.partition);
        envelope::AppendJsonString(r.path, &text);
        text += fmt::format(",\"ok\":{},\"segments\":{},\"batches\":{},\"records\":{},\"control_records\":{},"
                            "\"errors\":{},\"warnings\":{},\"repaired\":{}}}\n",
                            r.errors == 0, r.segments, r.batches, r.records, r.control_records, r.errors, r.warnings,
                            r.repaired);
      } else {
        // Labelled by path: two `__consumer_offsets-11` of different data dirs stay apart.
        text += fmt::format("{} {}: {} segments, {} batches, {} records{}{}{}{}\n", r.errors ? "FAIL" : "ok  ", r.path,
                            r.segments, r.batches, r.records,
                            r.control_records ? fmt::format(" (+{} control)", r.control_records) : "",
                            r.errors ? fmt::format(", {} errors", r.errors) : "",
                            r.warnings ? fmt::format(", {} warnings", r.warnings) : "",
                            r.repaired ? fmt::format(", {} files repaired", r.repaired) : "");
      }
    }
    auto out = Stdout();
    Status w = out->Append(text);
    if (w.ok()) w = out->Flush();
    if (!s.ok()) return Finish(s);
    return Finish(w);
  };
}

}  // namespace evt::cmd
