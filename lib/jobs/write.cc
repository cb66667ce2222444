#include "lib/jobs/write.h"

#include <fmt/format.h>

#include "formats/envelope/envelope.h"
#include "lib/pipeline/read.h"

namespace evt {

void AppendInvalidLine(const InvalidLine& l, std::string* out) {
  out->append("{\"file\":");
  envelope::AppendJsonString(l.file, out);
  fmt::format_to(std::back_inserter(*out), ",\"line\":{},\"error\":", l.line);
  envelope::AppendJsonString(l.error, out);
  if (envelope::IsValidUtf8(l.raw)) {
    out->append(",\"raw\":");
    envelope::AppendJsonString(l.raw, out);
  } else {
    out->append(",\"raw_base64\":\"");
    envelope::AppendBase64(l.raw, out);
    out->push_back('"');
  }
  out->append("}\n");
}

namespace {

// --on-invalid skip / dead-letter: where invalid lines go, and how many there were.
class InvalidLines {
 public:
  InvalidLines(const WriteOptions& o, Reporter* reporter, uint64_t* count)
      : policy_(o.on_invalid), path_(o.dead_letter), reporter_(reporter), count_(count) {}
  // The dead-letter file is opened (created) before any record moves.
  Status Open() {
    if (policy_ != OnInvalid::kDeadLetter) return Status::OK();
    auto f = WritableFile::Open(path_, true);
    if (!f.ok()) return f.status();
    file_ = std::move(*f);
    return Status::OK();
  }
  Status Add(const InvalidLine& l) {
    ++*count_;
    if (policy_ == OnInvalid::kSkip) {
      reporter_->Notice(fmt::format("{}:{}: skipped: {}", l.file, l.line, l.error));
      return Status::OK();
    }
    line_.clear();
    AppendInvalidLine(l, &line_);
    EVT_RETURN_IF_ERROR(file_->Append(line_));
    return file_->Flush();  // rare: each one reaches the file as it is found
  }
  Status Close() { return file_ ? file_->Close() : Status::OK(); }
  void Attach(JsonlSourceOptions* in) {
    if (policy_ != OnInvalid::kError) in->on_invalid = [this](const InvalidLine& l) { return Add(l); };
  }

 private:
  OnInvalid policy_;
  std::string path_;
  Reporter* reporter_;
  uint64_t* count_;
  std::unique_ptr<WritableFile> file_;
  std::string line_;
};

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
                                            bool skip_corruption, Reporter* reporter) {
  size_t segs = 0;
  for (const auto& p : inputs) segs += NamesSegments(p);
  if (segs == 0 && skip_corruption)
    return Status::InvalidArgument("--on-corruption is for segment inputs; JSON Lines input takes --on-invalid");
  if (segs == 0) return std::unique_ptr<Source>(std::make_unique<JsonlSource>(inputs, in));
  if (segs != inputs.size())
    return Status::InvalidArgument("--in: give either segment files/directories or JSON Lines files, not both");
  if (in.format != InputFormat::kEnvelope)
    return Status::InvalidArgument("--input lines/values is for JSON Lines, not for segment inputs");
  if (in.on_invalid)
    return Status::InvalidArgument("--on-invalid is for JSON Lines input; segment inputs report damage as corruption");
  SourceSpec spec;
  spec.paths = inputs;
  spec.read.skip_corruption = skip_corruption;
  auto src = OpenSource(spec, reporter);
  if (!src.ok() || (in.topic.empty() && in.partition < 0)) return src;
  return std::unique_ptr<Source>(std::make_unique<Retarget>(std::move(*src), in.topic, in.partition));
}

// ... with --on-invalid (its dead-letter file opened) and --keep-header/--drop-header.
Result<std::unique_ptr<Source>> OpenInputs(const WriteOptions& opts, JsonlSourceOptions in, InvalidLines* invalid,
                                           Reporter* reporter) {
  invalid->Attach(&in);
  auto src = OpenRecords(opts.inputs, in, opts.skip_corruption, reporter);
  if (!src.ok()) return src;
  EVT_RETURN_IF_ERROR(invalid->Open());
  return MaybeEncode(FilterHeaders(std::move(*src), opts.headers), opts.encode);
}

}  // namespace

Status RunWrite(const WriteOptions& opts, Reporter* reporter, WriteStats* stats) {
  InvalidLines invalid(opts, reporter, &stats->invalid);
  // Where records come from decides what they must carry: a topic's producer partitions
  // them itself; a segment destination needs a topic and partition per record, or takes
  // them from the partition directory it names.
  const bool to_kafka = SinkKindOf(opts.dst) == SinkKind::kKafka;
  JsonlSourceOptions in = opts.input;
  std::string dst_name = opts.dst;
  if (to_kafka) {
    auto t = kafka::ParseKafkaUrl(opts.dst);
    if (!t.ok()) return t.status();
    dst_name = t->Describe();
    if (in.format != InputFormat::kEnvelope && opts.kafka_write.policy == kafka::PartitionPolicy::kKeep)
      return Status::InvalidArgument("--partition keep: lines and values carry no partition");
    if (in.format != InputFormat::kEnvelope) in.partition = 0;  // ignored: the producer partitions
    if (in.topic.empty()) in.topic = t->topic;
    in.hand_on_when_idle = true;  // the producer batches anyway: a record waits for nothing
  } else if (IsPartitionDirTarget(opts.dst)) {
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
  auto src = OpenInputs(opts, in, &invalid, reporter);
  if (!src.ok()) return src.status();
  SinkOptions so;
  so.text = false;  // `evt write` makes segments or produces to a topic
  so.writer = opts.writer;
  so.kafka = opts.kafka;
  so.kafka_write = opts.kafka_write;
  auto sink = OpenSink(opts.dst, so, reporter);
  if (!sink.ok()) return sink.status();
  Status s = Drain(src->get(), sink->get(), -1, &stats->records);
  // Whatever happened, close the destination, so that what was written stays readable
  // (segments) or is delivered (a topic).
  Status c = (*sink)->Close();
  Status ic = invalid.Close();
  const SinkEnd end = (*sink)->End();
  if (to_kafka && (s.code() == Code::kInterrupted || c.code() == Code::kInterrupted)) {
    reporter->Notice(fmt::format("interrupted: {} records acknowledged by {}, {} not delivered", end.acknowledged,
                                 dst_name, end.written - end.acknowledged));
    return Status::Interrupted();
  }
  if (to_kafka && !s.ok()) {
    reporter->Notice(fmt::format("{} records were delivered before the error{}", end.acknowledged,
                                 end.written != end.acknowledged
                                     ? fmt::format(", {} not delivered", end.written - end.acknowledged)
                                     : ""));
    return s;
  }
  if (to_kafka) stats->acknowledged = end.acknowledged;
  if (s.ok()) s = c;
  if (s.ok()) stats->acknowledged = end.acknowledged;
  return s.ok() ? ic : s;
}

}  // namespace evt
