// One log entry in place: typed accessors for its header fields (EntryView), setters for
// the code that writes headers (MutableEntryView), and the walker over the entries of a
// byte range such as a mapped segment (EntryWalker), built on PeekEntry's rules.
//
// The field positions are the constants of layout.h; nothing else in evt reads a batch
// header by byte offset. Every accessor is one inline big-endian load from the bytes: no
// copy, no allocation, no check. A view does not validate what it reads: the walker (and
// PeekEntry) checked the prefix, a magic-2 entry they accept is at least kBatchHeaderSize
// bytes long and a legacy one holds its whole header, so after `ok()` the accessors for the
// entry's magic are safe. Code that builds a view from other bytes checks the size itself.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/kafka/layout.h"
#include "lib/base/coding.h"
#include "lib/base/crc.h"
#include "lib/base/record.h"  // TimestampType

namespace evt::kafka {

enum class EntryState { kOk, kTorn, kCorrupt };

// The prefix fields PeekEntry reads.
struct EntryHeader {
  int64_t base_offset = 0;
  int32_t length = 0;  // bytes after the 12-byte prefix
  int8_t magic = 0;
  uint64_t total_size() const { return kLogOverhead + static_cast<uint64_t>(length); }
};

// A read-only view of one entry (a RecordBatch v2 or a legacy message), starting at its
// 12-byte offset/length prefix.
class EntryView {
 public:
  constexpr EntryView() = default;
  constexpr EntryView(const char* p, size_t size) : p_(p), size_(size) {}
  constexpr explicit EntryView(std::string_view bytes) : p_(bytes.data()), size_(bytes.size()) {}

  const char* data() const { return p_; }
  size_t size() const { return size_; }
  std::string_view bytes() const { return std::string_view(p_, size_); }

  // ---- The prefix, every magic ----
  // baseOffset (v2); the message's offset (legacy), which for a compressed wrapper is the
  // offset of its last inner message.
  int64_t base_offset() const { return static_cast<int64_t>(DecodeFixed64BE(p_ + kOffsetOffset)); }
  // batchLength (v2) / message size (legacy): the bytes after the prefix.
  int32_t length() const { return static_cast<int32_t>(DecodeFixed32BE(p_ + kSizeOffset)); }
  // The whole entry, prefix included, as its length field says.
  uint64_t total_size() const { return kLogOverhead + static_cast<uint64_t>(length()); }
  // At position 16 for every magic.
  int8_t magic() const { return static_cast<int8_t>(p_[kMagicOffset]); }
  // Magic 2 with room for the whole v2 header: the v2 accessors below may be used.
  bool is_v2() const { return magic() == 2 && size_ >= static_cast<size_t>(kBatchHeaderSize); }
  // v2: baseOffset + lastOffsetDelta; legacy: the offset field (see base_offset()). The
  // batch's last offset from its header alone, without decoding it. Hostile fields wrap
  // around (computed unsigned, never undefined): BatchOffsetProblem catches `last < base`.
  int64_t last_offset() const {
    if (magic() != 2) return base_offset();
    return static_cast<int64_t>(static_cast<uint64_t>(base_offset()) +
                                static_cast<uint64_t>(static_cast<int64_t>(last_offset_delta())));
  }

  // ---- RecordBatch v2 header (magic 2; see is_v2()) ----
  int32_t partition_leader_epoch() const {
    return static_cast<int32_t>(DecodeFixed32BE(p_ + kPartitionLeaderEpochOffset));
  }
  uint32_t crc() const { return DecodeFixed32BE(p_ + kCrcOffset); }
  int16_t attributes() const { return static_cast<int16_t>(DecodeFixed16BE(p_ + kAttributesOffset)); }
  // Attribute bits 0-2. Values above kZstd are invalid (DecodeEntry refuses them).
  int8_t codec() const { return static_cast<int8_t>(attributes() & kCompressionCodecMask); }
  TimestampType timestamp_type() const {
    return (attributes() & kTimestampTypeMask) ? TimestampType::kLogAppendTime : TimestampType::kCreateTime;
  }
  bool is_transactional() const { return (attributes() & kTransactionalFlag) != 0; }
  bool is_control() const { return (attributes() & kControlFlag) != 0; }
  // KIP-534: base_timestamp() holds the delete horizon.
  bool has_delete_horizon() const { return (attributes() & kDeleteHorizonFlag) != 0; }
  int32_t last_offset_delta() const { return static_cast<int32_t>(DecodeFixed32BE(p_ + kLastOffsetDeltaOffset)); }
  int64_t base_timestamp() const { return static_cast<int64_t>(DecodeFixed64BE(p_ + kBaseTimestampOffset)); }
  int64_t max_timestamp() const { return static_cast<int64_t>(DecodeFixed64BE(p_ + kMaxTimestampOffset)); }
  int64_t producer_id() const { return static_cast<int64_t>(DecodeFixed64BE(p_ + kProducerIdOffset)); }
  int16_t producer_epoch() const { return static_cast<int16_t>(DecodeFixed16BE(p_ + kProducerEpochOffset)); }
  int32_t base_sequence() const { return static_cast<int32_t>(DecodeFixed32BE(p_ + kBaseSequenceOffset)); }
  int32_t records_count() const { return static_cast<int32_t>(DecodeFixed32BE(p_ + kRecordsCountOffset)); }
  // The records section (compressed as a whole when codec() is not kNone).
  std::string_view records() const { return std::string_view(p_ + kRecordsOffset, size_ - kRecordsOffset); }
  // CRC32C of the bytes the v2 CRC covers (attributes to the end of the view).
  uint32_t ComputeCrc() const { return Crc32c(p_ + kCrcCoveredFrom, size_ - kCrcCoveredFrom); }

  // ---- Legacy message header (magic 0 and 1) ----
  uint32_t legacy_crc() const { return DecodeFixed32BE(p_ + kLegacyCrcOffset); }
  int8_t legacy_attributes() const { return static_cast<int8_t>(p_[kLegacyAttributesOffset]); }
  int8_t legacy_codec() const { return static_cast<int8_t>(legacy_attributes() & kLegacyCodecMask); }
  // kNone for magic 0, which has no timestamp.
  TimestampType legacy_timestamp_type() const {
    if (magic() == 0) return TimestampType::kNone;
    return (legacy_attributes() & kLegacyTimestampTypeMask) ? TimestampType::kLogAppendTime
                                                            : TimestampType::kCreateTime;
  }
  // Magic 1 only; kNoTimestamp for magic 0.
  int64_t legacy_timestamp() const {
    return magic() == 1 ? static_cast<int64_t>(DecodeFixed64BE(p_ + kLegacyTimestampOffset)) : kNoTimestamp;
  }
  // CRC32 (IEEE) of the bytes the legacy CRC covers (magic to the end of the view).
  uint32_t ComputeLegacyCrc() const { return Crc32(p_ + kLegacyMagicOffset, size_ - kLegacyMagicOffset); }

 private:
  const char* p_ = nullptr;
  size_t size_ = 0;
};

// A view that may also write header fields in place: for the encoders and for tests that
// damage one field. Setters store exactly the bytes the accessors read; none recomputes the
// CRC, so a caller that changes covered fields ends with UpdateCrc() (or
// UpdateLegacyCrc()).
class MutableEntryView : public EntryView {
 public:
  MutableEntryView(char* p, size_t size) : EntryView(p, size) {}

  char* mutable_data() const { return const_cast<char*>(data()); }  // made from a char*

  void set_base_offset(int64_t v) const { EncodeFixed64BE(w() + kOffsetOffset, static_cast<uint64_t>(v)); }
  void set_length(int32_t v) const { EncodeFixed32BE(w() + kSizeOffset, static_cast<uint32_t>(v)); }
  void set_magic(int8_t v) const { w()[kMagicOffset] = static_cast<char>(v); }

  void set_partition_leader_epoch(int32_t v) const {
    EncodeFixed32BE(w() + kPartitionLeaderEpochOffset, static_cast<uint32_t>(v));
  }
  void set_crc(uint32_t v) const { EncodeFixed32BE(w() + kCrcOffset, v); }
  void set_attributes(int16_t v) const { EncodeFixed16BE(w() + kAttributesOffset, static_cast<uint16_t>(v)); }
  void set_last_offset_delta(int32_t v) const {
    EncodeFixed32BE(w() + kLastOffsetDeltaOffset, static_cast<uint32_t>(v));
  }
  void set_base_timestamp(int64_t v) const { EncodeFixed64BE(w() + kBaseTimestampOffset, static_cast<uint64_t>(v)); }
  void set_max_timestamp(int64_t v) const { EncodeFixed64BE(w() + kMaxTimestampOffset, static_cast<uint64_t>(v)); }
  void set_producer_id(int64_t v) const { EncodeFixed64BE(w() + kProducerIdOffset, static_cast<uint64_t>(v)); }
  void set_producer_epoch(int16_t v) const { EncodeFixed16BE(w() + kProducerEpochOffset, static_cast<uint16_t>(v)); }
  void set_base_sequence(int32_t v) const { EncodeFixed32BE(w() + kBaseSequenceOffset, static_cast<uint32_t>(v)); }
  void set_records_count(int32_t v) const { EncodeFixed32BE(w() + kRecordsCountOffset, static_cast<uint32_t>(v)); }
  // Stores ComputeCrc() as the v2 CRC.
  void UpdateCrc() const { set_crc(ComputeCrc()); }

  void set_legacy_crc(uint32_t v) const { EncodeFixed32BE(w() + kLegacyCrcOffset, v); }
  void set_legacy_attributes(int8_t v) const { w()[kLegacyAttributesOffset] = static_cast<char>(v); }
  void set_legacy_timestamp(int64_t v) const {  // magic 1 only
    EncodeFixed64BE(w() + kLegacyTimestampOffset, static_cast<uint64_t>(v));
  }
  // Stores ComputeLegacyCrc() as the legacy CRC.
  void UpdateLegacyCrc() const { set_legacy_crc(ComputeLegacyCrc()); }

 private:
  char* w() const { return mutable_data(); }
};

// ---- PeekEntry's rules ----
// What is wrong with the entry at a position, or kNone. The rules, in the order they are
// checked: the position is inside the data (kPastEnd), the bytes up to the magic are there
// (kNoHeader: torn), the magic is 0, 1 or 2 (kBadMagic), the length is at least the
// minimum for the magic (kTooShort) and at most kMaxBatchSize (kTooLong), the offset is
// not negative (kNegativeOffset), and the whole entry is there (kCutOff: torn).
enum class EntryProblem : uint8_t { kNone, kPastEnd, kNoHeader, kBadMagic, kTooShort, kTooLong, kNegativeOffset, kCutOff };

// Checks the entry at `pos` of `data`; fills *h with its prefix fields as far as they were
// read. Inline, without words, for the walkers' loops; PeekEntry says the same with reasons.
inline EntryProblem CheckEntry(std::string_view data, uint64_t pos, EntryHeader* h) {
  if (pos > data.size()) return EntryProblem::kPastEnd;
  const size_t remaining = data.size() - pos;
  if (remaining < static_cast<size_t>(kMagicOffset + kMagicLength)) return EntryProblem::kNoHeader;
  const EntryView e(data.data() + pos, remaining);
  h->base_offset = e.base_offset();
  h->length = e.length();
  h->magic = e.magic();
  if (h->magic < 0 || h->magic > 2) return EntryProblem::kBadMagic;
  const int min_len = h->magic == 2 ? kBatchLengthMin : (h->magic == 1 ? kLegacyMinSizeV1 : kLegacyMinSizeV0);
  if (h->length < min_len) return EntryProblem::kTooShort;
  if (static_cast<int64_t>(h->length) > kMaxBatchSize) return EntryProblem::kTooLong;
  if (h->base_offset < 0) return EntryProblem::kNegativeOffset;
  if (h->total_size() > remaining) return EntryProblem::kCutOff;
  return EntryProblem::kNone;
}

// The state of an entry CheckEntry found a problem with (kTorn for kNoHeader and kCutOff,
// else kCorrupt), and *reason in words. `h` as CheckEntry left it; `remaining`: the bytes
// from the entry's position to the end of the data. Out of line: only bad entries get here.
EntryState DescribeEntryProblem(EntryProblem problem, const EntryHeader& h, uint64_t remaining, std::string* reason);

// Looks at the entry starting at `pos` of `data` (a whole segment). kTorn: the entry is cut
// off by the end of the data (the normal end of a log being written, when it is the last
// segment). kCorrupt: the header cannot be an entry (bad length or magic); *reason says why.
// The rules every reader follows; EntryWalker applies them entry by entry.
inline EntryState PeekEntry(std::string_view data, uint64_t pos, EntryHeader* h, std::string* reason) {
  const EntryProblem problem = CheckEntry(data, pos, h);
  if (problem == EntryProblem::kNone) return EntryState::kOk;
  return DescribeEntryProblem(problem, *h, pos <= data.size() ? data.size() - pos : 0, reason);
}

// Walks the entries of `data` (a mapped segment, an inner message set) from a position,
// entry by entry, by PeekEntry's rules:
//
//   for (kafka::EntryWalker w(data); !w.done(); w.Next()) {
//     if (!w.ok()) { ... w.torn(), w.reason() ...; break; }
//     const kafka::EntryView& e = w.entry();  // exactly e.total_size() bytes at w.pos()
//     ...
//   }
//
// The walker looks at the entry at its position when it gets there (constructor, Next,
// Seek). After a torn or corrupt entry it cannot know where the next one starts: it stays
// there until the caller Seeks elsewhere (skipping corruption) or stops.
class EntryWalker {
 public:
  EntryWalker() = default;
  explicit EntryWalker(std::string_view data, uint64_t pos = 0) : data_(data) { Seek(pos); }

  // Moves to `pos` and looks at the entry there; at or past the end there is none (done()).
  void Seek(uint64_t pos) {
    pos_ = pos;
    if (pos >= data_.size()) {
      state_ = EntryState::kOk;
      entry_ = EntryView();
      return;
    }
    EntryHeader h;
    const EntryProblem problem = CheckEntry(data_, pos, &h);
    if (problem == EntryProblem::kNone) {
      state_ = EntryState::kOk;
      entry_ = EntryView(data_.data() + pos, h.total_size());
      return;
    }
    state_ = DescribeEntryProblem(problem, h, data_.size() - pos, &reason_);  // only here: words
    entry_ = EntryView();
  }
  // Moves past the current entry. Only when ok().
  void Next() { Seek(next_pos()); }

  // No bytes left at pos(): the walk is over.
  bool done() const { return pos_ >= data_.size(); }
  // When !done(): the state of the entry at pos().
  EntryState state() const { return state_; }
  bool ok() const { return state_ == EntryState::kOk; }
  bool torn() const { return state_ == EntryState::kTorn; }
  bool corrupt() const { return state_ == EntryState::kCorrupt; }
  // Why the entry is torn or corrupt (PeekEntry's words).
  const std::string& reason() const { return reason_; }

  uint64_t pos() const { return pos_; }
  // Where the entry after this one starts. Only when ok().
  uint64_t next_pos() const { return pos_ + entry_.size(); }
  // Bytes from pos() to the end of the data.
  uint64_t remaining() const { return pos_ < data_.size() ? data_.size() - pos_ : 0; }
  // The entry at pos(), exactly its total_size() bytes. Only when ok() and !done().
  const EntryView& entry() const { return entry_; }
  std::string_view data() const { return data_; }

 private:
  std::string_view data_;
  uint64_t pos_ = 0;
  EntryState state_ = EntryState::kOk;
  EntryView entry_;
  std::string reason_;
};

}  // namespace evt::kafka
