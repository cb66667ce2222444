#include "lib/replay.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "formats/envelope/envelope.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"
#include "lib/jsonl_source.h"
#include "lib/read.h"
#include "lib/text_sink.h"
#include "lib/write.h"

namespace evt {

// ---------------------------------------------------------------- helpers

bool ParseSourceRef(std::string_view s, std::string* topic, int32_t* partition, int64_t* offset) {
  size_t b = s.rfind('/');
  if (b == std::string_view::npos || b == 0) return false;
  size_t a = s.rfind('/', b - 1);
  if (a == std::string_view::npos) return false;
  std::string p(s.substr(a + 1, b - a - 1)), o(s.substr(b + 1));
  char* end = nullptr;
  long pv = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end || pv < 0) return false;
  long long ov = std::strtoll(o.c_str(), &end, 10);
  if (o.empty() || *end || ov < 0) return false;
  *topic = std::string(s.substr(0, a));
  *partition = static_cast<int32_t>(pv);
  *offset = ov;
  return true;
}

std::string IdentityHash(const std::string& identity) {
  return fmt::format("{:016x}", XXH3_64bits(identity.data(), identity.size()));
}

std::string NewReplayId() {
  std::random_device rd;
  uint64_t a = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(NowMs());
  return fmt::format("{:016x}", a);
}

Result<Checkpoint> ReadCheckpoint(const std::string& path) {
  if (!PathExists(path)) return Status::NotFound(path);
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(*text).get(doc) != simdjson::SUCCESS || !doc.is_object())
    return Status::Corruption(fmt::format("{}: not a checkpoint written by evt (bad JSON)", path));
  Checkpoint c;
  std::string_view sv;
  if (doc["identity"].get(sv) == simdjson::SUCCESS) c.identity = std::string(sv);
  if (doc["replay_id"].get(sv) == simdjson::SUCCESS) c.replay_id = std::string(sv);
  if (doc["dest_kind"].get(sv) == simdjson::SUCCESS) c.dest_kind = std::string(sv);
  bool b = false;
  if (doc["complete"].get(b) == simdjson::SUCCESS) c.complete = b;
  int64_t i = 0;
  if (doc["jsonl_records"].get(i) == simdjson::SUCCESS) c.jsonl_records = static_cast<uint64_t>(i);
  if (doc["dest_size"].get(i) == simdjson::SUCCESS) c.dest_size = i;
  simdjson::dom::array arr;
  if (doc["positions"].get(arr) == simdjson::SUCCESS)
    for (auto e : arr) {
      std::string_view t;
      int64_t p = 0, o = 0;
      if (e["topic"].get(t) || e["partition"].get(p) || e["next"].get(o))
        return Status::Corruption(fmt::format("{}: bad position entry", path));
      c.positions[{std::string(t), static_cast<int32_t>(p)}] = o;
    }
  simdjson::dom::object ends;
  if (doc["dest_ends"].get(ends) == simdjson::SUCCESS)
    for (auto [k, v] : ends) {
      int64_t o = 0;
      if (v.get(o)) return Status::Corruption(fmt::format("{}: bad destination end", path));
      c.dest_ends[std::string(k)] = o;
    }
  if (c.identity.empty()) return Status::Corruption(fmt::format("{}: not a checkpoint written by evt", path));
  return c;
}

Status WriteCheckpoint(const std::string& path, const Checkpoint& c) {
  std::string o = "{\"version\":1,\"identity\":";
  envelope::AppendJsonString(c.identity, &o);
  o += ",\"replay_id\":";
  envelope::AppendJsonString(c.replay_id, &o);
  fmt::format_to(std::back_inserter(o), ",\"complete\":{},\"jsonl_records\":{},\"dest_kind\":", c.complete,
                 c.jsonl_records);
  envelope::AppendJsonString(c.dest_kind, &o);
  fmt::format_to(std::back_inserter(o), ",\"dest_size\":{},\"positions\":[", c.dest_size);
  bool first = true;
  for (const auto& [tp, next] : c.positions) {
    if (!first) o += ',';
    first = false;
    o += "{\"topic\":";
    envelope::AppendJsonString(tp.first, &o);
    fmt::format_to(std::back_inserter(o), ",\"partition\":{},\"next\":{}}}", tp.second, next);
  }
  o += "],\"dest_ends\":{";
  first = true;
  for (const auto& [k, v] : c.dest_ends) {
    if (!first) o += ',';
    first = false;
    envelope::AppendJsonString(k, &o);
    fmt::format_to(std::back_inserter(o), ":{}", v);
  }
  o += "}}\n";
  return WriteFileAtomic(path, o);
}

Status OpenCheckpoint(const std::string& path, const std::string& identity, const char* job, const char* what_differs,
                      Reporter* reporter, Checkpoint* ck, bool* resuming, bool* complete) {
  *resuming = *complete = false;
  const std::string hash = IdentityHash(identity);
  if (!path.empty()) {
    auto c = ReadCheckpoint(path);
    if (c.ok()) {
      if (c->identity != hash)
        return Status::InvalidArgument(fmt::format(
            "{}: this checkpoint belongs to a {} with other {}; resume with the same flags, or give another "
            "--checkpoint file",
            path, job, what_differs));
      *ck = std::move(*c);
      *resuming = true;
      if (ck->complete) {
        *complete = true;
        reporter->Notice(fmt::format("{}: {} says this {} is complete; nothing to do", job, path, job));
      }
      return Status::OK();
    }
    if (c.status().code() != Code::kNotFound) return c.status();
  }
  ck->identity = hash;
  ck->replay_id = NewReplayId();
  return Status::OK();
}

// ---------------------------------------------------------------- Selection

struct Selection::Impl {
  SelectionOptions o;
  Reporter* reporter = nullptr;
  std::unique_ptr<Source> src;
  Positions pos;
  Positions skip_upto;  // dedupe
  uint64_t jsonl_skip = 0, jsonl_seen = 0;
  bool kafka = false, jsonl = false;
  std::unordered_set<std::string> keys;
  bool has_keys = false;
  std::vector<bool> part_ok;  // by partition id (empty: all)
  RecordBatch in;
  uint64_t scanned = 0, missing_time = 0;
  int64_t estimate = -1;
  size_t partitions = 0;  // segment sources: partitions read
  std::string field_buf;

  bool PartitionSelected(int32_t p) const {
    if (o.partitions.empty()) return true;
    return std::find(o.partitions.begin(), o.partitions.end(), p) != o.partitions.end();
  }

  int64_t EventTime(const Record& r) {
    if (o.time_field.empty()) return r.timestamp;
    if (r.value.null()) return -1;
    bool found = false;
    field_buf.clear();
    if (!ExtractJsonField(r.value.view(), o.time_field, &field_buf, &found).ok() || !found) return -1;
    auto t = ParseRfc3339(field_buf);
    if (t.ok()) return *t;
    char* end = nullptr;
    double d = std::strtod(field_buf.c_str(), &end);  // epoch milliseconds
    if (field_buf.empty() || *end || !(d >= 0) || d > 9e15) return -1;
    return static_cast<int64_t>(d);
  }
};

Selection::~Selection() = default;

Result<std::unique_ptr<Selection>> Selection::Open(const SelectionOptions& o, const Positions& resume,
                                                   uint64_t resume_jsonl_records, Reporter* reporter) {
  std::unique_ptr<Selection> sel(new Selection());
  sel->impl_ = std::make_unique<Impl>();
  Impl& s = *sel->impl_;
  s.o = o;
  s.reporter = reporter;
  s.pos = resume;
  if (!o.keys_file.empty()) {
    auto text = ReadFileToString(o.keys_file);
    if (!text.ok()) return Status::NotFound(fmt::format("--keys: cannot read {}", o.keys_file));
    size_t start = 0;
    while (start < text->size()) {
      size_t nl = text->find('\n', start);
      if (nl == std::string::npos) nl = text->size();
      std::string k = text->substr(start, nl - start);
      if (!k.empty() && k.back() == '\r') k.pop_back();
      if (!k.empty()) s.keys.insert(k);
      start = nl + 1;
    }
    s.has_keys = true;
  }
  size_t kafka_count = 0, seg_count = 0;
  for (const auto& p : o.sources) {
    kafka_count += kafka::IsKafkaUrl(p);
    seg_count += !kafka::IsKafkaUrl(p) && p != "-" &&
                 (IsDirectory(p) || (p.size() > 4 && p.compare(p.size() - 4, 4, ".log") == 0));
  }
  if (o.sources.empty()) return Status::InvalidArgument("no source given");
  if (kafka_count > 0) {
    if (o.sources.size() != 1) return Status::InvalidArgument("replay one Kafka topic at a time");
    // Resume: reading starts at the original position again (a partition the checkpoint
    // does not name may not have been read at all); records below each partition's
    // checkpointed position are skipped as they come.
    auto src = o.merge_time ? OpenKafkaMerged(o.sources[0], o.read, o.kafka, o.kafka_read, o.partitions, reporter)
                            : OpenKafkaSource(o.sources[0], o.read, o.kafka, o.kafka_read, o.partitions, reporter);
    if (!src.ok()) return src.status();
    s.src = std::move(*src);
    s.kafka = true;
    s.partitions = o.partitions.size();  // 0: all of the topic, not counted
  } else if (seg_count > 0) {
    if (seg_count != o.sources.size())
      return Status::InvalidArgument("give either segment files/directories or JSON Lines files, not both");
    auto parts = ResolvePartitions(o.sources);
    if (!parts.ok()) return parts.status();
    // Per selected partition: where reading starts (a resumed run: the checkpoint).
    std::vector<std::pair<PartitionDir, ReadOptions>> plan;
    for (auto& pd : *parts) {
      if (!s.PartitionSelected(pd.partition)) continue;
      ReadOptions ro = o.read;
      auto it = resume.find({pd.topic, pd.partition});
      if (it != resume.end()) ro.from = Bound{Bound::kOffset, it->second};
      auto next = PartitionNextOffset(pd.path);
      if (next.ok() && !pd.segments.empty()) {
        int64_t lo = ro.from.kind == Bound::kOffset ? ro.from.value : pd.segments.front().base_offset;
        int64_t hi = ro.until.kind == Bound::kOffset ? std::min(ro.until.value, *next) : *next;
        s.estimate = std::max<int64_t>(s.estimate, 0) + std::max<int64_t>(0, hi - lo);
      }
      plan.emplace_back(std::move(pd), ro);
    }
    if (plan.empty()) return Status::NotFound("no partition of the sources is selected by --partitions");
    s.partitions = plan.size();
    if (o.merge_time && plan.size() > 1) {
      std::vector<std::unique_ptr<Source>> per;
      for (auto& [pd, ro] : plan)
        per.push_back(std::make_unique<SegmentSource>(std::vector<PartitionDir>{pd}, ro, reporter));
      s.src = MergeByTime(std::move(per));
    } else {
      // One partition after another, in order, decoded one batch ahead on a thread
      // (decompression overlaps with the sink).
      s.src = ReadSegmentsAhead(std::move(plan), reporter);
    }
  } else {
    std::vector<std::string> files;
    for (const auto& p : o.sources)
      if (p != "-") files.push_back(p);
    JsonlSourceOptions jo;
    s.src = std::make_unique<JsonlSource>(files, jo);
    s.jsonl = true;
    s.jsonl_skip = resume_jsonl_records;
  }
  auto w = MaybeWhere(std::move(s.src), o.where, reporter);
  if (!w.ok()) return w.status();
  s.src = FilterHeaders(std::move(*w), o.headers);
  return sel;
}

void Selection::SkipUpTo(const Positions& done) {
  for (const auto& [tp, off] : done) impl_->skip_upto[tp] = std::max(impl_->skip_upto[tp], off);
}

Status Selection::Next(RecordBatch* out, bool* eof) {
  Impl& s = *impl_;
  for (;;) {
    if (InterruptRequested()) return Status::Interrupted();
    bool e = false;
    EVT_RETURN_IF_ERROR(s.src->Next(&s.in, &e));
    if (e) {
      *eof = true;
      out->Clear();
      return Status::OK();
    }
    out->Clear();
    out->topic = s.in.topic;
    out->partition = s.in.partition;
    out->file = s.in.file;
    auto key = std::make_pair(s.in.topic, s.in.partition);
    int64_t* next = s.jsonl ? nullptr : &s.pos[key];
    auto skip_it = s.skip_upto.find(key);
    int64_t skip_below = skip_it == s.skip_upto.end() ? -1 : skip_it->second;
    for (const Record& r : s.in.records) {
      if (s.jsonl) {
        if (s.jsonl_seen++ < s.jsonl_skip) continue;
      } else {
        if (r.offset < *next && s.kafka) continue;  // resume: already done
        *next = std::max(*next, r.offset + 1);
        if (r.offset <= skip_below) continue;
      }
      ++s.scanned;
      if (s.jsonl && !s.PartitionSelected(r.partition >= 0 ? r.partition : s.in.partition)) continue;
      if (s.kafka && !s.PartitionSelected(s.in.partition)) continue;
      if (s.has_keys && (r.key.null() || !s.keys.count(std::string(r.key.view())))) continue;
      if (!s.o.time_field.empty()) {
        int64_t t = s.EventTime(r);
        if (t < 0) {
          ++s.missing_time;
          continue;
        }
        if (t < s.o.event_from || t >= s.o.event_until) continue;
      }
      Record c = r;
      c.header_begin = static_cast<uint32_t>(out->headers.size());
      const Header* hs = s.in.HeadersOf(r);
      out->headers.insert(out->headers.end(), hs, hs + r.header_count);
      out->records.push_back(c);
    }
    if (!out->records.empty()) {
      // `out` points into `s.in`'s memory, valid until the next call; its buffers are
      // shared, so a sink may hold them longer (KafkaSink sends without copying).
      out->ShareBuffers(s.in);
      *eof = false;
      return Status::OK();
    }
  }
}

const Positions& Selection::positions() const { return impl_->pos; }
uint64_t Selection::jsonl_records() const { return impl_->jsonl_seen; }
bool Selection::is_kafka() const { return impl_->kafka; }
bool Selection::is_jsonl() const { return impl_->jsonl; }
uint64_t Selection::scanned() const { return impl_->scanned; }
int64_t Selection::estimated_records() const { return impl_->estimate; }
size_t Selection::partition_count() const { return impl_->partitions; }
uint64_t Selection::missing_time_field() const { return impl_->missing_time; }
int64_t Selection::TimeOf(const Record& r) const { return impl_->EventTime(r); }

}  // namespace evt

// ---------------------------------------------------------------- replay

namespace evt {
namespace {

enum class DestKind { kKafka, kStdout, kJsonl, kSegments };

DestKind KindOf(const std::string& dst) {
  if (kafka::IsKafkaUrl(dst)) return DestKind::kKafka;
  if (dst == "-") return DestKind::kStdout;
  auto ends = [&](const char* s) {
    size_t n = std::strlen(s);
    return dst.size() >= n && dst.compare(dst.size() - n, n, s) == 0;
  };
  if (ends(".jsonl") || ends(".json") || ends(".ndjson") || IsRegularFile(dst)) return DestKind::kJsonl;
  return DestKind::kSegments;
}

const char* KindName(DestKind k) {
  switch (k) {
    case DestKind::kKafka: return "kafka";
    case DestKind::kStdout: return "stdout";
    case DestKind::kJsonl: return "jsonl";
    case DestKind::kSegments: return "segments";
  }
  return "?";
}

// Waits until `deadline_ns` (steady clock), in slices, unless interrupted.
void SleepUntil(int64_t deadline_ns) {
  for (;;) {
    if (InterruptRequested()) return;
    int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count();
    if (now >= deadline_ns) return;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(deadline_ns - now, 50'000'000)));
  }
}

std::string FormatEta(double secs) {
  int64_t s = static_cast<int64_t>(secs + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The pacing schedule: when each record is due, relative to the start.
class Pacer {
  // A due time past what int64 nanoseconds hold (--speed 1e-12 over an hour of history) is
  // as good as never: the run waits (Ctrl-C stops it) rather than wrapping to the past.
  static int64_t Saturate(double ns) {
    return ns >= 1e18 ? int64_t{1000000000000000000} : static_cast<int64_t>(ns);  // 31 years
  }

 public:
  Pacer(double rate, double speed, int64_t max_gap_ms) : rate_(rate), speed_(speed), max_gap_(max_gap_ms) {}
  bool active() const { return rate_ > 0 || speed_ > 0; }
  // Due time (ns after start) of the next record with time `t`.
  int64_t Due(int64_t t) {
    ++n_;
    if (rate_ > 0) return Saturate((n_ - 1) * 1e9 / rate_);
    if (hw_ < 0) {
      hw_ = t;
      return 0;
    }
    if (t > hw_) {
      int64_t gap = t - hw_;
      if (max_gap_ >= 0) gap = std::min(gap, max_gap_);
      virt_ms_ += gap;
      hw_ = t;
    }
    return Saturate(virt_ms_ * 1e6 / speed_);
  }

 private:
  double rate_, speed_;
  int64_t max_gap_;
  uint64_t n_ = 0;
  int64_t hw_ = -1;
  int64_t virt_ms_ = 0;
};

}  // namespace

Status RunReplay(const ReplayOptions& o, Reporter* reporter, ReplayStats* st) {
  auto t0 = std::chrono::steady_clock::now();
  const DestKind kind = KindOf(o.dst);
  if (o.rate > 0 && o.speed > 0) return Status::InvalidArgument("--rate and --speed: choose one");
  if (o.dedupe && (kind != DestKind::kKafka || o.partition != ReplayPartition::kKeep || !o.provenance))
    return Status::InvalidArgument("--dedupe needs a Kafka destination, --partition keep and --provenance");
  if (o.partition == ReplayPartition::kHash && kind != DestKind::kKafka)
    return Status::InvalidArgument("--partition hash needs a Kafka destination (it needs the partition count)");

  // ---- checkpoint: resume or start ----
  Checkpoint ck;
  bool resuming = false, complete = false;
  EVT_RETURN_IF_ERROR(OpenCheckpoint(o.dry_run ? "" : o.checkpoint, o.identity, "replay",
                                     "sources, selection or destination", reporter, &ck, &resuming, &complete));
  st->resumed = resuming;
  if (complete) {
    st->already_complete = true;
    st->replay_id = ck.replay_id;
    return Status::OK();
  }
  if (!resuming) ck.dest_kind = KindName(kind);
  st->replay_id = ck.replay_id;

  // ---- source ----
  auto sel = Selection::Open(o.sel, resuming ? ck.positions : Positions{}, resuming ? ck.jsonl_records : 0, reporter);
  if (!sel.ok()) return sel.status();
  Selection& S = **sel;
  // A topic read whole (--partitions not given) counts as several partitions.
  const bool several = S.partition_count() > 1 || (S.is_kafka() && S.partition_count() == 0);
  if (o.speed > 0 && !o.sel.merge_time && several)
    return Status::InvalidArgument("--speed over several partitions needs --merge time (or select one with --partitions)");

  // ---- destination ----
  std::unique_ptr<Sink> sink;
  kafka::KafkaSink* ksink = nullptr;
  TextSink* tsink = nullptr;
  std::map<std::string, int64_t> seg_ends;  // dest partition dir -> next offset
  const bool fixed_dir = kind == DestKind::kSegments && IsPartitionDirTarget(o.dst);
  auto seg_dir_of = [&](const std::string& topic, int32_t partition) {
    return fixed_dir ? o.dst : JoinPath(o.dst, fmt::format("{}-{}", topic, partition));
  };
  Positions dedupe_done;
  if (!o.dry_run) {
    if (kind == DestKind::kSegments) {
      // Exactly once: cut what was written after the checkpoint, and learn where each
      // destination partition ends.
      std::vector<std::string> dirs;
      if (fixed_dir) {
        dirs.push_back(o.dst);
      } else if (IsDirectory(o.dst)) {
        auto entries = ListDir(o.dst);
        if (!entries.ok()) return entries.status();
        for (const auto& e : *entries) {
          std::string t;
          int32_t p;
          if (e.is_dir && ParsePartitionDirName(e.name, &t, &p)) dirs.push_back(JoinPath(o.dst, e.name));
        }
      }
      for (const auto& d : dirs) {
        if (resuming) {
          auto it = ck.dest_ends.find(d);
          int64_t end = it == ck.dest_ends.end() ? 0 : it->second;
          uint64_t removed = 0;
          EVT_RETURN_IF_ERROR(TruncatePartitionTo(d, end, &removed));
          if (removed)
            reporter->Notice(fmt::format("replay: removed {} records from {} written after the checkpoint", removed, d));
          seg_ends[d] = end;
        } else {
          auto n = PartitionNextOffset(d);
          if (!n.ok()) return n.status();
          seg_ends[d] = *n;
        }
      }
      if (!resuming) ck.dest_ends = seg_ends;
      sink = std::make_unique<SegmentDirSink>(o.dst, fixed_dir, o.writer, reporter);
    } else if (kind == DestKind::kJsonl || kind == DestKind::kStdout) {
      std::unique_ptr<WritableFile> f;
      if (kind == DestKind::kJsonl) {
        if (resuming && ck.dest_size >= 0 && PathExists(o.dst)) {
          if (::truncate(o.dst.c_str(), static_cast<off_t>(ck.dest_size)) != 0)
            return Status::IOError(fmt::format("{}: cannot truncate to the checkpoint's {} bytes", o.dst, ck.dest_size));
        }
        auto w = WritableFile::Open(o.dst, true);
        if (!w.ok()) return w.status();
        f = std::move(*w);
        if (!resuming) ck.dest_size = static_cast<int64_t>(f->size());
      } else {
        f = WritableFile::FromFd(1, "stdout");
      }
      TextFormat tf;
      auto ts = TextSink::Create(tf, std::move(f));
      if (!ts.ok()) return ts.status();
      tsink = ts->get();
      sink = std::move(*ts);
    } else {
      auto t = kafka::ParseKafkaUrl(o.dst);
      if (!t.ok()) return t.status();
      if (t->topic.empty()) {
        if (!o.to_topic.empty()) {
          t->topic = o.to_topic;
        } else if (!o.sel.sources.empty() && kafka::IsKafkaUrl(o.sel.sources[0])) {
          auto s = kafka::ParseKafkaUrl(o.sel.sources[0]);
          if (s.ok()) t->topic = s->topic;
        }
        if (t->topic.empty())
          return Status::InvalidArgument(fmt::format("{}: name the destination topic (kafka://HOST/TOPIC or --to-topic)", o.dst));
      }
      kafka::KafkaWriteOptions wo = o.kafka_write;
      wo.policy = o.partition == ReplayPartition::kKeep   ? kafka::PartitionPolicy::kKeep
                  : o.partition == ReplayPartition::kHash ? kafka::PartitionPolicy::kHash
                                                          : kafka::PartitionPolicy::kFixed;
      wo.fixed_partition = o.fixed_partition;
      auto ks = kafka::KafkaSink::Open(*t, o.sel.kafka, wo);
      if (!ks.ok()) return ks.status();
      ksink = ks->get();
      sink = std::move(*ks);
      std::map<int32_t, int64_t> ends;
      if (resuming && o.dedupe) {
        // Read each destination partition past its checkpointed end: source records whose
        // evt.source is already there (this replay's id) are skipped.
        EVT_RETURN_IF_ERROR(ksink->Ends(&ends));
        uint64_t found = 0;
        for (const auto& [p, hi] : ends) {
          auto it = ck.dest_ends.find(std::to_string(p));
          int64_t from = it == ck.dest_ends.end() ? 0 : it->second;
          if (hi <= from) continue;
          kafka::KafkaTarget dt = *t;
          dt.partitions = {p};
          kafka::KafkaReadOptions ro;
          ro.from = Bound{Bound::kOffset, from};
          ro.isolation = kafka::Isolation::kReadUncommitted;
          auto src = kafka::KafkaSource::Open(dt, o.sel.kafka, ro, reporter);
          if (!src.ok()) return src.status();
          RecordBatch b;
          for (;;) {
            bool eof = false;
            EVT_RETURN_IF_ERROR((*src)->Next(&b, &eof));
            if (eof) break;
            for (const Record& r : b.records) {
              const Header* hs = b.HeadersOf(r);
              std::string_view ref, id;
              for (uint32_t i = 0; i < r.header_count; ++i) {
                if (hs[i].key == "evt.source") ref = hs[i].value.view();
                if (hs[i].key == "evt.replay.id") id = hs[i].value.view();
              }
              std::string topic;
              int32_t part;
              int64_t off;
              if (id != ck.replay_id || !ParseSourceRef(ref, &topic, &part, &off)) continue;
              int64_t& d = dedupe_done[{topic, part}];
              d = std::max(d, off);
              ++found;
            }
          }
        }
        if (found)
          reporter->Notice(fmt::format("replay: --dedupe: {} records past the checkpoint are already in {}; they are skipped",
                                       found, t->Describe()));
      }
      if (!resuming || ck.dest_ends.empty()) {
        ends.clear();
        EVT_RETURN_IF_ERROR(ksink->Ends(&ends));
        for (const auto& [p, hi] : ends) ck.dest_ends[std::to_string(p)] = hi;
      }
    }
  }

  // Dedupe hits: positions at or below are skipped (set before reading).
  if (!dedupe_done.empty()) S.SkipUpTo(dedupe_done);
  if (!o.checkpoint.empty() && !o.dry_run && !resuming) EVT_RETURN_IF_ERROR(WriteCheckpoint(o.checkpoint, ck));

  if (o.dry_run) {
    std::string json;
    EVT_RETURN_IF_ERROR(PlanSelection(&S, &json, &st->selected));
    st->scanned = S.scanned();
    st->missing_time_field = S.missing_time_field();
    auto outf = WritableFile::FromFd(1, "stdout");
    EVT_RETURN_IF_ERROR(outf->Append(json));
    EVT_RETURN_IF_ERROR(outf->Flush());
    st->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return Status::OK();
  }

  Pacer pacer(o.rate, o.speed, o.max_gap_ms);
  const int64_t start_ns = SteadyNs();
  int64_t last_ck_ns = start_ns, last_progress_ns = 0;
  RecordBatch in, out;
  std::string prov;
  int64_t pending_due = -1;  // due time of the record the pacer has scheduled but not sent
  const int64_t now_ts = NowMs();
  int64_t stamp = now_ts;  // --now-timestamps
  uint64_t stamp_count = 0;

  auto checkpoint = [&](bool complete) -> Status {
    if (o.checkpoint.empty() || o.dry_run) return Status::OK();
    // Everything handed to the sink must be durable or acknowledged first.
    if (tsink) {
      EVT_RETURN_IF_ERROR(kind == DestKind::kJsonl ? tsink->Sync() : tsink->Flush());
    } else {
      EVT_RETURN_IF_ERROR(sink->Flush());
    }
    if (ksink && ksink->produced() != ksink->delivered())
      return Status::DataProblem(fmt::format("{} records were not acknowledged by {}; the checkpoint stays before them",
                                             ksink->produced() - ksink->delivered(), o.dst));
    ck.positions = S.positions();
    ck.jsonl_records = S.jsonl_records();
    ck.complete = complete;
    if (kind == DestKind::kSegments) {
      for (const auto& [d, e] : seg_ends) ck.dest_ends[d] = e;
    } else if (kind == DestKind::kJsonl) {
      struct stat sb;
      if (::stat(o.dst.c_str(), &sb) == 0) ck.dest_size = sb.st_size;
    } else if (ksink) {
      std::map<int32_t, int64_t> ends;
      EVT_RETURN_IF_ERROR(ksink->Ends(&ends));
      for (const auto& [p, hi] : ends) ck.dest_ends[std::to_string(p)] = hi;
    }
    return WriteCheckpoint(o.checkpoint, ck);
  };

  auto progress = [&](bool final) {
    if (!o.progress) return;
    int64_t now = SteadyNs();
    if (!final && now - last_progress_ns < 250'000'000) return;
    last_progress_ns = now;
    double secs = (now - start_ns) / 1e9;
    double rate = secs > 0 ? st->written / secs : 0.0;
    std::string line = fmt::format("replay: {} records sent, {:.0f}/s", st->written, secs > 0 ? st->written / secs : 0.0);
    int64_t total = S.estimated_records();
    if (total > 0 && rate > 0 && !final) {
      // An upper bound: the offsets left to scan, at the sending rate so far.
      double left = std::max(0.0, (total - static_cast<double>(st->written)) / rate);
      line += fmt::format(", ETA {}", FormatEta(left));
    }
    if (pacer.active()) line += fmt::format(", {:.0f} ms behind schedule", st->max_lag_ms);
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
    std::fflush(stderr);
  };

  Status result;
  for (;;) {
    bool eof = false;
    Status s = S.Next(&in, &eof);
    if (!s.ok()) {
      result = s;
      break;
    }
    if (eof) break;
    const std::string& topic = o.to_topic.empty() ? in.topic : o.to_topic;
    // Map, stamp and pace, in runs of records that are due.
    size_t i = 0;
    while (i < in.records.size()) {
      out.Clear();
      out.topic = topic;
      out.partition = o.partition == ReplayPartition::kFixed ? o.fixed_partition : in.partition;
      out.file = in.file;
      out.ShareBuffers(in);
      stamp_count = 0;
      for (; i < in.records.size(); ++i) {
        const Record& r = in.records[i];
        if (pacer.active()) {
          if (pending_due < 0) pending_due = pacer.Due(S.TimeOf(r));
          if (pending_due > SteadyNs() - start_ns) {
            if (!out.records.empty()) break;  // send what is due first
            SleepUntil(start_ns + pending_due);
            if (InterruptRequested()) break;
          }
          st->max_lag_ms = std::max(st->max_lag_ms, (SteadyNs() - start_ns - pending_due) / 1e6);
          pending_due = -1;
        }
        Record c = r;
        if (o.partition == ReplayPartition::kFixed) c.partition = o.fixed_partition;
        if (o.now_timestamps) {
          // The time of sending: unpaced, read every 64 records of a run (a clock read per
          // record costs more than the millisecond it could add); paced, per record.
          if (pacer.active() || (stamp_count++ & 63) == 0) stamp = now_ts + (SteadyNs() - start_ns) / 1000000;
          c.timestamp = stamp;
          c.timestamp_type = TimestampType::kCreateTime;
        }
        c.header_begin = static_cast<uint32_t>(out.headers.size());
        const Header* hs = in.HeadersOf(r);
        out.headers.insert(out.headers.end(), hs, hs + r.header_count);
        if (o.provenance) {
          prov = fmt::format("{}/{}/{}", in.topic, in.partition, r.offset);
          out.headers.push_back(Header{"evt.source", Bytes::Of(out.arena.Copy(prov))});
          out.headers.push_back(Header{"evt.replay.id", Bytes::Of(out.arena.Copy(ck.replay_id))});
          c.header_count += 2;
        }
        out.records.push_back(c);
        if (st->first_ts < 0) st->first_ts = r.timestamp;
        st->last_ts = r.timestamp;
        st->bytes += r.key.size + r.value.size;
      }
      if (out.records.empty()) break;
      s = sink->Write(out);
      if (!s.ok()) {
        result = s;
        break;
      }
      st->written += out.records.size();
      st->selected += out.records.size();
      if (kind == DestKind::kSegments) seg_ends[seg_dir_of(out.topic, out.partition)] += static_cast<int64_t>(out.records.size());
      if (InterruptRequested()) break;
    }
    if (!result.ok()) break;
    if (InterruptRequested()) {
      result = Status::Interrupted();
      break;
    }
    progress(false);
    if (!o.checkpoint.empty() && SteadyNs() - last_ck_ns >= o.checkpoint_interval_ms * 1000000) {
      result = checkpoint(false);
      if (!result.ok()) break;
      last_ck_ns = SteadyNs();
    }
  }
  st->scanned = S.scanned();
  st->missing_time_field = S.missing_time_field();
  // Ctrl-C or an error: what reached the sink is made durable and checkpointed.
  bool interrupted = result.code() == Code::kInterrupted;
  if (interrupted) g_interrupted.store(false);  // let the flush below finish
  Status ckst = (result.ok() || interrupted) ? checkpoint(result.ok()) : Status::OK();
  if (interrupted) g_interrupted.store(true);
  Status cs = sink ? sink->Close() : Status::OK();
  progress(true);
  st->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!result.ok()) return result;
  if (!ckst.ok()) return ckst;
  return cs;
}

Status PlanSelection(Selection* S, std::string* json, uint64_t* selected) {
  struct Plan {
    int64_t first = -1, last = -1, first_ts = -1, last_ts = -1;
    uint64_t count = 0, bytes = 0;
  };
  std::map<std::pair<std::string, int32_t>, Plan> plan;
  RecordBatch in;
  for (;;) {
    bool eof = false;
    EVT_RETURN_IF_ERROR(S->Next(&in, &eof));
    if (eof) break;
    for (const Record& r : in.records) {
      Plan& p = plan[{in.topic, in.partition}];
      if (p.first < 0) p.first = r.offset, p.first_ts = r.timestamp;
      p.last = r.offset;
      p.last_ts = r.timestamp;
      ++p.count;
      p.bytes += r.key.size + r.value.size;
    }
    *selected += in.records.size();
  }
  for (const auto& [tp, p] : plan) {
    *json += "{\"topic\":";
    envelope::AppendJsonString(tp.first, json);
    fmt::format_to(std::back_inserter(*json),
                   ",\"partition\":{},\"first_offset\":{},\"last_offset\":{},\"records\":{},\"exact\":true,"
                   "\"first_timestamp\":{},\"last_timestamp\":{},\"bytes\":{}}}\n",
                   tp.second, p.first, p.last, p.count, p.first_ts, p.last_ts, p.bytes);
  }
  return Status::OK();
}

std::string ReplayStatsJson(const ReplayStats& s) {
  return fmt::format(
      "{{\"replay_id\":\"{}\",\"resumed\":{},\"already_complete\":{},\"scanned\":{},\"selected\":{},\"written\":{},"
      "\"missing_time_field\":{},\"first_timestamp\":{},\"last_timestamp\":{},\"bytes\":{},\"seconds\":{:.3f},"
      "\"max_lag_ms\":{:.1f}}}\n",
      s.replay_id, s.resumed, s.already_complete, s.scanned, s.selected, s.written, s.missing_time_field, s.first_ts,
      s.last_ts, s.bytes, s.seconds, s.max_lag_ms);
}

}  // namespace evt
