#include "lib/pipeline/read.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>

#include "lib/base/term.h"
#include "lib/pipeline/jsonl_source.h"
#include "lib/pipeline/read_ahead.h"
#include "lib/log/segment_writer.h"

namespace evt {

Result<std::vector<PartitionDir>> ResolvePartitions(const std::vector<std::string>& paths) {
  std::vector<PartitionDir> all;
  for (const auto& p : paths) {
    auto parts = DiscoverPartitions(p);
    if (!parts.ok()) return parts.status();
    for (auto& pd : *parts) all.push_back(std::move(pd));
  }
  return all;
}

namespace {

// The records of a source that a predicate keeps (batches left empty are skipped).
class KeepRecords : public Source {
 public:
  using Keep = std::function<bool(const RecordBatch&, const Record&)>;
  KeepRecords(std::unique_ptr<Source> src, Keep keep) : src_(std::move(src)), keep_(std::move(keep)) {}
  Status Next(RecordBatch* out, bool* eof) override {
    for (;;) {
      Status s = src_->Next(out, eof);
      size_t w = 0;
      for (size_t i = 0; i < out->records.size(); ++i)
        if (keep_(*out, out->records[i])) out->records[w++] = out->records[i];
      out->records.resize(w);
      if (!s.ok() || *eof || w > 0) return s;
    }
  }
  std::string Describe() const override { return src_->Describe(); }

 private:
  std::unique_ptr<Source> src_;
  Keep keep_;
};

// JSON Lines records bounded by --from/--until, per partition, as segments are: offsets
// and times; positions that need the end of the input (`end`, `-N`) cannot be known from a
// stream and are refused when the source is opened.
KeepRecords::Keep Bounded(const ReadOptions& ro) {
  auto started = std::make_shared<std::map<std::pair<std::string, int32_t>, bool>>();
  return [ro, started](const RecordBatch& b, const Record& r) {
    if (ro.until.kind == Bound::kOffset && r.offset >= ro.until.value) return false;
    if (ro.until.kind == Bound::kTime && r.timestamp >= ro.until.value) return false;
    if (ro.from.kind == Bound::kOffset && r.offset < ro.from.value) return false;
    if (ro.from.kind == Bound::kTime) {
      bool& on = (*started)[{b.topic, r.partition}];
      if (!on && r.timestamp < ro.from.value) return false;
      on = true;
    }
    return true;
  };
}

// JSON Lines records of the --partitions asked for.
KeepRecords::Keep InPartitions(std::vector<int32_t> parts) {
  return [parts = std::move(parts)](const RecordBatch& b, const Record& r) {
    int32_t p = r.partition >= 0 ? r.partition : b.partition;
    return std::find(parts.begin(), parts.end(), p) != parts.end();
  };
}

Result<std::unique_ptr<Source>> OpenJsonl(const SourceSpec& spec) {
  if (spec.merge_time) return Status::InvalidArgument("--merge time is for segment files; not for JSON Lines input");
  for (const Bound* b : {&spec.read.from, &spec.read.until})
    if (b->kind == Bound::kEnd || b->kind == Bound::kFromEnd)
      return Status::InvalidArgument(
          "JSON Lines input is read as a stream: --from/--until take an offset or a time there, not `end` or -N");
  JsonlSourceOptions jo;
  jo.target_records = spec.read.target_records;
  std::unique_ptr<Source> src = std::make_unique<JsonlSource>(spec.paths, jo);
  if (spec.read.from.kind != Bound::kBeginning || spec.read.until.kind != Bound::kNone)
    src = std::make_unique<KeepRecords>(std::move(src), Bounded(spec.read));
  if (!spec.partitions.empty()) src = std::make_unique<KeepRecords>(std::move(src), InPartitions(spec.partitions));
  return src;
}

}  // namespace

bool NamesSegments(const std::string& path) {
  if (kafka::IsKafkaUrl(path) || path == "-") return false;
  if (IsDirectory(path)) return true;
  const std::string name = Basename(path);
  for (std::string_view s : {".log", ".log.swap", ".log.deleted", ".log.cleaned"})
    if (name.ends_with(s)) return true;
  return false;
}

InputKind InputKindOf(const std::string& path) {
  if (kafka::IsKafkaUrl(path)) return InputKind::kKafka;
  if (path == "-") return InputKind::kJsonl;
  if (NamesSegments(path)) return InputKind::kSegments;
  const std::string name = Basename(path);
  for (std::string_view s : {".jsonl", ".json", ".ndjson", ".zst", ".gz"})
    if (name.ends_with(s)) return InputKind::kJsonl;
  for (std::string_view s : {".index", ".timeindex", ".txnindex", ".snapshot", "checkpoint", ".index.swap",
                             ".timeindex.swap", ".index.deleted", ".timeindex.deleted"})
    if (name.ends_with(s)) return InputKind::kNotRecords;
  if (name == "partition.metadata" || name == ".lock" || name == ".evt.lock") return InputKind::kNotRecords;
  // Anything else: JSON Lines if it starts like a JSON object, else read as a segment (a
  // batch starts with an 8-byte big-endian offset, never with '{').
  char c = 0;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    int ch;
    while ((ch = std::fgetc(f)) != EOF && (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')) {
    }
    c = ch == EOF ? 0 : static_cast<char>(ch);
    std::fclose(f);
  }
  return c == '{' ? InputKind::kJsonl : InputKind::kSegments;
}

Result<std::unique_ptr<Source>> OpenSource(const SourceSpec& spec, Reporter* reporter, SourceInfo* info) {
  SourceInfo local;
  const bool want_estimate = info != nullptr;  // reads the tail of every partition
  if (!info) info = &local;
  *info = SourceInfo{};
  if (spec.paths.empty()) return Status::InvalidArgument("no source given");
  size_t kafka_count = 0, jsonl_count = 0;
  for (const auto& p : spec.paths) {
    switch (InputKindOf(p)) {
      case InputKind::kKafka: ++kafka_count; break;
      case InputKind::kJsonl: ++jsonl_count; break;
      case InputKind::kNotRecords:
        return Status::InvalidArgument(fmt::format(
            "{}: not a segment file (an index, snapshot or checkpoint holds no records; `evt dump` shows it)", p));
      case InputKind::kSegments: break;
    }
  }
  if (jsonl_count > 0) {
    if (jsonl_count != spec.paths.size())
      return Status::InvalidArgument("give either segment files/directories, JSON Lines files or one topic, not a mix");
    info->kind = InputKind::kJsonl;
    auto src = OpenJsonl(spec);
    if (!src.ok()) return src.status();
    return MaybeWhere(std::move(*src), spec.where, reporter);
  }
  if (kafka_count > 0) {
    if (spec.paths.size() != 1)
      return Status::InvalidArgument("read one Kafka topic at a time, without other sources in the same command");
    if (spec.read.include_control)
      return Status::InvalidArgument("--include-control: Kafka consumers never see control records");
    info->kind = InputKind::kKafka;
    info->partitions = spec.partitions.size();
    auto src = spec.merge_time
                   ? OpenKafkaMerged(spec.paths[0], spec.read, spec.kafka, spec.kafka_read, spec.partitions, reporter)
                   : OpenKafkaSource(spec.paths[0], spec.read, spec.kafka, spec.kafka_read, spec.partitions, reporter);
    if (!src.ok()) return src.status();
    return MaybeWhere(std::move(*src), spec.where, reporter);
  }
  auto parts = ResolvePartitions(spec.paths);
  if (!parts.ok()) return parts.status();
  // Per selected partition: where reading starts, and how many offsets the scan covers.
  std::vector<std::pair<PartitionDir, ReadOptions>> plan;
  for (auto& pd : *parts) {
    if (!spec.partitions.empty() &&
        std::find(spec.partitions.begin(), spec.partitions.end(), pd.partition) == spec.partitions.end())
      continue;
    ReadOptions ro = spec.read;
    auto it = spec.start.find({pd.topic, pd.partition});
    if (it != spec.start.end()) ro.from = Bound{Bound::kOffset, it->second};
    if (want_estimate && !pd.segments.empty()) {
      auto next = PartitionNextOffset(pd.path);
      if (next.ok()) {
        int64_t lo = ro.from.kind == Bound::kOffset ? ro.from.value : pd.segments.front().base_offset;
        int64_t hi = ro.until.kind == Bound::kOffset ? std::min(ro.until.value, *next) : *next;
        info->estimated_records = std::max<int64_t>(info->estimated_records, 0) + std::max<int64_t>(0, hi - lo);
      }
    }
    plan.emplace_back(std::move(pd), ro);
  }
  if (plan.empty() && !spec.partitions.empty())
    return Status::NotFound("no partition of the sources is selected by --partitions");
  info->kind = InputKind::kSegments;
  info->partitions = plan.size();
  std::unique_ptr<Source> src;
  if (spec.merge_time && plan.size() > 1) {
    std::vector<std::unique_ptr<Source>> per;
    for (auto& [pd, ro] : plan)
      per.push_back(std::make_unique<SegmentSource>(std::vector<PartitionDir>{std::move(pd)}, ro, reporter));
    src = MergeByTime(std::move(per));
  } else {  // one partition after another, decoded one batch ahead on a thread, overlapping with the sink
    src = ReadSegmentsAhead(std::move(plan), reporter);
  }
  return MaybeWhere(std::move(src), spec.where, reporter);
}

namespace {

// Sources read one after another.
class Concat : public Source {
 public:
  explicit Concat(std::vector<std::unique_ptr<Source>> v) : v_(std::move(v)) {}
  Status Next(RecordBatch* out, bool* eof) override {
    // Sources that ended before the previous call: no batch still held points into them
    // (batches stay valid through one further call; ReadOptions::hold = 2).
    for (; freed_ < i_; ++freed_) v_[freed_].reset();
    while (i_ < v_.size()) {
      bool e = false;
      EVT_RETURN_IF_ERROR(v_[i_]->Next(out, &e));
      if (!e) {
        *eof = false;
        return Status::OK();
      }
      ++i_;
    }
    out->Clear();
    *eof = true;
    return Status::OK();
  }
  std::string Describe() const override {
    if (v_.size() == 1 && v_[0]) return v_[0]->Describe();
    return fmt::format("{} partitions", v_.size());
  }

 private:
  std::vector<std::unique_ptr<Source>> v_;
  size_t i_ = 0, freed_ = 0;
};

}  // namespace

std::unique_ptr<Source> ReadSegmentsAhead(std::vector<std::pair<PartitionDir, ReadOptions>> plan,
                                          Reporter* reporter) {
  return std::make_unique<ReadAheadSource>(
      [&plan](Reporter* thread_reporter) -> std::unique_ptr<Source> {
        std::vector<std::unique_ptr<Source>> per;
        for (auto& [pd, ro] : plan) {
          ReadOptions held = ro;
          held.hold = 2;
          per.push_back(std::make_unique<SegmentSource>(std::vector<PartitionDir>{std::move(pd)}, held,
                                                        thread_reporter));
        }
        return std::make_unique<Concat>(std::move(per));
      },
      reporter);
}

Result<std::unique_ptr<Source>> OpenKafkaSource(const std::string& url, const ReadOptions& read,
                                                const kafka::KafkaConfig& cfg, kafka::KafkaReadOptions ro,
                                                const std::vector<int32_t>& partitions, Reporter* reporter) {
  auto t = kafka::ParseKafkaUrl(url);
  if (!t.ok()) return t.status();
  if (!partitions.empty()) t->partitions = partitions;
  ro.from = read.from;
  ro.until = read.until;
  ro.target_records = read.target_records;
  auto src = kafka::KafkaSource::Open(*t, cfg, ro, reporter);
  if (!src.ok()) return src.status();
  return std::unique_ptr<Source>(std::move(*src));
}

Result<std::unique_ptr<Source>> OpenKafkaMerged(const std::string& url, const ReadOptions& read,
                                                const kafka::KafkaConfig& cfg, const kafka::KafkaReadOptions& ro,
                                                std::vector<int32_t> partitions, Reporter* reporter) {
  if (!ro.group.empty()) return Status::InvalidArgument("--merge time reads partitions itself: not with -G");
  if (ro.follow) return Status::InvalidArgument("--merge time needs an end: not with --follow");
  auto t = kafka::ParseKafkaUrl(url);
  if (!t.ok()) return t.status();
  if (partitions.empty()) partitions = t->partitions;
  if (partitions.empty()) {
    kafka::KafkaClusterInfo info;
    EVT_RETURN_IF_ERROR(kafka::InspectKafka(*t, cfg, &info));
    for (const auto& topic : info.topics)
      for (const auto& p : topic.partitions) partitions.push_back(p.partition);
    if (partitions.empty()) return Status::NotFound(fmt::format("{}: the topic has no partitions", t->Describe()));
  }
  if (partitions.size() == 1) return OpenKafkaSource(url, read, cfg, ro, partitions, reporter);
  std::vector<std::unique_ptr<Source>> per;
  for (int32_t p : partitions) {
    auto src = OpenKafkaSource(url, read, cfg, ro, {p}, reporter);
    if (!src.ok()) return src.status();
    per.push_back(std::move(*src));
  }
  return MergeByTime(std::move(per));
}

Status Drain(Source* src, Sink* sink, int64_t limit, uint64_t* count) {
  RecordBatch batch;
  uint64_t n = 0;
  auto emit = [&]() -> Status {
    const size_t total = batch.records.size();
    size_t take = total;
    if (limit >= 0 && n + take > static_cast<uint64_t>(limit)) take = static_cast<size_t>(limit - static_cast<int64_t>(n));
    Status s;
    if (take < total) batch.records.resize(take);  // a limit cuts the batch
    s = sink->Write(batch);
    n += take;
    if (s.ok() && take > 0 && src->wants_ack()) {
      // Consumer groups commit only what reached the destination.
      s = sink->Flush();
      if (s.ok()) s = src->Ack(take == total ? nullptr : &batch.records[take - 1]);
    }
    return s;
  };
  Status result;
  for (;;) {
    if (InterruptRequested()) {
      result = Status::Interrupted();
      break;
    }
    bool eof = false;
    Status s = src->Next(&batch, &eof);
    if (!s.ok()) {
      // Records decoded before the error are still written: nothing is silently dropped.
      Status ws = emit();
      result = ws.ok() ? s : ws;
      break;
    }
    if (eof) {
      // Consumer groups commit the position read in every partition, not only where the
      // last written record came from: records --where passed over were consumed too.
      if (src->wants_ack()) {
        result = sink->Flush();
        if (result.ok()) result = src->Ack(nullptr);
      }
      break;
    }
    result = emit();
    if (!result.ok()) break;
    if (limit >= 0 && n >= static_cast<uint64_t>(limit)) break;
  }
  *count = n;
  return result;
}

}  // namespace evt
