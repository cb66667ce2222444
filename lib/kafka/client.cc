#include "lib/kafka/client.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "formats/envelope/envelope.h"
#include "formats/kafka/partitioner.h"
#include "lib/base/file.h"
#include "lib/base/term.h"

namespace evt::kafka {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool ParseInt(const std::string& s, int64_t* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(s.c_str(), &end, 10);
  if (errno || *end) return false;
  *v = x;
  return true;
}

// host[:port] -> host:port (9092 when omitted); IPv6 literals in brackets.
Result<std::string> NormalizeHost(std::string h) {
  h = Trim(h);
  if (h.empty()) return Status::InvalidArgument("empty broker address");
  size_t colon = h.rfind(':');
  bool has_port = colon != std::string::npos && (h[0] != '[' || colon > h.find(']'));
  if (!has_port) return h + ":9092";
  int64_t port = 0;
  if (!ParseInt(h.substr(colon + 1), &port) || port < 1 || port > 65535)
    return Status::InvalidArgument(fmt::format("bad port in broker address '{}'", h));
  return h;
}

Result<std::string> NormalizeBrokers(const std::string& list) {
  std::string out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!Trim(item).empty()) {
      auto h = NormalizeHost(item);
      if (!h.ok()) return h.status();
      if (!out.empty()) out += ',';
      out += *h;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<std::string> BrokersOrEnv(const std::string& given, const char* what) {
  std::string b = given;
  if (Trim(b).empty()) {
    const char* env = std::getenv("EVT_BROKERS");
    if (!env || !*env)
      return Status::InvalidArgument(
          fmt::format("{}: no brokers given (use kafka://HOST:PORT/TOPIC, -b BROKERS, or set EVT_BROKERS)", what));
    b = env;
  }
  auto n = NormalizeBrokers(b);
  if (!n.ok()) return n.status();
  if (n->empty()) return Status::InvalidArgument(fmt::format("{}: no brokers given", what));
  return n;
}

void QuietLogger(const rd_kafka_t*, int, const char*, const char*) {}

// Errors librdkafka reports asynchronously (connection refused, auth failures, ...).
struct ErrorState {
  std::mutex mu;
  std::string last;
  bool fatal = false;
  std::string fatal_msg;
  void* owner = nullptr;  // the object a handle's other callbacks need (rebalance)
  int64_t first_error_ms = 0;  // first error since the last sign of progress (0: none)
};

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
  if (st->first_error_ms == 0) st->first_error_ms = NowMs();
  st->last = reason ? reason : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err));
}

std::string LastError(ErrorState* st) {
  std::lock_guard<std::mutex> l(st->mu);
  return st->last;
}

// Builds a librdkafka configuration: evt's defaults, then the user's -X/--config (which
// win). Values of secret properties never appear in messages.
Result<rd_kafka_conf_t*> MakeConf(const std::string& brokers, const KafkaConfig& cfg,
                                  const std::vector<std::pair<std::string, std::string>>& defaults,
                                  ErrorState* errors) {
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  char errstr[512];
  auto set = [&](const std::string& k, const std::string& v, bool user) -> Status {
    if (rd_kafka_conf_set(c, k.c_str(), v.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      std::string msg = errstr;
      if (IsSecretProperty(k) && !v.empty()) {
        for (size_t p; (p = msg.find(v)) != std::string::npos;) msg.replace(p, v.size(), "***");
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

// Creates a client from `conf` (which it takes over, also on failure).
Result<rd_kafka_t*> NewClient(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(fmt::format("kafka: {}", errstr));
  }
  return rk;
}

struct Handle {
  rd_kafka_t* rk = nullptr;
  ~Handle() {
    if (rk) rd_kafka_destroy(rk);
  }
};

struct Meta {
  struct Part {
    int32_t id;
    int32_t leader;
    std::vector<int32_t> replicas;
    rd_kafka_resp_err_t err;
  };
  struct Topic {
    std::string name;
    rd_kafka_resp_err_t err;
    std::vector<Part> parts;
  };
  std::vector<std::pair<int32_t, std::string>> brokers;
  std::vector<Topic> topics;
};

// Metadata for one topic (or all topics when `topic` is empty), within timeout_ms.
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

// The partitions of `topic` (an error naming the topic when it does not exist). Asks for
// every topic's metadata: a request naming the topic would let the cluster auto-create it
// (librdkafka sends AllowAutoTopicCreation for application metadata requests).
Status TopicPartitions(rd_kafka_t* rk, const KafkaTarget& t, int64_t timeout_ms, ErrorState* st,
                       std::vector<int32_t>* parts, bool allow_create = false) {
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

// One message at or after `offset` in a partition, through a probe consumer.
struct Probe {
  rd_kafka_t* rk = nullptr;
  std::string topic;
  int64_t timeout_ms = 30000;
  ErrorState* st = nullptr;

  // *found = false when the partition has no message in [offset, end).
  Status FetchOne(int32_t part, int64_t offset, int64_t end, int64_t* got_offset, int64_t* got_ts, bool* found) {
    *found = false;
    if (offset >= end) return Status::OK();
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic.c_str(), part)->offset = offset;
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) return Status::IOError(fmt::format("{}/{}: assign: {}", topic, part, rd_kafka_err2str(err)));
    int64_t deadline = NowMs() + timeout_ms;
    Status result;
    while (NowMs() < deadline) {
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
    if (result.ok() && !*found && NowMs() >= deadline)
      return Status::IOError(fmt::format("{}/{}@{}: no answer within {} ms{}", topic, part, offset, timeout_ms,
                                         st && !LastError(st).empty() ? ": " + LastError(st) : ""));
    return result;
  }

  // The first offset in [low, end) whose record has a timestamp >= t (end when none):
  // a binary search with single fetches, then a short scan. Timestamps are assumed to be
  // mostly ordered by offset, as Kafka's time index assumes.
  Status SearchTime(int32_t part, int64_t low, int64_t end, int64_t t, int64_t* result) {
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
};

// Low and high watermarks of many partitions in two ListOffsets round trips (timestamps
// -2 and -1 ask for the earliest and latest offsets; under read_committed the latest is
// the last stable offset). Partitions the batch cannot answer are asked one by one.
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

// The first message at or after `want[p].first` and before `want[p].second`, for many
// partitions at once: partition -> (offset, timestamp). Partitions with none are absent.
Status FirstMessages(rd_kafka_t* rk, const std::string& topic,
                     const std::map<int32_t, std::pair<int64_t, int64_t>>& want, int64_t timeout_ms, ErrorState* st,
                     std::map<int32_t, std::pair<int64_t, int64_t>>* got) {
  if (want.empty()) return Status::OK();
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(want.size()));
  for (const auto& [p, r] : want) rd_kafka_topic_partition_list_add(l, topic.c_str(), p)->offset = r.first;
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, l);
  rd_kafka_topic_partition_list_destroy(l);
  if (err) return Status::IOError(fmt::format("{}: assign: {}", topic, rd_kafka_err2str(err)));
  std::map<int32_t, bool> settled;
  int64_t deadline = NowMs() + timeout_ms;
  Status result;
  while (settled.size() < want.size()) {
    if (NowMs() >= deadline) {
      result = Status::IOError(fmt::format("{}: no answer within {} ms{}", topic, timeout_ms,
                                           st && !LastError(st).empty() ? ": " + LastError(st) : ""));
      break;
    }
    if (InterruptRequested()) {
      result = Status::Interrupted();
      break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    auto it = want.find(m->partition);
    if (it == want.end() || settled.count(m->partition)) {
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->offset >= it->second.second) settled[m->partition] = true;
    } else if (m->err) {
      result = Status::IOError(fmt::format("{}/{}: {}", topic, m->partition, rd_kafka_message_errstr(m)));
      rd_kafka_message_destroy(m);
      break;
    } else if (m->offset >= it->second.first) {
      if (m->offset < it->second.second) {
        rd_kafka_timestamp_type_t tt;
        (*got)[m->partition] = {m->offset, rd_kafka_message_timestamp(m, &tt)};
      }
      settled[m->partition] = true;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_assign(rk, nullptr);
  return result;
}

const char* IsolationName(Isolation i) {
  return i == Isolation::kReadCommitted ? "read_committed" : "read_uncommitted";
}

}  // namespace

// ---------------------------------------------------------------- addressing, config

bool IsKafkaUrl(const std::string& s) { return s.rfind("kafka://", 0) == 0; }

std::string KafkaTarget::Describe() const {
  std::string s = fmt::format("kafka://{}/{}", brokers, topic);
  if (!partitions.empty()) {
    s += "?partition=";
    for (size_t i = 0; i < partitions.size(); ++i) s += (i ? "," : "") + std::to_string(partitions[i]);
  }
  return s;
}

Result<std::vector<int32_t>> ParsePartitionList(const std::string& spec) {
  std::vector<int32_t> out;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string item = Trim(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!item.empty()) {
      size_t dash = item.find('-', 1);
      int64_t a = 0, b = 0;
      bool ok = dash == std::string::npos ? ParseInt(item, &a) && (b = a, true)
                                          : ParseInt(item.substr(0, dash), &a) && ParseInt(item.substr(dash + 1), &b);
      if (!ok || a < 0 || b < a || b > 1000000)
        return Status::InvalidArgument(fmt::format("bad partition list '{}' (expected e.g. 0,2-4)", spec));
      for (int64_t p = a; p <= b; ++p) out.push_back(static_cast<int32_t>(p));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty()) return Status::InvalidArgument(fmt::format("empty partition list '{}'", spec));
  return out;
}

Result<KafkaTarget> ParseKafkaUrl(const std::string& url) {
  if (!IsKafkaUrl(url)) return Status::InvalidArgument(fmt::format("not a kafka:// URL: '{}'", url));
  std::string rest = url.substr(8);
  size_t slash = rest.find('/');
  std::string hosts = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (hosts.find('@') != std::string::npos)
    return Status::InvalidArgument(
        "kafka:// URLs carry no credentials: put sasl.username/sasl.password in a --config file");
  KafkaTarget t;
  auto b = BrokersOrEnv(hosts, "kafka://");
  if (!b.ok()) return b.status();
  t.brokers = *b;
  size_t q = path.find('?');
  t.topic = path.substr(0, q);
  if (!t.topic.empty() && t.topic.back() == '/') t.topic.pop_back();
  if (t.topic.find('/') != std::string::npos)
    return Status::InvalidArgument(fmt::format("'{}': a topic name cannot contain '/'", url));
  if (q != std::string::npos) {
    std::string query = path.substr(q + 1);
    size_t eq = query.find('=');
    std::string key = query.substr(0, eq);
    if (eq == std::string::npos || (key != "partition" && key != "partitions"))
      return Status::InvalidArgument(fmt::format("'{}': the only query parameter is ?partition=N,M", url));
    auto parts = ParsePartitionList(query.substr(eq + 1));
    if (!parts.ok()) return parts.status();
    t.partitions = *parts;
  }
  return t;
}

Result<KafkaTarget> KafkaTargetFrom(const std::string& brokers, const std::string& topic) {
  KafkaTarget t;
  auto b = BrokersOrEnv(brokers, "-b");
  if (!b.ok()) return b.status();
  t.brokers = *b;
  t.topic = topic;
  return t;
}

bool IsSecretProperty(const std::string& name) {
  static const char* const kWords[] = {"password", "secret", "jaas", "token", ".pem", "key", "credentials"};
  for (const char* w : kWords)
    if (name.find(w) != std::string::npos) return name != "ssl.key.location" && name != "ssl.keystore.location";
  return false;
}

Status AddProperty(const std::string& kv, KafkaConfig* cfg) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    return Status::InvalidArgument(fmt::format("-X: expected prop=value, got '{}'",
                                               IsSecretProperty(kv.substr(0, eq)) ? kv.substr(0, eq) : kv));
  cfg->props.emplace_back(Trim(kv.substr(0, eq)), kv.substr(eq + 1));
  return Status::OK();
}

Status AddPropertiesFile(const std::string& path, KafkaConfig* cfg) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  size_t start = 0;
  int line = 0;
  while (start < text->size()) {
    size_t nl = text->find('\n', start);
    std::string l = Trim(text->substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    ++line;
    start = nl == std::string::npos ? text->size() : nl + 1;
    if (l.empty() || l[0] == '#' || l[0] == '!') continue;
    size_t eq = l.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument(fmt::format("{}:{}: expected prop=value", path, line));
    cfg->props.emplace_back(Trim(l.substr(0, eq)), Trim(l.substr(eq + 1)));
  }
  return Status::OK();
}

void PrintProperties() {
  std::fflush(stdout);
  rd_kafka_conf_properties_show(stdout);
  std::fflush(stdout);
}

// ---------------------------------------------------------------- source

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
  bool group_assigned = false;  // -G: an assignment arrived
  Status rebalance_error;

  std::vector<rd_kafka_message_t*> held;     // backing the batch last returned
  std::deque<rd_kafka_message_t*> ready;     // consumed, not yet returned
  std::vector<rd_kafka_message_t*> scratch;  // consume_batch buffer
  int64_t last_progress = 0;

  ~Impl() {
    for (auto* m : held) rd_kafka_message_destroy(m);
    for (auto* m : ready) rd_kafka_message_destroy(m);
    if (queue) rd_kafka_queue_destroy(queue);
    if (consumer.rk) rd_kafka_consumer_close(consumer.rk);
  }

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
    }
    return NewClient(RD_KAFKA_CONSUMER, *conf);
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
      rd_kafka_assign(rk, l);
    } else {
      for (int i = 0; i < l->cnt; ++i) self->parts.erase(l->elems[i].partition);
      rd_kafka_assign(rk, nullptr);
    }
  }

  int64_t SessionTimeoutMs() const {
    int64_t v = 45000;
    for (const auto& [k, val] : cfg.props)
      if (k == "session.timeout.ms") ParseInt(val, &v);
    return v;
  }

  bool AllDone() const {
    if (ro.follow) return false;
    if (!ro.group.empty() && !group_assigned) return false;
    for (const auto& [id, p] : parts)
      if (!p.done) return false;
    return true;
  }

  void Progress() {
    last_progress = NowMs();
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
    if (since == 0 || NowMs() - since <= cfg.timeout_ms) return Status::OK();
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
            if (errors.first_error_ms == 0) errors.first_error_ms = NowMs();
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
    if (n == 0 && !ro.follow && NowMs() - last_progress > bound) {
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

  auto rk = s.NewConsumer(!ro.group.empty());
  if (!rk.ok()) return rk.status();
  s.consumer.rk = *rk;
  rd_kafka_poll_set_consumer(s.consumer.rk);
  s.queue = rd_kafka_queue_get_consumer(s.consumer.rk);
  s.last_progress = NowMs();

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
    if (s.AllDone()) {
      *eof = true;
      return Status::OK();
    }
    if (InterruptRequested()) return Status::Interrupted();
    EVT_RETURN_IF_ERROR(s.Poll());
  }
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

// ---------------------------------------------------------------- sink

// Values at least this long are produced without a copy when they are in a shared buffer;
// shorter ones are cheaper to copy than to account for.
constexpr uint32_t kZeroCopyMin = 64;
// A buffer is held until the last of its records is delivered, so the buffers held add up
// to more than the bytes in flight (about twice, with the default queue). Past this many
// bytes held, values are copied again.
constexpr size_t kMaxHeldBytes = size_t{128} << 20;

struct KafkaSink::Impl {
  // A decompressed buffer that records were produced from without a copy: held until each
  // of them has its delivery report. `pending` counts those records, plus one while the
  // Write() that made it runs. Leases live in a list so that whatever librdkafka never
  // reports (it was destroyed with records queued) is freed after the producers are.
  struct Lease {
    SharedBuffer buf;
    uint32_t pending = 1;
    Impl* sink = nullptr;
    Lease* prev = nullptr;
    Lease* next = nullptr;
  };
  struct Leases {
    Lease head;  // sentinel
    Leases() { head.prev = head.next = &head; }
    ~Leases() {
      while (head.next != &head) Drop(head.next);
    }
    size_t bytes = 0;  // capacity of the buffers held
    Lease* Make(const SharedBuffer& b, Impl* sink) {
      auto* l = new Lease;
      l->buf = b;
      l->sink = sink;
      bytes += b->capacity();
      l->next = head.next;
      l->prev = &head;
      head.next->prev = l;
      head.next = l;
      return l;
    }
    void Drop(Lease* l) {
      bytes -= l->buf ? l->buf->capacity() : 0;
      l->prev->next = l->next;
      l->next->prev = l->prev;
      delete l;
    }
  };
  static void Unref(Lease* l) {
    if (--l->pending == 0) l->sink->leases.Drop(l);
  }

  Leases leases;    // declared before `producers`: destroyed after them
  Lease copied;     // the opaque of records librdkafka copied (no buffer held)
  KafkaTarget target;
  KafkaConfig cfg;
  KafkaWriteOptions wo;
  ErrorState errors;
  // One or more producer instances; partition p goes to producers[p % size]. With a user
  // partitioner there is one, and it is given RD_KAFKA_PARTITION_UA.
  std::vector<std::unique_ptr<Handle>> producers;
  std::vector<rd_kafka_topic_t*> rkts;
  bool own_partitioner = false;  // evt picks the partition (murmur2, random for null keys)
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  int32_t partition_count = 0;
  uint64_t produced = 0;
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};
  std::string first_failure;  // delivery reports run in rd_kafka_poll/flush, on the writing thread
  bool closed = false;
  std::vector<std::pair<const std::string*, Lease*>> made;  // Write()'s leases (kept for its capacity)

  ~Impl() {
    for (rd_kafka_topic_t* t : rkts) rd_kafka_topic_destroy(t);
  }

  size_t OutqLen() const {
    size_t n = 0;
    for (const auto& p : producers) n += static_cast<size_t>(rd_kafka_outq_len(p->rk));
    return n;
  }
  void FlushAll(int timeout_ms) {
    for (const auto& p : producers)
      if (rd_kafka_outq_len(p->rk) > 0) rd_kafka_flush(p->rk, timeout_ms);
  }
  void PollAll() {
    for (const auto& p : producers) rd_kafka_poll(p->rk, 0);
  }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    auto* lease = static_cast<Lease*>(m->_private);  // RD_KAFKA_V_OPAQUE
    Impl* self = lease->sink;
    if (lease != &self->copied) Unref(lease);
    if (m->err) {
      if (self->failed++ == 0)
        self->first_failure = fmt::format("partition {}: {}", m->partition, rd_kafka_err2str(m->err));
    } else {
      ++self->delivered;
    }
  }
};

KafkaSink::~KafkaSink() = default;

Result<std::unique_ptr<KafkaSink>> KafkaSink::Open(const KafkaTarget& t, const KafkaConfig& cfg,
                                                   const KafkaWriteOptions& wo) {
  if (t.topic.empty()) return Status::InvalidArgument(fmt::format("{}: no topic given", t.Describe()));
  if (!t.partitions.empty() && wo.policy != PartitionPolicy::kFixed)
    return Status::InvalidArgument(fmt::format("{}: ?partition= on a destination needs one partition; or use "
                                               "--partition N",
                                               t.Describe()));
  // librdkafka allocates and frees one message per record and a batch.size buffer per
  // batch; glibc would hand that memory back to the kernel and fault it in again (a third of
  // the producer's time). Keep it: the queue bound (queue.buffering.max.kbytes) still bounds it.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
  std::unique_ptr<KafkaSink> sink(new KafkaSink());
  sink->impl_ = std::make_unique<Impl>();
  Impl& s = *sink->impl_;
  s.copied.sink = &s;
  s.target = t;
  s.cfg = cfg;
  s.wo = wo;
  std::string codec = wo.compression == "none" ? "none" : wo.compression;
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"partitioner", "murmur2_random"},
      {"compression.type", codec},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"batch.size", "1000000"},
      {"queue.buffering.max.kbytes", "32768"},  // 32 MiB, the Java producer's buffer.memory
      {"message.timeout.ms", std::to_string(std::max<int64_t>(1000, cfg.timeout_ms))},
      {"allow.auto.create.topics", wo.create_topic ? "true" : "false"},
  };
  if (wo.compression_level >= 0) defaults.emplace_back("compression.level", std::to_string(wo.compression_level));
  auto add_producer = [&]() -> Status {
    auto conf = MakeConf(t.brokers, cfg, defaults, &s.errors);
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_dr_msg_cb(*conf, &Impl::OnDelivery);
    auto prk = NewClient(RD_KAFKA_PRODUCER, *conf);
    if (!prk.ok()) return prk.status();
    s.producers.push_back(std::make_unique<Handle>());
    s.producers.back()->rk = *prk;
    return Status::OK();
  };
  EVT_RETURN_IF_ERROR(add_producer());
  rd_kafka_t* rk = s.producers[0]->rk;

  std::vector<int32_t> ids;
  KafkaTarget probe_t = t;
  probe_t.partitions.clear();
  Status ms = TopicPartitions(rk, probe_t, cfg.timeout_ms, &s.errors, &ids);
  if (!ms.ok() && ms.code() == Code::kNotFound && wo.create_topic) {
    // The metadata request above asked the broker to create it; wait until it shows up.
    int64_t deadline = NowMs() + cfg.timeout_ms;
    while (!ms.ok() && ms.code() == Code::kNotFound && NowMs() < deadline) {
      ms = TopicPartitions(rk, probe_t, cfg.timeout_ms, &s.errors, &ids, /*allow_create=*/true);
      if (!ms.ok()) rd_kafka_poll(rk, 200);
    }
  }
  if (!ms.ok()) {
    if (ms.code() == Code::kNotFound)
      return Status::NotFound(ms.message() + (wo.create_topic ? " (and the cluster did not create it)"
                                                              : " (create it first, or pass --create-topic)"));
    return ms;
  }
  s.partition_count = static_cast<int32_t>(ids.size());
  if (!t.partitions.empty()) {
    if (t.partitions.size() != 1)
      return Status::InvalidArgument(fmt::format("{}: a destination takes one partition", t.Describe()));
    s.wo.fixed_partition = t.partitions[0];
  }
  if (s.wo.policy == PartitionPolicy::kFixed && s.wo.fixed_partition >= s.partition_count)
    return Status::InvalidArgument(fmt::format("{}: partition {} does not exist (the topic has {} partitions)",
                                               t.Describe(), s.wo.fixed_partition, s.partition_count));

  // More producer instances compress in parallel (see KafkaWriteOptions::producers). A user's
  // partitioner must see every record, and a transactional.id may be used by one producer only.
  bool user_partitioner = false, transactional = false;
  for (const auto& [k, v] : cfg.props) {
    user_partitioner |= k == "partitioner" || k == "topic.partitioner";
    transactional |= k == "transactional.id";
  }
  int n = wo.producers;
  if (n <= 0) n = static_cast<int>(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 4));
  if (s.wo.policy == PartitionPolicy::kFixed || transactional ||
      (s.wo.policy == PartitionPolicy::kHash && user_partitioner))
    n = 1;
  n = std::max(1, std::min(n, s.partition_count));
  s.own_partitioner = s.wo.policy == PartitionPolicy::kHash && !user_partitioner;
  for (int i = 1; i < n; ++i) EVT_RETURN_IF_ERROR(add_producer());
  for (const auto& p : s.producers) s.rkts.push_back(rd_kafka_topic_new(p->rk, t.topic.c_str(), nullptr));
  s.rng ^= static_cast<uint64_t>(NowMs()) * 0x2545f4914f6cdd1dull;
  return sink;
}

Status KafkaSink::Write(const RecordBatch& b) {
  Impl& s = *impl_;
  // Values in the batch's shared buffers are produced without a copy, each holding its
  // buffer (a lease) until delivered; other values (in a file mapping, an arena, a JSON
  // Lines buffer) are copied by librdkafka. The leases made here are held until the end.
  std::vector<std::pair<const std::string*, Impl::Lease*>>& made = s.made;
  made.clear();
  struct Release {
    std::vector<std::pair<const std::string*, Impl::Lease*>>& made;
    ~Release() {
      for (auto& [_, l] : made) Impl::Unref(l);
      made.clear();
    }
  } release{made};
  size_t hint = 0;
  for (const Record& r : b.records) {
    if (r.control) continue;
    int32_t part = RD_KAFKA_PARTITION_UA;
    if (s.own_partitioner) {
      if (!r.key.null()) {
        part = Murmur2Partition(std::string_view(r.key.data, r.key.size), s.partition_count);
      } else {  // as librdkafka's murmur2_random: a random partition (xorshift64)
        s.rng ^= s.rng << 13;
        s.rng ^= s.rng >> 7;
        s.rng ^= s.rng << 17;
        part = static_cast<int32_t>(s.rng % static_cast<uint64_t>(s.partition_count));
      }
    } else if (s.wo.policy == PartitionPolicy::kFixed) {
      part = s.wo.fixed_partition;
    } else if (s.wo.policy == PartitionPolicy::kKeep) {
      part = r.partition >= 0 ? r.partition : b.partition >= 0 ? b.partition : s.wo.default_partition;
      if (part < 0)
        return Status::InvalidArgument(
            fmt::format("--partition keep: a record at offset {} has no partition", r.offset));
      if (part >= s.partition_count)
        return Status::InvalidArgument(fmt::format(
            "--partition keep: a record of partition {} cannot go to {}, which has {} partitions", part,
            s.target.Describe(), s.partition_count));
    }
    rd_kafka_headers_t* hdrs = nullptr;
    if (r.header_count) {
      hdrs = rd_kafka_headers_new(r.header_count);
      const Header* h = b.HeadersOf(r);
      for (uint32_t i = 0; i < r.header_count; ++i)
        rd_kafka_header_add(hdrs, h[i].key.data(), static_cast<ssize_t>(h[i].key.size()),
                            h[i].value.null() ? nullptr : (h[i].value.size ? h[i].value.data : ""),
                            h[i].value.null() ? 0 : static_cast<ssize_t>(h[i].value.size));
    }
    void* key = r.key.null() ? nullptr : const_cast<char*>(r.key.size ? r.key.data : "");
    void* val = r.value.null() ? nullptr : const_cast<char*>(r.value.size ? r.value.data : "");
    Impl::Lease* lease = &s.copied;
    int flags = RD_KAFKA_MSG_F_COPY;
    if (r.value.size >= kZeroCopyMin && s.leases.bytes < kMaxHeldBytes) {
      if (const SharedBuffer* buf = b.BufferHolding(r.value.data, r.value.size, &hint)) {
        if (made.empty() || made.back().first != buf->get()) {
          auto it = std::find_if(made.begin(), made.end(), [&](const auto& m) { return m.first == buf->get(); });
          if (it == made.end()) {
            made.emplace_back(buf->get(), s.leases.Make(*buf, &s));
          } else {
            std::iter_swap(it, made.end() - 1);
          }
        }
        lease = made.back().second;
        flags = 0;  // librdkafka keeps a pointer to the value until the delivery report
      }
    }
    size_t inst = part >= 0 ? static_cast<size_t>(part) % s.producers.size() : 0;
    rd_kafka_t* prk = s.producers[inst]->rk;
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          prk, RD_KAFKA_V_RKT(s.rkts[inst]), RD_KAFKA_V_PARTITION(part), RD_KAFKA_V_MSGFLAGS(flags),
          RD_KAFKA_V_KEY(key, r.key.null() ? 0 : r.key.size), RD_KAFKA_V_VALUE(val, r.value.null() ? 0 : r.value.size),
          RD_KAFKA_V_TIMESTAMP(r.timestamp > 0 ? r.timestamp : 0), RD_KAFKA_V_HEADERS(hdrs),
          RD_KAFKA_V_OPAQUE(lease), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        if (InterruptRequested()) {
          if (hdrs) rd_kafka_headers_destroy(hdrs);
          return Status::Interrupted();
        }
        rd_kafka_poll(prk, 10);
        if (s.producers.size() > 1) s.PollAll();
        continue;
      }
      if (err) {
        if (hdrs) rd_kafka_headers_destroy(hdrs);
        return Status::IOError(fmt::format("{}: producing: {}", s.target.Describe(), Explain(err, &s.errors)));
      }
      break;
    }
    if (lease != &s.copied) ++lease->pending;
    ++s.produced;
    if ((s.produced & 63) == 0) s.PollAll();
  }
  {
    std::lock_guard<std::mutex> l(s.errors.mu);
    if (s.errors.fatal) return Status::IOError(fmt::format("{}: {}", s.target.Describe(), s.errors.fatal_msg));
  }
  return Status::OK();
}

Status KafkaSink::Flush() {
  Impl& s = *impl_;
  // Waits for every delivery report; message.timeout.ms (from --timeout) bounds each record.
  while (s.OutqLen() > 0) {
    if (InterruptRequested()) return Status::Interrupted();
    s.FlushAll(100);
  }
  return Status::OK();
}

Status KafkaSink::Close() {
  Impl& s = *impl_;
  if (s.closed) return Status::OK();
  s.closed = true;
  // Waits for every delivery report; message.timeout.ms (from --timeout) bounds each record.
  while (s.OutqLen() > 0 && !InterruptRequested()) s.FlushAll(100);
  bool interrupted = InterruptRequested();
  if (interrupted) {
    // Ctrl-C: give what is in flight a bounded chance, then give up on the rest.
    int64_t deadline = NowMs() + std::min<int64_t>(s.cfg.timeout_ms, 5000);
    while (s.OutqLen() > 0 && NowMs() < deadline) s.FlushAll(100);
    for (const auto& p : s.producers) rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    s.FlushAll(1000);
  }
  s.PollAll();
  uint64_t lost = s.produced - s.delivered.load();
  if (lost > 0) {
    std::string msg = fmt::format("{}: {} of {} records were not delivered{}", s.target.Describe(), lost, s.produced,
                                  s.first_failure.empty() ? "" : " (first: " + s.first_failure + ")");
    if (interrupted) return Status::Interrupted();  // the caller reports the counts
    return Status::DataProblem(msg);
  }
  return Status::OK();
}

uint64_t KafkaSink::produced() const { return impl_->produced; }
uint64_t KafkaSink::delivered() const { return impl_->delivered.load(); }
int32_t KafkaSink::partition_count() const { return impl_->partition_count; }
int KafkaSink::producer_count() const { return static_cast<int>(impl_->producers.size()); }

Status KafkaSink::Ends(std::map<int32_t, int64_t>* out) {
  Impl& s = *impl_;
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < s.partition_count; ++i) ids.push_back(i);
  std::map<int32_t, std::pair<int64_t, int64_t>> marks;
  EVT_RETURN_IF_ERROR(Watermarks(s.producers[0]->rk, s.target.topic, ids, s.cfg.timeout_ms, &s.errors, &marks));
  for (const auto& [p, lh] : marks) (*out)[p] = lh.second;
  return Status::OK();
}

// ---------------------------------------------------------------- inspect

Status InspectKafka(const KafkaTarget& t, const KafkaConfig& cfg, KafkaClusterInfo* out) {
  ErrorState errors;
  KafkaReadOptions ro;
  std::vector<std::pair<std::string, std::string>> defaults = {{"group.id", "evt"},
                                                               {"enable.auto.commit", "false"},
                                                               {"enable.partition.eof", "true"},
                                                               {"allow.auto.create.topics", "false"}};
  auto conf = MakeConf(t.brokers, cfg, defaults, &errors);
  if (!conf.ok()) return conf.status();
  auto crk = NewClient(RD_KAFKA_CONSUMER, *conf);
  if (!crk.ok()) return crk.status();
  Handle h;
  h.rk = *crk;
  rd_kafka_poll_set_consumer(h.rk);
  Meta md;
  EVT_RETURN_IF_ERROR(FetchMetadata(h.rk, t.brokers, "", cfg.timeout_ms, &errors, &md));
  if (!t.topic.empty()) {
    std::erase_if(md.topics, [&](const Meta::Topic& mt) { return mt.name != t.topic; });
  }
  out->brokers = t.brokers;
  out->broker_list = md.brokers;
  bool with_ts = !t.topic.empty();
  if (with_ts) {
    std::vector<int32_t> ids;
    EVT_RETURN_IF_ERROR(TopicPartitions(h.rk, t, cfg.timeout_ms, &errors, &ids));
  }
  Probe probe{h.rk, "", cfg.timeout_ms, &errors};
  for (const auto& mt : md.topics) {
    if (mt.name.rfind("__", 0) == 0 && t.topic.empty()) continue;  // internal topics
    if (InterruptRequested()) return Status::Interrupted();
    KafkaTopicInfo ti;
    ti.topic = mt.name;
    if (mt.err) ti.error = rd_kafka_err2str(mt.err);
    probe.topic = mt.name;
    std::vector<int32_t> ids;
    for (const auto& mp : mt.parts)
      if (t.partitions.empty() || std::binary_search(t.partitions.begin(), t.partitions.end(), mp.id))
        ids.push_back(mp.id);
    std::map<int32_t, std::pair<int64_t, int64_t>> marks;
    Status ws = Watermarks(h.rk, mt.name, ids, cfg.timeout_ms, &errors, &marks);
    std::map<int32_t, std::pair<int64_t, int64_t>> firsts, lasts, want_first, want_last;
    if (ws.ok() && with_ts) {
      for (const auto& [id, m] : marks)
        if (m.second > m.first) {
          want_first[id] = {m.first, m.second};
          want_last[id] = {m.second - 1, m.second};
        }
      EVT_RETURN_IF_ERROR(FirstMessages(h.rk, mt.name, want_first, cfg.timeout_ms, &errors, &firsts));
      EVT_RETURN_IF_ERROR(FirstMessages(h.rk, mt.name, want_last, cfg.timeout_ms, &errors, &lasts));
    }
    for (const auto& mp : mt.parts) {
      if (!t.partitions.empty() && !std::binary_search(t.partitions.begin(), t.partitions.end(), mp.id)) continue;
      KafkaPartitionInfo pi;
      pi.partition = mp.id;
      pi.leader = mp.leader;
      pi.replicas = mp.replicas;
      if (mp.err) pi.error = rd_kafka_err2str(mp.err);
      if (!ws.ok()) {
        pi.error = ws.message();
      } else {
        pi.low = marks[mp.id].first;
        pi.high = marks[mp.id].second;
      }
      if (firsts.count(mp.id)) pi.first_timestamp = firsts[mp.id].second;
      if (lasts.count(mp.id)) pi.last_timestamp = lasts[mp.id].second;
      if (ws.ok() && with_ts && pi.high > pi.low && pi.last_timestamp < 0) {
        // Transaction markers may take the last offsets: scan a growing tail.
        int64_t off = 0, ts = -1;
        bool found = false;
        for (int64_t back = 16; back <= (1 << 20) && pi.last_timestamp < 0; back *= 16) {
          int64_t pos = std::max(pi.low, pi.high - back);
          while (pos < pi.high) {
            EVT_RETURN_IF_ERROR(probe.FetchOne(mp.id, pos, pi.high, &off, &ts, &found));
            if (!found) break;
            pi.last_timestamp = ts;
            pos = off + 1;
          }
          if (pi.high - back <= pi.low) break;
        }
      }
      ti.partitions.push_back(std::move(pi));
    }
    out->topics.push_back(std::move(ti));
  }
  return Status::OK();
}

namespace {
std::string JsonStr(std::string_view s) {
  std::string o;
  envelope::AppendJsonString(s, &o);
  return o;
}
}  // namespace

std::string KafkaInfoJson(const KafkaClusterInfo& info, bool with_ts) {
  std::string o;
  for (const auto& t : info.topics) {
    for (const auto& p : t.partitions) {
      fmt::format_to(std::back_inserter(o), "{{\"topic\":{},\"partition\":{},\"leader\":{},\"replicas\":[",
                     JsonStr(t.topic), p.partition, p.leader);
      for (size_t i = 0; i < p.replicas.size(); ++i) fmt::format_to(std::back_inserter(o), "{}{}", i ? "," : "", p.replicas[i]);
      fmt::format_to(std::back_inserter(o), "],\"low\":{},\"high\":{},\"span\":{}", p.low, p.high,
                     p.high >= p.low && p.low >= 0 ? p.high - p.low : 0);
      if (with_ts)
        fmt::format_to(std::back_inserter(o), ",\"first_timestamp\":{},\"last_timestamp\":{}", p.first_timestamp,
                       p.last_timestamp);
      if (!p.error.empty()) fmt::format_to(std::back_inserter(o), ",\"error\":{}", JsonStr(p.error));
      o += "}\n";
    }
    if (t.partitions.empty())
      fmt::format_to(std::back_inserter(o), "{{\"topic\":{},\"error\":{}}}\n", JsonStr(t.topic),
                     JsonStr(t.error.empty() ? "no partitions" : t.error));
  }
  return o;
}

std::string KafkaInfoTable(const KafkaClusterInfo& info, bool with_ts) {
  std::string o;
  auto ts = [](int64_t v) -> std::string {
    if (v < 0) return "-";
    time_t secs = static_cast<time_t>(v / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(v % 1000));
  };
  fmt::format_to(std::back_inserter(o), "{:<32} {:>5} {:>7} {:>12} {:>12} {:>12}", "TOPIC", "PART", "LEADER", "LOW",
                 "HIGH", "SPAN");
  if (with_ts) fmt::format_to(std::back_inserter(o), "  {:<24} {:<24}", "FIRST", "LAST");
  o += '\n';
  int64_t total = 0;
  for (const auto& t : info.topics) {
    for (const auto& p : t.partitions) {
      int64_t span = p.high >= p.low && p.low >= 0 ? p.high - p.low : 0;
      total += span;
      fmt::format_to(std::back_inserter(o), "{:<32} {:>5} {:>7} {:>12} {:>12} {:>12}", t.topic, p.partition, p.leader,
                     p.low, p.high, span);
      if (with_ts) fmt::format_to(std::back_inserter(o), "  {:<24} {:<24}", ts(p.first_timestamp), ts(p.last_timestamp));
      if (!p.error.empty()) fmt::format_to(std::back_inserter(o), "  error: {}", p.error);
      o += '\n';
    }
    if (t.partitions.empty())
      fmt::format_to(std::back_inserter(o), "{:<32} error: {}\n", t.topic, t.error.empty() ? "no partitions" : t.error);
  }
  fmt::format_to(std::back_inserter(o),
                 "{} topics on {} ({} brokers); offset span {} (high - low: not a record count on compacted or "
                 "transactional topics)\n",
                 info.topics.size(), info.brokers, info.broker_list.size(), total);
  return o;
}

}  // namespace evt::kafka
