#include "lib/jobs/gen.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "formats/kafka/partitioner.h"
#include "lib/base/timeutil.h"

namespace evt {

namespace {

constexpr int32_t kMaxPartitions = 1 << 20;
constexpr size_t kMaxValueSize = size_t{64} << 20;
constexpr int64_t kMaxStepMs = std::numeric_limits<int64_t>::max() / 4;
constexpr size_t kMaxPendingBytes = size_t{64} << 20;  // then emit every pending partition
constexpr size_t kPoolMax = 64;                         // spare batches kept for reuse

uint64_t SplitMix64(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256** 1.0 (Blackman & Vigna), seeded through splitmix64.
class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed) {
    uint64_t x = seed;
    for (auto& w : s_) w = SplitMix64(&x);
  }
  uint64_t operator()() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A number in [0, n) from 64 random bits (multiply-shift; the bias is negligible here).
inline uint64_t Below(uint64_t r, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(r) * n) >> 64);
}

inline char* Put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

inline char* PutU64(char* p, uint64_t v) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

constexpr char kHex[] = "0123456789abcdef";

inline char* PutHex(char* p, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) *p++ = kHex[(v >> (4 * i)) & 0xf];
  return p;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

constexpr std::string_view kWords[] = {
    "lorem",  "ipsum", "dolor",        "sit",     "amet",    "consectetur", "adipiscing", "elit",  "sed",
    "do",     "eiusmod", "tempor",     "incididunt", "ut",   "labore",      "et",         "dolore", "magna",
    "aliqua", "enim",  "ad",           "minim",   "veniam",  "quis",        "nostrud",    "exercitation",
    "ullamco", "laboris", "nisi",      "aliquip", "ex",      "ea",          "commodo",    "consequat"};

// Text the payload fields are cut from: words and spaces (JSON-safe), at least `min` bytes.
std::string FillerText(uint64_t seed, size_t min) {
  Xoshiro256 rng(seed ^ 0x6a09e667f3bcc908ULL);
  std::string s;
  s.reserve(min + 16);
  while (s.size() < min) {
    s += kWords[Below(rng(), std::size(kWords))];
    s += ' ';
  }
  return s;
}

constexpr std::string_view kContentType = "content-type";
constexpr std::string_view kApplicationJson = "application/json";
constexpr std::string_view kTraceId = "trace-id";

}  // namespace

Status ValidateGenOptions(const GenOptions& o) {
  if (o.types.empty()) return Status::InvalidArgument("gen: no event types given");
  if (o.partitions < 1 || o.partitions > kMaxPartitions)
    return Status::InvalidArgument(fmt::format("gen: partitions must be in 1..{}, not {}", kMaxPartitions, o.partitions));
  if (o.batch_records == 0) return Status::InvalidArgument("gen: batch_records must be at least 1");
  if (o.step_ms < 0) return Status::InvalidArgument(fmt::format("gen: negative step {}ms", o.step_ms));
  if (o.step_ms > kMaxStepMs) return Status::InvalidArgument(fmt::format("gen: step {}ms too large", o.step_ms));
  if (o.value_size > kMaxValueSize)
    return Status::InvalidArgument(
        fmt::format("gen: value size {} too large (at most {})", o.value_size, kMaxValueSize));
  return Status::OK();
}

struct GenSource::State {
  explicit State(GenOptions opts) : o(std::move(opts)), rng(o.seed) {}

  GenOptions o;
  Status status;
  Xoshiro256 rng;
  std::vector<std::string> types_json;  // escaped for a JSON string
  std::string filler;                   // payload text is cut from here
  std::string scratch;                  // the value up to the payload, per record
  uint64_t next = 0;                    // seq of the next record
  int64_t ts = 0;
  std::vector<int64_t> offsets;                        // next offset per partition
  std::vector<std::unique_ptr<RecordBatch>> pending;   // per partition, null when empty
  std::vector<size_t> pending_bytes;                   // per partition
  size_t total_pending = 0;
  std::vector<std::unique_ptr<RecordBatch>> pool;
  bool draining = false;  // emitting every non-empty pending partition in order
  int32_t drain_cursor = 0;
  size_t arena_block = 1 << 16;
  size_t reserve_records = 0;

  RecordBatch* Pending(int32_t p) {
    auto& slot = pending[p];
    if (!slot) {
      if (!pool.empty()) {
        slot = std::move(pool.back());
        pool.pop_back();
      } else {
        slot = std::make_unique<RecordBatch>();
      }
      slot->Clear();
      // Batches come back from callers with whatever arena they had: give them one whose
      // first block holds a whole batch, so that steady state allocates nothing.
      if (slot->arena.MemoryUsage() < arena_block) slot->arena = Arena(arena_block);
      slot->topic = o.topic;
      slot->partition = p;
      slot->file.clear();
      slot->records.reserve(reserve_records);
      if (o.headers) slot->headers.reserve(reserve_records * 2);
    }
    return slot.get();
  }

  void Emit(int32_t p, RecordBatch* out) {
    std::unique_ptr<RecordBatch> b = std::move(pending[p]);
    total_pending -= pending_bytes[p];
    pending_bytes[p] = 0;
    std::swap(*out, *b);  // out takes the records; b takes out's (cleared) storage
    if (pool.size() < kPoolMax) {
      b->Clear();
      pool.push_back(std::move(b));
    }
  }

  int32_t GenerateOne();
};

int32_t GenSource::State::GenerateOne() {
  const uint64_t i = next++;
  // A fixed number of draws per record, in a fixed order, whatever the options.
  const uint64_t r_gap = rng();
  const uint64_t r_key = rng();
  uint64_t id_hi = rng();
  uint64_t id_lo = rng();
  const uint64_t r_type = rng();
  const uint64_t r_customer = rng();
  const uint64_t r_amount = rng();
  const uint64_t trace_hi = rng();
  const uint64_t trace_lo = rng();
  const uint64_t r_fill = rng();

  if (i == 0) {
    ts = o.start_ms;
  } else if (o.step_ms > 0) {
    const int64_t gap = static_cast<int64_t>(Below(r_gap, static_cast<uint64_t>(o.step_ms) * 2 + 1));
    ts = ts > std::numeric_limits<int64_t>::max() - gap ? std::numeric_limits<int64_t>::max() : ts + gap;
  }

  char key[24];
  size_t key_len = 0;
  int32_t part;
  if (o.keys > 0) {
    key_len = static_cast<size_t>(PutU64(Put(key, "key-"), Below(r_key, o.keys)) - key);
    part = kafka::Murmur2Partition(std::string_view(key, key_len), o.partitions);
  } else {
    part = static_cast<int32_t>(i % static_cast<uint64_t>(o.partitions));
  }
  RecordBatch* b = Pending(part);

  // The value up to the payload string.
  char* const start = scratch.data();
  char* p = Put(start, R"({"specversion":"1.0","id":")");
  id_hi = (id_hi & ~uint64_t{0xf000}) | 0x4000;                         // version 4
  id_lo = (id_lo & ~(uint64_t{3} << 62)) | (uint64_t{2} << 62);         // RFC 4122 variant
  p = PutHex(p, id_hi >> 32, 8);
  *p++ = '-';
  p = PutHex(p, id_hi >> 16, 4);
  *p++ = '-';
  p = PutHex(p, id_hi, 4);
  *p++ = '-';
  p = PutHex(p, id_lo >> 48, 4);
  *p++ = '-';
  p = PutHex(p, id_lo, 12);
  p = Put(p, R"(","source":"/evt/gen","type":")");
  p = Put(p, types_json[Below(r_type, types_json.size())]);
  p = Put(p, R"(","time":")");
  p += FormatRfc3339MsTo(ts, p);
  if (o.keys > 0) {
    p = Put(p, R"(","subject":")");
    p = Put(p, std::string_view(key, key_len));
  }
  p = Put(p, R"(","datacontenttype":"application/json","data":{"customer":"cust-)");
  p = PutU64(p, 1 + Below(r_customer, 1000));
  p = Put(p, R"(","amount":)");
  p = PutU64(p, 100 + Below(r_amount, 99900));  // cents: 1.00 .. 999.99
  p = Put(p, R"(,"currency":"EUR","seq":)");
  p = PutU64(p, i);
  p = Put(p, R"(,"payload":")");
  const size_t head = static_cast<size_t>(p - start);
  constexpr std::string_view kTail = "\"}}";
  const size_t fill = o.value_size > head + kTail.size() ? o.value_size - head - kTail.size() : 0;
  const size_t value_len = head + fill + kTail.size();

  char* v = b->arena.Allocate(value_len);
  std::memcpy(v, start, head);
  std::memcpy(v + head, filler.data() + Below(r_fill, filler.size() - fill + 1), fill);
  std::memcpy(v + head + fill, kTail.data(), kTail.size());

  Record rec;
  rec.partition = part;
  rec.offset = offsets[part]++;
  rec.timestamp = ts;
  rec.timestamp_type = TimestampType::kCreateTime;
  rec.value = Bytes{v, static_cast<uint32_t>(value_len), false};
  if (o.keys > 0) {
    char* k = b->arena.Allocate(key_len);
    std::memcpy(k, key, key_len);
    rec.key = Bytes{k, static_cast<uint32_t>(key_len), false};
  }
  size_t bytes = value_len + key_len + sizeof(Record);
  if (o.headers) {
    char* t = b->arena.Allocate(32);
    PutHex(PutHex(t, trace_hi, 16), trace_lo, 16);
    rec.header_begin = static_cast<uint32_t>(b->headers.size());
    rec.header_count = 2;
    b->headers.push_back(Header{kContentType, Bytes::Of(kApplicationJson)});
    b->headers.push_back(Header{kTraceId, Bytes{t, 32, false}});
    bytes += 32 + 2 * sizeof(Header);
  }
  rec.source_pos = i;
  b->records.push_back(rec);
  pending_bytes[part] += bytes;
  total_pending += bytes;
  return part;
}

GenSource::GenSource(GenOptions opts) : s_(std::make_unique<State>(std::move(opts))) {
  State& s = *s_;
  s.status = ValidateGenOptions(s.o);
  if (!s.status.ok()) return;
  size_t max_type = 0;
  for (const auto& t : s.o.types) {
    s.types_json.push_back(JsonEscape(t));
    max_type = std::max(max_type, s.types_json.back().size());
  }
  s.filler = FillerText(s.o.seed, std::max<size_t>(size_t{1} << 16, s.o.value_size + 1));
  s.scratch.resize(1024 + max_type);
  s.offsets.assign(static_cast<size_t>(s.o.partitions), 0);
  s.pending.resize(static_cast<size_t>(s.o.partitions));
  s.pending_bytes.assign(static_cast<size_t>(s.o.partitions), 0);
  // Size arena blocks and vectors for the records a batch is expected to hold.
  const uint64_t parts = static_cast<uint64_t>(s.o.partitions);
  const uint64_t per_part = std::max<uint64_t>(1, (s.o.count + parts - 1) / parts);
  s.reserve_records = static_cast<size_t>(std::min<uint64_t>(s.o.batch_records, per_part));
  const size_t per_record = s.o.value_size + 128;
  s.arena_block = std::clamp<size_t>(s.reserve_records * per_record, size_t{4} << 10, size_t{4} << 20);
  s.reserve_records = std::min<size_t>(s.reserve_records, 1 << 16);
}

GenSource::~GenSource() = default;

const GenOptions& GenSource::options() const { return s_->o; }
uint64_t GenSource::generated() const { return s_->next; }

std::string GenSource::Describe() const {
  return fmt::format("gen (seed {}, {} events)", s_->o.seed, s_->o.count);
}

Status GenSource::Next(RecordBatch* out, bool* eof) {
  State& s = *s_;
  out->Clear();
  *eof = false;
  if (!s.status.ok()) return s.status;
  for (;;) {
    if (s.draining) {
      while (s.drain_cursor < s.o.partitions) {
        const int32_t p = s.drain_cursor++;
        if (s.pending[p]) {
          s.Emit(p, out);
          return Status::OK();
        }
      }
      s.draining = false;
      if (s.next >= s.o.count) {
        *eof = true;
        return Status::OK();
      }
    }
    if (s.next >= s.o.count || s.total_pending > kMaxPendingBytes) {
      s.draining = true;
      s.drain_cursor = 0;
      continue;
    }
    const int32_t p = s.GenerateOne();
    if (s.pending[p]->records.size() >= s.o.batch_records) {
      s.Emit(p, out);
      return Status::OK();
    }
  }
}

}  // namespace evt
