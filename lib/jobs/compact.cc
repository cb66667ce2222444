#include "lib/jobs/compact.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "formats/envelope/envelope.h"
#include "formats/kafka/batch.h"
#include "lib/base/coding.h"
#include "lib/base/file.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"
#include "lib/log/segment.h"
#include "lib/log/partition_dir.h"
#include "lib/log/segment_writer.h"

namespace evt {

namespace {

std::string Stem(const std::string& log_path) { return log_path.substr(0, log_path.size() - 4); }

// Test hook: EVT_COMPACT_KILL_AT_STEP=N sends SIGKILL to this process at the N-th step of the
// replacement protocol (1-based), so every crash state can be produced on purpose.
void CrashPoint() {
  static int target = [] {
    const char* v = std::getenv("EVT_COMPACT_KILL_AT_STEP");
    return v ? std::atoi(v) : 0;
  }();
  static int step = 0;
  if (target > 0 && ++step == target) ::kill(::getpid(), SIGKILL);
}

int64_t FileMtimeMs(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

Status SetMtimeMs(const std::string& path, int64_t ms) {
  struct timespec ts[2];
  ts[0].tv_sec = 0;
  ts[0].tv_nsec = UTIME_OMIT;
  ts[1].tv_sec = ms / 1000;
  ts[1].tv_nsec = (ms % 1000) * 1000000;
  if (::utimensat(AT_FDCWD, path.c_str(), ts, 0) != 0)
    return Status::IOError(fmt::format("{}: cannot set its modification time: {}", path, std::strerror(errno)));
  return Status::OK();
}

// Walks the entries of one segment. `fn(raw, pos, batch)` gets each entry's bytes and its
// decoded form (records only when `decode` says so); `skip(entry)` may drop an entry from
// its header alone. A torn tail of the newest segment ends the walk with a warning; anywhere
// else it is corruption.
struct NoSkip {
  bool operator()(const kafka::EntryView&) const { return false; }
};

template <typename Fn, typename Skip = NoSkip>
Status WalkSegment(const SegmentFile& sf, bool newest, bool decode_v2, Reporter* reporter, RecordBatch* b, Fn&& fn,
                   Skip&& skip = Skip()) {
  auto mf = MappedFile::Open(sf.log_path);
  if (!mf.ok()) return mf.status();
  (*mf)->AdviseSequential();
  std::string_view data = (*mf)->data();
  uint64_t released = 0;
  kafka::DecodeOptions dopts;
  for (kafka::EntryWalker w(data); !w.done(); w.Next()) {
    if (InterruptRequested()) return Status::Interrupted();
    const uint64_t pos = w.pos();
    if (w.torn() && newest) {
      reporter->Warning(sf.log_path, pos, fmt::format("torn tail ({} bytes) ignored", w.remaining()));
      break;
    }
    if (!w.ok())
      return Status::Corruption(w.torn() ? "entry cut off before the end of a closed segment" : w.reason())
          .WithContext(fmt::format("{}@{}", sf.log_path, pos));
    const kafka::EntryView& e = w.entry();
    if (skip(e)) continue;  // a batch known to go entirely: not even decoded
    bool control = e.is_v2() && e.is_control();
    dopts.decode_records = decode_v2 || e.magic() < 2 || control;
    dopts.include_control = true;
    b->Clear();
    Status s = kafka::DecodeEntry(e.bytes(), pos, dopts, b);
    if (!s.ok()) return s.WithContext(fmt::format("{}@{}", sf.log_path, pos));
    EVT_RETURN_IF_ERROR(fn(e.bytes(), pos, *b));
    if (w.next_pos() - released > (16u << 20)) {
      (*mf)->Release(released, w.next_pos() - released);
      released = w.next_pos();
    }
  }
  return Status::OK();
}

// The key map: xxh3-128 of the key -> latest offset, open addressing with linear probing.
// 24 bytes a slot. It grows while old and new tables together fit the budget (so growing
// never needs more than --max-memory) and is full at 90% of the largest size it can reach
// (Kafka's dedupe buffer load factor).
class KeyMap {
 public:
  explicit KeyMap(uint64_t max_bytes) : max_slots_(std::max<uint64_t>(max_bytes / sizeof(Slot), 1024)) {
    Resize(std::min<uint64_t>(max_slots_, 1u << 16));
  }
  void Clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    size_ = 0;
  }
  uint64_t size() const { return size_; }
  // True if `n` more keys surely fit.
  bool Fits(uint64_t n) const { return size_ + n <= FinalSlots() * 9 / 10; }
  // Sets the key's latest offset; returns the previous one (-1: a new key).
  int64_t Put(XXH128_hash_t h, int64_t offset) {
    if ((size_ + 1) * 10 > slots_.size() * 9) {
      uint64_t next = NextSize(slots_.size());
      if (next > slots_.size()) Resize(next);
    }
    Slot* s = Find(h);
    if (s->offset_plus_1 == 0) {
      ++size_;
      s->lo = h.low64;
      s->hi = h.high64;
    }
    int64_t old = s->offset_plus_1 - 1;
    s->offset_plus_1 = offset + 1;
    return old;
  }
  int64_t Get(XXH128_hash_t h) const {
    const Slot* s = const_cast<KeyMap*>(this)->Find(h);
    return s->offset_plus_1 - 1;
  }
  uint64_t bytes() const { return slots_.size() * sizeof(Slot); }

 private:
  struct Slot {
    uint64_t lo = 0, hi = 0;
    int64_t offset_plus_1 = 0;  // 0: empty
  };
  Slot* Find(XXH128_hash_t h) {
    uint64_t n = slots_.size();
    uint64_t i = static_cast<uint64_t>((static_cast<unsigned __int128>(h.low64) * n) >> 64);
    for (;;) {
      Slot& s = slots_[i];
      if (s.offset_plus_1 == 0 || (s.lo == h.low64 && s.hi == h.high64)) return &s;
      if (++i == n) i = 0;
    }
  }
  void Resize(uint64_t n) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(n, Slot{});
    size_ = 0;
    for (const Slot& s : old)
      if (s.offset_plus_1 != 0) {
        Slot* d = Find(XXH128_hash_t{s.lo, s.hi});
        *d = s;
        ++size_;
      }
  }
  // Doubling, but old + new within the budget.
  uint64_t NextSize(uint64_t n) const { return std::min(2 * n, max_slots_ > n ? max_slots_ - n : 0); }
  uint64_t FinalSlots() const {
    uint64_t n = slots_.size();
    for (uint64_t next = NextSize(n); next > n; next = NextSize(n)) n = next;
    return n;
  }
  uint64_t max_slots_;
  std::vector<Slot> slots_;
  uint64_t size_ = 0;
};

XXH128_hash_t HashKey(const Bytes& k) { return XXH3_128bits(k.data ? k.data : "", k.size); }

enum ControlType { kAbort = 0, kCommit = 1, kOtherControl = -1 };
ControlType ControlTypeOf(const RecordBatch& b) {
  if (b.records.empty()) return kOtherControl;
  const Bytes& k = b.records[0].key;
  if (k.null() || k.size < 4) return kOtherControl;
  int16_t type = static_cast<int16_t>(DecodeFixed16BE(reinterpret_cast<const uint8_t*>(k.data) + 2));
  return type == 0 ? kAbort : type == 1 ? kCommit : kOtherControl;
}

struct SegInfo {
  int64_t first_offset = -1;  // -1: no batches
  int64_t last_offset = -1;
  int64_t max_timestamp = -1;
  uint64_t records = 0;
  int64_t mtime_ms = 0;
  int64_t min_horizon = INT64_MAX;  // earliest delete horizon of its batches
};

// What a scan of batch headers (and control batches) of the whole partition tells.
struct LogFacts {
  std::vector<SegInfo> segs;
  uint64_t records = 0;
  int64_t log_end = 0;  // next offset
  // Per producer: the last offset of its last data batch (Kafka keeps that batch).
  std::unordered_map<int64_t, int64_t> last_data;
  // Per producer: aborted transactions [first offset, marker offset].
  std::unordered_map<int64_t, std::vector<std::pair<int64_t, int64_t>>> aborted;
  int64_t first_unstable = INT64_MAX;  // first offset of a transaction without a marker
};

Status ScanFacts(const PartitionDir& pd, Reporter* reporter, LogFacts* f) {
  RecordBatch b;
  std::unordered_map<int64_t, int64_t> open;  // producer -> first offset of its open transaction
  f->segs.assign(pd.segments.size(), SegInfo{});
  for (size_t i = 0; i < pd.segments.size(); ++i) {
    SegInfo& si = f->segs[i];
    si.mtime_ms = FileMtimeMs(pd.segments[i].log_path);
    EVT_RETURN_IF_ERROR(WalkSegment(
        pd.segments[i], i + 1 == pd.segments.size(), false, reporter, &b,
        [&](std::string_view, uint64_t, const RecordBatch& rb) -> Status {
          for (const BatchInfo& bi : rb.batches) {
            int64_t first = bi.magic < 2 && !rb.records.empty() ? rb.records.front().offset : bi.base_offset;
            int64_t last = bi.magic < 2 && !rb.records.empty() ? rb.records.back().offset : bi.last_offset();
            if (si.first_offset < 0) si.first_offset = first;
            si.last_offset = std::max(si.last_offset, last);
            si.max_timestamp = std::max(si.max_timestamp, bi.max_timestamp);
            f->log_end = std::max(f->log_end, last + 1);
            if (bi.has_delete_horizon) si.min_horizon = std::min(si.min_horizon, bi.first_timestamp);
            if (bi.control) {
              if (bi.producer_id >= 0) {
                auto it = open.find(bi.producer_id);
                if (ControlTypeOf(rb) == kAbort)
                  f->aborted[bi.producer_id].push_back({it != open.end() ? it->second : bi.base_offset, last});
                if (it != open.end()) open.erase(it);
              }
              continue;
            }
            uint64_t n = bi.magic < 2 ? rb.records.size() : static_cast<uint64_t>(bi.record_count);
            si.records += n;
            f->records += n;
            if (bi.producer_id >= 0) {
              f->last_data[bi.producer_id] = last;
              if (bi.transactional) open.emplace(bi.producer_id, first);
            }
          }
          return Status::OK();
        }));
  }
  for (const auto& [pid, first] : open) f->first_unstable = std::min(f->first_unstable, first);
  return Status::OK();
}

bool IsAborted(const LogFacts& f, int64_t pid, int64_t offset) {
  auto it = f.aborted.find(pid);
  if (it == f.aborted.end()) return false;
  for (const auto& [first, marker] : it->second)
    if (offset >= first && offset <= marker) return true;
  return false;
}

const char kCheckpointName[] = ".evt-cleaner-offset-checkpoint";

// The cleaner checkpoint, in the format of Kafka's cleaner-offset-checkpoint (version 0,
// one entry): "0\n1\n<topic> <partition> <offset>\n". -1 when absent or unreadable.
int64_t ReadCheckpoint(const std::string& dir) {
  auto s = ReadFileToString(JoinPath(dir, kCheckpointName));
  if (!s.ok()) return -1;
  size_t nl = s->rfind('\n', s->size() > 1 ? s->size() - 2 : 0);
  std::string last = s->substr(nl == std::string::npos ? 0 : nl + 1);
  size_t sp = last.rfind(' ');
  if (sp == std::string::npos) return -1;
  char* end = nullptr;
  long long v = std::strtoll(last.c_str() + sp + 1, &end, 10);
  return v >= 0 ? v : -1;
}

Status WriteCheckpoint(const PartitionDir& pd, int64_t offset) {
  return WriteFileAtomic(JoinPath(pd.path, kCheckpointName),
                         fmt::format("0\n1\n{} {} {}\n", pd.topic, pd.partition, offset));
}

// Output of one group: the cleaned segment being written (or only measured, dry-run).
struct GroupOut {
  std::unique_ptr<WritableFile> file;
  std::unique_ptr<IndexBuilder> index;
  uint64_t size = 0;
  Status Append(std::string_view bytes, int64_t last_offset, int64_t max_ts) {
    if (index) index->OnBatch(size, last_offset, max_ts);
    size += bytes.size();
    if (file) return file->Append(bytes);
    return Status::OK();
  }
};

class Cleaner {
 public:
  // 7/8 of --max-memory for the key map, 1/8 for the batch liveness arrays.
  Cleaner(const CompactOptions& o, int64_t now, Reporter* r)
      : o_(o), now_(now), reporter_(r), map_(o.max_memory / 8 * 7) {}
  Status Run(const PartitionDir& pd0, CompactPartition* cp);

 private:
  Status BuildMap(const PartitionDir& pd, size_t dirty_seg, size_t end_seg, int64_t first_dirty, int64_t clean_end,
                  bool first_pass, int64_t* map_end, CompactPartition* cp);
  Status CleanGroup(const PartitionDir& pd, size_t g0, size_t g1, int64_t map_end, CompactPartition* cp);
  Status CleanEntry(std::string_view raw, const RecordBatch& b, int64_t map_end, int64_t seg_mtime, GroupOut* out,
                    CompactPartition* cp);
  Status Replace(const PartitionDir& pd, size_t g0, size_t g1, const std::string& base_stem);

  const CompactOptions& o_;
  int64_t now_;
  Reporter* reporter_;
  KeyMap map_;
  LogFacts facts_;
  // Transaction state of one cleaning (Kafka's CleanedTransactionMetadata).
  std::unordered_map<int64_t, bool> aborted_seen_;  // producer -> batches of its aborted txn seen
  std::unordered_set<int64_t> committed_open_;
  RecordBatch kept_;
  std::string scratch_;
  uint64_t removed_ = 0;
  // Batches of this pass's map range (v2): first offset, how many of their records are
  // the latest of their key, and whether they must be decoded anyway (null keys, control,
  // transactional or producer batches). A batch with no latest record and no such reason
  // goes without being decoded again. Bounded: tracking stops past max_memory / 8.
  bool track_ = true;
  std::vector<int64_t> batch_first_;
  std::vector<uint32_t> batch_live_;
  std::vector<uint8_t> batch_must_;
  size_t BatchOf(int64_t offset) const {
    auto it = std::upper_bound(batch_first_.begin(), batch_first_.end(), offset);
    return static_cast<size_t>(it - batch_first_.begin()) - 1;  // callers know it exists
  }
};

Status Cleaner::BuildMap(const PartitionDir& pd, size_t dirty_seg, size_t end_seg, int64_t first_dirty,
                         int64_t clean_end, bool first_pass, int64_t* map_end, CompactPartition* cp) {
  // On the first pass, with --null-keys error, the whole dirty part is read for null keys
  // before anything is written, even past where the map fills.
  const bool count_only_after_full = first_pass && o_.null_keys == NullKeyPolicy::kError;
  map_.Clear();
  *map_end = clean_end;
  bool full = false;
  track_ = true;
  batch_first_.clear();
  batch_live_.clear();
  batch_must_.clear();
  const size_t max_tracked = o_.max_memory / 8 / (sizeof(int64_t) + sizeof(uint32_t) + 1);
  RecordBatch b;
  for (size_t i = dirty_seg; i < end_seg; ++i) {
    if (full && !count_only_after_full) break;
    EVT_RETURN_IF_ERROR(WalkSegment(
        pd.segments[i], i + 1 == pd.segments.size(), true, reporter_, &b,
        [&](std::string_view, uint64_t, const RecordBatch& rb) -> Status {
          for (const BatchInfo& bi : rb.batches)
            if (bi.control || (bi.transactional && IsAborted(facts_, bi.producer_id, bi.base_offset)))
              return Status::OK();
          if (rb.records.empty()) return Status::OK();
          if (rb.records.back().offset < first_dirty || rb.records.front().offset >= clean_end) return Status::OK();
          if (!full && !map_.Fits(rb.records.size())) {
            full = true;
            *map_end = std::max(first_dirty, rb.records.front().offset);
            if (*map_end == first_dirty)
              return Status::InvalidArgument(
                  fmt::format("{}: --max-memory {} is too small for one batch of {} records", pd.path,
                              HumanBytes(o_.max_memory), rb.records.size()));
          }
          const BatchInfo& bi = rb.batches.front();
          bool tracked = false;
          if (!full && track_) {
            if (batch_first_.size() >= max_tracked || bi.magic != 2 || rb.records.front().offset < first_dirty) {
              // Too many batches, a legacy entry, or a batch across the dirty boundary:
              // every map offset must belong to a tracked batch, so stop tracking.
              track_ = false;
              batch_first_.clear();
              batch_live_.clear();
              batch_must_.clear();
            } else {
              batch_first_.push_back(bi.base_offset);
              batch_live_.push_back(0);
              batch_must_.push_back(bi.transactional || bi.producer_id >= 0);
              tracked = true;
            }
          }
          for (const Record& r : rb.records) {
            if (r.offset < first_dirty || r.offset >= clean_end) continue;
            if (r.key.null()) {
              if (first_pass) ++cp->null_key_records;
              if (tracked) batch_must_.back() = 1;
              continue;
            }
            if (full) continue;
            int64_t old = map_.Put(HashKey(r.key), r.offset);
            if (track_) {
              if (old >= 0 && !batch_first_.empty() && old >= batch_first_.front()) --batch_live_[BatchOf(old)];
              if (tracked) ++batch_live_.back();
            }
          }
          return Status::OK();
        }));
  }
  cp->keys += map_.size();
  return Status::OK();
}

Status Cleaner::CleanEntry(std::string_view raw, const RecordBatch& b, int64_t map_end, int64_t seg_mtime,
                           GroupOut* out, CompactPartition* cp) {
  const BatchInfo& bi = b.batches.front();
  const bool v2 = bi.magic == 2;
  const int64_t first = v2 || b.records.empty() ? bi.base_offset : b.records.front().offset;
  const int64_t last = v2 || b.records.empty() ? bi.last_offset() : b.records.back().offset;
  // Past what this pass's map covers: left as it is.
  if (first >= map_end) return out->Append(raw, last, bi.max_timestamp);

  bool discard = false;        // the whole batch goes
  bool empty_txn_marker = false;
  if (bi.control) {
    bool eligible = false;
    ControlType t = ControlTypeOf(b);
    if (bi.producer_id >= 0 && t == kAbort) {
      auto it = aborted_seen_.find(bi.producer_id);
      eligible = !(it != aborted_seen_.end() && it->second);
      if (it != aborted_seen_.end()) aborted_seen_.erase(it);
    } else if (bi.producer_id >= 0 && t == kCommit) {
      eligible = committed_open_.erase(bi.producer_id) == 0;
    }
    empty_txn_marker = eligible;
    discard = eligible && bi.has_delete_horizon && now_ >= bi.first_timestamp;
    if (discard) ++cp->markers_removed;
  } else if (bi.transactional && bi.producer_id >= 0) {
    if (IsAborted(facts_, bi.producer_id, first)) {
      aborted_seen_[bi.producer_id] = true;
      discard = true;
      cp->aborted_removed += b.records.size();
      removed_ += b.records.size();
    } else {
      committed_open_.insert(bi.producer_id);
    }
  }

  // Which records stay.
  kept_.Clear();
  bool has_tombstone = false;
  if (!discard) {
    for (const Record& r : b.records) {
      bool keep = true;
      if (bi.control) {
        keep = true;
      } else if (r.offset >= map_end) {
        keep = true;
      } else if (r.key.null()) {
        keep = o_.null_keys != NullKeyPolicy::kDrop;
      } else {
        int64_t latest = map_.Get(HashKey(r.key));
        if (latest >= 0 && r.offset < latest) {
          keep = false;
        } else if (r.value.null()) {
          bool expired = v2 ? (bi.has_delete_horizon && now_ >= bi.first_timestamp)
                            : now_ >= seg_mtime + o_.delete_retention_ms;
          if (expired) {
            keep = false;
            ++cp->tombstones_removed;
          } else {
            has_tombstone = true;
          }
        }
      }
      if (!keep) {
        if (!bi.control) ++removed_;
        continue;
      }
      Record k = r;
      k.header_begin = static_cast<uint32_t>(kept_.headers.size());
      const Header* hs = b.HeadersOf(r);
      for (uint32_t h = 0; h < r.header_count; ++h) kept_.headers.push_back(hs[h]);
      kept_.records.push_back(k);
    }
  }
  const bool last_of_producer = v2 && bi.producer_id >= 0 && !bi.control && [&] {
    auto it = facts_.last_data.find(bi.producer_id);
    return it != facts_.last_data.end() && it->second == last;
  }();
  if (kept_.records.empty()) {
    if (!last_of_producer) return Status::OK();
    // Kafka keeps the producer's last batch, emptied, so its sequence state survives.
    if (b.records.empty()) return out->Append(raw, last, bi.max_timestamp);
    scratch_.clear();
    kafka::EncodeEmptyBatch(bi, &scratch_);
    return out->Append(scratch_, last, bi.max_timestamp);
  }
  const bool need_horizon = v2 && !bi.has_delete_horizon && (has_tombstone || empty_txn_marker);
  const bool same_codec = o_.codec < 0 || o_.codec == bi.codec;
  if (kept_.records.size() == b.records.size() && !need_horizon && same_codec)
    return out->Append(raw, last, bi.max_timestamp);

  kafka::EncodeOptions eo;
  eo.codec = static_cast<kafka::Codec>(o_.codec >= 0 ? o_.codec : bi.codec);
  eo.level = o_.level;
  eo.absolute_offsets = true;
  if (v2) {
    eo.partition_leader_epoch = bi.partition_leader_epoch;
    eo.producer_id = bi.producer_id;
    eo.producer_epoch = bi.producer_epoch;
    eo.base_sequence = bi.base_sequence;
    eo.transactional = bi.transactional;
    eo.control = bi.control;
    eo.last_offset = bi.last_offset();
    if (need_horizon) {
      eo.delete_horizon = now_ + o_.delete_retention_ms;
      ++cp->tombstones_stamped;
    } else if (bi.has_delete_horizon) {
      eo.delete_horizon = bi.first_timestamp;
    }
  } else {
    // Legacy entries become v2 batches, as Kafka's cleaner writes them; magic 0 has no
    // timestamps (-1 stays -1).
    eo.partition_leader_epoch = -1;
  }
  int64_t base = v2 ? bi.base_offset : kept_.records.front().offset;
  scratch_.clear();
  BatchInfo info;
  Status s = kafka::EncodeBatch(kept_, 0, kept_.records.size(), base, true, eo, &scratch_, &info);
  if (!s.ok()) return s.WithContext(fmt::format("rebuilding the batch at offset {}", first));
  return out->Append(scratch_, info.last_offset(), info.max_timestamp);
}

Status Cleaner::CleanGroup(const PartitionDir& pd, size_t g0, size_t g1, int64_t map_end, CompactPartition* cp) {
  const std::string stem = JoinPath(pd.path, SegmentFileStem(pd.segments[g0].base_offset));
  GroupOut out;
  out.index = std::make_unique<IndexBuilder>(pd.segments[g0].base_offset);
  if (!o_.dry_run) {
    auto f = WritableFile::Open(stem + ".log.cleaned", false);
    if (!f.ok()) return f.status();
    out.file = std::move(*f);
  }
  RecordBatch b;
  int64_t mtime = 0;
  for (size_t i = g0; i < g1; ++i) {
    int64_t seg_mtime = facts_.segs[i].mtime_ms;
    mtime = std::max(mtime, seg_mtime);
    auto skip = [&](const kafka::EntryView& e) {
      if (!track_ || batch_first_.empty() || !e.is_v2()) return false;
      int64_t first = e.base_offset();
      if (first < batch_first_.front() || first >= map_end) return false;
      size_t bi = BatchOf(first);
      if (batch_first_[bi] != first || batch_live_[bi] != 0 || batch_must_[bi]) return false;
      int32_t count = e.records_count();
      removed_ += static_cast<uint64_t>(std::max(count, 0));
      return true;
    };
    EVT_RETURN_IF_ERROR(WalkSegment(
        pd.segments[i], i + 1 == pd.segments.size(), true, reporter_, &b,
        [&](std::string_view raw, uint64_t, const RecordBatch& rb) {
          return CleanEntry(raw, rb, map_end, seg_mtime, &out, cp);
        },
        skip));
  }
  out.index->OnClose();
  uint64_t before = 0;
  for (size_t i = g0; i < g1; ++i) before += pd.segments[i].size;
  cp->bytes_after = cp->bytes_after - before + out.size;
  if (o_.dry_run) return Status::OK();
  EVT_RETURN_IF_ERROR(out.file->Sync());
  EVT_RETURN_IF_ERROR(out.file->Close());
  // Kafka gives the cleaned segment the newest modification time of its sources, so time
  // rules that use it (legacy tombstones, retention of magic-0 data) are not reset.
  EVT_RETURN_IF_ERROR(SetMtimeMs(stem + ".log.cleaned", mtime));
  for (auto [suffix, bytes] : {std::pair<const char*, std::string>{".index", out.index->OffsetIndexBytes()},
                               {".timeindex", out.index->TimeIndexBytes()}}) {
    auto f = WritableFile::Open(stem + suffix + ".cleaned", false);
    if (!f.ok()) return f.status();
    EVT_RETURN_IF_ERROR((*f)->Append(bytes));
    EVT_RETURN_IF_ERROR((*f)->Sync());
    EVT_RETURN_IF_ERROR((*f)->Close());
  }
  return Replace(pd, g0, g1, stem);
}

// Kafka's replacement protocol: .cleaned -> .swap, old segments -> .deleted, .swap -> final
// name, remove .deleted. Every intermediate state reads as either the old or the new data.
Status Cleaner::Replace(const PartitionDir& pd, size_t g0, size_t g1, const std::string& stem) {
  EVT_RETURN_IF_ERROR(SyncDir(pd.path));
  CrashPoint();
  EVT_RETURN_IF_ERROR(RenameFile(stem + ".log.cleaned", stem + ".log.swap"));
  EVT_RETURN_IF_ERROR(SyncDir(pd.path));
  CrashPoint();
  std::vector<std::string> deleted;
  for (size_t i = g0; i < g1; ++i) {
    std::string old = Stem(pd.segments[i].log_path);
    for (const char* suf : {".log", ".index", ".timeindex", ".txnindex"}) {
      std::string p = old + suf;
      if (!PathExists(p)) continue;
      EVT_RETURN_IF_ERROR(RenameFile(p, p + ".deleted"));
      deleted.push_back(p + ".deleted");
      CrashPoint();
    }
  }
  EVT_RETURN_IF_ERROR(SyncDir(pd.path));
  for (const char* suf : {".index", ".timeindex"}) {
    EVT_RETURN_IF_ERROR(RenameFile(stem + suf + ".cleaned", stem + suf));
    CrashPoint();
  }
  EVT_RETURN_IF_ERROR(RenameFile(stem + ".log.swap", stem + ".log"));
  EVT_RETURN_IF_ERROR(SyncDir(pd.path));
  CrashPoint();
  for (const auto& p : deleted) EVT_RETURN_IF_ERROR(RemoveFile(p));
  EVT_RETURN_IF_ERROR(SyncDir(pd.path));
  CrashPoint();
  return Status::OK();
}

Status Cleaner::Run(const PartitionDir& pd0, CompactPartition* cp) {
  auto t0 = std::chrono::steady_clock::now();
  PartitionDir pd = pd0;
  EVT_RETURN_IF_ERROR(ScanFacts(pd, reporter_, &facts_));
  cp->segments_before = cp->segments_after = pd.segments.size();
  cp->records_before = facts_.records;
  for (const auto& s : pd.segments) cp->bytes_before += s.size;
  cp->bytes_after = cp->bytes_before;
  const size_t n = pd.segments.size();
  // The first uncleanable segment: the active one, the first with records newer than the
  // compaction lag, the one holding the first unstable offset.
  auto last_cleanable = [&](size_t segments) { return o_.include_active ? segments : (segments > 0 ? segments - 1 : 0); };
  size_t k = last_cleanable(n);
  for (size_t i = 0; i < k; ++i) {
    const SegInfo& si = facts_.segs[i];
    bool too_new = o_.min_compaction_lag_ms > 0 && si.max_timestamp > now_ - o_.min_compaction_lag_ms;
    bool unstable = si.last_offset >= facts_.first_unstable;
    if (too_new || unstable) {
      k = i;
      break;
    }
  }
  int64_t clean_end = 0;
  for (size_t i = 0; i < k; ++i) clean_end = std::max(clean_end, facts_.segs[i].last_offset + 1);
  int64_t log_start = -1;
  for (const auto& si : facts_.segs)
    if (si.first_offset >= 0) {
      log_start = si.first_offset;
      break;
    }
  int64_t checkpoint = ReadCheckpoint(pd.path);
  int64_t first_dirty = checkpoint;
  if (first_dirty < 0 || first_dirty < log_start || first_dirty > facts_.log_end) first_dirty = std::max<int64_t>(log_start, 0);
  cp->first_dirty = first_dirty;
  cp->clean_end = std::max(clean_end, first_dirty);
  uint64_t clean_bytes = 0, dirty_bytes = 0;
  bool horizon_due = false;  // KIP-534: a log with a passed delete horizon is worth cleaning
  for (size_t i = 0; i < k; ++i) {
    horizon_due |= facts_.segs[i].min_horizon <= now_;
    if (facts_.segs[i].last_offset >= 0 && facts_.segs[i].last_offset < first_dirty) {
      clean_bytes += pd.segments[i].size;
    } else {
      dirty_bytes += pd.segments[i].size;
    }
  }
  cp->dirty_ratio = clean_bytes + dirty_bytes ? static_cast<double>(dirty_bytes) / (clean_bytes + dirty_bytes) : 0;
  const bool nothing_new = dirty_bytes == 0 || clean_end <= first_dirty;
  if (k == 0 || (nothing_new && !horizon_due && !o_.force)) {
    cp->skipped = k == 0 && n == 1 && !o_.include_active
                      ? "only the active segment (--include-active compacts it too)"
                  : k == 0 ? "no segment can be cleaned (the active segment, --min-compaction-lag or an open "
                             "transaction holds them all)"
                           : "nothing new since the last compaction and no delete horizon has passed";
    return Status::OK();
  }
  if (cp->dirty_ratio < o_.min_cleanable_ratio && !o_.force && !horizon_due) {
    cp->skipped = fmt::format("dirty ratio {:.2f} is below --min-cleanable-ratio {:.2f} (--force cleans anyway)",
                              cp->dirty_ratio, o_.min_cleanable_ratio);
    return Status::OK();
  }

  int64_t pass_start = first_dirty;
  bool first_pass = true;
  do {
    if (InterruptRequested()) return Status::Interrupted();
    int64_t map_end = clean_end;
    size_t ds = 0;
    while (ds < k && facts_.segs[ds].last_offset >= 0 && facts_.segs[ds].last_offset < pass_start) ++ds;
    EVT_RETURN_IF_ERROR(BuildMap(pd, ds, k, pass_start, clean_end, first_pass, &map_end, cp));
    if (first_pass && o_.null_keys == NullKeyPolicy::kError && cp->null_key_records > 0)
      return Status::DataProblem(fmt::format(
          "{}: {} record{} with a null key in the part to compact; Kafka's cleaner drops them silently. Choose "
          "--null-keys keep or --null-keys drop",
          pd.path, cp->null_key_records, cp->null_key_records == 1 ? "" : "s"));
    first_pass = false;
    ++cp->passes;
    // Segments holding offsets below map_end are rewritten, in groups Kafka would form.
    size_t end_seg = 0;
    while (end_seg < k && (facts_.segs[end_seg].first_offset < 0 || facts_.segs[end_seg].first_offset < map_end))
      ++end_seg;
    aborted_seen_.clear();
    committed_open_.clear();
    std::vector<std::pair<size_t, size_t>> groups;
    for (size_t g0 = 0; g0 < end_seg;) {
      size_t g1 = g0 + 1;
      uint64_t bytes = pd.segments[g0].size;
      while (g1 < end_seg && bytes + pd.segments[g1].size <= o_.segment_bytes &&
             facts_.segs[g1].last_offset - pd.segments[g0].base_offset <= INT32_MAX) {
        bytes += pd.segments[g1].size;
        ++g1;
      }
      groups.push_back({g0, g1});
      g0 = g1;
    }
    for (const auto& [g0, g1] : groups) EVT_RETURN_IF_ERROR(CleanGroup(pd, g0, g1, map_end, cp));
    cp->segments_after = cp->segments_after - end_seg + groups.size();
    if (o_.dry_run) {
      // The next pass would read what this one wrote; a dry run stops at one pass.
      if (map_end < clean_end)
        cp->skipped = fmt::format("dry run: the first of several passes (the key map fills at offset {})", map_end);
      break;
    }
    EVT_RETURN_IF_ERROR(WriteCheckpoint(pd, map_end));
    pass_start = map_end;
    if (pass_start < clean_end) {
      auto again = ScanPartitionDir(pd.path);
      if (!again.ok()) return again.status();
      pd = std::move(*again);
      EVT_RETURN_IF_ERROR(ScanFacts(pd, reporter_, &facts_));
      size_t limit = last_cleanable(pd.segments.size());
      k = 0;
      while (k < limit && facts_.segs[k].last_offset < clean_end) ++k;
    }
  } while (pass_start < clean_end);
  cp->records_after = cp->records_before - removed_;
  if (!o_.dry_run) {
    // Producer snapshots describe the old segments; Kafka rebuilds them from the log.
    auto entries = ListDir(pd.path);
    if (!entries.ok()) return entries.status();
    for (const auto& e : *entries)
      if (e.is_file && e.name.ends_with(".snapshot")) EVT_RETURN_IF_ERROR(RemoveFile(JoinPath(pd.path, e.name)));
    auto after = ScanPartitionDir(pd.path);
    if (after.ok()) {
      cp->segments_after = after->segments.size();
      cp->bytes_after = 0;
      for (const auto& s : after->segments) cp->bytes_after += s.size;
    }
  }
  cp->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return Status::OK();
}

}  // namespace

Status RunCompact(const CompactOptions& opts, Reporter* reporter, std::vector<CompactPartition>* out) {
  if (opts.min_cleanable_ratio < 0 || opts.min_cleanable_ratio > 1)
    return Status::InvalidArgument("--min-cleanable-ratio must be between 0 and 1");
  if (opts.segment_bytes < 1024) return Status::InvalidArgument("--segment-bytes must be at least 1 KiB");
  if (opts.max_memory < 24 * 1024) return Status::InvalidArgument("--max-memory must be at least 24K");
  const int64_t now = opts.now_ms >= 0 ? opts.now_ms : NowMs();
  std::vector<PartitionDir> all;
  for (const auto& p : opts.paths) {
    auto parts = DiscoverPartitions(p);
    if (!parts.ok()) return parts.status();
    for (auto& pd : *parts) all.push_back(std::move(pd));
  }
  for (const PartitionDir& found : all) {
    if (InterruptRequested()) return Status::Interrupted();
    // The same lock as `evt write`: one evt process per partition (a dry run only looks).
    auto lock = LockPartition(found.path, opts.wait_for_lock, !opts.dry_run);
    if (!lock.ok()) return lock.status();
    CompactPartition cp;
    cp.path = found.path;
    uint64_t changes = 0;
    EVT_RETURN_IF_ERROR(FinishInterruptedCompaction(found.path, opts.dry_run, &changes));
    cp.recovered = changes > 0;
    if (cp.recovered && !opts.dry_run)
      reporter->Warning(found.path, 0, "finished an interrupted compaction or retention first");
    // Read the directory again under the lock, as recovery left it (a dry run sees what
    // readers see of an interrupted run).
    auto pd = ScanPartitionDir(found.path);
    if (!pd.ok()) return pd.status();
    pd->topic = found.topic;
    pd->partition = found.partition;
    Cleaner cleaner(opts, now, reporter);
    Status s = cleaner.Run(*pd, &cp);
    out->push_back(std::move(cp));
    if (!s.ok()) {
      // Nothing half-written stays: unfinished .cleaned files are removed (a swap already
      // made is complete and stays).
      uint64_t ignored = 0;
      if (!opts.dry_run) (void)FinishInterruptedCompaction(found.path, false, &ignored);
      return s;
    }
  }
  return Status::OK();
}

std::string CompactJson(const std::vector<CompactPartition>& parts, bool dry_run) {
  std::string o;
  for (const auto& p : parts) {
    o += "{\"path\":";
    envelope::AppendJsonString(p.path, &o);
    fmt::format_to(std::back_inserter(o),
                   ",\"dry_run\":{},\"cleaned\":{},\"note\":", dry_run, p.passes > 0);
    envelope::AppendJsonString(p.skipped, &o);
    fmt::format_to(std::back_inserter(o),
                   ",\"recovered\":{},\"dirty_ratio\":{:.4f},\"first_dirty\":{},\"clean_end\":{},\"passes\":{},"
                   "\"segments_before\":{},\"segments_after\":{},\"records_before\":{},\"records_after\":{},"
                   "\"bytes_before\":{},\"bytes_after\":{},\"keys\":{},\"tombstones_removed\":{},"
                   "\"horizons_set\":{},\"null_key_records\":{},\"aborted_removed\":{},\"markers_removed\":{},"
                   "\"{}\":{:.3f}}}\n",
                   p.recovered, p.dirty_ratio, p.first_dirty, p.clean_end, p.passes, p.segments_before,
                   p.segments_after, p.records_before, p.passes ? p.records_after : p.records_before, p.bytes_before,
                   p.passes ? p.bytes_after : p.bytes_before, p.keys, p.tombstones_removed, p.tombstones_stamped,
                   p.null_key_records, p.aborted_removed, p.markers_removed,
                   dry_run ? "estimated_seconds" : "seconds", p.seconds);
  }
  return o;
}

std::string CompactSummary(const std::vector<CompactPartition>& parts, bool dry_run) {
  uint64_t cleaned = 0, rb = 0, ra = 0, bb = 0, ba = 0, tomb = 0;
  double secs = 0;
  for (const auto& p : parts) {
    if (p.passes == 0) continue;
    ++cleaned;
    rb += p.records_before;
    ra += p.records_after;
    bb += p.bytes_before;
    ba += p.bytes_after;
    tomb += p.tombstones_removed;
    secs += p.seconds;
  }
  if (cleaned == 0) {
    // Say why: the most common reason, and how many partitions it holds back.
    std::map<std::string, size_t> why;
    for (const auto& p : parts)
      if (!p.skipped.empty()) ++why[p.skipped];
    auto top = std::max_element(why.begin(), why.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    std::string reason;
    if (top != why.end())
      reason = top->second == parts.size() ? ": " + top->first
                                           : fmt::format(": {} of them: {}", top->second, top->first);
    return fmt::format("compact: nothing to do in {} partition{}{}", parts.size(), parts.size() == 1 ? "" : "s", reason);
  }
  return fmt::format("compact: {} {} of {} partition{}: {} -> {} records, {} -> {}, {} tombstone{} removed, {:.1f} s",
                     dry_run ? "would clean" : "cleaned", cleaned, parts.size(), parts.size() == 1 ? "" : "s", rb, ra,
                     HumanBytes(bb), HumanBytes(ba), tomb, tomb == 1 ? "" : "s", secs);
}

}  // namespace evt
