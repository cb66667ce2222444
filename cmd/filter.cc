// evt filter EXPR [FILE...]: JSON Lines whose documents satisfy a jq-style expression.
#include "cmd/common.h"
#include "lib/jobs/filter_run.h"

namespace evt::cmd {

RunFn SetupFilter(CLI::App* app) {
  struct Flags {
    std::string expr;
    std::vector<std::string> files;
    bool count = false;
    bool invert = false;
    bool strict = false;
    int64_t limit = -1;
    int threads = 0;
    DecodeFlags decode;
    KafkaFlags kafka;  // for --schemas kafka://.../_schemas and the registry's credentials
  };
  auto f = std::make_shared<Flags>();
  app->add_option("EXPR", f->expr,
                  "A jq expression; lines for which it is true are printed unchanged (as jq -c 'select(EXPR)' selects them)")
      ->required();
  app->add_option("FILE", f->files, "JSON Lines files (default: stdin); .zst and .gz are decompressed");
  app->add_flag("-c,--count", f->count, "Print the number of selected lines instead of the lines");
  app->add_flag("-v,--invert", f->invert, "Select the lines for which the expression is false or null");
  app->add_option("-n,--limit", f->limit, "Stop after N selected lines")->check(AtLeast(0));
  app->add_flag("--strict", f->strict, "A line that is not valid JSON is an error (exit 1) instead of being skipped and counted");
  app->add_option("-j,--threads", f->threads, "Worker threads (default: one per core)")->check(Between(0, 64));
  AddDecodeFlags(app, &f->decode, /*job=*/true, /*envelopes=*/true);
  AddKafkaFlags(app, &f->kafka, 0);
  return [f]() {
    if (PrintPropertyListIfAsked(f->kafka)) return kExitOk;
    FilterRunOptions o;
    o.exprs = {f->expr};
    o.files = f->files;
    o.count = f->count;
    o.invert = f->invert;
    o.strict = f->strict;
    o.limit = f->limit;
    o.threads = f->threads;
    StderrReporter rep;
    SourceSpec spec;
    Status k = ResolveKafkaConfig(f->kafka, &spec.kafka);
    if (!k.ok()) return Finish(k);
    k = ResolveDecodeFlags(f->decode, f->kafka, f->strict, &spec, &rep, &o.decode);
    if (!k.ok()) return Finish(k);
    auto out = Stdout();
    FilterRunStats st;
    Status s = RunFilter(o, out.get(), &rep, &st);
    Status c = out->Flush();
    if (s.ok()) s = c;
    return Finish(s);
  };
}

}  // namespace evt::cmd
