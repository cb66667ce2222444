// evt dump SRC...: batch- and record-level listing.
#include "cmd/common.h"
#include "lib/jobs/dump.h"

namespace evt::cmd {

RunFn SetupDump(CLI::App* app) {
  struct Flags : SourceFlags {
    bool json = false;
    bool batches_only = false;
    DecodeFlags decode;
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
  AddDecodeFlags(app, &f->decode);
  return [f]() {
    if (PrintPropertyListIfAsked(f->kafka)) return kExitOk;
    DumpOptions o;
    Status s = ResolveSourceFlags(*f, &o.source);
    if (!s.ok()) return Finish(s);
    o.json = f->json;
    o.records = !f->batches_only;
    StderrReporter rep;
    s = ResolveDecodeFlags(f->decode, f->kafka, f->read.strict, &o.source, &rep, &o.decode);
    if (!s.ok()) return Finish(s);
    auto out = Stdout();
    s = RunDump(o, out.get(), &rep);
    Status c = out->Flush();
    return Finish(AfterRead(s.ok() ? c : s, o.source.read, rep));
  };
}

}  // namespace evt::cmd
