// The frozen plan of a `--group` run (evt backfill --group): per partition, where the run
// starts and ends, stored in the metadata of the group's committed offset of that
// partition. No extra topic or service: every member (and kafka-consumer-groups
// --describe) finds it where the progress is, and a commit updates both atomically.
//
//   evt1 run=<id> sel=<hash of the selection flags> start=<offset> end=<offset>
//
// A run's plan is chosen once: the first process finds no plan (or is told --new-run),
// proposes one and commits it from outside the group; every process then adopts what is
// stored when it gets its first assignment, so two processes that both proposed a plan at
// once end up following the same one (the last written).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace evt {

struct PlanEntry {
  std::string run;  // run id (hex)
  std::string sel;  // hash of the selection (what is read, which records)
  int64_t start = -1, end = -1;
  bool operator==(const PlanEntry& o) const {
    return run == o.run && sel == o.sel && start == o.start && end == o.end;
  }
};

std::string EncodePlan(const PlanEntry& e);
// False when `metadata` is not an evt1 plan (empty, another tool's, damaged).
bool ParsePlan(std::string_view metadata, PlanEntry* out);

// What the group has committed for one partition.
struct StoredOffset {
  int64_t committed = -1;
  std::string metadata;
};

enum class PlanDecision {
  kAdopt,   // follow `plan` (stored)
  kCreate,  // no usable plan (or --new-run): propose a new one
  kRefuse,  // a plan for a different selection: exit 2 (unless --new-run)
};
struct PlanChoice {
  PlanDecision decision = PlanDecision::kCreate;
  std::map<int32_t, PlanEntry> plan;  // kAdopt: per partition (partitions without one: missing)
  std::string why;                    // kRefuse: the message
};
// Decides from what is stored for every partition of the topic. One run id across the
// stored plans adopts it (partitions the topic gained since are missing from `plan`: the
// caller plans them under the same run); several run ids or another selection refuse;
// nothing stored creates. `new_run` creates whatever is stored.
PlanChoice ChoosePlan(const std::map<int32_t, StoredOffset>& stored, const std::string& sel, bool new_run);

// A new run id: 16 hex digits from the clock and a random device.
std::string NewRunId();

// The run's progress in one partition, from the plan and the committed offset.
struct PartitionStatus {
  int32_t partition = -1;
  int64_t start = -1, committed = -1, end = -1;
  int64_t remaining = 0;
  std::string run;
};
// Per partition of `stored` that holds a plan; NotFound when none does.
Status RunStatus(const std::map<int32_t, StoredOffset>& stored, std::vector<PartitionStatus>* out);

}  // namespace evt
