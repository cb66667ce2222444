// A job's share of a `--group` run (lib/jobs/group_plan.h has the plan and why it lives in
// the commit metadata): the plan chosen before joining, adopted again at the first
// assignment, each assigned partition's range from it, commits that carry it, and the
// test whether the whole run is done. Used by evt backfill --group and evt replay --group.
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
  // A job's --group run: refuses --checkpoint (`checkpoint` not empty) and --dry-run, since
  // the progress lives in the group's commits, then Prepare with the job's identity.
  static Result<std::unique_ptr<GroupRun>> ForJob(const SelectionOptions& sel, const std::string& group,
                                                  const std::string& identity, bool new_run,
                                                  const std::string& checkpoint, bool dry_run, Reporter* reporter);
  ~GroupRun() override;

  // Makes `sel` consume as a member of the group, asking this run for each partition's range.
  void Attach(SelectionOptions* sel) {
    sel->kafka_read.group = group_;
    sel->kafka_read.hooks = this;
  }

  Status OnAssign(std::vector<kafka::GroupAssigned>* parts) override;
  bool OnRevoke(const std::vector<int32_t>& parts) override;

  // The job's part of a revocation (finish and commit these partitions' records), set for
  // the scope's life: it captures the job's locals, and the source revokes when it closes.
  class RevokeScope {
   public:
    RevokeScope(GroupRun* g, std::function<void(const std::vector<int32_t>&)> fn) : g_(g) {
      if (g_) g_->on_revoke_ = std::move(fn);
    }
    ~RevokeScope() {
      if (g_) g_->on_revoke_ = nullptr;
    }
    RevokeScope(const RevokeScope&) = delete;
    RevokeScope& operator=(const RevokeScope&) = delete;

   private:
    GroupRun* g_;
  };

  // How often a job commits: a partition that moves is read again from its last commit.
  static constexpr int64_t kCommitIntervalMs = 200;
  // Commits, for assigned partitions, the offset before which everything is done
  // (unchanged ones are not sent again). After a refusal that passes (a rebalance), the
  // periodic commits (`revoking` false) wait for the next assignment, at most
  // kCommitHoldMs: under the cooperative protocol a member keeps its partitions through a
  // rebalance, and librdkafka takes a commit refused there as the assignment lost (every
  // partition revoked and the group joined again), so commits that keep coming during a
  // long rebalance would keep the group rebalancing. A revocation's commit is always sent.
  static constexpr int64_t kCommitHoldMs = 1000;
  Status Commit(const std::map<int32_t, int64_t>& done_before, bool revoking);
  // The same for what the source returned (only the partitions in `only` when given),
  // each lowered to `lowest_open(partition)` where that is >= 0: a record the job has not
  // finished.
  Status CommitDone(const std::vector<int32_t>* only, const std::function<int64_t(int32_t)>& lowest_open);
  // How often a member whose partitions are all at their end asks whether the whole run is
  // (one OffsetFetch, from outside the group). Often, so that the members see the end at
  // nearly the same moment: under the cooperative protocol the first to leave starts a
  // rebalance the others join, and one that closes with its JoinGroup held by the
  // coordinator waits for that rebalance (librdkafka's mock holds it until the members
  // that left time out: session.timeout.ms - 1 s).
  static constexpr int64_t kCompletionCheckMs = 100;
  // True, at most every kCompletionCheckMs, once this member was assigned and every
  // partition it has reached its end: time to commit and ask RunComplete().
  bool CompletionCheckDue();
  // True once every partition of the plan is committed at its end (one OffsetFetch).
  Result<bool> RunComplete();
  const std::string& topic() const { return topic_; }
  const std::string& run_id() const;
  bool created() const { return created_; }

 private:
  GroupRun() = default;
  Status Resolve(const std::vector<int32_t>& parts, const std::string& run, std::map<int32_t, PlanEntry>* out);
  SelectionOptions sel_;
  std::string group_, sel_hash_, topic_;
  std::unique_ptr<kafka::GroupClient> client_;
  std::map<int32_t, PlanEntry> plan_;
  std::map<int32_t, int64_t> last_commit_;
  std::function<void(const std::vector<int32_t>&)> on_revoke_;
  bool first_assignment_ = true, created_ = false;
  bool write_at_join_ = false;  // --new-run while the group has members
  int64_t last_completion_check_ms_ = 0;
  int64_t refused_since_ms_ = -1, last_refusal_warning_ms_ = 0;  // commits refused since (steady ms)
  int64_t hold_since_ms_ = -1;  // periodic commits held since (steady ms), until the next assignment
  // Commits refused (a rebalance, the coordinator moving) for a tenth of
  // max.poll.interval.ms (-X; librdkafka's default, 300000, gives 30 s) are warned about;
  // for all of it (the longest a rebalance waits for a member) the run stops (exit 2).
  int64_t refused_warn_ms_ = 30000, refused_fail_ms_ = 300000;
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
