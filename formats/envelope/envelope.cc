// The JSON Lines envelope: writer (hand-rolled, allocation-free on the hot path) and
// parser (simdjson On-Demand).
#include "formats/envelope/envelope.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lib/base/timeutil.h"

namespace evt::envelope {

// ---------------------------------------------------------------- UTF-8 and JSON checks

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII fast path, 8 bytes at a time.
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p >= end) break;
    uint8_t c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte, overlong 2-byte lead (C0/C1), or > U+10FFFF lead
    }
    if (static_cast<size_t>(end - p) <= n) return false;
    for (size_t i = 1; i <= n; ++i) {
      uint8_t cc = p[i];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;  // overlong / surrogate
    if (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
    p += n + 1;
  }
  return true;
}

namespace {

// A strict RFC 8259 validator over bytes already known to be valid UTF-8. Iterative, with
// an explicit nesting limit, so hostile input cannot overflow the stack.
class JsonValidator {
 public:
  explicit JsonValidator(std::string_view s) : begin_(s.data()), p_(s.data()), end_(s.data() + s.size()) {}

  bool Validate() {
    SkipWs();
    if (!Value()) return false;
    SkipWs();
    trailing_ = p_ != end_;
    return p_ == end_;
  }
  // After Validate() failed: the byte offset where the text stopped being JSON (the end of
  // the text when it ended too soon), and whether a complete value had text after it.
  size_t failed_at() const { return static_cast<size_t>(p_ - begin_); }
  bool trailing() const { return trailing_; }

 private:
  static constexpr int kMaxDepth = 1024;

  void SkipWs() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool Literal(const char* lit, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, lit, n) != 0) return false;
    p_ += n;
    return true;
  }
  static bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
  // True when one of the 8 bytes is '"', '\\' or a control byte (< 0x20).
  static bool Special8(uint64_t w) {
    constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
    uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
    uint64_t zq = (q - kOnes) & ~q, zb = (b - kOnes) & ~b, lt = (w - kOnes * 0x20) & ~w;
    return ((zq | zb | lt) & kHigh) != 0;
  }
  bool String() {
    ++p_;  // opening quote
    while (p_ < end_) {
      // Skip plain runs 8 bytes at a time.
      while (end_ - p_ >= 8) {
        uint64_t w;
        std::memcpy(&w, p_, 8);
        if (Special8(w)) break;
        p_ += 8;
      }
      if (p_ >= end_) break;
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        ++p_;
        if (p_ >= end_) return false;
        switch (*p_) {
          case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': ++p_; break;
          case 'u':
            if (end_ - p_ < 5) return false;
            for (int i = 1; i <= 4; ++i)
              if (!IsHex(p_[i])) return false;
            p_ += 5;
            break;
          default: return false;
        }
        continue;
      }
      ++p_;
    }
    return false;
  }
  bool Number() {
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    } else {
      return false;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    return true;
  }
  bool Scalar() {
    if (p_ >= end_) return false;
    switch (*p_) {
      case '"': return String();
      case 't': return Literal("true", 4);
      case 'f': return Literal("false", 5);
      case 'n': return Literal("null", 4);
      default: return Number();
    }
  }
  // Values with an explicit stack of open containers ('{' or '[').
  bool Value() {
    char stack[kMaxDepth];
    int depth = 0;
    // State machine: expecting a value.
    while (true) {
      SkipWs();
      if (p_ >= end_) return false;
      if (*p_ == '{' || *p_ == '[') {
        if (depth == kMaxDepth) return false;
        char open = *p_++;
        stack[depth++] = open;
        SkipWs();
        if (p_ >= end_) return false;
        if ((open == '{' && *p_ == '}') || (open == '[' && *p_ == ']')) {
          ++p_;
          --depth;
          // fall through to "after value"
        } else {
          if (open == '{') {
            if (*p_ != '"' || !String()) return false;
            SkipWs();
            if (p_ >= end_ || *p_ != ':') return false;
            ++p_;
          }
          continue;  // expect a value
        }
      } else if (!Scalar()) {
        return false;
      }
      // After a value: close containers or continue with ','.
      while (true) {
        if (depth == 0) return true;
        SkipWs();
        if (p_ >= end_) return false;
        char top = stack[depth - 1];
        if (*p_ == ',') {
          ++p_;
          if (top == '{') {
            SkipWs();
            if (p_ >= end_ || *p_ != '"' || !String()) return false;
            SkipWs();
            if (p_ >= end_ || *p_ != ':') return false;
            ++p_;
          }
          break;  // expect a value
        }
        if ((top == '{' && *p_ == '}') || (top == '[' && *p_ == ']')) {
          ++p_;
          --depth;
          continue;
        }
        return false;
      }
    }
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  bool trailing_ = false;
};

constexpr char kHex[] = "0123456789abcdef";

// At most `max` bytes of `s`, cut back to a UTF-8 character boundary, with "..." when cut.
std::string Excerpt(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "...";
}

}  // namespace

bool IsEmbeddableJson(std::string_view s) {
  if (s.size() < 2) return false;
  char first = s.front(), last = s.back();
  if (!((first == '{' && last == '}') || (first == '[' && last == ']'))) return false;
  // Two memchr scans: string_view::find_first_of would test every byte against the set.
  if (std::memchr(s.data(), '\n', s.size()) || std::memchr(s.data(), '\r', s.size())) return false;
  if (!IsValidUtf8(s)) return false;
  return JsonValidator(s).Validate();
}

std::string DescribeNotJson(std::string_view s) {
  if (!IsValidUtf8(s)) return "not JSON (not valid UTF-8)";
  JsonValidator v(s);
  if (v.Validate()) return "";
  size_t lead = s.find_first_not_of(" \t\r\n");
  if (lead == std::string_view::npos) return "not JSON (an empty line)";
  size_t at = v.failed_at();
  if (at == lead) return "not JSON";  // text that does not even start like JSON needs no detail
  if (at >= s.size()) return "not JSON: the line ends before the JSON does (is a quote or bracket missing?)";
  unsigned char c = static_cast<unsigned char>(s[at]);
  std::string what = c < 0x20 ? fmt::format("a raw control byte 0x{:02x} (escape it, e.g. \\n)", c)
                              : fmt::format("'{}'", Excerpt(s.substr(at), 12));
  if (v.trailing()) return fmt::format("not JSON: text after the end of the JSON value, at column {}: {}", at + 1, what);
  return fmt::format("not JSON at column {}: unexpected {}", at + 1, what);
}

namespace {
template <bool kEscapeDel>
inline bool NeedsEscape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || (kEscapeDel && c == 0x7F);
}

#if defined(__SSE2__)
// A bit per byte of x that needs escaping.
template <bool kEscapeDel>
inline unsigned EscapeMask(__m128i x) {
  const __m128i ctl = _mm_set1_epi8(0x1F);
  __m128i esc = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl),  // bytes <= 0x1F
                             _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));
  if (kEscapeDel) esc = _mm_or_si128(esc, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F)));
  return static_cast<unsigned>(_mm_movemask_epi8(esc));
}
#endif

// The length of s's prefix that is written as it is (no byte needs escaping).
template <bool kEscapeDel>
size_t PlainPrefix(std::string_view s) {
  const char* d = s.data();
  const size_t n = s.size();
#if defined(__SSE2__)
  // 16 bytes at a time, the last block overlapping the one before; never past the end.
  if (n >= 16) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
      if (unsigned m = EscapeMask<kEscapeDel>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i))))
        return i + static_cast<size_t>(__builtin_ctz(m));
    if (i == n) return n;
    // Bytes before i are plain, so the first flagged byte of the last block is at or after i.
    unsigned m = EscapeMask<kEscapeDel>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d + n - 16)));
    return m ? n - 16 + static_cast<size_t>(__builtin_ctz(m)) : n;
  }
  if (n >= 8) {  // two 8-byte loads, overlapping: when one byte needs escaping, find it byte by byte
    const __m128i x = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(d)),
                                         _mm_loadl_epi64(reinterpret_cast<const __m128i*>(d + n - 8)));
    if (EscapeMask<kEscapeDel>(x) == 0) return n;
  }
#endif
  size_t i = 0;
  while (i < n && !NeedsEscape<kEscapeDel>(static_cast<unsigned char>(d[i]))) ++i;
  return i;
}

template <bool kEscapeDel>
void AppendEscaped(std::string_view s, std::string* out) {
  const size_t plain = PlainPrefix<kEscapeDel>(s);
  out->push_back('"');
  out->append(s.data(), plain);
  if (plain == s.size()) {  // the usual case
    out->push_back('"');
    return;
  }
  const char* p = s.data() + plain;
  const char* end = s.data() + s.size();
  const char* run = p;
  while (p < end) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (!NeedsEscape<kEscapeDel>(c)) {
      ++p;
      continue;
    }
    out->append(run, p - run);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(esc, 6);
      }
    }
    run = ++p;
  }
  out->append(run, end - run);
  out->push_back('"');
}
}  // namespace

void AppendJsonString(std::string_view s, std::string* out) { AppendEscaped<false>(s, out); }
void AppendJqJsonString(std::string_view s, std::string* out) { AppendEscaped<true>(s, out); }

void AppendBase64(std::string_view in, std::string* out) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  size_t n = in.size();
  size_t start = out->size();
  out->resize(start + (n + 2) / 3 * 4);
  char* o = out->data() + start;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (i < n) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < n) v |= uint32_t{p[i + 1]} << 8;
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
}

bool DecodeBase64(std::string_view in, std::string* out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return false;
  out->reserve(out->size() + in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    int a = val(in[i]), b = val(in[i + 1]);
    if (a < 0 || b < 0) return false;
    bool last = i + 4 == in.size();
    char c2 = in[i + 2], c3 = in[i + 3];
    if (last && c2 == '=') {
      if (c3 != '=' || (b & 15) != 0) return false;
      out->push_back(static_cast<char>((a << 2) | (b >> 4)));
      break;
    }
    int c = val(c2);
    if (c < 0) return false;
    if (last && c3 == '=') {
      if ((c & 3) != 0) return false;
      out->push_back(static_cast<char>((a << 2) | (b >> 4)));
      out->push_back(static_cast<char>(((b & 15) << 4) | (c >> 2)));
      break;
    }
    int d = val(c3);
    if (d < 0) return false;
    uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    out->push_back(static_cast<char>(v >> 16));
    out->push_back(static_cast<char>((v >> 8) & 0xFF));
    out->push_back(static_cast<char>(v & 0xFF));
  }
  return true;
}

void AppendBytesField(std::string_view name, const Bytes& b, bool allow_embed, std::string* out) {
  if (b.null()) {
    out->push_back('"');
    out->append(name);
    out->append("\":null");
    return;
  }
  std::string_view v = b.view();
  if (allow_embed && IsEmbeddableJson(v)) {
    out->push_back('"');
    out->append(name);
    out->append("\":");
    out->append(v);
    return;
  }
  if (IsValidUtf8(v)) {
    out->push_back('"');
    out->append(name);
    out->append("\":");
    AppendJsonString(v, out);
    return;
  }
  out->push_back('"');
  out->append(name);
  out->append("_base64\":\"");
  AppendBase64(v, out);
  out->push_back('"');
}

namespace {
// A key or value the decoding stage replaced by JSON is written as it is; one that failed
// to decode is shown as stored, in base64.
void AppendDecodedField(std::string_view name, const Bytes& v, uint8_t format, std::string* out) {
  if (format == 0 || v.null()) {
    AppendBytesField(name, v, true, out);
  } else if (format == kFormatFailed) {
    out->push_back('"');
    out->append(name);
    out->append("_base64\":\"");
    AppendBase64(v.view(), out);
    out->push_back('"');
  } else {
    out->push_back('"');
    out->append(name);
    out->append("\":");
    out->append(v.view());
  }
}
}  // namespace

void AppendRecord(const RecordBatch& b, const Record& r, std::string* out) {
  out->append("{\"topic\":");
  AppendJsonString(b.topic, out);
  fmt::format_to(std::back_inserter(*out), ",\"partition\":{},\"offset\":{},\"timestamp\":{}",
                 r.partition >= 0 ? r.partition : b.partition, r.offset, r.timestamp);
  if (r.timestamp_type == TimestampType::kLogAppendTime) out->append(",\"timestamp_type\":\"LogAppendTime\"");
  out->push_back(',');
  AppendDecodedField("key", r.key, r.key_format, out);
  out->push_back(',');
  AppendDecodedField("value", r.value, r.value_format, out);
  if (r.schema_id >= 0) fmt::format_to(std::back_inserter(*out), ",\"schema_id\":{}", r.schema_id);
  if (r.value_format != 0 && r.value_format != kFormatFailed) {
    out->append(",\"value_format\":\"");
    out->append(ValueFormatName(r.value_format));
    out->push_back('"');
  }
  if (r.decode_error != 0 && r.decode_error <= b.decode_errors.size()) {
    out->append(",\"decode_error\":");
    AppendJsonString(b.decode_errors[r.decode_error - 1], out);
  }
  out->append(",\"headers\":[");
  const Header* h = b.HeadersOf(r);
  for (uint32_t i = 0; i < r.header_count; ++i) {
    if (i) out->push_back(',');
    out->push_back('{');
    if (IsValidUtf8(h[i].key)) {
      out->append("\"key\":");
      AppendJsonString(h[i].key, out);
    } else {
      out->append("\"key_base64\":\"");
      AppendBase64(h[i].key, out);
      out->push_back('"');
    }
    out->push_back(',');
    AppendBytesField("value", h[i].value, false, out);
    out->push_back('}');
  }
  out->append("]}\n");
}

// ---------------------------------------------------------------- Parser

namespace sj = simdjson::ondemand;

struct Parser::Impl {
  sj::parser parser;
  std::string padded;  // the line copied with SIMDJSON_PADDING bytes after it
  std::string scratch;
  ParseProblem problem = ParseProblem::kNone;
  Status ParseObject(std::string_view line, RecordBatch* batch, ParsedRecord* out);
};

Parser::Parser() : impl_(std::make_unique<Impl>()) {}
Parser::~Parser() = default;
ParseProblem Parser::problem() const { return impl_->problem; }

namespace {

// Only reached for lines that are not JSON (Parse then says so in words) or for a field
// name simdjson could not read.
Status JsonError(std::string_view what, simdjson::error_code e) {
  return Status::Corruption(fmt::format("{}: {}", what, simdjson::error_message(e)));
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const char* TypeName(sj::json_type t) {
  switch (t) {
    case sj::json_type::object: return "an object";
    case sj::json_type::array: return "an array";
    case sj::json_type::string: return "a string";
    case sj::json_type::number: return "a number";
    case sj::json_type::boolean: return "a boolean";
    case sj::json_type::null: return "null";
  }
  return "another kind of value";
}

// "FIELD must be WANT, not GOT": GOT is the value as written (a scalar) or its kind.
Status WrongType(std::string_view field, std::string_view want, sj::value& v) {
  std::string got = "another kind of value";
  sj::json_type t;
  if (v.type().get(t) == simdjson::SUCCESS)
    got = t == sj::json_type::object || t == sj::json_type::array ? TypeName(t)
                                                                  : Excerpt(TrimRight(v.raw_json_token()), 40);
  return Status::Corruption(fmt::format("{} must be {}, not {}", field, want, got));
}

// Reads a key/value field: null, a string, an embedded object/array (raw bytes), or a
// scalar (its JSON text, for hand-written input such as "value":42).
Status ReadBytesValue(sj::value v, std::string_view field, RecordBatch* batch, Bytes* out) {
  sj::json_type t;
  if (auto e = v.type().get(t)) return JsonError(field, e);
  switch (t) {
    case sj::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null); e || !is_null) return Status::Corruption(fmt::format("{}: bad null", field));
      *out = Bytes::Null();
      return Status::OK();
    }
    case sj::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return JsonError(field, e);
      *out = Bytes::Of(batch->arena.Copy(s));
      return Status::OK();
    }
    case sj::json_type::object: {
      sj::object o;
      std::string_view raw;
      if (auto e = v.get_object().get(o)) return JsonError(field, e);
      if (auto e = o.raw_json().get(raw)) return JsonError(field, e);
      raw = TrimRight(raw);
      if (!IsEmbeddableJson(raw)) return Status::Corruption(fmt::format("{}: embedded object is not valid JSON", field));
      *out = Bytes::Of(batch->arena.Copy(raw));
      return Status::OK();
    }
    case sj::json_type::array: {
      sj::array a;
      std::string_view raw;
      if (auto e = v.get_array().get(a)) return JsonError(field, e);
      if (auto e = a.raw_json().get(raw)) return JsonError(field, e);
      raw = TrimRight(raw);
      if (!IsEmbeddableJson(raw)) return Status::Corruption(fmt::format("{}: embedded array is not valid JSON", field));
      *out = Bytes::Of(batch->arena.Copy(raw));
      return Status::OK();
    }
    default: {
      std::string_view raw = TrimRight(v.raw_json_token());
      if (!JsonValidator(raw).Validate()) return Status::Corruption(fmt::format("{}: bad JSON token '{}'", field, raw));
      *out = Bytes::Of(batch->arena.Copy(raw));
      return Status::OK();
    }
  }
}

Status ReadBase64(sj::value v, std::string_view field, std::string* scratch, RecordBatch* batch, Bytes* out) {
  std::string_view s;
  if (v.get_string().get(s)) return WrongType(field, "a base64 string", v);
  scratch->clear();
  if (!DecodeBase64(s, scratch))
    return Status::Corruption(fmt::format("{} is not valid base64: \"{}\"", field, Excerpt(s, 40)));
  *out = Bytes::Of(batch->arena.Copy(*scratch));
  return Status::OK();
}

Status ReadInt(sj::value v, std::string_view field, int64_t* out) {
  if (v.get_int64().get(*out)) return WrongType(field, "an integer", v);
  return Status::OK();
}

}  // namespace

Status Parser::Parse(std::string_view line, RecordBatch* batch, ParsedRecord* out) {
  Status st = impl_->ParseObject(line, batch, out);
  if (st.ok()) {
    impl_->problem = ParseProblem::kNone;
    return st;
  }
  // On-Demand stops at the first thing it cannot use, with its own wording, and may stop
  // at a type before it reaches broken text: a line that is not JSON is said so first.
  std::string not_json = DescribeNotJson(line);
  if (!not_json.empty()) {
    impl_->problem = ParseProblem::kNotJson;
    return Status::Corruption(std::move(not_json));
  }
  return st;
}

Status Parser::Impl::ParseObject(std::string_view line, RecordBatch* batch, ParsedRecord* out) {
  Impl& im = *this;
  im.problem = ParseProblem::kBadField;
  *out = ParsedRecord{};
  Record& rec = out->record;
  rec.key = Bytes::Null();
  rec.value = Bytes::Null();
  rec.header_begin = static_cast<uint32_t>(batch->headers.size());
  rec.header_count = 0;
  size_t headers_start = batch->headers.size();

  im.padded.assign(line);
  im.padded.append(simdjson::SIMDJSON_PADDING, '\0');
  sj::document doc;
  if (auto e = im.parser.iterate(im.padded.data(), line.size(), im.padded.size()).get(doc))
    return JsonError("not a JSON envelope", e);
  sj::object obj;
  if (doc.get_object().get(obj)) {
    im.problem = ParseProblem::kNotObject;
    sj::json_type t;
    const char* kind = "JSON that is not an object";
    if (doc.type().get(t) == simdjson::SUCCESS) {
      switch (t) {
        case sj::json_type::array: kind = "a JSON array"; break;
        case sj::json_type::string: kind = "a JSON string"; break;
        case sj::json_type::number: kind = "a JSON number"; break;
        case sj::json_type::boolean: kind = "a JSON boolean"; break;
        case sj::json_type::null: kind = "null"; break;
        case sj::json_type::object: break;
      }
    }
    return Status::Corruption(
        fmt::format("{}, not an envelope (an envelope is an object such as {{\"key\":\"k\",\"value\":\"v\"}})", kind));
  }

  auto fail = [&](Status st) {
    batch->headers.resize(headers_start);
    return st;
  };
  // A decoded value (value_format, which comes after it) is its JSON text: a string or null
  // is kept as its token, not unescaped.
  std::string_view value_token;
  bool value_is_token = false, value_base64 = false;
  std::string_view decode_error;
  bool has_decode_error = false;
  for (auto field : obj) {
    std::string_view k;
    if (auto e = field.unescaped_key().get(k)) return fail(JsonError("bad field name", e));
    sj::value v;
    if (auto e = field.value().get(v)) return fail(JsonError(k, e));
    Status st;
    if (k == "topic") {
      std::string_view s;
      if (v.get_string().get(s)) return fail(WrongType("topic", "a string", v));
      out->topic = batch->arena.Copy(s);
      out->has_topic = true;
    } else if (k == "partition") {
      int64_t p;
      st = ReadInt(v, "partition", &p);
      if (st.ok() && (p < -1 || p > INT32_MAX))  // -1: unknown
        st = Status::Corruption(fmt::format("partition must be between 0 and {} (or -1: unknown), not {}", INT32_MAX, p));
      out->partition = static_cast<int32_t>(p);
      rec.partition = out->partition;
    } else if (k == "offset") {
      st = ReadInt(v, "offset", &rec.offset);
      if (st.ok() && rec.offset < -1)
        st = Status::Corruption(fmt::format("offset must be 0 or more (or -1: unknown), not {}", rec.offset));
    } else if (k == "timestamp") {
      // Milliseconds since the epoch, or an RFC 3339 string ("2024-05-01T14:00:00.250Z").
      out->has_timestamp = true;
      sj::json_type t;
      if (v.type().get(t) == simdjson::SUCCESS && t == sj::json_type::string) {
        std::string_view text;
        if (auto e = v.get_string().get(text)) return fail(JsonError("timestamp", e));
        auto ms = ParseRfc3339(text);
        if (!ms.ok()) st = Status::Corruption("timestamp: " + ms.status().message());
        else rec.timestamp = *ms;
      } else if (v.get_int64().get(rec.timestamp)) {
        st = WrongType("timestamp", "milliseconds since the epoch (an integer) or an RFC 3339 string", v);
      }
    } else if (k == "timestamp_type") {
      std::string_view s;
      if (v.get_string().get(s)) return fail(WrongType("timestamp_type", "a string", v));
      if (s == "LogAppendTime") rec.timestamp_type = TimestampType::kLogAppendTime;
      else if (s == "CreateTime") rec.timestamp_type = TimestampType::kCreateTime;
      else if (s == "NoTimestampType") rec.timestamp_type = TimestampType::kNone;
      else st = Status::Corruption(fmt::format("timestamp_type must be CreateTime, LogAppendTime or NoTimestampType, not \"{}\"", Excerpt(s, 40)));
    } else if (k == "key") {
      st = ReadBytesValue(v, "key", batch, &rec.key);
    } else if (k == "value") {
      sj::json_type t;
      value_is_token = v.type().get(t) == simdjson::SUCCESS && (t == sj::json_type::string || t == sj::json_type::null);
      if (value_is_token) value_token = TrimRight(v.raw_json_token());
      value_base64 = false;
      st = ReadBytesValue(v, "value", batch, &rec.value);
    } else if (k == "key_base64") {
      st = ReadBase64(v, "key_base64", &im.scratch, batch, &rec.key);
    } else if (k == "value_base64") {
      value_is_token = false;
      value_base64 = true;
      st = ReadBase64(v, "value_base64", &im.scratch, batch, &rec.value);
    } else if (k == "schema_id") {
      int64_t id;
      st = ReadInt(v, "schema_id", &id);
      if (st.ok() && (id < 0 || id > INT32_MAX))
        st = Status::Corruption(fmt::format("schema_id must be between 0 and {}, not {}", INT32_MAX, id));
      rec.schema_id = static_cast<int32_t>(id);
    } else if (k == "value_format") {
      std::string_view s;
      if (v.get_string().get(s)) return fail(WrongType("value_format", "a string", v));
      if (s == "avro") rec.value_format = static_cast<uint8_t>(ValueFormat::kAvro);
      else if (s == "protobuf") rec.value_format = static_cast<uint8_t>(ValueFormat::kProtobuf);
      else if (s == "json") rec.value_format = static_cast<uint8_t>(ValueFormat::kJson);
      else st = Status::Corruption(fmt::format("value_format must be avro, protobuf or json, not \"{}\"", Excerpt(s, 40)));
    } else if (k == "decode_error") {
      if (v.get_string().get(decode_error)) return fail(WrongType("decode_error", "a string", v));
      decode_error = batch->arena.Copy(decode_error);
      has_decode_error = true;
    } else if (k == "headers") {
      batch->headers.resize(headers_start);
      sj::json_type t;
      if (auto e = v.type().get(t)) return fail(JsonError("headers", e));
      if (t == sj::json_type::null) continue;
      sj::array arr;
      if (v.get_array().get(arr))
        return fail(WrongType("headers", "an array of {\"key\":..,\"value\":..} objects", v));
      size_t index = 0;
      for (auto item : arr) {
        auto name = [&](const char* sub) { return fmt::format("headers[{}]{}", index, sub); };
        sj::value iv;
        if (auto e = item.get(iv)) return fail(JsonError(name(""), e));
        sj::object ho;
        if (iv.get_object().get(ho)) return fail(WrongType(name(""), "an object {\"key\":..,\"value\":..}", iv));
        Header h;
        bool have_key = false;
        h.value = Bytes::Null();
        for (auto hf : ho) {
          std::string_view hk;
          if (auto e = hf.unescaped_key().get(hk)) return fail(JsonError(name(": bad field name"), e));
          sj::value hv;
          if (auto e = hf.value().get(hv)) return fail(JsonError(name(""), e));
          if (hk == "key") {
            std::string_view s;
            if (hv.get_string().get(s)) return fail(WrongType(name(".key"), "a string", hv));
            h.key = batch->arena.Copy(s);
            have_key = true;
          } else if (hk == "key_base64") {
            Bytes b;
            Status hs = ReadBase64(hv, name(".key_base64"), &im.scratch, batch, &b);
            if (!hs.ok()) return fail(hs);
            h.key = b.view();
            have_key = true;
          } else if (hk == "value") {
            sj::json_type ht;
            if (auto e = hv.type().get(ht)) return fail(JsonError(name(".value"), e));
            if (ht == sj::json_type::null) {
              h.value = Bytes::Null();
            } else {
              std::string_view s;
              if (hv.get_string().get(s)) return fail(WrongType(name(".value"), "a string or null", hv));
              h.value = Bytes::Of(batch->arena.Copy(s));
            }
          } else if (hk == "value_base64") {
            Status hs = ReadBase64(hv, name(".value_base64"), &im.scratch, batch, &h.value);
            if (!hs.ok()) return fail(hs);
          }
          // Unknown header fields are ignored.
        }
        if (!have_key) return fail(Status::Corruption(name(" has no \"key\" (or \"key_base64\")")));
        batch->headers.push_back(h);
        ++index;
      }
    }
    // Unknown fields are ignored (forward compatibility).
    if (!st.ok()) return fail(st);
  }
  const char* trailing = nullptr;
  if (!doc.current_location().get(trailing)) return fail(Status::Corruption("trailing content after the envelope object"));
  if (rec.value_format != 0) {
    if (value_base64)
      return fail(Status::Corruption(fmt::format("value_format \"{}\" goes with the decoded \"value\", not value_base64",
                                                 ValueFormatName(rec.value_format))));
    if (value_is_token) rec.value = Bytes::Of(batch->arena.Copy(value_token));
    else if (rec.value.null()) rec.value_format = 0;  // no "value": nothing decoded to encode
  }
  if (has_decode_error) {
    // What did not decode: "key: ..." (then "; value: ..."), or the value.
    const bool key_failed = decode_error.starts_with("key: ");
    if (key_failed) rec.key_format = kFormatFailed;
    if (rec.value_format == 0 && (!key_failed || decode_error.find("; value: ") != std::string_view::npos))
      rec.value_format = kFormatFailed;
    batch->decode_errors.emplace_back(decode_error);
    rec.decode_error = static_cast<uint32_t>(batch->decode_errors.size());
  }
  rec.header_begin = static_cast<uint32_t>(headers_start);
  rec.header_count = static_cast<uint32_t>(batch->headers.size() - headers_start);
  im.problem = ParseProblem::kNone;
  return Status::OK();
}

}  // namespace evt::envelope
