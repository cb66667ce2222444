// Opening the sources a reading subcommand names, and draining them into a sink.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/kafka/client.h"
#include "lib/log/segment.h"
#include "lib/base/source.h"
#include "lib/pipeline/where.h"

namespace evt {

struct SourceSpec {
  std::vector<std::string> paths;
  ReadOptions read;
  bool merge_time = false;
  WhereOptions where;  // --where: keep only matching records
  // Kafka sources (kafka:// URLs among `paths`): client settings, and what a consumer needs
  // beyond `read` (from/until come from `read`).
  kafka::KafkaConfig kafka;
  kafka::KafkaReadOptions kafka_read;
  // --partitions: only these partitions (empty: all). Segment sources skip the other
  // directories, a topic is read only there, JSON Lines records of others are dropped.
  std::vector<int32_t> partitions;
  // Segment sources: where reading starts per partition (a resumed job's checkpoint),
  // replacing `read.from` there. Topics and JSON Lines start as `read` says.
  Positions start;
};

// What a path names, for every reader: a Kafka topic (kafka://), segments (a directory, or
// a `.log` file, or a file that is not text), JSON Lines (`-` for stdin, `.jsonl`/`.json`/
// `.ndjson`, `.zst`/`.gz`, or a file whose first byte is `{`), or another file of a
// partition directory (`.index`, `.timeindex`, `.snapshot`, checkpoints), which holds no
// records.
enum class InputKind { kKafka, kSegments, kJsonl, kNotRecords };
InputKind InputKindOf(const std::string& path);
// The part of that rule that needs no sniffing: a directory or a `.log` file (also
// `.log.swap`, `.log.deleted`, `.log.cleaned`). `evt write --in` takes everything else as
// text in its --input format.
bool NamesSegments(const std::string& path);

// What OpenSource opened.
struct SourceInfo {
  InputKind kind = InputKind::kSegments;
  // Segment sources: the records the scan covers, from offsets (an upper bound on what is
  // selected, for progress ETAs); -1 when unknown.
  int64_t estimated_records = -1;
  // Partitions read: segment sources, or a topic's --partitions (0: all of a topic, or
  // JSON Lines, not counted).
  size_t partitions = 0;
};

// Resolves all paths (segment files/dirs, envelope JSON Lines files or `-`, or one kafka://
// URL) into one Source (merged by time if asked). This is the one place that decides what
// a source path is.
Result<std::unique_ptr<Source>> OpenSource(const SourceSpec& spec, Reporter* reporter, SourceInfo* info = nullptr);
// Opens the Kafka topic `url` as a consumer bounded by `read` (from, until, target_records);
// a non-empty `partitions` replaces the URL's ?partition= list.
Result<std::unique_ptr<Source>> OpenKafkaSource(const std::string& url, const ReadOptions& read,
                                                const kafka::KafkaConfig& cfg, kafka::KafkaReadOptions ro,
                                                const std::vector<int32_t>& partitions, Reporter* reporter);
// The partitions of a topic (`partitions` when given, else all, from metadata), one
// consumer each, merged by record timestamp (--merge time, replay --speed over a whole
// topic). Memory is one fetched batch per partition. Not for consumer groups or --follow:
// a merge waits for every partition, and an idle live partition would hold it forever.
Result<std::unique_ptr<Source>> OpenKafkaMerged(const std::string& url, const ReadOptions& read,
                                                const kafka::KafkaConfig& cfg, const kafka::KafkaReadOptions& ro,
                                                std::vector<int32_t> partitions, Reporter* reporter);
// Resolves the partition directories the paths name (for commands that work per partition).
Result<std::vector<PartitionDir>> ResolvePartitions(const std::vector<std::string>& paths);
// Segment partitions, each with its own bounds, read one after another and decoded one
// batch ahead on a thread (ReadAheadSource over SegmentSources with ReadOptions::hold = 2).
std::unique_ptr<Source> ReadSegmentsAhead(std::vector<std::pair<PartitionDir, ReadOptions>> plan,
                                          Reporter* reporter);

// Reads every batch of `src` into `sink`, stopping after `limit` records (< 0: no limit) or
// when interrupted. Returns the records copied in *count.
Status Drain(Source* src, Sink* sink, int64_t limit, uint64_t* count);

}  // namespace evt
