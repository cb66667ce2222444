// JSON to Avro binary: the inverse of the decoder in avro.cc (Schema::ToJson). The rules,
// and the choice of a union branch in the natural style, are in README.md beside this file.
#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "formats/avro/avro.h"
#include "formats/avro/schema_internal.h"
#include "formats/envelope/envelope.h"
#include "lib/base/timeutil.h"

namespace evt::avro {

namespace dom = simdjson::dom;

namespace {

// The styles of JSON this encoder reads: the two ToJson writes, and a field default's (the
// spec's encoding, with a union's default the value of its first branch, unwrapped).
enum class In { kNatural, kSpec, kDefault };

void PutLong(int64_t v, std::string* out) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (u >= 0x80) {
    out->push_back(static_cast<char>((u & 0x7f) | 0x80));
    u >>= 7;
  }
  out->push_back(static_cast<char>(u));
}

void PutLe(uint64_t v, int n, std::string* out) {
  for (int i = 0; i < n; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// Digits of `s` from `*p`, exactly `n` of them (n < 0: one or more), as a number.
bool Digits(std::string_view s, size_t* p, int n, int64_t* v) {
  size_t start = *p;
  int64_t x = 0;
  while (*p < s.size() && s[*p] >= '0' && s[*p] <= '9' && (n < 0 || static_cast<int>(*p - start) < n)) {
    if (x > (INT64_MAX - 9) / 10) return false;
    x = x * 10 + (s[*p] - '0');
    ++*p;
  }
  if (n < 0 ? *p == start : static_cast<int>(*p - start) != n) return false;
  *v = x;
  return true;
}

// A date as the decoder writes it: YYYY-MM-DD for years 0-9999, else a signed year
// (+10000-01-01, -1-12-31). Days since the epoch.
bool ParseDate(std::string_view s, size_t* p, int64_t* days) {
  int64_t y, m, d;
  if (*p < s.size() && (s[*p] == '+' || s[*p] == '-')) {
    bool neg = s[*p] == '-';
    ++*p;
    if (!Digits(s, p, -1, &y) || y > 1000000000000LL) return false;
    if (neg) y = -y;
    if (y >= 0 && y <= 9999) return false;  // those are written without a sign
  } else if (!Digits(s, p, 4, &y)) {
    return false;
  }
  if (*p >= s.size() || s[(*p)++] != '-' || !Digits(s, p, 2, &m) || *p >= s.size() || s[(*p)++] != '-' ||
      !Digits(s, p, 2, &d))
    return false;
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  *days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  int64_t yy;
  unsigned mm, dd;
  CivilFromDays(*days, &yy, &mm, &dd);  // 2023-02-30 does not come back: not a date
  return yy == y && mm == m && dd == d;
}

// HH:MM:SS.f (exactly `digits` fraction digits): units of 10^-digits s since midnight.
bool ParseTimeOfDay(std::string_view s, size_t* p, int digits, int64_t* v) {
  int64_t h, mi, se, f;
  if (!Digits(s, p, 2, &h) || *p >= s.size() || s[(*p)++] != ':' || !Digits(s, p, 2, &mi) || *p >= s.size() ||
      s[(*p)++] != ':' || !Digits(s, p, 2, &se) || *p >= s.size() || s[(*p)++] != '.' || !Digits(s, p, digits, &f))
    return false;
  if (h > 23 || mi > 59 || se > 59) return false;
  int64_t per = digits == 3 ? 1000 : 1000000;
  *v = ((h * 60 + mi) * 60 + se) * per + f;
  return true;
}

// RFC 3339 as the decoder writes timestamps: the date, 'T', the time with 3 (millis) or 6
// (micros) fraction digits, and 'Z' unless local.
bool ParseTimestamp(std::string_view s, int digits, bool zone, int64_t* v) {
  size_t p = 0;
  int64_t days, t;
  if (!ParseDate(s, &p, &days) || p >= s.size() || s[p++] != 'T' || !ParseTimeOfDay(s, &p, digits, &t)) return false;
  if (zone && (p >= s.size() || s[p++] != 'Z')) return false;
  if (p != s.size()) return false;
  const __int128 per = digits == 3 ? 1000 : 1000000;
  __int128 x = static_cast<__int128>(days) * 86400 * per + t;
  if (x < INT64_MIN || x > INT64_MAX) return false;
  *v = static_cast<int64_t>(x);
  return true;
}

// The spec's JSON encoding of bytes: code points 0-255, one byte each.
bool Latin1(std::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if ((c == 0xc2 || c == 0xc3) && i + 1 < s.size()) {
      out->push_back(static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(s[++i]) & 0x3f)));
    } else {
      return false;
    }
  }
  return true;
}

// A decimal string ("-12.345") at `scale` as the big-endian two's complement of its
// unscaled value. `exact`: the fraction has exactly `scale` digits and the integer part no
// leading zeros (the decoder's form); else fewer fraction digits are padded. `size` < 0:
// as many bytes as python3-avro writes (the magnitude's bits plus a sign bit, rounded up to
// bytes); else sign-extended to `size` bytes (false when it does not fit).
bool DecimalBytes(std::string_view s, int32_t scale, bool exact, int64_t size, std::string* out, std::string* why) {
  size_t p = 0;
  bool neg = false;
  if (p < s.size() && s[p] == '-') { neg = true; ++p; }
  size_t int_start = p;
  while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
  size_t int_end = p;
  if (int_end == int_start) { *why = "not a decimal number"; return false; }
  size_t frac_start = p, frac_end = p;
  if (p < s.size() && s[p] == '.') {
    frac_start = ++p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
    frac_end = p;
    if (frac_end == frac_start) { *why = "not a decimal number"; return false; }
  }
  if (p != s.size()) { *why = "not a decimal number"; return false; }
  const size_t frac = frac_end - frac_start;
  if (frac > static_cast<size_t>(scale)) {
    *why = fmt::format("{} digits after the point, more than the scale {}", frac, scale);
    return false;
  }
  if (exact && (frac != static_cast<size_t>(scale) || (int_end - int_start > 1 && s[int_start] == '0'))) {
    *why = fmt::format("not a decimal of scale {} as evt writes it", scale);
    return false;
  }
  // The magnitude, base 256 big-endian, from the digits (scale - frac zeros appended).
  std::vector<uint8_t> mag;
  auto push = [&](int digit) {
    unsigned carry = static_cast<unsigned>(digit);
    for (size_t i = mag.size(); i-- > 0;) {
      unsigned cur = mag[i] * 10u + carry;
      mag[i] = static_cast<uint8_t>(cur);
      carry = cur >> 8;
    }
    while (carry) {
      mag.insert(mag.begin(), static_cast<uint8_t>(carry));
      carry >>= 8;
    }
  };
  for (size_t i = int_start; i < int_end; ++i) push(s[i] - '0');
  for (size_t i = frac_start; i < frac_end; ++i) push(s[i] - '0');
  for (size_t i = frac; i < static_cast<size_t>(scale); ++i) push(0);
  size_t lead = 0;
  while (lead < mag.size() && mag[lead] == 0) ++lead;
  mag.erase(mag.begin(), mag.begin() + static_cast<ptrdiff_t>(lead));
  if (exact && neg && mag.empty()) { *why = "-0 is not a decimal as evt writes it"; return false; }
  if (mag.empty()) neg = false;
  // Bits of the magnitude, plus a sign bit.
  size_t bits = mag.size() * 8;
  if (!mag.empty()) {
    uint8_t top = mag[0];
    int lz = 0;
    while (!(top & 0x80)) { top = static_cast<uint8_t>(top << 1); ++lz; }
    bits -= static_cast<size_t>(lz);
  }
  size_t n = (bits + 1 + 7) / 8;
  if (size >= 0) {
    // Fits when the two's complement value fits: a negative power of two needs no extra bit.
    bool pow2 = false;
    if (neg && !mag.empty()) {
      pow2 = (mag[0] & (mag[0] - 1)) == 0;
      for (size_t i = 1; i < mag.size() && pow2; ++i) pow2 = mag[i] == 0;
    }
    size_t need = pow2 ? (bits + 7) / 8 : n;
    if (need > static_cast<size_t>(size)) {
      *why = fmt::format("does not fit the fixed size of {} bytes", size);
      return false;
    }
    n = static_cast<size_t>(size);
  }
  std::vector<uint8_t> b(n, 0);
  for (size_t i = 0; i < mag.size(); ++i) b[n - mag.size() + i] = mag[i];
  if (neg) {
    for (uint8_t& x : b) x = static_cast<uint8_t>(~x);
    for (size_t i = n; i-- > 0;)
      if (++b[i] != 0) break;
  }
  out->append(reinterpret_cast<const char*>(b.data()), b.size());
  return true;
}

std::string Excerpt(dom::element e) {
  std::string s = simdjson::minify(e);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

const char* KindOf(dom::element e) {
  switch (e.type()) {
    case dom::element_type::ARRAY: return "an array";
    case dom::element_type::OBJECT: return "an object";
    case dom::element_type::STRING: return "a string";
    case dom::element_type::NULL_VALUE: return "null";
    case dom::element_type::BOOL: return "a boolean";
    default: return "a number";
  }
}

}  // namespace

// Encodes JSON elements for one schema. `strict_` (inside a union branch being tried): only
// the forms the decoder writes fit, so that a value goes back to the branch it came from.
class Encoding {
 public:
  Encoding(const Schema& s, In style, std::string* out) : s_(s), style_(style), out_(out) {}

  bool Run(dom::element e, std::string* error) { return Run(s_.root_, e, error); }
  bool Run(int node, dom::element e, std::string* error) {
    bool ok = Value(node, e, 0);
    if (!ok) {
      std::string path;
      for (size_t i = path_.size(); i-- > 0;) path += path_[i];
      *error = path.empty() ? error_ : fmt::format("{}: {}", path.front() == '.' ? path.substr(1) : path, error_);
    }
    return ok;
  }

  // Every field default of `s`, encoded once (a default that does not fit its field's
  // type is kept as an error, reported if the field is ever missing).
  static void ComputeDefaults(Schema* s) {
    for (Node& n : s->nodes_)
      for (Field& f : n.fields)
        if (f.has_default) EncodeDefault(*s, &f, 0);
  }

 private:
  static void EncodeDefault(const Schema& s, Field* f, int depth) {
    if (f->default_state != 0) return;
    f->default_state = 2;
    if (depth > kMaxDepth) { f->default_error = "nested too deeply"; return; }
    dom::parser parser;
    dom::element e;
    if (parser.parse(f->default_json).get(e) != simdjson::SUCCESS) { f->default_error = "not JSON"; return; }
    std::string bytes, err;
    Encoding enc(s, In::kDefault, &bytes);
    enc.default_depth_ = depth;
    if (!enc.Run(f->node, e, &err)) { f->default_error = err; return; }
    f->default_bytes = std::move(bytes);
    f->default_state = 1;
  }

  bool Fail(std::string what) {
    error_ = std::move(what);
    return false;
  }
  bool Wrong(const char* want, dom::element e) {
    return Fail(fmt::format("expected {}, not {}", want, e.is_string() || e.is_number() || e.is_bool() || e.is_null()
                                                           ? Excerpt(e) : KindOf(e)));
  }
  bool Path(std::string seg) {
    if (!strict_) path_.push_back(std::move(seg));
    return false;
  }

  bool Integer(dom::element e, int64_t lo, int64_t hi, int64_t* v, const char* want) {
    if (e.get_int64().get(*v) != simdjson::SUCCESS) return Wrong(want, e);
    if (*v < lo || *v > hi) return Fail(fmt::format("{} is out of range for {}", *v, want));
    return true;
  }

  // A float or double: a number, or "NaN", "Infinity", "-Infinity" as the decoder writes them.
  bool Number(dom::element e, double* d) {
    std::string_view s;
    if (e.get_string().get(s) == simdjson::SUCCESS) {
      if (s == "NaN") *d = std::nan("");
      else if (s == "Infinity") *d = HUGE_VAL;
      else if (s == "-Infinity") *d = -HUGE_VAL;
      else return Wrong("a number", e);
      return true;
    }
    if (e.get_double().get(*d) != simdjson::SUCCESS) return Wrong("a number", e);
    return true;
  }

  bool StringOf(dom::element e, std::string_view* s, const char* want) {
    if (e.get_string().get(*s) != simdjson::SUCCESS) return Wrong(want, e);
    return true;
  }

  bool Value(int idx, dom::element e, int depth) {
    if (depth > kMaxDepth) return Fail("nested too deeply");
    const Node& n = s_.nodes_[idx];
    std::string& o = *out_;
    const bool natural = style_ == In::kNatural;
    switch (n.type) {
      case Type::kNull:
        if (!e.is_null()) return Wrong("null", e);
        return true;
      case Type::kBoolean: {
        bool b;
        if (e.get_bool().get(b) != simdjson::SUCCESS) return Wrong("true or false", e);
        o.push_back(b ? 1 : 0);
        return true;
      }
      case Type::kInt: {
        int64_t v;
        std::string_view s;
        if (natural && n.logical == Logical::kDate && e.get_string().get(s) == simdjson::SUCCESS) {
          size_t p = 0;
          if (!ParseDate(s, &p, &v) || p != s.size() || v < INT32_MIN || v > INT32_MAX)
            return Fail(fmt::format("expected a date (YYYY-MM-DD), not {}", Excerpt(e)));
        } else if (natural && n.logical == Logical::kTimeMillis && e.get_string().get(s) == simdjson::SUCCESS) {
          size_t p = 0;
          if (!ParseTimeOfDay(s, &p, 3, &v) || p != s.size())
            return Fail(fmt::format("expected a time of day (HH:MM:SS.mmm), not {}", Excerpt(e)));
        } else {
          // The decoder writes a date always as text, a time-millis as text when in range.
          if (strict_ && natural && n.logical == Logical::kDate) return Wrong("a date (YYYY-MM-DD)", e);
          if (!Integer(e, INT32_MIN, INT32_MAX, &v, "an int")) return false;
          if (strict_ && natural && n.logical == Logical::kTimeMillis && v >= 0 && v < 86400000)
            return Wrong("a time of day (HH:MM:SS.mmm)", e);
        }
        PutLong(v, &o);
        return true;
      }
      case Type::kLong: {
        int64_t v;
        std::string_view s;
        const Logical l = natural ? n.logical : Logical::kNone;
        const bool ts = l == Logical::kTimestampMillis || l == Logical::kTimestampMicros ||
                        l == Logical::kLocalTimestampMillis || l == Logical::kLocalTimestampMicros;
        if (ts && e.get_string().get(s) == simdjson::SUCCESS) {
          const bool micros = l == Logical::kTimestampMicros || l == Logical::kLocalTimestampMicros;
          const bool zone = l == Logical::kTimestampMillis || l == Logical::kTimestampMicros;
          if (!ParseTimestamp(s, micros ? 6 : 3, zone, &v))
            return Fail(fmt::format("expected an RFC 3339 time as evt writes it ({}), not {}",
                                    micros ? (zone ? "2024-05-01T14:00:00.000000Z" : "2024-05-01T14:00:00.000000")
                                           : (zone ? "2024-05-01T14:00:00.000Z" : "2024-05-01T14:00:00.000"),
                                    Excerpt(e)));
        } else if (l == Logical::kTimeMicros && e.get_string().get(s) == simdjson::SUCCESS) {
          size_t p = 0;
          if (!ParseTimeOfDay(s, &p, 6, &v) || p != s.size())
            return Fail(fmt::format("expected a time of day (HH:MM:SS.uuuuuu), not {}", Excerpt(e)));
        } else {
          if (strict_ && ts) return Wrong("an RFC 3339 time", e);
          if (!Integer(e, INT64_MIN, INT64_MAX, &v, "a long")) return false;
          if (strict_ && l == Logical::kTimeMicros && v >= 0 && v < 86400000000LL)
            return Wrong("a time of day (HH:MM:SS.uuuuuu)", e);
        }
        PutLong(v, &o);
        return true;
      }
      case Type::kFloat: {
        double d;
        if (!Number(e, &d)) return false;
        float f = static_cast<float>(d);
        if (std::isfinite(d) && !std::isfinite(f)) return Fail(fmt::format("{} is out of range for a float", Excerpt(e)));
        if (strict_ && std::isfinite(d)) {
          // A double's digits are not a float's: only a number the decoder would write for
          // this float fits (0.1 does, 0.123456789 does not).
          char buf[32];
          *fmt::format_to_n(buf, sizeof buf - 1, "{}", f).out = 0;
          if (std::strtod(buf, nullptr) != d) return Wrong("a float", e);
        }
        uint32_t u;
        memcpy(&u, &f, 4);
        PutLe(u, 4, &o);
        return true;
      }
      case Type::kDouble: {
        double d;
        if (!Number(e, &d)) return false;
        uint64_t u;
        memcpy(&u, &d, 8);
        PutLe(u, 8, &o);
        return true;
      }
      case Type::kBytes:
      case Type::kFixed: return Bytes(n, e);
      case Type::kString: {
        std::string_view s;
        if (!StringOf(e, &s, "a string")) return false;
        PutLong(static_cast<int64_t>(s.size()), &o);
        o.append(s);
        return true;
      }
      case Type::kRecord: return Record(n, e, depth);
      case Type::kEnum: {
        std::string_view s;
        if (!StringOf(e, &s, "an enum symbol (a string)")) return false;
        for (size_t i = 0; i < n.raw_symbols.size(); ++i)
          if (n.raw_symbols[i] == s) {
            PutLong(static_cast<int64_t>(i), &o);
            return true;
          }
        return Fail(fmt::format("\"{}\" is not a symbol of enum {}", s.substr(0, 40), n.name));
      }
      case Type::kUnion: return Union(n, e, depth);
      case Type::kArray: {
        dom::array a;
        if (e.get_array().get(a) != simdjson::SUCCESS) return Wrong("an array", e);
        size_t count = a.size();
        if (count) {
          PutLong(static_cast<int64_t>(count), &o);
          size_t i = 0;
          for (dom::element item : a) {
            if (!Value(n.items, item, depth + 1)) return Path(fmt::format("[{}]", i));
            ++i;
          }
        }
        PutLong(0, &o);
        return true;
      }
      case Type::kMap: {
        dom::object m;
        if (e.get_object().get(m) != simdjson::SUCCESS) return Wrong("an object (a map)", e);
        size_t count = m.size();
        if (count) {
          PutLong(static_cast<int64_t>(count), &o);
          for (dom::key_value_pair kv : m) {
            PutLong(static_cast<int64_t>(kv.key.size()), &o);
            o.append(kv.key);
            if (!Value(n.items, kv.value, depth + 1)) return Path(MapKey(kv.key));
          }
        }
        PutLong(0, &o);
        return true;
      }
    }
    return Fail("unknown type");
  }

  static std::string MapKey(std::string_view k) {
    std::string q;
    envelope::AppendJsonString(k.substr(0, 40), &q);
    return "[" + q + "]";
  }

  bool Bytes(const Node& n, dom::element e) {
    std::string& o = *out_;
    std::string_view s;
    const bool fixed = n.type == Type::kFixed;
    scratch_.clear();
    if (style_ != In::kNatural) {
      if (!StringOf(e, &s, "a string of bytes (code points 0-255)")) return false;
      if (!Latin1(s, &scratch_)) return Fail("a string of bytes has code points above 255");
    } else if (n.logical == Logical::kDecimal) {
      if (!StringOf(e, &s, "a decimal string")) return false;
      std::string why;
      if (!DecimalBytes(s, n.scale, strict_, fixed ? n.size : -1, &scratch_, &why))
        return Fail(fmt::format("{}: {}", Excerpt(e), why));
    } else if (n.logical == Logical::kDuration) {
      dom::object obj;
      if (e.get_object().get(obj) != simdjson::SUCCESS) return Wrong("{\"months\",\"days\",\"milliseconds\"}", e);
      static const char* kParts[] = {"months", "days", "milliseconds"};
      size_t seen = 0;
      for (dom::key_value_pair kv : obj) {
        bool known = false;
        for (const char* k : kParts) known |= kv.key == k;
        if (!known) return Fail(fmt::format("a duration has no field \"{}\"", kv.key.substr(0, 40)));
        ++seen;
      }
      if (seen != 3) return Fail("a duration needs months, days and milliseconds");
      for (const char* k : kParts) {
        int64_t v;
        dom::element part;
        if (obj[k].get(part) != simdjson::SUCCESS) return Fail(fmt::format("a duration needs \"{}\"", k));
        if (!Integer(part, 0, UINT32_MAX, &v, "an unsigned 32-bit integer")) return Path(std::string(".") + k);
        PutLe(static_cast<uint64_t>(v), 4, &scratch_);
      }
    } else {
      if (!StringOf(e, &s, "a base64 string")) return false;
      if (!envelope::DecodeBase64(s, &scratch_)) return Fail(fmt::format("{} is not base64", Excerpt(e)));
    }
    if (fixed) {
      if (scratch_.size() != static_cast<size_t>(n.size))
        return Fail(fmt::format("{} bytes for fixed {} of size {}", scratch_.size(), n.name, n.size));
    } else {
      PutLong(static_cast<int64_t>(scratch_.size()), &o);
    }
    o.append(scratch_);
    return true;
  }

  bool Record(const Node& n, dom::element e, int depth) {
    dom::object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) return Wrong(n.name.empty() ? "an object" : "an object (a record)", e);
    // The JSON's fields, in the schema's order: usually they come in it.
    const size_t base = slots_.size();
    const size_t nf = n.fields.size();
    slots_.resize(base + nf);
    bool ok = true;
    size_t next = 0;
    for (dom::key_value_pair kv : obj) {
      size_t k = nf;
      if (next < nf && n.fields[next].name == kv.key) {
        k = next;
      } else {
        for (size_t j = 0; j < nf; ++j)
          if (n.fields[j].name == kv.key) { k = j; break; }
      }
      if (k == nf) {
        ok = Fail(fmt::format("{} has no field \"{}\"", n.name, kv.key.substr(0, 40)));
        break;
      }
      if (slots_[base + k].present) {
        ok = Fail(fmt::format("field \"{}\" given twice", kv.key.substr(0, 40)));
        break;
      }
      slots_[base + k] = Slot{kv.value, true};
      next = k + 1;
    }
    for (size_t k = 0; ok && k < nf; ++k) {
      const Field& f = n.fields[k];
      Slot sl = slots_[base + k];
      if (sl.present) {
        if (!Value(f.node, sl.e, depth + 1)) {
          ok = Path("." + f.name);
        }
      } else if (strict_ || !f.has_default) {
        ok = Fail(fmt::format("field \"{}\" of {} is missing{}", f.name, n.name, f.has_default ? "" : " (and has no default)"));
      } else {
        if (f.default_state == 0 && style_ == In::kDefault)
          EncodeDefault(s_, const_cast<Field*>(&f), default_depth_ + 1);  // while computing defaults
        if (f.default_state != 1)
          ok = Fail(fmt::format("field \"{}\" of {} is missing and its default does not fit: {}", f.name, n.name,
                                f.default_error));
        else
          out_->append(f.default_bytes);
      }
    }
    slots_.resize(base);
    return ok;
  }

  bool Union(const Node& n, dom::element e, int depth) {
    std::string& o = *out_;
    if (style_ == In::kDefault) {  // the first branch's value
      PutLong(0, &o);
      return Value(n.branches[0], e, depth + 1);
    }
    if (e.is_null()) {
      for (size_t i = 0; i < n.branches.size(); ++i)
        if (s_.nodes_[n.branches[i]].type == Type::kNull) {
          PutLong(static_cast<int64_t>(i), &o);
          return true;
        }
      return Fail(fmt::format("null is not a branch of the union {}", Branches(n)));
    }
    if (style_ == In::kSpec) {  // {"branch name": value}
      dom::object obj;
      if (e.get_object().get(obj) != simdjson::SUCCESS || obj.size() != 1)
        return Wrong("a union as {\"type\": value}", e);
      dom::key_value_pair kv = *obj.begin();
      for (size_t i = 0; i < n.branches.size(); ++i) {
        const Node& b = s_.nodes_[n.branches[i]];
        std::string_view name = b.spec_name.size() >= 2 ? std::string_view(b.spec_name).substr(1, b.spec_name.size() - 2) : "";
        if (name == kv.key) {
          PutLong(static_cast<int64_t>(i), &o);
          if (!Value(n.branches[i], kv.value, depth + 1)) return Path("." + std::string(kv.key));
          return true;
        }
      }
      return Fail(fmt::format("\"{}\" is not a branch of the union {}", kv.key.substr(0, 40), Branches(n)));
    }
    // Natural: the first branch the value fits as the decoder would have written it; a
    // string tries the branches of logical types written as text first (a decimal, date,
    // time or timestamp in its exact form is more likely that than a plain string).
    const size_t mark = o.size();
    const bool was_strict = strict_;
    strict_ = true;
    const bool text = e.is_string();
    for (int pass = text ? 0 : 1; pass < 2; ++pass) {
      for (size_t i = 0; i < n.branches.size(); ++i) {
        const Node& b = s_.nodes_[n.branches[i]];
        if (b.type == Type::kNull) continue;
        const bool textual = b.logical != Logical::kNone && b.logical != Logical::kUuid;
        if (text && textual != (pass == 0)) continue;
        PutLong(static_cast<int64_t>(i), &o);
        if (Value(n.branches[i], e, depth + 1)) {
          strict_ = was_strict;
          return true;
        }
        o.resize(mark);
      }
    }
    strict_ = was_strict;
    if (!was_strict && n.branches.size() == 2) {
      // One non-null branch: its own error says more than "fits no branch".
      for (size_t i = 0; i < 2; ++i)
        if (s_.nodes_[n.branches[i]].type != Type::kNull) {
          PutLong(static_cast<int64_t>(i), &o);
          return Value(n.branches[i], e, depth + 1);
        }
    }
    return Fail(fmt::format("{} fits no branch of the union {}", Excerpt(e), Branches(n)));
  }

  std::string Branches(const Node& n) const {
    std::string s = "[";
    for (size_t i = 0; i < n.branches.size(); ++i) {
      if (i) s += ",";
      s += s_.nodes_[n.branches[i]].spec_name;
    }
    return s + "]";
  }

  struct Slot {
    dom::element e;
    bool present = false;
  };
  const Schema& s_;
  In style_;
  std::string* out_;
  bool strict_ = false;
  int default_depth_ = 0;
  std::string error_;
  std::vector<std::string> path_;  // innermost first
  std::vector<Slot> slots_;        // the fields of the records being encoded, a stack
  std::string scratch_;
};

void ComputeDefaults(Schema* s) { Encoding::ComputeDefaults(s); }

struct JsonEncoder::Impl {
  dom::parser parser;
  std::string padded;
};

JsonEncoder::JsonEncoder() : impl_(std::make_unique<Impl>()) {}
JsonEncoder::~JsonEncoder() = default;

namespace {
// The JSON text with SIMDJSON_PADDING after it; a bare -0 (the decoder's negative zero,
// which simdjson reads as the integer 0) becomes -0.0.
void Pad(std::string_view json, std::string* padded) {
  padded->clear();
  if (json.find("-0") == std::string_view::npos) {
    padded->append(json);
  } else {
    bool in_string = false;
    for (size_t i = 0; i < json.size(); ++i) {
      char c = json[i];
      padded->push_back(c);
      if (in_string) {
        if (c == '\\' && i + 1 < json.size()) padded->push_back(json[++i]);
        else if (c == '"') in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '-' && i + 1 < json.size() && json[i + 1] == '0') {
        char after = i + 2 < json.size() ? json[i + 2] : ' ';
        if (!(after >= '0' && after <= '9') && after != '.' && after != 'e' && after != 'E') {
          padded->append("0.0");
          ++i;
        }
      }
    }
  }
  padded->append(simdjson::SIMDJSON_PADDING, '\0');
}
}  // namespace

bool JsonEncoder::Encode(const Schema& schema, std::string_view json, JsonStyle style, std::string* out,
                         std::string* error) {
  Impl& im = *impl_;
  Pad(json, &im.padded);
  dom::element e;
  if (auto err = im.parser.parse(im.padded.data(), im.padded.size() - simdjson::SIMDJSON_PADDING, false).get(e)) {
    *error = fmt::format("not JSON: {}", simdjson::error_message(err));
    return false;
  }
  Encoding enc(schema, style == JsonStyle::kSpec ? In::kSpec : In::kNatural, out);
  return enc.Run(e, error);
}

}  // namespace evt::avro
