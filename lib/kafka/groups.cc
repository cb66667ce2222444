#include "lib/kafka/groups.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <set>

#include "lib/base/coding.h"
#include "lib/base/term.h"
#include "lib/kafka/internal.h"

namespace evt::kafka {

using namespace internal;

namespace {

// A librdkafka client and the error state its callbacks write to (at a stable address).
struct Client {
  ErrorState errors;
  Handle h;
};

const char* IsolationName(Isolation i) {
  return i == Isolation::kReadCommitted ? "read_committed" : "read_uncommitted";
}

rd_kafka_topic_partition_list_t* ListOf(const std::vector<TopicPartition>& parts, int64_t offset) {
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
  for (const auto& [t, p] : parts) rd_kafka_topic_partition_list_add(l, t.c_str(), p)->offset = offset;
  return l;
}

}  // namespace

struct GroupClient::Impl {
  std::string brokers;
  KafkaConfig cfg;
  Isolation isolation = Isolation::kReadCommitted;
  std::unique_ptr<Client> meta;    // read_uncommitted: metadata, earliest and high watermarks, groups
  std::unique_ptr<Client> reader;  // the isolation asked for: last stable offsets, first records
  std::map<std::string, std::unique_ptr<Client>> groups;  // group.id = the group: OffsetFetch

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
        {"fetch.wait.max.ms", "100"},
        {"fetch.error.backoff.ms", "100"},
        // One record per partition is wanted: keep what is fetched and queued small, however
        // many partitions are assigned (the broker still returns at least one batch).
        {"queued.min.messages", "1"},
        {"max.partition.fetch.bytes", "16384"},
    };
    auto conf = MakeConf(brokers, cfg, defaults, &c->errors);
    if (!conf.ok()) return conf.status();
    // The group asked about, whatever -X says: OffsetFetch answers for the client's group.id.
    char errstr[256];
    rd_kafka_conf_set(*conf, "group.id", group.c_str(), errstr, sizeof(errstr));
    auto rk = NewClient(RD_KAFKA_CONSUMER, *conf);
    if (!rk.ok()) return rk.status();
    c->h.rk = *rk;
    rd_kafka_poll_set_consumer(c->h.rk);
    return c;
  }

  Result<Client*> Reader() {
    if (!reader) {
      auto c = NewConsumer("evt-lag", isolation);
      if (!c.ok()) return c.status();
      reader = std::move(*c);
    }
    return reader.get();
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
  auto meta = g->impl_->NewConsumer("evt-lag", Isolation::kReadUncommitted);
  if (!meta.ok()) return meta.status();
  g->impl_->meta = std::move(*meta);
  return g;
}

GroupClient::~GroupClient() = default;

const std::string& GroupClient::brokers() const { return impl_->brokers; }

Status GroupClient::Topics(bool internal, std::vector<TopicMeta>* out) {
  Meta md;
  EVT_RETURN_IF_ERROR(
      FetchMetadata(impl_->meta->h.rk, impl_->brokers, "", impl_->cfg.timeout_ms, &impl_->meta->errors, &md));
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

Status GroupClient::Committed(const std::string& group, const std::vector<TopicPartition>& parts,
                              std::map<TopicPartition, int64_t>* out) {
  if (parts.empty()) return Status::OK();
  auto c = impl_->Group(group);
  if (!c.ok()) return c.status();
  rd_kafka_topic_partition_list_t* l = ListOf(parts, RD_KAFKA_OFFSET_INVALID);
  rd_kafka_resp_err_t err = rd_kafka_committed((*c)->h.rk, l, static_cast<int>(impl_->cfg.timeout_ms));
  if (err) {
    rd_kafka_topic_partition_list_destroy(l);
    return Status::IOError(fmt::format("group {}: {}", group,
                                       impl_->NoAnswer("no committed offsets (OffsetFetch)", err, &(*c)->errors)));
  }
  for (int i = 0; i < l->cnt; ++i) {
    const auto& e = l->elems[i];
    (*out)[{e.topic, e.partition}] = !e.err && e.offset >= 0 ? e.offset : -1;
  }
  rd_kafka_topic_partition_list_destroy(l);
  return Status::OK();
}

Status GroupClient::Ends(const std::vector<TopicPartition>& parts, std::map<TopicPartition, PartitionEnds>* out) {
  if (parts.empty()) return Status::OK();
  auto ask = [&](Client* c, int64_t which, const char* what, int64_t PartitionEnds::*field) -> Status {
    rd_kafka_topic_partition_list_t* l = ListOf(parts, which);
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(c->h.rk, l, static_cast<int>(impl_->cfg.timeout_ms));
    if (err) {
      rd_kafka_topic_partition_list_destroy(l);
      return Status::IOError(impl_->NoAnswer(what, err, &c->errors));
    }
    for (int i = 0; i < l->cnt; ++i) {
      const auto& e = l->elems[i];
      PartitionEnds& pe = (*out)[{e.topic, e.partition}];
      if (e.err) {
        if (pe.error.empty()) pe.error = rd_kafka_err2str(e.err);
      } else if (e.offset >= 0) {
        pe.*field = e.offset;
      }
    }
    rd_kafka_topic_partition_list_destroy(l);
    return Status::OK();
  };
  EVT_RETURN_IF_ERROR(ask(impl_->meta.get(), RD_KAFKA_OFFSET_BEGINNING, "no log start offsets (ListOffsets)",
                          &PartitionEnds::low));
  EVT_RETURN_IF_ERROR(
      ask(impl_->meta.get(), RD_KAFKA_OFFSET_END, "no high watermarks (ListOffsets)", &PartitionEnds::high));
  if (impl_->isolation == Isolation::kReadCommitted) {
    auto r = impl_->Reader();
    if (!r.ok()) return r.status();
    EVT_RETURN_IF_ERROR(ask(*r, RD_KAFKA_OFFSET_END, "no last stable offsets (ListOffsets)", &PartitionEnds::lso));
  }
  // Partitions the batch could not answer: asked one by one (brokers that answer ListOffsets
  // for some partitions only), all of them within one --timeout; still unknown, they keep
  // their error.
  int64_t deadline = SteadyMs() + impl_->cfg.timeout_ms;
  for (const auto& tp : parts) {
    PartitionEnds& pe = (*out)[tp];
    if (pe.low >= 0 && pe.high >= 0) {
      pe.error.clear();
      continue;
    }
    int64_t left = deadline - SteadyMs();
    if (left <= 0) {
      if (pe.error.empty()) pe.error = fmt::format("no watermarks within {} ms", impl_->cfg.timeout_ms);
      continue;
    }
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(impl_->meta->h.rk, tp.first.c_str(), tp.second, &lo,
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

Status GroupClient::FirstRecords(const std::map<TopicPartition, std::pair<int64_t, int64_t>>& want,
                                 std::map<TopicPartition, FirstRecord>* out) {
  if (want.empty()) return Status::OK();
  auto r = impl_->Reader();
  if (!r.ok()) return r.status();
  rd_kafka_t* rk = (*r)->h.rk;
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(want.size()));
  for (const auto& [tp, range] : want) rd_kafka_topic_partition_list_add(l, tp.first.c_str(), tp.second)->offset = range.first;
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, l);
  rd_kafka_topic_partition_list_destroy(l);
  if (err) return Status::IOError(fmt::format("kafka://{}: assign: {}", impl_->brokers, rd_kafka_err2str(err)));
  std::set<TopicPartition> settled;
  int64_t deadline = SteadyMs() + impl_->cfg.timeout_ms;
  Status result;
  while (settled.size() < want.size()) {
    if (InterruptRequested()) {
      result = Status::Interrupted();
      break;
    }
    if (SteadyMs() >= deadline) break;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (!m->rkt) {  // a consumer-level error (no partition)
      rd_kafka_message_destroy(m);
      continue;
    }
    TopicPartition tp{rd_kafka_topic_name(m->rkt), m->partition};
    auto it = want.find(tp);
    if (it == want.end() || settled.count(tp)) {
      rd_kafka_message_destroy(m);
      continue;
    }
    FirstRecord& fr = (*out)[tp];
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      fr.eof = true;
      fr.eof_position = m->offset;
      settled.insert(tp);
    } else if (m->err) {
      fr.error = rd_kafka_message_errstr(m);
      settled.insert(tp);
    } else if (m->offset >= it->second.first) {
      if (m->offset < it->second.second) {
        fr.found = true;
        fr.offset = m->offset;
        rd_kafka_timestamp_type_t tt;
        fr.timestamp = rd_kafka_message_timestamp(m, &tt);
      } else {  // the first record is past the end asked for: nothing readable before it
        fr.eof = true;
        fr.eof_position = m->offset;
      }
      settled.insert(tp);
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_assign(rk, nullptr);
  if (!result.ok()) return result;
  std::string last = LastError(&(*r)->errors);
  for (const auto& [tp, range] : want)
    if (!settled.count(tp))
      (*out)[tp].error = fmt::format("no record within {} ms{}", impl_->cfg.timeout_ms, last.empty() ? "" : ": " + last);
  return Status::OK();
}

namespace {

Status GroupList(Client* c, const std::string& brokers, const char* group, int64_t timeout_ms,
                 std::vector<GroupInfo>* out) {
  const struct rd_kafka_group_list* gl = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_list_groups(c->h.rk, group, &gl, static_cast<int>(timeout_ms));
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
