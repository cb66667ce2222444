// The only translation unit of lib/filter that includes simdjson.
#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <deque>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lib/filter/value.h"

namespace evt::filter {

namespace sj = simdjson::ondemand;
static_assert(JsonExtractor::kPadding >= simdjson::SIMDJSON_PADDING);

struct JsonExtractor::Impl {
  sj::parser parser;
  sj::document doc;  // the last Extract()'s, for ExtractAgain()
  bool doc_ok = false;
  std::string padded;
  // Scratch stacks per nesting depth, reused across documents (no allocation once warm).
  std::deque<std::vector<Value>> elem_stack;  // deque: growing keeps references valid
  std::deque<std::vector<Member>> member_stack;
  EvalArena* arena = nullptr;
  const char* doc_end = nullptr;  // the end of the document's text (padding follows)
  int depth = 0;
  static constexpr int kMaxDepth = 512;

  std::vector<Value>& Elems(int d) {
    if (static_cast<int>(elem_stack.size()) <= d) elem_stack.resize(d + 1);
    elem_stack[d].clear();
    return elem_stack[d];
  }
  std::vector<Member>& Members(int d) {
    if (static_cast<int>(member_stack.size()) <= d) member_stack.resize(d + 1);
    member_stack[d].clear();
    return member_stack[d];
  }

  static double ClampNumber(std::string_view raw, bool* ok) {
    // simdjson 3.0.1 rejects 1e400 and integers >= 2^64; jq parses them as doubles and
    // clamps infinities to the largest double.
    std::string tmp(raw);
    while (!tmp.empty() && (tmp.back() == ' ' || tmp.back() == '\n' || tmp.back() == '\r' || tmp.back() == '\t' ||
                            tmp.back() == ',' || tmp.back() == '}' || tmp.back() == ']'))
      tmp.pop_back();
    char* end = nullptr;
    double d = std::strtod(tmp.c_str(), &end);
    *ok = end && *end == '\0' && !tmp.empty();
    if (std::isinf(d)) d = d > 0 ? 1.7976931348623157e308 : -1.7976931348623157e308;
    return d;
  }

  static bool RawToken(sj::value& v, std::string_view* out) {
    *out = v.raw_json_token();
    return true;
  }
  static bool RawToken(sj::document& d, std::string_view* out) { return !d.raw_json_token().get(*out); }

  // The length of a JSON string's text from `s` (just after its opening quote) to its
  // closing quote, or kEscaped when a backslash comes first: then the text is not the
  // string's value and has to be unescaped. The string lies inside a document followed by
  // simdjson's padding (kPadding >= 64 readable bytes), and stage 1 has checked that it is
  // closed, so reading 16 bytes from any position up to the closing quote stays in bounds.
  static constexpr size_t kEscaped = ~size_t{0};
  static size_t PlainLength(const char* s) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    for (size_t i = 0;; i += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
      const unsigned q = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, quote)));
      const unsigned b = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, backslash)));
      if (q | b) {
        const unsigned j = static_cast<unsigned>(__builtin_ctz(q | b));
        return (b >> j) & 1 ? kEscaped : i + j;
      }
    }
#else
    for (size_t i = 0;; ++i) {
      if (s[i] == '"') return i;
      if (s[i] == '\\') return kEscaped;
    }
#endif
  }

  // True when none of node's names can occur as a key in the document's text from `p` on:
  // no backslash there (an escaped key could be any name) and no `"name"` anywhere (in a key
  // or in a value: either way the object is read on). Looks at up to 15 bytes past the end,
  // which lie in the padding.
  bool NoLaterKey(const char* p, const PathNode* node) const {
#if defined(__SSE2__)
    const size_t nf = node->keys.size();
    if (doc_end == nullptr || nf > 4) return false;  // more names: the object is read on
    const FieldKey* keys = node->keys.data();
    // The first byte of each name (repeated for fewer than four names).
    const __m128i f0 = _mm_set1_epi8(keys[0].pat[0]);
    const __m128i f1 = _mm_set1_epi8(keys[nf > 1 ? 1 : 0].pat[0]);
    const __m128i f2 = _mm_set1_epi8(keys[nf > 2 ? 2 : 0].pat[0]);
    const __m128i f3 = _mm_set1_epi8(keys[nf > 3 ? 3 : 0].pat[0]);
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    for (; p < doc_end; p += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
      const unsigned b = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, backslash)));
      const unsigned q = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, quote)));
      const unsigned f = static_cast<unsigned>(_mm_movemask_epi8(
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(next, f0), _mm_cmpeq_epi8(next, f1)),
                       _mm_or_si128(_mm_cmpeq_epi8(next, f2), _mm_cmpeq_epi8(next, f3)))));
      unsigned hits = b | (q & f);
      if (!hits) continue;
      const size_t left = static_cast<size_t>(doc_end - p);
      if (left < 16) hits &= (1u << left) - 1;
      if (hits & b) return false;
      while (hits) {
        // A quote followed by the first byte of a name: is the name there, with its quote?
        const char* s = p + __builtin_ctz(hits) + 1;
        hits &= hits - 1;
        const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
        for (size_t i = 0; i < nf; ++i) {
          if (keys[i].mask) {
            const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(
                _mm_cmpeq_epi8(y, _mm_loadu_si128(reinterpret_cast<const __m128i*>(keys[i].pat)))));
            if ((m & keys[i].mask) == keys[i].mask) return false;
          } else if (static_cast<size_t>(doc_end - s) > keys[i].len &&
                     std::memcmp(s, node->fields[i].first.data(), keys[i].len) == 0 && s[keys[i].len] == '"') {
            return false;
          }
        }
      }
    }
    return true;
#else
    (void)p;
    (void)node;
    return false;
#endif
  }

  // A scalar from a value inside a document or from a scalar document.
  template <typename V>
  bool Scalar(V& v, sj::json_type t, Value* out) {
    switch (t) {
      case sj::json_type::null: {
        bool is_null = false;
        if (v.is_null().get(is_null) || !is_null) return false;
        *out = Value::Null();
        return true;
      }
      case sj::json_type::boolean: {
        bool b;
        if (v.get_bool().get(b)) return false;
        *out = Value::Bool(b);
        return true;
      }
      case sj::json_type::number: {
        double d;
        if (v.get_double().get(d)) {
          std::string_view raw;
          bool ok = RawToken(v, &raw);
          if (ok) d = ClampNumber(raw, &ok);
          if (!ok) return false;
        }
        *out = Value::Number(d);
        return true;
      }
      case sj::json_type::string: {
        if constexpr (std::is_same_v<V, sj::value>) {
          // Without escapes the value is the text between the quotes: point into the
          // document instead of unescaping a copy (the value is left unconsumed, which its
          // parent's iteration skips).
          const char* raw = v.raw_json_token().data();
          const size_t n = PlainLength(raw + 1);
          if (n != kEscaped) {
            *out = Value::String(std::string_view(raw + 1, n));
            return true;
          }
        }
        std::string_view s;
        if (v.get_string().get(s)) return false;
        *out = Value::String(s);  // lives in the parser's string buffer until the next document
        return true;
      }
      default: return false;
    }
  }

  // Materialises `v` guided by `node` (nullptr or full: everything).
  bool Walk(sj::value& v, const PathNode* node, Value* out) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t == sj::json_type::object) {
      sj::object o;
      if (v.get_object().get(o)) return false;
      return WalkObject(o, node, out);
    }
    if (t == sj::json_type::array) {
      sj::array a;
      if (v.get_array().get(a)) return false;
      return WalkArray(a, node, out);
    }
    return Scalar(v, t, out);
  }

  bool WalkObject(sj::object& o, const PathNode* node, Value* out) {
    if (++depth > kMaxDepth) return false;
    out->t = VType::kObject;
    out->n = 0;
    out->members = nullptr;
    bool ok = node == nullptr || node->full ? WalkAllFields(o, out) : WalkFields(o, node, out);
    --depth;
    return ok;
  }

  // An object of which only node->fields are read. Every key is still looked at, at the
  // key level (values of other keys are skipped unparsed), because of duplicates: jq keeps
  // the last value of a key, so a field found early may be replaced by a later one. Keys
  // are compared as written (FieldKey); only a key with a backslash escape is unescaped
  // first, so `"t\u0079pe"` is `type`.
  bool WalkFields(sj::object& o, const PathNode* node, Value* out) {
    const auto& fields = node->fields;
    if (fields.empty()) return true;  // only the type is needed; On-Demand skips the contents lazily
    const size_t nf = fields.size();
    const FieldKey* keys = node->keys.data();
    // Member keys are the PathNode's names (they outlive the document); a member is found
    // again by the address of its name.
    Member* mem = arena->AllocateArray<Member>(nf);
    uint32_t n = 0;
    for (auto fr : o) {
      if (fr.error()) return false;
      sj::field& field = fr.value_unsafe();
      const char* k = field.key().raw();
      size_t hit = nf;
#if defined(__SSE2__)
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(k));
      const unsigned q = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('"'))));
      const unsigned b = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));
      const unsigned stop = q | b;
      const unsigned first = stop & (0u - stop);
      if (first && !(first & b) && node->plain_keys) {
        // A key of under 16 bytes without escapes: one comparison per name.
        for (size_t i = 0; i < nf; ++i) {
          const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(
              _mm_cmpeq_epi8(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(keys[i].pat)))));
          if ((m & keys[i].mask) == keys[i].mask && keys[i].mask) {
            hit = i;
            break;
          }
        }
      } else
#endif
      {
        const size_t len = node->plain_keys ? PlainLength(k) : kEscaped;
        if (len != kEscaped) {
          for (size_t i = 0; i < nf; ++i)
            if (keys[i].len == len && std::memcmp(fields[i].first.data(), k, len) == 0) {
              hit = i;
              break;
            }
        } else {
          std::string_view key;
          if (field.unescaped_key().get(key)) return false;
          for (size_t i = 0; i < nf; ++i)
            if (fields[i].first == key) {
              hit = i;
              break;
            }
        }
      }
      if (hit == nf) continue;  // never read: skipped without parsing
      // Duplicate keys: the last one wins, in the position of the first (as jq).
      const std::string& name = fields[hit].first;
      uint32_t i = 0;
      while (i < n && mem[i].key.data() != name.data()) ++i;
      if (i == n) new (&mem[n++]) Member{name, Value()};
      if (!Walk(field.value(), fields[hit].second.get(), &mem[i].val)) return false;
      // Every field is found: when no later key can repeat one of them, the rest of the
      // object is left unread (as On-Demand leaves what is never visited unvalidated).
      if (n == nf && i == n - 1 && node->plain_keys && NoLaterKey(k, node)) break;
    }
    out->members = mem;
    out->n = n;
    return true;
  }

  // An object read as a whole: every member, keys unescaped.
  bool WalkAllFields(sj::object& o, Value* out) {
    std::vector<Member>& ms = Members(depth);
    uint64_t seen = 0;  // a bit per key's (length, first and last byte): most keys need no search for a duplicate
    for (auto field : o) {
      sj::raw_json_string rk;
      if (field.key().get(rk)) return false;
      std::string_view key;
      const size_t len = PlainLength(rk.raw());
      if (len != kEscaped) key = std::string_view(rk.raw(), len);  // the document's bytes
      else if (field.unescaped_key().get(key)) return false;      // the parser's string buffer
      sj::value fv;
      if (field.value().get(fv)) return false;
      Value val;
      if (!Walk(fv, nullptr, &val)) return false;
      // Duplicate keys: the last one wins, in the position of the first (as jq).
      bool replaced = false;
      const unsigned mix = key.empty() ? 0u
                                       : static_cast<unsigned>(key.size()) * 7u +
                                             static_cast<unsigned char>(key.front()) * 3u +
                                             static_cast<unsigned char>(key.back());
      const uint64_t bit = uint64_t{1} << (mix & 63);
      if (seen & bit) {
        for (auto& m : ms)
          if (m.key == key) {
            m.val = val;
            replaced = true;
            break;
          }
      }
      seen |= bit;
      if (!replaced) ms.push_back(Member{key, val});
    }
    Member* mem = arena->AllocateArray<Member>(ms.size());
    for (size_t i = 0; i < ms.size(); ++i) new (&mem[i]) Member(ms[i]);
    out->members = mem;
    out->n = static_cast<uint32_t>(ms.size());
    return true;
  }

  bool WalkArray(sj::array& a, const PathNode* node, Value* out) {
    if (++depth > kMaxDepth) return false;
    bool full = node == nullptr || node->full;
    out->t = VType::kArray;
    out->n = 0;
    out->elems = nullptr;
    if (!full && !node->elems) {
      --depth;
      return true;
    }
    const PathNode* child = full ? nullptr : node->elems.get();
    std::vector<Value>& es = Elems(depth);
    for (auto item : a) {
      sj::value iv;
      if (item.get(iv)) return false;
      Value val;
      if (!Walk(iv, child, &val)) return false;
      es.push_back(val);
    }
    Value* arr = arena->AllocateArray<Value>(es.size());
    for (size_t i = 0; i < es.size(); ++i) new (&arr[i]) Value(es[i]);
    out->elems = arr;
    out->n = static_cast<uint32_t>(es.size());
    --depth;
    return true;
  }

  bool Read(const PathNode* paths, Value* out) {
    bool ok = Document(doc, paths, out);
    if (ok && paths && paths->full) {
      // A fully read document must also end where the text ends (no trailing garbage).
      const char* loc = nullptr;
      if (!doc.current_location().get(loc)) return false;
    }
    return ok;
  }

  bool Document(sj::document& doc, const PathNode* node, Value* out) {
    sj::json_type t;
    if (doc.type().get(t)) return false;
    depth = 0;
    if (t == sj::json_type::object) {
      sj::object o;
      if (doc.get_object().get(o)) return false;
      return WalkObject(o, node, out);
    }
    if (t == sj::json_type::array) {
      sj::array a;
      if (doc.get_array().get(a)) return false;
      return WalkArray(a, node, out);
    }
    return Scalar(doc, t, out);  // a scalar document
  }
};

JsonExtractor::JsonExtractor() : impl_(std::make_unique<Impl>()) {}
JsonExtractor::~JsonExtractor() = default;

bool JsonExtractor::Extract(const char* data, size_t len, size_t capacity, const PathNode* paths, EvalArena* arena,
                            Value* out) {
  Impl& im = *impl_;
  im.arena = arena;
  im.doc_ok = false;
  if (capacity < len + simdjson::SIMDJSON_PADDING) {
    im.padded.assign(data, len);
    im.padded.append(simdjson::SIMDJSON_PADDING, '\0');
    data = im.padded.data();
    capacity = im.padded.size();
  }
  if (im.parser.iterate(data, len, capacity).get(im.doc)) return false;
  im.doc_end = data + len;
  im.doc_ok = true;
  return im.Read(paths, out);
}

bool JsonExtractor::ExtractAgain(const PathNode* paths, Value* out) {
  Impl& im = *impl_;
  if (!im.doc_ok) return false;
  im.doc.rewind();
  return im.Read(paths, out);
}

bool JsonExtractor::ExtractFull(std::string_view json, EvalArena* arena, Value* out) {
  // Copy: the result must outlive later Extract() calls on the same parser.
  Impl& im = *impl_;
  im.arena = arena;
  std::string buf(json);
  buf.append(simdjson::SIMDJSON_PADDING, '\0');
  sj::parser p;
  sj::document doc;
  if (p.iterate(buf.data(), json.size(), buf.size()).get(doc)) return false;
  PathNode full;
  full.full = true;
  // Strings point into p's buffer: deep-copy them into the arena afterwards.
  Impl tmp;
  tmp.arena = arena;
  tmp.doc_end = buf.data() + json.size();
  if (!tmp.Document(doc, &full, out)) return false;
  struct Copier {
    EvalArena* a;
    void Run(Value* v) {
      if (v->t == VType::kString) {
        auto s = a->Copy(v->sv());
        v->str = s.data();
      } else if (v->t == VType::kArray) {
        for (uint32_t i = 0; i < v->n; ++i) Run(const_cast<Value*>(&v->elems[i]));
      } else if (v->t == VType::kObject) {
        for (uint32_t i = 0; i < v->n; ++i) {
          Member* m = const_cast<Member*>(&v->members[i]);
          m->key = a->Copy(m->key);
          Run(&m->val);
        }
      }
    }
  } c{arena};
  c.Run(out);
  return true;
}

}  // namespace evt::filter
