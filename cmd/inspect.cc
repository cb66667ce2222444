// evt inspect SRC...: per-partition and total statistics.
#include "cmd/common.h"
#include "lib/base/term.h"
#include "lib/jobs/inspect.h"

namespace evt::cmd {

RunFn SetupInspect(CLI::App* app) {
  struct Flags : SourceFlags {
    bool json = false;
    bool table = false;
    size_t buckets = 40;
    DecodeFlags decode;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("SRC", f->sources,
                  "Segment files, partition directories, topic or broker data directories; kafka://HOST/TOPIC "
                  "(watermarks and first/last timestamps per partition) or kafka://HOST/ (every topic)");
  AddReadFlags(app, &f->read, false, false);
  AddWhereFlags(app, &f->read);
  AddKafkaFlags(app, &f->kafka, kKafkaTopic | kKafkaReader);
  app->add_flag("--json", f->json, "JSON output (the default when stdout is not a terminal)");
  app->add_flag("--table", f->table, "Table output (the default on a terminal)");
  app->add_option("--buckets", f->buckets,
                  "Records over time per partition in N slices of its span: a sparkline in the table, counts in "
                  "JSON (\"histogram\"); 0 for none (default 40)")
      ->check(Between(0, 1000));
  AddDecodeFlags(app, &f->decode);
  return [f]() {
    if (PrintPropertyListIfAsked(f->kafka)) return kExitOk;
    InspectOptions o;
    Status s = ResolveSourceFlags(*f, &o.source, /*topic_optional=*/true);
    if (!s.ok()) return Finish(s);
    StderrReporter rep;
    s = ResolveDecodeFlags(f->decode, f->kafka, f->read.strict, &o.source, &rep, &o.decode);
    if (!s.ok()) return Finish(s);
    bool json = f->json || (!f->table && !IsTerminal(1));
    // A Kafka topic or cluster without --where or a range: metadata and watermarks, no
    // full read. With them, the records of the selection are read and counted.
    if (o.source.paths.size() == 1 && kafka::IsKafkaUrl(o.source.paths[0]) && o.source.where.exprs.empty() &&
        f->read.from == "beginning" && f->read.until.empty()) {
      auto t = kafka::ParseKafkaUrl(o.source.paths[0]);
      if (!t.ok()) return Finish(t.status());
      kafka::KafkaClusterInfo info;
      s = kafka::InspectKafka(*t, o.source.kafka, &info);
      if (!s.ok()) return Finish(s);
      auto out = Stdout();
      s = out->Append(json ? kafka::KafkaInfoJson(info, !t->topic.empty())
                           : kafka::KafkaInfoTable(info, !t->topic.empty()));
      if (s.ok()) s = out->Flush();
      return Finish(s);
    }
    std::vector<PartitionStats> parts;
    PartitionStats total;
    s = RunInspect(o, &rep, &parts, &total);
    // What could be read is summarised even when a read stopped at corruption; the error
    // (and exit 1) follows it.
    if (!s.ok() && (s.code() != Code::kCorruption || parts.empty())) return Finish(s);
    auto out = Stdout();
    Status w = out->Append(json ? InspectJson(parts, total, f->buckets) : InspectTable(parts, total, f->buckets));
    if (w.ok()) w = out->Flush();
    return Finish(AfterRead(s.ok() ? w : s, o.source.read, rep));
  };
}

}  // namespace evt::cmd
