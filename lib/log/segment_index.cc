#include "lib/log/segment_index.h"

#include <algorithm>

#include "formats/kafka/entry.h"
#include "formats/kafka/layout.h"
#include "lib/base/coding.h"
#include "lib/base/file.h"

namespace evt {

namespace {

uint32_t U32(const char* p) { return DecodeFixed32BE(reinterpret_cast<const uint8_t*>(p)); }
uint64_t U64(const char* p) { return DecodeFixed64BE(reinterpret_cast<const uint8_t*>(p)); }

// The entries of an offset index in use: Kafka preallocates the active segment's index and
// fills it with zeros, so an entry of (0, 0) after the first ends it, as does a relative
// offset that does not rise.
size_t UsedEntries(std::string_view idx, size_t entry_size) {
  size_t n = idx.size() / entry_size;
  for (size_t i = 1; i < n; ++i) {
    const char* p = idx.data() + i * entry_size;
    const char* q = p - entry_size;
    bool zero = true;
    for (size_t k = 0; k < entry_size; ++k) zero &= p[k] == 0;
    if (zero) return i;
    if (entry_size == kafka::kOffsetIndexEntrySize && U32(p) <= U32(q)) return i;
  }
  return n;
}

}  // namespace

void WalkHeaders(MappedFile* f, uint64_t pos, int64_t* end, int64_t* max_ts) {
  std::string_view data = f->data();
  uint64_t released = pos;
  for (kafka::EntryWalker w(data, pos); !w.done() && w.ok(); w.Next()) {
    const kafka::EntryView& e = w.entry();
    *end = std::max(*end, e.last_offset() + 1);
    int64_t ts = e.is_v2() ? e.max_timestamp() : e.legacy_timestamp();
    *max_ts = std::max(*max_ts, ts);
    if (w.pos() - released >= (8u << 20)) {  // keep RSS flat over a large segment
      f->Release(released, w.pos() - released);
      released = w.pos();
    }
  }
}

uint64_t IndexedPosition(const SegmentFile& sf, std::string_view data, int64_t offset) {
  if (sf.index_path.empty() || offset <= sf.base_offset || !PathExists(sf.index_path)) return 0;
  auto idx = MappedFile::Open(sf.index_path);
  if (!idx.ok()) return 0;
  std::string_view b = (*idx)->data();
  const size_t es = kafka::kOffsetIndexEntrySize;
  size_t n = UsedEntries(b, es);
  int64_t rel = offset - sf.base_offset;
  // The last entry whose relative offset is <= rel.
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (static_cast<int64_t>(U32(b.data() + mid * es)) <= rel) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return 0;
  const char* e = b.data() + (lo - 1) * es;
  int64_t entry_offset = sf.base_offset + static_cast<int64_t>(U32(e));
  uint64_t pos = U32(e + 4);
  if (pos >= data.size()) return 0;
  kafka::EntryWalker w(data, pos);
  if (!w.ok()) return 0;
  // Kafka indexes a batch by its last offset (older brokers by an offset inside it): the
  // entry is good when the batch at its position holds that offset.
  const kafka::EntryView& v = w.entry();
  if (v.is_v2() && (v.base_offset() > entry_offset || v.last_offset() < entry_offset)) return 0;
  if (!v.is_v2() && v.base_offset() > std::max(entry_offset, offset)) return 0;
  return pos;
}

Result<PartitionTail> ReadPartitionTail(const PartitionDir& pd) {
  PartitionTail t;
  if (pd.segments.empty()) return t;
  t.end = pd.segments.front().base_offset;
  for (size_t i = 0; i < pd.segments.size(); ++i) {
    const SegmentFile& sf = pd.segments[i];
    const bool last = i + 1 == pd.segments.size();
    t.end = std::max(t.end, sf.base_offset);
    bool timed = false;
    if (!sf.timeindex_path.empty() && PathExists(sf.timeindex_path)) {
      auto ti = MappedFile::Open(sf.timeindex_path);
      if (ti.ok()) {
        std::string_view b = (*ti)->data();
        size_t n = UsedEntries(b, kafka::kTimeIndexEntrySize);
        if (n > 0) {
          const char* e = b.data() + (n - 1) * kafka::kTimeIndexEntrySize;
          t.max_timestamp = std::max(t.max_timestamp, static_cast<int64_t>(U64(e)));
          timed = true;
        }
      }
    }
    if (timed && !last) continue;
    if (sf.size == 0) continue;
    auto f = MappedFile::Open(sf.log_path);
    if (!f.ok()) return f.status();
    uint64_t from = last && timed ? IndexedPosition(sf, (*f)->data(), INT64_MAX) : 0;
    WalkHeaders(f->get(), from, &t.end, &t.max_timestamp);
  }
  return t;
}

}  // namespace evt
