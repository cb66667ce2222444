#include "lib/jobs/offsets.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <iterator>
#include <set>

#include "formats/envelope/envelope.h"
#include "lib/base/file.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"

namespace evt {

namespace {

std::string JsonStr(std::string_view s) {
  std::string o;
  envelope::AppendJsonString(s, &o);
  return o;
}
std::string JsonInt(int64_t v) { return v >= 0 ? std::to_string(v) : "null"; }
std::string Cell(int64_t v) { return v >= 0 ? std::to_string(v) : "-"; }

bool ParseI64(std::string_view s, int64_t* out) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.empty()) return false;
  std::string t(s);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

std::vector<std::string_view> SplitComma(std::string_view line) {
  std::vector<std::string_view> f;
  size_t pos = 0;
  for (;;) {
    size_t c = line.find(',', pos);
    f.push_back(line.substr(pos, c == std::string_view::npos ? std::string_view::npos : c - pos));
    if (c == std::string_view::npos) break;
    pos = c + 1;
  }
  return f;
}

}  // namespace

int64_t OffsetRow::Skipped() const {
  if (next < 0) return 0;
  int64_t from = committed >= 0 ? committed : low;
  return next > from ? next - from : 0;
}
int64_t OffsetRow::Reread() const {
  if (next < 0 || committed < 0) return 0;
  return next < committed ? committed - next : 0;
}

Result<std::vector<PlannedOffset>> ParsePlanFile(std::string_view text, const std::string& name,
                                                 const std::string& group) {
  std::vector<PlannedOffset> out;
  simdjson::dom::parser parser;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    auto bad = [&](std::string_view why) {
      return Status::InvalidArgument(fmt::format("{}:{}: {}", name, line_no, why));
    };
    PlannedOffset p;
    if (line[first] == '{') {
      simdjson::dom::element doc;
      if (parser.parse(simdjson::padded_string(line)).get(doc) != simdjson::SUCCESS || !doc.is_object())
        return bad("not a JSON object");
      std::string_view kind;
      if (doc["kind"].get(kind) == simdjson::SUCCESS && kind != "partition") continue;  // the total
      std::string_view g, topic;
      if (doc["group"].get(g) == simdjson::SUCCESS && g != group) continue;
      int64_t part = -1, off = -1;
      if (doc["topic"].get(topic) || topic.empty()) return bad("no \"topic\"");
      if (doc["partition"].get(part) || part < 0 || part > INT32_MAX) return bad("no \"partition\" (a number >= 0)");
      auto nv = doc["new"];
      if (nv.error() == simdjson::SUCCESS && nv.is_null()) continue;  // left out of the plan
      if (nv.get(off) != simdjson::SUCCESS && doc["offset"].get(off) != simdjson::SUCCESS)
        return bad("no \"new\" or \"offset\" (a number)");
      if (off < 0) return bad("a negative offset");
      p.topic = std::string(topic);
      p.partition = static_cast<int32_t>(part);
      p.offset = off;
    } else {
      std::vector<std::string_view> f = SplitComma(line);
      if (f.size() == 4) {
        if (f[0] != group) continue;
        f.erase(f.begin());
      }
      if (f.size() != 3)
        return bad("expected topic,partition,offset (or group,topic,partition,offset), kafka-consumer-groups' export");
      int64_t part = -1, off = -1;
      if (f[0].empty()) return bad("an empty topic");
      if (!ParseI64(f[1], &part) || part < 0 || part > INT32_MAX) {
        if (line_no == 1 && f[1] == "partition") continue;  // a header line
        return bad(fmt::format("'{}' is not a partition number", f[1]));
      }
      if (!ParseI64(f[2], &off) || off < 0) return bad(fmt::format("'{}' is not an offset", f[2]));
      p.topic = std::string(f[0]);
      p.partition = static_cast<int32_t>(part);
      p.offset = off;
    }
    for (const auto& q : out)
      if (q.topic == p.topic && q.partition == p.partition)
        return bad(fmt::format("{}/{} is planned twice", p.topic, p.partition));
    out.push_back(std::move(p));
  }
  if (out.empty()) return Status::InvalidArgument(fmt::format("{}: no offsets for group {}", name, group));
  return out;
}

int64_t ResetTarget(ResetMode mode, int64_t value, int64_t committed, int64_t low, int64_t end, int64_t for_time,
                    std::string* note) {
  switch (mode) {
    case ResetMode::kEarliest: return low;
    case ResetMode::kLatest: return end;
    case ResetMode::kOffset:
    case ResetMode::kFile: return value;
    case ResetMode::kDatetime: return for_time;
    case ResetMode::kShiftBy:
      if (committed < 0) {
        *note = "no committed offset to shift from: left out";
        return -1;
      }
      return committed + value;
  }
  return -1;
}

int64_t ClampOffset(int64_t wanted, int64_t low, int64_t end, bool* clamped) {
  *clamped = false;
  if (wanted < low) {
    *clamped = true;
    return low;
  }
  if (wanted > end) {
    *clamped = true;
    return end;
  }
  return wanted;
}

namespace {

struct Cluster {
  std::unique_ptr<kafka::GroupClient> client;
  std::map<std::string, std::vector<int32_t>> partitions;  // every topic's
};

Status Connect(const OffsetsOptions& o, Cluster* c) {
  auto g = kafka::GroupClient::Open(o.brokers, o.kafka, kafka::Isolation::kReadUncommitted);
  if (!g.ok()) return g.status();
  c->client = std::move(*g);
  bool internal = false;
  for (const auto& t : o.topics) internal |= t.topic.rfind("__", 0) == 0;
  std::vector<kafka::TopicMeta> meta;
  EVT_RETURN_IF_ERROR(c->client->Topics(internal, &meta));
  for (const auto& t : meta)
    if (t.error.empty() && !t.partitions.empty()) c->partitions[t.topic] = t.partitions;
  return Status::OK();
}

// The partitions named by `topics` (NotFound for a topic or partition the cluster does not
// have), or every partition of the cluster when `topics` is empty.
Status Resolve(const Cluster& c, const std::vector<LagTopic>& topics, std::vector<kafka::TopicPartition>* out) {
  if (topics.empty()) {
    for (const auto& [t, ps] : c.partitions)
      for (int32_t p : ps) out->emplace_back(t, p);
    return Status::OK();
  }
  for (const auto& lt : topics) {
    auto it = c.partitions.find(lt.topic);
    if (it == c.partitions.end()) return Status::NotFound(fmt::format("topic {} does not exist", lt.topic));
    if (lt.partitions.empty()) {
      for (int32_t p : it->second) out->emplace_back(lt.topic, p);
      continue;
    }
    for (int32_t p : lt.partitions) {
      if (!std::binary_search(it->second.begin(), it->second.end(), p))
        return Status::NotFound(fmt::format("{}/{}: partition does not exist (the topic has {} partitions)", lt.topic,
                                            p, it->second.size()));
      out->emplace_back(lt.topic, p);
    }
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return Status::OK();
}

// Committed offsets and the log of `parts`; only partitions with a commit when `only_committed`.
Status Observe(Cluster& c, const std::string& group, const std::vector<kafka::TopicPartition>& parts,
               bool only_committed, std::vector<OffsetRow>* rows) {
  std::map<kafka::TopicPartition, kafka::CommittedInfo> committed;
  EVT_RETURN_IF_ERROR(c.client->CommittedDetail(group, parts, &committed));
  std::set<std::string> with_commits;
  for (const auto& [tp, ci] : committed)
    if (ci.offset >= 0) with_commits.insert(tp.first);
  std::vector<kafka::TopicPartition> asked;
  for (const auto& tp : parts)
    if (!only_committed || with_commits.count(tp.first)) asked.push_back(tp);
  std::map<kafka::TopicPartition, kafka::PartitionEnds> ends;
  EVT_RETURN_IF_ERROR(c.client->Ends(asked, &ends));
  for (const auto& tp : asked) {
    OffsetRow r;
    r.topic = tp.first;
    r.partition = tp.second;
    auto ci = committed.find(tp);
    if (ci != committed.end()) {
      r.committed = ci->second.offset;
      r.metadata = ci->second.metadata;
    }
    const auto& pe = ends[tp];
    if (!pe.error.empty())
      return Status::IOError(fmt::format("{}/{}: no log start and end offsets: {}", tp.first, tp.second, pe.error));
    r.low = pe.low;
    r.end = pe.high;
    rows->push_back(std::move(r));
  }
  return Status::OK();
}

// Who is in the group, where the broker says (DescribeGroups).
void Members(Cluster& c, OffsetsReport* out) {
  kafka::GroupInfo gi;
  Status s = c.client->DescribeGroup(out->group, &gi);
  if (s.code() == Code::kUnsupported) {
    out->members_note =
        "unknown: the broker does not answer DescribeGroups (librdkafka's mock cluster, as under `evt sandbox`, has none)";
    return;
  }
  if (!s.ok()) {
    out->members_note = fmt::format("unknown: {}", s.message());
    return;
  }
  out->members_known = true;
  out->state = gi.state;
  for (const auto& m : gi.members) out->members.push_back(m.client_id + "@" + m.host);
}

}  // namespace

Status RunOffsetsShow(const OffsetsOptions& o, OffsetsReport* out) {
  *out = OffsetsReport{};
  out->group = o.group;
  Cluster c;
  EVT_RETURN_IF_ERROR(Connect(o, &c));
  std::vector<kafka::TopicPartition> parts;
  EVT_RETURN_IF_ERROR(Resolve(c, o.topics, &parts));
  EVT_RETURN_IF_ERROR(Observe(c, o.group, parts, o.topics.empty(), &out->rows));
  if (out->rows.empty() && o.topics.empty())
    return Status::NotFound(fmt::format(
        "group {}: no committed offsets on any topic: an unknown group, or one that has committed nothing", o.group));
  Members(c, out);
  return Status::OK();
}

Status RunOffsetsReset(const OffsetsOptions& o, OffsetsReport* out) {
  *out = OffsetsReport{};
  out->group = o.group;
  std::vector<PlannedOffset> planned;
  if (o.mode == ResetMode::kFile) {
    auto text = ReadFileToString(o.from_file);
    if (!text.ok()) return text.status();
    auto p = ParsePlanFile(*text, o.from_file, o.group);
    if (!p.ok()) return p.status();
    planned = std::move(*p);
  }
  Cluster c;
  EVT_RETURN_IF_ERROR(Connect(o, &c));
  std::vector<kafka::TopicPartition> parts;
  if (o.mode == ResetMode::kFile) {
    std::set<kafka::TopicPartition> wanted;
    if (!o.topics.empty() || o.all_topics) {
      std::vector<kafka::TopicPartition> filter;
      if (!o.all_topics) EVT_RETURN_IF_ERROR(Resolve(c, o.topics, &filter));
      wanted.insert(filter.begin(), filter.end());
    }
    for (const auto& p : planned) {
      if (!wanted.empty() && !wanted.count({p.topic, p.partition})) continue;
      std::vector<kafka::TopicPartition> one;
      EVT_RETURN_IF_ERROR(Resolve(c, {LagTopic{p.topic, {p.partition}}}, &one));
      parts.push_back(one[0]);
    }
    std::sort(parts.begin(), parts.end());
    if (parts.empty()) return Status::InvalidArgument(fmt::format("{}: no planned partition is in --topic", o.from_file));
  } else {
    EVT_RETURN_IF_ERROR(Resolve(c, o.all_topics ? std::vector<LagTopic>{} : o.topics, &parts));
  }
  EVT_RETURN_IF_ERROR(Observe(c, o.group, parts, o.all_topics, &out->rows));
  if (out->rows.empty())
    return Status::NotFound(fmt::format("group {}: no committed offsets on any topic: --all-topics has nothing to reset "
                                        "(name the topics with --topic)",
                                        o.group));
  std::map<kafka::TopicPartition, int64_t> for_time;
  if (o.mode == ResetMode::kDatetime) {
    std::map<kafka::TopicPartition, kafka::TimeQuery> q;
    for (const auto& r : out->rows) q[{r.topic, r.partition}] = {o.value, r.low, r.end};
    EVT_RETURN_IF_ERROR(c.client->OffsetsForTimes(q, &for_time));
  }
  for (auto& r : out->rows) {
    int64_t value = o.value;
    if (o.mode == ResetMode::kFile)
      for (const auto& p : planned)
        if (p.topic == r.topic && p.partition == r.partition) value = p.offset;
    auto ft = for_time.find({r.topic, r.partition});
    r.wanted = ResetTarget(o.mode, value, r.committed, r.low, r.end, ft == for_time.end() ? -1 : ft->second, &r.note);
    if (!r.note.empty()) {
      out->warnings.push_back(fmt::format("{}/{}: {}", r.topic, r.partition, r.note));
      continue;
    }
    r.next = ClampOffset(r.wanted, r.low, r.end, &r.clamped);
    if (r.clamped) {
      r.note = fmt::format("{} is {} the log {} {}: clamped", r.wanted, r.wanted < r.low ? "before" : "past",
                           r.wanted < r.low ? "start" : "end", r.next);
      out->warnings.push_back(fmt::format("{}/{}: offset {}", r.topic, r.partition, r.note));
    }
  }
  Members(c, out);
  if (!o.execute) return Status::OK();
  if (out->members_known && !out->members.empty() && !o.force)
    return Status::Busy(fmt::format(
        "group {} has {} active member{} ({}; state {}): stop its consumers first, or --force (they will commit over "
        "the reset)",
        o.group, out->members.size(), out->members.size() == 1 ? "" : "s", out->members[0], out->state));
  if (!out->members_known && !o.force)
    return Status::Busy(fmt::format(
        "cannot tell whether group {} has active members: members {}; --force resets it anyway", o.group,
        out->members_note));
  if (!out->members_known)
    out->warnings.push_back(fmt::format("--force: group {}'s members are {}", o.group, out->members_note));
  else if (!out->members.empty())
    out->warnings.push_back(fmt::format("--force: group {} has {} active member(s); they may commit over the reset",
                                        o.group, out->members.size()));
  std::map<kafka::TopicPartition, int64_t> commit;
  for (const auto& r : out->rows)
    if (r.next >= 0) commit[{r.topic, r.partition}] = r.next;
  if (commit.empty()) return Status::InvalidArgument("nothing to reset: every partition was left out");
  EVT_RETURN_IF_ERROR(c.client->Commit(o.group, commit));
  out->executed = true;
  // Read back what the group now has.
  std::vector<kafka::TopicPartition> asked;
  for (const auto& [tp, off] : commit) asked.push_back(tp);
  std::map<kafka::TopicPartition, kafka::CommittedInfo> now;
  EVT_RETURN_IF_ERROR(c.client->CommittedDetail(o.group, asked, &now));
  for (const auto& [tp, off] : commit)
    if (now[tp].offset != off)
      return Status::IOError(fmt::format("group {}: {}/{} reads back {} after the commit of {} (another member "
                                         "committed over it?)",
                                         o.group, tp.first, tp.second, now[tp].offset, off));
  out->verified = true;
  return Status::OK();
}

// ---- Output ----

std::string OffsetsShowTable(const OffsetsReport& r) {
  std::vector<std::vector<std::string>> rows = {{"GROUP", "TOPIC", "PART", "COMMITTED", "LOG-START", "LOG-END", "LAG",
                                                 "METADATA"}};
  for (const auto& x : r.rows)
    rows.push_back({r.group, x.topic, std::to_string(x.partition), x.committed >= 0 ? std::to_string(x.committed) : "none",
                    Cell(x.low), Cell(x.end), x.committed >= 0 ? std::to_string(std::max<int64_t>(0, x.end - x.committed)) : "-",
                    x.metadata});
  std::string o = AlignedTable(rows, {false, false, true, true, true, true, true, false});
  if (!r.members_known) o += "members: " + r.members_note + "\n";
  else if (r.members.empty()) o += fmt::format("members: none (state {})\n", r.state);
  else {
    o += fmt::format("members ({}, state {}):", r.members.size(), r.state);
    for (const auto& m : r.members) o += " " + m;
    o += "\n";
  }
  return o;
}

namespace {
std::string MembersJson(const OffsetsReport& r) {
  if (!r.members_known) return fmt::format("\"members\":null,\"members_note\":{}", JsonStr(r.members_note));
  std::string o = "\"members\":[";
  for (size_t i = 0; i < r.members.size(); ++i) {
    if (i) o += ',';
    o += JsonStr(r.members[i]);
  }
  return o + "],\"state\":" + JsonStr(r.state);
}
}  // namespace

std::string OffsetsShowJson(const OffsetsReport& r) {
  std::string o;
  for (const auto& x : r.rows)
    fmt::format_to(std::back_inserter(o),
                   "{{\"kind\":\"partition\",\"group\":{},\"topic\":{},\"partition\":{},\"committed\":{},\"metadata\":{},"
                   "\"log_start\":{},\"log_end\":{},\"lag\":{}}}\n",
                   JsonStr(r.group), JsonStr(x.topic), x.partition, JsonInt(x.committed),
                   x.committed >= 0 ? JsonStr(x.metadata) : "null", JsonInt(x.low), JsonInt(x.end),
                   x.committed >= 0 ? JsonInt(std::max<int64_t>(0, x.end - x.committed)) : "null");
  fmt::format_to(std::back_inserter(o), "{{\"kind\":\"group\",\"group\":{},\"partitions\":{},{}}}\n", JsonStr(r.group),
                 r.rows.size(), MembersJson(r));
  return o;
}

namespace {
struct Totals {
  int64_t skipped = 0, reread = 0, changed = 0, left_out = 0, clamped = 0;
};
Totals TotalsOf(const OffsetsReport& r) {
  Totals t;
  for (const auto& x : r.rows) {
    t.skipped += x.Skipped();
    t.reread += x.Reread();
    t.changed += x.next >= 0 && x.next != x.committed;
    t.left_out += x.next < 0;
    t.clamped += x.clamped;
  }
  return t;
}
std::string Change(const OffsetRow& x) {
  if (x.next < 0) return "left out";
  if (x.Skipped()) return fmt::format("skips {}", x.Skipped());
  if (x.Reread()) return fmt::format("re-reads {}", x.Reread());
  return x.committed == x.next ? "unchanged" : "-";
}
}  // namespace

std::string ResetPlanTable(const OffsetsReport& r) {
  std::vector<std::vector<std::string>> rows = {
      {"GROUP", "TOPIC", "PART", "CURRENT", "", "NEW", "LOG-START", "LOG-END", "CHANGE", "NOTE"}};
  for (const auto& x : r.rows)
    rows.push_back({r.group, x.topic, std::to_string(x.partition), x.committed >= 0 ? std::to_string(x.committed) : "none",
                    "->", x.next >= 0 ? std::to_string(x.next) : "-", Cell(x.low), Cell(x.end), Change(x), x.note});
  std::string o = AlignedTable(rows, {false, false, true, true, false, true, true, true, false, false});
  Totals t = TotalsOf(r);
  o += fmt::format("{} partition{}, {} changed: {} record{} skipped, {} read again{}{}\n", r.rows.size(),
                   r.rows.size() == 1 ? "" : "s", t.changed, t.skipped, t.skipped == 1 ? "" : "s", t.reread,
                   t.clamped ? fmt::format(", {} clamped", t.clamped) : "",
                   t.left_out ? fmt::format(", {} left out", t.left_out) : "");
  o += r.executed ? (r.verified ? "executed: committed in one OffsetCommit and read back\n"
                                : "executed: committed in one OffsetCommit\n")
                  : "plan only: nothing was committed (--execute applies it)\n";
  return o;
}

std::string ResetPlanJson(const OffsetsReport& r) {
  std::string o;
  for (const auto& x : r.rows) {
    fmt::format_to(std::back_inserter(o),
                   "{{\"kind\":\"partition\",\"group\":{},\"topic\":{},\"partition\":{},\"current\":{},\"new\":{},"
                   "\"log_start\":{},\"log_end\":{},\"skipped\":{},\"reread\":{},\"clamped\":{}",
                   JsonStr(r.group), JsonStr(x.topic), x.partition, JsonInt(x.committed), JsonInt(x.next),
                   JsonInt(x.low), JsonInt(x.end), x.Skipped(), x.Reread(), x.clamped ? "true" : "false");
    if (x.clamped) fmt::format_to(std::back_inserter(o), ",\"wanted\":{}", x.wanted);
    if (!x.note.empty()) fmt::format_to(std::back_inserter(o), ",\"note\":{}", JsonStr(x.note));
    o += "}\n";
  }
  Totals t = TotalsOf(r);
  fmt::format_to(std::back_inserter(o),
                 "{{\"kind\":\"total\",\"group\":{},\"partitions\":{},\"changed\":{},\"skipped\":{},\"reread\":{},"
                 "\"clamped\":{},\"left_out\":{},\"executed\":{},{}}}\n",
                 JsonStr(r.group), r.rows.size(), t.changed, t.skipped, t.reread, t.clamped, t.left_out,
                 r.executed ? "true" : "false", MembersJson(r));
  return o;
}

std::string ResetPlanCsv(const OffsetsReport& r) {
  std::string o;
  for (const auto& x : r.rows)
    if (x.next >= 0) fmt::format_to(std::back_inserter(o), "{},{},{}\n", x.topic, x.partition, x.next);
  return o;
}

}  // namespace evt
