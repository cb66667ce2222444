// What the parts of the Kafka client (metadata.cc, config.cc, source.cc, sink.cc and
// inspect.cc) share: librdkafka clients and their configuration, the errors librdkafka
// reports asynchronously, and metadata, watermark and single-message queries. Private to
// lib/kafka; everything else includes client.h.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/status.h"
#include "lib/base/timeutil.h"
#include "lib/kafka/client.h"

namespace evt::kafka::internal {

using evt::SteadyMs;  // lib/base/timeutil.h

// The metadata string of a partition list entry (a commit's, from rd_kafka_committed), and
// setting it for rd_kafka_commit (copied; the list frees it with the entry).
inline std::string CommitMetadataOf(const rd_kafka_topic_partition_t& e) {
  if (!e.metadata || e.metadata_size == 0) return std::string();
  return std::string(static_cast<const char*>(e.metadata), e.metadata_size);
}
inline void SetCommitMetadata(rd_kafka_topic_partition_t* e, const std::string& md) {
  if (md.empty()) return;
  e->metadata = std::malloc(md.size());
  std::memcpy(e->metadata, md.data(), md.size());
  e->metadata_size = md.size();
}

// A decimal integer, the whole of `s` (config.cc).
bool ParseInt(const std::string& s, int64_t* v);

// Errors librdkafka reports asynchronously (connection refused, auth failures, ...).
struct ErrorState {
  std::mutex mu;
  std::string last;
  bool fatal = false;
  std::string fatal_msg;
  void* owner = nullptr;  // the object a handle's other callbacks need (rebalance)
  int64_t first_error_ms = 0;  // first error since the last sign of progress (0: none)
};

std::string LastError(ErrorState* st);
// librdkafka's text for `err`, with the last broker error when that says more.
std::string Explain(rd_kafka_resp_err_t err, ErrorState* st);

// Builds a librdkafka configuration: evt's defaults, then the user's -X/--config (which
// win). Values of secret properties never appear in messages.
Result<rd_kafka_conf_t*> MakeConf(const std::string& brokers, const KafkaConfig& cfg,
                                  const std::vector<std::pair<std::string, std::string>>& defaults,
                                  ErrorState* errors);
// Creates a client from `conf` (which it takes over, also on failure).
Result<rd_kafka_t*> NewClient(rd_kafka_type_t type, rd_kafka_conf_t* conf);

// Owns a client: destroys it.
struct Handle {
  rd_kafka_t* rk = nullptr;
  ~Handle() {
    if (rk) rd_kafka_destroy(rk);
  }
};

// A cluster's brokers and topics (by name), each topic's partitions by id.
struct Meta {
  struct Part {
    int32_t id;
    int32_t leader;
    std::vector<int32_t> replicas;
    rd_kafka_resp_err_t err;
  };
  struct Topic {
    std::string name;
    rd_kafka_resp_err_t err;
    std::vector<Part> parts;
  };
  std::vector<std::pair<int32_t, std::string>> brokers;
  std::vector<Topic> topics;
};

// Metadata for one topic (or all topics when `topic` is empty), within timeout_ms.
Status FetchMetadata(rd_kafka_t* rk, const std::string& brokers, const std::string& topic, int64_t timeout_ms,
                     ErrorState* st, Meta* out);

// The partitions of `topic` (an error naming the topic when it does not exist). Asks for
// every topic's metadata: a request naming the topic would let the cluster auto-create it
// (librdkafka sends AllowAutoTopicCreation for application metadata requests).
Status TopicPartitions(rd_kafka_t* rk, const KafkaTarget& t, int64_t timeout_ms, ErrorState* st,
                       std::vector<int32_t>* parts, bool allow_create = false);

// One message at or after `offset` in a partition, through a probe consumer.
struct Probe {
  rd_kafka_t* rk = nullptr;
  std::string topic;
  int64_t timeout_ms = 30000;
  ErrorState* st = nullptr;

  // *found = false when the partition has no message in [offset, end).
  Status FetchOne(int32_t part, int64_t offset, int64_t end, int64_t* got_offset, int64_t* got_ts, bool* found);

  // The first offset in [low, end) whose record has a timestamp >= t (end when none):
  // a binary search with single fetches, then a short scan. Timestamps are assumed to be
  // mostly ordered by offset, as Kafka's time index assumes.
  Status SearchTime(int32_t part, int64_t low, int64_t end, int64_t t, int64_t* result);
};

// Low and high watermarks of many partitions in two ListOffsets round trips (timestamps
// -2 and -1 ask for the earliest and latest offsets; under read_committed the latest is
// the last stable offset). Partitions the batch cannot answer are asked one by one.
Status Watermarks(rd_kafka_t* rk, const std::string& topic, const std::vector<int32_t>& ids, int64_t timeout_ms,
                  ErrorState* st, std::map<int32_t, std::pair<int64_t, int64_t>>* out);

}  // namespace evt::kafka::internal
