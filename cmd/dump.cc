// evt dump SRC...: batch- and record-level listing.
#include "cmd/common.h"
#include "lib/dump.h"

namespace evt::cmd {

RunFn SetupDump(CLI::App* app) {
  struct Flags {
    std::vector<std::string> sources;
    ReadFlags read;
    bool json = false;
    bool batches_only = false;
    KafkaFlags kafka;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("SRC", f->sources,
                  "Segment files, partition directories, topic or broker data directories, or a Kafka topic "
                  "kafka://HOST/TOPIC (records only: consumers see no batches)");
  AddReadFlags(app, &f->read, false, false);
  AddWhereFlags(app, &f->read);
  AddKafkaFlags(app, &f->kafka, kKafkaTopic | kKafkaReader);
  app->add_flag("--json", f->json, "One JSON object per batch (with its records) per line");
  app->add_flag("--batches-only", f->batches_only, "List batches without their records");
  return [f]() {
    if (PrintPropertyListIfAsked(f->kafka)) return kExitOk;
    DumpOptions o;
    o.source.paths = f->sources;
    Status s = KafkaSourcePaths(f->kafka, &o.source.paths);
    if (s.ok()) s = ResolveKafkaConfig(f->kafka, &o.source.kafka);
    if (s.ok()) s = ResolveKafkaRead(f->kafka, &o.source.kafka_read);
    if (!s.ok()) return Finish(s);
    s = ResolveReadFlags(f->read, &o.source.read, nullptr);
    o.source.where = WhereFrom(f->read);
    if (!s.ok()) return Finish(s);
    o.json = f->json;
    o.records = !f->batches_only;
    if (Status c = CheckOnCorruption(o.source.read, o.source.paths); !c.ok()) return Finish(c);
    StderrReporter rep;
    auto out = Stdout();
    s = RunDump(o, out.get(), &rep);
    Status c = out->Flush();
    return Finish(AfterRead(s.ok() ? c : s, o.source.read, rep));
  };
}

}  // namespace evt::cmd
