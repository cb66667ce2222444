#include "lib/jobs/group_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "lib/base/timeutil.h"
#include "lib/pipeline/checkpoint.h"

namespace evt {

namespace {

Status OneTopic(const SelectionOptions& sel, kafka::KafkaTarget* t) {
  if (sel.paths.size() != 1 || !kafka::IsKafkaUrl(sel.paths[0]))
    return Status::InvalidArgument("--group works on one kafka://HOST/TOPIC source");
  auto pt = kafka::ParseKafkaUrl(sel.paths[0]);
  if (!pt.ok()) return pt.status();
  if (!pt->partitions.empty() || !sel.partitions.empty())
    return Status::InvalidArgument("--group: the group assigns the partitions; drop --partitions/?partition=");
  *t = *pt;
  return Status::OK();
}

Status TopicParts(kafka::GroupClient* c, const std::string& topic, std::vector<int32_t>* out) {
  std::vector<kafka::TopicMeta> metas;
  EVT_RETURN_IF_ERROR(c->Topics(false, &metas));
  for (const auto& m : metas)
    if (m.topic == topic && m.error.empty()) {
      *out = m.partitions;
      if (out->empty()) break;
      return Status::OK();
    }
  return Status::NotFound(fmt::format("topic {} not found (or has no partitions)", topic));
}

Status Stored(kafka::GroupClient* c, const std::string& group, const std::string& topic,
              const std::vector<int32_t>& parts, std::map<int32_t, StoredOffset>* out) {
  std::vector<kafka::TopicPartition> tps;
  for (int32_t p : parts) tps.push_back({topic, p});
  std::map<kafka::TopicPartition, kafka::CommittedInfo> got;
  EVT_RETURN_IF_ERROR(c->CommittedDetail(group, tps, &got));
  for (const auto& [tp, ci] : got) (*out)[tp.second] = StoredOffset{ci.offset, ci.metadata};
  return Status::OK();
}

}  // namespace

GroupRun::~GroupRun() = default;

const std::string& GroupRun::run_id() const {
  static const std::string none;
  return plan_.empty() ? none : plan_.begin()->second.run;
}

// Start and end offsets of `parts` from --from/--until and the logs as they are now.
Status GroupRun::Resolve(const std::vector<int32_t>& parts, const std::string& run, std::map<int32_t, PlanEntry>* out) {
  std::vector<kafka::TopicPartition> tps;
  for (int32_t p : parts) tps.push_back({topic_, p});
  std::map<kafka::TopicPartition, kafka::PartitionEnds> ends;
  EVT_RETURN_IF_ERROR(client_->Ends(tps, &ends));
  const Bound& f = sel_.read.from;
  const Bound& u = sel_.read.until;
  std::map<kafka::TopicPartition, kafka::TimeQuery> tq_from, tq_until;
  for (const auto& tp : tps) {
    const auto& e = ends[tp];
    if (!e.error.empty() || e.high < 0)
      return Status::IOError(fmt::format("{}/{}: no end offset: {}", tp.first, tp.second, e.error));
    if (f.kind == Bound::kTime) tq_from[tp] = {f.value, e.low, e.high};
    if (u.kind == Bound::kTime) tq_until[tp] = {u.value, e.low, e.high};
  }
  std::map<kafka::TopicPartition, int64_t> tf, tu;
  if (!tq_from.empty()) EVT_RETURN_IF_ERROR(client_->OffsetsForTimes(tq_from, &tf));
  if (!tq_until.empty()) EVT_RETURN_IF_ERROR(client_->OffsetsForTimes(tq_until, &tu));
  for (const auto& tp : tps) {
    const auto& e = ends[tp];
    auto clamp = [&](int64_t o) { return std::min(std::max(o, e.low), e.high); };
    PlanEntry pe;
    pe.run = run;
    pe.sel = sel_hash_;
    switch (f.kind) {
      case Bound::kOffset: pe.start = clamp(f.value); break;
      case Bound::kEnd: pe.start = e.high; break;
      case Bound::kFromEnd: pe.start = std::max(e.low, e.high - f.value); break;
      case Bound::kTime: pe.start = tf[tp]; break;
      default: pe.start = e.low; break;
    }
    switch (u.kind) {
      case Bound::kOffset: pe.end = clamp(u.value); break;
      case Bound::kFromEnd: pe.end = std::max(e.low, e.high - u.value); break;
      case Bound::kTime: pe.end = tu[tp]; break;
      default: pe.end = e.high; break;
    }
    pe.end = std::max(pe.end, pe.start);
    (*out)[tp.second] = pe;
  }
  return Status::OK();
}

Result<std::unique_ptr<GroupRun>> GroupRun::Prepare(const SelectionOptions& sel, const std::string& group,
                                                    const std::string& sel_hash, bool new_run, Reporter* reporter) {
  kafka::KafkaTarget t;
  EVT_RETURN_IF_ERROR(OneTopic(sel, &t));
  if (sel.kafka_read.follow) return Status::InvalidArgument("--group runs a bounded plan: not with --follow");
  std::unique_ptr<GroupRun> g(new GroupRun());
  g->sel_ = sel;
  g->group_ = group;
  g->sel_hash_ = sel_hash;
  g->topic_ = t.topic;
  g->reporter_ = reporter;
  if (int64_t ms = sel.kafka.IntProp("max.poll.interval.ms", 300000); ms > 0) {
    g->refused_fail_ms_ = ms;
    g->refused_warn_ms_ = ms / 10;
  }
  auto c = kafka::GroupClient::Open(t.brokers, sel.kafka, sel.kafka_read.isolation);
  if (!c.ok()) return c.status();
  g->client_ = std::move(*c);
  std::vector<int32_t> parts;
  EVT_RETURN_IF_ERROR(TopicParts(g->client_.get(), t.topic, &parts));
  std::map<int32_t, StoredOffset> stored;
  EVT_RETURN_IF_ERROR(Stored(g->client_.get(), group, t.topic, parts, &stored));
  PlanChoice ch = ChoosePlan(stored, sel_hash, new_run);
  if (ch.decision == PlanDecision::kRefuse) return Status::InvalidArgument(fmt::format("group {}: {}", group, ch.why));
  if (ch.decision == PlanDecision::kCreate) {
    std::map<int32_t, PlanEntry> plan;
    EVT_RETURN_IF_ERROR(g->Resolve(parts, NewRunId(), &plan));
    std::map<kafka::TopicPartition, kafka::CommittedInfo> write;
    for (const auto& [p, e] : plan) write[{t.topic, p}] = kafka::CommittedInfo{e.start, EncodePlan(e)};
    Status cs = g->client_->CommitWithMetadata(group, write);
    if (cs.code() == Code::kBusy) {
      if (new_run) {
        // Members still known to the coordinator (librdkafka's mock keeps those that left
        // until their session times out): the plan is written from inside the group at
        // the first assignment instead.
        g->plan_ = plan;
        g->created_ = true;
        g->write_at_join_ = true;
        return g;
      }
      // Another process got there first and its group is running: follow its plan.
      stored.clear();
      EVT_RETURN_IF_ERROR(Stored(g->client_.get(), group, t.topic, parts, &stored));
      ch = ChoosePlan(stored, sel_hash, false);
      if (ch.decision == PlanDecision::kRefuse)
        return Status::InvalidArgument(fmt::format("group {}: {}", group, ch.why));
      if (ch.decision == PlanDecision::kCreate)
        return Status::IOError(fmt::format("group {} has members but no evt plan: {}", group, cs.message()));
    } else {
      EVT_RETURN_IF_ERROR(cs);
      g->plan_ = plan;
      g->created_ = true;
      return g;
    }
  }
  // Adopt; partitions the topic gained since join the same run.
  g->plan_ = ch.plan;
  std::vector<int32_t> missing;
  for (int32_t p : parts)
    if (!g->plan_.count(p)) missing.push_back(p);
  if (!missing.empty()) EVT_RETURN_IF_ERROR(g->Resolve(missing, g->plan_.begin()->second.run, &g->plan_));
  return g;
}

Result<std::unique_ptr<GroupRun>> GroupRun::ForJob(const SelectionOptions& sel, const std::string& group,
                                                   const std::string& identity, bool new_run,
                                                   const std::string& checkpoint, bool dry_run, Reporter* reporter) {
  if (!checkpoint.empty())
    return Status::InvalidArgument("--group keeps the progress in the group's commits: not with --checkpoint");
  if (dry_run) return Status::InvalidArgument("--dry-run is not for --group (see --status)");
  return Prepare(sel, group, IdentityHash(identity).substr(0, 16), new_run, reporter);
}

Status GroupRun::OnAssign(std::vector<kafka::GroupAssigned>* parts) {
  hold_since_ms_ = -1;  // the rebalance is over
  if (first_assignment_ && write_at_join_) {
    std::map<int32_t, std::pair<int64_t, std::string>> send;
    for (const auto& [p, e] : plan_) send[p] = {e.start, EncodePlan(e)};
    EVT_RETURN_IF_ERROR(source->CommitMetadata(send));
    first_assignment_ = false;
  }
  if (first_assignment_) {
    // The plan race: two processes that both proposed a plan follow the one stored now.
    std::map<int32_t, std::pair<int64_t, std::string>> got;
    EVT_RETURN_IF_ERROR(source->FetchCommitted(&got));
    std::map<int32_t, StoredOffset> stored;
    for (const auto& [p, om] : got) stored[p] = StoredOffset{om.first, om.second};
    PlanChoice ch = ChoosePlan(stored, sel_hash_, false);
    if (ch.decision == PlanDecision::kRefuse) return Status::InvalidArgument(fmt::format("group {}: {}", group_, ch.why));
    if (ch.decision == PlanDecision::kAdopt) {
      std::string run = ch.plan.begin()->second.run;
      for (auto& [p, e] : plan_)
        if (!ch.plan.count(p)) {
          e.run = run;
          ch.plan[p] = e;
        }
      plan_ = ch.plan;
    }
    first_assignment_ = false;
  }
  for (auto& a : *parts) {
    auto it = plan_.find(a.partition);
    if (it == plan_.end()) {
      // A partition created after the plan was made: planned now, under the same run.
      EVT_RETURN_IF_ERROR(Resolve({a.partition}, run_id(), &plan_));
      it = plan_.find(a.partition);
    }
    const PlanEntry& e = it->second;
    PlanEntry stored;
    bool same_run = ParsePlan(a.metadata, &stored) && stored.run == e.run;
    a.start = same_run && a.committed >= 0 ? std::min(std::max(a.committed, e.start), e.end) : e.start;
    a.end = e.end;
    last_commit_[a.partition] = same_run ? a.committed : -1;
  }
  return Status::OK();
}

bool GroupRun::OnRevoke(const std::vector<int32_t>& parts) {
  if (on_revoke_) on_revoke_(parts);
  for (int32_t p : parts) last_commit_.erase(p);
  // Revoked because another member finished and left: when this one's partitions are at
  // their end too and every partition of the plan is committed at its end, it leaves
  // rather than rejoins (an error in asking: it rejoins, and asks again later).
  if (!source->AssignedDone()) return true;
  auto done = RunComplete();
  return !done.ok() || !*done;
}

Status GroupRun::Commit(const std::map<int32_t, int64_t>& done_before, bool revoking) {
  // A member rejoining sends no periodic commit (kafka::KafkaSource::Rebalancing says why);
  // the next one after the assignment carries it.
  if (!revoking && source->Rebalancing()) return Status::OK();
  if (!revoking && hold_since_ms_ >= 0) {
    if (SteadyMs() - hold_since_ms_ < kCommitHoldMs) return Status::OK();
    hold_since_ms_ = -1;
  }
  std::map<int32_t, std::pair<int64_t, std::string>> send;
  for (const auto& [p, off] : done_before) {
    auto it = plan_.find(p);
    if (it == plan_.end()) continue;
    auto lc = last_commit_.find(p);
    if (lc != last_commit_.end() && lc->second == off) continue;
    send[p] = {off, EncodePlan(it->second)};
  }
  if (send.empty()) return Status::OK();
  Status s = source->CommitMetadata(send);
  const int64_t now = SteadyMs();
  if (!s.ok()) {
    // A refusal that will not pass (not authorized, metadata too large): the run's progress
    // cannot be saved, so it stops rather than work on with nothing kept.
    if (s.code() != Code::kBusy) return Status::IOError(fmt::format("{}; the run's progress cannot be saved", s.message()));
    // Refused during a rebalance (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION: librdkafka's
    // mock refuses even the commit before revocation) or the coordinator moving: the next
    // commit sends it again; a partition that moved meanwhile is read again from the last
    // commit that went through (at least once). Refusals that go on are said, and stop the
    // run after refused_fail_ms_.
    if (refused_since_ms_ < 0) refused_since_ms_ = now;
    hold_since_ms_ = now;
    const int64_t refused = now - refused_since_ms_;
    if (refused >= refused_fail_ms_)
      return Status::IOError(fmt::format("commits refused for {:.1f} s: {}; the run's progress cannot be saved",
                                         refused / 1e3, s.message()));
    if (refused >= refused_warn_ms_ && now - last_refusal_warning_ms_ >= refused_warn_ms_ && reporter_) {
      reporter_->Notice(fmt::format("group {}: commits refused for {:.1f} s (the run stops after {:.1f} s, "
                                    "max.poll.interval.ms): {}",
                                    group_, refused / 1e3, refused_fail_ms_ / 1e3, s.message()));
      last_refusal_warning_ms_ = now;
    }
    return Status::OK();
  }
  refused_since_ms_ = -1;
  for (const auto& [p, om] : send) last_commit_[p] = om.first;
  return Status::OK();
}

Status GroupRun::CommitDone(const std::vector<int32_t>* only, const std::function<int64_t(int32_t)>& lowest_open) {
  std::map<int32_t, int64_t> upto = source->Returned();
  for (auto it = upto.begin(); it != upto.end();) {
    if (only && std::find(only->begin(), only->end(), it->first) == only->end()) {
      it = upto.erase(it);
      continue;
    }
    const int64_t open = lowest_open(it->first);
    if (open >= 0) it->second = std::min(it->second, open);
    ++it;
  }
  return Commit(upto, only != nullptr);
}

bool GroupRun::CompletionCheckDue() {
  if (!source->GroupJoined() || !source->AssignedDone()) return false;
  const int64_t now = SteadyMs();
  if (now - last_completion_check_ms_ < kCompletionCheckMs) return false;
  last_completion_check_ms_ = now;
  return true;
}

Result<bool> GroupRun::RunComplete() {
  // Asked from outside the group (client_ is not a member), not through the member's own
  // consumer: librdkafka holds a member's OffsetFetch while it rejoins, so the members
  // left when the first finished one leaves would wait for the whole rebalance (librdkafka's
  // mock waits session.timeout.ms - 1 s for members that have gone) before they could see
  // that the run is done.
  std::vector<int32_t> parts;
  for (const auto& [p, e] : plan_) parts.push_back(p);
  std::map<int32_t, StoredOffset> got;
  EVT_RETURN_IF_ERROR(Stored(client_.get(), group_, topic_, parts, &got));
  for (const auto& [p, e] : plan_) {
    auto it = got.find(p);
    if (it == got.end() || it->second.committed < e.end) return false;
    PlanEntry s;
    if (!ParsePlan(it->second.metadata, &s) || s.run != e.run) return false;
  }
  return true;
}

Status GroupStatus(const SelectionOptions& sel, const std::string& group, int64_t sample_ms, GroupStatusReport* out) {
  kafka::KafkaTarget t;
  EVT_RETURN_IF_ERROR(OneTopic(sel, &t));
  auto c = kafka::GroupClient::Open(t.brokers, sel.kafka, sel.kafka_read.isolation);
  if (!c.ok()) return c.status();
  std::vector<int32_t> parts;
  EVT_RETURN_IF_ERROR(TopicParts(c->get(), t.topic, &parts));
  std::map<int32_t, StoredOffset> stored;
  EVT_RETURN_IF_ERROR(Stored(c->get(), group, t.topic, parts, &stored));
  std::vector<PartitionStatus> first;
  Status rs = RunStatus(stored, &first);
  if (!rs.ok()) return Status::NotFound(fmt::format("group {}, topic {}: {}", group, t.topic, rs.message()));
  if (sample_ms > 0) {
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(sample_ms));
    stored.clear();
    EVT_RETURN_IF_ERROR(Stored(c->get(), group, t.topic, parts, &stored));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<PartitionStatus> second;
    EVT_RETURN_IF_ERROR(RunStatus(stored, &second));
    int64_t before = 0, after = 0;
    for (const auto& p : first) before += p.remaining;
    for (const auto& p : second) after += p.remaining;
    out->rate = secs > 0 && before > after ? (before - after) / secs : 0;
    out->parts = second;
  } else {
    out->parts = first;
  }
  out->run = out->parts.front().run;
  out->topic = t.topic;
  kafka::GroupInfo gi;
  Status ds = (*c)->DescribeGroup(group, &gi);
  if (ds.ok()) {
    out->owners_known = true;
    for (const auto& m : gi.members)
      for (const auto& tp : m.assignment)
        if (tp.first == t.topic) out->owners[tp.second] = m.client_id + "@" + m.host;
  } else {
    out->owners_note = ds.code() == Code::kUnsupported
                           ? "owners unavailable: the cluster does not answer DescribeGroups (librdkafka's mock)"
                           : "owners unavailable: " + ds.message();
  }
  return Status::OK();
}

}  // namespace evt
