#include "formats/kafka/batch.h"

#include <xxhash.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "formats/kafka/compression.h"
#include "lib/base/coding.h"
#include "lib/base/crc.h"

namespace evt::kafka {

namespace {

// Kafka before 0.10 (magic 0) computed the LZ4 frame header checksum over the magic number
// too (KAFKA-3160); Java readers ignore it for magic 0. We recompute it so the standard
// frame decoder accepts the payload. Returns false when the header is not recognisable.
bool FixLegacyLz4HeaderChecksum(std::string_view in, std::string* out) {
  static constexpr char kLz4FrameMagic[4] = {'\x04', '\x22', '\x4D', '\x18'};  // 0x184D2204 LE
  if (in.size() < 7 || std::memcmp(in.data(), kLz4FrameMagic, 4) != 0) return false;
  uint8_t flg = static_cast<uint8_t>(in[4]);
  size_t desc = 2 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);
  if (in.size() < 4 + desc + 1) return false;
  out->assign(in);
  (*out)[4 + desc] = static_cast<char>((XXH32(in.data() + 4, desc, 0) >> 8) & 0xFF);
  return true;
}

}  // namespace

namespace {

Status Bad(std::string msg) { return Status::Corruption(std::move(msg)); }

// Reads a Kafka varint-length-prefixed byte field (-1 = null).
bool GetVarBytes(ByteReader* r, Bytes* out, bool* bad_length) {
  int32_t len;
  if (!r->GetVarint(&len)) return false;
  if (len < -1) {
    *bad_length = true;
    return false;
  }
  if (len == -1) {
    *out = Bytes::Null();
    return true;
  }
  std::string_view s;
  if (!r->GetBytes(static_cast<size_t>(len), &s)) return false;
  *out = Bytes::Of(s);
  return true;
}

Status DecodeV2Records(std::string_view records, const BatchInfo& info, RecordBatch* out) {
  ByteReader r(records);
  const bool log_append = info.timestamp_type == TimestampType::kLogAppendTime;
  out->records.reserve(out->records.size() + static_cast<size_t>(info.record_count));
  for (int32_t i = 0; i < info.record_count; ++i) {
    size_t rec_pos = r.pos();
    int32_t len;
    if (!r.GetVarint(&len)) return Bad(fmt::format("record {} of {}: bad length varint", i, info.record_count));
    if (len < 0 || static_cast<size_t>(len) > r.remaining())
      return Bad(fmt::format("record {} of {}: length {} exceeds the {} bytes left in the batch", i,
                             info.record_count, len, r.remaining()));
    ByteReader rr(r.cur(), static_cast<size_t>(len));
    r.Skip(static_cast<size_t>(len));
    int8_t attrs;
    int64_t ts_delta;
    int32_t off_delta;
    Record rec;
    bool bad_len = false;
    if (!rr.GetI8(&attrs) || !rr.GetVarlong(&ts_delta) || !rr.GetVarint(&off_delta) ||
        !GetVarBytes(&rr, &rec.key, &bad_len) || !GetVarBytes(&rr, &rec.value, &bad_len)) {
      return Bad(fmt::format("record {} of {} (at byte {} of the records): {}", i, info.record_count, rec_pos,
                             bad_len ? "negative field length" : "field runs past the record's length"));
    }
    int32_t hcount;
    if (!rr.GetVarint(&hcount) || hcount < 0 || static_cast<size_t>(hcount) > rr.remaining())
      return Bad(fmt::format("record {} of {}: bad header count", i, info.record_count));
    rec.header_begin = static_cast<uint32_t>(out->headers.size());
    rec.header_count = static_cast<uint32_t>(hcount);
    for (int32_t h = 0; h < hcount; ++h) {
      Bytes hk, hv;
      bool bad = false;
      if (!GetVarBytes(&rr, &hk, &bad) || hk.null() || !GetVarBytes(&rr, &hv, &bad))
        return Bad(fmt::format("record {} of {}: header {} is malformed", i, info.record_count, h));
      out->headers.push_back(Header{hk.view(), hv});
    }
    if (rr.remaining() != 0)
      return Bad(fmt::format("record {} of {}: {} unread bytes inside the record", i, info.record_count,
                             rr.remaining()));
    rec.offset = info.base_offset + off_delta;
    rec.timestamp = log_append ? info.max_timestamp : info.first_timestamp + ts_delta;
    rec.timestamp_type = info.timestamp_type;
    rec.source_pos = info.position;
    rec.control = info.control;
    out->records.push_back(rec);
  }
  if (r.remaining() != 0)
    return Bad(fmt::format("{} bytes after the last of {} records", r.remaining(), info.record_count));
  return Status::OK();
}

Status DecodeV2(std::string_view entry, uint64_t position, const DecodeOptions& opts, RecordBatch* out) {
  const EntryView e(entry);  // the caller checked it holds the whole header
  BatchInfo info;
  info.position = position;
  info.size_bytes = entry.size();
  info.base_offset = e.base_offset();
  info.batch_length = e.length();
  info.partition_leader_epoch = e.partition_leader_epoch();
  info.magic = 2;
  info.crc = e.crc();
  info.computed_crc = e.ComputeCrc();
  info.crc_ok = info.crc == info.computed_crc;
  info.attributes = e.attributes();
  info.codec = e.codec();
  info.timestamp_type = e.timestamp_type();
  info.transactional = e.is_transactional();
  info.control = e.is_control();
  info.has_delete_horizon = e.has_delete_horizon();
  info.last_offset_delta = e.last_offset_delta();
  info.first_timestamp = e.base_timestamp();
  info.max_timestamp = e.max_timestamp();
  info.producer_id = e.producer_id();
  info.producer_epoch = e.producer_epoch();
  info.base_sequence = e.base_sequence();
  info.record_count = e.records_count();

  if (!info.crc_ok && opts.verify_crc)
    return Bad(fmt::format("crc mismatch (stored 0x{:08x}, computed 0x{:08x})", info.crc, info.computed_crc));
  if (info.codec > kZstd) return Bad(fmt::format("unknown compression codec {}", info.codec));
  if (info.last_offset_delta < 0) return Bad(fmt::format("negative last offset delta {}", info.last_offset_delta));
  if (info.record_count < 0) return Bad(fmt::format("negative record count {}", info.record_count));

  std::string_view records = e.records();
  info.uncompressed_bytes = records.size();
  const bool want_records = opts.decode_records && (opts.include_control || !info.control);
  if (want_records && info.record_count > 0) {
    if (info.codec != kNone) {
      std::string* buf = out->NewBuffer();
      Status s = Decompress(static_cast<Codec>(info.codec), records, opts.max_uncompressed, buf);
      if (!s.ok()) return s;
      records = *buf;
      info.uncompressed_bytes = buf->size();
    }
    // Every record takes at least 7 bytes; refuse counts the payload cannot hold before
    // reserving memory for them.
    if (static_cast<uint64_t>(info.record_count) * 7 > records.size())
      return Bad(fmt::format("record count {} cannot fit in {} bytes of records", info.record_count,
                             records.size()));
    size_t first = out->records.size();
    EVT_RETURN_IF_ERROR(DecodeV2Records(records, info, out));
    for (size_t i = first; i < out->records.size(); ++i) {
      int64_t delta = out->records[i].offset - info.base_offset;
      if (delta > info.last_offset_delta)
        return Bad(fmt::format("record offset delta {} beyond the batch's last offset delta {}", delta,
                               info.last_offset_delta));
      if (i > first && out->records[i].offset <= out->records[i - 1].offset)
        return Bad(fmt::format("record offsets not increasing ({} after {})", out->records[i].offset,
                               out->records[i - 1].offset));
    }
  }
  out->batches.push_back(info);
  return Status::OK();
}

// One legacy message at the start of `m` (which is exactly one message, prefix included).
struct LegacyMessage {
  int64_t offset;
  int8_t magic;
  int8_t attributes;
  uint32_t crc;
  bool crc_ok;
  int64_t timestamp;
  Bytes key, value;
};

Status ParseLegacy(std::string_view m, LegacyMessage* msg) {
  ByteReader r(m);
  int32_t size;
  r.GetI64(&msg->offset);
  r.GetI32(&size);
  r.GetU32(&msg->crc);
  size_t crc_from = r.pos();
  r.GetI8(&msg->magic);
  r.GetI8(&msg->attributes);
  if (r.failed()) return Bad("legacy message header truncated");
  if (msg->magic != 0 && msg->magic != 1) return Bad(fmt::format("legacy message with magic {}", msg->magic));
  msg->timestamp = kNoTimestamp;
  if (msg->magic == 1 && !r.GetI64(&msg->timestamp)) return Bad("legacy message header truncated");
  for (Bytes* b : {&msg->key, &msg->value}) {
    int32_t len;
    if (!r.GetI32(&len)) return Bad("legacy message truncated");
    if (len < -1) return Bad(fmt::format("legacy message field length {}", len));
    if (len == -1) {
      *b = Bytes::Null();
      continue;
    }
    std::string_view s;
    if (!r.GetBytes(static_cast<size_t>(len), &s))
      return Bad(fmt::format("legacy message field length {} runs past the message", len));
    *b = Bytes::Of(s);
  }
  if (r.remaining() != 0) return Bad(fmt::format("{} unread bytes in legacy message", r.remaining()));
  msg->crc_ok = Crc32(m.data() + crc_from, m.size() - crc_from) == msg->crc;
  return Status::OK();
}

Status DecodeLegacy(std::string_view entry, uint64_t position, const DecodeOptions& opts, RecordBatch* out) {
  LegacyMessage w;
  EVT_RETURN_IF_ERROR(ParseLegacy(entry, &w));
  BatchInfo info;
  info.position = position;
  info.size_bytes = entry.size();
  info.batch_length = static_cast<int32_t>(entry.size() - kLogOverhead);
  info.magic = w.magic;
  info.crc = w.crc;
  info.crc_ok = w.crc_ok;
  info.attributes = static_cast<uint8_t>(w.attributes);
  info.codec = static_cast<int8_t>(w.attributes & kLegacyCodecMask);
  info.timestamp_type = w.magic == 0 ? TimestampType::kNone
                        : (w.attributes & kLegacyTimestampTypeMask) ? TimestampType::kLogAppendTime
                                                                    : TimestampType::kCreateTime;
  info.first_timestamp = info.max_timestamp = w.timestamp;
  info.base_offset = w.offset;
  info.record_count = 1;
  info.uncompressed_bytes = w.value.size;
  if (!w.crc_ok && opts.verify_crc) return Bad("crc mismatch in legacy message");
  if (info.codec > kZstd) return Bad(fmt::format("unknown compression codec {}", info.codec));

  auto emit = [&](const LegacyMessage& m, int64_t offset, int64_t ts, TimestampType tt) {
    Record rec;
    rec.offset = offset;
    rec.timestamp = ts;
    rec.timestamp_type = tt == TimestampType::kNone ? TimestampType::kCreateTime : tt;
    rec.key = m.key;
    rec.value = m.value;
    rec.header_begin = static_cast<uint32_t>(out->headers.size());
    rec.source_pos = position;
    out->records.push_back(rec);
  };

  if (info.codec == kNone) {
    if (opts.decode_records) emit(w, w.offset, w.timestamp, info.timestamp_type);
    out->batches.push_back(info);
    return Status::OK();
  }
  // A compressed wrapper: the value holds a message set of inner messages.
  if (w.value.null()) return Bad("compressed legacy wrapper without a value");
  std::string* buf = out->NewBuffer();
  std::string_view payload = w.value.view();
  std::string fixed;
  if (info.magic == 0 && info.codec == kLz4 && FixLegacyLz4HeaderChecksum(payload, &fixed)) payload = fixed;
  EVT_RETURN_IF_ERROR(Decompress(static_cast<Codec>(info.codec), payload, opts.max_uncompressed, buf));
  info.uncompressed_bytes = buf->size();
  std::string_view inner = *buf;
  std::vector<LegacyMessage> msgs;
  for (EntryWalker iw(inner); !iw.done(); iw.Next()) {
    if (!iw.ok()) return Bad("inner message of compressed wrapper: " + iw.reason());
    if (iw.entry().magic() > w.magic) return Bad("inner message has a newer magic than its wrapper");
    LegacyMessage m;
    EVT_RETURN_IF_ERROR(ParseLegacy(iw.entry().bytes(), &m));
    if (!m.crc_ok && opts.verify_crc) return Bad("crc mismatch in inner legacy message");
    if ((m.attributes & kLegacyCodecMask) != 0) return Bad("nested compression in legacy message set");
    msgs.push_back(m);
  }
  if (msgs.empty()) return Bad("compressed legacy wrapper holds no messages");
  // Magic 1 wrappers carry the offset of the last inner message; inner offsets are relative.
  // Offsets are as hostile as any field: the arithmetic is checked (batch_fuzz found an
  // overflow here).
  int64_t base = 0;
  if (w.magic == 1 && __builtin_sub_overflow(w.offset, msgs.back().offset, &base))
    return Bad(fmt::format("inner offset {} does not fit under the wrapper's offset {}", msgs.back().offset, w.offset));
  int64_t prev = -1;
  int64_t max_ts = kNoTimestamp;
  for (size_t i = 0; i < msgs.size(); ++i) {
    int64_t off = 0;
    if (msgs[i].offset < 0 || __builtin_add_overflow(base, msgs[i].offset, &off) || off < 0)
      return Bad(fmt::format("inner message offset {} is out of range", msgs[i].offset));
    if (off <= prev) return Bad(fmt::format("inner offsets not increasing ({} after {})", off, prev));
    prev = off;
    int64_t ts = msgs[i].magic == 0 ? kNoTimestamp
                 : info.timestamp_type == TimestampType::kLogAppendTime ? w.timestamp
                                                                         : msgs[i].timestamp;
    max_ts = std::max(max_ts, ts);
    if (opts.decode_records) emit(msgs[i], off, ts, info.timestamp_type);
  }
  info.base_offset = base + msgs.front().offset;
  info.last_offset_delta = static_cast<int32_t>(prev - info.base_offset);
  info.record_count = static_cast<int32_t>(msgs.size());
  info.first_timestamp = w.timestamp;
  if (w.magic == 1 && info.timestamp_type != TimestampType::kLogAppendTime) info.max_timestamp = std::max(max_ts, w.timestamp);
  out->batches.push_back(info);
  return Status::OK();
}

}  // namespace

Status DecodeEntry(std::string_view entry, uint64_t position, const DecodeOptions& opts, RecordBatch* out) {
  if (entry.size() < static_cast<size_t>(kMagicOffset + kMagicLength)) return Bad("entry too short");
  int8_t magic = EntryView(entry).magic();
  size_t rec_before = out->records.size();
  size_t hdr_before = out->headers.size();
  Status s = magic == 2 ? (entry.size() < static_cast<size_t>(kBatchHeaderSize) ? Bad("batch shorter than its header")
                                                                                 : DecodeV2(entry, position, opts, out))
                        : DecodeLegacy(entry, position, opts, out);
  if (!s.ok()) {  // leave no half-decoded records behind
    out->records.resize(rec_before);
    out->headers.resize(hdr_before);
  }
  return s;
}

// ---------------------------------------------------------------- encoding
namespace {

inline size_t BytesFieldSize(const Bytes& b) {
  if (b.null()) return VarintLength(-1);
  return VarintLength(static_cast<int32_t>(b.size)) + b.size;
}
inline void PutBytesField(std::string* out, const Bytes& b) {
  if (b.null()) {
    PutVarint(out, -1);
    return;
  }
  PutVarint(out, static_cast<int32_t>(b.size));
  out->append(b.data, b.size);
}

}  // namespace

Status EncodeBatch(const RecordBatch& b, size_t begin, size_t end, int64_t base_offset, bool keep_offsets,
                   const EncodeOptions& opts, std::string* out, BatchInfo* info) {
  if (begin >= end || end > b.records.size()) return Status::InvalidArgument("empty batch");
  const Record& first = b.records[begin];
  const bool log_append = first.timestamp_type == TimestampType::kLogAppendTime;
  const bool horizon = opts.delete_horizon >= 0;
  int64_t base_ts = horizon ? opts.delete_horizon : first.timestamp;
  int64_t max_ts = first.timestamp;
  const int64_t offset_origin = opts.absolute_offsets ? base_offset : first.offset;
  for (size_t i = begin; i < end; ++i) max_ts = std::max(max_ts, b.records[i].timestamp);

  thread_local std::string body;
  body.clear();
  int64_t last_delta = 0;
  for (size_t i = begin; i < end; ++i) {
    const Record& r = b.records[i];
    int64_t od = (keep_offsets || opts.absolute_offsets) ? r.offset - offset_origin : static_cast<int64_t>(i - begin);
    if (od < 0 || od < last_delta || (i > begin && od == last_delta))
      return Status::InvalidArgument(fmt::format("offsets not increasing at offset {}", r.offset));
    if (od > INT32_MAX) return Status::InvalidArgument("offset span does not fit one batch");
    last_delta = od;
    int64_t tsd = log_append ? 0 : r.timestamp - base_ts;
    const Header* hs = b.HeadersOf(r);
    size_t size = 1 + VarlongLength(tsd) + VarintLength(static_cast<int32_t>(od)) + BytesFieldSize(r.key) +
                  BytesFieldSize(r.value) + VarintLength(static_cast<int32_t>(r.header_count));
    for (uint32_t h = 0; h < r.header_count; ++h)
      size += VarintLength(static_cast<int32_t>(hs[h].key.size())) + hs[h].key.size() + BytesFieldSize(hs[h].value);
    if (size > static_cast<size_t>(INT32_MAX)) return Status::InvalidArgument("record too large");
    PutVarint(&body, static_cast<int32_t>(size));
    body.push_back(0);  // record attributes
    PutVarlong(&body, tsd);
    PutVarint(&body, static_cast<int32_t>(od));
    PutBytesField(&body, r.key);
    PutBytesField(&body, r.value);
    PutVarint(&body, static_cast<int32_t>(r.header_count));
    for (uint32_t h = 0; h < r.header_count; ++h) {
      PutVarint(&body, static_cast<int32_t>(hs[h].key.size()));
      body.append(hs[h].key);
      PutBytesField(&body, hs[h].value);
    }
  }

  size_t start = out->size();
  out->resize(start + kBatchHeaderSize);
  if (opts.codec == kNone) {
    out->append(body);
  } else {
    EVT_RETURN_IF_ERROR(Compress(opts.codec, opts.level, body, out));
  }
  size_t total = out->size() - start;
  if (total - kLogOverhead > static_cast<size_t>(kMaxBatchSize)) return Status::InvalidArgument("batch too large");
  int16_t attrs = static_cast<int16_t>(opts.codec & kCompressionCodecMask);
  if (log_append) attrs |= kTimestampTypeMask;
  if (opts.transactional) attrs |= kTransactionalFlag;
  if (opts.control) attrs |= kControlFlag;
  if (horizon) attrs |= kDeleteHorizonFlag;
  if (opts.last_offset >= 0) {
    int64_t d = opts.last_offset - base_offset;
    if (d < last_delta || d > INT32_MAX) return Status::InvalidArgument("last offset below the batch's records");
    last_delta = d;
  }
  int32_t count = static_cast<int32_t>(end - begin);
  const MutableEntryView e(out->data() + start, total);
  e.set_base_offset(base_offset);
  e.set_length(static_cast<int32_t>(total - kLogOverhead));
  e.set_partition_leader_epoch(opts.partition_leader_epoch);
  e.set_magic(2);
  e.set_attributes(attrs);
  e.set_last_offset_delta(static_cast<int32_t>(last_delta));
  e.set_base_timestamp(base_ts);
  e.set_max_timestamp(max_ts);
  e.set_producer_id(opts.producer_id);
  e.set_producer_epoch(opts.producer_epoch);
  e.set_base_sequence(opts.base_sequence);
  e.set_records_count(count);
  e.UpdateCrc();
  const uint32_t crc = e.crc();

  if (info) {
    *info = BatchInfo{};
    info->base_offset = base_offset;
    info->batch_length = static_cast<int32_t>(total - kLogOverhead);
    info->partition_leader_epoch = opts.partition_leader_epoch;
    info->crc = info->computed_crc = crc;
    info->attributes = attrs;
    info->codec = opts.codec;
    info->timestamp_type = log_append ? TimestampType::kLogAppendTime : TimestampType::kCreateTime;
    info->last_offset_delta = static_cast<int32_t>(last_delta);
    info->first_timestamp = base_ts;
    info->transactional = opts.transactional;
    info->control = opts.control;
    info->has_delete_horizon = horizon;
    info->max_timestamp = max_ts;
    info->producer_id = opts.producer_id;
    info->producer_epoch = opts.producer_epoch;
    info->base_sequence = opts.base_sequence;
    info->record_count = count;
    info->size_bytes = total;
    info->uncompressed_bytes = body.size();
  }
  return Status::OK();
}


void EncodeEmptyBatch(const BatchInfo& orig, std::string* out) {
  size_t start = out->size();
  out->resize(start + kBatchHeaderSize);
  const MutableEntryView e(out->data() + start, kBatchHeaderSize);
  e.set_base_offset(orig.base_offset);
  e.set_length(kBatchLengthMin);
  e.set_partition_leader_epoch(orig.partition_leader_epoch);
  e.set_magic(2);
  e.set_attributes(static_cast<int16_t>(orig.attributes & ~kCompressionCodecMask));
  e.set_last_offset_delta(orig.last_offset_delta);
  e.set_base_timestamp(orig.first_timestamp);
  e.set_max_timestamp(orig.max_timestamp);
  e.set_producer_id(orig.producer_id);
  e.set_producer_epoch(orig.producer_epoch);
  e.set_base_sequence(orig.base_sequence);
  e.set_records_count(0);
  e.UpdateCrc();
}

}  // namespace evt::kafka
