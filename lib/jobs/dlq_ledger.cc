#include "lib/jobs/dlq_ledger.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <iterator>

#include "formats/envelope/envelope.h"
#include "lib/base/file.h"
#include "lib/base/timeutil.h"

namespace evt {

bool DlqLedger::In(const Ranges& v, int64_t off) {
  auto r = std::upper_bound(v.begin(), v.end(), off, [](int64_t x, const auto& iv) { return x < iv.first; });
  return r != v.begin() && std::prev(r)->second >= off;
}

bool DlqLedger::Has(const TP& tp, int64_t off) const {
  auto it = done.find(tp);
  if (it == done.end()) return false;
  return In(it->second, off);
}

bool DlqLedger::Has(const RecordBatch& b, int32_t part, int64_t off) {
  if (!cached_ || cached_part_ != part || cached_topic_ != b.topic) {
    cached_topic_ = b.topic;
    cached_part_ = part;
    auto it = done.find({b.topic, part});
    cached_ = it == done.end() ? &empty_ : &it->second;
  }
  return In(*cached_, off);
}

bool DlqLedger::Add(const TP& tp, int64_t off) { return AddTo(&RangesOf(tp), off); }

DlqLedger::Ranges& DlqLedger::RangesOf(const TP& tp) {
  cached_ = nullptr;
  return done[tp];
}

bool DlqLedger::AddTo(Ranges* ranges, int64_t off) {
  // A position the file could not hold (a destination header naming offset -1 or 2^63-1,
  // a JSON Lines line past 2^63) is not kept: written, it would make the ledger unreadable.
  if (off < 0 || off > kMaxPosition) return false;
  Ranges& v = *ranges;
  if (!v.empty() && v.back().second + 1 == off) {  // the usual case: the next one
    v.back().second = off;
    return true;
  }
  auto r = std::upper_bound(v.begin(), v.end(), off, [](int64_t x, const auto& iv) { return x < iv.first; });
  if (r != v.begin() && std::prev(r)->second >= off) return false;
  bool join_prev = r != v.begin() && std::prev(r)->second + 1 == off;
  bool join_next = r != v.end() && r->first == off + 1;
  if (join_prev && join_next) {
    std::prev(r)->second = r->second;
    v.erase(r);
  } else if (join_prev) {
    std::prev(r)->second = off;
  } else if (join_next) {
    r->first = off;
  } else {
    v.insert(r, {off, off});
  }
  return true;
}

namespace {

void AppendStr(std::string_view name, std::string_view v, std::string* o) {
  o->push_back('"');
  o->append(name);
  o->append("\":");
  envelope::AppendJsonString(v, o);
}

// A field that may be absent: true when it is there and has type T (into *out); absent
// leaves *out alone; any other type is an error (*bad).
template <typename T>
bool Optional(simdjson::dom::object o, std::string_view name, T* out, bool* bad) {
  auto f = o[name];
  if (f.error() == simdjson::NO_SUCH_FIELD) return false;
  T v;
  if (f.get(v) != simdjson::SUCCESS) {
    *bad = true;
    return false;
  }
  *out = v;
  return true;
}

}  // namespace

Result<DlqLedger> ParseDlqLedger(std::string_view text, const std::string& path) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("{}: not a dlq redrive ledger written by evt ({})", path, what));
  };
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  simdjson::padded_string padded(text);
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) return bad("not a JSON object");
  DlqLedger l;
  bool wrong = false;
  uint64_t version = 1;
  Optional(doc, "version", &version, &wrong);
  if (wrong) return bad("bad version");
  if (version != 1) return bad(fmt::format("version {}: written by a newer evt", version));
  std::string_view sv;
  if (doc["identity"].get(sv) != simdjson::SUCCESS) return bad("no identity");
  l.identity = std::string(sv);
  if (Optional(doc, "source", &sv, &wrong)) l.source = std::string(sv);
  if (Optional(doc, "last_run", &sv, &wrong)) l.last_run = std::string(sv);
  Optional(doc, "clean", &l.clean, &wrong);
  Optional(doc, "runs", &l.runs, &wrong);
  Optional(doc, "redriven", &l.redriven, &wrong);
  Optional(doc, "updated_ms", &l.updated_ms, &wrong);
  if (wrong) return bad("a field of the wrong type");
  simdjson::dom::array arr;
  if (Optional(doc, "done", &arr, &wrong))
    for (auto e : arr) {
      std::string_view t;
      int64_t p = 0;
      simdjson::dom::array ranges;
      if (e["topic"].get(t) || e["partition"].get(p) || e["ranges"].get(ranges)) return bad("bad done entry");
      if (p < -1 || p > INT32_MAX) return bad(fmt::format("partition {} out of range", p));
      auto& v = l.done[{std::string(t), static_cast<int32_t>(p)}];
      for (auto rg : ranges) {
        int64_t a = 0, z = 0;
        simdjson::dom::array pair;
        if (rg.get(pair) || pair.size() != 2 || pair.at(0).get(a) || pair.at(1).get(z) || a < 0 || a > z ||
            z > DlqLedger::kMaxPosition || (!v.empty() && a <= v.back().second))
          return bad("bad range");
        v.emplace_back(a, z);
      }
    }
  simdjson::dom::object ends;
  if (Optional(doc, "dest_ends", &ends, &wrong))
    for (auto [topic, parts] : ends) {
      simdjson::dom::object po;
      if (parts.get(po)) return bad("bad destination ends");
      auto& dt = l.dest_ends[std::string(topic)];
      for (auto [p, v] : po) {
        int64_t x = 0;
        if (v.get(x) || x < 0) return bad("bad destination end");
        dt[std::string(p)] = x;
      }
    }
  if (wrong) return bad("a field of the wrong type");
  return l;
}

std::string DlqLedgerText(const DlqLedger& l) {
  std::string o = "{\"version\":1,";
  AppendStr("identity", l.identity, &o);
  o += ',';
  AppendStr("source", l.source, &o);
  o += ',';
  AppendStr("last_run", l.last_run, &o);
  fmt::format_to(std::back_inserter(o), ",\"clean\":{},\"runs\":{},\"redriven\":{},\"updated_ms\":{},", l.clean, l.runs,
                 l.redriven, l.updated_ms);
  AppendStr("updated", l.updated_ms < 0 ? "" : FormatRfc3339Ms(l.updated_ms), &o);
  o += ",\"done\":[";
  bool first = true;
  for (const auto& [tp, v] : l.done) {
    if (v.empty()) continue;
    if (!first) o += ',';
    first = false;
    o += '{';
    AppendStr("topic", tp.first, &o);
    fmt::format_to(std::back_inserter(o), ",\"partition\":{},\"ranges\":[", tp.second);
    for (size_t i = 0; i < v.size(); ++i)
      fmt::format_to(std::back_inserter(o), "{}[{},{}]", i ? "," : "", v[i].first, v[i].second);
    o += "]}";
  }
  o += "],\"dest_ends\":{";
  first = true;
  for (const auto& [topic, parts] : l.dest_ends) {
    if (!first) o += ',';
    first = false;
    envelope::AppendJsonString(topic, &o);
    o += ":{";
    bool f2 = true;
    for (const auto& [p, v] : parts) {
      if (!f2) o += ',';
      f2 = false;
      envelope::AppendJsonString(p, &o);
      fmt::format_to(std::back_inserter(o), ":{}", v);
    }
    o += '}';
  }
  o += "}}\n";
  return o;
}

Result<DlqLedger> ReadDlqLedger(const std::string& path) {
  if (!PathExists(path)) return Status::NotFound(path);
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return ParseDlqLedger(*text, path);
}

Status WriteDlqLedger(const std::string& path, DlqLedger* l) {
  l->updated_ms = NowMs();
  return WriteFileAtomic(path, DlqLedgerText(*l));
}

}  // namespace evt
