// Opening the destination a command names: one place that decides what `dst` is.
#pragma once
#include <memory>
#include <string>

#include "lib/kafka/client.h"
#include "lib/log/segment_writer.h"
#include "lib/base/source.h"
#include "lib/pipeline/text_sink.h"

namespace evt {

// What a destination names: a Kafka topic (kafka://), stdout (`-`), a JSON Lines file
// (`.jsonl`/`.json`/`.ndjson`, or an existing regular file), else segments: a partition
// directory (<topic>-<N>) or a data directory of them.
enum class SinkKind { kKafka, kStdout, kJsonl, kSegments };
SinkKind SinkKindOf(const std::string& dst);
const char* SinkKindName(SinkKind k);  // "kafka", "stdout", "jsonl", "segments" (checkpoints keep it)

// True when `dst` names one partition directory (its name is <topic>-<N> and it does not
// hold partition directories of its own).
bool IsPartitionDirTarget(const std::string& dst);

struct SinkOptions {
  // Which kinds the command takes: without text destinations (`evt write`), anything that
  // is not a topic is a segment directory, whatever its name; without stdout, `-` is refused.
  bool text = true;
  bool allow_stdout = true;
  std::string flag;  // the flag naming the destination, for messages ("--dead-letter"); empty: the argument
  TextFormat text_format;             // stdout and JSON Lines files (appended to)
  WriterOptions writer;               // segment directories
  kafka::KafkaConfig kafka;           // topics
  kafka::KafkaWriteOptions kafka_write;
  // A kafka:// URL without a topic: this one (e.g. --to-topic, or the source's).
  std::string default_topic;
};

// Opens the destination. The caller never needs to know which kind it got: Sink has
// Commit/Rewind/End for checkpoints and summaries.
Result<std::unique_ptr<Sink>> OpenSink(const std::string& dst, const SinkOptions& o, Reporter* reporter);

}  // namespace evt
