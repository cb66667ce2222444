// The record model shared by every source and sink.
//
// Records do not own their bytes: keys, values and headers are views into memory owned by
// the RecordBatch that holds them (an mmap'd segment, a decompression buffer or its arena),
// valid until the batch is refilled.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/arena.h"

namespace evt {

enum class TimestampType : int8_t { kNone = -1, kCreateTime = 0, kLogAppendTime = 1 };

// Bytes that may be null (Kafka distinguishes a null key from an empty one).
struct Bytes {
  const char* data = nullptr;
  uint32_t size = 0;
  bool is_null = true;

  static Bytes Null() { return Bytes{}; }
  static Bytes Of(std::string_view s) { return Bytes{s.data(), static_cast<uint32_t>(s.size()), false}; }
  std::string_view view() const { return std::string_view(data ? data : "", size); }
  bool null() const { return is_null; }
};

struct Header {
  std::string_view key;  // never null in Kafka
  Bytes value;
};

struct Record {
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp = -1;  // ms since epoch; -1 when unknown (magic 0)
  TimestampType timestamp_type = TimestampType::kCreateTime;
  // Set by the schema decoding stage (lib/pipeline/decode.h): the value's (and key's)
  // bytes were replaced by the JSON of this ValueFormat (0: not decoded), written with the
  // schema of `schema_id` (-1: none or unframed).
  uint8_t value_format = 0;
  uint8_t key_format = 0;
  int32_t schema_id = -1;
  Bytes key;
  Bytes value;
  uint32_t header_begin = 0;  // index into RecordBatch::headers
  uint32_t header_count = 0;
  // Position of the batch/entry this record came from (byte position in a segment file,
  // or line number for JSONL); used in error messages.
  uint64_t source_pos = 0;
  bool control = false;  // part of a control batch (transaction marker, KRaft control)
  // Why the key or value did not decode: 1 + an index into RecordBatch::decode_errors
  // (0: no error). The bytes are then as stored.
  uint32_t decode_error = 0;
};
static_assert(sizeof(Record) <= 88, "Record fields fit in what was padding");

// What Record::value_format / key_format say.
enum class ValueFormat : uint8_t { kNone = 0, kAvro = 1, kProtobuf = 2, kJson = 3 };
// A key or value whose decoding failed (its bytes are as stored; see decode_error).
inline constexpr uint8_t kFormatFailed = 0xff;
inline const char* ValueFormatName(uint8_t f) {
  switch (static_cast<ValueFormat>(f)) {
    case ValueFormat::kAvro: return "avro";
    case ValueFormat::kProtobuf: return "protobuf";
    case ValueFormat::kJson: return "json";
    default: return "";
  }
}

// Information about the container (a v2 record batch or a legacy message) a run of
// records came from; filled by segment readers, left empty by other sources.
struct BatchInfo {
  uint64_t position = 0;  // byte position in the file
  int64_t base_offset = 0;
  int32_t batch_length = 0;  // bytes after the 12-byte offset+length prefix
  int32_t partition_leader_epoch = -1;
  int8_t magic = 2;
  uint32_t crc = 0;
  uint32_t computed_crc = 0;
  bool crc_ok = true;
  int16_t attributes = 0;
  int8_t codec = 0;  // formats/kafka Codec
  TimestampType timestamp_type = TimestampType::kCreateTime;
  bool transactional = false;
  bool control = false;
  bool has_delete_horizon = false;
  int32_t last_offset_delta = 0;
  int64_t first_timestamp = -1;  // base timestamp; the delete horizon when has_delete_horizon
  int64_t max_timestamp = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;
  uint64_t size_bytes = 0;          // total bytes on disk (12 + batch_length)
  uint64_t uncompressed_bytes = 0;  // bytes of the records section after decompression
  int64_t last_offset() const { return base_offset + last_offset_delta; }
};

// A scratch buffer for decompressed batch payloads. Shared: a sink that sends records
// without copying them (KafkaSink) holds the buffers their bytes are in until they are
// delivered, while the batch goes on to be refilled with new buffers.
using SharedBuffer = std::shared_ptr<std::string>;

// A buffer from the process's pool of buffers no one holds any more (with its capacity,
// so reading does not fault in and zero new memory for every batch).
SharedBuffer PooledBuffer();

// A group of records from one topic-partition, with the storage their bytes live in.
class RecordBatch {
 public:
  std::string topic;
  int32_t partition = -1;
  std::string file;  // source file for diagnostics ("" for stdin/Kafka)
  std::vector<Record> records;
  std::vector<Header> headers;
  std::vector<BatchInfo> batches;  // containers these records came from (segment sources)
  std::vector<std::string> decode_errors;  // Record::decode_error - 1 indexes this
  Arena arena{1 << 16};

  void Clear() {
    records.clear();
    headers.clear();
    batches.clear();
    decode_errors.clear();
    arena.Reset();
    // This batch's own buffers that no one else holds are kept for the next fill; the
    // others, and buffers shared from other batches, are let go.
    for (SharedBuffer& b : own_)
      if (b.use_count() == 1) spare_.push_back(std::move(b));
    own_.clear();
    shared_.clear();
    std::atomic_thread_fence(std::memory_order_acquire);  // other holders' reads came before our writes
  }
  // A scratch buffer that lives (with its capacity) until the next Clear(); records may
  // point into it. Used for decompressed batch payloads.
  // Its contents are stale (whatever it held before): callers overwrite it, which lets
  // decompression reuse the memory without zero-filling it again.
  std::string* NewBuffer() {
    if (spare_.empty()) {
      own_.push_back(PooledBuffer());
    } else {
      own_.push_back(std::move(spare_.back()));
      spare_.pop_back();
    }
    return own_.back().get();
  }
  // Records copied from `from` into this batch may point into its buffers: hold them too.
  void ShareBuffers(const RecordBatch& from) {
    shared_.insert(shared_.end(), from.own_.begin(), from.own_.end());
    shared_.insert(shared_.end(), from.shared_.begin(), from.shared_.end());
  }
  // The buffer held by this batch that holds [p, p + n), or null (the bytes are in the
  // arena, a file mapping or elsewhere). `hint` remembers the last hit for the next lookup.
  const SharedBuffer* BufferHolding(const char* p, size_t n, size_t* hint) const {
    auto at = [&](size_t i) -> const SharedBuffer& { return i < own_.size() ? own_[i] : shared_[i - own_.size()]; };
    auto in = [&](size_t i) {
      const std::string& b = *at(i);
      return std::less_equal<const char*>()(b.data(), p) && std::less_equal<const char*>()(p + n, b.data() + b.size());
    };
    const size_t count = own_.size() + shared_.size();
    if (*hint < count && in(*hint)) return &at(*hint);
    for (size_t i = 0; i < count; ++i)
      if (in(i)) return &at(*hint = i);
    return nullptr;
  }
  const Header* HeadersOf(const Record& r) const { return headers.data() + r.header_begin; }

 private:
  std::vector<SharedBuffer> own_;     // buffers this fill made (NewBuffer)
  std::vector<SharedBuffer> shared_;  // buffers of other batches records were copied from
  std::vector<SharedBuffer> spare_;   // own buffers of earlier fills, for reuse
};

}  // namespace evt
