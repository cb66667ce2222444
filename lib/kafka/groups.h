// Consumer groups and positions on a live cluster, for `evt lag`: committed offsets
// (OffsetFetch), log start/end offsets (ListOffsets), the first record at a position for
// many partitions at once (consumers of up to 256 partitions each, side by side), ListGroups
// and DescribeGroups. Every question about many partitions is one batched request (per
// broker; per consumer for the first records), never one round trip per partition.
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

// A committed offset and the metadata string committed with it.
struct CommittedInfo {
  int64_t offset = -1;  // -1: no commit
  std::string metadata;
};

// A time to find in a partition whose log is [low, end).
struct TimeQuery {
  int64_t time = -1;
  int64_t low = -1, end = -1;
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
  // The same, with the metadata of each commit.
  Status CommittedDetail(const std::string& group, const std::vector<TopicPartition>& parts,
                         std::map<TopicPartition, CommittedInfo>* out);
  // Commits `offsets` for `group` in one OffsetCommit, as a client outside the group
  // (generation -1, no member id: what kafka-consumer-groups sends). IOError without an
  // answer; Busy when the broker refuses it because the group has members (UNKNOWN_MEMBER_ID,
  // ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS: real brokers and librdkafka's mock alike);
  // IOError naming the partition and error for any other refusal.
  Status Commit(const std::string& group, const std::map<TopicPartition, int64_t>& offsets);
  // The same, each offset with a metadata string (OffsetCommit's committed_metadata).
  Status CommitWithMetadata(const std::string& group, const std::map<TopicPartition, CommittedInfo>& offsets);
  // For each partition, the first offset whose record has a timestamp >= time (its `end`
  // when none has): one ListOffsets by timestamp per broker, and where the broker finds
  // nothing (librdkafka's mock answers -1 to every time), a search with single fetches.
  Status OffsetsForTimes(const std::map<TopicPartition, TimeQuery>& want, std::map<TopicPartition, int64_t>* out);
  // Log start and end offsets of `parts` (any topics), in one ListOffsets per broker for
  // each of earliest and latest, and under read_committed a third for the last stable offset.
  Status Ends(const std::vector<TopicPartition>& parts, std::map<TopicPartition, PartitionEnds>* out);
  // For each partition, the first record at or after want.first and before want.second,
  // fetched for all of them at once: whole topics to each of as many consumers as it takes
  // for at most 256 partitions each (a bigger topic alone), side by side, each assigned to
  // all of its partitions.
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
