#include "lib/pipeline/selection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "formats/envelope/envelope.h"
#include "lib/base/file.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"
#include "lib/pipeline/jsonl_source.h"

namespace evt {

Result<std::shared_ptr<const KeySet>> ReadKeysFile(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return Status::NotFound(fmt::format("--keys: cannot read {}", path));
  auto ks = std::make_shared<KeySet>();
  ks->hash = IdentityHash(*text);
  size_t start = 0;
  while (start < text->size()) {
    size_t nl = text->find('\n', start);
    if (nl == std::string::npos) nl = text->size();
    std::string k = text->substr(start, nl - start);
    if (!k.empty() && k.back() == '\r') k.pop_back();
    if (!k.empty()) ks->keys.insert(std::move(k));
    start = nl + 1;
  }
  return std::shared_ptr<const KeySet>(std::move(ks));
}

struct Selection::Impl {
  SelectionOptions o;
  Reporter* reporter = nullptr;
  std::unique_ptr<Source> src;
  Positions pos;
  std::map<std::pair<std::string, int32_t>, std::vector<int64_t>> skip;  // dedupe: sorted, per partition
  uint64_t jsonl_skip = 0, jsonl_seen = 0;
  bool kafka = false, jsonl = false;
  RecordBatch in;
  uint64_t scanned = 0, missing_time = 0;
  SourceInfo info;
  std::string field_buf;

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
  // The one place that decides what the sources are; it also applies --partitions and, for
  // segment sources, the resumed positions. A resumed topic is read from the original
  // position again (a partition the checkpoint does not name may not have been read at
  // all); records below each partition's checkpointed position are skipped as they come.
  SourceSpec spec = o;
  spec.start = resume;
  // --decode: the decoding stage goes before --where, which sees the decoded values.
  auto src = OpenDecodedSource(spec, o.decode, reporter, nullptr, &s.info);
  if (!src.ok()) return src.status();
  s.src = std::move(*src);
  s.kafka = s.info.kind == InputKind::kKafka;
  s.jsonl = s.info.kind == InputKind::kJsonl;
  if (s.jsonl) s.jsonl_skip = resume_jsonl_records;
  s.src = FilterHeaders(std::move(s.src), o.headers);
  return sel;
}

void Selection::SkipExactly(const std::map<std::pair<std::string, int32_t>, std::vector<int64_t>>& refs) {
  for (const auto& [tp, offs] : refs) {
    std::vector<int64_t>& v = impl_->skip[tp];
    v.insert(v.end(), offs.begin(), offs.end());
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
}

Status Selection::Next(RecordBatch* out, bool* eof) {
  Impl& s = *impl_;
  for (;;) {
    if (s.o.stop.requested()) return Status::Interrupted();
    bool e = false;
    EVT_RETURN_IF_ERROR(s.src->Next(&s.in, &e));
    if (e) {
      *eof = true;
      out->Clear();
      return Status::OK();
    }
    if (s.in.records.empty() && s.o.kafka_read.hooks) {  // --group: control back to the job
      out->Clear();
      return Status::OK();
    }
    out->Clear();
    out->topic = s.in.topic;
    out->partition = s.in.partition;
    out->file = s.in.file;
    auto key = std::make_pair(s.in.topic, s.in.partition);
    int64_t* next = s.jsonl ? nullptr : &s.pos[key];
    auto skip_it = s.skip.find(key);
    const std::vector<int64_t>* skip = skip_it == s.skip.end() ? nullptr : &skip_it->second;
    for (const Record& r : s.in.records) {
      if (s.jsonl) {
        if (s.jsonl_seen++ < s.jsonl_skip) continue;
      } else {
        if (r.offset < *next && s.kafka) continue;  // resume: already done
        *next = std::max(*next, r.offset + 1);
        if (skip && std::binary_search(skip->begin(), skip->end(), r.offset)) continue;
      }
      ++s.scanned;
      if (s.o.keys && (r.key.null() || !s.o.keys->keys.count(std::string(r.key.view())))) continue;
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

void Selection::ForgetPosition(const std::string& topic, int32_t partition) { impl_->pos.erase({topic, partition}); }
uint64_t Selection::jsonl_records() const { return impl_->jsonl_seen; }
bool Selection::is_kafka() const { return impl_->kafka; }
bool Selection::is_jsonl() const { return impl_->jsonl; }
uint64_t Selection::scanned() const { return impl_->scanned; }
int64_t Selection::estimated_records() const { return impl_->info.estimated_records; }
size_t Selection::partition_count() const { return impl_->info.partitions; }
uint64_t Selection::missing_time_field() const { return impl_->missing_time; }
int64_t Selection::TimeOf(const Record& r) const { return impl_->EventTime(r); }


Status PlanSelection(Selection* S, std::vector<PartitionPlan>* plan, uint64_t* selected) {
  std::map<std::pair<std::string, int32_t>, PartitionPlan> by;
  RecordBatch in;
  for (;;) {
    bool eof = false;
    EVT_RETURN_IF_ERROR(S->Next(&in, &eof));
    if (eof) break;
    for (const Record& r : in.records) {
      PartitionPlan& p = by[{in.topic, in.partition}];
      if (p.records == 0) {
        p.topic = in.topic;
        p.partition = in.partition;
        p.first_offset = r.offset;
        p.first_timestamp = r.timestamp;
      }
      p.last_offset = r.offset;
      p.last_timestamp = r.timestamp;
      ++p.records;
      p.bytes += r.key.size + r.value.size;
    }
    *selected += in.records.size();
  }
  plan->clear();
  for (auto& [tp, p] : by) plan->push_back(std::move(p));
  return Status::OK();
}

std::string PlanJson(const std::vector<PartitionPlan>& plan) {
  std::string json;
  for (const auto& p : plan) {
    json += "{\"topic\":";
    envelope::AppendJsonString(p.topic, &json);
    fmt::format_to(std::back_inserter(json),
                   ",\"partition\":{},\"first_offset\":{},\"last_offset\":{},\"records\":{},\"exact\":true,"
                   "\"first_timestamp\":{},\"last_timestamp\":{},\"bytes\":{}}}\n",
                   p.partition, p.first_offset, p.last_offset, p.records, p.first_timestamp, p.last_timestamp, p.bytes);
  }
  return json;
}

}  // namespace evt
