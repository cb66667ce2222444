// Layout constants of Apache Kafka's on-disk log format. The spec in prose is README.md
// beside this file. Offsets are written as sums of the preceding field sizes.
#pragma once
#include <cstdint>

namespace evt::kafka {

// ---- Entry prefix shared by every magic: baseOffset int64, length int32 ----
constexpr int kOffsetOffset = 0;
constexpr int kOffsetLength = 8;
constexpr int kSizeOffset = kOffsetOffset + kOffsetLength;  // 8
constexpr int kSizeLength = 4;
constexpr int kLogOverhead = kSizeOffset + kSizeLength;  // 12
static_assert(kLogOverhead == 12);

// ---- RecordBatch v2 header (magic 2) ----
constexpr int kPartitionLeaderEpochOffset = kLogOverhead;  // 12
constexpr int kPartitionLeaderEpochLength = 4;
constexpr int kMagicOffset = kPartitionLeaderEpochOffset + kPartitionLeaderEpochLength;  // 16
constexpr int kMagicLength = 1;
constexpr int kCrcOffset = kMagicOffset + kMagicLength;  // 17
constexpr int kCrcLength = 4;
constexpr int kAttributesOffset = kCrcOffset + kCrcLength;  // 21
constexpr int kAttributesLength = 2;
constexpr int kLastOffsetDeltaOffset = kAttributesOffset + kAttributesLength;  // 23
constexpr int kLastOffsetDeltaLength = 4;
constexpr int kBaseTimestampOffset = kLastOffsetDeltaOffset + kLastOffsetDeltaLength;  // 27
constexpr int kBaseTimestampLength = 8;
constexpr int kMaxTimestampOffset = kBaseTimestampOffset + kBaseTimestampLength;  // 35
constexpr int kMaxTimestampLength = 8;
constexpr int kProducerIdOffset = kMaxTimestampOffset + kMaxTimestampLength;  // 43
constexpr int kProducerIdLength = 8;
constexpr int kProducerEpochOffset = kProducerIdOffset + kProducerIdLength;  // 51
constexpr int kProducerEpochLength = 2;
constexpr int kBaseSequenceOffset = kProducerEpochOffset + kProducerEpochLength;  // 53
constexpr int kBaseSequenceLength = 4;
constexpr int kRecordsCountOffset = kBaseSequenceOffset + kBaseSequenceLength;  // 57
constexpr int kRecordsCountLength = 4;
constexpr int kRecordsOffset = kRecordsCountOffset + kRecordsCountLength;  // 61
constexpr int kBatchHeaderSize = kRecordsOffset;
static_assert(kMagicOffset == 16);
static_assert(kAttributesOffset == 21);
static_assert(kBatchHeaderSize == 61);
// The v2 CRC32C covers from attributes to the end of the batch.
constexpr int kCrcCoveredFrom = kAttributesOffset;
// batchLength counts the bytes after the length field.
constexpr int kBatchLengthMin = kBatchHeaderSize - kLogOverhead;  // 49

// Attribute bits (v2).
constexpr int16_t kCompressionCodecMask = 0x07;
constexpr int16_t kTimestampTypeMask = 0x08;
constexpr int16_t kTransactionalFlag = 0x10;
constexpr int16_t kControlFlag = 0x20;
constexpr int16_t kDeleteHorizonFlag = 0x40;  // KIP-534

constexpr int64_t kNoProducerId = -1;
constexpr int16_t kNoProducerEpoch = -1;
constexpr int32_t kNoSequence = -1;
constexpr int64_t kNoTimestamp = -1;

// ---- Legacy messages (magic 0 and 1) ----
// offset int64, size int32, crc int32, magic int8, attributes int8, [timestamp int64 (v1)],
// key bytes (int32 length, -1 = null), value bytes (int32 length, -1 = null).
constexpr int kLegacyCrcOffset = kLogOverhead;  // 12
constexpr int kLegacyCrcLength = 4;
constexpr int kLegacyMagicOffset = kLegacyCrcOffset + kLegacyCrcLength;  // 16 (same place as v2 magic)
constexpr int kLegacyAttributesOffset = kLegacyMagicOffset + 1;  // 17
constexpr int kLegacyTimestampOffset = kLegacyAttributesOffset + 1;  // 18 (v1 only)
constexpr int kLegacyKeyOffsetV0 = kLegacyAttributesOffset + 1;  // 18
constexpr int kLegacyKeyOffsetV1 = kLegacyTimestampOffset + 8;  // 26
constexpr int kLegacyMinSizeV0 = kLegacyKeyOffsetV0 + 4 + 4 - kLogOverhead;  // 14: crc..value length
constexpr int kLegacyMinSizeV1 = kLegacyKeyOffsetV1 + 4 + 4 - kLogOverhead;  // 22
static_assert(kLegacyMagicOffset == kMagicOffset);
static_assert(kLegacyMinSizeV0 == 14 && kLegacyMinSizeV1 == 22);
constexpr int8_t kLegacyCodecMask = 0x07;
constexpr int8_t kLegacyTimestampTypeMask = 0x08;

// ---- Codecs (same numbering for every magic) ----
enum Codec : int8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

// ---- Index files ----
// .index: relative offset int32, position int32 (8 bytes per entry)
constexpr int kOffsetIndexEntrySize = 8;
// .timeindex: timestamp int64, relative offset int32 (12 bytes per entry)
constexpr int kTimeIndexEntrySize = 12;
constexpr int kIndexIntervalBytes = 4096;  // index.interval.bytes default

// ---- Sanity limits ----
// Upper bound on one entry's size. Kafka's default message.max.bytes is ~1 MiB but brokers
// are often configured up to hundreds of MiB; we refuse anything above this.
constexpr int64_t kMaxBatchSize = 1ll << 30;
// Upper bound on a batch's decompressed records section (decompression-bomb guard).
constexpr int64_t kMaxUncompressedBatch = 1ll << 30;
constexpr int kSegmentNameDigits = 20;

}  // namespace evt::kafka
