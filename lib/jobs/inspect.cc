#include "lib/jobs/inspect.h"

#include <fmt/format.h>

#include <algorithm>

#include "formats/envelope/envelope.h"
#include "formats/kafka/compression.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"

namespace evt {

void PartitionStats::Merge(const PartitionStats& o) {
  segments += o.segments;
  batches += o.batches;
  control_batches += o.control_batches;
  records += o.records;
  tombstones += o.tombstones;
  if (o.first_offset >= 0 && (first_offset < 0 || o.first_offset < first_offset)) first_offset = o.first_offset;
  last_offset = std::max(last_offset, o.last_offset);
  if (o.first_timestamp >= 0 && (first_timestamp < 0 || o.first_timestamp < first_timestamp))
    first_timestamp = o.first_timestamp;
  last_timestamp = std::max(last_timestamp, o.last_timestamp);
  bytes += o.bytes;
  uncompressed_bytes += o.uncompressed_bytes;
  for (auto& [k, v] : o.codecs) codecs[k] += v;
  for (auto p : o.producer_ids) {
    if (producer_ids.size() >= kMaxListed) { producer_ids_truncated = true; break; }
    producer_ids.insert(p);
  }
  producer_ids_truncated |= o.producer_ids_truncated;
  for (auto& h : o.header_keys) {
    if (header_keys.size() >= kMaxListed) { header_keys_truncated = true; break; }
    header_keys.insert(h);
  }
  header_keys_truncated |= o.header_keys_truncated;
  keys.Merge(o.keys);
  times.Merge(o.times);
  torn_tail_bytes += o.torn_tail_bytes;
}

namespace {
// What every record adds to its partition's statistics (control records excluded).
void CountRecord(const RecordBatch& batch, const Record& r, PartitionStats* st) {
  ++st->records;
  if (st->first_offset < 0) st->first_offset = r.offset;
  st->last_offset = std::max(st->last_offset, r.offset);
  if (r.timestamp >= 0) {
    if (st->first_timestamp < 0 || r.timestamp < st->first_timestamp) st->first_timestamp = r.timestamp;
    st->last_timestamp = std::max(st->last_timestamp, r.timestamp);
    st->times.Add(r.timestamp);
  }
  if (r.value.null()) ++st->tombstones;
  if (!r.key.null()) st->keys.Add(r.key.view());
  const Header* hs = batch.HeadersOf(r);
  for (uint32_t h = 0; h < r.header_count; ++h) {
    if (st->header_keys.size() >= PartitionStats::kMaxListed) {
      if (!st->header_keys.count(std::string(hs[h].key))) st->header_keys_truncated = true;
      continue;
    }
    st->header_keys.emplace(hs[h].key);
  }
}

// A Kafka topic or JSON Lines: the same statistics, from the records a consumer sees.
Status InspectRecords(const InspectOptions& opts, Reporter* reporter, std::vector<PartitionStats>* parts,
                           PartitionStats* total) {
  auto srcp = OpenSource(opts.source, reporter);
  if (!srcp.ok()) return srcp.status();
  std::map<int32_t, PartitionStats> by_part;
  RecordBatch batch;
  for (;;) {
    if (InterruptRequested()) return Status::Interrupted();
    bool eof = false;
    EVT_RETURN_IF_ERROR((*srcp)->Next(&batch, &eof));
    if (eof) break;
    for (const Record& r : batch.records) {
      PartitionStats& st = by_part[r.partition];
      st.topic = batch.topic;
      st.partition = r.partition;
      st.path = (*srcp)->Describe();
      CountRecord(batch, r, &st);
      st.uncompressed_bytes += r.key.size + r.value.size;  // no batches: the record bytes
    }
  }
  for (auto& [_, st] : by_part) {
    total->Merge(st);
    parts->push_back(std::move(st));
  }
  return Status::OK();
}
}  // namespace

Status RunInspect(const InspectOptions& opts, Reporter* reporter, std::vector<PartitionStats>* parts,
                  PartitionStats* total) {
  // Topics and JSON Lines have records, not batches: statistics from the records.
  for (const auto& p : opts.source.paths)
    if (InputKindOf(p) != InputKind::kSegments) return InspectRecords(opts, reporter, parts, total);
  auto dirs = ResolvePartitions(opts.source.paths);
  if (!dirs.ok()) return dirs.status();
  Status first_error;
  for (const PartitionDir& pd : *dirs) {
    PartitionStats st;
    st.topic = pd.topic;
    st.partition = pd.partition;
    st.path = pd.path;
    st.segments = pd.segments.size();
    ReadOptions ro = opts.source.read;
    ro.include_control = true;
    auto srcp = MaybeWhere(std::make_unique<SegmentSource>(std::vector<PartitionDir>{pd}, ro, reporter),
                           opts.source.where, reporter);
    if (!srcp.ok()) return srcp.status();
    Source& src = **srcp;
    RecordBatch batch;
    Status read;
    for (;;) {
      if (InterruptRequested()) return Status::Interrupted();
      bool eof = false;
      read = src.Next(&batch, &eof);
      if (eof) break;
      for (const BatchInfo& bi : batch.batches) {
        ++st.batches;
        if (bi.control) ++st.control_batches;
        st.bytes += bi.size_bytes;
        st.uncompressed_bytes += bi.uncompressed_bytes;
        st.codecs[kafka::CodecName(bi.codec)]++;
        if (bi.producer_id >= 0) {
          if (st.producer_ids.size() < PartitionStats::kMaxListed) st.producer_ids.insert(bi.producer_id);
          else if (!st.producer_ids.count(bi.producer_id)) st.producer_ids_truncated = true;
        }
      }
      for (const Record& r : batch.records)
        if (!r.control) CountRecord(batch, r, &st);
      if (!read.ok()) break;  // what was decoded before it is counted
    }
    total->Merge(st);
    parts->push_back(std::move(st));
    // The other partitions are still summarised; the first error is returned at the end.
    if (!read.ok() && read.code() != Code::kCorruption) return read;
    if (!read.ok() && first_error.ok()) first_error = read;
  }
  return first_error;
}

namespace {

void AppendStatsJson(const PartitionStats& s, bool is_total, size_t buckets, std::string* o) {
  o->push_back('{');
  if (!is_total) {
    o->append("\"topic\":");
    envelope::AppendJsonString(s.topic, o);
    fmt::format_to(std::back_inserter(*o), ",\"partition\":{},\"path\":", s.partition);
    envelope::AppendJsonString(s.path, o);
    o->push_back(',');
  }
  fmt::format_to(std::back_inserter(*o),
                 "\"segments\":{},\"batches\":{},\"control_batches\":{},\"records\":{},\"tombstones\":{},"
                 "\"first_offset\":{},\"last_offset\":{},\"first_timestamp\":{},\"last_timestamp\":{},"
                 "\"bytes\":{},\"uncompressed_bytes\":{},\"distinct_keys_estimate\":{},\"codecs\":{{",
                 s.segments, s.batches, s.control_batches, s.records, s.tombstones, s.first_offset, s.last_offset,
                 s.first_timestamp, s.last_timestamp, s.bytes, s.uncompressed_bytes, s.keys.Estimate());
  bool first = true;
  for (auto& [k, v] : s.codecs) {
    if (!first) o->push_back(',');
    first = false;
    envelope::AppendJsonString(k, o);
    fmt::format_to(std::back_inserter(*o), ":{}", v);
  }
  o->append("},\"producer_ids\":[");
  first = true;
  for (auto p : s.producer_ids) {
    if (!first) o->push_back(',');
    first = false;
    fmt::format_to(std::back_inserter(*o), "{}", p);
  }
  o->append("],\"header_keys\":[");
  first = true;
  for (auto& h : s.header_keys) {
    if (!first) o->push_back(',');
    first = false;
    envelope::AppendJsonString(h, o);
  }
  o->push_back(']');
  if (s.producer_ids_truncated) o->append(",\"producer_ids_truncated\":true");
  if (s.header_keys_truncated) o->append(",\"header_keys_truncated\":true");
  if (buckets > 0) {
    o->append(",\"histogram\":[");
    auto counts = s.times.Counts(buckets);
    for (size_t i = 0; i < counts.size(); ++i) fmt::format_to(std::back_inserter(*o), "{}{}", i ? "," : "", counts[i]);
    o->push_back(']');
  }
  o->push_back('}');
}

std::string Ts(int64_t ms) { return ms < 0 ? "-" : FormatRfc3339Ms(ms); }

}  // namespace

std::string InspectJson(const std::vector<PartitionStats>& parts, const PartitionStats& total, size_t buckets) {
  std::string o = "{\"partitions\":[";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) o.push_back(',');
    AppendStatsJson(parts[i], false, buckets, &o);
  }
  o.append("],\"total\":");
  AppendStatsJson(total, true, buckets, &o);
  o.append("}\n");
  return o;
}

std::string InspectTable(const std::vector<PartitionStats>& parts, const PartitionStats& total, size_t buckets) {
  std::string o;
  auto row = [&](const std::string& name, const PartitionStats& s) {
    std::string codecs;
    for (auto& [k, v] : s.codecs) codecs += (codecs.empty() ? "" : ",") + k;
    fmt::format_to(std::back_inserter(o), "{:<28} {:>5} {:>9} {:>11} {:>11} {:>11} {:>10} {:>10}  {:<24} {:<24} {}\n",
                   name, s.segments, s.batches, s.records, s.first_offset, s.last_offset, HumanBytes(s.bytes),
                   HumanBytes(s.uncompressed_bytes), Ts(s.first_timestamp), Ts(s.last_timestamp), codecs);
  };
  fmt::format_to(std::back_inserter(o), "{:<28} {:>5} {:>9} {:>11} {:>11} {:>11} {:>10} {:>10}  {:<24} {:<24} {}\n",
                 "PARTITION", "SEGS", "BATCHES", "RECORDS", "FIRST", "LAST", "BYTES", "RAW", "FIRST TIME",
                 "LAST TIME", "CODECS");
  for (const auto& p : parts) row(fmt::format("{}-{}", p.topic, p.partition), p);
  if (parts.size() > 1) row("TOTAL", total);
  fmt::format_to(std::back_inserter(o),
                 "\ntombstones {}  control batches {}  distinct keys ~{}  producer ids {}{}  header keys: ",
                 total.tombstones, total.control_batches, total.keys.Estimate(), total.producer_ids.size(),
                 total.producer_ids_truncated ? "+" : "");
  bool first = true;
  for (auto& h : total.header_keys) {
    o.append(first ? "" : ", ");
    first = false;
    o.append(h);
  }
  if (first) o.append("-");
  o.push_back('\n');
  // Records over time: bursts, gaps, the moment a producer stopped.
  if (buckets > 0) {
    o.append("\nRECORDS OVER TIME (each column 1/" + std::to_string(buckets) + " of the partition's span)\n");
    for (const auto& p : parts) {
      if (p.times.empty()) continue;
      fmt::format_to(std::back_inserter(o), "{:<28} |{}| {} .. {}\n", fmt::format("{}-{}", p.topic, p.partition),
                     Sparkline(p.times.Counts(buckets)), Ts(p.times.lo()), Ts(p.times.hi()));
    }
  }
  return o;
}

}  // namespace evt
