// The only translation unit of lib/filter that includes simdjson.
#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <deque>

#include "lib/filter/value.h"

namespace evt::filter {

namespace sj = simdjson::ondemand;
static_assert(JsonExtractor::kPadding >= simdjson::SIMDJSON_PADDING);

struct JsonExtractor::Impl {
  sj::parser parser;
  std::string padded;
  // Scratch stacks per nesting depth, reused across documents (no allocation once warm).
  std::deque<std::vector<Value>> elem_stack;  // deque: growing keeps references valid
  std::deque<std::vector<Member>> member_stack;
  EvalArena* arena = nullptr;
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
        std::string_view s;
        if (v.get_string().get(s)) return false;
        *out = Value::String(s);  // lives in the parser's string buffer until the next document
        return true;
      }
      default: return false;
    }
  }

  // Materialises `v` guided by `node` (nullptr or full: everything).
  bool Walk(sj::value v, const PathNode* node, Value* out) {
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
    bool full = node == nullptr || node->full;
    out->t = VType::kObject;
    out->n = 0;
    out->members = nullptr;
    if (!full && node->fields.empty()) {
      // Only the type is needed; skip the contents (On-Demand does this lazily).
      --depth;
      return true;
    }
    std::vector<Member>& ms = Members(depth);
    for (auto field : o) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return false;
      const PathNode* child = nullptr;
      if (!full) {
        child = node->FindField(key);
        if (!child) continue;  // never read: skipped without parsing
      }
      sj::value fv;
      if (field.value().get(fv)) return false;
      Value val;
      // Keys live in the parser's string buffer until the next document.
      if (!Walk(fv, full ? nullptr : child, &val)) return false;
      // Duplicate keys: the last one wins, in the position of the first (as jq).
      bool replaced = false;
      for (auto& m : ms)
        if (m.key == key) {
          m.val = val;
          replaced = true;
          break;
        }
      if (!replaced) ms.push_back(Member{key, val});
    }
    Member* mem = arena->AllocateArray<Member>(ms.size());
    for (size_t i = 0; i < ms.size(); ++i) new (&mem[i]) Member(ms[i]);
    out->members = mem;
    out->n = static_cast<uint32_t>(ms.size());
    --depth;
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
  // Skip leading whitespace; an all-blank document is not JSON.
  sj::document doc;
  if (capacity < len + simdjson::SIMDJSON_PADDING) {
    im.padded.assign(data, len);
    im.padded.append(simdjson::SIMDJSON_PADDING, '\0');
    data = im.padded.data();
    capacity = im.padded.size();
  }
  if (im.parser.iterate(data, len, capacity).get(doc)) return false;
  bool ok = im.Document(doc, paths, out);
  if (ok && paths && paths->full) {
    // A fully read document must also end where the text ends (no trailing garbage).
    const char* loc = nullptr;
    if (!doc.current_location().get(loc)) return false;
  }
  return ok;
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
