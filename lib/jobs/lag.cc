#include "lib/jobs/lag.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iterator>
#include <limits>

#include "formats/envelope/envelope.h"
#include "lib/base/file.h"
#include "lib/base/histogram.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"
#include "lib/log/segment.h"
#include "lib/log/segment_writer.h"
#include "lib/pipeline/checkpoint.h"
#include "lib/pipeline/offsets_log.h"
#include "lib/log/segment_index.h"

namespace evt {

namespace {

constexpr const char* kStatusNames[] = {"OK", "LAGGING", "WARN", "STALL", "STOP", "REWIND", "ERR"};

std::string Off(int64_t committed) { return committed >= 0 ? std::to_string(committed) : "none"; }

std::string JsonStr(std::string_view s) {
  std::string o;
  envelope::AppendJsonString(s, &o);
  return o;
}

// A number, or null when unknown (-1).
std::string JsonInt(int64_t v) { return v >= 0 ? std::to_string(v) : "null"; }
// A rate or duration, or null when unknown or infinite.
std::string JsonNum(double v) { return std::isfinite(v) ? fmt::format("{}", std::round(v * 1000) / 1000) : "null"; }

std::string EtaText(double eta_s) {
  if (std::isnan(eta_s)) return "-";
  if (std::isinf(eta_s)) return "never";
  return FormatLagDuration(static_cast<int64_t>(eta_s * 1000));
}

std::string RateText(double r) {
  if (std::isnan(r)) return "-";
  if (std::fabs(r) >= 100) return fmt::format("{:.0f}/s", r);
  return fmt::format("{:.1f}/s", r);
}

}  // namespace

const char* LagStatusName(LagStatus s) { return kStatusNames[static_cast<int>(s)]; }

bool ParseLagStatus(std::string_view name, LagStatus* out) {
  std::string up;
  for (char c : name) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up == "WARNING") up = "WARN";
  if (up == "ERROR") up = "ERR";
  if (up == "STOPPED") up = "STOP";
  if (up == "STALLED") up = "STALL";
  for (int i = 0; i < 7; ++i)
    if (up == kStatusNames[i]) {
      *out = static_cast<LagStatus>(i);
      return true;
    }
  return false;
}

std::string FormatLagDuration(int64_t ms) {
  if (ms < 0) return "-";
  if (ms == 0) return "0s";
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 10000) return fmt::format("{}.{}s", ms / 1000, (ms % 1000) / 100);
  int64_t s = ms / 1000;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
}

// ---- Burrow's rules ----

WindowEval EvaluateWindow(const std::vector<LagSample>& window) {
  WindowEval e;
  if (window.empty()) {
    e.status = LagStatus::kErr;
    e.reason = "no sample";
    return e;
  }
  const LagSample& cur = window.back();
  if (!cur.error.empty() || cur.lag < 0) {
    e.status = LagStatus::kErr;
    e.reason = cur.error.empty() ? "lag unknown" : cur.error;
    return e;
  }
  std::vector<const LagSample*> w;
  for (const auto& s : window)
    if (s.error.empty() && s.lag >= 0) w.push_back(&s);
  const LagSample& first = *w.front();
  e.samples = w.size();
  e.span_ms = cur.time_ms - first.time_ms;
  if (w.size() >= 2 && e.span_ms > 0) {
    double secs = static_cast<double>(e.span_ms) / 1000.0;
    e.consume_rate = static_cast<double>(cur.position - first.position) / secs;
    e.produce_rate = static_cast<double>(cur.end - first.end) / secs;
    double drain = e.consume_rate - e.produce_rate;
    e.eta_s = cur.lag == 0 ? 0.0 : drain > 0 ? static_cast<double>(cur.lag) / drain : INFINITY;
  } else if (cur.lag == 0) {
    e.eta_s = 0;
  }
  std::string span = FormatLagDuration(e.span_ms);
  if (w.size() < 2) {
    if (cur.lag == 0) {
      e.status = LagStatus::kOk;
      e.reason = "caught up (lag 0)";
    } else {
      e.status = LagStatus::kLagging;
      e.reason = fmt::format("lag {} records; one sample, no trend yet", cur.lag);
    }
    return e;
  }
  // OK: the lag was 0 somewhere in the window (or is now).
  for (auto it = w.rbegin(); it != w.rend(); ++it) {
    if ((*it)->lag != 0) continue;
    e.status = LagStatus::kOk;
    e.reason = cur.lag == 0 ? "caught up (lag 0)"
                            : fmt::format("lag was 0 at {}, within the window; now {} records",
                                          FormatRfc3339Ms((*it)->time_ms), cur.lag);
    return e;
  }
  // REWIND: the committed offset went backwards.
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i]->committed >= 0 && w[i - 1]->committed >= 0 && w[i]->committed < w[i - 1]->committed) {
      e.status = LagStatus::kRewind;
      e.reason = fmt::format("committed offset went back from {} to {} at {}", w[i - 1]->committed, w[i]->committed,
                             FormatRfc3339Ms(w[i]->time_ms));
      return e;
    }
  }
  bool constant = true;
  for (const auto* s : w) constant &= s->committed == cur.committed;
  std::string what = cur.committed >= 0 ? fmt::format("committed offset {}", cur.committed) : "no commit";
  if (constant && cur.since_ms < first.time_ms) {
    e.status = LagStatus::kStop;
    e.reason = fmt::format("{} unchanged since {} ({}), longer than the window spans ({}), while lagging ({} records)",
                           what, FormatRfc3339Ms(cur.since_ms), FormatLagDuration(cur.time_ms - cur.since_ms), span,
                           cur.lag);
    return e;
  }
  if (constant) {
    e.status = LagStatus::kStall;
    e.reason = fmt::format("{} unchanged over {} samples ({}) while lag is {} records", what, w.size(), span, cur.lag);
    return e;
  }
  bool never_decreases = true;
  for (size_t i = 1; i < w.size(); ++i) never_decreases &= w[i]->lag >= w[i - 1]->lag;
  if (never_decreases) {
    e.status = LagStatus::kWarn;
    e.reason = fmt::format("committed offset moves ({} -> {}) but lag never decreases ({} -> {} over {})",
                           Off(first.committed), Off(cur.committed), first.lag, cur.lag, span);
    return e;
  }
  e.status = LagStatus::kOk;
  e.reason = fmt::format("catching up: lag {} -> {} over {}", first.lag, cur.lag, span);
  return e;
}

// ---- One observation ----

LagStartPos LagStart(int64_t committed, int64_t low, int64_t end, NoCommitAs no_commit) {
  LagStartPos p;
  if (committed < 0) {
    switch (no_commit) {
      case NoCommitAs::kEarliest: p.start = low; break;
      case NoCommitAs::kLatest: p.start = end; break;
      case NoCommitAs::kSkip: p.skip = true; break;
    }
    return p;
  }
  p.start = committed;
  if (low >= 0 && committed < low) {
    p.below_log_start = true;
    p.start = low;
  }
  return p;
}

PartitionLag ComputeLag(const PartitionObservation& ob, const kafka::FirstRecord* first, NoCommitAs no_commit,
                        int64_t now_ms) {
  PartitionLag pl;
  pl.group = ob.group;
  pl.topic = ob.topic;
  pl.partition = ob.partition;
  pl.committed = ob.committed;
  pl.low = ob.low;
  pl.end = ob.end;
  pl.lso = ob.lso;
  pl.commit_timestamp = ob.commit_timestamp;
  if (!ob.error.empty()) {
    pl.error = ob.error;
    return pl;
  }
  if (ob.end < 0) {
    pl.error = "log end offset unknown";
    return pl;
  }
  LagStartPos sp = LagStart(ob.committed, ob.low, ob.end, no_commit);
  pl.start = sp.start;
  pl.below_log_start = sp.below_log_start;
  if (sp.skip) return pl;
  std::vector<std::string> notes;
  int64_t from = ob.committed >= 0 ? ob.committed : sp.start;
  pl.lag = std::max<int64_t>(0, ob.end - from);
  if (ob.committed < 0)
    notes.push_back(no_commit == NoCommitAs::kEarliest ? "no commit: counted from the log start (--no-commit-as earliest)"
                                                       : "no commit: counted as caught up (--no-commit-as latest)");
  if (ob.committed > ob.end)
    notes.push_back(fmt::format("committed offset {} is past the log end {} (the log was truncated or recreated)",
                                ob.committed, ob.end));
  if (sp.below_log_start)
    notes.push_back(fmt::format(
        "committed offset {} is below the log start {} (retention deleted {} records): the time lag is from the first "
        "available record",
        ob.committed, ob.low, ob.low - ob.committed));
  if (pl.lag == 0) {
    pl.time_lag_ms = 0;
  } else if (first && !first->error.empty()) {
    notes.push_back("time lag unknown: " + first->error);
  } else if (first && first->found) {
    pl.first_offset = first->offset;
    pl.first_timestamp = first->timestamp;
    if (first->timestamp >= 0) pl.time_lag_ms = std::max<int64_t>(0, now_ms - first->timestamp);
  } else if (first && first->eof && first->eof_position >= ob.end) {
    // Nothing a consumer can receive is left between the committed offset and the end:
    // the entries there are transaction markers (or records of aborted transactions).
    pl.lag = 0;
    pl.time_lag_ms = 0;
    pl.markers_only = true;
    notes.push_back("only transaction markers or aborted records follow the committed offset: lag 0");
  } else if (first && first->eof) {
    notes.push_back(fmt::format(
        "no record can be read before offset {} (an open transaction under read_committed): time lag unknown",
        first->eof_position));
  } else if (sp.start >= ob.end) {
    notes.push_back("no record is left to read: time lag unknown");
  }
  for (size_t i = 0; i < notes.size(); ++i) pl.note += (i ? "; " : "") + notes[i];
  return pl;
}

void SummarizeGroup(GroupLag* g) {
  g->lag = 0;
  g->max_lag = 0;
  g->max_time_lag_ms = -1;
  g->topic_lag.clear();
  double in = 0, out = 0, eta = 0;
  bool rates = false, rates_unknown = false, eta_unknown = false;
  size_t n = 0;
  for (const auto& p : g->partitions) {
    if (p.lag >= 0) {
      g->lag += p.lag;
      g->max_lag = std::max(g->max_lag, p.lag);
      g->topic_lag[p.topic] += p.lag;
    }
    if (p.time_lag_ms >= 0) g->max_time_lag_ms = std::max(g->max_time_lag_ms, p.time_lag_ms);
    if (!p.error.empty() || p.lag < 0) continue;
    ++n;
    if (std::isnan(p.eval.consume_rate)) {
      rates_unknown = true;
    } else {
      rates = true;
      in += p.eval.produce_rate;
      out += p.eval.consume_rate;
    }
    if (p.lag > 0) {
      if (std::isnan(p.eval.eta_s)) eta_unknown = true;
      else eta = std::max(eta, p.eval.eta_s);
    }
  }
  g->produce_rate = rates && !rates_unknown ? in : NAN;
  g->consume_rate = rates && !rates_unknown ? out : NAN;
  g->eta_s = g->lag == 0 && n > 0 ? 0.0 : eta_unknown || n == 0 ? NAN : eta;
  if (!g->error.empty()) {
    g->status = LagStatus::kErr;
    g->reason = g->error;
    return;
  }
  if (g->partitions.empty()) {
    g->status = LagStatus::kErr;
    g->reason = "no partitions to evaluate";
    return;
  }
  LagStatus worst = LagStatus::kOk;
  for (const auto& p : g->partitions) worst = std::max(worst, p.eval.status);
  size_t count = 0;
  const PartitionLag* example = nullptr;
  for (const auto& p : g->partitions)
    if (p.eval.status == worst) {
      ++count;
      if (!example) example = &p;
    }
  g->status = worst;
  size_t total = g->partitions.size();
  if (worst == LagStatus::kOk) {
    g->reason = g->lag == 0 ? fmt::format("all {} partitions caught up", total)
                            : fmt::format("all {} partitions OK; lag {} records", total, g->lag);
  } else if (worst == LagStatus::kLagging) {
    g->reason = fmt::format(
        "{} of {} partitions lag, {} records in all; one sample: a trend (STALL, STOP, WARN, REWIND) needs --history "
        "FILE or --watch",
        count, total, g->lag);
  } else {
    g->reason = fmt::format("{} of {} partitions {} (first: {}/{}: {})", count, total, LagStatusName(worst),
                            example->topic, example->partition,
                            example->error.empty() ? example->eval.reason : example->error);
  }
}

// ---- History ----

Result<LagHistory> LagHistory::Load(const std::string& path) {
  if (!PathExists(path)) return LagHistory{};
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

Result<LagHistory> LagHistory::Parse(std::string_view text, const std::string& name) {
  LagHistory h;
  simdjson::dom::parser parser;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto bad = [&]() {
      return Status::InvalidArgument(fmt::format("{}:{}: not a line of an evt lag history", name, line_no));
    };
    simdjson::dom::element doc;
    if (parser.parse(simdjson::padded_string(line)).get(doc) != simdjson::SUCCESS || !doc.is_object()) return bad();
    std::string_view group, topic, error;
    int64_t partition = 0;
    LagSample s;
    if (doc["group"].get(group) || doc["topic"].get(topic) || doc["partition"].get(partition) ||
        doc["time"].get(s.time_ms))
      return bad();
    if (doc["error"].get(error) == simdjson::SUCCESS) {
      s.error = std::string(error);
      if (s.error.empty()) return bad();
    } else if (doc["committed"].get(s.committed) || doc["position"].get(s.position) || doc["end"].get(s.end) ||
               doc["lag"].get(s.lag) || doc["since"].get(s.since_ms)) {
      return bad();
    }
    h.samples_[{std::string(group), std::string(topic), static_cast<int32_t>(partition)}].push_back(std::move(s));
  }
  return h;
}

std::string LagHistory::Serialize() const {
  std::string o;
  for (const auto& [key, v] : samples_) {
    const auto& [group, topic, partition] = key;
    for (const auto& s : v) {
      fmt::format_to(std::back_inserter(o), "{{\"group\":{},\"topic\":{},\"partition\":{},\"time\":{}", JsonStr(group),
                     JsonStr(topic), partition, s.time_ms);
      if (!s.error.empty())
        fmt::format_to(std::back_inserter(o), ",\"error\":{}}}\n", JsonStr(s.error));
      else
        fmt::format_to(std::back_inserter(o), ",\"committed\":{},\"position\":{},\"end\":{},\"lag\":{},\"since\":{}}}\n",
                       s.committed, s.position, s.end, s.lag, s.since_ms);
    }
  }
  return o;
}

Status LagHistory::Save(const std::string& path) const { return WriteFileAtomic(path, Serialize()); }

void LagHistory::Add(const LagKey& key, LagSample s, size_t keep) {
  auto& v = samples_[key];
  // A sample taken at the time of the last one (the same --now) replaces it.
  if (!v.empty() && v.back().time_ms == s.time_ms) v.pop_back();
  if (s.error.empty()) {
    const LagSample* prev = nullptr;
    for (auto it = v.rbegin(); it != v.rend() && !prev; ++it)
      if (it->error.empty()) prev = &*it;
    s.since_ms = prev && prev->committed == s.committed ? prev->since_ms : s.time_ms;
  }
  v.push_back(std::move(s));
  if (keep == 0) keep = 1;
  if (v.size() > keep) v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() - keep));
}

const std::vector<LagSample>& LagHistory::Samples(const LagKey& key) const {
  static const std::vector<LagSample> kNone;
  auto it = samples_.find(key);
  return it == samples_.end() ? kNone : it->second;
}

std::vector<LagKey> LagHistory::Keys() const {
  std::vector<LagKey> k;
  for (const auto& [key, v] : samples_) k.push_back(key);
  return k;
}

// ---- A round ----

namespace {

// What one round found for one group (or the checkpoint).
struct GroupRound {
  std::string group;
  std::string error;
  std::vector<PartitionObservation> obs;
  std::vector<PartitionLag> lags;
  std::set<LagKey> skipped;          // no commit under --no-commit-as skip
  // Where vanished partitions are reported: topic -> partitions (empty: all of the topic);
  // an empty map: everywhere.
  std::map<std::string, std::vector<int32_t>> scope;
  bool InScope(const std::string& topic, int32_t partition) const {
    if (scope.empty()) return true;
    auto it = scope.find(topic);
    return it != scope.end() &&
           (it->second.empty() || std::count(it->second.begin(), it->second.end(), partition) > 0);
  }
  bool members_known = false;
  std::vector<std::string> members;
  std::map<kafka::TopicPartition, std::string> member_of;
};

}  // namespace

struct LagMonitor::Impl {
  LagOptions o;
  std::unique_ptr<kafka::GroupClient> client;
  std::string client_brokers;
  LagHistory memory;
  bool describe_unsupported = false;

  Status Client(const std::string& brokers) {
    if (client && client_brokers == brokers) return Status::OK();
    auto c = kafka::GroupClient::Open(brokers, o.kafka, o.isolation);
    if (!c.ok()) return c.status();
    client = std::move(*c);
    client_brokers = brokers;
    return Status::OK();
  }

  // Watermarks of every observed partition (one batched request), then the first
  // unconsumed record of every lagging partition (one consumer assigned to all of them;
  // more passes only where several groups lag on one partition at different offsets).
  Status FinishKafka(std::vector<GroupRound>* rounds, int64_t now) {
    std::vector<kafka::TopicPartition> all;
    for (auto& g : *rounds)
      for (auto& ob : g.obs)
        if (ob.error.empty()) all.emplace_back(ob.topic, ob.partition);
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    std::map<kafka::TopicPartition, kafka::PartitionEnds> ends;
    EVT_RETURN_IF_ERROR(client->Ends(all, &ends));
    std::map<kafka::TopicPartition, std::set<int64_t>> starts;
    for (auto& g : *rounds)
      for (auto& ob : g.obs) {
        if (!ob.error.empty()) continue;
        const kafka::PartitionEnds& pe = ends[{ob.topic, ob.partition}];
        if (!pe.error.empty()) {
          ob.error = pe.error;
          continue;
        }
        ob.low = pe.low;
        ob.end = pe.high;
        ob.lso = pe.lso;
        LagStartPos sp = LagStart(ob.committed, ob.low, ob.end, o.no_commit);
        if (!sp.skip && sp.start >= 0 && sp.start < ob.end) starts[{ob.topic, ob.partition}].insert(sp.start);
      }
    std::map<std::pair<kafka::TopicPartition, int64_t>, kafka::FirstRecord> firsts;
    for (size_t pass = 0;; ++pass) {
      std::map<kafka::TopicPartition, std::pair<int64_t, int64_t>> want;
      for (const auto& [tp, set] : starts) {
        if (set.size() <= pass) continue;
        want[tp] = {*std::next(set.begin(), static_cast<std::ptrdiff_t>(pass)), ends[tp].high};
      }
      if (want.empty()) break;
      std::map<kafka::TopicPartition, kafka::FirstRecord> got;
      EVT_RETURN_IF_ERROR(client->FirstRecords(want, &got));
      for (auto& [tp, fr] : got) firsts[{tp, want[tp].first}] = fr;
    }
    for (auto& g : *rounds) Compute(&g, firsts, now);
    return Status::OK();
  }

  void Compute(GroupRound* g, const std::map<std::pair<kafka::TopicPartition, int64_t>, kafka::FirstRecord>& firsts,
               int64_t now) {
    for (const auto& ob : g->obs) {
      LagStartPos sp = LagStart(ob.committed, ob.low, ob.end, o.no_commit);
      if (ob.error.empty() && sp.skip) {
        g->skipped.insert({g->group, ob.topic, ob.partition});
        continue;
      }
      auto it = firsts.find({{ob.topic, ob.partition}, sp.start});
      PartitionLag pl = ComputeLag(ob, it == firsts.end() ? nullptr : &it->second, o.no_commit, now);
      auto m = g->member_of.find({ob.topic, ob.partition});
      if (m != g->member_of.end()) pl.member = m->second;
      g->lags.push_back(std::move(pl));
    }
  }

  Status ObserveGroups(std::vector<GroupRound>* rounds, LagReport* report, int64_t now) {
    EVT_RETURN_IF_ERROR(Client(o.brokers));
    std::vector<std::string> groups = o.groups;
    if (o.all_groups) {
      std::vector<kafka::GroupInfo> listed;
      Status s = client->ListGroups(&listed);
      if (s.code() == Code::kUnsupported)
        return Status::Unsupported(fmt::format(
            "--all-groups: {} (librdkafka's mock cluster, as under `evt sandbox`, has no ListGroups): name the groups "
            "with -G",
            s.message()));
      EVT_RETURN_IF_ERROR(s);
      for (const auto& gi : listed)
        if (std::find(groups.begin(), groups.end(), gi.group) == groups.end()) groups.push_back(gi.group);
    }
    bool internal = false;
    for (const auto& t : o.topics) internal |= t.topic.rfind("__", 0) == 0;
    std::vector<kafka::TopicMeta> meta;
    EVT_RETURN_IF_ERROR(client->Topics(internal, &meta));
    std::map<std::string, const kafka::TopicMeta*> by_name;
    for (const auto& t : meta) by_name[t.topic] = &t;
    std::vector<kafka::TopicPartition> asked;
    std::vector<PartitionObservation> missing;
    if (o.topics.empty()) {
      for (const auto& t : meta)
        if (t.error.empty())
          for (int32_t p : t.partitions) asked.emplace_back(t.topic, p);
    } else {
      for (const auto& lt : o.topics) {
        auto it = by_name.find(lt.topic);
        if (it == by_name.end() || it->second->partitions.empty()) {
          PartitionObservation ob;
          ob.topic = lt.topic;
          ob.error = "topic does not exist";
          missing.push_back(ob);
          continue;
        }
        const auto& parts = it->second->partitions;
        if (lt.partitions.empty()) {
          for (int32_t p : parts) asked.emplace_back(lt.topic, p);
          continue;
        }
        for (int32_t p : lt.partitions) {
          if (std::binary_search(parts.begin(), parts.end(), p)) {
            asked.emplace_back(lt.topic, p);
          } else {
            PartitionObservation ob;
            ob.topic = lt.topic;
            ob.partition = p;
            ob.error = fmt::format("partition does not exist (the topic has {} partitions)", parts.size());
            missing.push_back(ob);
          }
        }
      }
      std::sort(asked.begin(), asked.end());
      asked.erase(std::unique(asked.begin(), asked.end()), asked.end());
    }
    for (const auto& group : groups) {
      if (InterruptRequested()) return Status::Interrupted();
      GroupRound g;
      g.group = group;
      for (const auto& lt : o.topics) {
        auto [it, fresh] = g.scope.try_emplace(lt.topic, lt.partitions);
        if (fresh) continue;
        if (lt.partitions.empty() || it->second.empty()) it->second.clear();  // the whole topic
        else it->second.insert(it->second.end(), lt.partitions.begin(), lt.partitions.end());
      }
      std::map<kafka::TopicPartition, int64_t> committed;
      Status s = client->Committed(group, asked, &committed);
      if (s.code() == Code::kInterrupted || s.code() == Code::kIOError) return s;  // the cluster's, not the group's
      if (!s.ok()) {
        g.error = s.message();
        rounds->push_back(std::move(g));
        continue;
      }
      std::set<std::string> with_commits;
      for (const auto& [tp, off] : committed)
        if (off >= 0) with_commits.insert(tp.first);
      if (o.topics.empty() && with_commits.empty())
        g.error = "no committed offsets on any topic: an unknown group, or one that has committed nothing";
      for (const auto& tp : asked) {
        if (o.topics.empty() && !with_commits.count(tp.first)) continue;
        PartitionObservation ob;
        ob.group = group;
        ob.topic = tp.first;
        ob.partition = tp.second;
        auto it = committed.find(tp);
        ob.committed = it == committed.end() ? -1 : it->second;
        g.obs.push_back(ob);
      }
      for (auto ob : missing) {
        ob.group = group;
        g.obs.push_back(ob);
      }
      Describe(&g, report);
      rounds->push_back(std::move(g));
    }
    return FinishKafka(rounds, now);
  }

  // Members and their hosts, where the broker answers DescribeGroups.
  void Describe(GroupRound* g, LagReport* report) {
    if (describe_unsupported) return;
    kafka::GroupInfo gi;
    Status s = client->DescribeGroup(g->group, &gi);
    if (s.code() == Code::kUnsupported) {
      describe_unsupported = true;
      return;
    }
    if (!s.ok()) {
      report->members_note = fmt::format("unknown ({})", s.message());
      return;
    }
    g->members_known = true;
    for (const auto& m : gi.members) {
      std::string who = m.client_id + "@" + m.host;
      g->members.push_back(who);
      for (const auto& tp : m.assignment) g->member_of[tp] = who;
    }
  }

  Status ObserveCheckpoint(std::vector<GroupRound>* rounds, Reporter* reporter, int64_t now) {
    auto ck = ReadCheckpoint(o.checkpoint_path);
    if (!ck.ok()) {
      if (ck.status().code() == Code::kNotFound)
        return Status::NotFound(fmt::format("--checkpoint {}: no such file", o.checkpoint_path));
      return ck.status();
    }
    GroupRound g;
    g.group = o.checkpoint_path;
    const Positions& pos = ck->positions;
    std::set<std::pair<std::string, int32_t>> in_source;
    auto observe = [&](const std::string& topic, int32_t p) {
      PartitionObservation ob;
      ob.group = g.group;
      ob.topic = topic;
      ob.partition = p;
      auto it = pos.find({topic, p});
      ob.committed = it == pos.end() ? -1 : it->second;
      in_source.insert({topic, p});
      return ob;
    };
    auto not_in_source = [&]() {
      for (const auto& [tp, next] : pos) {
        if (in_source.count(tp)) continue;
        PartitionObservation ob;
        ob.group = g.group;
        ob.topic = tp.first;
        ob.partition = tp.second;
        ob.committed = next;
        ob.error = fmt::format("in the checkpoint but not in {}", o.checkpoint_source);
        g.obs.push_back(ob);
      }
    };
    if (kafka::IsKafkaUrl(o.checkpoint_source)) {
      auto t = kafka::ParseKafkaUrl(o.checkpoint_source);
      if (!t.ok()) return t.status();
      if (t->topic.empty())
        return Status::InvalidArgument(
            fmt::format("--checkpoint: {} names no topic (kafka://HOST/TOPIC)", o.checkpoint_source));
      EVT_RETURN_IF_ERROR(Client(t->brokers));
      std::vector<kafka::TopicMeta> meta;
      EVT_RETURN_IF_ERROR(client->Topics(t->topic.rfind("__", 0) == 0, &meta));
      const kafka::TopicMeta* tm = nullptr;
      for (const auto& m : meta)
        if (m.topic == t->topic) tm = &m;
      if (!tm || tm->partitions.empty()) return Status::NotFound(fmt::format("{}: topic does not exist", t->Describe()));
      for (int32_t p : tm->partitions)
        if (t->partitions.empty() || std::count(t->partitions.begin(), t->partitions.end(), p))
          g.obs.push_back(observe(t->topic, p));
      not_in_source();
      rounds->push_back(std::move(g));
      return FinishKafka(rounds, now);
    }
    auto parts = DiscoverPartitions(o.checkpoint_source);
    if (!parts.ok()) return parts.status();
    std::map<std::pair<kafka::TopicPartition, int64_t>, kafka::FirstRecord> firsts;
    for (const auto& pd : *parts) {
      if (InterruptRequested()) return Status::Interrupted();
      PartitionObservation ob = observe(pd.topic, pd.partition);
      auto end = PartitionNextOffset(pd.path);
      if (!end.ok()) {
        ob.error = end.status().message();
        g.obs.push_back(ob);
        continue;
      }
      ob.end = *end;
      kafka::FirstRecord lowest;
      Status s = FirstSegmentRecord(pd, 0, ob.end, reporter, &lowest);
      if (!s.ok()) {
        ob.error = s.message();
        g.obs.push_back(ob);
        continue;
      }
      ob.low = lowest.found ? lowest.offset : ob.end;
      LagStartPos sp = LagStart(ob.committed, ob.low, ob.end, o.no_commit);
      if (!sp.skip && sp.start >= 0 && sp.start < ob.end) {
        kafka::FirstRecord fr;
        Status fs = FirstSegmentRecord(pd, sp.start, ob.end, reporter, &fr);
        if (!fs.ok()) fr.error = fs.message();
        firsts[{{pd.topic, pd.partition}, sp.start}] = fr;
      }
      g.obs.push_back(ob);
    }
    not_in_source();
    Compute(&g, firsts, now);
    rounds->push_back(std::move(g));
    return Status::OK();
  }

  // Offline: the commits of a data directory's __consumer_offsets, against the partitions
  // in the same directory. Without --now, now is the newest record time in the directory.
  Status ObserveDataDir(std::vector<GroupRound>* rounds, Reporter* reporter, int64_t* now, LagReport* report) {
    std::vector<CommittedOffset> commits;
    OffsetsLogStats stats;
    Status s = ReadCommittedOffsets({o.data_dir}, reporter, &commits, &stats);
    if (s.code() == Code::kNotFound)
      return Status::NotFound(fmt::format(
          "{}: no __consumer_offsets-N partition directory: not a broker's data directory, or one without "
          "consumer groups",
          o.data_dir));
    EVT_RETURN_IF_ERROR(s);
    auto parts = DiscoverPartitions(o.data_dir);
    if (!parts.ok()) return parts.status();
    std::map<kafka::TopicPartition, const PartitionDir*> dirs;
    std::map<std::string, std::vector<int32_t>> topic_parts;
    std::map<kafka::TopicPartition, PartitionTail> tails;
    int64_t newest = -1;
    for (const auto& pd : *parts) {
      if (InterruptRequested()) return Status::Interrupted();
      dirs[{pd.topic, pd.partition}] = &pd;
      topic_parts[pd.topic].push_back(pd.partition);
      auto t = ReadPartitionTail(pd);
      if (!t.ok()) return t.status();
      tails[{pd.topic, pd.partition}] = *t;
      newest = std::max(newest, t->max_timestamp);
    }
    for (auto& [t, v] : topic_parts) std::sort(v.begin(), v.end());
    if (o.now_ms < 0) {
      if (newest < 0) return Status::NotFound(fmt::format("{}: no record has a timestamp: give --now", o.data_dir));
      *now = newest;
      report->now_from_data = true;
    }
    std::vector<std::string> groups = o.groups;
    if (groups.empty() || o.all_groups)
      for (const auto& c : commits)
        if (std::find(groups.begin(), groups.end(), c.group) == groups.end()) groups.push_back(c.group);
    std::map<kafka::TopicPartition, int64_t> lows;
    auto low_of = [&](const kafka::TopicPartition& tp, std::string* error) -> int64_t {
      auto it = lows.find(tp);
      if (it != lows.end()) return it->second;
      kafka::FirstRecord lowest;
      Status fs = FirstSegmentRecord(*dirs[tp], 0, tails[tp].end, reporter, &lowest);
      if (!fs.ok()) {
        *error = fs.message();
        return -1;
      }
      return lows[tp] = lowest.found ? lowest.offset : tails[tp].end;
    };
    std::map<std::pair<kafka::TopicPartition, int64_t>, kafka::FirstRecord> firsts;
    for (const auto& group : groups) {
      if (InterruptRequested()) return Status::Interrupted();
      GroupRound g;
      g.group = group;
      std::map<kafka::TopicPartition, const CommittedOffset*> mine;
      for (const auto& c : commits)
        if (c.group == group) mine[{c.topic, c.partition}] = &c;
      if (mine.empty())
        g.error = fmt::format("no committed offsets in {}'s __consumer_offsets: an unknown group, or one whose commits "
                              "were deleted",
                              o.data_dir);
      std::vector<LagTopic> topics = o.topics;
      if (topics.empty()) {
        std::set<std::string> names;
        for (const auto& [tp, c] : mine) names.insert(tp.first);
        for (const auto& n : names) topics.push_back({n, {}});
      }
      for (const auto& lt : topics) g.scope[lt.topic] = lt.partitions;
      std::set<kafka::TopicPartition> asked;
      for (const auto& lt : topics) {
        auto tp_it = topic_parts.find(lt.topic);
        std::vector<int32_t> ps = lt.partitions;
        if (ps.empty() && tp_it != topic_parts.end()) ps = tp_it->second;
        for (const auto& [tp, c] : mine)
          if (tp.first == lt.topic && lt.partitions.empty()) ps.push_back(tp.second);
        if (ps.empty()) {
          PartitionObservation ob;
          ob.group = group;
          ob.topic = lt.topic;
          ob.error = fmt::format("topic has no partition directory in {}", o.data_dir);
          g.obs.push_back(ob);
          continue;
        }
        for (int32_t p : ps) asked.insert({lt.topic, p});
      }
      for (const auto& tp : asked) {
        PartitionObservation ob;
        ob.group = group;
        ob.topic = tp.first;
        ob.partition = tp.second;
        auto c = mine.find(tp);
        if (c != mine.end()) {
          ob.committed = c->second->offset;
          ob.commit_timestamp = c->second->commit_timestamp;
        }
        auto d = dirs.find(tp);
        if (d == dirs.end()) {
          ob.error = fmt::format("no partition directory {}-{} in {}", tp.first, tp.second, o.data_dir);
          g.obs.push_back(ob);
          continue;
        }
        ob.end = tails[tp].end;
        ob.low = low_of(tp, &ob.error);
        if (ob.error.empty()) {
          LagStartPos sp = LagStart(ob.committed, ob.low, ob.end, o.no_commit);
          if (!sp.skip && sp.start >= 0 && sp.start < ob.end && !firsts.count({tp, sp.start})) {
            kafka::FirstRecord fr;
            Status fs = FirstSegmentRecord(*d->second, sp.start, ob.end, reporter, &fr);
            if (!fs.ok()) fr.error = fs.message();
            firsts[{tp, sp.start}] = fr;
          }
        }
        g.obs.push_back(ob);
      }
      rounds->push_back(std::move(g));
    }
    for (auto& g : *rounds) Compute(&g, firsts, *now);
    return Status::OK();
  }

  // The first record of a partition directory at or after `from` (the end reached
  // without one: eof at `end`).
  static Status FirstSegmentRecord(const PartitionDir& pd, int64_t from, int64_t end, Reporter* reporter,
                                   kafka::FirstRecord* fr) {
    ReadOptions ro;
    ro.from = Bound{Bound::kOffset, from};
    SegmentSource src({pd}, ro, reporter);
    RecordBatch b;
    for (;;) {
      bool eof = false;
      EVT_RETURN_IF_ERROR(src.Next(&b, &eof));
      for (const Record& r : b.records)
        if (r.offset >= from) {
          fr->found = true;
          fr->offset = r.offset;
          fr->timestamp = r.timestamp;
          return Status::OK();
        }
      if (eof) break;
    }
    fr->eof = true;
    fr->eof_position = end;
    return Status::OK();
  }

  Status Round(Reporter* reporter, LagReport* out) {
    int64_t now = o.now_ms >= 0 ? o.now_ms : NowMs();
    std::vector<GroupRound> rounds;
    *out = LagReport{};
    out->now_ms = now;
    if (!o.checkpoint_path.empty()) {
      out->cluster = o.checkpoint_source;
      EVT_RETURN_IF_ERROR(ObserveCheckpoint(&rounds, reporter, now));
    } else if (!o.data_dir.empty()) {
      out->cluster = o.data_dir;
      out->offline = true;
      EVT_RETURN_IF_ERROR(ObserveDataDir(&rounds, reporter, &now, out));
      out->now_ms = now;
    } else {
      out->cluster = o.brokers;
      EVT_RETURN_IF_ERROR(ObserveGroups(&rounds, out, now));
      if (describe_unsupported) out->members_note = "unknown (the broker does not answer DescribeGroups)";
    }
    LagHistory file_history;
    LagHistory* h = &memory;
    if (!o.history_path.empty()) {
      auto loaded = LagHistory::Load(o.history_path);
      if (!loaded.ok()) return loaded.status();
      file_history = std::move(*loaded);
      h = &file_history;
    }
    size_t keep = std::max<size_t>(1, o.samples);
    for (auto& g : rounds) {
      std::set<LagKey> seen;
      for (const auto& pl : g.lags) {
        LagKey key{g.group, pl.topic, pl.partition};
        LagSample s;
        s.time_ms = now;
        if (!pl.error.empty()) {
          s.error = pl.error;
        } else {
          s.committed = pl.committed;
          s.position = pl.committed >= 0 ? pl.committed : pl.start;
          s.end = pl.end;
          s.lag = pl.lag;
        }
        h->Add(key, std::move(s), keep);
        seen.insert(key);
      }
      // Partitions of earlier samples that this round did not find.
      for (const LagKey& key : h->Keys()) {
        const auto& [group, topic, partition] = key;
        if (group != g.group || seen.count(key) || g.skipped.count(key)) continue;
        if (!g.InScope(topic, partition)) continue;
        LagSample s;
        s.time_ms = now;
        s.error = !g.error.empty() ? g.error
                                   : "no longer observed: the topic or partition is gone, or the group no longer has a "
                                     "commit for it";
        h->Add(key, s, keep);
        bool any_good = false;
        for (const auto& old : h->Samples(key)) any_good |= old.error.empty();
        if (!any_good) {
          h->Erase(key);
          continue;
        }
        PartitionLag pl;
        pl.group = group;
        pl.topic = topic;
        pl.partition = partition;
        pl.error = s.error;
        g.lags.push_back(std::move(pl));
      }
      GroupLag gl;
      gl.group = g.group;
      gl.error = g.error;
      gl.members_known = g.members_known;
      gl.members = g.members;
      for (auto& pl : g.lags) {
        const auto& window = h->Samples({g.group, pl.topic, pl.partition});
        pl.eval = EvaluateWindow(window);
        for (const auto& s : window)
          if (s.error.empty()) pl.lag_window.push_back(s.lag);
        out->with_history |= pl.eval.samples > 1;
        gl.partitions.push_back(std::move(pl));
      }
      std::sort(gl.partitions.begin(), gl.partitions.end(), [](const PartitionLag& a, const PartitionLag& b) {
        return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
      });
      SummarizeGroup(&gl);
      out->groups.push_back(std::move(gl));
    }
    if (!o.history_path.empty()) EVT_RETURN_IF_ERROR(h->Save(o.history_path));
    return Status::OK();
  }
};

LagMonitor::LagMonitor(LagOptions o) : impl_(std::make_unique<Impl>()) { impl_->o = std::move(o); }
LagMonitor::~LagMonitor() = default;
Status LagMonitor::Round(Reporter* reporter, LagReport* out) { return impl_->Round(reporter, out); }

// ---- Thresholds ----

std::vector<std::string> LagViolations(const LagReport& r, const LagThresholds& t) {
  std::vector<std::string> v;
  for (const auto& g : r.groups) {
    if (!g.error.empty() && t.fail_on.count(LagStatus::kErr)) v.push_back(fmt::format("{}: ERR: {}", g.group, g.error));
    for (const auto& p : g.partitions) {
      std::string where = fmt::format("{}: {}/{}", g.group, p.topic, p.partition);
      if (p.partition < 0) where = fmt::format("{}: {}", g.group, p.topic);
      if (t.max_lag >= 0 && p.lag > t.max_lag)
        v.push_back(fmt::format("{}: lag {} records > --max-lag {}", where, p.lag, t.max_lag));
      if (t.max_time_lag_ms >= 0 && p.time_lag_ms > t.max_time_lag_ms)
        v.push_back(fmt::format("{}: time lag {} > --max-time-lag {}", where, FormatLagDuration(p.time_lag_ms),
                                FormatLagDuration(t.max_time_lag_ms)));
      if (t.fail_on.count(p.eval.status))
        v.push_back(fmt::format("{}: {}: {}", where, LagStatusName(p.eval.status), p.eval.reason));
    }
  }
  return v;
}

// ---- Output ----

namespace {

// Columns of text in UTF-8: the width of a cell is its code points.
size_t Width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

std::string LagSparkline(const std::vector<int64_t>& lags) {
  std::vector<uint64_t> counts;
  for (int64_t l : lags) counts.push_back(static_cast<uint64_t>(std::max<int64_t>(0, l)));
  std::string s = Sparkline(counts);
  std::replace(s.begin(), s.end(), ' ', '_');  // lag 0: caught up
  return s;
}

std::string Cell(int64_t v) { return v >= 0 ? std::to_string(v) : "-"; }

std::string PartitionLabel(const PartitionLag& p) { return p.partition >= 0 ? std::to_string(p.partition) : "-"; }

}  // namespace

std::string AlignedTable(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& numeric) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], Width(row[i]));
  }
  std::string o;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string pad(width[i] - Width(row[i]), ' ');
      if (i + 1 == row.size()) {
        line += row[i];
      } else {
        line += i < numeric.size() && numeric[i] ? pad + row[i] : row[i] + pad;
        line += "  ";
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    o += line + '\n';
  }
  return o;
}

std::string LagTable(const LagReport& r) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {"GROUP", "TOPIC", "PART", "COMMITTED", "END", "LAG", "TIME-LAG", "STATUS"};
  if (r.with_history) {
    head.insert(head.end(), {"TREND", "PRODUCED", "CONSUMED", "ETA"});
  }
  if (r.offline) head.insert(head.begin() + 4, "COMMITTED-AT");
  bool members = false;
  for (const auto& g : r.groups) members |= g.members_known;
  if (members) head.push_back("MEMBER");
  head.push_back("REASON");
  rows.push_back(head);
  for (const auto& g : r.groups) {
    for (const auto& p : g.partitions) {
      std::vector<std::string> row = {g.group,
                                      p.topic,
                                      PartitionLabel(p),
                                      p.committed >= 0 ? std::to_string(p.committed) : p.error.empty() ? "none" : "-",
                                      Cell(p.end),
                                      Cell(p.lag),
                                      FormatLagDuration(p.time_lag_ms),
                                      LagStatusName(p.eval.status)};
      if (r.offline)
        row.insert(row.begin() + 4, p.commit_timestamp >= 0 ? FormatRfc3339Ms(p.commit_timestamp) : "-");
      if (r.with_history)
        row.insert(row.end(), {LagSparkline(p.lag_window), RateText(p.eval.produce_rate),
                               RateText(p.eval.consume_rate), EtaText(p.eval.eta_s)});
      if (members) row.push_back(p.member.empty() ? "-" : p.member);
      std::string reason = p.error.empty() ? p.eval.reason : p.error;
      if (!p.note.empty()) reason += " (" + p.note + ")";
      row.push_back(reason);
      rows.push_back(std::move(row));
    }
    std::vector<std::string> row = {g.group, "*", "*", "", "", std::to_string(g.lag), FormatLagDuration(g.max_time_lag_ms),
                                    LagStatusName(g.status)};
    if (r.offline) row.insert(row.begin() + 4, "");
    if (r.with_history) row.insert(row.end(), {"", RateText(g.produce_rate), RateText(g.consume_rate), EtaText(g.eta_s)});
    if (members) {
      std::string m = !g.members_known ? "-" : g.members.empty() ? "(none)" : "";
      for (size_t i = 0; i < g.members.size(); ++i) m += (i ? "," : "") + g.members[i];
      row.push_back(m);
    }
    row.push_back(g.reason);
    rows.push_back(std::move(row));
  }
  std::vector<bool> numeric;
  for (const auto& h : head)
    numeric.push_back(h == "PART" || h == "COMMITTED" || h == "END" || h == "LAG" || h == "TIME-LAG" ||
                      h == "PRODUCED" || h == "CONSUMED" || h == "ETA");
  std::string o = AlignedTable(rows, numeric);
  if (!r.members_note.empty()) o += "members: " + r.members_note + "\n";
  if (r.now_from_data)
    o += fmt::format("now: {}, the newest record time in {} (--now sets it)\n", FormatRfc3339Ms(r.now_ms), r.cluster);
  return o;
}

std::string LagJsonLines(const LagReport& r) {
  std::string o;
  std::string time = JsonStr(FormatRfc3339Ms(r.now_ms));
  for (const auto& g : r.groups) {
    for (const auto& p : g.partitions) {
      fmt::format_to(std::back_inserter(o),
                     "{{\"kind\":\"partition\",\"time\":{},\"group\":{},\"topic\":{},\"partition\":{},\"committed\":{},"
                     "\"low\":{},\"end\":{},\"lso\":{},\"lag\":{},\"time_lag_ms\":{}",
                     time, JsonStr(g.group), JsonStr(p.topic), p.partition >= 0 ? std::to_string(p.partition) : "null",
                     JsonInt(p.committed), JsonInt(p.low), JsonInt(p.end), JsonInt(p.lso), JsonInt(p.lag),
                     JsonInt(p.time_lag_ms));
      if (p.first_offset >= 0)
        fmt::format_to(std::back_inserter(o), ",\"first_unconsumed\":{{\"offset\":{},\"timestamp\":{}}}", p.first_offset,
                       p.first_timestamp);
      else
        o += ",\"first_unconsumed\":null";
      fmt::format_to(std::back_inserter(o), ",\"status\":{},\"reason\":{},\"samples\":{},\"window_ms\":{}",
                     JsonStr(LagStatusName(p.eval.status)), JsonStr(p.error.empty() ? p.eval.reason : p.error),
                     p.eval.samples, p.eval.span_ms);
      fmt::format_to(std::back_inserter(o), ",\"produce_rate\":{},\"consume_rate\":{},\"eta_s\":{},\"eta\":{}",
                     JsonNum(p.eval.produce_rate), JsonNum(p.eval.consume_rate), JsonNum(p.eval.eta_s),
                     std::isnan(p.eval.eta_s) ? "null" : JsonStr(EtaText(p.eval.eta_s)));
      o += ",\"lag_window\":[";
      for (size_t i = 0; i < p.lag_window.size(); ++i) fmt::format_to(std::back_inserter(o), "{}{}", i ? "," : "", p.lag_window[i]);
      o += "]";
      if (r.offline) fmt::format_to(std::back_inserter(o), ",\"commit_timestamp\":{}", JsonInt(p.commit_timestamp));
      if (p.below_log_start) o += ",\"below_log_start\":true";
      if (p.markers_only) o += ",\"markers_only\":true";
      if (!p.member.empty()) fmt::format_to(std::back_inserter(o), ",\"member\":{}", JsonStr(p.member));
      if (!p.note.empty()) fmt::format_to(std::back_inserter(o), ",\"note\":{}", JsonStr(p.note));
      if (!p.error.empty()) fmt::format_to(std::back_inserter(o), ",\"error\":{}", JsonStr(p.error));
      o += "}\n";
    }
    fmt::format_to(std::back_inserter(o),
                   "{{\"kind\":\"group\",\"time\":{},\"group\":{},\"status\":{},\"reason\":{},\"partitions\":{},"
                   "\"lag\":{},\"max_lag\":{},\"max_time_lag_ms\":{},\"produce_rate\":{},\"consume_rate\":{},"
                   "\"eta_s\":{},\"eta\":{}",
                   time, JsonStr(g.group), JsonStr(LagStatusName(g.status)), JsonStr(g.reason), g.partitions.size(),
                   g.lag, g.max_lag, JsonInt(g.max_time_lag_ms), JsonNum(g.produce_rate), JsonNum(g.consume_rate),
                   JsonNum(g.eta_s), std::isnan(g.eta_s) ? "null" : JsonStr(EtaText(g.eta_s)));
    if (g.members_known) {
      o += ",\"members\":[";
      for (size_t i = 0; i < g.members.size(); ++i) o += (i ? "," : "") + JsonStr(g.members[i]);
      o += "]";
    } else {
      o += ",\"members\":null";
      if (!r.members_note.empty()) fmt::format_to(std::back_inserter(o), ",\"members_note\":{}", JsonStr(r.members_note));
    }
    if (!g.error.empty()) fmt::format_to(std::back_inserter(o), ",\"error\":{}", JsonStr(g.error));
    o += "}\n";
  }
  return o;
}

namespace {

// A Prometheus label value: backslash, double quote and newline escaped.
std::string PromLabel(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '\\') o += "\\\\";
    else if (c == '"') o += "\\\"";
    else if (c == '\n') o += "\\n";
    else o += c;
  }
  return o;
}

}  // namespace

std::string LagPrometheus(const LagReport& r, const std::string& cluster_name) {
  std::string o;
  std::string cl = "cluster_name=\"" + PromLabel(cluster_name) + "\"";
  auto family = [&](const char* name, const char* help) {
    fmt::format_to(std::back_inserter(o), "# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  };
  auto part_labels = [&](const GroupLag& g, const PartitionLag& p) {
    return fmt::format("{{{},group=\"{}\",topic=\"{}\",partition=\"{}\"}}", cl, PromLabel(g.group), PromLabel(p.topic),
                       p.partition);
  };
  auto group_labels = [&](const GroupLag& g) { return fmt::format("{{{},group=\"{}\"}}", cl, PromLabel(g.group)); };
  family("kafka_consumergroup_group_lag", "Group offset lag of a partition");
  for (const auto& g : r.groups)
    for (const auto& p : g.partitions)
      if (p.lag >= 0 && p.partition >= 0)
        fmt::format_to(std::back_inserter(o), "kafka_consumergroup_group_lag{} {}\n", part_labels(g, p), p.lag);
  family("kafka_consumergroup_group_lag_seconds", "Group time lag of a partition");
  for (const auto& g : r.groups)
    for (const auto& p : g.partitions)
      if (p.time_lag_ms >= 0 && p.partition >= 0)
        fmt::format_to(std::back_inserter(o), "kafka_consumergroup_group_lag_seconds{} {:.3f}\n", part_labels(g, p),
                       static_cast<double>(p.time_lag_ms) / 1000.0);
  family("kafka_consumergroup_group_max_lag", "Max group offset lag");
  for (const auto& g : r.groups)
    if (!g.partitions.empty())
      fmt::format_to(std::back_inserter(o), "kafka_consumergroup_group_max_lag{} {}\n", group_labels(g), g.max_lag);
  family("kafka_consumergroup_group_max_lag_seconds", "Max group time lag");
  for (const auto& g : r.groups)
    if (g.max_time_lag_ms >= 0)
      fmt::format_to(std::back_inserter(o), "kafka_consumergroup_group_max_lag_seconds{} {:.3f}\n", group_labels(g),
                     static_cast<double>(g.max_time_lag_ms) / 1000.0);
  family("kafka_consumergroup_group_sum_lag", "Sum of group offset lag");
  for (const auto& g : r.groups)
    if (!g.partitions.empty())
      fmt::format_to(std::back_inserter(o), "kafka_consumergroup_group_sum_lag{} {}\n", group_labels(g), g.lag);
  family("kafka_consumergroup_group_topic_sum_lag", "Sum of group offset lag across topic partitions");
  for (const auto& g : r.groups)
    for (const auto& [topic, lag] : g.topic_lag)
      fmt::format_to(std::back_inserter(o), "kafka_consumergroup_group_topic_sum_lag{{{},group=\"{}\",topic=\"{}\"}} {}\n",
                     cl, PromLabel(g.group), PromLabel(topic), lag);
  return o;
}

namespace {

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o += '"';
    o += c;
  }
  return o + '"';
}

std::string CsvInt(int64_t v) { return v >= 0 ? std::to_string(v) : ""; }
std::string CsvNum(double v) { return std::isfinite(v) ? fmt::format("{}", std::round(v * 1000) / 1000) : ""; }

}  // namespace

std::string LagCsv(const LagReport& r, bool header) {
  std::string o;
  if (header)
    o += "kind,time,group,topic,partition,committed,low,end,lso,lag,time_lag_ms,status,samples,produce_rate,"
         "consume_rate,eta_s,reason,commit_timestamp\n";
  std::string time = FormatRfc3339Ms(r.now_ms);
  for (const auto& g : r.groups) {
    for (const auto& p : g.partitions) {
      std::string reason = p.error.empty() ? p.eval.reason : p.error;
      if (!p.note.empty()) reason += " (" + p.note + ")";
      o += fmt::format("partition,{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", time, CsvField(g.group),
                       CsvField(p.topic), p.partition >= 0 ? std::to_string(p.partition) : "", CsvInt(p.committed),
                       CsvInt(p.low), CsvInt(p.end), CsvInt(p.lso), CsvInt(p.lag), CsvInt(p.time_lag_ms),
                       LagStatusName(p.eval.status), p.eval.samples, CsvNum(p.eval.produce_rate),
                       CsvNum(p.eval.consume_rate), std::isinf(p.eval.eta_s) ? "never" : CsvNum(p.eval.eta_s),
                       CsvField(reason), CsvInt(p.commit_timestamp));
    }
    o += fmt::format("group,{},{},,,,,,,{},{},{},,{},{},{},{},\n", time, CsvField(g.group), g.lag,
                     CsvInt(g.max_time_lag_ms), LagStatusName(g.status), CsvNum(g.produce_rate), CsvNum(g.consume_rate),
                     std::isinf(g.eta_s) ? "never" : CsvNum(g.eta_s), CsvField(g.reason));
  }
  return o;
}

}  // namespace evt
