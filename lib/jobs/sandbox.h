// evt sandbox: librdkafka's built-in mock cluster (a real Kafka-protocol broker on
// 127.0.0.1), with topics created and optionally preloaded from segment dirs or JSONL.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "lib/base/status.h"
#include "lib/base/source.h"

namespace evt::kafka {

struct SandboxTopic {
  std::string name;
  int partitions = 1;
};

struct SandboxLoad {
  std::string topic;
  std::string path;  // segment file/dir, or a JSON Lines envelope file (.jsonl/.json/.zst/.gz, "-")
};

// Fault injection for rehearsing failures (and for evt's own tests), applied after loads:
//   down-after=DURATION              every broker goes down after DURATION
//   topic-error=TOPIC:ERROR          metadata for TOPIC answers ERROR
//   request-error=API:ERROR[:COUNT]  the next COUNT (default 1) API requests fail with ERROR
//   rtt=DURATION                     every broker answers DURATION late
// ERROR is a Kafka error name (TOPIC_AUTHORIZATION_FAILED, NOT_LEADER_FOR_PARTITION, ...);
// API is a request name (Produce, Fetch, ListOffsets, Metadata, OffsetCommit, JoinGroup, ...).
struct SandboxFault {
  enum Kind { kDownAfter, kTopicError, kRequestError, kRtt } kind = kDownAfter;
  int64_t ms = 0;
  std::string topic;
  int16_t api = -1;
  int error = 0;
  int count = 1;
};
Result<SandboxFault> ParseSandboxFault(const std::string& spec);

struct SandboxOptions {
  int brokers = 1;
  std::vector<SandboxTopic> topics;
  std::vector<SandboxLoad> loads;
  std::vector<SandboxFault> faults;
};

// The mock cluster keeps only about this much per partition and silently drops older data.
constexpr uint64_t kMockPartitionBytes = 5ull << 20;
constexpr uint64_t kMockPartitionBatches = 100000;

class Sandbox {
 public:
  // Starts the cluster, creates the topics, and produces every load (offsets renumbered
  // from 0; partitions, keys, values, headers and timestamps preserved). Refuses a load
  // that a mock partition could not keep, saying how many partitions it would need.
  static Result<std::unique_ptr<Sandbox>> Start(const SandboxOptions& opts, Reporter* reporter);
  ~Sandbox();
  // "127.0.0.1:PORT[,127.0.0.1:PORT...]"
  const std::string& bootstrap() const { return bootstrap_; }
  // Records produced by --load, per topic, for messages.
  uint64_t loaded() const { return loaded_; }
  // Applies the faults (a down-after fault starts a timer thread).
  Status ApplyFaults(const std::vector<SandboxFault>& faults);

 private:
  Sandbox() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string bootstrap_;
  uint64_t loaded_ = 0;
};

// Parses "name:partitions,name2:partitions" (":partitions" optional, default 1).
Result<std::vector<SandboxTopic>> ParseSandboxTopics(const std::string& spec);
// Parses "TOPIC=PATH".
Result<SandboxLoad> ParseSandboxLoad(const std::string& spec);

}  // namespace evt::kafka
