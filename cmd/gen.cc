// evt gen: deterministic synthetic CloudEvents-style events, as JSONL or into segments.
#include <fmt/format.h>

#include "cmd/common.h"
#include "formats/kafka/compression.h"
#include "lib/base/timeutil.h"
#include "lib/jobs/gen.h"
#include "lib/pipeline/read.h"
#include "lib/log/segment_writer.h"
#include "lib/pipeline/text_sink.h"
#include "lib/jobs/write.h"

namespace evt::cmd {

RunFn SetupGen(CLI::App* app) {
  struct Flags {
    GenOptions g;
    std::string types;
    std::string start;
    std::string step = "1s";
    std::string output;
    std::string compression = "zstd";
    int level = -1;
    uint64_t segment_bytes = 1ull << 30;
    size_t batch_records = 1000;
    size_t batch_bytes = 1 << 20;
    std::string format = "envelope";
  };
  auto f = std::make_shared<Flags>();
  app->add_option("--count,-c", f->g.count, "Number of events")->default_val(1000);
  app->add_option("--keys", f->g.keys, "Distinct keys (0: null keys)")->default_val(100);
  app->add_option("--seed", f->g.seed, "Random seed (same seed, same output)")->default_val(1);
  app->add_option("--types", f->types, "Comma-separated event types");
  app->add_option("--value-size", f->g.value_size, "Approximate value size in bytes")->default_val(256);
  app->add_option("--topic", f->g.topic, "Topic name")->default_val("events");
  app->add_option("--partitions", f->g.partitions, "Partitions (records spread by key)")
      ->default_val(1)
      ->check(Between(1, 100000));
  app->add_option("--start", f->start, "Timestamp of the first event (RFC 3339; default 2023-11-14T22:13:20Z)");
  app->add_option("--step", f->step, "Average gap between events (duration)")->default_val("1s");
  app->add_option("--output,-o", f->output,
                  "Write segments into this directory (<topic>-<partition> inside, or a partition directory) "
                  "instead of JSON Lines on stdout");
  app->add_option("--format,-f", f->format, "Stdout format, as for evt cat (envelope, value, cloudevents, template)");
  app->add_option("--compression", f->compression, "With --output: batch codec")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  app->add_option("--compression-level", f->level, "With --output: codec level");
  app->add_option("--segment-bytes", f->segment_bytes, "With --output: segment size limit")
      ->check(Between(1024, 1ull << 31));
  app->add_option("--batch-records", f->batch_records, "With --output: records per batch at most")
      ->check(Between(1, 1 << 20));
  app->add_option("--batch-bytes", f->batch_bytes, "With --output: uncompressed bytes per batch")
      ->check(Between(1, 256 << 20));
  return [f]() {
    GenOptions g = f->g;
    if (!f->types.empty()) {
      g.types.clear();
      size_t b = 0;
      while (b <= f->types.size()) {
        size_t e = f->types.find(',', b);
        if (e == std::string::npos) e = f->types.size();
        if (e > b) g.types.push_back(f->types.substr(b, e - b));
        b = e + 1;
      }
      if (g.types.empty()) return Finish(Status::InvalidArgument("--types: no types given"));
    }
    if (!f->start.empty()) {
      auto t = ParseRfc3339(f->start);
      if (!t.ok()) return Finish(Status::InvalidArgument("--start: " + t.status().message()));
      g.start_ms = *t;
    }
    auto step = ParseDuration(f->step);
    if (!step.ok()) return Finish(Status::InvalidArgument("--step: " + step.status().message()));
    g.step_ms = *step;
    g.batch_records = f->batch_records;
    GenSource src(g);
    StderrReporter rep;
    uint64_t n = 0;
    if (f->output.empty()) {
      auto fmt = ParseTextFormat(f->format);
      if (!fmt.ok()) return Finish(fmt.status());
      auto sink = TextSink::Create(*fmt, Stdout());
      if (!sink.ok()) return Finish(sink.status());
      Status s = Drain(&src, sink->get(), -1, &n);
      Status c = (*sink)->Close();
      return Finish(s.ok() ? c : s);
    }
    WriterOptions w;
    w.encode.codec = *kafka::ParseCodec(f->compression);
    w.encode.level = f->level;
    w.segment_bytes = f->segment_bytes;
    w.batch_records = f->batch_records;
    w.batch_bytes = f->batch_bytes;
    bool fixed = IsPartitionDirTarget(f->output);
    if (fixed && g.partitions > 1)
      return Finish(Status::InvalidArgument("--output names one partition directory but --partitions > 1"));
    SegmentDirSink sink(f->output, fixed, w, &rep);
    Status s = Drain(&src, &sink, -1, &n);
    Status c = sink.Close();
    return Finish(s.ok() ? c : s);
  };
}

}  // namespace evt::cmd
