// evt inspect SRC...: per-partition and total statistics.
#include "cmd/common.h"
#include "lib/base/term.h"
#include "lib/inspect.h"

namespace evt::cmd {

RunFn SetupInspect(CLI::App* app) {
  struct Flags {
    std::vector<std::string> sources;
    ReadFlags read;
    bool json = false;
    bool table = false;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("SRC", f->sources, "Segment files, partition directories, topic or broker data directories")
      ->required();
  AddReadFlags(app, &f->read, false, false);
  AddWhereFlags(app, &f->read);
  app->add_flag("--json", f->json, "JSON output (the default when stdout is not a terminal)");
  app->add_flag("--table", f->table, "Table output (the default on a terminal)");
  return [f]() {
    InspectOptions o;
    o.source.paths = f->sources;
    Status s = ResolveReadFlags(f->read, &o.source.read, nullptr);
    o.source.where = WhereFrom(f->read);
    if (!s.ok()) return Finish(s);
    StderrReporter rep;
    std::vector<PartitionStats> parts;
    PartitionStats total;
    s = RunInspect(o, &rep, &parts, &total);
    if (!s.ok()) return Finish(s);
    bool json = f->json || (!f->table && !IsTerminal(1));
    auto out = Stdout();
    s = out->Append(json ? InspectJson(parts, total) : InspectTable(parts, total));
    if (s.ok()) s = out->Flush();
    return Finish(s);
  };
}

}  // namespace evt::cmd
