#include "lib/read.h"

#include <fmt/format.h>

#include "lib/base/term.h"
#include "lib/read_ahead.h"
#include "lib/text_sink.h"

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

Result<std::unique_ptr<Source>> OpenSource(const SourceSpec& spec, Reporter* reporter) {
  size_t kafka_count = 0;
  for (const auto& p : spec.paths) kafka_count += kafka::IsKafkaUrl(p);
  if (kafka_count > 0) {
    if (spec.paths.size() != 1)
      return Status::InvalidArgument("read one Kafka topic at a time, without other sources in the same command");
    if (spec.merge_time) return Status::InvalidArgument("--merge time is for segment files; not for Kafka topics");
    if (spec.read.include_control)
      return Status::InvalidArgument("--include-control: Kafka consumers never see control records");
    auto src = OpenKafkaSource(spec.paths[0], spec.read, spec.kafka, spec.kafka_read, {}, reporter);
    if (!src.ok()) return src.status();
    return MaybeWhere(std::move(*src), spec.where, reporter);
  }
  auto parts = ResolvePartitions(spec.paths);
  if (!parts.ok()) return parts.status();
  std::unique_ptr<Source> src;
  if (spec.merge_time && parts->size() > 1)
    src = MergeByTime(SegmentSource::PerPartition(*parts, spec.read, reporter));
  else {  // decoded one batch ahead on a thread, overlapping with the sink
    std::vector<std::pair<PartitionDir, ReadOptions>> plan;
    for (auto& pd : *parts) plan.emplace_back(std::move(pd), spec.read);
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

Status Drain(Source* src, Sink* sink, int64_t limit, uint64_t* count) {
  RecordBatch batch;
  uint64_t n = 0;
  auto* text = dynamic_cast<TextSink*>(sink);
  auto emit = [&]() -> Status {
    const size_t total = batch.records.size();
    size_t take = total;
    if (limit >= 0 && n + take > static_cast<uint64_t>(limit)) take = static_cast<size_t>(limit - static_cast<int64_t>(n));
    Status s;
    if (take == batch.records.size()) {
      s = sink->Write(batch);
    } else if (text) {
      s = text->WriteRange(batch, 0, take);
    } else {
      batch.records.resize(take);
      s = sink->Write(batch);
    }
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
    if (eof) break;
    result = emit();
    if (!result.ok()) break;
    if (limit >= 0 && n >= static_cast<uint64_t>(limit)) break;
  }
  *count = n;
  return result;
}

}  // namespace evt
