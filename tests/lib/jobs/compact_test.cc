// lib/compact: the cleaner against a plain in-memory model of Kafka's rules (random writes,
// random settings and clocks, several hundred seeds), transactions and producer state on
// hand-built batches, and the reader's view of an interrupted compaction.
#include "lib/jobs/compact.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <map>
#include <optional>
#include <random>

#include "formats/kafka/batch.h"
#include "lib/base/file.h"
#include "lib/log/segment.h"
#include "lib/log/partition_dir.h"
#include "lib/log/segment_writer.h"
#include "tests/testutil.h"

using namespace evt;

namespace {

struct Rec {
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t horizon = -1;  // tombstones: the delete horizon of their batch (-1: none)
  bool operator==(const Rec& o) const {
    return offset == o.offset && timestamp == o.timestamp && key == o.key && value == o.value &&
           headers == o.headers && horizon == o.horizon;
  }
};

std::string Show(const Rec& r) {
  return fmt::format("{{off {} ts {} key {} value {} h {} hz {}}}", r.offset, r.timestamp, r.key.value_or("<null>"),
                     r.value.value_or("<null>"), r.headers.size(), r.horizon);
}

struct SegFacts {
  int64_t first = -1, last = -1, max_ts = -1;
};

// Reads a partition directory entry by entry (independently of SegmentSource).
void ReadDir(const std::string& dir, std::vector<Rec>* recs, std::vector<SegFacts>* segs) {
  auto pd = ScanPartitionDir(dir);
  REQUIRE(pd.ok());
  for (const auto& sf : pd->segments) {
    SegFacts f;
    std::string data = test::ReadFile(sf.log_path);
    for (kafka::EntryWalker w(data); !w.done(); w.Next()) {
      REQUIRE(w.state() == kafka::EntryState::kOk);
      RecordBatch b;
      kafka::DecodeOptions o;
      REQUIRE(kafka::DecodeEntry(w.entry().bytes(), w.pos(), o, &b).ok());
      const BatchInfo& bi = b.batches.at(0);
      if (f.first < 0) f.first = bi.base_offset;
      f.last = std::max(f.last, bi.last_offset());
      f.max_ts = std::max(f.max_ts, bi.max_timestamp);
      for (const Record& r : b.records) {
        if (r.control) continue;
        Rec x;
        x.offset = r.offset;
        x.timestamp = r.timestamp;
        if (!r.key.null()) x.key = std::string(r.key.view());
        if (!r.value.null()) x.value = std::string(r.value.view());
        for (uint32_t i = 0; i < r.header_count; ++i)
          x.headers.push_back({std::string(b.HeadersOf(r)[i].key), std::string(b.HeadersOf(r)[i].value.view())});
        if (!x.value && x.key) x.horizon = bi.has_delete_horizon ? bi.first_timestamp : -1;
        recs->push_back(std::move(x));
      }
    }
    segs->push_back(f);
  }
}

// The reference: Kafka's compaction rules over a list of records, given the segment layout.
struct Model {
  std::vector<Rec> log;
  int64_t checkpoint = -1;

  void Compact(const std::vector<SegFacts>& segs, const CompactOptions& o) {
    size_t n = segs.size();
    size_t k = o.include_active ? n : (n ? n - 1 : 0);
    int64_t first_unstable = INT64_MAX;
    for (size_t i = 0; i < k; ++i) {
      bool too_new = o.min_compaction_lag_ms > 0 && segs[i].max_ts > o.now_ms - o.min_compaction_lag_ms;
      if (too_new || segs[i].last >= first_unstable) {
        k = i;
        break;
      }
    }
    int64_t clean_end = 0, log_start = -1, log_end = 0;
    for (size_t i = 0; i < k; ++i) clean_end = std::max(clean_end, segs[i].last + 1);
    for (const auto& s : segs) {
      if (s.first >= 0 && log_start < 0) log_start = s.first;
      log_end = std::max(log_end, s.last + 1);
    }
    int64_t first_dirty = checkpoint;
    if (first_dirty < 0 || first_dirty < log_start || first_dirty > log_end) first_dirty = std::max<int64_t>(log_start, 0);
    if (k == 0 || (clean_end <= first_dirty && !o.force)) return;
    std::map<std::string, int64_t> latest;
    for (const Rec& r : log)
      if (r.key && r.offset >= first_dirty && r.offset < clean_end) latest[*r.key] = r.offset;
    std::vector<Rec> out;
    for (Rec r : log) {
      if (r.offset < clean_end) {
        if (!r.key) {
          if (o.null_keys == NullKeyPolicy::kDrop) continue;
        } else {
          auto it = latest.find(*r.key);
          if (it != latest.end() && r.offset < it->second) continue;
          if (!r.value) {
            if (r.horizon >= 0 && o.now_ms >= r.horizon) continue;
            if (r.horizon < 0) r.horizon = o.now_ms + o.delete_retention_ms;
          }
        }
      }
      out.push_back(std::move(r));
    }
    log = std::move(out);
    checkpoint = clean_end;
  }
};

}  // namespace

TEST_CASE("compact: random logs and settings agree with the reference model") {
  const int seeds = 300;
  int multi_pass_runs = 0, horizons_checked = 0, removed_tombstones = 0;
  for (int seed = 1; seed <= seeds; ++seed) {
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    auto rnd = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    test::TempDir tmp;
    std::string dir = tmp / "t-0";
    Model model;
    const int key_space = rnd(0, 1) ? 5 : 3000;
    int64_t clock = 1000000;
    int64_t now = clock;
    int value_seq = 0;
    const int rounds = static_cast<int>(rnd(2, 6));
    NullKeyPolicy null_policy = rnd(0, 1) ? NullKeyPolicy::kKeep : NullKeyPolicy::kDrop;
    for (int round = 0; round < rounds; ++round) {
      // Writes.
      WriterOptions wo;
      wo.segment_bytes = static_cast<uint64_t>(rnd(1024, 16384));
      wo.batch_records = static_cast<size_t>(rnd(1, 20));
      wo.encode.codec = static_cast<kafka::Codec>(rnd(0, 4));
      wo.fsync = FsyncPolicy::kNever;
      CountingReporter rep;
      auto w = PartitionWriter::Open(dir, wo, &rep);
      REQUIRE(w.ok());
      RecordBatch b;
      int count = static_cast<int>(rnd(0, key_space > 5 && rnd(0, 1) ? 2500 : 400));
      for (int i = 0; i < count; ++i) {
        test::RecordSpec s;
        clock += rnd(0, 3);
        s.timestamp = clock + rnd(-5, 5);
        Rec m;
        m.timestamp = s.timestamp;
        if (rnd(0, 99) < 4) {
          s.has_key = false;
        } else {
          s.has_key = true;
          s.key_bytes = fmt::format("k{}", rnd(0, key_space - 1));
          m.key = s.key_bytes;
        }
        if (rnd(0, 99) < 15) {
          s.null_value = true;
        } else {
          s.value = fmt::format("v{}", value_seq++);
          m.value = s.value;
        }
        for (int h = static_cast<int>(rnd(0, 2)); h > 0; --h) {
          s.headers.push_back({fmt::format("h{}", h), fmt::format("x{}", rnd(0, 9))});
          m.headers.push_back(s.headers.back());
        }
        test::AddRecord(&b, s);
        model.log.push_back(m);
      }
      int64_t base = (*w)->next_offset();
      if (!b.records.empty()) REQUIRE((*w)->Append(b, 0, b.records.size()).ok());
      for (size_t i = 0; i < b.records.size(); ++i) model.log[model.log.size() - b.records.size() + i].offset = base + static_cast<int64_t>(i);
      REQUIRE((*w)->Close().ok());
      w->reset();
      if (model.log.empty()) continue;

      // A compaction with random settings.
      CompactOptions o;
      o.paths = {dir};
      o.include_active = rnd(0, 3) == 0;
      o.min_compaction_lag_ms = rnd(0, 2) == 0 ? rnd(1, 300) : 0;
      o.delete_retention_ms = rnd(1, 400);
      now = std::max(now, clock + rnd(-50, 300));
      o.now_ms = now;
      o.null_keys = null_policy;
      o.force = true;
      o.segment_bytes = static_cast<uint64_t>(rnd(1024, 65536));
      o.max_memory = rnd(0, 2) == 0 ? 24 * 1024 : 1 << 20;
      o.codec = static_cast<int>(rnd(-1, 4));
      std::vector<Rec> before_recs;
      std::vector<SegFacts> segs;
      ReadDir(dir, &before_recs, &segs);
      // A dry run first: it changes nothing, and its counts match the real run's (one pass).
      CompactOptions dry = o;
      dry.dry_run = true;
      std::vector<CompactPartition> dry_out;
      Status ds = RunCompact(dry, &rep, &dry_out);
      INFO("seed " << seed << " round " << round << " dry run: " << ds.message());
      REQUIRE(ds.ok());
      std::vector<Rec> after_dry;
      std::vector<SegFacts> segs_dry;
      ReadDir(dir, &after_dry, &segs_dry);
      REQUIRE(after_dry == before_recs);

      model.Compact(segs, o);
      std::vector<CompactPartition> out;
      Status s = RunCompact(o, &rep, &out);
      INFO("seed " << seed << " round " << round << ": " << s.message());
      REQUIRE(s.ok());
      REQUIRE(out.size() == 1);
      if (out[0].passes > 1) ++multi_pass_runs;
      if (dry_out[0].passes == 1 && out[0].passes == 1) {
        CHECK(dry_out[0].records_after == out[0].records_after);
        CHECK(dry_out[0].bytes_after == out[0].bytes_after);
      }
      removed_tombstones += static_cast<int>(out[0].tombstones_removed);
      std::vector<Rec> got;
      std::vector<SegFacts> segs_after;
      ReadDir(dir, &got, &segs_after);
      if (got != model.log) {
        size_t i = 0;
        while (i < got.size() && i < model.log.size() && got[i] == model.log[i]) ++i;
        FAIL("seed " << seed << " round " << round << ": first difference at #" << i << ": got "
                     << (i < got.size() ? Show(got[i]) : "<end>") << ", model "
                     << (i < model.log.size() ? Show(model.log[i]) : "<end>") << " (" << got.size() << " vs "
                     << model.log.size() << " records)");
      }
      for (const Rec& r : got) horizons_checked += r.horizon >= 0;
      // The result is a valid log: readers and `evt verify` accept it.
      if (seed % 10 == 0) {
        auto v = test::RunEvt("verify " + dir);
        REQUIRE(v.exit_code == 0);
      }
    }
  }
  INFO("multi-pass runs " << multi_pass_runs << ", horizons checked " << horizons_checked);
  CHECK(multi_pass_runs > 10);
  CHECK(horizons_checked > 100);
  CHECK(removed_tombstones > 100);
}

namespace {

// Appends one hand-built v2 batch to `log`.
void AddBatch(std::string* log, int64_t base, std::vector<test::RecordSpec> recs, int64_t pid, bool txn,
              bool control = false, int32_t base_seq = 0) {
  RecordBatch b;
  for (auto& r : recs) test::AddRecord(&b, r);
  kafka::EncodeOptions eo;
  eo.codec = kafka::kNone;
  eo.producer_id = pid;
  eo.producer_epoch = pid >= 0 ? 0 : -1;
  eo.base_sequence = pid >= 0 ? base_seq : -1;
  eo.transactional = txn;
  eo.control = control;
  REQUIRE(kafka::EncodeBatch(b, 0, b.records.size(), base, false, eo, log, nullptr).ok());
}

test::RecordSpec KV(const char* k, const char* v, int64_t ts = 1000) {
  test::RecordSpec s;
  s.has_key = true;
  s.key_bytes = k;
  if (v) s.value = v; else s.null_value = true;
  s.timestamp = ts;
  return s;
}

test::RecordSpec Marker(bool commit) {
  test::RecordSpec s;
  s.has_key = true;
  s.key_bytes = std::string("\0\0\0", 3) + (commit ? '\1' : '\0');
  s.value = std::string("\0\0\0\0\0\0", 6);
  s.timestamp = 1000;
  return s;
}

std::vector<std::string> Values(const std::string& dir) {
  std::vector<Rec> recs;
  std::vector<SegFacts> segs;
  ReadDir(dir, &recs, &segs);
  std::vector<std::string> v;
  for (const auto& r : recs) v.push_back(fmt::format("{}:{}={}", r.offset, r.key.value_or("-"), r.value.value_or("null")));
  return v;
}

struct BatchView {
  int64_t base, last;
  int32_t count;
  bool control, horizon;
};
std::vector<BatchView> Batches(const std::string& log_path) {
  std::vector<BatchView> out;
  std::string data = test::ReadFile(log_path);
  for (kafka::EntryWalker w(data); !w.done(); w.Next()) {
    REQUIRE(w.state() == kafka::EntryState::kOk);
    RecordBatch b;
    REQUIRE(kafka::DecodeEntry(w.entry().bytes(), w.pos(), kafka::DecodeOptions{}, &b).ok());
    const BatchInfo& bi = b.batches[0];
    out.push_back({bi.base_offset, bi.last_offset(), bi.record_count, bi.control, bi.has_delete_horizon});
  }
  return out;
}

}  // namespace

TEST_CASE("compact: transactions, markers and producer state follow Kafka's cleaner") {
  test::TempDir tmp;
  std::string dir = tmp / "t-0";
  REQUIRE(MakeDirs(dir).ok());
  std::string seg0;
  // Producer 7: a committed transaction (offsets 0-1, marker 2) whose records are later superseded.
  AddBatch(&seg0, 0, {KV("a", "a1"), KV("b", "b1")}, 7, true);
  AddBatch(&seg0, 2, {Marker(true)}, 7, true, true);
  // Producer 8: an aborted transaction (3-4, marker 5).
  AddBatch(&seg0, 3, {KV("c", "c-aborted"), KV("a", "a-aborted")}, 8, true);
  AddBatch(&seg0, 5, {Marker(false)}, 8, true, true);
  // Producer 9 (idempotent, not transactional): its last batch (6) will lose its only record.
  AddBatch(&seg0, 6, {KV("d", "d1")}, 9, false, false, 0);
  // No producer: newer values for a, b, d.
  AddBatch(&seg0, 7, {KV("a", "a2"), KV("b", "b2"), KV("d", "d2")}, -1, false);
  test::WriteFile(dir + "/00000000000000000000.log", seg0);
  std::string seg1;  // the active segment
  AddBatch(&seg1, 10, {KV("z", "z1")}, -1, false);
  // Later batches of producers 7 and 8, so their transactional batches are not their last
  // (Kafka keeps a producer's last batch, even emptied, and a marker while any batch of its
  // transaction is left).
  AddBatch(&seg1, 11, {KV("y", "y1")}, 7, false);
  AddBatch(&seg1, 12, {KV("x", "x1")}, 8, false);
  test::WriteFile(dir + "/00000000000000000010.log", seg1);

  CompactOptions o;
  o.paths = {dir};
  o.force = true;
  o.delete_retention_ms = 100;
  o.now_ms = 5000;
  CountingReporter rep;
  std::vector<CompactPartition> out;
  REQUIRE(RunCompact(o, &rep, &out).ok());
  // Aborted data gone; superseded records gone; producer 9's last batch kept, emptied.
  CHECK(Values(dir) == std::vector<std::string>{"7:a=a2", "8:b=b2", "9:d=d2", "10:z=z1", "11:y=y1", "12:x=x1"});
  CHECK(out[0].aborted_removed == 2);
  auto bs = Batches(dir + "/00000000000000000000.log");
  // Batches: commit marker (kept: its transaction's batches were still there this time),
  // abort marker (kept: batches of its transaction were seen this time), p9's empty batch,
  // the no-producer batch.
  REQUIRE(bs.size() == 4);
  CHECK((bs[0].control && bs[0].base == 2 && !bs[0].horizon));
  CHECK((bs[1].control && bs[1].base == 5 && !bs[1].horizon));
  CHECK((bs[2].base == 6 && bs[2].last == 6 && bs[2].count == 0));
  CHECK((bs[3].base == 7 && bs[3].last == 9 && bs[3].count == 3));

  // Second cleaning: no batch of either transaction is left, so both markers get a horizon.
  o.now_ms = 6000;
  out.clear();
  REQUIRE(RunCompact(o, &rep, &out).ok());
  bs = Batches(dir + "/00000000000000000000.log");
  REQUIRE(bs.size() == 4);
  CHECK((bs[0].control && bs[0].horizon));
  CHECK((bs[1].control && bs[1].horizon));
  // Before the horizon (6000 + 100) they stay; at it they go. The producer's batch stays.
  o.now_ms = 6099;
  out.clear();
  REQUIRE(RunCompact(o, &rep, &out).ok());
  CHECK(Batches(dir + "/00000000000000000000.log").size() == 4);
  o.now_ms = 6100;
  out.clear();
  REQUIRE(RunCompact(o, &rep, &out).ok());
  bs = Batches(dir + "/00000000000000000000.log");
  REQUIRE(bs.size() == 2);
  CHECK(out[0].markers_removed == 2);
  CHECK((bs[0].base == 6 && bs[0].count == 0));
  CHECK(Values(dir) == std::vector<std::string>{"7:a=a2", "8:b=b2", "9:d=d2", "10:z=z1", "11:y=y1", "12:x=x1"});
}

TEST_CASE("compact: an open transaction stops cleaning at its first offset") {
  test::TempDir tmp;
  std::string dir = tmp / "t-0";
  REQUIRE(MakeDirs(dir).ok());
  std::string s0, s1, s2;
  AddBatch(&s0, 0, {KV("a", "a1"), KV("a", "a2")}, -1, false);
  test::WriteFile(dir + "/00000000000000000000.log", s0);
  AddBatch(&s1, 2, {KV("a", "a3")}, 4, true);  // no marker follows
  test::WriteFile(dir + "/00000000000000000002.log", s1);
  AddBatch(&s2, 3, {KV("a", "a4")}, -1, false);
  test::WriteFile(dir + "/00000000000000000003.log", s2);
  CompactOptions o;
  o.paths = {dir};
  o.force = true;
  o.include_active = true;
  o.now_ms = 5000;
  CountingReporter rep;
  std::vector<CompactPartition> out;
  REQUIRE(RunCompact(o, &rep, &out).ok());
  // Only the first segment was cleanable; a3 and a4 stay where they are.
  CHECK(Values(dir) == std::vector<std::string>{"1:a=a2", "2:a=a3", "3:a=a4"});
  CHECK(out[0].clean_end == 2);
}

TEST_CASE("compact: null keys stop the run by default, before anything changes") {
  test::TempDir tmp;
  std::string dir = tmp / "t-0";
  REQUIRE(MakeDirs(dir).ok());
  std::string s0, s1;
  test::RecordSpec nk;
  nk.value = "x";
  AddBatch(&s0, 0, {KV("a", "a1"), nk, KV("a", "a2"), nk}, -1, false);
  test::WriteFile(dir + "/00000000000000000000.log", s0);
  AddBatch(&s1, 4, {KV("z", "z1")}, -1, false);
  test::WriteFile(dir + "/00000000000000000004.log", s1);
  CompactOptions o;
  o.paths = {dir};
  o.now_ms = 5000;
  CountingReporter rep;
  std::vector<CompactPartition> out;
  Status s = RunCompact(o, &rep, &out);
  CHECK(s.code() == Code::kDataProblem);
  CHECK(s.message().find("2 records with a null key") != std::string::npos);
  CHECK(Values(dir).size() == 5);
  o.null_keys = NullKeyPolicy::kKeep;
  out.clear();
  REQUIRE(RunCompact(o, &rep, &out).ok());
  CHECK(Values(dir) == std::vector<std::string>{"1:-=x", "2:a=a2", "3:-=x", "4:z=z1"});
  // The checkpoint makes a second run a no-op below the ratio.
  o.force = false;
  out.clear();
  REQUIRE(RunCompact(o, &rep, &out).ok());
  CHECK(out[0].passes == 0);
  CHECK(!out[0].skipped.empty());
}

TEST_CASE("compact: readers see a .log.swap in place of the segments it covers") {
  test::TempDir tmp;
  std::string dir = tmp / "t-0";
  REQUIRE(MakeDirs(dir).ok());
  std::string s0, s1, s2, swap;
  AddBatch(&s0, 0, {KV("a", "a1"), KV("b", "b1")}, -1, false);
  AddBatch(&s1, 2, {KV("a", "a2")}, -1, false);
  AddBatch(&s2, 3, {KV("c", "c1")}, -1, false);
  {  // a hand-made cleaned copy of offsets 0..2
    RecordBatch b;
    test::RecordSpec r = KV("b", "b1");
    r.offset = 1;
    test::AddRecord(&b, r);
    test::RecordSpec r2 = KV("a", "a2");
    r2.offset = 2;
    test::AddRecord(&b, r2);
    kafka::EncodeOptions eo;
    eo.codec = kafka::kNone;
    REQUIRE(kafka::EncodeBatch(b, 0, 2, 1, true, eo, &swap, nullptr).ok());
  }
  test::WriteFile(dir + "/00000000000000000000.log", s0);
  test::WriteFile(dir + "/00000000000000000002.log", s1);
  test::WriteFile(dir + "/00000000000000000003.log", s2);
  test::WriteFile(dir + "/00000000000000000000.log.swap", swap);
  test::WriteFile(dir + "/00000000000000000003.log.cleaned", "garbage");
  auto pd = ScanPartitionDir(dir);
  REQUIRE(pd.ok());
  CHECK(pd->interrupted_compaction);
  CHECK(Values(dir) == std::vector<std::string>{"1:b=b1", "2:a=a2", "3:c=c1"});
  uint64_t changes = 0;
  REQUIRE(FinishInterruptedCompaction(dir, false, &changes).ok());
  CHECK(changes == 2);
  CHECK(!PathExists(dir + "/00000000000000000002.log"));
  CHECK(!PathExists(dir + "/00000000000000000003.log.cleaned"));
  CHECK(PathExists(dir + "/00000000000000000000.index"));
  CHECK(Values(dir) == std::vector<std::string>{"1:b=b1", "2:a=a2", "3:c=c1"});
  CHECK(test::RunEvt("verify " + dir).exit_code == 0);
}
