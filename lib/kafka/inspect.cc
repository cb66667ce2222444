#include "lib/kafka/client.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <ctime>
#include <iterator>
#include <map>

#include "formats/envelope/envelope.h"
#include "lib/base/term.h"
#include "lib/kafka/internal.h"

namespace evt::kafka {

using namespace internal;

namespace {

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
  int64_t deadline = SteadyMs() + timeout_ms;
  Status result;
  while (settled.size() < want.size()) {
    if (SteadyMs() >= deadline) {
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

}  // namespace

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

// The shape of `evt inspect` on files: one object, {"partitions":[...],"total":{...}}, so a
// script reads a topic's and a data directory's output the same way.
std::string KafkaInfoJson(const KafkaClusterInfo& info, bool with_ts) {
  std::string o = "{\"partitions\":[";
  bool first = true;
  int64_t span_total = 0;
  size_t partitions = 0;
  for (const auto& t : info.topics) {
    for (const auto& p : t.partitions) {
      int64_t span = p.high >= p.low && p.low >= 0 ? p.high - p.low : 0;
      span_total += span;
      ++partitions;
      fmt::format_to(std::back_inserter(o), "{}{{\"topic\":{},\"partition\":{},\"leader\":{},\"replicas\":[",
                     first ? "" : ",", JsonStr(t.topic), p.partition, p.leader);
      first = false;
      for (size_t i = 0; i < p.replicas.size(); ++i) fmt::format_to(std::back_inserter(o), "{}{}", i ? "," : "", p.replicas[i]);
      fmt::format_to(std::back_inserter(o), "],\"low\":{},\"high\":{},\"span\":{}", p.low, p.high, span);
      if (with_ts)
        fmt::format_to(std::back_inserter(o), ",\"first_timestamp\":{},\"last_timestamp\":{}", p.first_timestamp,
                       p.last_timestamp);
      if (!p.error.empty()) fmt::format_to(std::back_inserter(o), ",\"error\":{}", JsonStr(p.error));
      o += "}";
    }
    if (t.partitions.empty()) {
      fmt::format_to(std::back_inserter(o), "{}{{\"topic\":{},\"error\":{}}}", first ? "" : ",", JsonStr(t.topic),
                     JsonStr(t.error.empty() ? "no partitions" : t.error));
      first = false;
    }
  }
  fmt::format_to(std::back_inserter(o), "],\"total\":{{\"topics\":{},\"partitions\":{},\"span\":{}}}}}\n",
                 info.topics.size(), partitions, span_total);
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
