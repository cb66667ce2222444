#include "lib/kafka/internal.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "lib/base/term.h"

namespace evt::kafka::internal {

namespace {

void QuietLogger(const rd_kafka_t*, int, const char*, const char*) {}

void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* st = static_cast<ErrorState*>(opaque);
  if (!st) return;
  std::lock_guard<std::mutex> l(st->mu);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof(buf));
    st->fatal = true;
    st->fatal_msg = buf;
  }
  if (st->first_error_ms == 0) st->first_error_ms = SteadyMs();
  st->last = reason ? reason : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err));
}

}  // namespace

std::string LastError(ErrorState* st) {
  std::lock_guard<std::mutex> l(st->mu);
  return st->last;
}

Result<rd_kafka_conf_t*> MakeConf(const std::string& brokers, const KafkaConfig& cfg,
                                  const std::vector<std::pair<std::string, std::string>>& defaults,
                                  ErrorState* errors) {
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  char errstr[512];
  auto set = [&](const std::string& k, const std::string& v, bool user) -> Status {
    if (rd_kafka_conf_set(c, k.c_str(), v.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      std::string msg = errstr;
      if (IsSecretProperty(k) && !v.empty()) {
        // Search on after each "***": a value that is part of "***" (say "*") must not loop.
        for (size_t p = 0; (p = msg.find(v, p)) != std::string::npos; p += 3) msg.replace(p, v.size(), "***");
      }
      return Status::InvalidArgument(fmt::format("{}{}: {}", user ? "-X " : "", k, msg));
    }
    return Status::OK();
  };
  std::vector<std::pair<std::string, std::string>> all = {
      {"bootstrap.servers", brokers},
      {"client.id", "evt"},
      {"socket.timeout.ms", std::to_string(std::max<int64_t>(10, cfg.timeout_ms))},
      {"socket.connection.setup.timeout.ms", std::to_string(std::max<int64_t>(1000, cfg.timeout_ms))},
  };
  for (const auto& d : defaults) all.push_back(d);
  for (const auto& [k, v] : all) {
    Status s = set(k, v, false);
    if (!s.ok()) {
      rd_kafka_conf_destroy(c);
      return s;
    }
  }
  for (const auto& [k, v] : cfg.props) {
    Status s = set(k, v, true);
    if (!s.ok()) {
      rd_kafka_conf_destroy(c);
      return s;
    }
  }
  // librdkafka logs to stderr only when asked (-X debug=...); errors reach us via OnError.
  bool debug = false;
  for (const auto& [k, v] : cfg.props) debug |= k == "debug";
  if (!debug) rd_kafka_conf_set_log_cb(c, QuietLogger);
  rd_kafka_conf_set_error_cb(c, OnError);
  rd_kafka_conf_set_opaque(c, errors);
  return c;
}

std::string Explain(rd_kafka_resp_err_t err, ErrorState* st) {
  std::string s = rd_kafka_err2str(err);
  std::string last = st ? LastError(st) : "";
  if (!last.empty() && last != s) s += fmt::format(" (last broker error: {})", last);
  return s;
}

Result<rd_kafka_t*> NewClient(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(fmt::format("kafka: {}", errstr));
  }
  return rk;
}

Status FetchMetadata(rd_kafka_t* rk, const std::string& brokers, const std::string& topic, int64_t timeout_ms,
                     ErrorState* st, Meta* out) {
  rd_kafka_topic_t* rkt = nullptr;
  if (!topic.empty()) rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, topic.empty() ? 1 : 0, rkt, &md, static_cast<int>(timeout_ms));
  if (rkt) rd_kafka_topic_destroy(rkt);
  if (err) {
    return Status::IOError(fmt::format("kafka://{}: no metadata within {} ms: {}", brokers, timeout_ms,
                                       Explain(err, st)));
  }
  out->brokers.clear();
  out->topics.clear();
  for (int i = 0; i < md->broker_cnt; ++i)
    out->brokers.emplace_back(md->brokers[i].id, fmt::format("{}:{}", md->brokers[i].host, md->brokers[i].port));
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    Meta::Topic mt{t.topic, t.err, {}};
    for (int j = 0; j < t.partition_cnt; ++j) {
      const auto& p = t.partitions[j];
      Meta::Part mp{p.id, p.leader, {}, p.err};
      for (int r = 0; r < p.replica_cnt; ++r) mp.replicas.push_back(p.replicas[r]);
      mt.parts.push_back(std::move(mp));
    }
    std::sort(mt.parts.begin(), mt.parts.end(), [](const Meta::Part& a, const Meta::Part& b) { return a.id < b.id; });
    out->topics.push_back(std::move(mt));
  }
  rd_kafka_metadata_destroy(md);
  std::sort(out->topics.begin(), out->topics.end(),
            [](const Meta::Topic& a, const Meta::Topic& b) { return a.name < b.name; });
  return Status::OK();
}

Status TopicPartitions(rd_kafka_t* rk, const KafkaTarget& t, int64_t timeout_ms, ErrorState* st,
                       std::vector<int32_t>* parts, bool allow_create) {
  Meta md;
  EVT_RETURN_IF_ERROR(FetchMetadata(rk, t.brokers, allow_create ? t.topic : "", timeout_ms, st, &md));
  const Meta::Topic* topic = nullptr;
  for (const auto& mt : md.topics)
    if (mt.name == t.topic) topic = &mt;
  if (!topic || topic->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
      (topic->err == RD_KAFKA_RESP_ERR_NO_ERROR && topic->parts.empty()))
    return Status::NotFound(fmt::format("{}: topic does not exist", t.Describe()));
  if (topic->err) return Status::IOError(fmt::format("{}: {}", t.Describe(), rd_kafka_err2str(topic->err)));
  std::vector<int32_t> all;
  for (const auto& p : topic->parts) all.push_back(p.id);
  if (t.partitions.empty()) {
    *parts = all;
    return Status::OK();
  }
  parts->clear();
  for (int32_t p : t.partitions) {
    if (!std::binary_search(all.begin(), all.end(), p))
      return Status::NotFound(fmt::format("{}: partition {} does not exist (the topic has {} partitions)",
                                          t.Describe(), p, all.size()));
    parts->push_back(p);
  }
  return Status::OK();
}

Status Probe::FetchOne(int32_t part, int64_t offset, int64_t end, int64_t* got_offset, int64_t* got_ts, bool* found) {
  *found = false;
  if (offset >= end) return Status::OK();
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, topic.c_str(), part)->offset = offset;
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, l);
  rd_kafka_topic_partition_list_destroy(l);
  if (err) return Status::IOError(fmt::format("{}/{}: assign: {}", topic, part, rd_kafka_err2str(err)));
  int64_t deadline = SteadyMs() + timeout_ms;
  Status result;
  while (SteadyMs() < deadline) {
    if (InterruptRequested()) {
      result = Status::Interrupted();
      break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->partition != part) {
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      bool at_end = m->offset >= end;
      rd_kafka_message_destroy(m);
      if (at_end) break;
      continue;
    }
    if (m->err) {
      result = Status::IOError(fmt::format("{}/{}@{}: {}", topic, part, offset, rd_kafka_message_errstr(m)));
      rd_kafka_message_destroy(m);
      break;
    }
    if (m->offset < offset) {
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->offset < end) {
      *found = true;
      *got_offset = m->offset;
      rd_kafka_timestamp_type_t tt;
      *got_ts = rd_kafka_message_timestamp(m, &tt);
    }
    rd_kafka_message_destroy(m);
    break;
  }
  rd_kafka_assign(rk, nullptr);
  if (result.ok() && !*found && SteadyMs() >= deadline)
    return Status::IOError(fmt::format("{}/{}@{}: no answer within {} ms{}", topic, part, offset, timeout_ms,
                                       st && !LastError(st).empty() ? ": " + LastError(st) : ""));
  return result;
}

Status Probe::SearchTime(int32_t part, int64_t low, int64_t end, int64_t t, int64_t* result) {
  int64_t lo = low, hi = end;
  while (hi - lo > 32) {
    int64_t mid = lo + (hi - lo) / 2;
    int64_t off = 0, ts = 0;
    bool found = false;
    EVT_RETURN_IF_ERROR(FetchOne(part, mid, hi, &off, &ts, &found));
    if (!found) {
      hi = mid;
    } else if (ts < t) {
      lo = off + 1;
    } else {
      hi = off;
    }
  }
  int64_t pos = lo;
  while (pos < end) {
    int64_t off = 0, ts = 0;
    bool found = false;
    EVT_RETURN_IF_ERROR(FetchOne(part, pos, end, &off, &ts, &found));
    if (!found) break;
    if (ts >= t) {
      *result = off;
      return Status::OK();
    }
    pos = off + 1;
    if (pos >= hi && pos - hi > 4096) break;  // far past the bracket: nothing ordered follows
  }
  *result = end;
  return Status::OK();
}

Status Watermarks(rd_kafka_t* rk, const std::string& topic, const std::vector<int32_t>& ids, int64_t timeout_ms,
                  ErrorState* st, std::map<int32_t, std::pair<int64_t, int64_t>>* out) {
  if (ids.empty()) return Status::OK();
  int64_t lows_highs[2] = {-2, -1};
  std::map<int32_t, int64_t> got[2];
  for (int w = 0; w < 2; ++w) {
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(ids.size()));
    for (int32_t id : ids) rd_kafka_topic_partition_list_add(l, topic.c_str(), id)->offset = lows_highs[w];
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, l, static_cast<int>(timeout_ms));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
      for (int i = 0; i < l->cnt; ++i)
        if (!l->elems[i].err && l->elems[i].offset >= 0) got[w][l->elems[i].partition] = l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
  }
  for (int32_t id : ids) {
    if (got[0].count(id) && got[1].count(id)) {
      (*out)[id] = {got[0][id], got[1][id]};
      continue;
    }
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, topic.c_str(), id, &lo, &hi, static_cast<int>(timeout_ms));
    if (err)
      return Status::IOError(fmt::format("{}/{}: cannot read watermarks within {} ms: {}", topic, id, timeout_ms,
                                         Explain(err, st)));
    (*out)[id] = {lo, hi};
  }
  return Status::OK();
}

}  // namespace evt::kafka::internal
