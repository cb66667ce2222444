// evt cat SRC...: records as envelope JSONL, raw values, CloudEvents, or a template.
#include "cmd/common.h"
#include "lib/pipeline/decode.h"
#include "lib/pipeline/read.h"
#include "lib/pipeline/text_sink.h"

namespace evt::cmd {

RunFn SetupCat(CLI::App* app) {
  struct Flags : SourceFlags {
    std::string format = "envelope";
    int64_t limit = -1;
    DecodeFlags decode;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("SRC", f->sources,
                  "Segment files, partition directories, topic or broker data directories, or a Kafka topic "
                  "kafka://HOST[:PORT],.../TOPIC[?partition=N,M]");
  AddReadFlags(app, &f->read, true, true);
  AddWhereFlags(app, &f->read);
  AddKafkaFlags(app, &f->kafka, kKafkaTopic | kKafkaReader | kKafkaConsumer);
  app->add_option("--format,-f", f->format,
                  "Output: envelope (JSON Lines, default), value, cloudevents, or a template with %t %p %o %T %k %v %h "
                  "%K %S (e.g. '%k %v\\n')");
  app->add_option("-n,--limit", f->limit, "Stop after N records")->check(AtLeast(0));
  AddDecodeFlags(app, &f->decode);
  return [f]() {
    if (PrintPropertyListIfAsked(f->kafka)) return kExitOk;
    SourceSpec spec;
    Status s = ResolveSourceFlags(*f, &spec);
    if (!s.ok()) return Finish(s);
    auto fmt = ParseTextFormat(f->format);
    if (!fmt.ok()) return Finish(fmt.status());
    StderrReporter rep;
    DecodeOptions decode;
    s = ResolveDecodeFlags(f->decode, f->kafka, f->read.strict, &spec, &rep, &decode);
    if (!s.ok()) return Finish(s);
    auto src = OpenDecodedSource(spec, decode, &rep);
    if (!src.ok()) return Finish(src.status());
    auto sink = TextSink::Create(*fmt, Stdout());
    if (!sink.ok()) return Finish(sink.status());
    uint64_t n = 0;
    s = Drain(src->get(), sink->get(), f->limit, &n);
    Status c = (*sink)->Close();
    if (s.ok()) s = c;
    // Ctrl-C is how a reader of a live topic (--follow) ends: 130, and nothing to say.
    if (s.code() == Code::kInterrupted) return kExitInterrupted;
    return Finish(AfterRead(s, spec.read, rep));
  };
}

}  // namespace evt::cmd
