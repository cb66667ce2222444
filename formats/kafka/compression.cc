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
#include <memory>

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

// Decompression output: the string's existing bytes are reused without clearing them
// (growing a std::string zero-fills; reusing the size it already has does not), and the
// string is cut to the logical length at the end.
struct OutBuf {
  std::string* s;
  size_t len = 0;
  // Returns room for `n` more bytes at s->data() + len.
  char* Room(size_t n) {
    size_t need = len + n;
    if (s->size() < need) {
      // Within capacity: grow to exactly what is needed (only the new bytes are filled).
      if (need > s->capacity()) s->reserve(std::max(need, std::min(s->capacity() * 2, need + (size_t{8} << 20))));
      s->resize(need);
    }
    return s->data() + len;
  }
};

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

Status GzipDecompress(std::string_view in, size_t max_out, OutBuf* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status::IOError("gzip: inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  bool bomb = false;
  while (true) {
    size_t chunk = std::max<size_t>(64 << 10, std::min<size_t>(in.size() * 4, 16 << 20));
    if (out->len + chunk > max_out + 1) chunk = max_out + 1 - out->len;  // one byte over = bomb
    zs.next_out = reinterpret_cast<Bytef*>(out->Room(chunk));
    zs.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    out->len += chunk - zs.avail_out;
    if (out->len > max_out) {
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
  if (bomb) return Bomb("gzip", max_out);
  if (rc != Z_STREAM_END)
    return Status::Corruption(fmt::format("gzip payload is corrupt or truncated{}{}", msg.empty() ? "" : ": ", msg));
  return Status::OK();
}

// ---------------------------------------------------------------- snappy
constexpr char kXerialMagic[8] = {'\x82', 'S', 'N', 'A', 'P', 'P', 'Y', '\0'};
constexpr size_t kXerialHeader = 16;  // magic + int32 version + int32 min compatible version

Status SnappyRawDecompress(std::string_view in, size_t max_out, OutBuf* out) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &n))
    return Status::Corruption("snappy payload is corrupt (bad length preamble)");
  if (n > max_out) return Bomb("snappy", max_out);
  if (!snappy::RawUncompress(in.data(), in.size(), out->Room(n))) return Status::Corruption("snappy payload is corrupt");
  out->len += n;
  return Status::OK();
}

Status SnappyDecompress(std::string_view in, size_t max_out, OutBuf* out) {
  if (in.size() >= sizeof(kXerialMagic) && std::memcmp(in.data(), kXerialMagic, sizeof(kXerialMagic)) == 0) {
    if (in.size() < kXerialHeader) return Status::Corruption("xerial snappy header is truncated");
    ByteReader r(in.substr(kXerialHeader));
    while (r.remaining() > 0) {
      int32_t len = 0;
      if (!r.GetI32(&len) || len < 0 || static_cast<size_t>(len) > r.remaining())
        return Status::Corruption("xerial snappy block length is out of bounds");
      std::string_view block;
      r.GetBytes(static_cast<size_t>(len), &block);
      EVT_RETURN_IF_ERROR(SnappyRawDecompress(block, max_out - out->len, out));
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

Status Lz4Decompress(std::string_view in, size_t max_out, OutBuf* out) {
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return Status::IOError("lz4: cannot create context");
  const char* src = in.data();
  size_t src_left = in.size();
  size_t hint = 1;
  Status result;
  while (true) {
    size_t chunk = 256 << 10;
    if (out->len + chunk > max_out + 1) chunk = max_out + 1 - out->len;
    size_t dst_size = chunk;
    size_t src_size = src_left;
    hint = LZ4F_decompress(dctx, out->Room(chunk), &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      result = Status::Corruption(fmt::format("lz4 payload is corrupt: {}", LZ4F_getErrorName(hint)));
      break;
    }
    out->len += dst_size;
    src += src_size;
    src_left -= src_size;
    if (out->len > max_out) {
      result = Bomb("lz4", max_out);
      break;
    }
    if (hint == 0 && src_left == 0) break;     // frame(s) complete
    if (src_size == 0 && dst_size == 0) {      // no progress: truncated
      result = Status::Corruption("lz4 payload is truncated");
      break;
    }
  }
  LZ4F_freeDecompressionContext(dctx);
  return result;
}

// ---------------------------------------------------------------- zstd
Status ZstdCompress(int level, std::string_view in, std::string* out) {
  // One context per thread, freed when the thread ends (read-ahead threads come and go).
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> owned(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx* cctx = owned.get();
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

Status ZstdDecompress(std::string_view in, size_t max_out, OutBuf* out) {
  thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> owned(ZSTD_createDCtx(), ZSTD_freeDCtx);
  ZSTD_DCtx* dctx = owned.get();
  unsigned long long content = ZSTD_getFrameContentSize(in.data(), in.size());
  if (content == ZSTD_CONTENTSIZE_ERROR) return Status::Corruption("zstd payload is corrupt (bad frame header)");
  if (content != ZSTD_CONTENTSIZE_UNKNOWN && content > max_out) return Bomb("zstd", max_out);
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t first_chunk = content != ZSTD_CONTENTSIZE_UNKNOWN ? static_cast<size_t>(content) + 1 : (256 << 10);
  while (true) {
    size_t chunk = out->len == 0 ? first_chunk : std::max<size_t>(256 << 10, out->len);
    if (out->len + chunk > max_out + 1) chunk = max_out + 1 - out->len;
    ZSTD_outBuffer ob{out->Room(chunk), chunk, 0};
    size_t rc = ZSTD_decompressStream(dctx, &ob, &ib);
    if (ZSTD_isError(rc)) return Status::Corruption(fmt::format("zstd payload is corrupt: {}", ZSTD_getErrorName(rc)));
    out->len += ob.pos;
    if (out->len > max_out) return Bomb("zstd", max_out);
    if (rc == 0 && ib.pos == ib.size) break;  // frame(s) complete, all input consumed
    // Output not full, input exhausted, frame not complete: truncated.
    if (ob.pos < ob.size && ib.pos == ib.size) return Status::Corruption("zstd payload is truncated");
  }
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
  if (codec == kNone) {
    if (in.size() > max_out) return Bomb("uncompressed", max_out);
    out->assign(in);
    return Status::OK();
  }
  OutBuf ob{out, 0};
  Status s;
  switch (codec) {
    case kGzip: s = GzipDecompress(in, max_out, &ob); break;
    case kSnappy: s = SnappyDecompress(in, max_out, &ob); break;
    case kLz4: s = Lz4Decompress(in, max_out, &ob); break;
    case kZstd: s = ZstdDecompress(in, max_out, &ob); break;
    default: s = Status::Unsupported(fmt::format("unknown compression codec {}", static_cast<int>(codec)));
  }
  out->resize(s.ok() ? ob.len : 0);  // shrinking never fills
  return s;
}

}  // namespace evt::kafka
