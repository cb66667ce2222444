#include "formats/jsonschema/jsonschema.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <simdjson.h>

#include <cmath>
#include <map>
#include <unordered_map>

namespace evt::jsonschema {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Schema nesting (and $ref chains) deeper than this is refused at Parse, and a validation
// that goes deeper (a $ref loop that consumes no part of the value) fails.
constexpr int kMaxDepth = 256;
// A value's validation may evaluate at most kMinSteps + kStepsPerByte * (its size) subschemas
// (a schema whose combinators branch over a recursive $ref would otherwise take 2^depth).
constexpr uint64_t kMinSteps = 20000;
constexpr uint64_t kStepsPerByte = 16;

bool IsNumber(element_type t) {
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

long double NumberOf(element e) {
  switch (e.type()) {
    case element_type::INT64: return static_cast<long double>(int64_t(e.get_int64()));
    case element_type::UINT64: return static_cast<long double>(uint64_t(e.get_uint64()));
    case element_type::DOUBLE: return static_cast<long double>(double(e.get_double()));
    default: return 0;
  }
}

bool IsInteger(element e) {
  element_type t = e.type();
  if (t == element_type::INT64 || t == element_type::UINT64) return true;
  if (t != element_type::DOUBLE) return false;
  double d = e.get_double();
  return std::isfinite(d) && std::floor(d) == d;  // 1.0 is an integer (draft 6 on)
}

// The value in short, for messages.
std::string Show(element e) {
  std::string s = simdjson::minify(e);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool Equal(element a, element b) {
  element_type ta = a.type(), tb = b.type();
  if (IsNumber(ta) && IsNumber(tb)) {
    if (ta != element_type::DOUBLE && tb != element_type::DOUBLE) {
      if (ta == tb) return ta == element_type::INT64 ? int64_t(a.get_int64()) == int64_t(b.get_int64())
                                                    : uint64_t(a.get_uint64()) == uint64_t(b.get_uint64());
      // int64 against uint64: equal only when both are non-negative and the same
      int64_t i = ta == element_type::INT64 ? int64_t(a.get_int64()) : int64_t(b.get_int64());
      uint64_t u = ta == element_type::UINT64 ? uint64_t(a.get_uint64()) : uint64_t(b.get_uint64());
      return i >= 0 && static_cast<uint64_t>(i) == u;
    }
    return NumberOf(a) == NumberOf(b);
  }
  if (ta != tb) return false;
  switch (ta) {
    case element_type::STRING: return a.get_string().value() == b.get_string().value();
    case element_type::BOOL: return bool(a.get_bool()) == bool(b.get_bool());
    case element_type::NULL_VALUE: return true;
    case element_type::ARRAY: {
      simdjson::dom::array x = a.get_array(), y = b.get_array();
      if (x.size() != y.size()) return false;
      auto i = x.begin(), j = y.begin();
      for (; i != x.end(); ++i, ++j)
        if (!Equal(*i, *j)) return false;
      return true;
    }
    case element_type::OBJECT: {
      simdjson::dom::object x = a.get_object(), y = b.get_object();
      if (x.size() != y.size()) return false;
      for (auto kv : x) {
        element other;
        if (y.at_key(kv.key).get(other) != simdjson::SUCCESS || !Equal(kv.value, other)) return false;
      }
      return true;
    }
    default: return false;
  }
}

const char* TypeName(element v) {
  switch (v.type()) {
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    default: return IsInteger(v) ? "integer" : "number";
  }
}

bool HasType(element v, std::string_view t) {
  if (t == "integer") return IsInteger(v);
  if (t == "number") return IsNumber(v.type());
  return TypeName(v) == t;
}

// Appends one reference token of a JSON pointer (RFC 6901 escaping).
void AppendToken(std::string_view t, std::string* path) {
  path->push_back('/');
  for (char c : t) {
    if (c == '~') path->append("~0");
    else if (c == '/') path->append("~1");
    else path->push_back(c);
  }
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

struct Schema::Impl {
  std::vector<std::unique_ptr<simdjson::dom::parser>> parsers;  // [0]: the schema, then references
  element root;
  std::map<std::string, element, std::less<>> docs;  // references by name
  // Compiled at Parse, keyed by the address of the keyword's string in the schema's DOM
  // (stable while the parsers live): `pattern` values and `patternProperties` names.
  std::unordered_map<const char*, std::unique_ptr<RE2>> patterns;
  // `$ref` values: the document the target is in, and the target.
  struct Target {
    element doc;
    element schema;
  };
  std::unordered_map<const char*, Target> refs;
  mutable simdjson::dom::parser value_parser;
  mutable std::string buf;
  // Steps (subschema evaluations) left for the value being validated: combinators over
  // recursive $refs can branch at every level, so depth alone does not bound the time.
  mutable uint64_t steps_left = 0;
  mutable bool over_budget = false;

  // ---- Parse: check every keyword of every subschema ----
  Status Check(element s, element doc, int depth);
  Status CheckChild(simdjson::dom::object o, std::string_view key, element doc, int depth);
  Status Resolve(std::string_view ref, element doc, Target* t);
  Status Pattern(std::string_view p);

  // ---- Validate ----
  bool V(element s, element doc, element v, std::string* path, int depth, std::string* why) const;
  bool Fail(const std::string* path, std::string* why, std::string msg) const {
    *why = fmt::format("{}: {}", path->empty() ? "/" : *path, msg);
    return false;
  }
  const RE2& Re(std::string_view p) const { return *patterns.at(p.data()); }
};

Status Schema::Impl::Pattern(std::string_view p) {
  if (patterns.count(p.data())) return Status::OK();
  RE2::Options opt;
  opt.set_log_errors(false);
  auto re = std::make_unique<RE2>(re2::StringPiece(p.data(), p.size()), opt);
  if (!re->ok())
    return Status::InvalidArgument(fmt::format("pattern \"{}\": {} (evt evaluates patterns with RE2: no lookaround, no backreferences)",
                                               p, re->error()));
  patterns.emplace(p.data(), std::move(re));
  return Status::OK();
}

Status Schema::Impl::Resolve(std::string_view ref, element doc, Target* t) {
  std::string_view name = ref, fragment;
  size_t hash = ref.find('#');
  if (hash != std::string_view::npos) {
    name = ref.substr(0, hash);
    fragment = ref.substr(hash + 1);
  }
  element base = doc;
  if (!name.empty()) {
    auto it = docs.find(name);
    if (it == docs.end())
      return Status::InvalidArgument(fmt::format("$ref \"{}\": no referenced schema is named \"{}\"", ref, name));
    base = it->second;
  }
  t->doc = base;
  if (fragment.empty()) {
    t->schema = base;
    return Status::OK();
  }
  if (fragment[0] != '/')
    return Status::InvalidArgument(fmt::format("$ref \"{}\": only JSON pointer fragments (#/...) are supported", ref));
  std::string pointer = PercentDecode(fragment);
  if (base.at_pointer(pointer).get(t->schema) != simdjson::SUCCESS)
    return Status::InvalidArgument(fmt::format("$ref \"{}\": the pointer leads nowhere", ref));
  return Status::OK();
}

Status Schema::Impl::CheckChild(simdjson::dom::object o, std::string_view key, element doc, int depth) {
  element c;
  if (o.at_key(key).get(c) != simdjson::SUCCESS) return Status::OK();
  return Check(c, doc, depth + 1);
}

Status Schema::Impl::Check(element s, element doc, int depth) {
  if (depth > kMaxDepth) return Status::InvalidArgument(fmt::format("schema nested deeper than {}", kMaxDepth));
  if (s.type() == element_type::BOOL) return Status::OK();
  if (s.type() != element_type::OBJECT) return Status::InvalidArgument(fmt::format("a schema is an object or a boolean, not {}", Show(s)));
  simdjson::dom::object o = s.get_object();
  auto bad = [&](std::string_view k, const char* want) {
    return Status::InvalidArgument(fmt::format("\"{}\" must be {}", k, want));
  };
  for (auto kv : o) {
    std::string_view k = kv.key;
    element v = kv.value;
    element_type t = v.type();
    if (k == "unevaluatedProperties" || k == "unevaluatedItems" || k == "$dynamicRef" || k == "$recursiveRef" ||
        k == "prefixItems")
      return Status::InvalidArgument(fmt::format("\"{}\" (JSON Schema 2019-09/2020-12) is not supported by evt", k));
    if (k == "$ref") {
      if (t != element_type::STRING) return bad(k, "a string");
      std::string_view ref = v.get_string();
      if (refs.count(ref.data())) continue;  // met again through a $ref to its own schema
      Target target;
      EVT_RETURN_IF_ERROR(Resolve(ref, doc, &target));
      refs.emplace(ref.data(), target);
      // The target may be a part of the document no other keyword leads to.
      Status st = Check(target.schema, target.doc, depth + 1);
      if (!st.ok()) return Status::InvalidArgument(fmt::format("$ref \"{}\": {}", ref, st.message()));
    } else if (k == "type") {
      auto ok_name = [](std::string_view n) {
        return n == "null" || n == "boolean" || n == "object" || n == "array" || n == "number" || n == "string" ||
               n == "integer";
      };
      if (t == element_type::STRING) {
        if (!ok_name(v.get_string().value())) return Status::InvalidArgument(fmt::format("unknown type {}", Show(v)));
      } else if (t == element_type::ARRAY) {
        for (element n : v.get_array())
          if (n.type() != element_type::STRING || !ok_name(n.get_string().value()))
            return Status::InvalidArgument(fmt::format("unknown type {}", Show(n)));
      } else {
        return bad(k, "a string or an array of strings");
      }
    } else if (k == "enum") {
      if (t != element_type::ARRAY) return bad(k, "an array");
    } else if (k == "multipleOf") {
      if (!IsNumber(t) || NumberOf(v) <= 0) return bad(k, "a number above 0");
    } else if (k == "maximum" || k == "minimum") {
      if (!IsNumber(t)) return bad(k, "a number");
    } else if (k == "exclusiveMaximum" || k == "exclusiveMinimum") {
      if (!IsNumber(t) && t != element_type::BOOL) return bad(k, "a number (or, in draft 4, a boolean)");
    } else if (k == "maxLength" || k == "minLength" || k == "maxItems" || k == "minItems" || k == "maxProperties" ||
               k == "minProperties") {
      if (!IsInteger(v) || NumberOf(v) < 0) return bad(k, "a non-negative integer");
    } else if (k == "pattern") {
      if (t != element_type::STRING) return bad(k, "a string");
      EVT_RETURN_IF_ERROR(Pattern(v.get_string().value()));
    } else if (k == "required") {
      if (t != element_type::ARRAY) return bad(k, "an array of strings");
      for (element n : v.get_array())
        if (n.type() != element_type::STRING) return bad(k, "an array of strings");
    } else if (k == "uniqueItems") {
      if (t != element_type::BOOL) return bad(k, "a boolean");
    } else if (k == "properties" || k == "definitions" || k == "$defs" || k == "dependentSchemas") {
      if (t != element_type::OBJECT) return bad(k, "an object of schemas");
      for (auto p : v.get_object()) EVT_RETURN_IF_ERROR(Check(p.value, doc, depth + 1));
    } else if (k == "patternProperties") {
      if (t != element_type::OBJECT) return bad(k, "an object of schemas");
      for (auto p : v.get_object()) {
        EVT_RETURN_IF_ERROR(Pattern(p.key));
        EVT_RETURN_IF_ERROR(Check(p.value, doc, depth + 1));
      }
    } else if (k == "dependencies") {
      if (t != element_type::OBJECT) return bad(k, "an object");
      for (auto p : v.get_object()) {
        if (p.value.type() == element_type::ARRAY) {
          for (element n : p.value.get_array())
            if (n.type() != element_type::STRING) return bad(k, "an object of schemas or arrays of strings");
        } else {
          EVT_RETURN_IF_ERROR(Check(p.value, doc, depth + 1));
        }
      }
    } else if (k == "dependentRequired") {
      if (t != element_type::OBJECT) return bad(k, "an object of arrays of strings");
      for (auto p : v.get_object()) {
        if (p.value.type() != element_type::ARRAY) return bad(k, "an object of arrays of strings");
        for (element n : p.value.get_array())
          if (n.type() != element_type::STRING) return bad(k, "an object of arrays of strings");
      }
    } else if (k == "items") {
      if (t == element_type::ARRAY) {
        for (element n : v.get_array()) EVT_RETURN_IF_ERROR(Check(n, doc, depth + 1));
      } else {
        EVT_RETURN_IF_ERROR(Check(v, doc, depth + 1));
      }
    } else if (k == "additionalItems" || k == "additionalProperties" || k == "contains" || k == "propertyNames" ||
               k == "not" || k == "if" || k == "then" || k == "else") {
      EVT_RETURN_IF_ERROR(Check(v, doc, depth + 1));
    } else if (k == "allOf" || k == "anyOf" || k == "oneOf") {
      if (t != element_type::ARRAY || v.get_array().size() == 0) return bad(k, "a non-empty array of schemas");
      for (element n : v.get_array()) EVT_RETURN_IF_ERROR(Check(n, doc, depth + 1));
    }
    // Anything else is an annotation (title, description, default, examples, format,
    // $schema, $id, $comment, readOnly, ...) or a keyword of no draft: ignored, as the
    // drafts say.
  }
  return Status::OK();
}

bool Schema::Impl::V(element s, element doc, element v, std::string* path, int depth, std::string* why) const {
  if (over_budget) return false;
  if (steps_left == 0) {
    over_budget = true;  // Validate reports it, whatever the callers make of this false
    return false;
  }
  --steps_left;
  if (depth > kMaxDepth) return Fail(path, why, fmt::format("validation nested deeper than {} (a $ref loop?)", kMaxDepth));
  if (s.type() == element_type::BOOL) return bool(s.get_bool()) ? true : Fail(path, why, "the schema false allows no value");
  simdjson::dom::object o = s.get_object();
  element k;
  // draft 7: a $ref's siblings are ignored
  if (o.at_key("$ref").get(k) == simdjson::SUCCESS) {
    auto t = refs.find(k.get_string().value().data());
    if (t == refs.end()) return Fail(path, why, "an unresolved $ref");  // not reached: Parse resolves them all
    return V(t->second.schema, t->second.doc, v, path, depth + 1, why);
  }
  const element_type vt = v.type();
  if (o.at_key("type").get(k) == simdjson::SUCCESS) {
    bool ok = false;
    if (k.type() == element_type::STRING) {
      ok = HasType(v, k.get_string().value());
    } else {
      for (element n : k.get_array()) ok = ok || HasType(v, n.get_string().value());
    }
    if (!ok) return Fail(path, why, fmt::format("{} is {}, not of type {}", Show(v), TypeName(v), Show(k)));
  }
  if (o.at_key("enum").get(k) == simdjson::SUCCESS) {
    bool found = false;
    for (element n : k.get_array()) found = found || Equal(n, v);
    if (!found) return Fail(path, why, fmt::format("{} is not one of {}", Show(v), Show(k)));
  }
  if (o.at_key("const").get(k) == simdjson::SUCCESS && !Equal(k, v))
    return Fail(path, why, fmt::format("{} is not {}", Show(v), Show(k)));

  if (IsNumber(vt)) {
    const long double x = NumberOf(v);
    if (o.at_key("multipleOf").get(k) == simdjson::SUCCESS) {
      bool ok;
      if (k.type() != element_type::DOUBLE && vt != element_type::DOUBLE) {
        long double q = x / NumberOf(k);
        ok = std::floor(q) == q;
      } else {
        long double q = x / NumberOf(k);
        ok = std::isfinite(static_cast<double>(q)) && std::fabs(q - std::round(q)) <= 1e-9L * std::max(1.0L, std::fabs(q));
      }
      if (!ok) return Fail(path, why, fmt::format("{} is not a multiple of {}", Show(v), Show(k)));
    }
    element ex;
    bool has_ex = o.at_key("exclusiveMaximum").get(ex) == simdjson::SUCCESS;
    if (o.at_key("maximum").get(k) == simdjson::SUCCESS) {
      bool excl = has_ex && ex.type() == element_type::BOOL && bool(ex.get_bool());
      if (excl ? !(x < NumberOf(k)) : !(x <= NumberOf(k)))
        return Fail(path, why, fmt::format("{} is above the maximum {}{}", Show(v), Show(k), excl ? " (exclusive)" : ""));
    }
    if (has_ex && IsNumber(ex.type()) && !(x < NumberOf(ex)))
      return Fail(path, why, fmt::format("{} is not below the exclusive maximum {}", Show(v), Show(ex)));
    has_ex = o.at_key("exclusiveMinimum").get(ex) == simdjson::SUCCESS;
    if (o.at_key("minimum").get(k) == simdjson::SUCCESS) {
      bool excl = has_ex && ex.type() == element_type::BOOL && bool(ex.get_bool());
      if (excl ? !(x > NumberOf(k)) : !(x >= NumberOf(k)))
        return Fail(path, why, fmt::format("{} is less than the minimum {}{}", Show(v), Show(k), excl ? " (exclusive)" : ""));
    }
    if (has_ex && IsNumber(ex.type()) && !(x > NumberOf(ex)))
      return Fail(path, why, fmt::format("{} is not above the exclusive minimum {}", Show(v), Show(ex)));
  }

  if (vt == element_type::STRING) {
    std::string_view str = v.get_string();
    if (o.at_key("maxLength").get(k) == simdjson::SUCCESS && CodePoints(str) > NumberOf(k))
      return Fail(path, why, fmt::format("{} is longer than {} characters", Show(v), Show(k)));
    if (o.at_key("minLength").get(k) == simdjson::SUCCESS && CodePoints(str) < NumberOf(k))
      return Fail(path, why, fmt::format("{} is shorter than {} characters", Show(v), Show(k)));
    if (o.at_key("pattern").get(k) == simdjson::SUCCESS) {
      std::string_view p = k.get_string();
      if (!RE2::PartialMatch(re2::StringPiece(str.data(), str.size()), Re(p)))
        return Fail(path, why, fmt::format("{} does not match the pattern \"{}\"", Show(v), p));
    }
  }

  if (vt == element_type::ARRAY) {
    simdjson::dom::array a = v.get_array();
    const size_t n = a.size();
    const size_t len = path->size();
    if (o.at_key("maxItems").get(k) == simdjson::SUCCESS && n > NumberOf(k))
      return Fail(path, why, fmt::format("{} items, more than the maxItems {}", n, Show(k)));
    if (o.at_key("minItems").get(k) == simdjson::SUCCESS && n < NumberOf(k))
      return Fail(path, why, fmt::format("{} items, fewer than the minItems {}", n, Show(k)));
    if (o.at_key("items").get(k) == simdjson::SUCCESS) {
      size_t i = 0;
      if (k.type() == element_type::ARRAY) {
        simdjson::dom::array tuple = k.get_array();
        element extra;
        bool has_extra = o.at_key("additionalItems").get(extra) == simdjson::SUCCESS;
        auto ts = tuple.begin();
        for (element item : a) {
          AppendToken(std::to_string(i), path);
          bool ok = true;
          if (ts != tuple.end()) {
            ok = V(*ts, doc, item, path, depth + 1, why);
            ++ts;
          } else if (has_extra) {
            ok = V(extra, doc, item, path, depth + 1, why);
          }
          path->resize(len);
          if (!ok) return false;
          ++i;
        }
      } else {
        for (element item : a) {
          AppendToken(std::to_string(i++), path);
          bool ok = V(k, doc, item, path, depth + 1, why);
          path->resize(len);
          if (!ok) return false;
        }
      }
    }
    if (o.at_key("uniqueItems").get(k) == simdjson::SUCCESS && bool(k.get_bool()) && n > 1) {
      std::vector<element> items(a.begin(), a.end());
      for (size_t i = 0; i < items.size(); ++i)
        for (size_t j = i + 1; j < items.size(); ++j)
          if (Equal(items[i], items[j]))
            return Fail(path, why, fmt::format("items {} and {} are equal ({}): uniqueItems", i, j, Show(items[i])));
    }
    if (o.at_key("contains").get(k) == simdjson::SUCCESS) {
      bool found = false;
      std::string ignored;
      size_t i = 0;
      for (element item : a) {
        AppendToken(std::to_string(i++), path);
        found = V(k, doc, item, path, depth + 1, &ignored);
        path->resize(len);
        if (found) break;
      }
      if (!found) return Fail(path, why, fmt::format("no item matches contains {}", Show(k)));
    }
  }

  if (vt == element_type::OBJECT) {
    simdjson::dom::object obj = v.get_object();
    const size_t len = path->size();
    if (o.at_key("maxProperties").get(k) == simdjson::SUCCESS && obj.size() > NumberOf(k))
      return Fail(path, why, fmt::format("{} properties, more than the maxProperties {}", obj.size(), Show(k)));
    if (o.at_key("minProperties").get(k) == simdjson::SUCCESS && obj.size() < NumberOf(k))
      return Fail(path, why, fmt::format("{} properties, fewer than the minProperties {}", obj.size(), Show(k)));
    if (o.at_key("required").get(k) == simdjson::SUCCESS) {
      for (element name : k.get_array()) {
        element ignored;
        if (obj.at_key(name.get_string().value()).get(ignored) != simdjson::SUCCESS)
          return Fail(path, why, fmt::format("the required property {} is missing", Show(name)));
      }
    }
    element props, pattern_props, additional;
    bool has_props = o.at_key("properties").get(props) == simdjson::SUCCESS;
    bool has_patterns = o.at_key("patternProperties").get(pattern_props) == simdjson::SUCCESS;
    bool has_additional = o.at_key("additionalProperties").get(additional) == simdjson::SUCCESS;
    element names;
    bool has_names = o.at_key("propertyNames").get(names) == simdjson::SUCCESS;
    if (has_props || has_patterns || has_additional || has_names) {
      for (auto kv : obj) {
        bool matched = false;
        AppendToken(kv.key, path);
        bool ok = true;
        if (has_names) {
          // The name as a JSON string: validate a copy of it as a value.
          std::string quoted;
          quoted.push_back('"');
          for (char c : kv.key) {
            if (c == '"' || c == '\\') quoted.push_back('\\');
            if (static_cast<unsigned char>(c) < 0x20) {
              quoted += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
              continue;
            }
            quoted.push_back(c);
          }
          quoted.push_back('"');
          simdjson::dom::parser np;
          element name_value;
          if (np.parse(quoted).get(name_value) == simdjson::SUCCESS) {
            std::string inner;
            if (!V(names, doc, name_value, path, depth + 1, &inner)) {
              path->resize(len);
              return Fail(path, why, fmt::format("the property name \"{}\" is not allowed by propertyNames ({})",
                                                 kv.key, inner));
            }
          }
        }
        element ps;
        if (has_props && props.get_object().value().at_key(kv.key).get(ps) == simdjson::SUCCESS) {
          matched = true;
          ok = V(ps, doc, kv.value, path, depth + 1, why);
        }
        if (ok && has_patterns) {
          for (auto pp : pattern_props.get_object()) {
            if (!RE2::PartialMatch(re2::StringPiece(kv.key.data(), kv.key.size()), Re(pp.key))) continue;
            matched = true;
            ok = V(pp.value, doc, kv.value, path, depth + 1, why);
            if (!ok) break;
          }
        }
        if (ok && !matched && has_additional) {
          if (additional.type() == element_type::BOOL && !bool(additional.get_bool())) {
            path->resize(len);
            return Fail(path, why, fmt::format("the property \"{}\" is not allowed (additionalProperties false)", kv.key));
          }
          ok = V(additional, doc, kv.value, path, depth + 1, why);
        }
        path->resize(len);
        if (!ok) return false;
      }
    }
    auto required_if = [&](const char* kw) -> bool {
      element deps;
      if (o.at_key(kw).get(deps) != simdjson::SUCCESS) return true;
      for (auto d : deps.get_object()) {
        element present;
        if (obj.at_key(d.key).get(present) != simdjson::SUCCESS) continue;
        if (d.value.type() == element_type::ARRAY) {
          for (element name : d.value.get_array()) {
            element ignored;
            if (obj.at_key(name.get_string().value()).get(ignored) != simdjson::SUCCESS)
              return Fail(path, why, fmt::format("the property {} is required when \"{}\" is present ({})", Show(name),
                                                 d.key, kw));
          }
        } else if (!V(d.value, doc, v, path, depth + 1, why)) {
          return false;
        }
      }
      return true;
    };
    if (!required_if("dependencies") || !required_if("dependentRequired") || !required_if("dependentSchemas"))
      return false;
  }

  if (o.at_key("allOf").get(k) == simdjson::SUCCESS) {
    for (element sub : k.get_array())
      if (!V(sub, doc, v, path, depth + 1, why)) return false;
  }
  if (o.at_key("anyOf").get(k) == simdjson::SUCCESS) {
    bool any = false;
    std::string first;
    for (element sub : k.get_array()) {
      std::string inner;
      if (V(sub, doc, v, path, depth + 1, &inner)) {
        any = true;
        break;
      }
      if (first.empty()) first = inner;
    }
    if (!any) return Fail(path, why, fmt::format("matches none of the anyOf schemas (the first says: {})", first));
  }
  if (o.at_key("oneOf").get(k) == simdjson::SUCCESS) {
    int matches = 0;
    std::string first;
    for (element sub : k.get_array()) {
      std::string inner;
      if (V(sub, doc, v, path, depth + 1, &inner)) ++matches;
      else if (first.empty()) first = inner;
    }
    if (matches == 0) return Fail(path, why, fmt::format("matches none of the oneOf schemas (the first says: {})", first));
    if (matches > 1) return Fail(path, why, fmt::format("matches {} of the oneOf schemas, not exactly one", matches));
  }
  if (o.at_key("not").get(k) == simdjson::SUCCESS) {
    std::string inner;
    if (V(k, doc, v, path, depth + 1, &inner)) return Fail(path, why, fmt::format("matches the schema of not {}", Show(k)));
  }
  if (o.at_key("if").get(k) == simdjson::SUCCESS) {
    std::string inner;
    element branch;
    if (V(k, doc, v, path, depth + 1, &inner)) {
      if (o.at_key("then").get(branch) == simdjson::SUCCESS && !V(branch, doc, v, path, depth + 1, why)) return false;
    } else {
      if (o.at_key("else").get(branch) == simdjson::SUCCESS && !V(branch, doc, v, path, depth + 1, why)) return false;
    }
  }
  return true;
}

Schema::~Schema() = default;

Result<std::shared_ptr<const Schema>> Schema::Parse(std::string_view text,
                                                    const std::vector<std::pair<std::string, std::string>>& references) {
  std::shared_ptr<Schema> s(new Schema);
  s->impl_ = std::make_unique<Impl>();
  Impl& im = *s->impl_;
  auto parse = [&](std::string_view t, element* out) -> Status {
    im.parsers.push_back(std::make_unique<simdjson::dom::parser>());
    auto err = im.parsers.back()->parse(t.data(), t.size(), true).get(*out);
    if (err != simdjson::SUCCESS) return Status::InvalidArgument(fmt::format("not JSON: {}", simdjson::error_message(err)));
    return Status::OK();
  };
  EVT_RETURN_IF_ERROR(parse(text, &im.root));
  for (const auto& [name, body] : references) {
    element e;
    Status st = parse(body, &e);
    if (!st.ok()) return Status::InvalidArgument(fmt::format("the referenced schema \"{}\": {}", name, st.message()));
    im.docs.emplace(name, e);
  }
  for (const auto& [name, e] : im.docs) {
    Status st = im.Check(e, e, 0);
    if (!st.ok()) return Status::InvalidArgument(fmt::format("the referenced schema \"{}\": {}", name, st.message()));
  }
  EVT_RETURN_IF_ERROR(im.Check(im.root, im.root, 0));
  return std::shared_ptr<const Schema>(std::move(s));
}

bool Schema::Validate(std::string_view json, std::string* why) const {
  Impl& im = *impl_;
  im.buf.assign(json);
  im.buf.append(simdjson::SIMDJSON_PADDING, '\0');
  element v;
  auto err = im.value_parser.parse(im.buf.data(), json.size(), false).get(v);
  if (err != simdjson::SUCCESS) {
    *why = fmt::format("not JSON: {}", simdjson::error_message(err));
    return false;
  }
  std::string path;
  im.steps_left = kMinSteps + kStepsPerByte * json.size();
  im.over_budget = false;
  bool ok = im.V(im.root, im.root, v, &path, 0, why);
  if (im.over_budget) {
    *why = fmt::format("validation needs more than {} steps (combinators over a recursive $ref?)",
                       kMinSteps + kStepsPerByte * json.size());
    return false;
  }
  return ok;
}

}  // namespace evt::jsonschema
