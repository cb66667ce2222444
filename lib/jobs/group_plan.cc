#include "lib/jobs/group_plan.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <random>
#include <set>

namespace evt {

std::string EncodePlan(const PlanEntry& e) {
  return fmt::format("evt1 run={} sel={} start={} end={}", e.run, e.sel, e.start, e.end);
}

namespace {

bool ParseI64(std::string_view s, int64_t* v) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool Token(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
      return false;
  return true;
}

}  // namespace

bool ParsePlan(std::string_view md, PlanEntry* out) {
  PlanEntry e;
  bool have_start = false, have_end = false;
  size_t i = 0;
  bool first = true;
  while (i <= md.size()) {
    size_t sp = md.find(' ', i);
    if (sp == std::string_view::npos) sp = md.size();
    std::string_view tok = md.substr(i, sp - i);
    i = sp + 1;
    if (first) {
      if (tok != "evt1") return false;
      first = false;
      continue;
    }
    size_t eq = tok.find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view k = tok.substr(0, eq), v = tok.substr(eq + 1);
    if (k == "run") {
      if (!Token(v)) return false;
      e.run = std::string(v);
    } else if (k == "sel") {
      if (!Token(v)) return false;
      e.sel = std::string(v);
    } else if (k == "start") {
      if (!ParseI64(v, &e.start) || e.start < 0) return false;
      have_start = true;
    } else if (k == "end") {
      if (!ParseI64(v, &e.end) || e.end < 0) return false;
      have_end = true;
    }  // other keys: later versions' additions, ignored
    if (sp == md.size()) break;
  }
  if (first || e.run.empty() || e.sel.empty() || !have_start || !have_end || e.end < e.start) return false;
  *out = e;
  return true;
}

PlanChoice ChoosePlan(const std::map<int32_t, StoredOffset>& stored, const std::string& sel, bool new_run) {
  PlanChoice c;
  std::set<std::string> runs, sels;
  for (const auto& [p, so] : stored) {
    PlanEntry e;
    if (!ParsePlan(so.metadata, &e)) continue;
    c.plan[p] = e;
    runs.insert(e.run);
    sels.insert(e.sel);
  }
  if (new_run || c.plan.empty()) {
    c.plan.clear();
    c.decision = PlanDecision::kCreate;
    return c;
  }
  if (runs.size() > 1) {
    c.decision = PlanDecision::kRefuse;
    c.why = fmt::format("the group's commits hold {} different runs' plans; start a new plan with --new-run",
                        runs.size());
    return c;
  }
  if (sels.size() != 1 || *sels.begin() != sel) {
    c.decision = PlanDecision::kRefuse;
    c.why = fmt::format("the group's plan (run {}) was made for other sources or selection flags; run the same "
                        "command, or start a new plan with --new-run",
                        *runs.begin());
    return c;
  }
  c.decision = PlanDecision::kAdopt;
  return c;
}

std::string NewRunId() {
  std::random_device rd;
  uint64_t t = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ (t * 0x9E3779B97F4A7C15ull);
  return fmt::format("{:016x}", r);
}

Status RunStatus(const std::map<int32_t, StoredOffset>& stored, std::vector<PartitionStatus>* out) {
  for (const auto& [p, so] : stored) {
    PlanEntry e;
    if (!ParsePlan(so.metadata, &e)) continue;
    PartitionStatus s;
    s.partition = p;
    s.start = e.start;
    s.end = e.end;
    s.run = e.run;
    s.committed = so.committed >= 0 ? so.committed : e.start;
    s.remaining = std::max<int64_t>(0, e.end - std::max(s.committed, e.start));
    out->push_back(s);
  }
  if (out->empty()) return Status::NotFound("the group holds no evt plan for this topic (no run has started)");
  return Status::OK();
}

}  // namespace evt
