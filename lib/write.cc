#include "lib/write.h"

#include <fmt/format.h>

#include "lib/read.h"

namespace evt {

bool IsPartitionDirTarget(const std::string& dst) {
  std::string topic;
  int32_t part;
  if (!ParsePartitionDirName(RealBasename(dst), &topic, &part)) return false;
  if (!IsDirectory(dst)) return true;
  auto entries = ListDir(dst);
  if (!entries.ok()) return true;
  for (const auto& e : *entries) {
    std::string t;
    int32_t p;
    if (e.is_dir && ParsePartitionDirName(e.name, &t, &p)) return false;
  }
  return true;
}

namespace {

bool IsSegmentInput(const std::string& p) {
  return IsDirectory(p) || (p.size() > 4 && p.compare(p.size() - 4, 4, ".log") == 0);
}

// Segment records keep their topic and partition unless --topic / --partition N (or a
// partition directory as the destination) say otherwise, as for JSON Lines.
class Retarget : public Source {
 public:
  Retarget(std::unique_ptr<Source> src, std::string topic, int32_t partition)
      : src_(std::move(src)), topic_(std::move(topic)), partition_(partition) {}
  Status Next(RecordBatch* out, bool* eof) override {
    Status s = src_->Next(out, eof);
    if (!topic_.empty()) out->topic = topic_;
    if (partition_ >= 0) {
      out->partition = partition_;
      for (Record& r : out->records) r.partition = partition_;
    }
    return s;
  }
  std::string Describe() const override { return src_->Describe(); }

 private:
  std::unique_ptr<Source> src_;
  std::string topic_;
  int32_t partition_;
};

// The records to write: JSON Lines (stdin or files), or segment files/directories.
Result<std::unique_ptr<Source>> OpenRecords(const std::vector<std::string>& inputs, const JsonlSourceOptions& in,
                                            Reporter* reporter) {
  size_t segs = 0;
  for (const auto& p : inputs) segs += IsSegmentInput(p);
  if (segs == 0) return std::unique_ptr<Source>(std::make_unique<JsonlSource>(inputs, in));
  if (segs != inputs.size())
    return Status::InvalidArgument("--in: give either segment files/directories or JSON Lines files, not both");
  if (in.format != InputFormat::kEnvelope)
    return Status::InvalidArgument("--input lines/values is for JSON Lines, not for segment inputs");
  SourceSpec spec;
  spec.paths = inputs;
  auto src = OpenSource(spec, reporter);
  if (!src.ok() || (in.topic.empty() && in.partition < 0)) return src;
  return std::unique_ptr<Source>(std::make_unique<Retarget>(std::move(*src), in.topic, in.partition));
}

// ... with --keep-header/--drop-header applied.
Result<std::unique_ptr<Source>> OpenInputs(const WriteOptions& opts, const JsonlSourceOptions& in, Reporter* reporter) {
  auto src = OpenRecords(opts.inputs, in, reporter);
  if (!src.ok()) return src;
  return FilterHeaders(std::move(*src), opts.headers);
}

Status RunWriteKafka(const WriteOptions& opts, Reporter* reporter, WriteStats* stats) {
  auto t = kafka::ParseKafkaUrl(opts.dst);
  if (!t.ok()) return t.status();
  JsonlSourceOptions in = opts.input;
  if (in.format != InputFormat::kEnvelope && opts.kafka_write.policy == kafka::PartitionPolicy::kKeep)
    return Status::InvalidArgument("--partition keep: lines and values carry no partition");
  if (in.format != InputFormat::kEnvelope) in.partition = 0;  // ignored: the producer partitions
  if (in.topic.empty()) in.topic = t->topic;
  auto src = OpenInputs(opts, in, reporter);
  if (!src.ok()) return src.status();
  auto sink = kafka::KafkaSink::Open(*t, opts.kafka, opts.kafka_write);
  if (!sink.ok()) return sink.status();
  Status s = Drain(src->get(), sink->get(), -1, &stats->records);
  Status c = (*sink)->Close();
  uint64_t produced = (*sink)->produced(), delivered = (*sink)->delivered();
  if (s.code() == Code::kInterrupted || c.code() == Code::kInterrupted) {
    reporter->Notice(fmt::format("interrupted: {} records acknowledged by {}, {} not delivered", delivered,
                                 t->Describe(), produced - delivered));
    return Status::Interrupted();
  }
  if (!s.ok()) {
    reporter->Notice(fmt::format("{} records were delivered before the error{}", delivered,
                                 produced != delivered ? fmt::format(", {} not delivered", produced - delivered) : ""));
    return s;
  }
  stats->records = delivered;
  return c;
}

}  // namespace

Status RunWrite(const WriteOptions& opts, Reporter* reporter, WriteStats* stats) {
  if (kafka::IsKafkaUrl(opts.dst)) return RunWriteKafka(opts, reporter, stats);
  bool fixed = IsPartitionDirTarget(opts.dst);
  JsonlSourceOptions in = opts.input;
  if (fixed) {
    // Records take the directory's topic and partition.
    std::string topic;
    int32_t part = 0;
    ParsePartitionDirName(RealBasename(opts.dst), &topic, &part);
    in.topic = topic;
    in.partition = part;
  } else if (in.format != InputFormat::kEnvelope && (in.topic.empty() || in.partition < 0)) {
    return Status::InvalidArgument(
        "lines and values carry no topic/partition: write to a partition directory (<topic>-<N>) or give --topic "
        "and --partition");
  }
  auto src = OpenInputs(opts, in, reporter);
  if (!src.ok()) return src.status();
  SegmentDirSink sink(opts.dst, fixed, opts.writer, reporter);
  Status s = Drain(src->get(), &sink, -1, &stats->records);
  // Whatever happened, close the segments cleanly so what was written stays readable.
  Status c = sink.Close();
  if (s.ok()) s = c;
  return s;
}

}  // namespace evt
