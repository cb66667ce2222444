// Kafka's compression codecs: gzip, snappy (raw, and xerial-framed when reading), lz4 (the
// LZ4 frame format), zstd.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "formats/kafka/layout.h"
#include "lib/base/status.h"

namespace evt::kafka {

// Name <-> codec ("none", "gzip", "snappy", "lz4", "zstd").
const char* CodecName(int codec);
std::optional<Codec> ParseCodec(std::string_view name);

// Appends the compressed form of `in` to *out. `level` < 0 means the codec's default
// (gzip 6, lz4 default, zstd 3); snappy ignores it. Snappy is written raw (as librdkafka
// and the Java client write it).
Status Compress(Codec codec, int level, std::string_view in, std::string* out);

// Replaces *out with the decompressed form of `in` (reusing out's memory without clearing
// it first). Fails with Corruption when the input is malformed or would expand beyond
// `max_out` bytes (decompression-bomb guard); *out is then empty.
// Snappy input may be raw or xerial-framed ("\x82SNAPPY\0" magic).
Status Decompress(Codec codec, std::string_view in, size_t max_out, std::string* out);

}  // namespace evt::kafka
