#include "lib/log/partition_dir.h"

#include <fmt/format.h>

#include <string_view>

#include "formats/kafka/batch.h"
#include "lib/log/segment.h"

namespace evt {

Result<std::unique_ptr<FileLock>> LockPartition(const std::string& dir, bool wait, bool take_lock) {
  if (BrokerHoldsLogDir(dir))
    return Status::Busy(fmt::format(
        "{}: a running Kafka broker holds {} (its log dir lock); stop the broker or work on a copy", dir,
        JoinPath(Dirname(dir), ".lock")));
  if (!take_lock) return std::unique_ptr<FileLock>();
  auto lock = FileLock::Acquire(JoinPath(dir, ".evt.lock"), wait);
  if (!lock.ok() && lock.status().code() == Code::kBusy)
    return Status::Busy(
        fmt::format("{}: another evt process is writing or compacting this partition (run again when it is done; write, "
                    "compact, retain and verify --repair take --wait to wait for it)",
                    dir));
  return lock;
}

bool BrokerHoldsLogDir(const std::string& partition_dir) {
  return FileLock::IsLockedByOther(JoinPath(Dirname(partition_dir), ".lock"));
}

Status FinishInterruptedCompaction(const std::string& dir, bool dry_run, uint64_t* changes) {
  auto entries = ListDir(dir);
  if (!entries.ok()) return entries.status();
  auto remove = [&](const std::string& name) -> Status {
    ++*changes;
    return dry_run ? Status::OK() : RemoveFile(JoinPath(dir, name));
  };
  for (const auto& e : *entries)
    if (e.is_file && e.name.ends_with(".cleaned")) EVT_RETURN_IF_ERROR(remove(e.name));
  for (const auto& e : *entries) {
    int64_t base;
    if (!e.is_file || !ParseSegmentFileName(e.name, ".log.swap", &base)) continue;
    ++*changes;
    if (dry_run) continue;
    std::string swap = JoinPath(dir, e.name);
    auto next = SegmentNextOffset(swap, base);
    if (!next.ok()) return next.status();
    for (const auto& o : *entries) {
      int64_t b;
      if (!o.is_file || !ParseSegmentFileName(o.name, ".log", &b) || b < base || b >= *next) continue;
      std::string stem = JoinPath(dir, SegmentFileStem(b));
      for (const char* suf : {".log", ".index", ".timeindex", ".txnindex"})
        if (PathExists(stem + suf)) EVT_RETURN_IF_ERROR(RemoveFile(stem + suf));
    }
    std::string stem = JoinPath(dir, SegmentFileStem(base));
    for (const char* suf : {".index", ".timeindex", ".txnindex"})
      if (PathExists(stem + suf)) EVT_RETURN_IF_ERROR(RemoveFile(stem + suf));
    EVT_RETURN_IF_ERROR(SyncDir(dir));
    EVT_RETURN_IF_ERROR(RenameFile(swap, stem + ".log"));
    EVT_RETURN_IF_ERROR(SyncDir(dir));
    // Its indexes, rebuilt from the batches.
    auto mf = MappedFile::Open(stem + ".log");
    if (!mf.ok()) return mf.status();
    std::string_view data = (*mf)->data();
    IndexBuilder ib(base);
    RecordBatch b;
    kafka::DecodeOptions dopts;
    dopts.decode_records = false;
    dopts.verify_crc = false;
    for (kafka::EntryWalker w(data); !w.done() && w.ok(); w.Next()) {
      b.Clear();
      if (!kafka::DecodeEntry(w.entry().bytes(), w.pos(), dopts, &b).ok() || b.batches.empty()) break;
      ib.OnBatch(w.pos(), b.batches.back().last_offset(), b.batches.back().max_timestamp);
    }
    ib.OnClose();
    EVT_RETURN_IF_ERROR(WriteFileAtomic(stem + ".index", ib.OffsetIndexBytes()));
    EVT_RETURN_IF_ERROR(WriteFileAtomic(stem + ".timeindex", ib.TimeIndexBytes()));
  }
  if (!dry_run) {
    entries = ListDir(dir);
    if (!entries.ok()) return entries.status();
  }
  for (const auto& e : *entries) {
    if (!e.is_file) continue;
    bool leftover = e.name.ends_with(".deleted") || (e.name.ends_with(".swap") && !e.name.ends_with(".log.swap"));
    // An index whose .log is gone (a run stopped between renames): Kafka's recovery
    // deletes such orphans too.
    for (std::string_view suf : {std::string_view(".index"), std::string_view(".timeindex"),
                                 std::string_view(".txnindex")}) {
      if (!e.name.ends_with(suf)) continue;
      std::string stem = e.name.substr(0, e.name.size() - suf.size());
      leftover |= !PathExists(JoinPath(dir, stem + ".log")) && !PathExists(JoinPath(dir, stem + ".log.swap"));
    }
    if (leftover) EVT_RETURN_IF_ERROR(remove(e.name));
  }
  if (!dry_run && *changes > 0) EVT_RETURN_IF_ERROR(SyncDir(dir));
  return Status::OK();
}

}  // namespace evt
