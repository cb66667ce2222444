// evt write DST: JSON Lines from stdin (or files) into a segment directory or a Kafka topic.
#include <fmt/format.h>

#include <cstdlib>

#include "cmd/common.h"

#include "formats/kafka/compression.h"
#include "lib/pipeline/read.h"
#include "lib/jobs/write.h"

namespace evt::cmd {

namespace {

// --on-invalid error | skip | dead-letter:FILE
Status ParseOnInvalid(const std::string& v, WriteOptions* o) {
  static constexpr std::string_view kDead = "dead-letter";
  if (v == "error") {
    o->on_invalid = OnInvalid::kError;
  } else if (v == "skip") {
    o->on_invalid = OnInvalid::kSkip;
  } else if (v.rfind(kDead, 0) == 0) {
    if (v.size() <= kDead.size() + 1 || v[kDead.size()] != ':')
      return Status::InvalidArgument("--on-invalid dead-letter needs a file, joined with ':': --on-invalid dead-letter:FILE");
    o->on_invalid = OnInvalid::kDeadLetter;
    o->dead_letter = v.substr(kDead.size() + 1);
  } else {
    return Status::InvalidArgument(
        fmt::format("--on-invalid: expected error, skip or dead-letter:FILE, got '{}'", v));
  }
  return Status::OK();
}

}  // namespace

RunFn SetupWrite(CLI::App* app) {
  struct Flags {
    std::string dst;
    std::vector<std::string> inputs;
    std::string input = "envelope";
    std::string key_field;
    std::string topic;
    std::string partition;
    bool create_topic = false;
    KafkaFlags kafka;
    std::string compression = "zstd";
    int level = -1;
    int producers = 0;
    uint64_t segment_bytes = 1ull << 30;
    size_t batch_records = 1000;
    size_t batch_bytes = 1 << 20;
    bool keep_offsets = false;
    std::string fsync = "end";
    bool wait = false;
    HeaderFlags headers;
    std::string on_invalid = "error";
    std::string on_corruption = "stop";
    EncodeFlags encode;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("DST", f->dst,
                  "A partition directory (<topic>-<N>) for all records, a directory in which each record goes to "
                  "<topic>-<partition>, or a Kafka topic kafka://HOST[:PORT],.../TOPIC");
  AddRepeatable(app, "--in,-i", &f->inputs,
                "Read from FILE instead of stdin (repeatable; .zst/.gz decompressed; segment files or directories "
                "are read as records)");
  app->add_option("--input", f->input, "Input: envelope (JSON Lines records), lines (each line a value), values "
                                       "(each line a JSON value)")
      ->check(CLI::IsMember({"envelope", "lines", "values"}));
  app->add_option("--key-field", f->key_field, "With --input lines/values: take the key from this JSON field (.a.b)");
  app->add_option("-t,--topic", f->topic,
                  "Topic for records (overrides the envelope's); with -b or $EVT_BROKERS and no DST, the Kafka topic "
                  "to produce to");
  app->add_option("--partition", f->partition,
                  "N: every record to partition N; keep: the record's own partition (default for directories); "
                  "hash: Java's murmur2 of the key (default for Kafka; keyless records spread randomly)");
  AddHeaderFlags(app, &f->headers);
  AddCreateTopicFlag(app, &f->create_topic);
  AddProducersFlag(app, &f->producers);
  AddKafkaFlags(app, &f->kafka, 0);
  app->add_option("--compression", f->compression, "Batch codec: none, gzip, snappy, lz4, zstd")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  app->add_option("--compression-level", f->level, "Codec level (default: the codec's own)");
  app->add_option("--segment-bytes", f->segment_bytes, "Roll to a new segment before one would exceed this size")
      ->check(Between(1024, 1ull << 31));
  app->add_option("--batch-records", f->batch_records, "Records per batch at most")->check(Between(1, 1 << 20));
  app->add_option("--batch-bytes", f->batch_bytes, "Uncompressed bytes per batch (approximate upper bound)")
      ->check(Between(1, 256 << 20));
  app->add_flag("--keep-offsets", f->keep_offsets, "Keep the offsets of the input records (they must be above the log end)");
  app->add_option("--fsync", f->fsync, "When to fsync: never, batch (every batch), end (default)")
      ->check(CLI::IsMember({"never", "batch", "end"}));
  app->add_flag("--wait", f->wait, "Wait for another evt process holding the partition lock");
  // One value (dead-letter:FILE, not two words): CLI11 2.1.2 would take the DST after an
  // option of one or two values as its second value.
  app->add_option("--on-corruption", f->on_corruption,
                  "Segment inputs (--in DIR): stop (default) at a corrupt batch, or skip it: report each bad range, "
                  "write every good batch, exit 1 at the end")
      ->check(CLI::IsMember({"stop", "skip"}));
  app->add_option("--on-invalid", f->on_invalid,
                  "A JSON Lines line that is not a record: error (stop there; the default), skip (warn with "
                  "file:line, go on) or dead-letter:FILE (append it to FILE as JSON, go on); any invalid line makes "
                  "the exit status 1")
      ->type_name("error|skip|dead-letter:FILE")
      ->default_str("error");
  AddEncodeFlags(app, &f->encode, /*schema_flags=*/true);
  return [f]() {
    if (PrintPropertyListIfAsked(f->kafka)) return kExitOk;
    WriteOptions o;
    o.dst = f->dst;
    bool to_kafka = kafka::IsKafkaUrl(o.dst);
    if (o.dst.empty()) {
      if (f->topic.empty() || (f->kafka.brokers.empty() && !std::getenv("EVT_BROKERS")))
        return Finish(Status::InvalidArgument("DST is required (or -b BROKERS -t TOPIC for a Kafka topic)"));
      o.dst = "kafka://" + f->kafka.brokers + "/" + f->topic;
      to_kafka = true;
    } else if (to_kafka) {
      o.dst = WithBrokers(o.dst, f->kafka);
    }
    Status ks = ResolveKafkaConfig(f->kafka, &o.kafka);
    if (!ks.ok()) return Finish(ks);
    StderrReporter rep;
    if (Status es = ResolveEncodeFlags(f->encode, f->kafka, &o.kafka, nullptr, &rep, &o.encode); !es.ok())
      return Finish(es);
    int32_t fixed_partition = -1;
    if (!f->partition.empty()) {
      PartitionChoice pc;
      if (Status ps = ParsePartitionFlag(f->partition, &pc, &fixed_partition); !ps.ok()) return Finish(ps);
      if (pc == PartitionChoice::kHash && !to_kafka)
        return Finish(Status::InvalidArgument("--partition hash needs a Kafka destination (it needs the partition count)"));
      o.kafka_write.policy = pc == PartitionChoice::kKeep   ? kafka::PartitionPolicy::kKeep
                             : pc == PartitionChoice::kHash ? kafka::PartitionPolicy::kHash
                                                            : kafka::PartitionPolicy::kFixed;
      o.kafka_write.fixed_partition = fixed_partition;
    }
    if (Status k = CheckKafkaSinkFlags(to_kafka, f->create_topic, f->producers); !k.ok()) return Finish(k);
    o.kafka_write.create_topic = f->create_topic;
    o.kafka_write.producers = f->producers;
    o.kafka_write.compression = f->compression;
    o.kafka_write.compression_level = f->level;
    if (Status h = ResolveHeaderFlags(f->headers, &o.headers); !h.ok()) return Finish(h);
    o.inputs = f->inputs;
    o.input.format = f->input == "lines" ? InputFormat::kLines
                     : f->input == "values" ? InputFormat::kValues
                                            : InputFormat::kEnvelope;
    o.input.key_field = f->key_field;
    o.input.suggest_input = true;
    if (Status v = ParseOnInvalid(f->on_invalid, &o); !v.ok()) return Finish(v);
    o.input.topic = to_kafka ? "" : f->topic;
    o.input.partition = to_kafka ? -1 : fixed_partition;
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
    o.skip_corruption = f->on_corruption == "skip";
    WriteStats stats;
    ReadOptions read;
    read.skip_corruption = o.skip_corruption;
    Status s = AfterRead(RunWrite(o, &rep, &stats), read, rep);
    // One line at the end, as replay prints, for a destination the user cannot see in the
    // pipe (stdout carries no data here).
    if (s.ok())
      PrintSummary(fmt::format("wrote {} record{}, {} acknowledged, to {}", stats.records, stats.records == 1 ? "" : "s",
                               stats.acknowledged, o.dst));
    if (stats.invalid > 0) {
      PrintSummary(fmt::format("{} invalid line{} {}", stats.invalid, stats.invalid == 1 ? "" : "s",
                               o.on_invalid == OnInvalid::kSkip ? "skipped" : "written to " + o.dead_letter));
      if (s.ok()) return kExitData;
    }
    return Finish(s);
  };
}

}  // namespace evt::cmd
