#include "lib/log/segment.h"

#include "lib/log/segment_index.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>

#include "lib/base/coding.h"

namespace evt {

bool ParsePartitionDirName(const std::string& name, std::string* topic, int32_t* partition) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= name.size()) return false;
  int32_t p = 0;
  const char* b = name.data() + dash + 1;
  const char* e = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(b, e, p);
  if (ec != std::errc() || ptr != e || p < 0) return false;
  *topic = name.substr(0, dash);
  *partition = p;
  return true;
}

Result<std::vector<std::string>> ListPartitionSubdirs(const std::string& dir) {
  std::vector<std::string> dirs;
  if (!IsDirectory(dir)) return dirs;
  auto entries = ListDir(dir);
  if (!entries.ok()) return entries.status();
  for (const auto& e : *entries) {
    std::string t;
    int32_t p;
    if (e.is_dir && ParsePartitionDirName(e.name, &t, &p)) dirs.push_back(JoinPath(dir, e.name));
  }
  return dirs;
}

std::string SegmentFileStem(int64_t base_offset) { return fmt::format("{:020d}", base_offset); }

bool ParseSegmentFileName(const std::string& name, const char* suffix, int64_t* base) {
  size_t sl = std::char_traits<char>::length(suffix);
  if (name.size() != kafka::kSegmentNameDigits + sl || name.compare(kafka::kSegmentNameDigits, sl, suffix) != 0)
    return false;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + kafka::kSegmentNameDigits, *base);
  return ec == std::errc() && ptr == name.data() + kafka::kSegmentNameDigits && *base >= 0;
}

Result<int64_t> SegmentNextOffset(const std::string& log_path, int64_t base_offset) {
  auto mf = MappedFile::Open(log_path);
  if (!mf.ok()) return mf.status();
  int64_t next = -1, max_ts = -1;
  WalkHeaders(mf->get(), 0, &next, &max_ts);  // readers report a bad batch when they get there
  return next < 0 ? base_offset + 1 : std::max(next, base_offset + 1);
}

namespace {

bool ParseSegmentName(const std::string& name, int64_t* base) { return ParseSegmentFileName(name, ".log", base); }

bool IsSkippedDir(const std::string& name) {
  auto ends = [&](std::string_view suf) {
    return name.size() >= suf.size() && name.compare(name.size() - suf.size(), suf.size(), suf) == 0;
  };
  return ends("-delete") || ends("-future") || ends("-stray") || (!name.empty() && name[0] == '.');
}

Status Discover(const std::string& dir, int depth, std::vector<PartitionDir>* out) {
  auto entries = ListDir(dir);
  if (!entries.ok()) return entries.status();
  bool has_log = false;
  for (const auto& e : *entries) {
    int64_t b;
    if (e.is_file && (ParseSegmentName(e.name, &b) || ParseSegmentFileName(e.name, ".log.swap", &b))) has_log = true;
  }
  if (has_log) {
    auto p = ScanPartitionDir(dir);
    if (!p.ok()) return p.status();
    out->push_back(std::move(*p));
    return Status::OK();
  }
  if (depth <= 0) return Status::OK();
  // Partition dirs sort by topic, then numerically by partition.
  std::vector<std::pair<std::pair<std::string, int32_t>, std::string>> subdirs;
  for (const auto& e : *entries) {
    if (!e.is_dir || IsSkippedDir(e.name)) continue;
    std::string topic;
    int32_t part = -1;
    if (!ParsePartitionDirName(e.name, &topic, &part)) topic = e.name;
    subdirs.push_back({{topic, part}, e.name});
  }
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& s : subdirs) EVT_RETURN_IF_ERROR(Discover(JoinPath(dir, s.second), depth - 1, out));
  return Status::OK();
}

}  // namespace

Result<PartitionDir> ScanPartitionDir(const std::string& dir) {
  PartitionDir pd;
  pd.path = dir;
  std::string name = RealBasename(dir);
  if (!ParsePartitionDirName(name, &pd.topic, &pd.partition)) {
    pd.topic = name;
    pd.partition = 0;
  }
  auto entries = ListDir(dir);
  if (!entries.ok()) return entries.status();
  for (const auto& e : *entries) {
    int64_t base;
    if (!e.is_file || !ParseSegmentName(e.name, &base)) continue;
    SegmentFile sf;
    sf.base_offset = base;
    sf.log_path = JoinPath(dir, e.name);
    std::string stem = e.name.substr(0, kafka::kSegmentNameDigits);
    sf.index_path = JoinPath(dir, stem + ".index");
    sf.timeindex_path = JoinPath(dir, stem + ".timeindex");
    sf.size = e.size;
    pd.segments.push_back(std::move(sf));
  }
  // An interrupted compaction: each `<base>.log.swap` replaces the segments whose base
  // offset lies in [base, next offset of the swap), as Kafka's recovery does.
  for (const auto& e : *entries) {
    int64_t base;
    if (!e.is_file || !ParseSegmentFileName(e.name, ".log.swap", &base)) continue;
    SegmentFile sf;
    sf.base_offset = base;
    sf.log_path = JoinPath(dir, e.name);
    sf.size = e.size;  // no index paths: the old segment's indexes do not describe it
    auto next = SegmentNextOffset(sf.log_path, base);
    if (!next.ok()) return next.status();
    pd.segments.erase(std::remove_if(pd.segments.begin(), pd.segments.end(),
                                     [&](const SegmentFile& o) {
                                       return !o.log_path.empty() && o.base_offset >= base &&
                                              o.base_offset < *next && o.log_path != sf.log_path;
                                     }),
                      pd.segments.end());
    pd.segments.push_back(std::move(sf));
    pd.interrupted_compaction = true;
  }
  std::sort(pd.segments.begin(), pd.segments.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.base_offset < b.base_offset; });
  return pd;
}

Result<std::vector<PartitionDir>> DiscoverPartitions(const std::string& path) {
  std::vector<PartitionDir> out;
  if (IsRegularFile(path)) {
    int64_t base;
    std::string name = Basename(path);
    if (!ParseSegmentName(name, &base)) {
      // Any file can be read as a segment; its base offset is irrelevant for reading.
      base = 0;
    }
    PartitionDir pd;
    pd.path = Dirname(path);
    if (!ParsePartitionDirName(RealBasename(pd.path), &pd.topic, &pd.partition)) {
      pd.topic = RealBasename(pd.path);
      pd.partition = 0;
    }
    SegmentFile sf;
    sf.base_offset = base;
    sf.log_path = path;
    std::string stem = name.size() > 4 ? name.substr(0, name.size() - 4) : name;
    sf.index_path = JoinPath(pd.path, stem + ".index");
    sf.timeindex_path = JoinPath(pd.path, stem + ".timeindex");
    auto entries = ListDir(pd.path);
    if (entries.ok())
      for (const auto& e : *entries)
        if (e.name == name) sf.size = e.size;
    pd.segments.push_back(sf);
    out.push_back(std::move(pd));
    return out;
  }
  if (!IsDirectory(path)) {
    if (!PathExists(path)) return Status::NotFound(fmt::format("{}: no such file or directory", path));
    return Status::InvalidArgument(fmt::format("{}: not a file or directory", path));
  }
  EVT_RETURN_IF_ERROR(Discover(path, 4, &out));
  if (out.empty())
    return Status::NotFound(fmt::format("{}: no segment files (<20-digit offset>.log) found", path));
  return out;
}

// ---------------------------------------------------------------- reading
struct SegmentSource::State {
  std::vector<PartitionDir> parts;
  ReadOptions opts;
  Reporter* reporter;
  size_t part = 0;
  size_t seg = 0;
  bool part_started = false;
  bool part_done = false;
  std::unique_ptr<MappedFile> file;
  // Finished segments whose bytes the records last returned may still point into, with
  // the call that retired them; kept mapped for ReadOptions::hold calls.
  std::deque<std::pair<std::unique_ptr<MappedFile>, uint64_t>> retired;
  uint64_t calls = 0;
  kafka::EntryWalker walker;  // over `file`; pos() is where the next entry starts
  uint64_t released = 0;  // bytes of `file` handed back with Release()
  uint64_t mark = 0;      // pos of `file` when the previous call started (hold >= 2)
  // Resolved per-partition bounds.
  int64_t start_offset = 0;  // records below are skipped
  int64_t start_time = -1;   // kTime: first record with ts >= this starts the range
  bool started = true;       // for time starts: whether the start record was found
  int64_t stop_offset = INT64_MAX;
  int64_t stop_time = INT64_MAX;
  bool stop_at_time = false;
  int64_t prev_last = -1;  // last offset of the partition's previous batch
};

SegmentSource::SegmentSource(std::vector<PartitionDir> parts, ReadOptions opts, Reporter* reporter)
    : s_(new State) {
  s_->parts = std::move(parts);
  s_->opts = opts;
  s_->reporter = reporter;
}
SegmentSource::~SegmentSource() = default;

std::string SegmentSource::Describe() const {
  if (s_->parts.size() == 1) return s_->parts[0].path;
  return fmt::format("{} partitions", s_->parts.size());
}

std::vector<std::unique_ptr<Source>> SegmentSource::PerPartition(const std::vector<PartitionDir>& parts,
                                                                 const ReadOptions& opts, Reporter* reporter) {
  std::vector<std::unique_ptr<Source>> out;
  for (const auto& p : parts) out.push_back(std::make_unique<SegmentSource>(std::vector<PartitionDir>{p}, opts, reporter));
  return out;
}

namespace {

// End offset (last offset + 1) of a partition, reading only batch headers of its last
// non-empty segment.
int64_t PartitionEndOffset(const PartitionDir& pd) {
  for (auto it = pd.segments.rbegin(); it != pd.segments.rend(); ++it) {
    auto f = MappedFile::Open(it->log_path);
    if (!f.ok()) continue;
    std::string_view data = (*f)->data();
    int64_t end = -1;
    for (kafka::EntryWalker w(data); !w.done() && w.ok(); w.Next()) end = w.entry().last_offset() + 1;
    if (end >= 0) return end;
  }
  return pd.segments.empty() ? 0 : pd.segments.front().base_offset;
}

}  // namespace

std::string BatchOffsetProblem(const PartitionDir& pd, size_t seg, int64_t prev_last, int64_t base, int64_t last) {
  const SegmentFile& sf = pd.segments[seg];
  if (base <= prev_last) return fmt::format("offset {} is not above the previous batch's last offset {}", base, prev_last);
  if (base < sf.base_offset)
    return fmt::format("offset {} is below the segment's base offset {} (from its file name)", base, sf.base_offset);
  if (last < base || last - sf.base_offset > INT32_MAX)
    return fmt::format("offset {} does not fit a 4-byte offset relative to the segment base {}", last, sf.base_offset);
  if (seg + 1 < pd.segments.size() && last >= pd.segments[seg + 1].base_offset)
    return fmt::format("offset {} reaches into the next segment (base {})", last, pd.segments[seg + 1].base_offset);
  return "";
}

namespace {
// The first position at or after `from` where a whole entry starts that decodes with a good
// CRC and offsets that may follow `prev_last` in segment `seg`; data.size() when none does.
// Used only after corruption, so a byte-by-byte scan is fine.
uint64_t NextGoodEntry(const PartitionDir& pd, size_t seg, std::string_view data, uint64_t from, int64_t prev_last) {
  kafka::DecodeOptions check;
  check.verify_crc = true;
  check.decode_records = false;
  check.include_control = true;
  RecordBatch scratch;
  kafka::EntryWalker w(data);
  for (uint64_t p = from; p + kafka::kLogOverhead <= data.size(); ++p) {
    w.Seek(p);
    if (!w.ok()) continue;
    scratch.Clear();
    if (!kafka::DecodeEntry(w.entry().bytes(), p, check, &scratch).ok() || scratch.batches.empty()) continue;
    const BatchInfo& bi = scratch.batches.front();
    if (BatchOffsetProblem(pd, seg, prev_last, bi.base_offset, scratch.batches.back().last_offset()).empty()) return p;
  }
  return data.size();
}
}  // namespace

Status SegmentSource::Next(RecordBatch* out, bool* eof) {
  State& s = *s_;
  out->Clear();
  const uint64_t call = ++s.calls;
  const uint64_t hold = static_cast<uint64_t>(std::max(1, s.opts.hold));
  while (!s.retired.empty() && s.retired.front().second + hold <= call) s.retired.pop_front();
  // Records of the batches no longer held are gone: release the pages they were read from.
  uint64_t upto = hold >= 2 ? s.mark : s.walker.pos();
  if (s.file && upto > s.released) {
    s.file->Release(s.released, upto - s.released);
    s.released = upto;
  }
  s.mark = s.walker.pos();
  *eof = false;
  kafka::DecodeOptions dopts;
  dopts.verify_crc = s.opts.verify_crc;
  dopts.decode_records = s.opts.decode_records;
  dopts.include_control = s.opts.include_control;
  dopts.max_uncompressed = s.opts.max_batch_bytes;

  while (s.part < s.parts.size()) {
    const PartitionDir& pd = s.parts[s.part];
    if (!s.part_started) {
      s.part_started = true;
      s.part_done = false;
      s.seg = 0;
      s.file.reset();
      s.start_offset = 0;
      s.start_time = -1;
      s.started = true;
      s.stop_offset = INT64_MAX;
      s.stop_at_time = false;
      s.prev_last = -1;
      const Bound& f = s.opts.from;
      const Bound& u = s.opts.until;
      bool need_end = f.kind == Bound::kEnd || f.kind == Bound::kFromEnd || u.kind == Bound::kFromEnd ||
                      u.kind == Bound::kEnd;
      int64_t end = need_end ? PartitionEndOffset(pd) : 0;
      switch (f.kind) {
        case Bound::kOffset: s.start_offset = f.value; break;
        case Bound::kEnd: s.start_offset = end; break;
        case Bound::kFromEnd: s.start_offset = std::max<int64_t>(0, end - f.value); break;
        case Bound::kTime: s.start_time = f.value; s.started = false; break;
        default: break;
      }
      switch (u.kind) {
        case Bound::kOffset: s.stop_offset = u.value; break;
        case Bound::kEnd: s.stop_offset = end; break;
        case Bound::kFromEnd: s.stop_offset = std::max<int64_t>(0, end - u.value); break;
        case Bound::kTime: s.stop_time = u.value; s.stop_at_time = true; break;
        default: break;
      }
      // Skip segments that end before the start offset (the next segment's name says
      // where it starts; names only order segments, so this is a hint we verify below by
      // still checking each record's offset).
      while (s.seg + 1 < pd.segments.size() && pd.segments[s.seg + 1].base_offset <= s.start_offset) ++s.seg;
      out->topic = pd.topic;
      out->partition = pd.partition;
    }
    if (s.part_done || s.seg >= pd.segments.size()) {
      if (!out->records.empty() || !out->batches.empty()) return Status::OK();
      ++s.part;
      s.part_started = false;
      continue;
    }
    const SegmentFile& sf = pd.segments[s.seg];
    if (!s.file) {
      auto f = MappedFile::Open(sf.log_path);
      if (!f.ok()) return f.status();
      s.file = std::move(*f);
      s.file->AdviseSequential();
      s.walker = kafka::EntryWalker(s.file->data());
      // A read from an offset inside the segment starts at the batch its offset index
      // points to (when the index is there and sane), not at the segment's first batch.
      if (s.started && s.start_offset > sf.base_offset)
        s.walker.Seek(IndexedPosition(sf, s.file->data(), s.start_offset));
      s.released = 0;
      s.mark = 0;
    }
    out->topic = pd.topic;
    out->partition = pd.partition;
    out->file = sf.log_path;
    std::string_view data = s.file->data();
    const bool last_segment = s.seg + 1 == pd.segments.size();
    kafka::EntryWalker& w = s.walker;
    while (!w.done()) {
      if (out->records.size() >= s.opts.target_records) return Status::OK();
      if (w.torn() && last_segment) {
        if (s.reporter)
          s.reporter->Warning(sf.log_path, w.pos(),
                              fmt::format("torn tail: {} ({} bytes not read)", w.reason(), w.remaining()));
        w.Seek(data.size());
        break;
      }
      // A bad entry at `at`: the end of the read, or with --on-corruption skip a reported
      // range and the next good batch.
      auto bad = [&](uint64_t at, const std::string& reason) -> Status {
        if (!s.opts.skip_corruption) return Status::Corruption(fmt::format("{}@{}: {}", sf.log_path, at, reason));
        uint64_t next = NextGoodEntry(pd, s.seg, data, at + 1, s.prev_last);
        if (s.reporter)
          s.reporter->Corruption(sf.log_path, at, next - at,
                                 fmt::format("{}; skipped {} bytes{}", reason, next - at,
                                             next < data.size() ? fmt::format(" to the next good batch at {}", next)
                                                                : " to the end of the segment"));
        w.Seek(next);
        return Status::OK();
      };
      if (!w.ok()) {
        EVT_RETURN_IF_ERROR(bad(w.pos(), w.reason()));
        continue;
      }
      const kafka::EntryView e = w.entry();  // a copy: the walker moves on before it is decoded
      const uint64_t entry_pos = w.pos();
      // The partition's last offset moves on only past a batch that is whole: checked by its
      // CRC when decoded, or skipped unread (outside the range) on its header's word.
      int64_t entry_last = s.prev_last;
      auto offset_problem = [&](int64_t base, int64_t last) {
        std::string problem = BatchOffsetProblem(pd, s.seg, entry_last, base, last);
        if (problem.empty()) entry_last = last;
        return problem;
      };
      // Cheap skips from the v2 header, without decoding, for batches outside the range.
      const bool v2 = e.is_v2();
      if (v2) {
        if (std::string problem = offset_problem(e.base_offset(), e.last_offset()); !problem.empty()) {
          EVT_RETURN_IF_ERROR(bad(entry_pos, problem));
          continue;
        }
      }
      w.Next();
      if (v2) {
        int64_t last = entry_last;
        int64_t max_ts = e.max_timestamp();
        bool skip = last < s.start_offset || (!s.started && max_ts < s.start_time && last >= s.start_offset);
        if (skip) {
          s.prev_last = last;
          continue;
        }
        if (e.base_offset() >= s.stop_offset) {
          s.part_done = true;
          break;
        }
      }
      size_t first_rec = out->records.size();
      size_t first_batch = out->batches.size();
      Status st2 = kafka::DecodeEntry(e.bytes(), entry_pos, dopts, out);
      std::string problem = st2.ok() ? "" : st2.message();
      for (size_t b = first_batch; problem.empty() && b < out->batches.size(); ++b) {
        out->batches[b].position = entry_pos;
        if (!v2) problem = offset_problem(out->batches[b].base_offset, out->batches[b].last_offset());
      }
      if (!problem.empty()) {
        if (!s.opts.skip_corruption && !st2.ok()) return st2.WithContext(fmt::format("{}@{}", sf.log_path, entry_pos));
        out->records.resize(first_rec);  // nothing of a bad entry is returned
        out->batches.resize(first_batch);
        EVT_RETURN_IF_ERROR(bad(entry_pos, problem));
        continue;
      }
      s.prev_last = entry_last;
      // Apply bounds record by record.
      size_t w = first_rec;
      for (size_t i = first_rec; i < out->records.size(); ++i) {
        Record& r = out->records[i];
        r.partition = pd.partition;
        if (r.offset < s.start_offset) continue;
        if (r.offset >= s.stop_offset || (s.stop_at_time && !r.control && r.timestamp >= s.stop_time)) {
          s.part_done = true;
          break;
        }
        if (!s.started) {
          if (r.control || r.timestamp < s.start_time) continue;
          s.started = true;
        }
        out->records[w++] = r;
      }
      out->records.resize(w);
      if (s.part_done) return Status::OK();
    }
    // End of this segment file. Records returned may point into its mapping: keep it
    // while they are held, and never mix two files in one batch (diagnostics name one).
    s.retired.emplace_back(std::move(s.file), call);
    ++s.seg;
    if (!out->records.empty() || !out->batches.empty()) return Status::OK();
    // Nothing of this call points into it; earlier batches still held may.
    if (hold == 1) s.retired.pop_back();
  }
  *eof = out->records.empty() && out->batches.empty();
  return Status::OK();
}

// ---------------------------------------------------------------- merge by time
namespace {

class MergeSource : public Source {
 public:
  explicit MergeSource(std::vector<std::unique_ptr<Source>> srcs) : srcs_(std::move(srcs)) {
    heads_.resize(srcs_.size());
  }
  std::string Describe() const override { return fmt::format("{} sources merged by time", srcs_.size()); }

  Status Next(RecordBatch* out, bool* eof) override {
    out->Clear();
    *eof = false;
    // Make sure every live source has a current record.
    for (size_t i = 0; i < srcs_.size(); ++i) EVT_RETURN_IF_ERROR(Fill(i));
    int best = -1;
    for (size_t i = 0; i < srcs_.size(); ++i) {
      if (heads_[i].done) continue;
      if (best < 0 || Ts(i) < Ts(static_cast<size_t>(best))) best = static_cast<int>(i);
    }
    if (best < 0) {
      *eof = true;
      return Status::OK();
    }
    // Emit the run of records from `best` that are not later than any other head.
    int64_t limit = INT64_MAX;
    for (size_t i = 0; i < srcs_.size(); ++i)
      if (!heads_[i].done && static_cast<int>(i) != best) limit = std::min(limit, Ts(i) + (i < static_cast<size_t>(best) ? 0 : 1));
    Head& h = heads_[best];
    out->topic = h.batch.topic;
    out->partition = h.batch.partition;
    out->file = h.batch.file;
    while (h.idx < h.batch.records.size() && (out->records.empty() || h.batch.records[h.idx].timestamp < limit)) {
      const Record& r = h.batch.records[h.idx++];
      Record c = r;
      c.header_begin = static_cast<uint32_t>(out->headers.size());
      const Header* hs = h.batch.HeadersOf(r);
      out->headers.insert(out->headers.end(), hs, hs + r.header_count);
      out->records.push_back(c);
      if (out->records.size() >= 4096) break;
    }
    return Status::OK();
  }

 private:
  struct Head {
    RecordBatch batch;
    size_t idx = 0;
    bool done = false;
  };
  int64_t Ts(size_t i) const { return heads_[i].batch.records[heads_[i].idx].timestamp; }
  Status Fill(size_t i) {
    Head& h = heads_[i];
    while (!h.done && h.idx >= h.batch.records.size()) {
      bool eof = false;
      EVT_RETURN_IF_ERROR(srcs_[i]->Next(&h.batch, &eof));
      h.idx = 0;
      if (eof) h.done = true;
    }
    return Status::OK();
  }
  std::vector<std::unique_ptr<Source>> srcs_;
  std::vector<Head> heads_;
};

}  // namespace

std::unique_ptr<Source> MergeByTime(std::vector<std::unique_ptr<Source>> sources) {
  return std::make_unique<MergeSource>(std::move(sources));
}

// ---------------------------------------------------------------- indexes
void IndexBuilder::MaybeAppendTime(int64_t ts, int64_t offset) {
  int64_t last_ts = times_.empty() ? -1 : times_.back().timestamp;
  if (ts > last_ts) times_.push_back({ts, static_cast<int32_t>(offset - base_)});
}

void IndexBuilder::OnBatch(uint64_t pos, int64_t last_offset, int64_t max_timestamp) {
  if (max_timestamp > max_ts_) {
    max_ts_ = max_timestamp;
    max_ts_offset_ = last_offset;
  }
  if (pos - last_index_pos_ > static_cast<uint64_t>(kafka::kIndexIntervalBytes)) {
    int32_t rel = static_cast<int32_t>(last_offset - base_);
    if (offsets_.empty() || rel > offsets_.back().relative_offset)
      offsets_.push_back({rel, static_cast<int32_t>(pos)});
    if (max_ts_offset_ >= 0) MaybeAppendTime(max_ts_, max_ts_offset_);
    last_index_pos_ = pos;
  }
}

void IndexBuilder::OnClose() {
  if (max_ts_offset_ >= 0) MaybeAppendTime(max_ts_, max_ts_offset_);
}

std::string IndexBuilder::OffsetIndexBytes() const {
  std::string s;
  s.reserve(offsets_.size() * kafka::kOffsetIndexEntrySize);
  for (const auto& e : offsets_) {
    PutFixed32BE(&s, static_cast<uint32_t>(e.relative_offset));
    PutFixed32BE(&s, static_cast<uint32_t>(e.position));
  }
  return s;
}

std::string IndexBuilder::TimeIndexBytes() const {
  std::string s;
  s.reserve(times_.size() * kafka::kTimeIndexEntrySize);
  for (const auto& e : times_) {
    PutFixed64BE(&s, static_cast<uint64_t>(e.timestamp));
    PutFixed32BE(&s, static_cast<uint32_t>(e.relative_offset));
  }
  return s;
}

}  // namespace evt
