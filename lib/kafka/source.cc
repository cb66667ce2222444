#include "lib/kafka/client.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "lib/base/term.h"
#include "lib/kafka/internal.h"

namespace evt::kafka {

using namespace internal;

namespace {

const char* IsolationName(Isolation i) {
  return i == Isolation::kReadCommitted ? "read_committed" : "read_uncommitted";
}

// The group's rebalance protocol, chosen from the members' partition.assignment.strategy:
// COOPERATIVE (cooperative-sticky) gives and takes back only the partitions that move,
// EAGER (range, roundrobin) takes everything back and gives a whole new set.
bool Cooperative(rd_kafka_t* rk) {
  const char* p = rd_kafka_rebalance_protocol(rk);
  return p && std::strcmp(p, "COOPERATIVE") == 0;
}

// Applies a rebalance: under the cooperative protocol `l` is added to (or taken from) the
// assignment; under the eager one it becomes the assignment (nothing, on a revocation).
Status ChangeAssignment(rd_kafka_t* rk, bool add, const rd_kafka_topic_partition_list_t* l) {
  if (Cooperative(rk)) {
    rd_kafka_error_t* e = add ? rd_kafka_incremental_assign(rk, l) : rd_kafka_incremental_unassign(rk, l);
    if (!e) return Status::OK();
    Status s = Status::IOError(fmt::format("{}: {}", add ? "incremental assign" : "incremental unassign",
                                           rd_kafka_error_string(e)));
    rd_kafka_error_destroy(e);
    return s;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, add ? l : nullptr);
  if (err) return Status::IOError(fmt::format("{}: {}", add ? "assign" : "unassign", rd_kafka_err2str(err)));
  return Status::OK();
}

// librdkafka before 2.3.0 (Debian 12 has 2.0.2) aborts the process when it destroys a
// cooperative-sticky consumer that received the group's JoinGroup answer but never an
// assignment: rd_kafka_cgrp_destroy_final hands the sticky assignor its state without
// checking for NULL (`Assertion 'assignor_state' failed`, librdkafka #4312, fixed by #4381).
// It happened to a member that joined while the others were finishing (group_cooperative.sh).
// Such a handle, closed already (it has left the group, its commits are made), is kept
// instead of destroyed: a few idle threads until the process exits, reachable from here.
// The strategy is read from the configuration (asking the group thread for the protocol
// in use could wait forever once the consumer is closed).
// Whether the configured partition.assignment.strategy is cooperative-sticky (`unknown`
// where the configuration does not say).
bool CooperativeConfigured(const rd_kafka_conf_t* conf, bool unknown) {
  char buf[256];
  size_t size = sizeof buf;
  if (rd_kafka_conf_get(conf, "partition.assignment.strategy", buf, &size) != RD_KAFKA_CONF_OK) return unknown;
  return std::strstr(buf, "cooperative-sticky") != nullptr;
}
bool AssignorStateMayBeNull(rd_kafka_t* rk, bool ever_assigned) {
  if (rd_kafka_version() >= 0x020300ff || ever_assigned) return false;
  return CooperativeConfigured(rd_kafka_conf(rk), true);  // unknown: keeping it is the safe side
}
void KeepUndestroyed(rd_kafka_t* rk) {
  static std::mutex mu;
  static std::vector<rd_kafka_t*>* kept = new std::vector<rd_kafka_t*>;
  std::lock_guard<std::mutex> lock(mu);
  kept->push_back(rk);
}

}  // namespace

struct KafkaSource::Impl {
  KafkaTarget target;
  KafkaConfig cfg;
  KafkaReadOptions ro;
  Reporter* reporter = nullptr;
  ErrorState errors;
  Handle consumer;
  Handle probe_handle;  // metadata, watermarks and time searches (always open)
  rd_kafka_queue_t* queue = nullptr;

  struct Part : PartitionProgress {
    int32_t id = -1;
    int64_t low = 0, high = 0;
    int64_t start = 0;
    int64_t returned = -1;  // next offset after the last record handed out
    bool assigned = false;
  };
  std::map<int32_t, Part> parts;
  std::vector<int32_t> all_ids;  // every partition of the topic
  bool group_assigned = false;  // -G: an assignment arrived
  Status rebalance_error;
  // Cooperative protocol with GroupHooks: true from the moment librdkafka rejoins the group
  // (its cgrp debug log says so, from its own thread) until the next assignment callback.
  std::atomic<bool> rejoining{false};

  std::vector<rd_kafka_message_t*> held;     // backing the batch last returned
  std::deque<rd_kafka_message_t*> ready;     // consumed, not yet returned
  std::vector<rd_kafka_message_t*> scratch;  // consume_batch buffer
  int64_t last_progress = 0;

  ~Impl() {
    for (auto* m : held) rd_kafka_message_destroy(m);
    for (auto* m : ready) rd_kafka_message_destroy(m);
    // The close below runs the rebalance callback once more (a revocation): it must find
    // neither these messages (destroyed twice: a crash) nor the job's hooks, which may be
    // gone already and have nothing left to commit.
    held.clear();
    ready.clear();
    ro.hooks = nullptr;
    if (queue) rd_kafka_queue_destroy(queue);
    if (consumer.rk) {
      rd_kafka_consumer_close(consumer.rk);
      if (AssignorStateMayBeNull(consumer.rk, group_assigned)) {
        KeepUndestroyed(consumer.rk);
        consumer.rk = nullptr;
      }
    }
  }

  // The rebalance protocol is librdkafka's default, eager (range,roundrobin), for -G and
  // --group alike; -X partition.assignment.strategy=cooperative-sticky gives the
  // cooperative one, which the rebalance callbacks below handle too. Eager is the default
  // for --group because it is the one whose failure handling can be shown here: on
  // librdkafka 2.0.2's mock cluster a cooperative group that loses a member in the middle
  // of a rebalance can go on rebalancing for minutes (the mock refuses commits and
  // heartbeats while it waits session.timeout.ms - 1 s for each rejoin, and librdkafka
  // takes such a refusal as the assignment lost and rejoins once more).
  std::vector<std::pair<std::string, std::string>> ConsumerDefaults(const std::string& group) const {
    return {{"group.id", group.empty() ? "evt" : group},
            {"enable.auto.commit", "false"},
            {"enable.auto.offset.store", "false"},
            {"enable.partition.eof", "true"},
            {"allow.auto.create.topics", "false"},
            {"auto.offset.reset", "earliest"},
            {"isolation.level", IsolationName(ro.isolation)},
            {"fetch.wait.max.ms", "100"},
            {"queued.min.messages", "200000"},
            {"fetch.error.backoff.ms", "100"}};
  }

  Result<rd_kafka_t*> NewConsumer(bool with_group) {
    auto conf = MakeConf(target.brokers, cfg, ConsumerDefaults(with_group ? ro.group : ""), &errors);
    if (!conf.ok()) return conf.status();
    if (with_group) {
      errors.owner = this;  // the handle's opaque is &errors
      rd_kafka_conf_set_rebalance_cb(*conf, &Impl::OnRebalance);
      if (ro.hooks && WatchesRejoins(*conf)) {
        char errstr[256];
        if (rd_kafka_conf_set(*conf, "debug", "cgrp", errstr, sizeof errstr) == RD_KAFKA_CONF_OK)
          rd_kafka_conf_set_log_cb(*conf, &Impl::OnLog);
      }
    }
    return NewClient(RD_KAFKA_CONSUMER, *conf);
  }

  // A member under the cooperative protocol keeps its partitions through a rebalance, and
  // a commit it sends then waits behind its JoinGroup on the coordinator's connection (a
  // broker answers one request of a connection at a time), to be answered "illegal
  // generation" once the join completes; librdkafka 2.0.2 takes that as the assignment
  // lost, drops its generation, and rejoins during the others' SyncGroup, which starts the
  // whole rebalance again (seen as minutes of refused commits and records read again with
  // 3 members on the mock cluster). librdkafka has no call that tells a rejoin in progress
  // (statistics come at most once a second), so its cgrp debug log is watched: the
  // periodic commits wait while Rebalancing(). Not when the user asks for -X debug (their
  // log goes to stderr as they asked; the commits are not held).
  bool WatchesRejoins(const rd_kafka_conf_t* conf) const {
    for (const auto& [k, v] : cfg.props)
      if (k == "debug") return false;
    return CooperativeConfigured(conf, false);
  }
  static void OnLog(const rd_kafka_t* rk, int, const char* fac, const char*) {
    if (std::strcmp(fac, "REJOIN") != 0 && std::strcmp(fac, "REBALANCE") != 0) return;
    auto* st = static_cast<ErrorState*>(rd_kafka_opaque(rk));
    if (st && st->owner) static_cast<Impl*>(st->owner)->rejoining.store(true, std::memory_order_relaxed);
  }

  // Resolves --from/--until for one partition from its watermarks (p->low, p->high).
  Status Resolve(Part* p, int64_t committed) {
    auto clamp = [&](int64_t o) { return std::min(std::max(o, p->low), p->high); };
    int64_t end = p->high;
    const Bound& f = ro.from;
    const Bound& u = ro.until;
    switch (f.kind) {
      case Bound::kOffset: p->start = clamp(f.value); break;
      case Bound::kEnd: p->start = p->high; break;
      case Bound::kFromEnd: p->start = std::max(p->low, p->high - f.value); break;
      case Bound::kTime: EVT_RETURN_IF_ERROR(OffsetForTime(p, f.value, &p->start)); break;
      default: p->start = p->low; break;
    }
    if (committed >= 0) p->start = clamp(committed);
    p->end = ro.follow ? INT64_MAX : end;
    switch (u.kind) {
      case Bound::kOffset: p->end = std::min(p->end, u.value); break;
      case Bound::kEnd: p->end = end; break;
      case Bound::kFromEnd: p->end = std::max(p->low, end - u.value); break;
      case Bound::kTime: p->stop_time = u.value; break;
      default: break;
    }
    p->pos = p->start;
    p->done = p->start >= p->end;
    return Status::OK();
  }

  Status OffsetForTime(Part* p, int64_t t, int64_t* out) {
    if (p->high <= p->low) {
      *out = p->high;
      return Status::OK();
    }
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, target.topic.c_str(), p->id)->offset = t;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(probe_handle.rk, l, static_cast<int>(cfg.timeout_ms));
    int64_t o = l->elems[0].offset;
    rd_kafka_resp_err_t perr = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && perr == RD_KAFKA_RESP_ERR_NO_ERROR && o >= 0) {
      *out = std::min(std::max(o, p->low), p->high);
      return Status::OK();
    }
    // The broker found nothing (or cannot answer time lookups, like the mock cluster):
    // search on the client side. It answers `high` when no record is at or after t.
    Probe probe{probe_handle.rk, target.topic, cfg.timeout_ms, &errors};
    return probe.SearchTime(p->id, p->low, p->high, t, out);
  }

  Status Assign() {
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
    for (auto& [id, p] : parts) {
      if (p.done) continue;
      rd_kafka_topic_partition_list_add(l, target.topic.c_str(), id)->offset = p.start;
      p.assigned = true;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer.rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) return Status::IOError(fmt::format("{}: assign: {}", target.Describe(), rd_kafka_err2str(err)));
    return Status::OK();
  }

  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* l, void* opaque) {
    auto* self = static_cast<Impl*>(static_cast<ErrorState*>(opaque)->owner);
    if (self->ro.hooks) {
      self->OnHookedRebalance(rk, err, l);
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self->group_assigned = true;
      // Committed offsets of the group, then --from for partitions without one.
      rd_kafka_committed(rk, l, static_cast<int>(self->cfg.timeout_ms));
      std::vector<int32_t> ids;
      for (int i = 0; i < l->cnt; ++i) ids.push_back(l->elems[i].partition);
      std::map<int32_t, std::pair<int64_t, int64_t>> marks;
      Status ws = Watermarks(self->probe_handle.rk, self->target.topic, ids, self->cfg.timeout_ms, &self->errors,
                             &marks);
      if (!ws.ok() && self->rebalance_error.ok()) self->rebalance_error = ws;
      for (int i = 0; i < l->cnt; ++i) {
        Part p;
        p.id = l->elems[i].partition;
        p.low = marks[p.id].first;
        p.high = marks[p.id].second;
        int64_t committed = l->elems[i].err ? -1 : l->elems[i].offset;
        Status s = ws.ok() ? self->Resolve(&p, committed) : ws;
        if (!s.ok() && self->rebalance_error.ok()) self->rebalance_error = s;
        l->elems[i].offset = p.start;
        p.assigned = true;
        self->parts[p.id] = p;
      }
      self->Apply(rk, true, l);
    } else {
      for (int i = 0; i < l->cnt; ++i) self->parts.erase(l->elems[i].partition);
      self->Apply(rk, false, l);
    }
  }

  void Apply(rd_kafka_t* rk, bool add, const rd_kafka_topic_partition_list_t* l) {
    Status s = ChangeAssignment(rk, add, l);
    if (!s.ok() && rebalance_error.ok())
      rebalance_error = Status::IOError(fmt::format("{}: {}", target.Describe(), s.message()));
  }

  // The job decides the ranges (GroupHooks). Eager protocol: an assignment is the whole
  // set and a revocation takes everything back; cooperative: an assignment adds partitions
  // and a revocation takes back only those that move. Either way the job finishes and
  // commits the revoked partitions' records before they go.
  void OnHookedRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* l) {
    const bool coop = Cooperative(rk);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      group_assigned = true;
      rejoining.store(false, std::memory_order_relaxed);
      if (l->cnt) rd_kafka_committed(rk, l, static_cast<int>(cfg.timeout_ms));
      std::vector<int32_t> ids;
      for (int i = 0; i < l->cnt; ++i) ids.push_back(l->elems[i].partition);
      std::map<int32_t, std::pair<int64_t, int64_t>> marks;
      Status ws = ids.empty() ? Status::OK()
                              : Watermarks(probe_handle.rk, target.topic, ids, cfg.timeout_ms, &errors, &marks);
      std::vector<GroupAssigned> ga;
      for (int i = 0; i < l->cnt; ++i) {
        GroupAssigned a;
        a.partition = l->elems[i].partition;
        a.committed = l->elems[i].err ? -1 : l->elems[i].offset;
        a.metadata = internal::CommitMetadataOf(l->elems[i]);
        a.low = marks[a.partition].first;
        a.high = marks[a.partition].second;
        ga.push_back(a);
      }
      Status s = ws.ok() ? ro.hooks->OnAssign(&ga) : ws;
      if (!s.ok()) {
        if (rebalance_error.ok()) rebalance_error = s;
        if (!coop) rd_kafka_assign(rk, nullptr);
        return;
      }
      if (!coop) parts.clear();
      // Eager: only what is left to read is assigned. Cooperative: every partition given,
      // since a later revocation names it; those already at their end are paused.
      rd_kafka_topic_partition_list_t* give = rd_kafka_topic_partition_list_new(l->cnt > 0 ? l->cnt : 1);
      rd_kafka_topic_partition_list_t* idle = rd_kafka_topic_partition_list_new(l->cnt > 0 ? l->cnt : 1);
      for (const GroupAssigned& a : ga) {
        Part p;
        p.id = a.partition;
        p.low = a.low;
        p.high = a.high;
        p.start = a.start;
        p.end = a.end;
        p.pos = a.start;
        p.done = a.start >= a.end;
        p.assigned = true;
        parts[p.id] = p;
        if (!p.done || coop) rd_kafka_topic_partition_list_add(give, target.topic.c_str(), p.id)->offset = p.start;
        if (p.done && coop) rd_kafka_topic_partition_list_add(idle, target.topic.c_str(), p.id);
      }
      Apply(rk, true, give);
      // librdkafka keeps a partition paused when a rebalance gives it back to the same
      // member: resume what is to be read, pause what is not.
      if (give->cnt) rd_kafka_resume_partitions(rk, give);
      if (idle->cnt) rd_kafka_pause_partitions(rk, idle);
      rd_kafka_topic_partition_list_destroy(give);
      rd_kafka_topic_partition_list_destroy(idle);
    } else {
      std::vector<int32_t> ids;
      for (int i = 0; i < l->cnt; ++i) ids.push_back(l->elems[i].partition);
      // The job finishes and commits what it was handed (the commit stays before what
      // is still in `ready`); what was not handed out is not handed out. (A lost
      // assignment, the session having timed out, gets its commits refused: the next
      // owner reads again from the last commit that went through.)
      bool rejoin = err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS || ro.hooks->OnRevoke(ids);
      for (auto it = ready.begin(); it != ready.end();) {
        if (std::find(ids.begin(), ids.end(), (*it)->partition) != ids.end()) {
          rd_kafka_message_destroy(*it);
          it = ready.erase(it);
        } else {
          ++it;
        }
      }
      for (int32_t id : ids) parts.erase(id);
      if (!rejoin) {
        // Leave before the unassignment completes, so that librdkafka does not rejoin.
        rd_kafka_unsubscribe(rk);
      }
      Apply(rk, false, l);
    }
  }

  int64_t SessionTimeoutMs() const { return cfg.IntProp("session.timeout.ms", 45000); }

  bool AllDone() const {
    if (ro.follow) return false;
    if (!ro.group.empty() && !group_assigned) return false;
    for (const auto& [id, p] : parts)
      if (!p.done) return false;
    return true;
  }

  void Progress() {
    last_progress = SteadyMs();
    std::lock_guard<std::mutex> l(errors.mu);
    errors.first_error_ms = 0;
  }

  // Errors for longer than the timeout: is the cluster still there? (An idle --follow
  // sees no progress, so ask for metadata before giving up.)
  Status CheckCluster() {
    int64_t since;
    {
      std::lock_guard<std::mutex> l(errors.mu);
      since = errors.first_error_ms;
    }
    if (since == 0 || SteadyMs() - since <= cfg.timeout_ms) return Status::OK();
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(consumer.rk, 0, nullptr, &md, static_cast<int>(std::min<int64_t>(cfg.timeout_ms, 5000)));
    if (md) rd_kafka_metadata_destroy(md);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::lock_guard<std::mutex> l(errors.mu);
      errors.first_error_ms = 0;
      return Status::OK();
    }
    return Status::IOError(fmt::format("{}: lost the cluster for more than {} ms: {}", target.Describe(),
                                       cfg.timeout_ms, LastError(&errors)));
  }

  // Moves consumed messages into `ready`, dropping what lies outside the bounds.
  Status Take(rd_kafka_message_t* m) {
    if (m->err) {
      auto it = parts.find(m->partition);
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // The fetch position reached the end: positions, not the last offset received.
        if (it != parts.end()) it->second.OnEnd(m->offset);
        Progress();
        rd_kafka_message_destroy(m);
        return Status::OK();
      }
      std::string where = m->partition >= 0 ? fmt::format("{}/{}", target.Describe(), m->partition)
                                            : target.Describe();
      std::string what = rd_kafka_message_errstr(m);
      rd_kafka_resp_err_t err = m->err;
      rd_kafka_message_destroy(m);
      switch (err) {
        case RD_KAFKA_RESP_ERR__TRANSPORT:
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        case RD_KAFKA_RESP_ERR__RESOLVE:
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
        case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
        case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
          // librdkafka retries these; the progress timeout bounds how long.
          {
            std::lock_guard<std::mutex> l(errors.mu);
            errors.last = what;
            if (errors.first_error_ms == 0) errors.first_error_ms = SteadyMs();
          }
          return Status::OK();
        default:
          return Status::IOError(fmt::format("{}: {}", where, what));
      }
    }
    auto it = parts.find(m->partition);
    rd_kafka_timestamp_type_t tt;
    if (it != parts.end() && !it->second.done) Progress();
    if (it == parts.end() || !it->second.OnRecord(m->offset, rd_kafka_message_timestamp(m, &tt))) {
      rd_kafka_message_destroy(m);
      return Status::OK();
    }
    ready.push_back(m);
    return Status::OK();
  }

  Status Poll() {
    if (scratch.empty()) scratch.resize(std::max<size_t>(ro.target_records, 64));
    ssize_t n = rd_kafka_consume_batch_queue(queue, 100, scratch.data(), scratch.size());
    if (n < 0) return Status::IOError(fmt::format("{}: consume: {}", target.Describe(),
                                                  rd_kafka_err2str(rd_kafka_last_error())));
    Status result;
    for (ssize_t i = 0; i < n; ++i) {
      if (!result.ok()) {
        rd_kafka_message_destroy(scratch[i]);
        continue;
      }
      result = Take(scratch[i]);
    }
    if (!result.ok()) return result;
    if (!rebalance_error.ok()) return rebalance_error;
    if (n == 0) EVT_RETURN_IF_ERROR(CheckCluster());
    {
      std::lock_guard<std::mutex> l(errors.mu);
      if (errors.fatal) return Status::IOError(fmt::format("{}: {}", target.Describe(), errors.fatal_msg));
    }
    // Joining a group waits for the members the coordinator still knows, up to their
    // session timeout (librdkafka's mock cluster keeps a member that left until then).
    int64_t bound = cfg.timeout_ms;
    if (!ro.group.empty() && !group_assigned) bound += SessionTimeoutMs();
    if (ro.hooks && group_assigned) last_progress = SteadyMs();  // the job decides when to give up
    if (n == 0 && !ro.follow && SteadyMs() - last_progress > bound) {
      std::string where;
      for (const auto& [id, p] : parts)
        if (!p.done) {
          where = fmt::format(" (partition {} at offset {} of {})", id, p.pos, p.end);
          break;
        }
      std::string last = LastError(&errors);
      return Status::IOError(fmt::format("{}: no progress for {} ms{}{}", target.Describe(), bound,
                                         !ro.group.empty() && !group_assigned ? " (no partitions assigned by the group)" : where,
                                         last.empty() ? "" : ": " + last));
    }
    return Status::OK();
  }

  void Fill(rd_kafka_message_t* m, RecordBatch* out) {
    Record r;
    r.partition = m->partition;
    r.offset = m->offset;
    rd_kafka_timestamp_type_t tt;
    r.timestamp = rd_kafka_message_timestamp(m, &tt);
    r.timestamp_type = tt == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? TimestampType::kLogAppendTime
                       : tt == RD_KAFKA_TIMESTAMP_CREATE_TIME  ? TimestampType::kCreateTime
                                                               : TimestampType::kNone;
    r.key = m->key ? Bytes{static_cast<const char*>(m->key), static_cast<uint32_t>(m->key_len), false}
                   : Bytes::Null();
    r.value = m->payload ? Bytes{static_cast<const char*>(m->payload), static_cast<uint32_t>(m->len), false}
                         : Bytes::Null();
    r.source_pos = static_cast<uint64_t>(m->offset);
    r.header_begin = static_cast<uint32_t>(out->headers.size());
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
      const char* name;
      const void* val;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        Header h;
        h.key = std::string_view(name);
        h.value = val ? Bytes{static_cast<const char*>(val), static_cast<uint32_t>(size), false} : Bytes::Null();
        out->headers.push_back(h);
        ++r.header_count;
      }
    }
    out->records.push_back(r);
  }
};

KafkaSource::~KafkaSource() = default;

Result<std::unique_ptr<KafkaSource>> KafkaSource::Open(const KafkaTarget& t, const KafkaConfig& cfg,
                                                       const KafkaReadOptions& ro, Reporter* reporter) {
  if (t.topic.empty()) return Status::InvalidArgument(fmt::format("{}: no topic given", t.Describe()));
  std::unique_ptr<KafkaSource> src(new KafkaSource());
  src->impl_ = std::make_unique<Impl>();
  Impl& s = *src->impl_;
  s.target = t;
  s.cfg = cfg;
  s.ro = ro;
  s.reporter = reporter;
  if (!ro.group.empty() && !t.partitions.empty())
    return Status::InvalidArgument("-G consumes the partitions the group assigns: drop ?partition=");

  // A probe consumer answers metadata, watermarks and time searches; the main consumer reads.
  auto probe = s.NewConsumer(false);
  if (!probe.ok()) return probe.status();
  s.probe_handle.rk = *probe;
  rd_kafka_poll_set_consumer(s.probe_handle.rk);
  std::vector<int32_t> ids;
  EVT_RETURN_IF_ERROR(TopicPartitions(s.probe_handle.rk, t, cfg.timeout_ms, &s.errors, &ids));
  s.all_ids = ids;
  if (ro.hooks) {
    if (ro.group.empty()) return Status::InvalidArgument("group hooks without a group");
    ro.hooks->source = src.get();
  }

  auto rk = s.NewConsumer(!ro.group.empty());
  if (!rk.ok()) return rk.status();
  s.consumer.rk = *rk;
  rd_kafka_poll_set_consumer(s.consumer.rk);
  s.queue = rd_kafka_queue_get_consumer(s.consumer.rk);
  s.last_progress = SteadyMs();

  if (ro.group.empty()) {
    std::map<int32_t, std::pair<int64_t, int64_t>> marks;
    EVT_RETURN_IF_ERROR(Watermarks(s.probe_handle.rk, t.topic, ids, cfg.timeout_ms, &s.errors, &marks));
    for (int32_t id : ids) {
      Impl::Part p;
      p.id = id;
      p.low = marks[id].first;
      p.high = marks[id].second;
      EVT_RETURN_IF_ERROR(s.Resolve(&p, -1));
      s.parts[id] = p;
    }
    EVT_RETURN_IF_ERROR(s.Assign());
  } else {
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, t.topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(s.consumer.rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) return Status::IOError(fmt::format("{}: subscribe: {}", t.Describe(), rd_kafka_err2str(err)));
  }
  return src;
}

Status KafkaSource::Next(RecordBatch* out, bool* eof) {
  Impl& s = *impl_;
  for (auto* m : s.held) rd_kafka_message_destroy(m);
  s.held.clear();
  out->Clear();
  out->topic = s.target.topic;
  out->file.clear();
  *eof = false;
  bool polled = false;
  for (;;) {
    if (!s.ready.empty()) {
      int32_t part = s.ready.front()->partition;
      out->partition = part;
      while (!s.ready.empty() && s.ready.front()->partition == part && out->records.size() < s.ro.target_records) {
        rd_kafka_message_t* m = s.ready.front();
        s.ready.pop_front();
        s.Fill(m, out);
        s.held.push_back(m);
      }
      s.parts[part].returned = out->records.back().offset + 1;
      return Status::OK();
    }
    if (!s.ro.hooks && s.AllDone()) {
      *eof = true;
      return Status::OK();
    }
    if (InterruptRequested()) return Status::Interrupted();
    if (s.ro.hooks && polled) return Status::OK();  // nothing now: an empty batch
    EVT_RETURN_IF_ERROR(s.Poll());
    polled = true;
  }
}

bool KafkaSource::GroupJoined() const { return impl_->group_assigned; }
bool KafkaSource::Rebalancing() const { return impl_->rejoining.load(std::memory_order_relaxed); }

bool KafkaSource::AssignedDone() const {
  for (const auto& [id, p] : impl_->parts)
    if (!p.done) return false;
  for (const auto* m : impl_->ready)
    if (m) return false;
  return true;
}

std::map<int32_t, int64_t> KafkaSource::Returned() const {
  std::map<int32_t, int64_t> out;
  for (const auto& [id, p] : impl_->parts) out[id] = std::min(p.pos, p.end);
  // Consumed and not handed out yet: not returned.
  for (const auto* m : impl_->ready) {
    auto it = out.find(m->partition);
    if (it != out.end()) it->second = std::min(it->second, m->offset);
  }
  return out;
}

Status KafkaSource::CommitMetadata(const std::map<int32_t, std::pair<int64_t, std::string>>& offsets) {
  Impl& s = *impl_;
  if (offsets.empty()) return Status::OK();
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [id, om] : offsets) {
    rd_kafka_topic_partition_t* e = rd_kafka_topic_partition_list_add(l, s.target.topic.c_str(), id);
    e->offset = om.first;
    internal::SetCommitMetadata(e, om.second);
  }
  rd_kafka_resp_err_t err = rd_kafka_commit(s.consumer.rk, l, 0);
  std::string perr;
  rd_kafka_resp_err_t first = err == RD_KAFKA_RESP_ERR__NO_OFFSET ? RD_KAFKA_RESP_ERR_NO_ERROR : err;
  for (int i = 0; i < l->cnt && perr.empty(); ++i)
    if (l->elems[i].err) {
      perr = fmt::format(" ({}: {})", l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
      if (!first) first = l->elems[i].err;
    }
  rd_kafka_topic_partition_list_destroy(l);
  if (!first) return Status::OK();
  std::string msg = fmt::format("{}: committing offsets for group {}: {}{}", s.target.Describe(), s.ro.group,
                                rd_kafka_err2str(err), perr);
  // Refusals that pass (a rebalance, the coordinator moving or loading, no answer in time)
  // are Busy; the rest (authorization, metadata too large, unknown topic) will not pass.
  switch (first) {
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
      return Status::Busy(msg);
    default:
      return first < 0 ? Status::Busy(msg) : Status::IOError(msg);  // local errors: no answer, no coordinator yet
  }
}

Status KafkaSource::FetchCommitted(std::map<int32_t, std::pair<int64_t, std::string>>* out) {
  Impl& s = *impl_;
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(s.all_ids.size()) + 1);
  for (int32_t id : s.all_ids) rd_kafka_topic_partition_list_add(l, s.target.topic.c_str(), id);
  rd_kafka_resp_err_t err = rd_kafka_committed(s.consumer.rk, l, static_cast<int>(s.cfg.timeout_ms));
  if (!err) {
    for (int i = 0; i < l->cnt; ++i) {
      auto& e = l->elems[i];
      (*out)[e.partition] = {e.err ? -1 : e.offset, internal::CommitMetadataOf(e)};
    }
  }
  rd_kafka_topic_partition_list_destroy(l);
  if (err)
    return Status::IOError(fmt::format("{}: fetching the offsets of group {}: {}", s.target.Describe(), s.ro.group,
                                       rd_kafka_err2str(err)));
  return Status::OK();
}

std::string KafkaSource::Describe() const { return impl_->target.Describe(); }

bool KafkaSource::wants_ack() const { return !impl_->ro.group.empty(); }

Status KafkaSource::Ack(const Record* upto) {
  Impl& s = *impl_;
  if (s.ro.group.empty()) return Status::OK();
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(4);
  if (upto) {
    rd_kafka_topic_partition_list_add(l, s.target.topic.c_str(), upto->partition)->offset = upto->offset + 1;
  } else {
    for (auto& [id, p] : s.parts)
      if (p.returned >= 0) rd_kafka_topic_partition_list_add(l, s.target.topic.c_str(), id)->offset = p.returned;
  }
  rd_kafka_resp_err_t err = l->cnt ? rd_kafka_commit(s.consumer.rk, l, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_topic_partition_list_destroy(l);
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
    return Status::IOError(fmt::format("{}: committing offsets for group {}: {}", s.target.Describe(), s.ro.group,
                                       rd_kafka_err2str(err)));
  return Status::OK();
}

}  // namespace evt::kafka
