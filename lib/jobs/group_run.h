// A job's share of a `--group` run (lib/jobs/group_plan.h has the plan and why it lives in
// the commit metadata): the plan chosen before joining, adopted again at the first
// assignment, each assigned partition's range from it, commits that carry it, and the
// test whether the whole run is done. Used by evt backfill --group.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/base/term.h"
#include "lib/jobs/group_plan.h"
#include "lib/kafka/client.h"
#include "lib/kafka/groups.h"
#include "lib/pipeline/selection.h"

namespace evt {

class GroupRun : public kafka::GroupHooks {
 public:
  // Reads the stored plan and adopts it, or (none, or new_run) proposes one and commits
  // it from outside the group. InvalidArgument for a plan of another selection, and for
  // --new-run while the group has members.
  static Result<std::unique_ptr<GroupRun>> Prepare(const SelectionOptions& sel, const std::string& group,
                                                   const std::string& sel_hash, bool new_run, Reporter* reporter);
  ~GroupRun() override;

  Status OnAssign(std::vector<kafka::GroupAssigned>* parts) override;
  void OnRevoke(const std::vector<int32_t>& parts) override;

  // The job's part of a revocation: finish and commit these partitions' records.
  std::function<void(const std::vector<int32_t>&)> on_revoke;

  // Commits, for assigned partitions, the offset before which everything is done
  // (unchanged ones are not sent again).
  Status Commit(const std::map<int32_t, int64_t>& done_before);
  // True once every partition of the plan is committed at its end (one OffsetFetch).
  Result<bool> RunComplete();
  const std::string& topic() const { return topic_; }
  const std::string& run_id() const;
  bool created() const { return created_; }
  bool adopted_other() const { return adopted_other_; }
  uint64_t failed_commits() const { return failed_commits_; }

 private:
  GroupRun() = default;
  Status Resolve(const std::vector<int32_t>& parts, const std::string& run, std::map<int32_t, PlanEntry>* out);
  SelectionOptions sel_;
  std::string group_, sel_hash_, topic_;
  std::unique_ptr<kafka::GroupClient> client_;
  std::map<int32_t, PlanEntry> plan_;
  std::map<int32_t, int64_t> last_commit_;
  bool first_assignment_ = true, created_ = false, adopted_other_ = false;
  bool write_at_join_ = false;  // --new-run while the group has members
  uint64_t failed_commits_ = 0;
  std::string last_commit_error_;
  Reporter* reporter_ = nullptr;
};

// --status: the run's progress per partition from the committed offsets and the plan,
// sampled twice `sample_ms` apart for a commit rate (records/s, 0 when nothing moved).
struct GroupStatusReport {
  std::string topic;
  std::vector<PartitionStatus> parts;
  std::string run;
  double rate = 0;  // records/s over the sample
  bool owners_known = false;
  std::map<int32_t, std::string> owners;  // partition -> member (client id@host)
  std::string owners_note;                // why owners are unknown
};
Status GroupStatus(const SelectionOptions& sel, const std::string& group, int64_t sample_ms, GroupStatusReport* out);

}  // namespace evt
