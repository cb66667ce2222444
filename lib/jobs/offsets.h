// `evt offsets`: a consumer group's committed offsets (show), and moving them (reset): a
// plan of old -> new offset per partition with the records that will be skipped or read
// again, applied in one OffsetCommit with --execute, exported and read back as
// kafka-consumer-groups' CSV or evt's JSON Lines.
//
// The plan is computed by pure functions (ResetTarget, ClampOffset, the file parser and the
// output formats) so that it is tested without Kafka; RunOffsetsShow / RunOffsetsReset ask
// the cluster (GroupClient) and fill the report.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/jobs/lag.h"
#include "lib/kafka/client.h"
#include "lib/kafka/groups.h"

namespace evt {

enum class ResetMode { kEarliest, kLatest, kOffset, kShiftBy, kDatetime, kFile };

// One partition's new offset as a plan file gives it.
struct PlannedOffset {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
};
// A plan file: kafka-consumer-groups' export CSV (`topic,partition,offset`, or
// `group,topic,partition,offset` for several groups: only `group`'s lines are taken), or the
// JSON Lines evt writes (`evt offsets reset ... --export plan.json`, or its stdout): lines with
// "topic", "partition" and "new" (or "offset"); lines of kind "total" are skipped. The format
// is told by the content (a line starting with `{` is JSON). InvalidArgument naming
// file:line for anything else.
Result<std::vector<PlannedOffset>> ParsePlanFile(std::string_view text, const std::string& name,
                                                 const std::string& group);

struct OffsetsOptions {
  std::string brokers;
  kafka::KafkaConfig kafka;
  std::string group;
  std::vector<LagTopic> topics;  // show: empty = every topic with a commit; reset: --topic T[:P,...]
  bool all_topics = false;       // reset: every topic the group has commits for
  ResetMode mode = ResetMode::kEarliest;
  int64_t value = 0;             // --to-offset N, --shift-by N, or the time (ms) of --to-datetime / --by-duration
  std::string from_file;         // --from-file: its text is read by RunOffsetsReset
  bool execute = false;
  bool force = false;            // --force: reset even when the group may have active members
};

struct OffsetRow {
  std::string topic;
  int32_t partition = -1;
  int64_t committed = -1;  // -1: no commit
  std::string metadata;
  int64_t low = -1, end = -1;
  // reset:
  int64_t wanted = -1;     // what the mode asked for, before clamping
  int64_t next = -1;       // the new offset (clamped to [low, end]); -1: left out (see note)
  bool clamped = false;
  std::string note;        // why a partition is left out or what a figure means
  int64_t Skipped() const;  // records the group will not read (new > current)
  int64_t Reread() const;   // records it will read again (new < current)
};

struct OffsetsReport {
  std::string group;
  std::vector<OffsetRow> rows;  // by topic, partition
  // Members: whether they could be asked (DescribeGroups) and who they are.
  bool members_known = false;
  std::string state;                 // the group's state as DescribeGroups gives it
  std::vector<std::string> members;  // client-id@host
  std::string members_note;          // why they are unknown
  std::vector<std::string> warnings; // clamped offsets, partitions left out (one line each)
  bool executed = false;             // the OffsetCommit was sent and answered
  bool verified = false;             // an OffsetFetch after it read back every new offset
};

// The offset `mode` asks for, from the partition's current commit and log (the time mode's
// answer, found by the caller, comes in `for_time`), before clamping (a shift may go below 0);
// a note, and no offset, when there is none (a shift without a commit to shift from).
int64_t ResetTarget(ResetMode mode, int64_t value, int64_t committed, int64_t low, int64_t end, int64_t for_time,
                    std::string* note);
// `wanted` clamped to [low, end] (kafka-consumer-groups' rule); *clamped when it moved.
int64_t ClampOffset(int64_t wanted, int64_t low, int64_t end, bool* clamped);

// The committed offsets (with metadata) of o.group, and the log start/end of those partitions.
Status RunOffsetsShow(const OffsetsOptions& o, OffsetsReport* out);
// The plan; with o.execute, applied in one OffsetCommit and read back. Refuses (Busy,
// exit 2) to execute while DescribeGroups says the group has members, or when it
// cannot say (a broker without DescribeGroups, as librdkafka's mock cluster), unless o.force.
Status RunOffsetsReset(const OffsetsOptions& o, OffsetsReport* out);

// Output (lib never prints).
std::string OffsetsShowTable(const OffsetsReport& r);
std::string OffsetsShowJson(const OffsetsReport& r);
std::string ResetPlanTable(const OffsetsReport& r);
// JSON Lines: one line per partition ({"kind":"partition","group","topic","partition",
// "current","new","log_start","log_end","skipped","reread","clamped",...}) and a total.
std::string ResetPlanJson(const OffsetsReport& r);
// kafka-consumer-groups' export layout: `topic,partition,offset`, no header.
std::string ResetPlanCsv(const OffsetsReport& r);

}  // namespace evt
