#include "lib/log/segment_writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include "lib/base/coding.h"
#include "lib/log/partition_dir.h"

namespace evt {

Result<std::unique_ptr<PartitionWriter>> PartitionWriter::Open(const std::string& dir, const WriterOptions& opts,
                                                               Reporter* reporter) {
  EVT_RETURN_IF_ERROR(MakeDirs(dir));
  auto lock = LockPartition(dir, opts.wait_for_lock);
  if (!lock.ok()) return lock.status();
  std::unique_ptr<PartitionWriter> w(new PartitionWriter());
  w->dir_ = dir;
  w->opts_ = opts;
  w->reporter_ = reporter;
  w->lock_ = std::move(*lock);
  // Finish an interrupted compaction or retention before appending after it.
  uint64_t changes = 0;
  EVT_RETURN_IF_ERROR(FinishInterruptedCompaction(dir, false, &changes));
  if (changes > 0 && reporter) reporter->Warning(dir, 0, "finished an interrupted compaction or retention first");
  auto pd = ScanPartitionDir(dir);
  if (!pd.ok()) return pd.status();
  if (!pd->segments.empty()) EVT_RETURN_IF_ERROR(w->Recover(pd->segments.back()));
  return w;
}

PartitionWriter::~PartitionWriter() { (void)Close(); }

Result<int64_t> PartitionNextOffset(const std::string& dir) {
  if (!IsDirectory(dir)) return int64_t{0};
  auto pd = ScanPartitionDir(dir);
  if (!pd.ok()) return pd.status();
  int64_t next = 0;
  for (auto it = pd->segments.rbegin(); it != pd->segments.rend(); ++it) {
    if (it->size == 0) {
      next = std::max(next, it->base_offset);
      continue;
    }
    auto n = SegmentNextOffset(it->log_path, it->base_offset);
    if (!n.ok()) return n.status();
    return std::max(next, *n);
  }
  return next;
}

Status TruncatePartitionTo(const std::string& dir, int64_t next_offset, uint64_t* removed) {
  *removed = 0;
  if (!IsDirectory(dir)) return Status::OK();
  auto lock = FileLock::Acquire(JoinPath(dir, ".evt.lock"), true);
  if (!lock.ok()) return lock.status();
  uint64_t changes = 0;
  EVT_RETURN_IF_ERROR(FinishInterruptedCompaction(dir, false, &changes));
  auto pd = ScanPartitionDir(dir);
  if (!pd.ok()) return pd.status();
  for (auto it = pd->segments.rbegin(); it != pd->segments.rend(); ++it) {
    auto mf = MappedFile::Open(it->log_path);
    if (!mf.ok()) return mf.status();
    std::string_view data = (*mf)->data();
    uint64_t cut = data.size();
    RecordBatch b;
    kafka::DecodeOptions dopts;
    dopts.decode_records = false;
    for (kafka::EntryWalker w(data); !w.done(); w.Next()) {
      if (!w.ok()) {
        cut = w.pos();  // a torn tail goes too
        break;
      }
      b.Clear();
      if (!kafka::DecodeEntry(w.entry().bytes(), w.pos(), dopts, &b).ok() || b.batches.empty() ||
          b.batches.back().base_offset >= next_offset) {
        cut = w.pos();
        break;
      }
    }
    // Count what goes.
    for (kafka::EntryWalker w(data, cut); !w.done() && w.ok(); w.Next()) {
      b.Clear();
      if (kafka::DecodeEntry(w.entry().bytes(), w.pos(), dopts, &b).ok())
        for (const auto& bi : b.batches) *removed += static_cast<uint64_t>(std::max(bi.record_count, 0));
    }
    const bool whole = cut == 0 && it->base_offset >= next_offset;
    const bool nothing = cut == data.size();
    mf->reset();
    if (nothing) break;
    std::string stem = it->log_path.substr(0, it->log_path.size() - 4);
    if (whole) {
      for (const char* suf : {".log", ".index", ".timeindex", ".txnindex"})
        if (PathExists(stem + suf)) EVT_RETURN_IF_ERROR(RemoveFile(stem + suf));
      continue;
    }
    if (::truncate(it->log_path.c_str(), static_cast<off_t>(cut)) != 0)
      return Status::IOError(fmt::format("{}: cannot truncate to {} bytes", it->log_path, cut));
    // Its indexes describe what is gone; the next writer (or Kafka) rebuilds them.
    for (const char* suf : {".index", ".timeindex", ".txnindex"})
      if (PathExists(stem + suf)) EVT_RETURN_IF_ERROR(RemoveFile(stem + suf));
    break;
  }
  return SyncDir(dir);
}

Status PartitionWriter::Recover(const SegmentFile& sf) {
  auto f = MappedFile::Open(sf.log_path);
  if (!f.ok()) return f.status();
  std::string_view data = (*f)->data();
  auto index = std::make_unique<IndexBuilder>(sf.base_offset);
  kafka::EntryWalker w(data);
  int64_t next = sf.base_offset;
  RecordBatch scratch;
  kafka::DecodeOptions dopts;
  dopts.decode_records = false;
  for (; !w.done(); w.Next()) {
    const uint64_t pos = w.pos();
    if (w.torn()) {
      if (reporter_)
        reporter_->Warning(sf.log_path, pos,
                           fmt::format("torn tail ({}): truncating {} bytes, as Kafka's log recovery does", w.reason(),
                                       w.remaining()));
      break;
    }
    if (!w.ok())
      return Status::Corruption(fmt::format("{}@{}: {}; the active segment is corrupt before its end; refusing to append (see `evt verify`)",
                                            sf.log_path, pos, w.reason()));
    scratch.Clear();
    Status s = kafka::DecodeEntry(w.entry().bytes(), pos, dopts, &scratch);
    if (!s.ok())
      return Status::Corruption(fmt::format("{}@{}: {}; the active segment is corrupt before its end; refusing to append (see `evt verify`)",
                                            sf.log_path, pos, s.message()));
    const BatchInfo& bi = scratch.batches.back();
    index->OnBatch(pos, bi.last_offset(), bi.max_timestamp);
    next = bi.last_offset() + 1;
  }
  const uint64_t pos = w.pos();  // the end of the good entries: a torn tail after it goes
  f->reset();
  auto log = WritableFile::Open(sf.log_path, true);
  if (!log.ok()) return log.status();
  log_ = std::move(*log);
  if (pos < data.size()) {
    EVT_RETURN_IF_ERROR(log_->Truncate(pos));
    EVT_RETURN_IF_ERROR(log_->Sync());
    dirty_index_ = true;
  }
  index_ = std::move(index);
  seg_base_ = sf.base_offset;
  next_offset_ = next;
  return Status::OK();
}

Status PartitionWriter::OpenSegment(int64_t base, bool existing) {
  std::string path = JoinPath(dir_, SegmentFileStem(base) + ".log");
  if (!existing && PathExists(path))
    return Status::IOError(fmt::format("{}: segment already exists", path));
  auto log = WritableFile::Open(path, true);
  if (!log.ok()) return log.status();
  log_ = std::move(*log);
  index_ = std::make_unique<IndexBuilder>(base);
  seg_base_ = base;
  dirty_index_ = true;
  return SyncDir(dir_);
}

Status PartitionWriter::WriteIndexes() {
  if (!index_ || !dirty_index_) return Status::OK();
  std::string stem = JoinPath(dir_, SegmentFileStem(seg_base_));
  EVT_RETURN_IF_ERROR(WriteFileAtomic(stem + ".index", index_->OffsetIndexBytes()));
  EVT_RETURN_IF_ERROR(WriteFileAtomic(stem + ".timeindex", index_->TimeIndexBytes()));
  return Status::OK();
}

Status PartitionWriter::CloseSegment() {
  if (!log_) return Status::OK();
  Status s = opts_.fsync == FsyncPolicy::kNever ? log_->Flush() : log_->Sync();
  if (s.ok()) s = log_->Close();
  index_->OnClose();
  dirty_index_ = true;
  if (s.ok()) s = WriteIndexes();
  log_.reset();
  index_.reset();
  return s;
}

Status PartitionWriter::AppendRawBatch(std::string_view bytes, int64_t base_offset, int64_t last_offset,
                                       int64_t max_timestamp) {
  if (base_offset < next_offset_)
    return Status::InvalidArgument(fmt::format("{}: offset {} is below the log end offset {}", dir_, base_offset,
                                               next_offset_));
  bool roll = log_ && log_->size() > 0 &&
              (log_->size() + bytes.size() > opts_.segment_bytes || last_offset - seg_base_ > INT32_MAX ||
               base_offset < seg_base_);
  if (roll) EVT_RETURN_IF_ERROR(CloseSegment());
  if (!log_) EVT_RETURN_IF_ERROR(OpenSegment(base_offset, false));
  index_->OnBatch(log_->size(), last_offset, max_timestamp);
  dirty_index_ = true;
  EVT_RETURN_IF_ERROR(log_->Append(bytes));
  if (opts_.fsync == FsyncPolicy::kBatch) EVT_RETURN_IF_ERROR(log_->Sync());
  next_offset_ = last_offset + 1;
  bytes_written_ += bytes.size();
  return Status::OK();
}

Status PartitionWriter::Append(const RecordBatch& b, size_t begin, size_t end) {
  size_t i = begin;
  while (i < end) {
    if (b.records[i].control) {  // transaction markers cannot be re-encoded as data
      ++i;
      continue;
    }
    // Group records into one batch: same timestamp type (and, for LogAppendTime, the same
    // timestamp), within the record and byte limits, offsets that fit.
    const Record& first = b.records[i];
    if (opts_.keep_offsets && first.offset < 0)
      return Status::InvalidArgument(fmt::format("record without an offset cannot be written with --keep-offsets ({} record {})", b.topic, i));
    size_t j = i;
    size_t bytes = 0;
    while (j < end && j - i < opts_.batch_records && (j == i || bytes < opts_.batch_bytes)) {
      const Record& r = b.records[j];
      if (r.control) break;
      if (r.timestamp_type != first.timestamp_type) break;
      if (first.timestamp_type == TimestampType::kLogAppendTime && r.timestamp != first.timestamp) break;
      if (opts_.keep_offsets && j > i &&
          (r.offset <= b.records[j - 1].offset || r.offset - first.offset > INT32_MAX))
        break;
      bytes += r.key.size + r.value.size + 16;
      const Header* hs = b.HeadersOf(r);
      for (uint32_t h = 0; h < r.header_count; ++h) bytes += hs[h].key.size() + hs[h].value.size + 4;
      ++j;
    }
    int64_t base = opts_.keep_offsets ? first.offset : next_offset_;
    if (opts_.keep_offsets && base < next_offset_)
      return Status::InvalidArgument(fmt::format(
          "{}: record offset {} is below the log end offset {} (is it already written? write to an empty partition or drop --keep-offsets)",
          dir_, base, next_offset_));
    scratch_.clear();
    BatchInfo info;
    EVT_RETURN_IF_ERROR(kafka::EncodeBatch(b, i, j, base, opts_.keep_offsets, opts_.encode, &scratch_, &info));
    EVT_RETURN_IF_ERROR(AppendRawBatch(scratch_, base, info.last_offset(), info.max_timestamp));
    records_written_ += j - i;
    i = j;
  }
  return Status::OK();
}

Status PartitionWriter::Flush() {
  if (!log_) return Status::OK();
  EVT_RETURN_IF_ERROR(opts_.fsync == FsyncPolicy::kNever ? log_->Flush() : log_->Sync());
  return WriteIndexes();
}

Status PartitionWriter::Close() {
  Status s = CloseSegment();
  lock_.reset();
  return s;
}

// ---------------------------------------------------------------- SegmentDirSink
SegmentDirSink::SegmentDirSink(std::string dir, bool fixed_partition_dir, WriterOptions opts, Reporter* reporter)
    : dir_(std::move(dir)), fixed_(fixed_partition_dir), opts_(opts), reporter_(reporter) {}

SegmentDirSink::~SegmentDirSink() { (void)Close(); }

Result<PartitionWriter*> SegmentDirSink::WriterFor(const std::string& topic, int32_t partition) {
  auto key = fixed_ ? std::make_pair(std::string(), 0) : std::make_pair(topic, partition);
  auto it = writers_.find(key);
  if (it != writers_.end()) return it->second.get();
  std::string path;
  if (fixed_) {
    path = dir_;
  } else {
    if (topic.empty() || partition < 0)
      return Status::InvalidArgument(fmt::format(
          "{}: records carry no topic/partition; write to a partition directory named <topic>-<N>", dir_));
    // The name becomes a directory under dir_: never one that leaves it, or that the file
    // system would cut short at a NUL byte, whatever an envelope says.
    if (topic.find_first_of(std::string_view("/\0", 2)) != std::string::npos || topic == "." || topic == "..")
      return Status::InvalidArgument(fmt::format("topic name '{}' cannot be a directory name", topic));
    path = JoinPath(dir_, fmt::format("{}-{}", topic, partition));
  }
  // Bound open files and buffers: close the oldest writers beyond 64.
  if (writers_.size() >= 64) {
    EVT_RETURN_IF_ERROR(writers_.begin()->second->Close());
    writers_.erase(writers_.begin());
  }
  auto w = PartitionWriter::Open(path, opts_, reporter_);
  if (!w.ok()) return w.status();
  PartitionWriter* p = w->get();
  writers_[key] = std::move(*w);
  return p;
}

Status SegmentDirSink::Write(const RecordBatch& batch) {
  if (batch.records.empty()) return Status::OK();
  auto w = WriterFor(batch.topic, batch.partition);
  if (!w.ok()) return w.status();
  uint64_t before = (*w)->records_written();
  Status s = (*w)->Append(batch, 0, batch.records.size());
  records_ += (*w)->records_written() - before;
  ends_[(*w)->dir()] = (*w)->next_offset();
  return s;
}

Result<std::vector<std::string>> SegmentDirSink::PartitionDirs() const {
  if (fixed_) return std::vector<std::string>{dir_};
  return ListPartitionSubdirs(dir_);
}

Status SegmentDirSink::Commit(SinkPosition* at) {
  *at = SinkPosition{};
  EVT_RETURN_IF_ERROR(Flush());
  if (!scanned_) {
    auto dirs = PartitionDirs();
    if (!dirs.ok()) return dirs.status();
    for (const auto& d : *dirs) {
      if (ends_.count(d)) continue;
      auto n = PartitionNextOffset(d);
      if (!n.ok()) return n.status();
      ends_[d] = *n;
    }
    scanned_ = true;
  }
  at->ends = ends_;
  return Status::OK();
}

Status SegmentDirSink::Rewind(const SinkPosition& at, std::string_view provenance_id, RewindResult* r) {
  (void)provenance_id;
  *r = RewindResult{};
  if (!writers_.empty()) return Status::InvalidArgument("SegmentDirSink::Rewind after the first Write");
  auto dirs = PartitionDirs();
  if (!dirs.ok()) return dirs.status();
  for (const auto& d : *dirs) {
    auto it = at.ends.find(d);
    int64_t end = it == at.ends.end() ? 0 : it->second;
    uint64_t removed = 0;
    EVT_RETURN_IF_ERROR(TruncatePartitionTo(d, end, &removed));
    r->removed += removed;
    ends_[d] = end;
  }
  scanned_ = true;
  return Status::OK();
}

Status SegmentDirSink::Flush() {
  for (auto& [k, w] : writers_) EVT_RETURN_IF_ERROR(w->Flush());
  return Status::OK();
}

Status SegmentDirSink::Close() {
  Status first;
  for (auto& [k, w] : writers_) {
    Status s = w->Close();
    if (first.ok() && !s.ok()) first = s;
  }
  writers_.clear();
  closed_ = first.ok();
  return first;
}

}  // namespace evt
