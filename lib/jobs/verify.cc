#include "lib/jobs/verify.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "formats/kafka/batch.h"
#include "lib/base/coding.h"
#include "lib/base/term.h"
#include "lib/log/partition_dir.h"

namespace evt {
namespace {

struct BatchSpan {
  uint64_t pos;
  int64_t base;
  int64_t last;
  int64_t max_ts;
};

// Checks an .index file against the batches of its segment. Returns "" when consistent.
std::string CheckOffsetIndex(std::string_view idx, int64_t seg_base, const std::vector<BatchSpan>& spans,
                             uint64_t log_size) {
  if (idx.size() % kafka::kOffsetIndexEntrySize != 0)
    return fmt::format("size {} is not a multiple of {}", idx.size(), kafka::kOffsetIndexEntrySize);
  int64_t prev_off = -1;
  int64_t prev_pos = -1;
  size_t n = idx.size() / kafka::kOffsetIndexEntrySize;
  for (size_t i = 0; i < n; ++i) {
    const char* p = idx.data() + i * kafka::kOffsetIndexEntrySize;
    int32_t rel = static_cast<int32_t>(DecodeFixed32BE(p));
    int32_t pos = static_cast<int32_t>(DecodeFixed32BE(p + 4));
    if (i > 0 && rel == 0 && pos == 0) break;  // preallocated zero padding
    int64_t off = seg_base + rel;
    if (rel < 0 || pos < 0) return fmt::format("entry {} is negative (relative offset {}, position {})", i, rel, pos);
    if (off <= prev_off || pos <= prev_pos)
      return fmt::format("entry {} (offset {}, position {}) is not ascending", i, off, pos);
    prev_off = off;
    prev_pos = pos;
    if (static_cast<uint64_t>(pos) >= log_size)
      return fmt::format("entry {} points at position {} past the end of the log ({} bytes)", i, pos, log_size);
    auto it = std::lower_bound(spans.begin(), spans.end(), static_cast<uint64_t>(pos),
                               [](const BatchSpan& s, uint64_t v) { return s.pos < v; });
    if (it == spans.end() || it->pos != static_cast<uint64_t>(pos))
      return fmt::format("entry {} points at position {}, which is not the start of a batch", i, pos);
    if (off < it->base || off > it->last)
      return fmt::format("entry {} names offset {} but the batch at position {} holds offsets {}..{}", i, off, pos,
                         it->base, it->last);
  }
  return "";
}

std::string CheckTimeIndex(std::string_view idx, int64_t seg_base, const std::vector<BatchSpan>& spans) {
  if (idx.size() % kafka::kTimeIndexEntrySize != 0)
    return fmt::format("size {} is not a multiple of {}", idx.size(), kafka::kTimeIndexEntrySize);
  size_t n = idx.size() / kafka::kTimeIndexEntrySize;
  int64_t prev_ts = INT64_MIN;
  int64_t prev_off = -1;
  int64_t seg_max_ts = -1;
  for (const auto& s : spans) seg_max_ts = std::max(seg_max_ts, s.max_ts);
  for (size_t i = 0; i < n; ++i) {
    const char* p = idx.data() + i * kafka::kTimeIndexEntrySize;
    int64_t ts = static_cast<int64_t>(DecodeFixed64BE(p));
    int32_t rel = static_cast<int32_t>(DecodeFixed32BE(p + 8));
    if (i > 0 && ts == 0 && rel == 0) break;  // preallocated zero padding
    int64_t off = seg_base + rel;
    if (ts < prev_ts || off < prev_off)
      return fmt::format("entry {} (timestamp {}, offset {}) is not ascending", i, ts, off);
    prev_ts = ts;
    prev_off = off;
    bool found = false;
    for (const auto& s : spans)
      if (off >= s.base && off <= s.last) { found = true; break; }
    if (!found) return fmt::format("entry {} names offset {}, which no batch in the segment holds", i, off);
    if (ts > seg_max_ts)
      return fmt::format("entry {} has timestamp {} above the segment's largest timestamp {}", i, ts, seg_max_ts);
  }
  return "";
}

}  // namespace

std::string CheckIndexBesideLog(const std::string& index_path, bool is_time, bool* checked) {
  *checked = false;
  const std::string suffix = is_time ? ".timeindex" : ".index";
  std::string name = Basename(index_path);
  int64_t base = 0;
  if (!ParseSegmentFileName(name, suffix.c_str(), &base)) return "";
  std::string log_path = JoinPath(Dirname(index_path), SegmentFileStem(base) + ".log");
  if (!IsRegularFile(log_path)) return "";
  auto mf = MappedFile::Open(log_path);
  auto idx = ReadFileToString(index_path);
  if (!mf.ok()) return mf.status().message();
  if (!idx.ok()) return idx.status().message();
  *checked = true;
  std::string_view data = (*mf)->data();
  std::vector<BatchSpan> spans;
  RecordBatch scratch;
  kafka::DecodeOptions dopts;
  dopts.decode_records = false;
  kafka::EntryWalker w(data);
  for (; !w.done(); w.Next()) {
    if (!w.ok()) break;  // checked up to here
    scratch.Clear();
    if (!kafka::DecodeEntry(w.entry().bytes(), w.pos(), dopts, &scratch).ok() || scratch.batches.empty())
      return fmt::format("{}@{}: the batch there does not decode; `evt verify` says why", log_path, w.pos());
    const BatchInfo& bi = scratch.batches.back();
    spans.push_back({w.pos(), bi.base_offset, bi.last_offset(), bi.max_timestamp});
  }
  return is_time ? CheckTimeIndex(*idx, base, spans) : CheckOffsetIndex(*idx, base, spans, w.pos());
}

Status RunVerify(const VerifyOptions& opts, Reporter* reporter, std::vector<VerifyReport>* out) {
  auto dirs = ResolvePartitions(opts.paths);
  if (!dirs.ok()) return dirs.status();
  uint64_t total_errors = 0;
  for (const PartitionDir& pd : *dirs) {
    VerifyReport rep;
    rep.topic = pd.topic;
    rep.partition = pd.partition;
    rep.path = pd.path;
    rep.segments = pd.segments.size();
    int64_t prev_last = -1;
    // --repair changes the directory: not under a running broker, nor beside another evt
    // writing it (the lock write, compact and retain take).
    std::unique_ptr<FileLock> lock;
    if (opts.repair) {
      auto l = LockPartition(pd.path, opts.wait_for_lock);
      if (!l.ok()) return l.status();
      lock = std::move(*l);
    }
    auto error = [&](const std::string& file, uint64_t pos, const std::string& what) {
      ++rep.errors;
      reporter->Corruption(file, pos, 0, what);
    };
    if (pd.interrupted_compaction) {
      ++rep.warnings;
      reporter->Warning(pd.path, 0,
                        "a compaction was interrupted: its `.log.swap` files are read in place of the segments "
                        "they replace; `evt compact` (or `evt write`) finishes it");
    }
    for (size_t si = 0; si < pd.segments.size(); ++si) {
      if (InterruptRequested()) return Status::Interrupted();
      const SegmentFile& sf = pd.segments[si];
      const bool last_segment = si + 1 == pd.segments.size();
      auto mf = MappedFile::Open(sf.log_path);
      if (!mf.ok()) {
        error(sf.log_path, 0, mf.status().message());
        continue;
      }
      std::string_view data = (*mf)->data();
      std::vector<BatchSpan> spans;
      RecordBatch scratch;
      kafka::DecodeOptions dopts;
      uint64_t torn_at = UINT64_MAX;
      bool seg_ok = true;
      for (kafka::EntryWalker w(data); !w.done(); w.Next()) {
        const uint64_t pos = w.pos();
        if (w.torn() && last_segment) {
          ++rep.warnings;
          reporter->Warning(sf.log_path, pos, fmt::format("torn tail: {} ({} bytes){}", w.reason(), w.remaining(),
                                                          opts.repair ? "; truncating" : "; `--repair` truncates it"));
          torn_at = pos;
          break;
        }
        if (!w.ok()) {
          error(sf.log_path, pos, w.reason());
          seg_ok = false;
          break;
        }
        scratch.Clear();
        Status s = kafka::DecodeEntry(w.entry().bytes(), pos, dopts, &scratch);
        if (!s.ok()) {
          error(sf.log_path, pos, s.message());
          // The length was plausible: skip this entry and keep checking the rest.
          seg_ok = false;
          continue;
        }
        const BatchInfo& bi = scratch.batches.back();
        // One fault per bad batch: its offsets are not taken as the partition's, so the
        // batches after it are judged against the last good one, and the segment's indexes
        // (which would disagree with it too) are not checked on top.
        std::string problem = BatchOffsetProblem(pd, si, prev_last, bi.base_offset, bi.last_offset());
        if (!problem.empty()) {
          error(sf.log_path, pos, problem);
          seg_ok = false;
          continue;
        }
        prev_last = bi.last_offset();
        spans.push_back({pos, bi.base_offset, bi.last_offset(), bi.max_timestamp});
        ++rep.batches;
        for (const Record& r : scratch.records) ++(r.control ? rep.control_records : rep.records);
      }
      uint64_t log_size = torn_at == UINT64_MAX ? data.size() : torn_at;
      mf->reset();
      if (torn_at != UINT64_MAX && opts.repair) {
        if (::truncate(sf.log_path.c_str(), static_cast<off_t>(torn_at)) != 0) {
          error(sf.log_path, torn_at, "cannot truncate the torn tail");
        } else {
          ++rep.repaired;
        }
      }
      if (!opts.check_indexes || !seg_ok) continue;
      // Indexes: missing ones are fine (Kafka rebuilds them); present ones must be consistent.
      IndexBuilder rebuilt(sf.base_offset);
      for (const auto& s : spans) rebuilt.OnBatch(s.pos, s.last, s.max_ts);
      rebuilt.OnClose();
      struct IndexFile {
        const std::string* path;
        bool is_time;
      } files[] = {{&sf.index_path, false}, {&sf.timeindex_path, true}};
      for (const auto& f : files) {
        if (f.path->empty()) continue;  // a `.log.swap` of an interrupted compaction
        bool exists = PathExists(*f.path);
        std::string problem;
        if (exists) {
          auto content = ReadFileToString(*f.path);
          if (!content.ok()) {
            problem = content.status().message();
          } else {
            problem = f.is_time ? CheckTimeIndex(*content, sf.base_offset, spans)
                                : CheckOffsetIndex(*content, sf.base_offset, spans, log_size);
          }
          if (!problem.empty() && !opts.repair) {
            if (torn_at != UINT64_MAX) {
              // The index describes data the torn tail lost: stale, not corrupt.
              ++rep.warnings;
              reporter->Warning(*f.path, 0, problem + " (stale after the torn tail; `--repair` rebuilds it)");
            } else {
              error(*f.path, 0, problem + " (`--repair` rebuilds it)");
            }
          }
        }
        if (opts.repair && (!exists || !problem.empty() || torn_at != UINT64_MAX)) {
          Status s = WriteFileAtomic(*f.path, f.is_time ? rebuilt.TimeIndexBytes() : rebuilt.OffsetIndexBytes());
          if (!s.ok()) {
            error(*f.path, 0, s.message());
          } else {
            ++rep.repaired;
            if (!problem.empty()) reporter->Warning(*f.path, 0, "rebuilt: " + problem);
          }
        }
      }
    }
    total_errors += rep.errors;
    out->push_back(rep);
  }
  if (total_errors > 0) return Status::Corruption(fmt::format("{} problem{} found", total_errors, total_errors == 1 ? "" : "s"));
  return Status::OK();
}

}  // namespace evt
