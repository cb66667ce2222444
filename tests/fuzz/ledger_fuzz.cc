// libFuzzer target: `evt dlq redrive` ledgers (ParseDlqLedger, and `--status` through
// DlqLedgerStatus on the same bytes as a file): any bytes give a Corruption or a ledger;
// what is accepted round-trips through DlqLedgerText, and --status is always valid JSON.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "formats/envelope/envelope.h"
#include "lib/jobs/dlq.h"
#include "lib/jobs/dlq_ledger.h"
#include "scratch.h"

using namespace evt;

namespace {
// The ledger's state, leaving out partitions without ranges (the text leaves them out).
bool Same(const DlqLedger& a, const DlqLedger& b) {
  auto nonempty = [](const DlqLedger& l) {
    std::map<DlqLedger::TP, DlqLedger::Ranges> m;
    for (const auto& [tp, v] : l.done)
      if (!v.empty()) m[tp] = v;
    return m;
  };
  return a.identity == b.identity && a.source == b.source && a.last_run == b.last_run && a.clean == b.clean &&
         a.runs == b.runs && a.redriven == b.redriven && a.updated_ms == b.updated_ms && nonempty(a) == nonempty(b) &&
         a.dest_ends == b.dest_ends;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto l = ParseDlqLedger(in, "fuzz.ledger");
  if (!l.ok()) {
    if (l.status().code() != Code::kCorruption) std::abort();
  } else {
    std::string text = DlqLedgerText(*l);
    auto m = ParseDlqLedger(text, "fuzz.ledger");
    if (!m.ok() || !Same(*l, *m) || DlqLedgerText(*m) != text) std::abort();
    // What a run does to a ledger it read: positions added around the ranges it holds.
    DlqLedger::TP tp = l->done.empty() ? DlqLedger::TP{"t", 0} : l->done.begin()->first;
    const auto& v = l->done[tp];
    int64_t probe[] = {0, 1, DlqLedger::kMaxPosition, INT64_MAX, -1, v.empty() ? 5 : v.front().first - 1,
                       v.empty() ? 6 : v.back().second + 1};
    for (int64_t off : probe) {
      bool added = l->Add(tp, off);
      if (added && !l->Has(tp, off)) std::abort();
    }
    auto n = ParseDlqLedger(DlqLedgerText(*l), "fuzz.ledger");
    if (!n.ok() || !Same(*l, *n)) std::abort();
  }
  std::string json;
  if (DlqLedgerStatus(fuzz::WriteScratch("in.ledger", in), &json).ok() &&
      !envelope::IsEmbeddableJson(json.substr(0, json.size() - 1)))
    std::abort();
  return 0;
}
