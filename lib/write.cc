#include "lib/write.h"

#include "lib/read.h"

namespace evt {

bool IsPartitionDirTarget(const std::string& dst) {
  std::string topic;
  int32_t part;
  if (!ParsePartitionDirName(Basename(dst), &topic, &part)) return false;
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

Status RunWrite(const WriteOptions& opts, Reporter* reporter, WriteStats* stats) {
  bool fixed = IsPartitionDirTarget(opts.dst);
  JsonlSourceOptions in = opts.input;
  if (fixed) {
    // Records take the directory's topic and partition.
    std::string topic;
    int32_t part = 0;
    ParsePartitionDirName(Basename(opts.dst), &topic, &part);
    in.topic = topic;
    in.partition = part;
  } else if (in.format != InputFormat::kEnvelope && (in.topic.empty() || in.partition < 0)) {
    return Status::InvalidArgument(
        "lines and values carry no topic/partition: write to a partition directory (<topic>-<N>) or give --topic "
        "and --partition");
  }
  JsonlSource src(opts.inputs, in);
  SegmentDirSink sink(opts.dst, fixed, opts.writer, reporter);
  Status s = Drain(&src, &sink, -1, &stats->records);
  // Whatever happened, close the segments cleanly so what was written stays readable.
  Status c = sink.Close();
  if (s.ok()) s = c;
  return s;
}

}  // namespace evt
