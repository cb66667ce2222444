#include "lib/jobs/retain.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "formats/envelope/envelope.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"
#include "lib/log/partition_dir.h"
#include "lib/log/segment.h"
#include "lib/log/segment_writer.h"

namespace evt {

namespace {

// First/last offset and newest timestamp of one segment, from its batch headers (offsets
// come from the batches, never from file names).
Status Describe(const PartitionDir& pd, const SegmentFile& sf, Reporter* reporter, RetainSegment* out) {
  PartitionDir one = pd;
  one.segments = {sf};
  ReadOptions ro;
  ro.include_control = true;
  ro.decode_records = false;
  SegmentSource src({one}, ro, reporter);
  RecordBatch b;
  out->log_path = sf.log_path;
  out->bytes = sf.size;
  for (const char* suf : {".index", ".timeindex", ".txnindex"}) {
    struct stat st;
    std::string p = sf.log_path.substr(0, sf.log_path.size() - 4) + suf;
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out->bytes += static_cast<uint64_t>(st.st_size);
  }
  for (;;) {
    if (InterruptRequested()) return Status::Interrupted();
    bool eof = false;
    EVT_RETURN_IF_ERROR(src.Next(&b, &eof));
    if (eof) break;
    for (const BatchInfo& bi : b.batches) {
      if (out->base_offset < 0) out->base_offset = bi.base_offset;
      out->last_offset = std::max(out->last_offset, bi.last_offset());
      // A delete horizon is not a record time; max_timestamp still is.
      out->max_timestamp = std::max(out->max_timestamp, bi.max_timestamp);
    }
  }
  if (out->last_offset >= 0 && out->max_timestamp < 0) {
    // No record timestamps (magic 0): Kafka uses the file's modification time.
    struct stat st;
    if (::stat(sf.log_path.c_str(), &st) == 0)
      out->max_timestamp = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  }
  return Status::OK();
}

}  // namespace

Result<int64_t> ParseByteSize(const std::string& s) {
  if (s.empty()) return Status::InvalidArgument("empty size");
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0) return Status::InvalidArgument(fmt::format("bad size '{}' (e.g. 10G, 512M, 4096)", s));
  std::string num = s.substr(0, i), unit = s.substr(i);
  if (num.size() > 18) return Status::InvalidArgument(fmt::format("size '{}' is too large", s));
  int64_t v = std::stoll(num);
  int shift = 0;
  if (unit == "" || unit == "B") shift = 0;
  else if (unit == "K" || unit == "KiB" || unit == "k") shift = 10;
  else if (unit == "M" || unit == "MiB") shift = 20;
  else if (unit == "G" || unit == "GiB") shift = 30;
  else if (unit == "T" || unit == "TiB") shift = 40;
  else return Status::InvalidArgument(fmt::format("bad size unit in '{}' (K, M, G, T: powers of 1024)", s));
  if (v > (INT64_MAX >> shift)) return Status::InvalidArgument(fmt::format("size '{}' is too large", s));
  return v << shift;
}

Status RunRetain(const RetainOptions& opts, Reporter* reporter, std::vector<RetainPartition>* out) {
  if (opts.max_age_ms < 0 && opts.max_bytes < 0 && opts.before.kind == Bound::kNone)
    return Status::InvalidArgument("nothing to retain by: give --max-age, --max-bytes or --before");
  if (opts.before.kind != Bound::kNone && opts.before.kind != Bound::kOffset && opts.before.kind != Bound::kTime)
    return Status::InvalidArgument("--before takes an offset or a time");
  int64_t now = opts.now_ms >= 0 ? opts.now_ms : NowMs();
  std::vector<PartitionDir> all;
  for (const auto& p : opts.paths) {
    auto parts = DiscoverPartitions(p);
    if (!parts.ok()) return parts.status();
    for (auto& pd : *parts) all.push_back(std::move(pd));
  }
  for (PartitionDir& pd : all) {
    if (InterruptRequested()) return Status::Interrupted();
    // The same lock as `evt write`: one evt process per partition (a dry run only looks).
    auto lock = LockPartition(pd.path, opts.wait_for_lock, !opts.dry_run);
    if (!lock.ok()) return lock.status();
    RetainPartition rp;
    rp.path = pd.path;
    rp.segments_before = pd.segments.size();
    // Finish what an interrupted run (of retain or compact) left.
    EVT_RETURN_IF_ERROR(FinishInterruptedCompaction(pd.path, opts.dry_run, &rp.leftovers_removed));
    if (!opts.dry_run && rp.leftovers_removed > 0) {
      auto again = ScanPartitionDir(pd.path);
      if (!again.ok()) return again.status();
      again->topic = pd.topic;
      again->partition = pd.partition;
      pd = std::move(*again);
    }
    // Describe every segment (sizes for the byte rule, offsets and times for the others).
    std::vector<RetainSegment> segs(pd.segments.size());
    for (size_t i = 0; i < pd.segments.size(); ++i) {
      EVT_RETURN_IF_ERROR(Describe(pd, pd.segments[i], reporter, &segs[i]));
      rp.bytes_before += segs[i].bytes;
    }
    // Select a prefix, never the active segment.
    int64_t size_excess = opts.max_bytes >= 0 ? static_cast<int64_t>(rp.bytes_before) - opts.max_bytes : -1;
    size_t n = 0;
    for (; n + 1 < segs.size(); ++n) {
      RetainSegment& s = segs[n];
      bool empty = s.last_offset < 0;
      if (opts.max_age_ms >= 0 && (empty || s.max_timestamp < now - opts.max_age_ms)) {
        s.reason = "max-age";
      } else if (opts.max_bytes >= 0 && size_excess - static_cast<int64_t>(s.bytes) >= 0) {
        s.reason = "max-bytes";
      } else if (opts.before.kind == Bound::kOffset && (empty || s.last_offset < opts.before.value)) {
        s.reason = "before";
      } else if (opts.before.kind == Bound::kTime && (empty || s.max_timestamp < opts.before.value)) {
        s.reason = "before";
      } else {
        break;
      }
      if (size_excess >= 0) size_excess -= static_cast<int64_t>(s.bytes);
    }
    for (size_t i = 0; i < n; ++i) {
      rp.deleted.push_back(segs[i]);
      rp.bytes_deleted += segs[i].bytes;
    }
    for (size_t i = n; i < segs.size() && rp.new_start_offset < 0; ++i) rp.new_start_offset = segs[i].base_offset;
    if (!opts.dry_run && n > 0) {
      // 1. Rename (the .log first: readers stop seeing the segment at once), 2. sync the
      //    directory, 3. remove. A crash leaves *.deleted files that readers ignore.
      std::vector<std::string> renamed;
      for (size_t i = 0; i < n; ++i) {
        const SegmentFile& sf = pd.segments[i];
        std::string stem = sf.log_path.substr(0, sf.log_path.size() - 4);
        for (const char* suf : {".log", ".index", ".timeindex", ".txnindex", ".snapshot"}) {
          std::string p = stem + suf;
          if (!PathExists(p)) continue;
          EVT_RETURN_IF_ERROR(RenameFile(p, p + ".deleted"));
          renamed.push_back(p + ".deleted");
        }
      }
      EVT_RETURN_IF_ERROR(SyncDir(pd.path));
      for (const auto& p : renamed) EVT_RETURN_IF_ERROR(RemoveFile(p));
      EVT_RETURN_IF_ERROR(SyncDir(pd.path));
    }
    out->push_back(std::move(rp));
  }
  return Status::OK();
}

std::string RetainJson(const std::vector<RetainPartition>& parts, bool dry_run) {
  std::string o;
  for (const auto& p : parts) {
    o += "{\"path\":";
    envelope::AppendJsonString(p.path, &o);
    fmt::format_to(std::back_inserter(o),
                   ",\"dry_run\":{},\"segments_before\":{},\"bytes_before\":{},\"segments_deleted\":{},"
                   "\"bytes_deleted\":{},\"new_start_offset\":{},\"leftovers_removed\":{},\"deleted\":[",
                   dry_run, p.segments_before, p.bytes_before, p.deleted.size(), p.bytes_deleted, p.new_start_offset,
                   p.leftovers_removed);
    for (size_t i = 0; i < p.deleted.size(); ++i) {
      const auto& s = p.deleted[i];
      if (i) o += ',';
      o += "{\"log\":";
      envelope::AppendJsonString(s.log_path, &o);
      fmt::format_to(std::back_inserter(o),
                     ",\"first_offset\":{},\"last_offset\":{},\"max_timestamp\":{},\"bytes\":{},\"reason\":\"{}\"}}",
                     s.base_offset, s.last_offset, s.max_timestamp, s.bytes, s.reason);
    }
    o += "]}\n";
  }
  return o;
}

std::string RetainSummary(const std::vector<RetainPartition>& parts, bool dry_run) {
  uint64_t segs = 0, bytes = 0, touched = 0;
  for (const auto& p : parts) {
    segs += p.deleted.size();
    bytes += p.bytes_deleted;
    touched += !p.deleted.empty();
  }
  return fmt::format("retain: {} {} segment{} ({}) in {} of {} partition{}", dry_run ? "would delete" : "deleted",
                     segs, segs == 1 ? "" : "s", HumanBytes(bytes), touched, parts.size(), parts.size() == 1 ? "" : "s");
}

}  // namespace evt
