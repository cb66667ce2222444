#include "lib/kafka/groups.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <set>
#include <thread>
#include <unordered_map>

#include "lib/base/coding.h"
#include "lib/base/term.h"
#include "lib/kafka/internal.h"

namespace evt::kafka {

using namespace internal;

namespace {

// The first records of at most this many partitions are fetched by one consumer (see
// FirstRecords). In librdkafka 2.0.2 a broker thread visits every partition it serves (a
// mutex each) on every wakeup, and each partition's assign, pause, unassign and removal
// wakes it: over 1,024 partitions one consumer spent 2.8x the CPU of 512. With readers
// of 256 side by side, bench/lag.sh's 1,024 partitions took about a third less time.
constexpr size_t kPartitionsPerReader = 256;
// The partitions of one ListOffsets call (Ends) or OffsetFetch call (CommittedDetail); see
// SplitByTopic.
constexpr size_t kPartitionsPerCall = 256;

// A librdkafka client and the error state its callbacks write to (at a stable address).
// It never joins a group, so it is destroyed without a consumer close.
struct Client {
  ErrorState errors;
  rd_kafka_t* rk = nullptr;
  std::set<std::string> known;  // a reader: the topics whose leaders it knows (see FirstRecords)
  ~Client() {
    if (rk) rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
};

const char* IsolationName(Isolation i) {
  return i == Isolation::kReadCommitted ? "read_committed" : "read_uncommitted";
}

rd_kafka_topic_partition_list_t* ListOf(const std::vector<TopicPartition>& parts, int64_t offset) {
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
  for (const auto& [t, p] : parts) rd_kafka_topic_partition_list_add(l, t.c_str(), p)->offset = offset;
  return l;
}

// `parts` in lists of whole topics of up to `max` partitions (a bigger topic alone), sorted.
// librdkafka 2.0.2 matches each partition of an answer to its request list by a linear
// search (rd_kafka_topic_partition_list_find: a strcmp per entry), so one call over n
// partitions costs n^2 / 2 string compares: 1,024 partitions spent a quarter of `evt lag`'s
// CPU there. Calls over lists of `max` cost n * max / 2 instead, at n / max requests.
std::vector<std::vector<TopicPartition>> SplitByTopic(std::vector<TopicPartition> parts, size_t max) {
  std::sort(parts.begin(), parts.end());
  parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  std::vector<std::vector<TopicPartition>> out;
  for (size_t i = 0; i < parts.size();) {
    size_t j = i;
    while (j < parts.size() && parts[j].first == parts[i].first) ++j;
    if (out.empty() || (!out.back().empty() && out.back().size() + (j - i) > max)) out.emplace_back();
    out.back().insert(out.back().end(), parts.begin() + static_cast<std::ptrdiff_t>(i),
                      parts.begin() + static_cast<std::ptrdiff_t>(j));
    i = j;
  }
  return out;
}

}  // namespace

struct GroupClient::Impl {
  // The clients are destroyed side by side: each waits for its broker threads to end.
  ~Impl() {
    std::vector<std::unique_ptr<Client>> all;
    if (meta) all.push_back(std::move(meta));
    if (prober) all.push_back(std::move(prober));
    if (own_reader) all.push_back(std::move(own_reader));
    for (auto& c : more_readers) all.push_back(std::move(c));
    for (auto& [name, c] : groups) all.push_back(std::move(c));
    std::vector<std::thread> threads;
    for (auto& c : all) threads.emplace_back([c = std::move(c)]() mutable { c.reset(); });
    for (auto& t : threads) t.join();
  }

  std::string brokers;
  KafkaConfig cfg;
  Isolation isolation = Isolation::kReadCommitted;
  // read_uncommitted, in no group: metadata, earliest and high watermarks, groups. Without a
  // group.id it has no coordinator to look up: a FindCoordinator the group machinery sent
  // beside a ListOffsets made the mock broker's answer wait 40 ms for the client's delayed
  // ACK (see Ends), on most runs of bench/lag.sh's 16 partitions.
  std::unique_ptr<Client> meta;
  std::unique_ptr<Client> prober;  // read_uncommitted, assigns partitions to search by time (Prober)
  // The isolation asked for: last stable offsets, first records. The first group's client
  // when there is one (a connection less to open and close), else `own_reader`.
  Client* reader = nullptr;
  std::unique_ptr<Client> own_reader;
  std::vector<std::unique_ptr<Client>> more_readers;  // the same, for first records past the reader's share
  std::map<std::string, std::unique_ptr<Client>> groups;  // group.id = the group: OffsetFetch

  // A consumer in `group` (empty: none; it cannot be assigned partitions then).
  Result<std::unique_ptr<Client>> NewConsumer(const std::string& group, Isolation iso) {
    auto c = std::make_unique<Client>();
    std::vector<std::pair<std::string, std::string>> defaults = {
        {"group.id", group},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"allow.auto.create.topics", "false"},
        {"auto.offset.reset", "earliest"},
        {"isolation.level", IsolationName(iso)},
        // The broker answers a fetch of partitions at their end after at most this: short,
        // since the first fetch often holds a single partition (librdkafka starts fetching
        // as soon as one of those assigned is ready), its next fetch finds it at its end, and
        // the others wait for that answer. At 10 ms, bench/lag.sh's 1,024 partitions waited
        // for two or three such answers one after the other (15 ms more than at 1 ms). Not 0:
        // a partition left unanswered would be fetched in a busy loop until --timeout.
        {"fetch.wait.max.ms", "1"},
        {"fetch.error.backoff.ms", "100"},
        // One record per partition is wanted: keep what each fetch returns small, however
        // many partitions are assigned (the broker still returns at least one batch).
        // queued.min.messages stays at its default: at 1 (or near the records a partition
        // holds), librdkafka 2.0.2's fetcher often sleeps a whole second before fetching.
        {"max.partition.fetch.bytes", "16384"},
    };
    auto conf = MakeConf(brokers, cfg, defaults, &c->errors);
    if (!conf.ok()) return conf.status();
    // The group asked about, whatever -X says: OffsetFetch answers for the client's group.id
    // (an empty one makes no group).
    char errstr[256];
    rd_kafka_conf_set(*conf, "group.id", group.c_str(), errstr, sizeof(errstr));
    auto rk = NewClient(RD_KAFKA_CONSUMER, *conf);
    if (!rk.ok()) return rk.status();
    c->rk = *rk;
    if (!group.empty()) rd_kafka_poll_set_consumer(c->rk);
    return c;
  }

  Result<Client*> Reader() {
    if (!reader) {
      if (!groups.empty()) return reader = groups.begin()->second.get();
      auto c = NewConsumer("evt-lag", isolation);
      if (!c.ok()) return c.status();
      own_reader = std::move(*c);
      reader = own_reader.get();
    }
    return reader;
  }

  Result<Client*> Prober() {
    if (!prober) {
      auto c = NewConsumer("evt-lag", Isolation::kReadUncommitted);
      if (!c.ok()) return c.status();
      prober = std::move(*c);
    }
    return prober.get();
  }

  // Reader number i for first records (0: `reader`), created on first use.
  Result<Client*> ShardReader(size_t i) {
    if (i == 0) return Reader();
    while (more_readers.size() < i) {
      auto c = NewConsumer("evt-lag", isolation);
      if (!c.ok()) return c.status();
      more_readers.push_back(std::move(*c));
    }
    return more_readers[i - 1].get();
  }

  Result<Client*> Group(const std::string& group) {
    auto it = groups.find(group);
    if (it != groups.end()) return it->second.get();
    auto c = NewConsumer(group, isolation);
    if (!c.ok()) return c.status();
    Client* p = c->get();
    groups[group] = std::move(*c);
    return p;
  }

  std::string NoAnswer(const char* what, rd_kafka_resp_err_t err, ErrorState* st) const {
    return fmt::format("kafka://{}: {} within {} ms: {}", brokers, what, cfg.timeout_ms, Explain(err, st));
  }
};

Result<std::unique_ptr<GroupClient>> GroupClient::Open(const std::string& brokers, const KafkaConfig& cfg,
                                                       Isolation isolation) {
  std::unique_ptr<GroupClient> g(new GroupClient);
  g->impl_ = std::make_unique<Impl>();
  g->impl_->brokers = brokers;
  g->impl_->cfg = cfg;
  g->impl_->isolation = isolation;
  auto meta = g->impl_->NewConsumer("", Isolation::kReadUncommitted);
  if (!meta.ok()) return meta.status();
  g->impl_->meta = std::move(*meta);
  return g;
}

GroupClient::~GroupClient() = default;

const std::string& GroupClient::brokers() const { return impl_->brokers; }

Status GroupClient::Topics(bool internal, std::vector<TopicMeta>* out) {
  Meta md;
  EVT_RETURN_IF_ERROR(
      FetchMetadata(impl_->meta->rk, impl_->brokers, "", impl_->cfg.timeout_ms, &impl_->meta->errors, &md));
  out->clear();
  for (const auto& t : md.topics) {
    if (!internal && t.name.rfind("__", 0) == 0) continue;
    TopicMeta tm;
    tm.topic = t.name;
    if (t.err) tm.error = rd_kafka_err2str(t.err);
    for (const auto& p : t.parts) tm.partitions.push_back(p.id);
    out->push_back(std::move(tm));
  }
  return Status::OK();
}

Status GroupClient::CommittedDetail(const std::string& group, const std::vector<TopicPartition>& parts,
                                    std::map<TopicPartition, CommittedInfo>* out) {
  if (parts.empty()) return Status::OK();
  auto c = impl_->Group(group);
  if (!c.ok()) return c.status();
  // OffsetFetch calls of up to kPartitionsPerCall partitions (SplitByTopic: librdkafka
  // matches each answer to its request by a linear search; one call over 1,024 partitions
  // spent 14 ms there), one after the other: several requests in flight on one connection
  // can each wait 40 ms for the mock broker's Nagle (see Ends). All within one --timeout.
  const int64_t deadline = SteadyMs() + impl_->cfg.timeout_ms;
  for (const auto& share : SplitByTopic(parts, kPartitionsPerCall)) {
    const int64_t left = deadline - SteadyMs();
    rd_kafka_topic_partition_list_t* l = ListOf(share, RD_KAFKA_OFFSET_INVALID);
    rd_kafka_resp_err_t err =
        left <= 0 ? RD_KAFKA_RESP_ERR__TIMED_OUT : rd_kafka_committed((*c)->rk, l, static_cast<int>(left));
    if (err) {
      rd_kafka_topic_partition_list_destroy(l);
      // A local error (no answer in time, no connection) is the cluster's; an error the
      // broker answered with (authorization, coordinator) is the group's.
      if (err < 0)
        return Status::IOError(fmt::format(
            "group {}: {}", group, impl_->NoAnswer("no committed offsets (OffsetFetch)", err, &(*c)->errors)));
      return Status::NotFound(fmt::format("OffsetFetch: {}", rd_kafka_err2str(err)));
    }
    for (int i = 0; i < l->cnt; ++i) {
      const auto& e = l->elems[i];
      CommittedInfo& ci = (*out)[{e.topic, e.partition}];
      ci.offset = !e.err && e.offset >= 0 ? e.offset : -1;
      if (ci.offset >= 0) ci.metadata = internal::CommitMetadataOf(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
  }
  return Status::OK();
}

Status GroupClient::Committed(const std::string& group, const std::vector<TopicPartition>& parts,
                              std::map<TopicPartition, int64_t>* out) {
  std::map<TopicPartition, CommittedInfo> detail;
  EVT_RETURN_IF_ERROR(CommittedDetail(group, parts, &detail));
  for (const auto& [tp, ci] : detail) (*out)[tp] = ci.offset;
  return Status::OK();
}

Status GroupClient::Commit(const std::string& group, const std::map<TopicPartition, int64_t>& offsets) {
  std::map<TopicPartition, CommittedInfo> with;
  for (const auto& [tp, off] : offsets) with[tp].offset = off;
  return CommitWithMetadata(group, with);
}

Status GroupClient::CommitWithMetadata(const std::string& group, const std::map<TopicPartition, CommittedInfo>& offsets) {
  if (offsets.empty()) return Status::OK();
  auto c = impl_->Group(group);
  if (!c.ok()) return c.status();
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [tp, ci] : offsets) {
    rd_kafka_topic_partition_t* e = rd_kafka_topic_partition_list_add(l, tp.first.c_str(), tp.second);
    e->offset = ci.offset;
    internal::SetCommitMetadata(e, ci.metadata);
  }
  rd_kafka_resp_err_t err = rd_kafka_commit((*c)->rk, l, 0);
  // A commit from outside a group that has members: what brokers (and the mock) answer.
  auto refused = [&](rd_kafka_resp_err_t e, const std::string& what) {
    if (e == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || e == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
        e == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS || e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID)
      return Status::Busy(fmt::format("group {}: the broker refused the commit{}: {}: the group has active members "
                                      "(stop its consumers, or wait for their session to time out)",
                                      group, what, rd_kafka_err2str(e)));
    return Status::IOError(fmt::format("group {}: the broker refused the commit{}: {}", group, what, rd_kafka_err2str(e)));
  };
  Status result;
  if (err < 0 && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    result = Status::IOError(fmt::format("group {}: {}", group,
                                         impl_->NoAnswer("no answer to the OffsetCommit", err, &(*c)->errors)));
  } else {
    for (int i = 0; i < l->cnt && result.ok(); ++i)
      if (l->elems[i].err)
        result = refused(l->elems[i].err, fmt::format(" of {}/{}", l->elems[i].topic, l->elems[i].partition));
    if (result.ok() && err) result = refused(err, "");
  }
  rd_kafka_topic_partition_list_destroy(l);
  return result;
}

Status GroupClient::OffsetsForTimes(const std::map<TopicPartition, TimeQuery>& want,
                                    std::map<TopicPartition, int64_t>* out) {
  if (want.empty()) return Status::OK();
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(want.size()));
  for (const auto& [tp, q] : want) rd_kafka_topic_partition_list_add(l, tp.first.c_str(), tp.second)->offset = q.time;
  rd_kafka_resp_err_t err =
      rd_kafka_offsets_for_times(impl_->meta->rk, l, static_cast<int>(impl_->cfg.timeout_ms));
  std::map<TopicPartition, int64_t> found;
  for (int i = 0; !err && i < l->cnt; ++i)
    if (!l->elems[i].err && l->elems[i].offset >= 0) found[{l->elems[i].topic, l->elems[i].partition}] = l->elems[i].offset;
  rd_kafka_topic_partition_list_destroy(l);
  if (err && err != RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)
    return Status::IOError(impl_->NoAnswer("no answer to ListOffsets by time", err, &impl_->meta->errors));
  for (const auto& [tp, q] : want) {
    if (InterruptRequested()) return Status::Interrupted();
    auto it = found.find(tp);
    if (it != found.end()) {
      (*out)[tp] = std::min(std::max(it->second, q.low), q.end);
      continue;
    }
    if (q.end <= q.low) {
      (*out)[tp] = q.end;
      continue;
    }
    // Nothing found (no record at or after the time, or a broker that cannot answer time
    // lookups, like the mock): search on the client side; `end` when no record is that late.
    auto prober = impl_->Prober();
    if (!prober.ok()) return prober.status();
    Probe probe{(*prober)->rk, tp.first, impl_->cfg.timeout_ms, &(*prober)->errors};
    int64_t at = q.end;
    EVT_RETURN_IF_ERROR(probe.SearchTime(tp.second, q.low, q.end, q.time, &at));
    (*out)[tp] = at;
  }
  return Status::OK();
}

Status GroupClient::Ends(const std::vector<TopicPartition>& parts, std::map<TopicPartition, PartitionEnds>* out) {
  if (parts.empty()) return Status::OK();
  Client* reader = nullptr;
  if (impl_->isolation == Isolation::kReadCommitted) {
    auto r = impl_->Reader();
    if (!r.ok()) return r.status();
    reader = *r;
  }
  // Log starts and high watermarks from `meta`, last stable offsets from the reader: each
  // client's ListOffsets one after the other, the two clients side by side. Never two
  // requests in flight on one connection: the mock broker does not set TCP_NODELAY, so its
  // second answer waits for the ACK of the first, which the client delays by 40 ms (seen
  // on most runs of bench/lag.sh when the requests went out together). Each request covers
  // at most kPartitionsPerCall partitions (SplitByTopic).
  struct Ask {
    Client* c;
    int64_t which;
    const char* what;
    int64_t PartitionEnds::*field;
    rd_kafka_topic_partition_list_t* l = nullptr;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  };
  struct Kind {
    Client* c;
    int64_t which;
    const char* what;
    int64_t PartitionEnds::*field;
  };
  std::vector<Kind> kinds = {
      {impl_->meta.get(), RD_KAFKA_OFFSET_BEGINNING, "no log start offsets (ListOffsets)", &PartitionEnds::low},
      {impl_->meta.get(), RD_KAFKA_OFFSET_END, "no high watermarks (ListOffsets)", &PartitionEnds::high}};
  if (reader) kinds.push_back({reader, RD_KAFKA_OFFSET_END, "no last stable offsets (ListOffsets)", &PartitionEnds::lso});
  std::vector<Ask> asks;
  const auto shares = SplitByTopic(parts, kPartitionsPerCall);
  for (const auto& k : kinds)
    for (const auto& share : shares) asks.push_back({k.c, k.which, k.what, k.field, ListOf(share, k.which)});
  // All of them within one --timeout.
  const int64_t deadline = SteadyMs() + impl_->cfg.timeout_ms;
  auto run = [&](Client* c) {
    for (auto& a : asks) {
      if (a.c != c) continue;
      int64_t left = deadline - SteadyMs();
      a.err = left <= 0 ? RD_KAFKA_RESP_ERR__TIMED_OUT
                        : rd_kafka_offsets_for_times(a.c->rk, a.l, static_cast<int>(left));
    }
  };
  {
    std::vector<std::thread> threads;
    if (reader) threads.emplace_back(run, reader);
    run(impl_->meta.get());
    for (auto& t : threads) t.join();
  }
  Status result;
  for (auto& a : asks) {
    if (a.err && result.ok()) result = Status::IOError(impl_->NoAnswer(a.what, a.err, &a.c->errors));
    for (int i = 0; !a.err && i < a.l->cnt; ++i) {
      const auto& e = a.l->elems[i];
      PartitionEnds& pe = (*out)[{e.topic, e.partition}];
      if (e.err) {
        if (pe.error.empty()) pe.error = rd_kafka_err2str(e.err);
      } else if (e.offset >= 0) {
        pe.*(a.field) = e.offset;
      }
    }
    rd_kafka_topic_partition_list_destroy(a.l);
  }
  EVT_RETURN_IF_ERROR(result);
  if (reader)  // its ListOffsets asked for the leaders of these topics
    for (const auto& tp : parts) reader->known.insert(tp.first);
  // Partitions the batch could not answer: asked one by one (brokers that answer ListOffsets
  // for some partitions only), all of them within one --timeout; still unknown, they keep
  // their error.
  const int64_t one_by_one_deadline = SteadyMs() + impl_->cfg.timeout_ms;
  for (const auto& tp : parts) {
    PartitionEnds& pe = (*out)[tp];
    if (pe.low >= 0 && pe.high >= 0) {
      pe.error.clear();
      continue;
    }
    int64_t left = one_by_one_deadline - SteadyMs();
    if (left <= 0) {
      if (pe.error.empty()) pe.error = fmt::format("no watermarks within {} ms", impl_->cfg.timeout_ms);
      continue;
    }
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(impl_->meta->rk, tp.first.c_str(), tp.second, &lo,
                                                               &hi, static_cast<int>(left));
    if (err) {
      pe.error = fmt::format("no watermarks within {} ms: {}", impl_->cfg.timeout_ms,
                             Explain(err, &impl_->meta->errors));
      continue;
    }
    pe.low = lo;
    pe.high = hi;
    pe.error.clear();
  }
  return Status::OK();
}

namespace {

// FirstRecords through one consumer (`client`) assigned to all of `want`.
Status FirstRecordsOn(Client* client, const std::string& brokers, int64_t timeout_ms,
                      const std::map<TopicPartition, std::pair<int64_t, int64_t>>& want,
                      std::map<TopicPartition, FirstRecord>* out) {
  rd_kafka_t* rk = client->rk;
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(want.size()));
  for (const auto& [tp, range] : want) rd_kafka_topic_partition_list_add(l, tp.first.c_str(), tp.second)->offset = range.first;
  rd_kafka_resume_partitions(rk, l);  // paused by an earlier call: a pause outlives the assignment
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, l);
  rd_kafka_topic_partition_list_destroy(l);
  if (err) return Status::IOError(fmt::format("kafka://{}: assign: {}", brokers, rd_kafka_err2str(err)));
  // Messages come in batches from the consumer queue; a partition that has its answer is
  // paused at once (its queued messages are dropped, its fetching stops), so the others'
  // fetches are not held up by records nobody needs.
  // A message finds its partition's slot by its topic handle and partition number, without
  // building a name: there are as many messages to skip as records in the fetched batches.
  struct Slot {
    TopicPartition tp;
    int64_t start, end;
    FirstRecord fr;
    bool settled = false;
  };
  std::vector<Slot> slots;
  std::map<std::string, std::vector<int>> by_topic;  // topic -> partition -> slot (-1: none)
  for (const auto& [tp, range] : want) {
    auto& v = by_topic[tp.first];
    if (v.size() <= static_cast<size_t>(tp.second)) v.resize(static_cast<size_t>(tp.second) + 1, -1);
    v[static_cast<size_t>(tp.second)] = static_cast<int>(slots.size());
    slots.push_back(Slot{tp, range.first, range.second, {}, false});
  }
  std::unordered_map<const rd_kafka_topic_t*, const std::vector<int>*> by_handle;
  auto slot_of = [&](const rd_kafka_message_t* m) -> Slot* {
    auto it = by_handle.find(m->rkt);
    if (it == by_handle.end()) {
      auto t = by_topic.find(rd_kafka_topic_name(m->rkt));
      it = by_handle.emplace(m->rkt, t == by_topic.end() ? nullptr : &t->second).first;
    }
    if (!it->second || m->partition < 0 || static_cast<size_t>(m->partition) >= it->second->size()) return nullptr;
    int i = (*it->second)[static_cast<size_t>(m->partition)];
    return i < 0 ? nullptr : &slots[static_cast<size_t>(i)];
  };
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk);
  std::vector<rd_kafka_message_t*> batch(1024);
  size_t settled = 0;
  int64_t deadline = SteadyMs() + timeout_ms;
  Status result;
  while (settled < slots.size()) {
    if (InterruptRequested()) {
      result = Status::Interrupted();
      break;
    }
    if (SteadyMs() >= deadline) break;
    // What is queued, at once; when nothing is, wait for one message.
    ssize_t n = rd_kafka_consume_batch_queue(queue, 0, batch.data(), batch.size());
    if (n <= 0) {
      rd_kafka_message_t* one = rd_kafka_consumer_poll(rk, 100);
      n = one ? 1 : 0;
      if (one) batch[0] = one;
    }
    rd_kafka_topic_partition_list_t* done = nullptr;
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch[static_cast<size_t>(i)];
      Slot* sl = m->rkt ? slot_of(m) : nullptr;  // no topic: a consumer-level error
      if (!sl || sl->settled) {
        rd_kafka_message_destroy(m);
        continue;
      }
      FirstRecord& fr = sl->fr;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        fr.eof = true;
        fr.eof_position = m->offset;
      } else if (m->err) {
        fr.error = rd_kafka_message_errstr(m);
      } else if (m->offset >= sl->start) {
        if (m->offset < sl->end) {
          fr.found = true;
          fr.offset = m->offset;
          rd_kafka_timestamp_type_t tt;
          fr.timestamp = rd_kafka_message_timestamp(m, &tt);
        } else {  // the first record is past the end asked for: nothing readable before it
          fr.eof = true;
          fr.eof_position = m->offset;
        }
      } else {  // before the offset asked for (inside a compressed batch)
        rd_kafka_message_destroy(m);
        continue;
      }
      sl->settled = true;
      ++settled;
      if (!done) done = rd_kafka_topic_partition_list_new(64);
      rd_kafka_topic_partition_list_add(done, sl->tp.first.c_str(), sl->tp.second);
      rd_kafka_message_destroy(m);
    }
    if (done) {
      if (settled < slots.size()) rd_kafka_pause_partitions(rk, done);
      rd_kafka_topic_partition_list_destroy(done);
    }
  }
  rd_kafka_queue_destroy(queue);
  std::string last = LastError(&client->errors);
  for (auto& sl : slots) {
    if (!sl.settled && result.ok())
      sl.fr.error = fmt::format("no record within {} ms{}", timeout_ms, last.empty() ? "" : ": " + last);
    (*out)[sl.tp] = std::move(sl.fr);
  }
  rd_kafka_assign(rk, nullptr);
  return result;
}

}  // namespace

Status GroupClient::FirstRecords(const std::map<TopicPartition, std::pair<int64_t, int64_t>>& want,
                                 std::map<TopicPartition, FirstRecord>* out) {
  if (want.empty()) return Status::OK();
  // Whole topics to each reader, up to kPartitionsPerReader partitions (a bigger topic alone):
  // a reader's toppars (every partition of the topics it was assigned) are what its broker
  // thread goes over on each wakeup, so one reader for all of them costs partitions x wakeups.
  // `want` is sorted by topic, so a topic's partitions are one run of it.
  std::vector<std::map<TopicPartition, std::pair<int64_t, int64_t>>> shares(1);
  for (auto it = want.begin(); it != want.end();) {
    auto end = want.upper_bound({it->first.first, std::numeric_limits<int32_t>::max()});
    size_t n = static_cast<size_t>(std::distance(it, end));
    if (!shares.back().empty() && shares.back().size() + n > kPartitionsPerReader) shares.emplace_back();
    shares.back().insert(it, end);
    it = end;
  }
  std::vector<Client*> readers;
  for (size_t i = 0; i < shares.size(); ++i) {
    auto c = impl_->ShardReader(i);
    if (!c.ok()) return c.status();
    readers.push_back(*c);
  }
  std::vector<std::map<TopicPartition, FirstRecord>> got(shares.size());
  std::vector<Status> status(shares.size());
  auto run = [&](size_t i) {
    // A reader that does not know a topic yet, left to itself, may ask for its metadata only
    // at its next 1 s topic scan (seen as 1 s stalls in bench/lag.sh), so it asks for the
    // cluster's metadata first: one request (not a topic handle per topic: each sends its
    // own metadata request at once, and a run of them waited 40 ms at the mock broker).
    Client* c = readers[i];
    bool unknown = false;
    for (const auto& [tp, range] : shares[i]) unknown |= !c->known.count(tp.first);
    if (unknown) {
      Meta md;
      status[i] = FetchMetadata(c->rk, impl_->brokers, "", impl_->cfg.timeout_ms, &c->errors, &md);
      if (!status[i].ok()) return;
      for (const auto& t : md.topics) c->known.insert(t.name);
    }
    status[i] = FirstRecordsOn(c, impl_->brokers, impl_->cfg.timeout_ms, shares[i], &got[i]);
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < shares.size(); ++i) threads.emplace_back(run, i);
  run(0);
  for (auto& t : threads) t.join();
  for (auto& g : got) out->merge(g);
  for (const auto& s : status) EVT_RETURN_IF_ERROR(s);
  return Status::OK();
}

namespace {

Status GroupList(Client* c, const std::string& brokers, const char* group, int64_t timeout_ms,
                 std::vector<GroupInfo>* out) {
  const struct rd_kafka_group_list* gl = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_list_groups(c->rk, group, &gl, static_cast<int>(timeout_ms));
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)
    return Status::Unsupported(fmt::format("kafka://{}: the broker does not answer {}", brokers,
                                           group ? "DescribeGroups" : "ListGroups"));
  if (err && err != RD_KAFKA_RESP_ERR__PARTIAL)
    return Status::IOError(fmt::format("kafka://{}: no answer to {} within {} ms: {}", brokers,
                                       group ? "DescribeGroups" : "ListGroups", timeout_ms, Explain(err, &c->errors)));
  for (int i = 0; gl && i < gl->group_cnt; ++i) {
    const auto& g = gl->groups[i];
    if (group && g.err) continue;
    GroupInfo gi;
    gi.group = g.group ? g.group : "";
    gi.state = g.state ? g.state : "";
    gi.protocol_type = g.protocol_type ? g.protocol_type : "";
    gi.protocol = g.protocol ? g.protocol : "";
    for (int j = 0; j < g.member_cnt; ++j) {
      const auto& m = g.members[j];
      GroupMember gm;
      gm.member_id = m.member_id ? m.member_id : "";
      gm.client_id = m.client_id ? m.client_id : "";
      gm.host = m.client_host ? m.client_host : "";
      if (gi.protocol_type == "consumer" && m.member_assignment && m.member_assignment_size > 0)
        ParseConsumerAssignment(
            std::string_view(static_cast<const char*>(m.member_assignment), m.member_assignment_size), &gm.assignment);
      gi.members.push_back(std::move(gm));
    }
    out->push_back(std::move(gi));
  }
  if (gl) rd_kafka_group_list_destroy(gl);
  std::sort(out->begin(), out->end(), [](const GroupInfo& a, const GroupInfo& b) { return a.group < b.group; });
  return Status::OK();
}

}  // namespace

Status GroupClient::ListGroups(std::vector<GroupInfo>* out) {
  out->clear();
  return GroupList(impl_->meta.get(), impl_->brokers, nullptr, impl_->cfg.timeout_ms, out);
}

Status GroupClient::DescribeGroup(const std::string& group, GroupInfo* out) {
  std::vector<GroupInfo> all;
  EVT_RETURN_IF_ERROR(GroupList(impl_->meta.get(), impl_->brokers, group.c_str(), impl_->cfg.timeout_ms, &all));
  *out = GroupInfo{};
  out->group = group;
  for (auto& g : all)
    if (g.group == group) *out = std::move(g);
  return Status::OK();
}

bool ParseConsumerAssignment(std::string_view bytes, std::vector<TopicPartition>* out) {
  ByteReader r(bytes);
  int16_t version = 0;
  int32_t topics = 0;
  if (!r.GetI16(&version) || version < 0 || !r.GetI32(&topics) || topics < 0) return false;
  std::vector<TopicPartition> got;
  for (int32_t i = 0; i < topics; ++i) {
    int16_t len = 0;
    std::string_view name;
    int32_t n = 0;
    if (!r.GetI16(&len) || len < 0 || !r.GetBytes(static_cast<size_t>(len), &name) || !r.GetI32(&n) || n < 0 ||
        static_cast<size_t>(n) > r.remaining() / 4)
      return false;
    for (int32_t j = 0; j < n; ++j) {
      int32_t p = 0;
      if (!r.GetI32(&p)) return false;
      got.emplace_back(std::string(name), p);
    }
  }
  // User data (nullable bytes) may follow; it is not needed.
  *out = std::move(got);
  return true;
}

}  // namespace evt::kafka
