// Consumer groups and positions on a live cluster, for `evt lag`: committed offsets
// (OffsetFetch), log start/end offsets (ListOffsets), the first record at a position for
// many partitions at once (one consumer assigned to all of them), ListGroups and
// DescribeGroups. Every question about many partitions is one batched request (per broker),
// never one round trip per partition.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/status.h"
#include "lib/kafka/client.h"

namespace evt::kafka {

using TopicPartition = std::pair<std::string, int32_t>;

struct TopicMeta {
  std::string topic;
  std::vector<int32_t> partitions;  // ascending
  std::string error;                // the cluster's error for the topic, or ""
};

// Where a partition's log starts and ends. -1: unknown (see error).
struct PartitionEnds {
  int64_t low = -1;   // log start offset (ListOffsets earliest)
  int64_t high = -1;  // high watermark (ListOffsets latest, read_uncommitted)
  int64_t lso = -1;   // last stable offset (ListOffsets latest, read_committed); -1 when not asked
  std::string error;
};

// The first record a consumer gets at or after a position, before an end.
struct FirstRecord {
  bool found = false;
  int64_t offset = -1;
  int64_t timestamp = -1;
  // Without a record: the consumer reached the end of what it can read (a partition-EOF
  // event) at this position. At or past the end asked for, the entries left between the
  // start and the end are transaction markers or aborted records only.
  bool eof = false;
  int64_t eof_position = -1;
  std::string error;
};

struct GroupMember {
  std::string member_id;
  std::string client_id;
  std::string host;
  std::vector<TopicPartition> assignment;  // from the consumer protocol's assignment
};
struct GroupInfo {
  std::string group;
  std::string state;
  std::string protocol_type;  // "consumer" for Kafka consumers; "" for commit-only groups
  std::string protocol;
  std::vector<GroupMember> members;
};

// One connection to a cluster for group questions. Kept open between calls (evt lag
// --watch asks every interval); one extra librdkafka client per group asked about
// (OffsetFetch is answered for the client's group.id), never joining the group.
class GroupClient {
 public:
  static Result<std::unique_ptr<GroupClient>> Open(const std::string& brokers, const KafkaConfig& cfg,
                                                   Isolation isolation);
  ~GroupClient();

  // Every topic of the cluster and its partitions (one Metadata request); internal topics
  // (named __*) only with `internal`.
  Status Topics(bool internal, std::vector<TopicMeta>* out);
  // The offsets `group` committed for `parts`, in one OffsetFetch (rd_kafka_committed):
  // -1 for a partition without a commit. IOError when the cluster does not answer in time;
  // NotFound with the broker's error when it answers with one (e.g. not authorized).
  Status Committed(const std::string& group, const std::vector<TopicPartition>& parts,
                   std::map<TopicPartition, int64_t>* out);
  // Commits `offsets` (the next offset to consume, per partition) for `group`, in one
  // OffsetCommit, without joining the group (evt dlq redrive --commit-group).
  Status Commit(const std::string& group, const std::map<TopicPartition, int64_t>& offsets);
  // Log start and end offsets of `parts` (any topics), in one ListOffsets per broker for
  // each of earliest and latest, and under read_committed a third for the last stable offset.
  Status Ends(const std::vector<TopicPartition>& parts, std::map<TopicPartition, PartitionEnds>* out);
  // For each partition, the first record at or after want.first and before want.second,
  // fetched for all of them at once by one consumer assigned to every partition.
  Status FirstRecords(const std::map<TopicPartition, std::pair<int64_t, int64_t>>& want,
                      std::map<TopicPartition, FirstRecord>* out);
  // ListGroups (and DescribeGroups of each): Unsupported when the broker does not answer
  // ListGroups (librdkafka's mock cluster).
  Status ListGroups(std::vector<GroupInfo>* out);
  // DescribeGroups of one group: Unsupported when the broker does not answer it.
  Status DescribeGroup(const std::string& group, GroupInfo* out);

  const std::string& brokers() const;

 private:
  GroupClient() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Kafka's ConsumerProtocolAssignment (version, [topic, [partition]], user data), as a
// DescribeGroups member assignment carries it. False on bytes that do not parse.
bool ParseConsumerAssignment(std::string_view bytes, std::vector<TopicPartition>* out);

}  // namespace evt::kafka
