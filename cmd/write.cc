// evt write DST: JSON Lines from stdin (or files) into a segment directory.
#include <fmt/format.h>

#include "cmd/common.h"
#include "formats/kafka/compression.h"
#include "lib/read.h"
#include "lib/write.h"

namespace evt::cmd {

RunFn SetupWrite(CLI::App* app) {
  struct Flags {
    std::string dst;
    std::vector<std::string> inputs;
    std::string input = "envelope";
    std::string key_field;
    std::string topic;
    int32_t partition = -1;
    std::string compression = "zstd";
    int level = -1;
    uint64_t segment_bytes = 1ull << 30;
    size_t batch_records = 1000;
    size_t batch_bytes = 1 << 20;
    bool keep_offsets = false;
    std::string fsync = "end";
    bool wait = false;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("DST", f->dst,
                  "A partition directory (<topic>-<N>) for all records, or a directory in which each record goes to "
                  "<topic>-<partition>")
      ->required();
  AddRepeatable(app, "--in,-i", &f->inputs, "Read from FILE instead of stdin (repeatable; .zst/.gz decompressed)");
  app->add_option("--input", f->input, "Input: envelope (JSON Lines records), lines (each line a value), values "
                                       "(each line a JSON value)")
      ->check(CLI::IsMember({"envelope", "lines", "values"}));
  app->add_option("--key-field", f->key_field, "With --input lines/values: take the key from this JSON field (.a.b)");
  app->add_option("--topic", f->topic, "Topic for records (overrides the envelope's)");
  app->add_option("--partition", f->partition, "Partition for records (overrides the envelope's)");
  app->add_option("--compression", f->compression, "Batch codec: none, gzip, snappy, lz4, zstd")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  app->add_option("--compression-level", f->level, "Codec level (default: the codec's own)");
  app->add_option("--segment-bytes", f->segment_bytes, "Roll to a new segment before one would exceed this size")
      ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 31));
  app->add_option("--batch-records", f->batch_records, "Records per batch at most")->check(CLI::Range(1, 1 << 20));
  app->add_option("--batch-bytes", f->batch_bytes, "Uncompressed bytes per batch (approximate upper bound)")
      ->check(CLI::Range(1, 256 << 20));
  app->add_flag("--keep-offsets", f->keep_offsets, "Keep the offsets of the input records (they must be above the log end)");
  app->add_option("--fsync", f->fsync, "When to fsync: never, batch (every batch), end (default)")
      ->check(CLI::IsMember({"never", "batch", "end"}));
  app->add_flag("--wait", f->wait, "Wait for another evt process holding the partition lock");
  return [f]() {
    WriteOptions o;
    o.dst = f->dst;
    o.inputs = f->inputs;
    o.input.format = f->input == "lines" ? InputFormat::kLines
                     : f->input == "values" ? InputFormat::kValues
                                            : InputFormat::kEnvelope;
    o.input.key_field = f->key_field;
    o.input.topic = f->topic;
    o.input.partition = f->partition;
    if (!f->key_field.empty() && o.input.format == InputFormat::kEnvelope)
      return Finish(Status::InvalidArgument("--key-field needs --input lines or --input values"));
    o.writer.encode.codec = *kafka::ParseCodec(f->compression);
    o.writer.encode.level = f->level;
    o.writer.segment_bytes = f->segment_bytes;
    o.writer.batch_records = f->batch_records;
    o.writer.batch_bytes = f->batch_bytes;
    o.writer.keep_offsets = f->keep_offsets;
    o.writer.fsync = f->fsync == "never" ? FsyncPolicy::kNever : f->fsync == "batch" ? FsyncPolicy::kBatch
                                                                                      : FsyncPolicy::kEnd;
    o.writer.wait_for_lock = f->wait;
    StderrReporter rep;
    WriteStats stats;
    return Finish(RunWrite(o, &rep, &stats));
  };
}

}  // namespace evt::cmd
