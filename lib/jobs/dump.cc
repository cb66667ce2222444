#include "lib/jobs/dump.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "formats/envelope/envelope.h"
#include "formats/kafka/compression.h"
#include "lib/base/coding.h"
#include "lib/base/term.h"
#include "lib/jobs/verify.h"

namespace evt {

std::string ControlRecordTypeName(std::string_view key) {
  if (key.size() < 4) return "UNKNOWN";
  int16_t type = static_cast<int16_t>(DecodeFixed16BE(reinterpret_cast<const uint8_t*>(key.data()) + 2));
  switch (type) {
    case 0: return "ABORT";
    case 1: return "COMMIT";
    case 2: return "LEADER_CHANGE";
    case 3: return "SNAPSHOT_HEADER";
    case 4: return "SNAPSHOT_FOOTER";
    case 5: return "KRAFT_VERSION";
    case 6: return "KRAFT_VOTERS";
    default: return fmt::format("UNKNOWN({})", type);
  }
}

namespace {

const char* TsTypeName(TimestampType t) {
  switch (t) {
    case TimestampType::kLogAppendTime: return "LogAppendTime";
    case TimestampType::kNone: return "NoTimestampType";
    default: return "CreateTime";
  }
}

void BatchJson(const BatchInfo& b, const std::string& file, std::string* o) {
  o->append("{\"file\":");
  envelope::AppendJsonString(file, o);
  if (b.magic < 2) {
    fmt::format_to(std::back_inserter(*o),
                   ",\"position\":{},\"offset\":{},\"message_size\":{},\"magic\":{},\"crc\":{},\"crc_ok\":{},"
                   "\"attributes\":{},\"codec\":\"{}\",\"timestamp_type\":{},\"timestamp\":{},\"record_count\":{}",
                   b.position, b.last_offset(), b.batch_length, b.magic, b.crc, b.crc_ok, b.attributes,
                   kafka::CodecName(b.codec), b.timestamp_type == TimestampType::kLogAppendTime ? 1 : 0,
                   b.first_timestamp, b.record_count);
    return;
  }
  fmt::format_to(std::back_inserter(*o),
                 ",\"position\":{},\"base_offset\":{},\"batch_length\":{},\"partition_leader_epoch\":{},\"magic\":{},"
                 "\"crc\":{},\"crc_ok\":{},\"attributes\":{},\"codec\":\"{}\",\"timestamp_type\":{},"
                 "\"transactional\":{},\"control\":{},\"last_offset_delta\":{},",
                 b.position, b.base_offset, b.batch_length, b.partition_leader_epoch, b.magic, b.crc, b.crc_ok,
                 b.attributes, kafka::CodecName(b.codec), b.timestamp_type == TimestampType::kLogAppendTime ? 1 : 0,
                 b.transactional, b.control, b.last_offset_delta);
  if (b.has_delete_horizon)
    fmt::format_to(std::back_inserter(*o), "\"delete_horizon\":{},", b.first_timestamp);
  else
    fmt::format_to(std::back_inserter(*o), "\"first_timestamp\":{},", b.first_timestamp);
  fmt::format_to(std::back_inserter(*o),
                 "\"max_timestamp\":{},\"producer_id\":{},\"producer_epoch\":{},\"base_sequence\":{},"
                 "\"record_count\":{},\"uncompressed_bytes\":{}",
                 b.max_timestamp, b.producer_id, b.producer_epoch, b.base_sequence, b.record_count,
                 b.uncompressed_bytes);
}

void BatchText(const BatchInfo& b, std::string* o) {
  if (b.magic < 2) {
    fmt::format_to(std::back_inserter(*o),
                   "offset: {} position: {} {}: {} size: {} magic: {} compresscodec: {} crc: {} isvalid: {}\n",
                   b.last_offset(), b.position, TsTypeName(b.timestamp_type), b.first_timestamp, b.size_bytes, b.magic,
                   kafka::CodecName(b.codec), b.crc, b.crc_ok);
    return;
  }
  int32_t last_seq = b.base_sequence < 0 ? -1 : b.base_sequence + b.last_offset_delta;
  fmt::format_to(std::back_inserter(*o),
                 "baseOffset: {} lastOffset: {} count: {} baseSequence: {} lastSequence: {} producerId: {} "
                 "producerEpoch: {} partitionLeaderEpoch: {} isTransactional: {} isControl: {} deleteHorizonMs: {} "
                 "position: {} {}: {} size: {} magic: {} compresscodec: {} crc: {} isvalid: {}\n",
                 b.base_offset, b.last_offset(), b.record_count, b.base_sequence, last_seq, b.producer_id,
                 b.producer_epoch, b.partition_leader_epoch, b.transactional, b.control,
                 b.has_delete_horizon ? fmt::format("{}", b.first_timestamp) : std::string("none"), b.position,
                 TsTypeName(b.timestamp_type), b.max_timestamp, b.size_bytes, b.magic, kafka::CodecName(b.codec), b.crc,
                 b.crc_ok);
}

// `dec`: what the decoding stage did to the record (its stored sizes), or null; `idx`: the
// message indexes of a Protobuf value, or null.
void RecordText(const RecordBatch& batch, const Record& r, const BatchInfo* bi, const DecodeInfo* dec,
                const protobuf::FramedInfo* idx, std::string* o) {
  int64_t key_size = r.key.null() ? -1 : static_cast<int64_t>(r.key.size);
  int64_t value_size = r.value.null() ? -1 : static_cast<int64_t>(r.value.size);
  if (dec) {
    key_size = dec->key_size;
    value_size = dec->value_size;
  }
  fmt::format_to(std::back_inserter(*o), "| offset: {} {}: {} keySize: {} valueSize: {}", r.offset,
                 TsTypeName(r.timestamp_type), r.timestamp, key_size, value_size);
  if (bi && bi->magic == 2 && bi->base_sequence >= 0)
    fmt::format_to(std::back_inserter(*o), " sequence: {}", bi->base_sequence + (r.offset - bi->base_offset));
  if (r.control) {
    fmt::format_to(std::back_inserter(*o), " controlType: {}\n", ControlRecordTypeName(r.key.view()));
    return;
  }
  o->append(" headerKeys: [");
  const Header* hs = batch.HeadersOf(r);
  for (uint32_t h = 0; h < r.header_count; ++h) {
    if (h) o->push_back(',');
    o->append(hs[h].key);
  }
  o->push_back(']');
  // Payloads print as text when they are valid UTF-8 without newlines, else as base64.
  auto payload = [&](const char* name, const Bytes& b) {
    fmt::format_to(std::back_inserter(*o), " {}: ", name);
    if (b.null()) {
      o->append("null");
    } else if (envelope::IsValidUtf8(b.view()) && !std::memchr(b.data, '\n', b.size) && !std::memchr(b.data, '\r', b.size)) {
      o->append(b.view());
    } else {
      o->append("base64:");
      envelope::AppendBase64(b.view(), o);
    }
  };
  // Schema-decoded values (the envelope's schema_id, value_format and decode_error).
  if (r.schema_id >= 0) fmt::format_to(std::back_inserter(*o), " schemaId: {}", r.schema_id);
  if (r.value_format != 0 && r.value_format != kFormatFailed)
    fmt::format_to(std::back_inserter(*o), " valueFormat: {}", ValueFormatName(r.value_format));
  if (idx)
    fmt::format_to(std::back_inserter(*o), " messageIndexes: [{}] indexEncoding: {}", fmt::join(idx->indexes, ","),
                   protobuf::IndexEncodingName(idx->encoding));
  if (r.decode_error != 0 && r.decode_error <= batch.decode_errors.size()) {
    o->append(" decodeError: ");
    envelope::AppendJsonString(batch.decode_errors[r.decode_error - 1], o);
  }
  payload("key", r.key);
  if (dec && dec->tombstone) o->append(" payload: <DELETE>");  // as kafka-dump-log --offsets-decoder
  else payload("payload", r.value);
  o->push_back('\n');
}

}  // namespace

namespace {
// A Kafka topic or JSON Lines: there are records, not batches, so each record is listed
// with the partition it belongs to.
Status DumpRecords(const DumpOptions& opts, WritableFile* out, Reporter* reporter) {
  DecodeSource* dec = nullptr;
  auto srcp = OpenDecodedSource(opts.source, opts.decode, reporter, &dec);
  if (!srcp.ok()) return srcp.status();
  Source& src = **srcp;
  RecordBatch batch;
  std::string o;
  int32_t current = -1;
  for (;;) {
    if (InterruptRequested()) return Status::Interrupted();
    bool eof = false;
    Status st = src.Next(&batch, &eof);
    o.clear();
    for (const Record& r : batch.records) {
      if (opts.json) {
        envelope::AppendRecord(batch, r, &o);
      } else {
        if (r.partition != current) {
          current = r.partition;
          fmt::format_to(std::back_inserter(o), "Dumping {}/{} (a consumer sees records, not batches)\n",
                         src.Describe(), current);
        }
        if (opts.records) RecordText(batch, r, nullptr, dec ? dec->InfoOf(r) : nullptr, dec ? dec->IndexesOf(r) : nullptr, &o);
      }
    }
    EVT_RETURN_IF_ERROR(out->Append(o));
    if (!st.ok()) return st;
    if (eof) break;
  }
  return Status::OK();
}
}  // namespace

namespace {

// `.index` and `.timeindex` files: their entries (up to the preallocated zero padding),
// then, when the segment is beside them, the check `verify` makes.
Status DumpIndex(const std::string& path, bool is_time, bool json, WritableFile* out, Reporter* reporter) {
  auto content = ReadFileToString(path);
  if (!content.ok()) return content.status();
  const size_t entry = is_time ? kafka::kTimeIndexEntrySize : kafka::kOffsetIndexEntrySize;
  int64_t base = 0;
  ParseSegmentFileName(Basename(path), is_time ? ".timeindex" : ".index", &base);
  std::string o;
  if (!json) fmt::format_to(std::back_inserter(o), "Dumping {}\n", path);
  const std::string& c = *content;
  for (size_t i = 0; i + entry <= c.size(); i += entry) {
    const char* p = c.data() + i;
    if (is_time) {
      int64_t ts = static_cast<int64_t>(DecodeFixed64BE(p));
      int32_t rel = static_cast<int32_t>(DecodeFixed32BE(p + 8));
      if (i > 0 && ts == 0 && rel == 0) break;
      if (json) fmt::format_to(std::back_inserter(o), "{{\"timestamp\":{},\"offset\":{}}}\n", ts, base + rel);
      else fmt::format_to(std::back_inserter(o), "timestamp: {} offset: {}\n", ts, base + rel);
    } else {
      int32_t rel = static_cast<int32_t>(DecodeFixed32BE(p));
      int32_t pos = static_cast<int32_t>(DecodeFixed32BE(p + 4));
      if (i > 0 && rel == 0 && pos == 0) break;
      if (json) fmt::format_to(std::back_inserter(o), "{{\"offset\":{},\"position\":{}}}\n", base + rel, pos);
      else fmt::format_to(std::back_inserter(o), "offset: {} position: {}\n", base + rel, pos);
    }
  }
  EVT_RETURN_IF_ERROR(out->Append(o));
  if (c.size() % entry != 0)
    return Status::Corruption(fmt::format("{}@{}: size {} is not a multiple of {}", path, c.size() - c.size() % entry,
                                          c.size(), entry));
  bool checked = false;
  std::string problem = CheckIndexBesideLog(path, is_time, &checked);
  if (!problem.empty()) return Status::Corruption(fmt::format("{}@0: {} (`evt verify --repair` rebuilds it)", path, problem));
  if (!checked) reporter->Notice(fmt::format("{}: no segment beside it: entries not checked against the log", path));
  return Status::OK();
}

// Kafka's checkpoint files (leader-epoch-checkpoint, recovery-point-offset-checkpoint, ...):
// a version line, a count line, then one entry a line.
Status DumpCheckpoint(const std::string& path, bool json, WritableFile* out) {
  auto content = ReadFileToString(path);
  if (!content.ok()) return content.status();
  std::vector<std::string_view> lines;
  std::string_view rest = *content;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  auto bad = [&](size_t line, const std::string& what) {
    return Status::Corruption(fmt::format("{}:{}: {}", path, line + 1, what));
  };
  auto number = [](std::string_view v, int64_t* n) {
    if (v.empty()) return false;
    char* end = nullptr;
    std::string s(v);
    *n = std::strtoll(s.c_str(), &end, 10);
    return *end == 0;
  };
  int64_t version = 0, count = 0;
  if (lines.size() < 2 || !number(lines[0], &version) || !number(lines[1], &count) || count < 0)
    return bad(0, "not a Kafka checkpoint file (a version line and an entry count line first)");
  const bool epochs = Basename(path) == "leader-epoch-checkpoint";
  std::string o;
  if (!json) fmt::format_to(std::back_inserter(o), "Dumping {}\nversion: {} entries: {}\n", path, version, count);
  int64_t seen = 0;
  for (size_t i = 2; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::vector<std::string_view> f;
    std::string_view l = lines[i];
    while (!l.empty()) {
      size_t sp = l.find(' ');
      if (sp != 0) f.push_back(l.substr(0, sp));
      l = sp == std::string_view::npos ? std::string_view() : l.substr(sp + 1);
    }
    int64_t a = 0, b = 0;
    if (epochs) {
      if (f.size() != 2 || !number(f[0], &a) || !number(f[1], &b)) return bad(i, "expected 'EPOCH START_OFFSET'");
      if (json) fmt::format_to(std::back_inserter(o), "{{\"epoch\":{},\"start_offset\":{}}}\n", a, b);
      else fmt::format_to(std::back_inserter(o), "epoch: {} start_offset: {}\n", a, b);
    } else {
      if (f.size() != 3 || !number(f[1], &a) || !number(f[2], &b)) return bad(i, "expected 'TOPIC PARTITION OFFSET'");
      if (json) {
        o.append("{\"topic\":");
        envelope::AppendJsonString(f[0], &o);
        fmt::format_to(std::back_inserter(o), ",\"partition\":{},\"offset\":{}}}\n", a, b);
      } else {
        fmt::format_to(std::back_inserter(o), "topic: {} partition: {} offset: {}\n", f[0], a, b);
      }
    }
    ++seen;
  }
  EVT_RETURN_IF_ERROR(out->Append(o));
  if (seen != count) return bad(1, fmt::format("says {} entries, holds {}", count, seen));
  return Status::OK();
}

}  // namespace

Status RunDump(const DumpOptions& opts, WritableFile* out, Reporter* reporter) {
  // Files of a partition directory that hold no records: their own listing.
  for (const auto& p : opts.source.paths) {
    if (InputKindOf(p) != InputKind::kNotRecords) continue;
    if (opts.source.paths.size() != 1)
      return Status::InvalidArgument(fmt::format("{}: dump an index or checkpoint file on its own", p));
    const std::string name = Basename(p);
    if (name.ends_with(".index")) return DumpIndex(p, false, opts.json, out, reporter);
    if (name.ends_with(".timeindex")) return DumpIndex(p, true, opts.json, out, reporter);
    if (name.ends_with("checkpoint")) return DumpCheckpoint(p, opts.json, out);
    return Status::InvalidArgument(fmt::format("{}: not a segment file, an index or a checkpoint", p));
  }
  for (const auto& p : opts.source.paths)
    if (InputKindOf(p) == InputKind::kKafka || InputKindOf(p) == InputKind::kJsonl) return DumpRecords(opts, out, reporter);
  auto dirs = ResolvePartitions(opts.source.paths);
  if (!dirs.ok()) return dirs.status();
  ReadOptions ro = opts.source.read;
  ro.include_control = true;
  ro.verify_crc = false;  // show bad CRCs as isvalid: false rather than stopping
  ro.target_records = 1024;
  std::string o;
  uint64_t bad_crcs = 0;  // shown as isvalid: false, and still a data problem (exit 1)
  for (const PartitionDir& pd : *dirs) {
    std::unique_ptr<Source> seg = std::make_unique<SegmentSource>(std::vector<PartitionDir>{pd}, ro, reporter);
    // Internal topics are decoded before --where sees them.
    DecodeSource* dec = nullptr;
    seg = MaybeDecodeTopic(std::move(seg), opts.decode, pd.topic, reporter, &dec);
    auto srcp = MaybeWhere(std::move(seg), opts.source.where, reporter);
    if (!srcp.ok()) return srcp.status();
    Source& src = **srcp;
    RecordBatch batch;
    std::string current_file;
    for (;;) {
      if (InterruptRequested()) return Status::Interrupted();
      bool eof = false;
      Status st = src.Next(&batch, &eof);
      // Print what was decoded before an error.
      o.clear();
      if (batch.file != current_file && !batch.batches.empty()) {
        current_file = batch.file;
        if (!opts.json) fmt::format_to(std::back_inserter(o), "Dumping {}\n", current_file);
      }
      size_t ri = 0;
      for (const BatchInfo& bi : batch.batches) {
        if (!bi.crc_ok) {
          ++bad_crcs;
          reporter->Corruption(batch.file, bi.position, 0,
                               fmt::format("crc mismatch (stored {:#010x}, computed {:#010x})", bi.crc, bi.computed_crc));
        }
        // With --where, list only batches that hold a matching record.
        if (!opts.source.where.exprs.empty() &&
            (ri >= batch.records.size() || batch.records[ri].source_pos != bi.position))
          continue;
        if (opts.json) {
          BatchJson(bi, batch.file, &o);
          if (opts.records) o.append(",\"records\":[");
        } else {
          BatchText(bi, &o);
        }
        // Records of this batch are those whose source_pos equals its position.
        bool first = true;
        while (ri < batch.records.size() && batch.records[ri].source_pos == bi.position) {
          const Record& r = batch.records[ri++];
          if (!opts.records) continue;
          if (opts.json) {
            if (!first) o.push_back(',');
            first = false;
            std::string line;
            envelope::AppendRecord(batch, r, &line);
            line.pop_back();  // newline
            if (r.control) {
              line.pop_back();  // closing brace
              line.append(",\"control_type\":");
              envelope::AppendJsonString(ControlRecordTypeName(r.key.view()), &line);
              line.push_back('}');
            }
            o.append(line);
          } else {
            RecordText(batch, r, &bi, dec ? dec->InfoOf(r) : nullptr, dec ? dec->IndexesOf(r) : nullptr, &o);
          }
        }
        if (opts.json) o.append(opts.records ? "]}\n" : "}\n");
      }
      EVT_RETURN_IF_ERROR(out->Append(o));
      if (!st.ok()) return st;
      if (eof) break;
    }
  }
  if (bad_crcs > 0)
    return Status::Corruption(fmt::format("{} batch{} with a bad CRC", bad_crcs, bad_crcs == 1 ? "" : "es"));
  return Status::OK();
}

}  // namespace evt
