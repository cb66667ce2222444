#include "formats/kafka/batch.h"

#include <xxhash.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "formats/kafka/compression.h"
#include "lib/base/coding.h"
#include "lib/base/crc.h"

namespace evt::kafka {

EntryState PeekEntry(std::string_view data, uint64_t pos, EntryHeader* h, std::string* reason) {
  if (pos > data.size()) {
    *reason = "position past end of data";
    return EntryState::kCorrupt;
  }
  size_t remaining = data.size() - pos;
  const char* p = data.data() + pos;
  // Need offset, length and magic to judge the entry.
  if (remaining < static_cast<size_t>(kMagicOffset + kMagicLength)) {
    *reason = fmt::format("incomplete entry header ({} bytes at end of file)", remaining);
    return EntryState::kTorn;
  }
  h->base_offset = static_cast<int64_t>(DecodeFixed64BE(p));
  h->length = static_cast<int32_t>(DecodeFixed32BE(p + kSizeOffset));
  h->magic = static_cast<int8_t>(p[kMagicOffset]);
  if (h->magic < 0 || h->magic > 2) {
    *reason = fmt::format("unknown magic byte {} (offset field {}, length field {})", h->magic, h->base_offset,
                          h->length);
    return EntryState::kCorrupt;
  }
  int min_len = h->magic == 2 ? kBatchLengthMin : (h->magic == 1 ? kLegacyMinSizeV1 : kLegacyMinSizeV0);
  if (h->length < min_len) {
    *reason = fmt::format("entry length {} below the minimum {} for magic {}", h->length, min_len, h->magic);
    return EntryState::kCorrupt;
  }
  if (static_cast<int64_t>(h->length) > kMaxBatchSize) {
    *reason = fmt::format("entry length {} exceeds the limit {}", h->length, kMaxBatchSize);
    return EntryState::kCorrupt;
  }
  if (h->base_offset < 0) {
    *reason = fmt::format("negative offset {}", h->base_offset);
    return EntryState::kCorrupt;
  }
  if (h->total_size() > remaining) {
    *reason = fmt::format("entry of {} bytes cut off after {} bytes", h->total_size(), remaining);
    return EntryState::kTorn;
  }
  return EntryState::kOk;
}

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
  const char* p = entry.data();
  BatchInfo info;
  info.position = position;
  info.size_bytes = entry.size();
  info.base_offset = static_cast<int64_t>(DecodeFixed64BE(p));
  info.batch_length = static_cast<int32_t>(DecodeFixed32BE(p + kSizeOffset));
  info.partition_leader_epoch = static_cast<int32_t>(DecodeFixed32BE(p + kPartitionLeaderEpochOffset));
  info.magic = 2;
  info.crc = DecodeFixed32BE(p + kCrcOffset);
  info.computed_crc = Crc32c(p + kCrcCoveredFrom, entry.size() - kCrcCoveredFrom);
  info.crc_ok = info.crc == info.computed_crc;
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  info.attributes = static_cast<int16_t>(DecodeFixed16BE(u + kAttributesOffset));
  info.codec = static_cast<int8_t>(info.attributes & kCompressionCodecMask);
  info.timestamp_type = (info.attributes & kTimestampTypeMask) ? TimestampType::kLogAppendTime
                                                               : TimestampType::kCreateTime;
  info.transactional = info.attributes & kTransactionalFlag;
  info.control = info.attributes & kControlFlag;
  info.has_delete_horizon = info.attributes & kDeleteHorizonFlag;
  info.last_offset_delta = static_cast<int32_t>(DecodeFixed32BE(p + kLastOffsetDeltaOffset));
  info.first_timestamp = static_cast<int64_t>(DecodeFixed64BE(p + kBaseTimestampOffset));
  info.max_timestamp = static_cast<int64_t>(DecodeFixed64BE(p + kMaxTimestampOffset));
  info.producer_id = static_cast<int64_t>(DecodeFixed64BE(p + kProducerIdOffset));
  info.producer_epoch = static_cast<int16_t>(DecodeFixed16BE(u + kProducerEpochOffset));
  info.base_sequence = static_cast<int32_t>(DecodeFixed32BE(p + kBaseSequenceOffset));
  info.record_count = static_cast<int32_t>(DecodeFixed32BE(p + kRecordsCountOffset));

  if (!info.crc_ok && opts.verify_crc)
    return Bad(fmt::format("crc mismatch (stored 0x{:08x}, computed 0x{:08x})", info.crc, info.computed_crc));
  if (info.codec > kZstd) return Bad(fmt::format("unknown compression codec {}", info.codec));
  if (info.last_offset_delta < 0) return Bad(fmt::format("negative last offset delta {}", info.last_offset_delta));
  if (info.record_count < 0) return Bad(fmt::format("negative record count {}", info.record_count));

  std::string_view records = entry.substr(kRecordsOffset);
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
  uint64_t pos = 0;
  while (pos < inner.size()) {
    EntryHeader h;
    std::string reason;
    EntryState st = PeekEntry(inner, pos, &h, &reason);
    if (st != EntryState::kOk) return Bad("inner message of compressed wrapper: " + reason);
    if (h.magic > w.magic) return Bad("inner message has a newer magic than its wrapper");
    LegacyMessage m;
    EVT_RETURN_IF_ERROR(ParseLegacy(inner.substr(pos, h.total_size()), &m));
    if (!m.crc_ok && opts.verify_crc) return Bad("crc mismatch in inner legacy message");
    if ((m.attributes & kLegacyCodecMask) != 0) return Bad("nested compression in legacy message set");
    msgs.push_back(m);
    pos += h.total_size();
  }
  if (msgs.empty()) return Bad("compressed legacy wrapper holds no messages");
  // Magic 1 wrappers carry the offset of the last inner message; inner offsets are relative.
  int64_t base = w.magic == 1 ? w.offset - msgs.back().offset : 0;
  int64_t prev = -1;
  int64_t max_ts = kNoTimestamp;
  for (size_t i = 0; i < msgs.size(); ++i) {
    int64_t off = base + msgs[i].offset;
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
  if (entry.size() < static_cast<size_t>(kMagicOffset + 1)) return Bad("entry too short");
  int8_t magic = static_cast<int8_t>(entry[kMagicOffset]);
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
  char* p = out->data() + start;
  EncodeFixed64BE(p + kOffsetOffset, static_cast<uint64_t>(base_offset));
  EncodeFixed32BE(p + kSizeOffset, static_cast<uint32_t>(total - kLogOverhead));
  EncodeFixed32BE(p + kPartitionLeaderEpochOffset, static_cast<uint32_t>(opts.partition_leader_epoch));
  p[kMagicOffset] = 2;
  p[kAttributesOffset] = static_cast<char>(attrs >> 8);
  p[kAttributesOffset + 1] = static_cast<char>(attrs);
  EncodeFixed32BE(p + kLastOffsetDeltaOffset, static_cast<uint32_t>(last_delta));
  EncodeFixed64BE(p + kBaseTimestampOffset, static_cast<uint64_t>(base_ts));
  EncodeFixed64BE(p + kMaxTimestampOffset, static_cast<uint64_t>(max_ts));
  EncodeFixed64BE(p + kProducerIdOffset, static_cast<uint64_t>(opts.producer_id));
  p[kProducerEpochOffset] = static_cast<char>(static_cast<uint16_t>(opts.producer_epoch) >> 8);
  p[kProducerEpochOffset + 1] = static_cast<char>(opts.producer_epoch);
  EncodeFixed32BE(p + kBaseSequenceOffset, static_cast<uint32_t>(opts.base_sequence));
  EncodeFixed32BE(p + kRecordsCountOffset, static_cast<uint32_t>(count));
  uint32_t crc = Crc32c(p + kCrcCoveredFrom, total - kCrcCoveredFrom);
  EncodeFixed32BE(p + kCrcOffset, crc);

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
  char* p = out->data() + start;
  int16_t attrs = static_cast<int16_t>(orig.attributes & ~kCompressionCodecMask);
  EncodeFixed64BE(p + kOffsetOffset, static_cast<uint64_t>(orig.base_offset));
  EncodeFixed32BE(p + kSizeOffset, static_cast<uint32_t>(kBatchHeaderSize - kLogOverhead));
  EncodeFixed32BE(p + kPartitionLeaderEpochOffset, static_cast<uint32_t>(orig.partition_leader_epoch));
  p[kMagicOffset] = 2;
  p[kAttributesOffset] = static_cast<char>(attrs >> 8);
  p[kAttributesOffset + 1] = static_cast<char>(attrs);
  EncodeFixed32BE(p + kLastOffsetDeltaOffset, static_cast<uint32_t>(orig.last_offset_delta));
  EncodeFixed64BE(p + kBaseTimestampOffset, static_cast<uint64_t>(orig.first_timestamp));
  EncodeFixed64BE(p + kMaxTimestampOffset, static_cast<uint64_t>(orig.max_timestamp));
  EncodeFixed64BE(p + kProducerIdOffset, static_cast<uint64_t>(orig.producer_id));
  p[kProducerEpochOffset] = static_cast<char>(static_cast<uint16_t>(orig.producer_epoch) >> 8);
  p[kProducerEpochOffset + 1] = static_cast<char>(orig.producer_epoch);
  EncodeFixed32BE(p + kBaseSequenceOffset, static_cast<uint32_t>(orig.base_sequence));
  EncodeFixed32BE(p + kRecordsCountOffset, 0);
  EncodeFixed32BE(p + kCrcOffset, Crc32c(p + kCrcCoveredFrom, kBatchHeaderSize - kCrcCoveredFrom));
}

}  // namespace evt::kafka
