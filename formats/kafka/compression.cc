// Kafka codecs. Every decompressor is bounded by `max_out` so a hostile batch cannot make
// us allocate more than the caller allows (decompression-bomb guard).
#include "formats/kafka/compression.h"

#include <fmt/format.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "lib/base/coding.h"

namespace evt::kafka {

const char* CodecName(int codec) {
  switch (codec) {
    case kNone: return "none";
    case kGzip: return "gzip";
    case kSnappy: return "snappy";
    case kLz4: return "lz4";
    case kZstd: return "zstd";
    default: return "unknown";
  }
}

std::optional<Codec> ParseCodec(std::string_view name) {
  if (name == "none" || name == "uncompressed") return kNone;
  if (name == "gzip") return kGzip;
  if (name == "snappy") return kSnappy;
  if (name == "lz4") return kLz4;
  if (name == "zstd") return kZstd;
  return std::nullopt;
}

namespace {

Status Bomb(const char* codec, size_t max_out) {
  return Status::Corruption(fmt::format("{} payload expands beyond {} bytes (decompression bomb guard)", codec, max_out));
}

// ---------------------------------------------------------------- gzip
Status GzipCompress(int level, std::string_view in, std::string* out) {
  z_stream zs{};
  if (level < 0) level = 6;
  if (level > 9) level = 9;
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return Status::IOError("gzip: deflateInit2 failed");
  size_t start = out->size();
  uLong bound = deflateBound(&zs, static_cast<uLong>(in.size()));
  out->resize(start + bound + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data() + start);
  zs.avail_out = static_cast<uInt>(bound + 32);
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    out->resize(start);
    return Status::IOError("gzip: deflate failed");
  }
  out->resize(start + produced);
  return Status::OK();
}

Status GzipDecompress(std::string_view in, size_t max_out, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status::IOError("gzip: inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  size_t start = out->size();
  size_t produced = 0;
  int rc = Z_OK;
  bool bomb = false;
  while (true) {
    size_t chunk = std::max<size_t>(64 << 10, std::min<size_t>(in.size() * 4, 16 << 20));
    if (produced + chunk > max_out + 1) chunk = max_out + 1 - produced;  // one byte over = bomb
    out->resize(start + produced + chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + start + produced);
    zs.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced += chunk - zs.avail_out;
    if (produced > max_out) {
      bomb = true;
      break;
    }
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members are legal; accept them.
      if (zs.avail_in > 0 && inflateReset(&zs) == Z_OK) continue;
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (zs.avail_in == 0 && zs.avail_out > 0) break;  // input exhausted mid-stream: truncated
  }
  std::string msg = zs.msg ? zs.msg : "";
  inflateEnd(&zs);
  if (bomb) {
    out->resize(start);
    return Bomb("gzip", max_out);
  }
  if (rc != Z_STREAM_END) {
    out->resize(start);
    return Status::Corruption(fmt::format("gzip payload is corrupt or truncated{}{}", msg.empty() ? "" : ": ", msg));
  }
  out->resize(start + produced);
  return Status::OK();
}

// ---------------------------------------------------------------- snappy
constexpr char kXerialMagic[8] = {'\x82', 'S', 'N', 'A', 'P', 'P', 'Y', '\0'};
constexpr size_t kXerialHeader = 16;  // magic + int32 version + int32 min compatible version

Status SnappyRawDecompress(std::string_view in, size_t max_out, std::string* out) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &n))
    return Status::Corruption("snappy payload is corrupt (bad length preamble)");
  if (n > max_out) return Bomb("snappy", max_out);
  size_t start = out->size();
  out->resize(start + n);
  if (!snappy::RawUncompress(in.data(), in.size(), out->data() + start)) {
    out->resize(start);
    return Status::Corruption("snappy payload is corrupt");
  }
  return Status::OK();
}

Status SnappyDecompress(std::string_view in, size_t max_out, std::string* out) {
  if (in.size() >= sizeof(kXerialMagic) && std::memcmp(in.data(), kXerialMagic, sizeof(kXerialMagic)) == 0) {
    if (in.size() < kXerialHeader) return Status::Corruption("xerial snappy header is truncated");
    ByteReader r(in.substr(kXerialHeader));
    size_t start = out->size();
    while (r.remaining() > 0) {
      int32_t len = 0;
      if (!r.GetI32(&len) || len < 0 || static_cast<size_t>(len) > r.remaining()) {
        out->resize(start);
        return Status::Corruption("xerial snappy block length is out of bounds");
      }
      std::string_view block;
      r.GetBytes(static_cast<size_t>(len), &block);
      size_t budget = max_out - (out->size() - start);
      Status st = SnappyRawDecompress(block, budget, out);
      if (!st.ok()) {
        out->resize(start);
        return st;
      }
    }
    return Status::OK();
  }
  return SnappyRawDecompress(in, max_out, out);
}

// ---------------------------------------------------------------- lz4 (frame format)
Status Lz4Compress(int level, std::string_view in, std::string* out) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentSize = 0;
  prefs.compressionLevel = level < 0 ? 0 : level;
  size_t bound = LZ4F_compressFrameBound(in.size(), &prefs);
  size_t start = out->size();
  out->resize(start + bound);
  size_t n = LZ4F_compressFrame(out->data() + start, bound, in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) {
    out->resize(start);
    return Status::IOError(fmt::format("lz4: {}", LZ4F_getErrorName(n)));
  }
  out->resize(start + n);
  return Status::OK();
}

Status Lz4Decompress(std::string_view in, size_t max_out, std::string* out) {
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return Status::IOError("lz4: cannot create context");
  size_t start = out->size();
  size_t produced = 0;
  const char* src = in.data();
  size_t src_left = in.size();
  size_t hint = 1;
  while (src_left > 0) {
    size_t chunk = 256 << 10;
    if (produced + chunk > max_out + 1) chunk = max_out + 1 - produced;
    if (chunk == 0) break;
    out->resize(start + produced + chunk);
    size_t dst_size = chunk;
    size_t src_size = src_left;
    hint = LZ4F_decompress(dctx, out->data() + start + produced, &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      LZ4F_freeDecompressionContext(dctx);
      out->resize(start);
      return Status::Corruption(fmt::format("lz4 payload is corrupt: {}", LZ4F_getErrorName(hint)));
    }
    produced += dst_size;
    src += src_size;
    src_left -= src_size;
    if (produced > max_out) {
      LZ4F_freeDecompressionContext(dctx);
      out->resize(start);
      return Bomb("lz4", max_out);
    }
    if (hint == 0) {
      // Frame finished; Kafka payloads hold one frame, but tolerate concatenated frames.
      if (src_left == 0) break;
      continue;
    }
    if (src_size == 0 && dst_size == 0) break;  // no progress: truncated
  }
  // Drain anything still buffered inside the context.
  while (hint != 0 && produced <= max_out) {
    size_t chunk = 256 << 10;
    out->resize(start + produced + chunk);
    size_t dst_size = chunk, src_size = 0;
    hint = LZ4F_decompress(dctx, out->data() + start + produced, &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint) || dst_size == 0) break;
    produced += dst_size;
  }
  LZ4F_freeDecompressionContext(dctx);
  if (produced > max_out) {
    out->resize(start);
    return Bomb("lz4", max_out);
  }
  if (hint != 0) {
    out->resize(start);
    return Status::Corruption("lz4 payload is truncated");
  }
  out->resize(start + produced);
  return Status::OK();
}

// ---------------------------------------------------------------- zstd
Status ZstdCompress(int level, std::string_view in, std::string* out) {
  thread_local ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (level < 0) level = 3;
  size_t bound = ZSTD_compressBound(in.size());
  size_t start = out->size();
  out->resize(start + bound);
  size_t n = ZSTD_compressCCtx(cctx, out->data() + start, bound, in.data(), in.size(), level);
  if (ZSTD_isError(n)) {
    out->resize(start);
    return Status::IOError(fmt::format("zstd: {}", ZSTD_getErrorName(n)));
  }
  out->resize(start + n);
  return Status::OK();
}

Status ZstdDecompress(std::string_view in, size_t max_out, std::string* out) {
  thread_local ZSTD_DCtx* dctx = ZSTD_createDCtx();
  size_t start = out->size();
  unsigned long long content = ZSTD_getFrameContentSize(in.data(), in.size());
  if (content == ZSTD_CONTENTSIZE_ERROR) return Status::Corruption("zstd payload is corrupt (bad frame header)");
  if (content != ZSTD_CONTENTSIZE_UNKNOWN) {
    if (content > max_out) return Bomb("zstd", max_out);
  }
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t produced = 0;
  size_t rc = 1;
  size_t first_chunk = content != ZSTD_CONTENTSIZE_UNKNOWN ? static_cast<size_t>(content) + 1 : (256 << 10);
  while (true) {
    size_t chunk = produced == 0 ? first_chunk : std::max<size_t>(256 << 10, produced);
    if (produced + chunk > max_out + 1) chunk = max_out + 1 - produced;
    out->resize(start + produced + chunk);
    ZSTD_outBuffer ob{out->data() + start + produced, chunk, 0};
    rc = ZSTD_decompressStream(dctx, &ob, &ib);
    if (ZSTD_isError(rc)) {
      out->resize(start);
      return Status::Corruption(fmt::format("zstd payload is corrupt: {}", ZSTD_getErrorName(rc)));
    }
    produced += ob.pos;
    if (produced > max_out) {
      out->resize(start);
      return Bomb("zstd", max_out);
    }
    if (rc == 0 && ib.pos == ib.size) break;  // frame(s) complete, all input consumed
    if (ob.pos < ob.size && ib.pos == ib.size) {
      // Output not full, input exhausted, frame not complete: truncated.
      out->resize(start);
      return Status::Corruption("zstd payload is truncated");
    }
  }
  out->resize(start + produced);
  return Status::OK();
}

}  // namespace

Status Compress(Codec codec, int level, std::string_view in, std::string* out) {
  switch (codec) {
    case kNone: out->append(in); return Status::OK();
    case kGzip: return GzipCompress(level, in, out);
    case kSnappy: {
      size_t start = out->size();
      out->resize(start + snappy::MaxCompressedLength(in.size()));
      size_t n = 0;
      snappy::RawCompress(in.data(), in.size(), out->data() + start, &n);
      out->resize(start + n);
      return Status::OK();
    }
    case kLz4: return Lz4Compress(level, in, out);
    case kZstd: return ZstdCompress(level, in, out);
  }
  return Status::Unsupported(fmt::format("unknown compression codec {}", static_cast<int>(codec)));
}

Status Decompress(Codec codec, std::string_view in, size_t max_out, std::string* out) {
  switch (codec) {
    case kNone: {
      if (in.size() > max_out) return Bomb("uncompressed", max_out);
      out->append(in);
      return Status::OK();
    }
    case kGzip: return GzipDecompress(in, max_out, out);
    case kSnappy: return SnappyDecompress(in, max_out, out);
    case kLz4: return Lz4Decompress(in, max_out, out);
    case kZstd: return ZstdDecompress(in, max_out, out);
  }
  return Status::Unsupported(fmt::format("unknown compression codec {}", static_cast<int>(codec)));
}

}  // namespace evt::kafka
