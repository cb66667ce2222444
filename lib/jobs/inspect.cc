#include "lib/jobs/inspect.h"

#include <fmt/format.h>

#include <algorithm>

#include "formats/envelope/envelope.h"
#include "formats/kafka/compression.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"

namespace evt {

namespace {
void AddId(std::set<std::string>* ids, std::string_view id, bool* truncated) {
  if (ids->size() < DecodedStats::kMaxIds) ids->emplace(id);
  else if (!ids->count(std::string(id))) *truncated = true;
}
}  // namespace

void DecodedStats::Add(const DecodeInfo& d) {
  using kafka_internal::KeyType;
  if (!d.key_ok || !d.value_ok) {
    ++not_decoded;
    return;
  }
  if (d.tombstone) ++tombstones;
  switch (d.type) {
    case KeyType::kOffsetCommit: ++offset_commits; AddId(&groups, d.id, &ids_truncated); break;
    case KeyType::kGroupMetadata: ++group_metadata; AddId(&groups, d.id, &ids_truncated); break;
    case KeyType::kTransaction: ++transactions; AddId(&transactional_ids, d.id, &ids_truncated); break;
    case KeyType::kUnknown: break;
  }
}

void DecodedStats::Merge(const DecodedStats& o) {
  offset_commits += o.offset_commits;
  group_metadata += o.group_metadata;
  transactions += o.transactions;
  tombstones += o.tombstones;
  not_decoded += o.not_decoded;
  for (auto& g : o.groups) AddId(&groups, g, &ids_truncated);
  for (auto& t : o.transactional_ids) AddId(&transactional_ids, t, &ids_truncated);
  ids_truncated |= o.ids_truncated;
}

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
  decoded.Merge(o.decoded);
}

namespace {
// What every record adds to its partition's statistics (control records excluded).
// `dec`: the decoding stage, when it may have decoded the record.
void CountRecord(const RecordBatch& batch, const Record& r, const DecodeSource* dec, PartitionStats* st) {
  ++st->records;
  if (const DecodeInfo* d = dec ? dec->InfoOf(r) : nullptr) st->decoded.Add(*d);
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
  DecodeSource* dec = nullptr;
  auto srcp = OpenDecodedSource(opts.source, opts.decode, reporter, &dec);
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
      CountRecord(batch, r, dec, &st);
      // No batches: the record bytes (as stored, when decoded).
      const DecodeInfo* d = dec ? dec->InfoOf(r) : nullptr;
      st.uncompressed_bytes += d ? std::max<int64_t>(d->key_size, 0) + std::max<int64_t>(d->value_size, 0)
                                 : r.key.size + r.value.size;
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
    std::unique_ptr<Source> seg = std::make_unique<SegmentSource>(std::vector<PartitionDir>{pd}, ro, reporter);
    DecodeSource* dec = nullptr;  // internal topics: decoded before --where, counted by type
    seg = MaybeDecodeTopic(std::move(seg), opts.decode, pd.topic, reporter, &dec);
    auto srcp = MaybeWhere(std::move(seg), opts.source.where, reporter);
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
        if (!r.control) CountRecord(batch, r, dec, &st);
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
  if (s.decoded.any()) {
    const DecodedStats& d = s.decoded;
    fmt::format_to(std::back_inserter(*o),
                   ",\"decoded\":{{\"offset_commits\":{},\"group_metadata\":{},\"transactions\":{},"
                   "\"tombstones\":{},\"not_decoded\":{},\"groups\":[",
                   d.offset_commits, d.group_metadata, d.transactions, d.tombstones, d.not_decoded);
    bool first_id = true;
    for (auto& g : d.groups) {
      if (!first_id) o->push_back(',');
      first_id = false;
      envelope::AppendJsonString(g, o);
    }
    o->append("],\"transactional_ids\":[");
    first_id = true;
    for (auto& t : d.transactional_ids) {
      if (!first_id) o->push_back(',');
      first_id = false;
      envelope::AppendJsonString(t, o);
    }
    o->push_back(']');
    if (d.ids_truncated) o->append(",\"ids_truncated\":true");
    o->push_back('}');
  }
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
  // Internal topics: what their records are.
  if (total.decoded.any()) {
    const DecodedStats& d = total.decoded;
    fmt::format_to(std::back_inserter(o),
                   "decoded: offset commits {}  group metadata {}  transactions {}  tombstones {}  not decoded {}\n",
                   d.offset_commits, d.group_metadata, d.transactions, d.tombstones, d.not_decoded);
    auto list = [&](const char* what, const std::set<std::string>& ids) {
      if (ids.empty()) return;
      fmt::format_to(std::back_inserter(o), "{} ({}{}): ", what, ids.size(), d.ids_truncated ? "+" : "");
      bool f1 = true;
      for (auto& id : ids) {
        o.append(f1 ? "" : ", ");
        f1 = false;
        o.append(id);
      }
      o.push_back('\n');
    };
    list("groups", d.groups);
    list("transactional ids", d.transactional_ids);
  }
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
