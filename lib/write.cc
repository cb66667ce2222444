#include "lib/write.h"

#include <fmt/format.h>

#include "formats/envelope/envelope.h"
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
                                            bool skip_corruption, Reporter* reporter) {
  size_t segs = 0;
  for (const auto& p : inputs) segs += IsSegmentInput(p);
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
  return FilterHeaders(std::move(*src), opts.headers);
}

Status RunWriteKafka(const WriteOptions& opts, InvalidLines* invalid, Reporter* reporter, WriteStats* stats) {
  auto t = kafka::ParseKafkaUrl(opts.dst);
  if (!t.ok()) return t.status();
  JsonlSourceOptions in = opts.input;
  if (in.format != InputFormat::kEnvelope && opts.kafka_write.policy == kafka::PartitionPolicy::kKeep)
    return Status::InvalidArgument("--partition keep: lines and values carry no partition");
  if (in.format != InputFormat::kEnvelope) in.partition = 0;  // ignored: the producer partitions
  if (in.topic.empty()) in.topic = t->topic;
  auto src = OpenInputs(opts, in, invalid, reporter);
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
  stats->acknowledged = delivered;
  return c;
}

Status RunWriteSegments(const WriteOptions& opts, InvalidLines* invalid, Reporter* reporter, WriteStats* stats) {
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
  auto src = OpenInputs(opts, in, invalid, reporter);
  if (!src.ok()) return src.status();
  SegmentDirSink sink(opts.dst, fixed, opts.writer, reporter);
  Status s = Drain(src->get(), &sink, -1, &stats->records);
  // Whatever happened, close the segments cleanly so what was written stays readable.
  Status c = sink.Close();
  if (s.ok()) s = c;
  if (s.ok()) stats->acknowledged = stats->records;
  return s;
}

}  // namespace

Status RunWrite(const WriteOptions& opts, Reporter* reporter, WriteStats* stats) {
  InvalidLines invalid(opts, reporter, &stats->invalid);
  Status s = kafka::IsKafkaUrl(opts.dst) ? RunWriteKafka(opts, &invalid, reporter, stats)
                                         : RunWriteSegments(opts, &invalid, reporter, stats);
  Status c = invalid.Close();
  return s.ok() ? c : s;
}

}  // namespace evt
