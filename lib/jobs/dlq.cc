#include "lib/jobs/dlq.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "formats/envelope/envelope.h"
#include "formats/kafka/partitioner.h"
#include "lib/kafka/groups.h"
#include "lib/base/file.h"
#include "lib/base/timeutil.h"
#include "lib/jobs/dlq_ledger.h"
#include "lib/pipeline/checkpoint.h"
#include "lib/pipeline/pace.h"
#include "lib/pipeline/text_sink.h"

namespace evt {
namespace {

using dlq::DeadLetter;

// A record's cause: the normalised message and its fingerprint (kept from the previous
// record when class and message are the same, as they often are in a row).
struct Cause {
  std::string cls, message, pattern, fingerprint;
  void Of(const DeadLetter& d) {
    if (!fingerprint.empty() && d.error_class == cls && d.error_message == message) return;
    cls.assign(d.error_class);
    message.assign(d.error_message);
    pattern.clear();
    dlq::NormaliseMessage(d.error_message, &pattern);
    fingerprint = dlq::Fingerprint(cls, pattern);
  }
};

bool FingerprintMatches(const std::string& want, const std::string& fp) {
  return want.empty() || (want.size() <= fp.size() && fp.compare(0, want.size(), want) == 0);
}

std::string Iso(int64_t ms) { return ms < 0 ? "" : FormatRfc3339Ms(ms); }

void AppendStr(std::string_view name, std::string_view v, std::string* o) {
  o->push_back('"');
  o->append(name);
  o->append("\":");
  envelope::AppendJsonString(v, o);
}

// Where a DLQ record is, for messages: topic/partition (or the file) and its offset.
std::string WhereOf(const RecordBatch& b, const Record& r) {
  if (!b.topic.empty()) return fmt::format("{}/{}", b.topic, r.partition >= 0 ? r.partition : b.partition);
  return b.file;
}

// The DLQ position a ledger keeps: the record's offset, or (JSON Lines without offsets) its line.
int64_t PositionOf(const Record& r) { return r.offset >= 0 ? r.offset : static_cast<int64_t>(r.source_pos); }

// Reads the selection and decodes each record's headers; reports header problems (the
// first max_warnings one by one, then a count).
class DlqReader {
 public:
  DlqReader(const DlqReadOptions& o, Reporter* reporter) : o_(o), reporter_(reporter) {}
  Status Open() {
    auto s = Selection::Open(o_.sel, {}, 0, reporter_);
    if (!s.ok()) return s.status();
    sel_ = std::move(*s);
    return Status::OK();
  }
  // Calls fn(batch, record, dead letter, cause) for every selected record of the
  // --fingerprint; fn returns false to stop.
  // `batch_end()` runs after each batch's records (records are valid until it returns).
  template <typename Fn, typename End>
  Status ForEach(Fn&& fn, End&& batch_end) {
    RecordBatch in;
    for (;;) {
      bool eof = false;
      EVT_RETURN_IF_ERROR(sel_->Next(&in, &eof));
      if (eof) break;
      for (const Record& r : in.records) {
        dlq::Decode(in.HeadersOf(r), r.header_count, o_.profile, &o_.header_map, &dl_);
        if (need_cause_ || !o_.fingerprint.empty()) {
          cause_.Of(dl_);
          if (!FingerprintMatches(o_.fingerprint, cause_.fingerprint)) continue;
        }
        if (!dl_.problems.empty()) Problems(in, r);
        if (!fn(in, r, dl_, cause_)) return batch_end();
      }
      EVT_RETURN_IF_ERROR(batch_end());
    }
    return Status::OK();
  }
  template <typename Fn>
  Status ForEach(Fn&& fn) {
    return ForEach(std::forward<Fn>(fn), [] { return Status::OK(); });
  }
  // The count of problems not reported one by one, as a Notice.
  void Finish() {
    if (unreported_ > 0)
      reporter_->Notice(fmt::format("dlq: {} more records have header problems (the first {} were reported)",
                                    unreported_, o_.max_warnings));
  }
  // Whether fn needs each record's cause (fingerprint, pattern); without it and without
  // --fingerprint, the message is not normalised (redrive's sending pass).
  void set_need_cause(bool b) { need_cause_ = b; }
  Selection& selection() { return *sel_; }
  uint64_t problem_records() const { return problem_records_; }

 private:
  void Problems(const RecordBatch& b, const Record& r) {
    ++problem_records_;
    if (static_cast<int>(problem_records_) > o_.max_warnings) {
      ++unreported_;
      return;
    }
    std::string what;
    for (const auto& p : dl_.problems) what += fmt::format("{}{}: {}", what.empty() ? "" : "; ", p.header, p.what);
    reporter_->Warning(WhereOf(b, r), static_cast<uint64_t>(PositionOf(r)),
                       fmt::format("{} dead letter: {}", dlq::ProfileName(dl_.profile), what));
  }
  const DlqReadOptions& o_;
  Reporter* reporter_;
  std::unique_ptr<Selection> sel_;
  DeadLetter dl_;
  Cause cause_;
  uint64_t problem_records_ = 0, unreported_ = 0;
  bool need_cause_ = true;
};

std::string_view FieldValue(DlqField f, const RecordBatch& b, const DeadLetter& d, const Cause& c, std::string* tmp) {
  switch (f) {
    case DlqField::kTopic: return d.has_topic ? d.topic : std::string_view();
    case DlqField::kPartition:
      *tmp = d.partition >= 0 ? std::to_string(d.partition) : "";
      return *tmp;
    case DlqField::kClass: return d.error_class;
    case DlqField::kCause: return d.cause_class;
    case DlqField::kFingerprint: return c.fingerprint;
    case DlqField::kStage: return d.stage;
    case DlqField::kConnector: return d.connector;
    case DlqField::kGroup: return d.group;
    case DlqField::kProfile: return dlq::ProfileName(d.profile);
    case DlqField::kDlqTopic: return b.topic;
  }
  return {};
}

constexpr size_t kMaxRanges = 64;

void AddRange(DlqGroup* g, const DeadLetter& d) {
  if (!d.has_topic || d.partition < 0 || d.offset < 0) return;
  for (DlqRange& x : g->ranges)
    if (x.partition == d.partition && x.topic == d.topic) {
      x.first = std::min(x.first, d.offset);
      x.last = std::max(x.last, d.offset);
      ++x.count;
      return;
    }
  if (g->ranges.size() >= kMaxRanges) {
    g->ranges_truncated = true;
    return;
  }
  g->ranges.push_back(DlqRange{std::string(d.topic), d.partition, d.offset, d.offset, 1});
}

std::string Shorten(std::string_view s, size_t n) {
  std::string o;
  for (char c : s) {
    if (o.size() >= n) break;
    o.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  }
  if (s.size() > n) {
    o.resize(n > 3 ? n - 3 : 0);
    o += "...";
  }
  return o;
}

}  // namespace

// ---------------------------------------------------------------- summary

const char* DlqFieldName(DlqField f) {
  switch (f) {
    case DlqField::kTopic: return "topic";
    case DlqField::kPartition: return "partition";
    case DlqField::kClass: return "class";
    case DlqField::kCause: return "cause";
    case DlqField::kFingerprint: return "fingerprint";
    case DlqField::kStage: return "stage";
    case DlqField::kConnector: return "connector";
    case DlqField::kGroup: return "group";
    case DlqField::kProfile: return "profile";
    case DlqField::kDlqTopic: return "dlq_topic";
  }
  return "";
}

std::vector<DlqField> DefaultDlqFields() {
  return {DlqField::kTopic, DlqField::kClass, DlqField::kStage, DlqField::kConnector, DlqField::kFingerprint};
}

Result<std::vector<DlqField>> ParseDlqFields(const std::string& text) {
  static const DlqField kAll[] = {DlqField::kTopic,     DlqField::kPartition, DlqField::kClass,   DlqField::kCause,
                                  DlqField::kFingerprint, DlqField::kStage,   DlqField::kConnector, DlqField::kGroup,
                                  DlqField::kProfile,   DlqField::kDlqTopic};
  std::vector<DlqField> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string name = text.substr(pos, end - pos);
    pos = end + 1;
    if (name.empty()) continue;
    bool found = false;
    for (DlqField f : kAll)
      if (name == DlqFieldName(f)) {
        if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
        found = true;
      }
    if (!found) {
      std::string names;
      for (DlqField f : kAll) names += (names.empty() ? "" : ", ") + std::string(DlqFieldName(f));
      return Status::InvalidArgument(fmt::format("--by: unknown field '{}' (fields: {})", name, names));
    }
  }
  if (out.empty()) return Status::InvalidArgument("--by: name at least one field");
  return out;
}

Status RunDlqSummary(const DlqSummaryOptions& o, Reporter* reporter, DlqSummary* out) {
  *out = DlqSummary{};
  out->by = o.by.empty() ? DefaultDlqFields() : o.by;
  DlqReader rd(o.read, reporter);
  EVT_RETURN_IF_ERROR(rd.Open());
  std::unordered_map<std::string, size_t> index;
  std::string key, tmp;
  Status st = rd.ForEach([&](const RecordBatch& b, const Record& r, const DeadLetter& d, const Cause& c) {
    key.clear();
    for (DlqField f : out->by) {
      key.append(FieldValue(f, b, d, c, &tmp));
      key.push_back('\x1f');
    }
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, out->groups.size()).first;
      DlqGroup g;
      for (DlqField f : out->by) g.key.emplace_back(FieldValue(f, b, d, c, &tmp));
      g.fingerprint = c.fingerprint;
      g.pattern = c.pattern;
      g.topic.assign(d.topic);
      g.error_class.assign(d.error_class);
      g.stage.assign(d.stage);
      g.connector.assign(d.connector);
      g.group.assign(d.group);
      g.profile = dlq::ProfileName(d.profile);
      g.sample_message.assign(d.error_message);
      g.sample_frame.assign(dlq::FirstFrame(d.stacktrace));
      g.sample_where = fmt::format("{}/{}", WhereOf(b, r), PositionOf(r));
      out->groups.push_back(std::move(g));
    }
    DlqGroup& g = out->groups[it->second];
    ++g.count;
    if (r.timestamp >= 0) {
      if (g.first_ts < 0 || r.timestamp < g.first_ts) g.first_ts = r.timestamp;
      g.last_ts = std::max(g.last_ts, r.timestamp);
    }
    if (!d.problems.empty()) {
      ++g.problems;
      ++out->problems;
    }
    if (!d.has_coordinates()) {
      ++g.no_coordinates;
      ++out->no_coordinates;
    }
    AddRange(&g, d);
    ++out->records;
    return true;
  });
  rd.Finish();
  out->scanned = rd.selection().scanned();
  std::stable_sort(out->groups.begin(), out->groups.end(),
                   [](const DlqGroup& a, const DlqGroup& b) { return a.count > b.count; });
  for (DlqGroup& g : out->groups)
    std::sort(g.ranges.begin(), g.ranges.end(), [](const DlqRange& a, const DlqRange& b) {
      return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
    });
  return st;
}

std::string DlqSummaryJson(const DlqSummary& s) {
  std::string o;
  for (const DlqGroup& g : s.groups) {
    fmt::format_to(std::back_inserter(o), "{{\"count\":{},", g.count);
    AppendStr("fingerprint", g.fingerprint, &o);
    o += ',';
    AppendStr("pattern", g.pattern, &o);
    o += ",\"by\":{";
    for (size_t i = 0; i < s.by.size(); ++i) {
      if (i) o += ',';
      AppendStr(DlqFieldName(s.by[i]), g.key[i], &o);
    }
    o += "},";
    AppendStr("profile", g.profile, &o);
    o += ',';
    AppendStr("topic", g.topic, &o);
    o += ',';
    AppendStr("class", g.error_class, &o);
    o += ',';
    AppendStr("stage", g.stage, &o);
    o += ',';
    AppendStr("connector", g.connector, &o);
    o += ',';
    AppendStr("group", g.group, &o);
    o += ',';
    AppendStr("first_seen", Iso(g.first_ts), &o);
    o += ',';
    AppendStr("last_seen", Iso(g.last_ts), &o);
    fmt::format_to(std::back_inserter(o), ",\"first_timestamp\":{},\"last_timestamp\":{},\"original\":[", g.first_ts,
                   g.last_ts);
    for (size_t i = 0; i < g.ranges.size(); ++i) {
      const DlqRange& x = g.ranges[i];
      if (i) o += ',';
      o += '{';
      AppendStr("topic", x.topic, &o);
      fmt::format_to(std::back_inserter(o), ",\"partition\":{},\"first_offset\":{},\"last_offset\":{},\"records\":{}}}",
                     x.partition, x.first, x.last, x.count);
    }
    fmt::format_to(std::back_inserter(o), "],\"original_truncated\":{},\"problems\":{},\"no_coordinates\":{},",
                   g.ranges_truncated, g.problems, g.no_coordinates);
    o += "\"sample\":{";
    AppendStr("message", g.sample_message, &o);
    o += ',';
    AppendStr("frame", g.sample_frame, &o);
    o += ',';
    AppendStr("dlq", g.sample_where, &o);
    o += "}}\n";
  }
  return o;
}

std::string DlqSummaryTable(const DlqSummary& s) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {"COUNT"};
  for (DlqField f : s.by) {
    std::string n = DlqFieldName(f);
    for (char& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    head.push_back(n);
  }
  for (const char* h : {"FIRST SEEN", "LAST SEEN", "ORIGINAL OFFSETS", "SAMPLE"}) head.push_back(h);
  rows.push_back(head);
  for (const DlqGroup& g : s.groups) {
    std::vector<std::string> row = {std::to_string(g.count)};
    for (size_t i = 0; i < s.by.size(); ++i) {
      std::string v = g.key[i];
      if (s.by[i] == DlqField::kClass || s.by[i] == DlqField::kCause) {  // the simple name
        size_t dot = v.rfind('.');
        if (dot != std::string::npos) v = v.substr(dot + 1);
      }
      row.push_back(v.empty() ? "-" : Shorten(v, 40));
    }
    row.push_back(g.first_ts < 0 ? "-" : Iso(g.first_ts).substr(0, 19));
    row.push_back(g.last_ts < 0 ? "-" : Iso(g.last_ts).substr(0, 19));
    std::string ranges;
    for (size_t i = 0; i < g.ranges.size() && i < 3; ++i)
      ranges += fmt::format("{}{}:{}-{}", i ? " " : "", g.ranges[i].partition, g.ranges[i].first, g.ranges[i].last);
    if (g.ranges.size() > 3 || g.ranges_truncated) ranges += " ...";
    row.push_back(ranges.empty() ? "-" : ranges);
    std::string sample = Shorten(g.sample_message, 60);
    if (g.problems) sample += fmt::format(" [{} with header problems]", g.problems);
    row.push_back(sample.empty() ? "-" : sample);
    rows.push_back(std::move(row));
  }
  std::vector<size_t> w(head.size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], row[i].size());
  std::string o;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 == row.size()) {
        line += row[i];
      } else if (i == 0) {
        line += fmt::format("{:>{}}  ", row[i], w[i]);
      } else {
        line += fmt::format("{:<{}}  ", row[i], w[i]);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    o += line + "\n";
  }
  o += fmt::format("{} records in {} groups", s.records, s.groups.size());
  if (s.problems) o += fmt::format(", {} with header problems", s.problems);
  if (s.no_coordinates) o += fmt::format(", {} without original coordinates", s.no_coordinates);
  o += "\n";
  return o;
}

// ---------------------------------------------------------------- show

namespace {

// The original record at the dead letter's coordinates, fetched from its topic.
struct Original {
  bool found = false;
  std::string why;  // when not found
  bool key_same = false, value_same = false;
  int64_t timestamp = -1;
};

Original FetchOriginal(const DlqShowOptions& o, const RecordBatch& b, const Record& r, const DeadLetter& d) {
  Original out;
  if (!d.has_coordinates()) {
    out.why = "no original coordinates";
    return out;
  }
  kafka::KafkaTarget t;
  auto tt = kafka::KafkaTargetFrom(o.brokers, std::string(d.topic));
  if (!tt.ok()) {
    out.why = tt.status().message();
    return out;
  }
  t = *tt;
  t.partitions = {d.partition};
  kafka::KafkaReadOptions ro;
  ro.from = Bound{Bound::kOffset, d.offset};
  ro.until = Bound{Bound::kOffset, d.offset + 1};
  ro.isolation = kafka::Isolation::kReadUncommitted;
  ro.target_records = 1;
  CountingReporter quiet;
  auto src = kafka::KafkaSource::Open(t, o.kafka, ro, &quiet);
  if (!src.ok()) {
    out.why = src.status().message();
    return out;
  }
  RecordBatch ob;
  for (;;) {
    bool eof = false;
    Status s = (*src)->Next(&ob, &eof);
    if (!s.ok()) {
      out.why = s.message();
      return out;
    }
    if (eof) break;
    for (const Record& x : ob.records) {
      if (x.offset != d.offset) continue;
      out.found = true;
      out.timestamp = x.timestamp;
      out.key_same = x.key.null() == r.key.null() && x.key.view() == r.key.view();
      out.value_same = x.value.null() == r.value.null() && x.value.view() == r.value.view();
      return out;
    }
  }
  (void)b;
  out.why = "no longer retained (or never written) at that offset";
  return out;
}

void AppendShowLine(const RecordBatch& b, const Record& r, const DeadLetter& d, const Cause& c, const Original* orig,
                    std::string* o) {
  o->append("{");
  AppendStr("topic", b.topic, o);
  fmt::format_to(std::back_inserter(*o), ",\"partition\":{},\"offset\":{},\"timestamp\":{},",
                 r.partition >= 0 ? r.partition : b.partition, r.offset, r.timestamp);
  AppendStr("profile", dlq::ProfileName(d.profile), o);
  o->append(",");
  AppendStr("fingerprint", c.fingerprint, o);
  o->append(",\"original\":");
  if (d.has_topic || d.partition >= 0 || d.offset >= 0) {
    o->append("{");
    AppendStr("topic", d.topic, o);
    fmt::format_to(std::back_inserter(*o), ",\"partition\":{},\"offset\":{},\"timestamp\":{}", d.partition, d.offset,
                   d.timestamp);
    if (!d.timestamp_type.empty()) {
      o->append(",");
      AppendStr("timestamp_type", d.timestamp_type, o);
    }
    if (orig) {
      fmt::format_to(std::back_inserter(*o), ",\"found\":{}", orig->found);
      if (orig->found) {
        fmt::format_to(std::back_inserter(*o), ",\"matches\":{},\"key_matches\":{},\"value_matches\":{}",
                       orig->key_same && orig->value_same, orig->key_same, orig->value_same);
      } else {
        o->append(",");
        AppendStr("why", orig->why, o);
      }
    }
    o->append("}");
  } else {
    o->append("null");
  }
  o->append(",\"error\":{");
  AppendStr("class", d.error_class, o);
  o->append(",");
  AppendStr("message", d.error_message, o);
  o->append(",");
  AppendStr("pattern", c.pattern, o);
  if (!d.cause_class.empty()) {
    o->append(",");
    AppendStr("cause", d.cause_class, o);
  }
  if (d.key_error) o->append(",\"key_error\":true");
  for (auto [name, v] : {std::pair<const char*, std::string_view>{"stage", d.stage}, {"class_name", d.plugin_class},
                         {"connector", d.connector}, {"group", d.group}, {"dlq_time", d.dlq_time}}) {
    if (v.empty()) continue;
    o->append(",");
    AppendStr(name, v, o);
  }
  if (d.task >= 0) fmt::format_to(std::back_inserter(*o), ",\"task\":{}", d.task);
  o->append(",");
  AppendStr("frame", dlq::FirstFrame(d.stacktrace), o);
  o->append(",");
  AppendStr("stacktrace", d.stacktrace, o);
  o->append("}");
  fmt::format_to(std::back_inserter(*o), ",\"attempts\":{},\"redrive_count\":{},\"problems\":[", d.attempts,
                 d.redrive_count);
  for (size_t i = 0; i < d.problems.size(); ++i) {
    if (i) o->append(",");
    o->append("{");
    AppendStr("header", d.problems[i].header, o);
    o->append(",");
    AppendStr("what", d.problems[i].what, o);
    o->append("}");
  }
  o->append("],");
  envelope::AppendBytesField("key", r.key, true, o);
  o->append(",");
  envelope::AppendBytesField("value", r.value, true, o);
  o->append(",\"headers\":[");  // the record's own headers (not the dead-letter ones)
  const Header* hs = b.HeadersOf(r);
  bool first = true;
  for (uint32_t i = 0; i < r.header_count; ++i) {
    if (dlq::IsDeadLetterHeader(hs[i].key, nullptr)) continue;
    if (!first) o->append(",");
    first = false;
    o->append("{");
    AppendStr("key", hs[i].key, o);
    o->append(",");
    envelope::AppendBytesField("value", hs[i].value, false, o);
    o->append("}");
  }
  o->append("]}\n");
}

}  // namespace

Status RunDlqShow(const DlqShowOptions& o, std::unique_ptr<WritableFile> out, Reporter* reporter, DlqShowStats* st) {
  *st = DlqShowStats{};
  std::unique_ptr<TextSink> text;
  if (!o.format.empty()) {
    auto f = ParseTextFormat(o.format);
    if (!f.ok()) return f.status();
    auto t = TextSink::Create(*f, std::move(out));
    if (!t.ok()) return t.status();
    text = std::move(*t);
  }
  DlqReader rd(o.read, reporter);
  EVT_RETURN_IF_ERROR(rd.Open());
  std::string buf;
  Status ws;
  Status s = rd.ForEach([&](const RecordBatch& b, const Record& r, const DeadLetter& d, const Cause& c) {
    if (o.limit >= 0 && static_cast<int64_t>(st->shown) >= o.limit) return false;
    ++st->shown;
    if (text) {
      size_t i = static_cast<size_t>(&r - b.records.data());
      ws = text->WriteRange(b, i, i + 1);
      return ws.ok();
    }
    Original orig;
    if (o.with_original) {
      orig = FetchOriginal(o, b, r, d);
      if (!orig.found) {
        ++st->originals_missing;
      } else if (!orig.key_same || !orig.value_same) {
        ++st->originals_differ;
        ++st->originals_found;
      } else {
        ++st->originals_found;
      }
    }
    AppendShowLine(b, r, d, c, o.with_original ? &orig : nullptr, &buf);
    if (buf.size() >= (1 << 16)) {
      ws = out->Append(buf);
      buf.clear();
      if (!ws.ok()) return false;
    }
    return true;
  });
  rd.Finish();
  st->scanned = rd.selection().scanned();
  if (ws.ok() && !text && !buf.empty()) ws = out->Append(buf);
  if (ws.ok()) ws = text ? text->Close() : out->Flush();
  if (!s.ok()) return s;
  return ws;
}

// ---------------------------------------------------------------- redrive: the ledger

namespace {

using TP = DlqLedger::TP;
using Ledger = DlqLedger;

// What redrive does with one selected record.
enum class Verdict { kSend, kAlready, kTooMany, kNoCoordinates, kBadPartition };

}  // namespace

std::string DefaultLedgerPath(const std::string& identity) {
  std::string dir;
  if (const char* e = std::getenv("EVT_STATE_DIR"); e && *e) {
    dir = e;
  } else if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) {
    dir = std::string(x) + "/evt";
  } else if (const char* h = std::getenv("HOME"); h && *h) {
    dir = std::string(h) + "/.local/state/evt";
  } else {
    dir = ".";
  }
  return fmt::format("{}/dlq-{}.ledger", dir, IdentityHash(identity));
}

Status DlqLedgerStatus(const std::string& path, std::string* json) {
  auto l = ReadDlqLedger(path);
  if (!l.ok()) {
    if (l.status().code() == Code::kNotFound)
      return Status::NotFound(fmt::format("{}: no ledger yet (nothing was redriven with these flags)", path));
    return l.status();
  }
  std::string& o = *json;
  o = "{";
  AppendStr("ledger", path, &o);
  o += ',';
  AppendStr("source", l->source, &o);
  o += ',';
  AppendStr("last_run", l->last_run, &o);
  fmt::format_to(std::back_inserter(o), ",\"runs\":{},\"redriven\":{},\"interrupted\":{},", l->runs, l->redriven,
                 !l->clean);
  AppendStr("updated", Iso(l->updated_ms), &o);
  o += ",\"partitions\":[";
  bool first = true;
  for (const auto& [tp, v] : l->done) {
    uint64_t n = 0;
    for (const auto& [a, z] : v) n += static_cast<uint64_t>(z - a + 1);
    if (!first) o += ',';
    first = false;
    o += '{';
    AppendStr("topic", tp.first, &o);
    fmt::format_to(std::back_inserter(o), ",\"partition\":{},\"records\":{},\"ranges\":{},\"first_offset\":{},\"last_offset\":{}}}",
                   tp.second, n, v.size(), v.empty() ? -1 : v.front().first, v.empty() ? -1 : v.back().second);
  }
  o += "],\"destinations\":[";
  first = true;
  for (const auto& [topic, parts] : l->dest_ends) {
    if (!first) o += ',';
    first = false;
    AppendStr("topic", topic, &(o += '{'));
    o += '}';
  }
  o += "]}\n";
  return Status::OK();
}

// ---------------------------------------------------------------- redrive

Status RunDlqRedrive(const DlqRedriveOptions& o, Reporter* reporter, DlqRedriveStats* st) {
  const auto t0 = std::chrono::steady_clock::now();
  *st = DlqRedriveStats{};
  st->ledger = o.ledger;
  if (o.max_redrives < 1) return Status::InvalidArgument("--max-redrives must be at least 1");

  // ---- the ledger: what earlier runs sent ----
  std::unique_ptr<FileLock> lock;
  Ledger L;
  const std::string id_hash = IdentityHash(o.identity);
  {
    auto l = ReadDlqLedger(o.ledger);
    if (l.ok()) {
      if (l->identity != id_hash)
        return Status::InvalidArgument(fmt::format(
            "{}: this ledger belongs to a redrive of another source or destination; give another --ledger", o.ledger));
      L = std::move(*l);
    } else if (l.status().code() != Code::kNotFound) {
      return l.status();
    } else {
      L.identity = id_hash;
      L.source = fmt::format("{}", fmt::join(o.read.sel.paths, " "));
    }
  }
  if (!o.dry_run) {
    size_t slash = o.ledger.rfind('/');
    if (slash != std::string::npos && slash > 0) EVT_RETURN_IF_ERROR(MakeDirs(o.ledger.substr(0, slash)));
    auto lk = FileLock::Acquire(o.ledger + ".lock", false);
    if (!lk.ok())
      return Status::InvalidArgument(
          fmt::format("{}: another evt dlq redrive is using this ledger ({})", o.ledger, lk.status().message()));
    lock = std::move(*lk);
  }

  // ---- destinations: one KafkaSink per topic, opened when first needed ----
  std::map<std::string, std::unique_ptr<kafka::KafkaSink>> sinks;
  auto sink_for = [&](const std::string& topic, kafka::KafkaSink** out) -> Status {
    auto it = sinks.find(topic);
    if (it != sinks.end()) {
      *out = it->second.get();
      return Status::OK();
    }
    auto t = kafka::KafkaTargetFrom(o.brokers, topic);
    if (!t.ok()) return t.status();
    kafka::KafkaWriteOptions wo = o.kafka_write;
    wo.policy = o.partition == kafka::PartitionPolicy::kFixed ? kafka::PartitionPolicy::kFixed : kafka::PartitionPolicy::kKeep;
    wo.fixed_partition = o.fixed_partition;
    if (o.to_topic.empty() && wo.producers == 0) wo.producers = 1;  // several topics: one connection each
    auto s = kafka::KafkaSink::Open(*t, o.read.sel.kafka, wo);
    if (!s.ok()) return s.status();
    *out = s->get();
    sinks.emplace(topic, std::move(*s));
    return Status::OK();
  };

  // ---- after a kill: the tail check for the last run's acknowledged records ----
  if (!o.dry_run && !L.clean && !L.last_run.empty()) {
    for (const auto& [topic, ends] : L.dest_ends) {
      kafka::KafkaSink* sk = nullptr;
      EVT_RETURN_IF_ERROR(sink_for(topic, &sk));
      RewindResult rr;
      EVT_RETURN_IF_ERROR(sk->Rewind(SinkPosition{ends, -1}, L.last_run, &rr));
      for (const auto& [tp, offs] : rr.refs)
        for (int64_t off : offs)
          if (L.Add(tp, off)) {
            ++st->recovered;
            ++L.redriven;
          }
    }
    if (st->recovered)
      reporter->Notice(fmt::format("dlq redrive: {} records of the interrupted run {} were already delivered; they "
                                   "are in the ledger now",
                                   st->recovered, L.last_run));
  }

  // The verdict on one record, and where it goes.
  auto decide = [&](const RecordBatch& b, const Record& r, const DeadLetter& d, std::string* topic,
                    int32_t* part) -> Verdict {
    const int64_t pos = PositionOf(r);
    // A position the ledger cannot keep (offset 2^63-1, a line past 2^63) could be sent again
    // by every rerun: left out, counted with the records that cannot be placed.
    if (pos < 0 || pos > DlqLedger::kMaxPosition) return Verdict::kNoCoordinates;
    if (L.Has(b, r.partition >= 0 ? r.partition : b.partition, pos)) return Verdict::kAlready;
    if (d.redrive_count >= o.max_redrives) return Verdict::kTooMany;
    if (o.to_topic.empty()) {
      if (!d.has_coordinates()) return Verdict::kNoCoordinates;
      topic->assign(d.topic);
    } else {
      *topic = o.to_topic;
    }
    switch (o.partition) {
      case kafka::PartitionPolicy::kFixed: *part = o.fixed_partition; break;
      case kafka::PartitionPolicy::kHash: *part = -2; break;  // by key, once the partition count is known
      default:
        *part = d.partition >= 0 ? d.partition : -2;  // --to without an original partition: by key
    }
    return Verdict::kSend;
  };
  // The destination partition for a record going to a topic of `count` partitions (-1: not there).
  auto resolve = [](int32_t part, const Record& r, int32_t count) -> int32_t {
    if (part == -2) return r.key.null() ? 0 : kafka::Murmur2Partition(r.key.view(), count);
    return part < count ? part : -1;
  };

  // ---- the plan: what would be sent (the cap, --dry-run) ----
  std::map<TP, int64_t> bound;  // DLQ partition -> last position the plan covered
  const bool plan_first = o.dry_run || !o.all;
  if (plan_first) {
    DlqReader rd(o.read, reporter);
    EVT_RETURN_IF_ERROR(rd.Open());
    std::string topic;
    Status ps = rd.ForEach([&](const RecordBatch& b, const Record& r, const DeadLetter& d, const Cause& c) {
      ++st->selected;
      int32_t part = -1;
      TP tp{b.topic, r.partition >= 0 ? r.partition : b.partition};
      int64_t& bd = bound.try_emplace(tp, -1).first->second;
      bd = std::max(bd, PositionOf(r));
      switch (decide(b, r, d, &topic, &part)) {
        case Verdict::kAlready: ++st->already; return true;
        case Verdict::kTooMany: ++st->too_many_redrives; return true;
        case Verdict::kNoCoordinates: ++st->no_coordinates; return true;
        default: break;
      }
      ++st->planned;
      ++st->per_destination[{topic, part == -2 ? -1 : part}];
      ++st->per_fingerprint[c.fingerprint];
      return true;
    });
    rd.Finish();
    st->scanned = rd.selection().scanned();
    EVT_RETURN_IF_ERROR(ps);
    if (o.dry_run) {
      st->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return Status::OK();
    }
    if (!o.all && st->planned > o.max) {
      st->capped = true;
      return Status::InvalidArgument(fmt::format(
          "refusing to redrive {} records: more than --max {} (raise --max, or pass --all; --dry-run shows where they "
          "would go)",
          st->planned, o.max));
    }
    st->selected = st->already = st->too_many_redrives = st->no_coordinates = 0;
    st->per_destination.clear();
    st->per_fingerprint.clear();
  }

  // ---- a new run: its id goes into the ledger before anything is sent ----
  // (written with the first destination's end, just before the first record goes out: one
  // ledger write, and none at all for a run that finds nothing to send before its last)
  st->redrive_id = NewReplayId();
  L.last_run = st->redrive_id;
  L.clean = false;
  ++L.runs;
  for (const auto& [topic, sk] : sinks) {  // destinations the tail check opened: where they end now
    SinkPosition at;
    EVT_RETURN_IF_ERROR(sk->Commit(&at));
    L.dest_ends[topic] = at.ends;
  }
  bool run_written = false;

  std::unique_ptr<kafka::GroupClient> groups;  // --commit-group
  Selection* sending = nullptr;
  // DLQ positions handed to a sink since the last ledger write, and those collected in
  // `out` and not yet handed over, as (index into tps, offset).
  std::vector<TP> tps;
  std::vector<std::pair<uint32_t, int64_t>> pending, in_out;
  uint32_t last_id = UINT32_MAX;
  auto tp_id = [&](const RecordBatch& b, int32_t part) -> uint32_t {
    if (last_id != UINT32_MAX && tps[last_id].second == part && tps[last_id].first == b.topic) return last_id;
    for (size_t i = 0; i < tps.size(); ++i)
      if (tps[i].second == part && tps[i].first == b.topic) return last_id = static_cast<uint32_t>(i);
    tps.emplace_back(b.topic, part);
    return last_id = static_cast<uint32_t>(tps.size() - 1);
  };

  auto write_ledger = [&](bool final) -> Status {
    // Every destination acknowledges everything first; only then does the ledger name it.
    for (auto& [topic, sk] : sinks) {
      SinkPosition at;
      EVT_RETURN_IF_ERROR(sk->Commit(&at));
      L.dest_ends[topic] = at.ends;
    }
    // One ledger lookup per run of positions of one DLQ partition (they come in runs).
    for (size_t i = 0; i < pending.size();) {
      const uint32_t id = pending[i].first;
      DlqLedger::Ranges& v = L.RangesOf(tps[id]);
      for (; i < pending.size() && pending[i].first == id; ++i)
        if (DlqLedger::AddTo(&v, pending[i].second)) ++L.redriven;
    }
    st->delivered += pending.size();
    pending.clear();
    if (final) L.clean = true;
    EVT_RETURN_IF_ERROR(WriteDlqLedger(o.ledger, &L));
    if (!groups || !sending) return Status::OK();
    // Every record scanned so far was sent (and is acknowledged now) or left out and counted.
    std::map<kafka::TopicPartition, int64_t> commit;
    for (const auto& [tp, next] : sending->positions()) {
      int64_t upto = next;
      if (plan_first) {  // not past what the plan covered (later records are the next run's)
        auto it = bound.find(tp);
        upto = it == bound.end() ? -1 : std::min(upto, it->second + 1);
      }
      if (upto >= 0) commit[tp] = upto;
    }
    return groups->Commit(o.commit_group, commit);
  };

  DlqReader rd(o.read, reporter);
  EVT_RETURN_IF_ERROR(rd.Open());
  rd.set_need_cause(false);
  if (!o.commit_group.empty()) {
    if (!rd.selection().is_kafka()) return Status::InvalidArgument("--commit-group needs a DLQ topic (kafka://...)");
    auto g = kafka::GroupClient::Open(o.dlq_brokers, o.read.sel.kafka, kafka::Isolation::kReadUncommitted);
    if (!g.ok()) return g.status();
    groups = std::move(*g);
    sending = &rd.selection();
  }
  Pacer pacer(o.rate, 0, -1);
  const int64_t start_ns = SteadyNs();
  int64_t last_ledger_ns = start_ns;
  RecordBatch out;
  std::string topic, cur_topic;
  Bytes id_value;  // the run's id in out's arena
  const dlq::HeaderMap* header_map = o.read.header_map.empty() ? nullptr : &o.read.header_map;
  kafka::KafkaSink* cur = nullptr;
  Status failure;
  uint64_t bad_partition_warnings = 0;

  std::unique_ptr<Encoder> encoder;
  if (o.encode.any()) encoder = std::make_unique<Encoder>(o.encode);
  auto flush_out = [&]() -> Status {
    if (out.records.empty() || !cur) return Status::OK();
    if (encoder) {
      // A value that does not encode stops the run before this batch is sent: its records
      // stay out of the ledger, for the next run.
      if (Status es = encoder->Encode(&out); !es.ok()) {
        in_out.clear();
        out.Clear();
        return es;
      }
    }
    Status s = cur->Write(out);
    // Only records the sink took are pending acknowledgement (a failed Write leaves the
    // rest to the next run's tail check).
    if (s.ok()) pending.insert(pending.end(), in_out.begin(), in_out.end());
    in_out.clear();
    out.Clear();
    return s;
  };
  auto progress = [&](bool final) {
    if (!o.progress) return;
    JobProgress p;
    p.job = "redrive";
    p.done = st->sent;
    p.estimate = plan_first ? static_cast<int64_t>(st->planned) : -1;
    p.seconds = (SteadyNs() - start_ns) / 1e9;
    o.progress->Update(p, final);
  };

  Status s = rd.ForEach([&](const RecordBatch& b, const Record& r, const DeadLetter& d, const Cause& c) {
    if (o.stop.requested()) {
      failure = Status::Interrupted();
      return false;
    }
    const int32_t dlq_part = r.partition >= 0 ? r.partition : b.partition;
    const int64_t pos = PositionOf(r);
    if (plan_first) {
      auto it = bound.find({b.topic, dlq_part});
      if (it == bound.end() || pos > it->second) return true;  // arrived after the plan
    }
    ++st->selected;
    int32_t part = -1;
    switch (decide(b, r, d, &topic, &part)) {
      case Verdict::kAlready: ++st->already; return true;
      case Verdict::kTooMany: ++st->too_many_redrives; return true;
      case Verdict::kNoCoordinates: ++st->no_coordinates; return true;
      default: break;
    }
    if (topic != cur_topic) {
      // Another destination: send what is collected, then switch.
      if (Status fs = flush_out(); !fs.ok()) {
        failure = fs;
        return false;
      }
      {
        bool is_new = sinks.find(topic) == sinks.end();
        if (Status os = sink_for(topic, &cur); !os.ok()) {
          failure = os;
          return false;
        }
        if (is_new || !run_written) {
          // Where a new destination ends goes into the ledger before the first record is
          // sent there (the tail check after a kill starts from it), and so does the run's
          // id before its first record.
          Status cs;
          if (is_new) {
            SinkPosition at;
            cs = cur->Commit(&at);
            if (cs.ok()) L.dest_ends[topic] = at.ends;
          }
          if (cs.ok()) cs = WriteDlqLedger(o.ledger, &L);
          if (!cs.ok()) {
            failure = cs;
            return false;
          }
          run_written = true;
        }
        cur_topic = topic;
      }
    }
    const int32_t dp = resolve(part, r, cur->partition_count());
    if (dp < 0) {
      ++st->bad_partition;
      if (bad_partition_warnings++ < 10)
        reporter->Warning(WhereOf(b, r), static_cast<uint64_t>(pos),
                          fmt::format("partition {} of {} does not exist ({} partitions); the record stays in the DLQ",
                                      part, topic, cur->partition_count()));
      return true;
    }
    if (pacer.active()) {
      int64_t due = pacer.Due(0);
      if (due > SteadyNs() - start_ns) {
        if (Status fs = flush_out(); !fs.ok()) {
          failure = fs;
          return false;
        }
        SleepUntil(start_ns + due, o.stop);
        if (o.stop.requested()) {
          failure = Status::Interrupted();
          return false;
        }
      }
    }
    if (out.records.empty()) {  // `out` points into this batch's memory: hold its buffers
      out.Clear();
      out.topic = topic;
      out.partition = -1;
      out.ShareBuffers(b);
      id_value = Bytes::Of(out.arena.Copy(st->redrive_id));  // one copy for all of out's records
    }
    Record c2 = r;
    c2.partition = dp;
    c2.timestamp = d.timestamp >= 0 ? d.timestamp : r.timestamp;
    c2.timestamp_type = TimestampType::kCreateTime;
    c2.header_begin = static_cast<uint32_t>(out.headers.size());
    c2.header_count = 0;
    const Header* hs = b.HeadersOf(r);
    for (uint32_t i = 0; i < r.header_count; ++i) {
      std::string_view k = hs[i].key;
      if (k.size() >= 12 && std::memcmp(k.data(), "evt.redrive.", 12) == 0) continue;  // replaced below
      if (!o.keep_headers && dlq::IsDeadLetterHeader(k, header_map)) continue;
      out.headers.push_back(hs[i]);
      ++c2.header_count;
    }
    // evt.redrive.count and evt.redrive.source ("TOPIC/PARTITION/POSITION"), written in
    // place (std::to_chars: no format string parsed per record).
    char num[24];
    const size_t count_len = static_cast<size_t>(std::to_chars(num, num + sizeof num, d.redrive_count + 1).ptr - num);
    const std::string_view count_value = out.arena.Copy(std::string_view(num, count_len));
    char* ref = out.arena.Allocate(b.topic.size() + 2 * sizeof num);
    char* e = std::copy(b.topic.begin(), b.topic.end(), ref);
    *e++ = '/';
    e = std::to_chars(e, e + sizeof num, dlq_part).ptr;
    *e++ = '/';
    e = std::to_chars(e, e + sizeof num, pos).ptr;
    out.headers.push_back(Header{"evt.redrive.id", id_value});
    out.headers.push_back(Header{"evt.redrive.count", Bytes::Of(count_value)});
    out.headers.push_back(Header{"evt.redrive.source", Bytes::Of(std::string_view(ref, static_cast<size_t>(e - ref)))});
    c2.header_count += 3;
    out.records.push_back(c2);
    in_out.emplace_back(tp_id(b, dlq_part), pos);
    ++st->sent;
    // The clock is read every 64 records (every record when paced: a slow rate still
    // writes the ledger on time).
    const bool look = pacer.active() || (st->sent & 63) == 0;
    const bool due = look && SteadyNs() - last_ledger_ns >= o.ledger_interval_ms * 1000000;
    if (out.records.size() >= 1024 || pending.size() >= 100000 || due) {
      if (Status fs = flush_out(); !fs.ok()) {
        failure = fs;
        return false;
      }
      if (pending.size() >= 100000 || due) {
        if (Status ls = write_ledger(false); !ls.ok()) {
          failure = ls;
          return false;
        }
        last_ledger_ns = SteadyNs();
        progress(false);
      }
    }
    return true;
  }, flush_out);
  rd.Finish();
  st->scanned = rd.selection().scanned();
  if (s.ok()) s = failure;
  if (s.ok()) s = flush_out();
  if (s.ok() && o.stop.requested()) s = Status::Interrupted();
  // The end, Ctrl-C or an error: what the destinations acknowledged goes into the ledger
  // (Commit waits boundedly, also after Ctrl-C). A destination that did not acknowledge
  // everything leaves the ledger before those records (the next run's tail check finds any
  // that did arrive).
  Status ls;
  if (s.ok() || s.code() == Code::kInterrupted) ls = write_ledger(s.ok());
  uint64_t produced = 0, delivered = 0;
  Status cs;
  for (auto& [topic, sk] : sinks) {
    Status c = sk->Close();
    produced += sk->produced();
    delivered += sk->delivered();
    if (cs.ok() && !c.ok() && c.code() != Code::kDataProblem) cs = c;
  }
  progress(true);
  st->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (produced > delivered && s.code() != Code::kInterrupted) {
    return Status::DataProblem(fmt::format(
        "{} of {} records were not delivered; they stay out of the ledger {} and a rerun sends them", produced - delivered,
        produced, o.ledger));
  }
  if (!s.ok()) return s;
  if (!ls.ok()) return ls;
  return cs;
}

std::string DlqRedrivePlanJson(const DlqRedriveStats& st) {
  std::string o;
  for (const auto& [tp, n] : st.per_destination) {
    o += "{\"kind\":\"destination\",";
    AppendStr("topic", tp.first, &o);
    fmt::format_to(std::back_inserter(o), ",\"partition\":{},\"records\":{}}}\n", tp.second, n);
  }
  for (const auto& [fp, n] : st.per_fingerprint) {
    o += "{\"kind\":\"fingerprint\",";
    AppendStr("fingerprint", fp, &o);
    fmt::format_to(std::back_inserter(o), ",\"records\":{}}}\n", n);
  }
  fmt::format_to(std::back_inserter(o),
                 "{{\"kind\":\"total\",\"scanned\":{},\"selected\":{},\"would_send\":{},\"already_redriven\":{},"
                 "\"too_many_redrives\":{},\"no_coordinates\":{}}}\n",
                 st.scanned, st.selected, st.planned, st.already, st.too_many_redrives, st.no_coordinates);
  return o;
}

std::string DlqRedriveStatsJson(const DlqRedriveStats& s) {
  std::string o = "{";
  AppendStr("redrive_id", s.redrive_id, &o);
  o += ',';
  AppendStr("ledger", s.ledger, &o);
  fmt::format_to(std::back_inserter(o),
                 ",\"scanned\":{},\"selected\":{},\"sent\":{},\"delivered\":{},\"already_redriven\":{},\"recovered\":{},"
                 "\"too_many_redrives\":{},\"no_coordinates\":{},\"bad_partition\":{},\"seconds\":{:.3f}}}\n",
                 s.scanned, s.selected, s.sent, s.delivered, s.already, s.recovered, s.too_many_redrives,
                 s.no_coordinates, s.bad_partition, s.seconds);
  return o;
}

}  // namespace evt
