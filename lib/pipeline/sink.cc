#include "lib/pipeline/sink.h"

#include <fmt/format.h>

#include "lib/log/segment.h"

namespace evt {

SinkKind SinkKindOf(const std::string& dst) {
  if (kafka::IsKafkaUrl(dst)) return SinkKind::kKafka;
  if (dst == "-") return SinkKind::kStdout;
  for (std::string_view s : {".jsonl", ".json", ".ndjson"})
    if (dst.ends_with(s)) return SinkKind::kJsonl;
  if (IsRegularFile(dst)) return SinkKind::kJsonl;
  return SinkKind::kSegments;
}

const char* SinkKindName(SinkKind k) {
  switch (k) {
    case SinkKind::kKafka: return "kafka";
    case SinkKind::kStdout: return "stdout";
    case SinkKind::kJsonl: return "jsonl";
    case SinkKind::kSegments: return "segments";
  }
  return "?";
}

bool IsPartitionDirTarget(const std::string& dst) {
  std::string topic;
  int32_t part;
  if (!ParsePartitionDirName(RealBasename(dst), &topic, &part)) return false;
  auto subdirs = ListPartitionSubdirs(dst);
  return !subdirs.ok() || subdirs->empty();
}

Result<std::unique_ptr<Sink>> OpenSink(const std::string& dst, const SinkOptions& o, Reporter* reporter) {
  SinkKind kind = SinkKindOf(dst);
  if (!o.text && (kind == SinkKind::kJsonl || kind == SinkKind::kStdout)) kind = SinkKind::kSegments;
  switch (kind) {
    case SinkKind::kKafka: {
      auto t = kafka::ParseKafkaUrl(dst);
      if (!t.ok()) return t.status();
      if (t->topic.empty()) t->topic = o.default_topic;
      auto s = kafka::KafkaSink::Open(*t, o.kafka, o.kafka_write);
      if (!s.ok()) return s.status();
      return std::unique_ptr<Sink>(std::move(*s));
    }
    case SinkKind::kStdout:
    case SinkKind::kJsonl: {
      std::unique_ptr<WritableFile> f;
      if (kind == SinkKind::kStdout) {
        if (!o.allow_stdout)
          return Status::InvalidArgument(fmt::format("{}{}stdout is not a place to keep failures", o.flag,
                                                     o.flag.empty() ? "" : ": "));
        f = WritableFile::FromFd(1, "stdout");
      } else {
        auto w = WritableFile::Open(dst, true);
        if (!w.ok()) return w.status();
        f = std::move(*w);
      }
      auto ts = TextSink::Create(o.text_format, std::move(f));
      if (!ts.ok()) return ts.status();
      return std::unique_ptr<Sink>(std::move(*ts));
    }
    case SinkKind::kSegments: break;
  }
  return std::unique_ptr<Sink>(std::make_unique<SegmentDirSink>(dst, IsPartitionDirTarget(dst), o.writer, reporter));
}

}  // namespace evt
