// Kafka topics as a Source and a Sink, through librdkafka.
#pragma once

#include "formats/kafka/partitioner.h"  // Murmur2Partition, for callers and tests
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/status.h"
#include "lib/base/bound.h"
#include "lib/base/source.h"

namespace evt::kafka {

// kafka://HOST[:PORT][,HOST[:PORT]...]/TOPIC[?partition=N,M]   (port 9092 when omitted;
// an empty host list means $EVT_BROKERS). The topic may be empty (inspect lists topics).
struct KafkaTarget {
  std::string brokers;
  std::string topic;
  std::vector<int32_t> partitions;  // empty: all
  std::string Describe() const;     // kafka://brokers/topic (URLs carry no credentials)
};
bool IsKafkaUrl(const std::string& s);
Result<KafkaTarget> ParseKafkaUrl(const std::string& url);
// From -b/--brokers (or $EVT_BROKERS when empty) and a topic.
Result<KafkaTarget> KafkaTargetFrom(const std::string& brokers, const std::string& topic);
// "0,2-4" -> {0,2,3,4}
Result<std::vector<int32_t>> ParsePartitionList(const std::string& s);

struct KafkaConfig {
  std::vector<std::pair<std::string, std::string>> props;  // -X and --config, in order
  int64_t timeout_ms = 30000;                               // connecting and each request
  // The integer value of property `name` (the last one given that is an integer), else `dflt`.
  int64_t IntProp(const std::string& name, int64_t dflt) const;
};
// Adds "prop=value" (from -X) and the lines of a librdkafka properties file.
Status AddProperty(const std::string& kv, KafkaConfig* cfg);
Status AddPropertiesFile(const std::string& path, KafkaConfig* cfg);
// librdkafka's property list, as text (for `-X list`).
std::string PropertyList();
// True for properties whose values are secrets (never echoed).
bool IsSecretProperty(const std::string& name);

enum class Isolation { kReadCommitted, kReadUncommitted };

// Where reading one partition stands against the end captured at start. Transaction
// markers (and, under read_committed, aborted records) take offsets consumers never
// receive, so the end is reached by position, the fetch position a partition-EOF event
// reports, and not by the last offset received.
struct PartitionProgress {
  int64_t end = INT64_MAX;        // exclusive; INT64_MAX when following
  int64_t stop_time = INT64_MAX;  // --until TIME: the first record at or after it ends the range
  int64_t pos = 0;                // next offset expected
  bool done = false;
  // A record arrived: true when it lies inside the range (the caller keeps it).
  bool OnRecord(int64_t offset, int64_t timestamp) {
    if (done || offset >= end) {
      if (offset >= end) done = true;
      return false;
    }
    pos = offset + 1;
    if (timestamp >= stop_time) {
      done = true;
      return false;
    }
    if (pos >= end) done = true;
    return true;
  }
  // The consumer's fetch position reached `position` (a partition-EOF event).
  void OnEnd(int64_t position) {
    pos = std::max(pos, position);
    if (position >= end) done = true;
  }
};

class KafkaSource;

// A partition the group assigned, for a job that plans its run (evt backfill --group):
// what the group committed for it (offset and metadata) and its watermarks; the job fills
// in where to read (start) and where to stop (end).
struct GroupAssigned {
  int32_t partition = -1;
  int64_t committed = -1;  // -1: no commit
  std::string metadata;
  int64_t low = -1, high = -1;
  int64_t start = -1, end = -1;  // filled by GroupHooks::OnAssign
};

// A job that works on a group's assignment. Called from inside KafkaSource::Next (the
// rebalance callback runs on the consuming thread), never from another thread.
class GroupHooks {
 public:
  virtual ~GroupHooks() = default;
  // Every assignment (the whole set under the eager protocol, the partitions added under
  // the cooperative one): fill start and end for each partition; an error stops the run.
  virtual Status OnAssign(std::vector<GroupAssigned>* parts) = 0;
  // Before `parts` are released (all of them in an eager rebalance, those that move in a
  // cooperative one): finish their records, commit. False when this member has nothing
  // left to do (the whole run is done): the source then leaves the group (unsubscribes)
  // instead of rejoining, since a close waits for a JoinGroup in flight and a coordinator
  // may hold that until the members that left time out.
  virtual bool OnRevoke(const std::vector<int32_t>& parts) = 0;
  KafkaSource* source = nullptr;  // set by KafkaSource::Open
};

struct KafkaReadOptions {
  Bound from{Bound::kBeginning, 0};
  Bound until{Bound::kNone, 0};  // kNone: the end captured at start (unless follow)
  Isolation isolation = Isolation::kReadCommitted;
  bool follow = false;   // keep consuming past the end captured at start
  std::string group;     // -G: consume as a member of this group; commit what was acked
  size_t target_records = 4096;
  // With `group`: the job decides each assigned partition's range (GroupHooks::OnAssign)
  // and when the run ends; Next() then returns an empty batch (not eof) when it has
  // nothing, so that the job keeps control, and never reports eof itself.
  GroupHooks* hooks = nullptr;
};

// Reads the target's partitions from the start bound to the end position captured when
// reading starts (positions, not "last offset received": transaction markers take offsets
// clients never see). Records come in batches of one partition. Errors name
// <topic>/<partition>@<offset>. Time bounds use offsetsForTimes, with a client-side search
// where the broker answers -1 (librdkafka's mock cluster always does).
class KafkaSource : public Source {
 public:
  static Result<std::unique_ptr<KafkaSource>> Open(const KafkaTarget& t, const KafkaConfig& cfg,
                                                   const KafkaReadOptions& ro, Reporter* reporter);
  ~KafkaSource() override;
  Status Next(RecordBatch* out, bool* eof) override;
  std::string Describe() const override;
  bool wants_ack() const override;
  Status Ack(const Record* upto) override;

  // With GroupHooks: whether an assignment has arrived, and whether every assigned
  // partition reached its end.
  bool GroupJoined() const;
  bool AssignedDone() const;
  // Under the cooperative protocol (without -X debug): true while this member rejoins the
  // group, when a commit would wait behind its JoinGroup and come back refused.
  bool Rebalancing() const;
  // Per assigned partition, the offset before which every record was returned by Next()
  // (or skipped as outside the range): what may be committed once they are done.
  std::map<int32_t, int64_t> Returned() const;
  // Commits offsets with metadata as this member of the group (synchronous).
  Status CommitMetadata(const std::map<int32_t, std::pair<int64_t, std::string>>& offsets);
  // What the group committed for every partition of the topic (offset, metadata).
  Status FetchCommitted(std::map<int32_t, std::pair<int64_t, std::string>>* out);

 private:
  KafkaSource() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class PartitionPolicy { kHash, kKeep, kFixed };

struct KafkaWriteOptions {
  PartitionPolicy policy = PartitionPolicy::kHash;
  int32_t fixed_partition = 0;
  int32_t default_partition = -1;  // kKeep: for records that carry no partition (-1: an error)
  std::string compression = "zstd";
  int compression_level = -1;
  bool create_topic = false;
  // Producer instances (0: automatic, one per CPU up to 4 and at most one per partition).
  // librdkafka compresses a broker's batches on that broker's one thread; several instances
  // compress in parallel. Partition p is always written by instance p % n, so per-partition
  // order and idempotence hold. -X partitioner or -X transactional.id force a single one.
  int producers = 0;
};

// Produces records to the target topic with the idempotent producer (acks=all) and Java's
// murmur2 partitioner (null keys: a random partition). Close() flushes; records the broker
// did not acknowledge make it fail with DataProblem and a count.
class KafkaSink : public Sink {
 public:
  static Result<std::unique_ptr<KafkaSink>> Open(const KafkaTarget& t, const KafkaConfig& cfg,
                                                 const KafkaWriteOptions& wo);
  ~KafkaSink() override;
  Status Write(const RecordBatch& batch) override;
  Status Flush() override;
  // Waits for every delivery report (after Ctrl-C for at most min(--timeout, 5 s)): a
  // DataProblem names the records not acknowledged. Then the high watermarks.
  Status Commit(SinkPosition* at) override;
  // With a provenance id: reads each partition from the position's watermark to its end
  // and collects the evt.source references of records carrying that evt.replay.id.
  Status Rewind(const SinkPosition& at, std::string_view provenance_id, RewindResult* r) override;
  SinkEnd End() const override;
  Status Close() override;
  uint64_t produced() const;
  uint64_t delivered() const;
  int32_t partition_count() const;
  int producer_count() const;  // librdkafka producer instances (see KafkaWriteOptions)
  // High watermarks of every partition of the target topic (one batched request).
  Status Ends(std::map<int32_t, int64_t>* out);

 private:
  KafkaSink() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `evt inspect kafka://...`: cluster metadata and watermarks.
struct KafkaPartitionInfo {
  int32_t partition = -1;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  int64_t low = -1;
  int64_t high = -1;
  int64_t first_timestamp = -1;  // with a topic: record at low
  int64_t last_timestamp = -1;   // with a topic: last record before high
  std::string error;
};
struct KafkaTopicInfo {
  std::string topic;
  std::vector<KafkaPartitionInfo> partitions;
  std::string error;
};
struct KafkaClusterInfo {
  std::string brokers;  // as given
  std::vector<std::pair<int32_t, std::string>> broker_list;  // id, host:port
  std::vector<KafkaTopicInfo> topics;
};
Status InspectKafka(const KafkaTarget& t, const KafkaConfig& cfg, KafkaClusterInfo* out);
std::string KafkaInfoJson(const KafkaClusterInfo& info, bool with_timestamps);
std::string KafkaInfoTable(const KafkaClusterInfo& info, bool with_timestamps);


}  // namespace evt::kafka
