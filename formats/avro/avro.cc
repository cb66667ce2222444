#include "formats/avro/avro.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <algorithm>
#include <map>
#include <set>
#include <simdjson.h>

#include "formats/avro/schema_internal.h"
#include "formats/envelope/envelope.h"
#include "lib/base/coding.h"
#include "lib/base/timeutil.h"

namespace evt::avro {


namespace {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kNull: return "null";
    case Type::kBoolean: return "boolean";
    case Type::kInt: return "int";
    case Type::kLong: return "long";
    case Type::kFloat: return "float";
    case Type::kDouble: return "double";
    case Type::kBytes: return "bytes";
    case Type::kString: return "string";
    case Type::kRecord: return "record";
    case Type::kEnum: return "enum";
    case Type::kArray: return "array";
    case Type::kMap: return "map";
    case Type::kUnion: return "union";
    case Type::kFixed: return "fixed";
  }
  return "?";
}

bool PrimitiveOf(std::string_view s, Type* t) {
  static const std::pair<const char*, Type> kPrims[] = {
      {"null", Type::kNull},   {"boolean", Type::kBoolean}, {"int", Type::kInt},       {"long", Type::kLong},
      {"float", Type::kFloat}, {"double", Type::kDouble},   {"bytes", Type::kBytes}, {"string", Type::kString}};
  for (const auto& [n, ty] : kPrims)
    if (s == n) { *t = ty; return true; }
  return false;
}

}  // namespace

class Compiler {
 public:
  explicit Compiler(Schema* s) : s_(s) {}

  Result<int> Compile(simdjson::dom::element e, const std::string& ns, int depth) {
    if (depth > kMaxDepth) return Status::InvalidArgument("schema nested too deeply");
    switch (e.type()) {
      case simdjson::dom::element_type::STRING: return Named(std::string(e.get_string().value()), ns);
      case simdjson::dom::element_type::ARRAY: {
        Node n;
        n.type = Type::kUnion;
        int idx = Add(std::move(n));
        simdjson::dom::array branches = e.get_array().value();
        for (simdjson::dom::element b : branches) {
          auto c = Compile(b, ns, depth + 1);
          if (!c.ok()) return c.status();
          if (s_->nodes_[*c].type == Type::kUnion) return Status::InvalidArgument("a union may not hold a union");
          s_->nodes_[idx].branches.push_back(*c);
        }
        if (s_->nodes_[idx].branches.empty()) return Status::InvalidArgument("an empty union");
        return idx;
      }
      case simdjson::dom::element_type::OBJECT: return Object(e.get_object().value(), ns, depth);
      default: return Status::InvalidArgument("a schema is a type name, an object or a union (array)");
    }
  }

 private:
  int Add(Node n) {
    s_->nodes_.push_back(std::move(n));
    return static_cast<int>(s_->nodes_.size() - 1);
  }

  static std::string FullName(const std::string& name, const std::string& ns) {
    if (name.find('.') != std::string::npos || ns.empty()) return name;
    return ns + "." + name;
  }

  Result<int> Named(const std::string& name, const std::string& ns) {
    Type t;
    if (PrimitiveOf(name, &t)) {
      Node n;
      n.type = t;
      n.spec_name = "\"" + name + "\"";
      return Add(std::move(n));
    }
    auto it = names_.find(FullName(name, ns));
    if (it == names_.end()) it = names_.find(name);
    if (it == names_.end()) return Status::InvalidArgument(fmt::format("unknown type name \"{}\"", name));
    return it->second;
  }

  Status Register(Node* n, simdjson::dom::object o, const std::string& ns, std::string* own_ns) {
    std::string_view name;
    if (o["name"].get_string().get(name) != simdjson::SUCCESS || name.empty())
      return Status::InvalidArgument(fmt::format("a {} needs a \"name\"", TypeName(n->type)));
    std::string_view nsv;
    std::string space = o["namespace"].get_string().get(nsv) == simdjson::SUCCESS ? std::string(nsv) : ns;
    n->name = FullName(std::string(name), space);
    size_t dot = n->name.rfind('.');
    *own_ns = dot == std::string::npos ? "" : n->name.substr(0, dot);
    std::string esc;
    envelope::AppendJsonString(n->name, &esc);
    n->spec_name = esc;
    if (names_.count(n->name)) return Status::InvalidArgument(fmt::format("type \"{}\" defined twice", n->name));
    return Status::OK();
  }

  Result<int> Object(simdjson::dom::object o, const std::string& ns, int depth) {
    simdjson::dom::element te;
    if (o["type"].get(te) != simdjson::SUCCESS) return Status::InvalidArgument("a schema object needs a \"type\"");
    std::string_view logical;
    bool has_logical = o["logicalType"].get_string().get(logical) == simdjson::SUCCESS;
    if (!te.is_string()) {
      // {"type": {...}} or {"type": [...]}: the inner schema (with a logical type ignored).
      return Compile(te, ns, depth + 1);
    }
    std::string_view tname = te.get_string().value();
    Type prim;
    if (PrimitiveOf(tname, &prim)) {
      Node n;
      n.type = prim;
      n.spec_name = fmt::format("\"{}\"", tname);
      if (has_logical) SetLogical(&n, logical, o);
      return Add(std::move(n));
    }
    if (tname == "record" || tname == "error") {
      Node n;
      n.type = Type::kRecord;
      std::string own;
      EVT_RETURN_IF_ERROR(Register(&n, o, ns, &own));
      std::string full = n.name;
      int idx = Add(std::move(n));
      names_[full] = idx;
      simdjson::dom::array fields;
      if (o["fields"].get_array().get(fields) != simdjson::SUCCESS)
        return Status::InvalidArgument(fmt::format("record \"{}\" needs \"fields\"", full));
      for (simdjson::dom::element f : fields) {
        std::string_view fname;
        simdjson::dom::element ft;
        if (f["name"].get_string().get(fname) != simdjson::SUCCESS || f["type"].get(ft) != simdjson::SUCCESS)
          return Status::InvalidArgument(fmt::format("a field of \"{}\" needs a \"name\" and a \"type\"", full));
        auto c = Compile(ft, own, depth + 1);
        if (!c.ok()) return Status::InvalidArgument(fmt::format("{}.{}: {}", full, fname, c.status().message()));
        Field fld;
        fld.name = std::string(fname);
        simdjson::dom::element def;
        fld.has_default = f["default"].get(def) == simdjson::SUCCESS;
        if (fld.has_default) fld.default_json = simdjson::minify(def);
        envelope::AppendJsonString(fname, &fld.key);
        fld.key += ':';
        fld.node = *c;
        s_->nodes_[idx].fields.push_back(std::move(fld));
      }
      return idx;
    }
    if (tname == "enum") {
      Node n;
      n.type = Type::kEnum;
      std::string own;
      EVT_RETURN_IF_ERROR(Register(&n, o, ns, &own));
      simdjson::dom::array syms;
      if (o["symbols"].get_array().get(syms) != simdjson::SUCCESS)
        return Status::InvalidArgument(fmt::format("enum \"{}\" needs \"symbols\"", n.name));
      for (simdjson::dom::element sym : syms) {
        std::string_view sv;
        if (sym.get_string().get(sv) != simdjson::SUCCESS) return Status::InvalidArgument("enum symbols are strings");
        std::string q;
        envelope::AppendJsonString(sv, &q);
        n.symbols.push_back(std::move(q));
        n.raw_symbols.emplace_back(sv);
      }
      simdjson::dom::element def;
      n.has_enum_default = o["default"].get(def) == simdjson::SUCCESS;
      std::string full = n.name;
      int idx = Add(std::move(n));
      names_[full] = idx;
      return idx;
    }
    if (tname == "fixed") {
      Node n;
      n.type = Type::kFixed;
      std::string own;
      EVT_RETURN_IF_ERROR(Register(&n, o, ns, &own));
      int64_t size;
      if (o["size"].get_int64().get(size) != simdjson::SUCCESS || size < 0 || size > (1 << 20))
        return Status::InvalidArgument(fmt::format("fixed \"{}\" needs a \"size\" (0 to 1 MiB)", n.name));
      n.size = size;
      if (has_logical) SetLogical(&n, logical, o);
      std::string full = n.name;
      int idx = Add(std::move(n));
      names_[full] = idx;
      return idx;
    }
    if (tname == "array" || tname == "map") {
      Node n;
      n.type = tname == "array" ? Type::kArray : Type::kMap;
      n.spec_name = fmt::format("\"{}\"", tname);
      simdjson::dom::element it;
      if (o[tname == "array" ? "items" : "values"].get(it) != simdjson::SUCCESS)
        return Status::InvalidArgument(fmt::format("an {} needs \"{}\"", tname, tname == "array" ? "items" : "values"));
      int idx = Add(std::move(n));
      auto c = Compile(it, ns, depth + 1);
      if (!c.ok()) return c.status();
      s_->nodes_[idx].items = *c;
      return idx;
    }
    return Named(std::string(tname), ns);
  }

  // Logical types that do not fit their underlying type are ignored, as the spec says.
  static void SetLogical(Node* n, std::string_view l, simdjson::dom::object o) {
    auto is = [&](Type t) { return n->type == t; };
    if (l == "decimal" && (is(Type::kBytes) || is(Type::kFixed))) {
      int64_t p = 0, sc = 0;
      if (o["precision"].get_int64().get(p) != simdjson::SUCCESS || p <= 0) return;
      if (o["scale"].get_int64().get(sc) != simdjson::SUCCESS) sc = 0;
      if (sc < 0 || sc > p) return;
      n->logical = Logical::kDecimal;
      n->precision = static_cast<int32_t>(p);
      n->scale = static_cast<int32_t>(sc);
    } else if (l == "uuid" && is(Type::kString)) {
      n->logical = Logical::kUuid;
    } else if (l == "date" && is(Type::kInt)) {
      n->logical = Logical::kDate;
    } else if (l == "time-millis" && is(Type::kInt)) {
      n->logical = Logical::kTimeMillis;
    } else if (l == "time-micros" && is(Type::kLong)) {
      n->logical = Logical::kTimeMicros;
    } else if (l == "timestamp-millis" && is(Type::kLong)) {
      n->logical = Logical::kTimestampMillis;
    } else if (l == "timestamp-micros" && is(Type::kLong)) {
      n->logical = Logical::kTimestampMicros;
    } else if (l == "local-timestamp-millis" && is(Type::kLong)) {
      n->logical = Logical::kLocalTimestampMillis;
    } else if (l == "local-timestamp-micros" && is(Type::kLong)) {
      n->logical = Logical::kLocalTimestampMicros;
    } else if (l == "duration" && is(Type::kFixed) && n->size == 12) {
      n->logical = Logical::kDuration;
    }
  }

  Schema* s_;
  std::map<std::string, int> names_;
};

Result<std::shared_ptr<const Schema>> Schema::Parse(std::string_view json, const std::vector<std::string>& references) {
  std::shared_ptr<Schema> s(new Schema());
  s->json_ = std::string(json);
  Compiler c(s.get());
  simdjson::dom::parser parser;
  for (const std::string& ref : references) {
    simdjson::dom::element e;
    if (parser.parse(ref).get(e) != simdjson::SUCCESS)
      return Status::InvalidArgument("a referenced schema is not JSON");
    auto r = c.Compile(e, "", 0);
    if (!r.ok()) return Status::InvalidArgument("a referenced schema: " + r.status().message());
  }
  simdjson::dom::element e;
  if (parser.parse(json).get(e) != simdjson::SUCCESS) return Status::InvalidArgument("the schema is not JSON");
  auto r = c.Compile(e, "", 0);
  if (!r.ok()) return r.status();
  s->root_ = *r;
  ComputeDefaults(s.get());
  return std::shared_ptr<const Schema>(std::move(s));
}

Schema::~Schema() = default;

std::string_view Schema::type_name() const { return TypeName(nodes_[root_].type); }
std::string_view Schema::full_name() const { return nodes_[root_].name; }

// ---- Decoding ----

namespace {

// |x| as decimal digits, from a big-endian two's complement integer.
void AppendDecimal(std::string_view be, int32_t scale, std::string* out) {
  std::vector<uint8_t> mag(be.begin(), be.end());
  bool neg = !mag.empty() && (mag[0] & 0x80);
  if (neg) {  // two's complement negation
    for (uint8_t& b : mag) b = static_cast<uint8_t>(~b);
    for (size_t i = mag.size(); i-- > 0;)
      if (++mag[i] != 0) break;
  }
  std::string digits;
  size_t start = 0;
  while (start < mag.size()) {
    unsigned rem = 0;
    for (size_t i = start; i < mag.size(); ++i) {
      unsigned cur = (rem << 8) | mag[i];
      mag[i] = static_cast<uint8_t>(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + rem));
    while (start < mag.size() && mag[start] == 0) ++start;
  }
  while (digits.size() <= static_cast<size_t>(scale)) digits.push_back('0');
  out->push_back('"');
  if (neg) out->push_back('-');
  for (size_t i = digits.size(); i-- > 0;) {
    out->push_back(digits[i]);
    if (i == static_cast<size_t>(scale) && scale > 0) out->push_back('.');
  }
  out->push_back('"');
}

// RFC 3339 from a count of `per_s` units since the epoch; `zone`: append 'Z'.
void AppendTimestamp(int64_t v, int64_t per_s, int digits, bool zone, std::string* out) {
  int64_t secs = v / per_s, frac = v % per_s;
  if (frac < 0) { frac += per_s; --secs; }
  int64_t days = secs / 86400, sod = secs % 86400;
  if (sod < 0) { sod += 86400; --days; }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y >= 0 && y <= 9999 && digits > 0 && digits <= 9) {
    // The common case by hand: fmt's format-spec parsing was a tenth of a decode.
    char b[40];
    char* p = b;
    auto two = [&p](int64_t v) {
      *p++ = static_cast<char>('0' + v / 10);
      *p++ = static_cast<char>('0' + v % 10);
    };
    *p++ = '"';
    two(y / 100);
    two(y % 100);
    *p++ = '-';
    two(m);
    *p++ = '-';
    two(d);
    *p++ = 'T';
    two(sod / 3600);
    *p++ = ':';
    two(sod / 60 % 60);
    *p++ = ':';
    two(sod % 60);
    *p++ = '.';
    for (int i = digits - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    p += digits;
    if (zone) *p++ = 'Z';
    *p++ = '"';
    out->append(b, static_cast<size_t>(p - b));
  } else if (y >= 0 && y <= 9999) {
    fmt::format_to(std::back_inserter(*out), "\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:0{}}{}\"", y, m, d, sod / 3600,
                   sod / 60 % 60, sod % 60, frac, digits, zone ? "Z" : "");
  } else
    fmt::format_to(std::back_inserter(*out), "\"{:+}-{:02}-{:02}T{:02}:{:02}:{:02}.{:0{}}{}\"", y, m, d, sod / 3600,
                   sod / 60 % 60, sod % 60, frac, digits, zone ? "Z" : "");
}

void AppendInt(int64_t v, std::string* out) {
  char b[24];
  auto r = std::to_chars(b, b + sizeof(b), v);
  out->append(b, static_cast<size_t>(r.ptr - b));
}

void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) { out->append("\"NaN\""); return; }
  if (std::isinf(v)) { out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\""); return; }
  fmt::format_to(std::back_inserter(*out), "{}", v);
}

// The spec's JSON encoding of bytes: each byte as the code point of the same value.
void AppendLatin1(std::string_view b, std::string* out) {
  out->push_back('"');
  for (unsigned char c : b) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      fmt::format_to(std::back_inserter(*out), "\\u{:04x}", c);
    } else if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back(static_cast<char>(0xc0 | (c >> 6)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  out->push_back('"');
}

}  // namespace

class Decoder {
 public:
  Decoder(const Schema& s, std::string_view bytes, JsonStyle style, std::string* out)
      : s_(s), r_(bytes), style_(style), out_(out), budget_(bytes.size() * 4 + 4096) {}

  bool Run(std::string* error) {
    bool ok = Value(s_.root_, 0);
    if (ok && r_.remaining() != 0) {
      error_ = fmt::format("{} bytes left over after the datum", r_.remaining());
      ok = false;
    }
    if (!ok) *error = error_.empty() ? "truncated" : error_;
    return ok;
  }

 private:
  bool Fail(std::string what) {
    if (error_.empty()) error_ = fmt::format("{} at byte {}", what, r_.pos());
    return false;
  }
  bool Long(int64_t* v) { return r_.GetVarlong(v) || Fail("truncated or overlong varint"); }
  bool Int(int32_t* v) {
    int64_t l;
    if (!Long(&l)) return false;
    if (l < INT32_MIN || l > INT32_MAX) return Fail("int out of range");
    *v = static_cast<int32_t>(l);
    return true;
  }
  bool Length(std::string_view* b) {
    int64_t n;
    if (!Long(&n)) return false;
    if (n < 0 || static_cast<uint64_t>(n) > r_.remaining()) return Fail(fmt::format("length {} past the end", n));
    r_.GetBytes(static_cast<size_t>(n), b);
    return true;
  }
  // Charges one step of work: zero-size items (null, empty records) cannot make a short
  // input loop for long.
  bool Step() { return budget_-- > 0 || Fail("too many items for the input size"); }

  bool Value(int idx, int depth) {
    if (depth > kMaxDepth) return Fail("nested too deeply");
    if (!Step()) return false;
    const Node& n = s_.nodes_[idx];
    std::string& o = *out_;
    const bool natural = style_ == JsonStyle::kNatural;
    switch (n.type) {
      case Type::kNull: o.append("null"); return true;
      case Type::kBoolean: {
        uint8_t b;
        if (!r_.GetU8(&b)) return Fail("truncated");
        if (b > 1) return Fail("boolean byte not 0 or 1");
        o.append(b ? "true" : "false");
        return true;
      }
      case Type::kInt: {
        int32_t v;
        if (!Int(&v)) return false;
        if (natural && n.logical == Logical::kDate) {
          int64_t y;
          unsigned m, d;
          CivilFromDays(v, &y, &m, &d);
          if (y >= 0 && y <= 9999) fmt::format_to(std::back_inserter(o), "\"{:04}-{:02}-{:02}\"", y, m, d);
          else fmt::format_to(std::back_inserter(o), "\"{:+}-{:02}-{:02}\"", y, m, d);
        } else if (natural && n.logical == Logical::kTimeMillis && v >= 0 && v < 86400000) {
          fmt::format_to(std::back_inserter(o), "\"{:02}:{:02}:{:02}.{:03}\"", v / 3600000, v / 60000 % 60,
                         v / 1000 % 60, v % 1000);
        } else {
          AppendInt(v, &o);
        }
        return true;
      }
      case Type::kLong: {
        int64_t v;
        if (!Long(&v)) return false;
        if (!natural || n.logical == Logical::kNone) {
          AppendInt(v, &o);
        } else if (n.logical == Logical::kTimeMicros && v >= 0 && v < 86400000000LL) {
          fmt::format_to(std::back_inserter(o), "\"{:02}:{:02}:{:02}.{:06}\"", v / 3600000000LL,
                         v / 60000000LL % 60, v / 1000000 % 60, v % 1000000);
        } else if (n.logical == Logical::kTimestampMillis || n.logical == Logical::kLocalTimestampMillis) {
          AppendTimestamp(v, 1000, 3, n.logical == Logical::kTimestampMillis, &o);
        } else if (n.logical == Logical::kTimestampMicros || n.logical == Logical::kLocalTimestampMicros) {
          AppendTimestamp(v, 1000000, 6, n.logical == Logical::kTimestampMicros, &o);
        } else {
          AppendInt(v, &o);
        }
        return true;
      }
      case Type::kFloat: {
        std::string_view b;
        if (!r_.GetBytes(4, &b)) return Fail("truncated");
        uint32_t u = static_cast<uint8_t>(b[0]) | static_cast<uint8_t>(b[1]) << 8 | static_cast<uint8_t>(b[2]) << 16 |
                     static_cast<uint32_t>(static_cast<uint8_t>(b[3])) << 24;
        float f;
        memcpy(&f, &u, 4);
        if (std::isnan(f) || std::isinf(f)) AppendDouble(f, &o);
        else fmt::format_to(std::back_inserter(o), "{}", f);
        return true;
      }
      case Type::kDouble: {
        std::string_view b;
        if (!r_.GetBytes(8, &b)) return Fail("truncated");
        uint64_t u = 0;
        for (int i = 7; i >= 0; --i) u = u << 8 | static_cast<uint8_t>(b[i]);
        double d;
        memcpy(&d, &u, 8);
        AppendDouble(d, &o);
        return true;
      }
      case Type::kBytes:
      case Type::kFixed: {
        std::string_view b;
        if (n.type == Type::kBytes) {
          if (!Length(&b)) return false;
        } else if (!r_.GetBytes(static_cast<size_t>(n.size), &b)) {
          return Fail("truncated fixed");
        }
        if (!natural) {
          AppendLatin1(b, &o);
        } else if (n.logical == Logical::kDecimal) {
          AppendDecimal(b, n.scale, &o);
        } else if (n.logical == Logical::kDuration) {
          auto le32 = [&](size_t i) {
            return static_cast<uint32_t>(static_cast<uint8_t>(b[i]) | static_cast<uint8_t>(b[i + 1]) << 8 |
                                         static_cast<uint8_t>(b[i + 2]) << 16 |
                                         static_cast<uint32_t>(static_cast<uint8_t>(b[i + 3])) << 24);
          };
          fmt::format_to(std::back_inserter(o), "{{\"months\":{},\"days\":{},\"milliseconds\":{}}}", le32(0), le32(4),
                         le32(8));
        } else {
          o.push_back('"');
          envelope::AppendBase64(b, &o);
          o.push_back('"');
        }
        return true;
      }
      case Type::kString: {
        std::string_view b;
        if (!Length(&b)) return false;
        if (!envelope::IsValidUtf8(b)) return Fail("string is not UTF-8");
        envelope::AppendJsonString(b, &o);
        return true;
      }
      case Type::kRecord: {
        o.push_back('{');
        bool first = true;
        for (const Field& f : n.fields) {
          if (!first) o.push_back(',');
          first = false;
          o.append(f.key);
          if (!Value(f.node, depth + 1)) return false;
        }
        o.push_back('}');
        return true;
      }
      case Type::kEnum: {
        int32_t i;
        if (!Int(&i)) return false;
        if (i < 0 || static_cast<size_t>(i) >= n.symbols.size()) return Fail(fmt::format("enum index {} out of range", i));
        o.append(n.symbols[i]);
        return true;
      }
      case Type::kUnion: {
        int64_t i;
        if (!Long(&i)) return false;
        if (i < 0 || static_cast<uint64_t>(i) >= n.branches.size())
          return Fail(fmt::format("union branch {} out of range", i));
        int b = n.branches[static_cast<size_t>(i)];
        if (natural || s_.nodes_[b].type == Type::kNull) return Value(b, depth + 1);
        o.push_back('{');
        o.append(s_.nodes_[b].spec_name);
        o.push_back(':');
        if (!Value(b, depth + 1)) return false;
        o.push_back('}');
        return true;
      }
      case Type::kArray:
      case Type::kMap: {
        const bool map = n.type == Type::kMap;
        o.push_back(map ? '{' : '[');
        bool first = true;
        for (;;) {
          int64_t count;
          if (!Long(&count)) return false;
          if (count == 0) break;
          if (count < 0) {
            int64_t size;
            if (!Long(&size)) return false;  // the block's byte size, which we do not need
            if (count == INT64_MIN) return Fail("bad block count");
            count = -count;
          }
          for (int64_t k = 0; k < count; ++k) {
            if (!Step()) return false;
            if (!first) o.push_back(',');
            first = false;
            if (map) {
              std::string_view key;
              if (!Length(&key)) return false;
              if (!envelope::IsValidUtf8(key)) return Fail("map key is not UTF-8");
              envelope::AppendJsonString(key, &o);
              o.push_back(':');
            }
            if (!Value(n.items, depth + 1)) return false;
          }
        }
        o.push_back(map ? '}' : ']');
        return true;
      }
    }
    return Fail("unknown type");
  }

  const Schema& s_;
  ByteReader r_;
  JsonStyle style_;
  std::string* out_;
  int64_t budget_;
  std::string error_;
};

bool Schema::ToJson(std::string_view bytes, JsonStyle style, std::string* out, std::string* error) const {
  Decoder d(*this, bytes, style, out);
  return d.Run(error);
}

// ---- Resolution (the specification's rules) ----

namespace {
bool Promotes(Type w, Type r) {
  if (w == r) return true;
  switch (w) {
    case Type::kInt: return r == Type::kLong || r == Type::kFloat || r == Type::kDouble;
    case Type::kLong: return r == Type::kFloat || r == Type::kDouble;
    case Type::kFloat: return r == Type::kDouble;
    case Type::kString: return r == Type::kBytes;
    case Type::kBytes: return r == Type::kString;
    default: return false;
  }
}
std::string_view ShortName(std::string_view full) {
  size_t dot = full.rfind('.');
  return dot == std::string_view::npos ? full : full.substr(dot + 1);
}
bool SameName(const Node& a, const Node& b) { return a.name == b.name || ShortName(a.name) == ShortName(b.name); }
std::string Describe(const Node& n) { return n.name.empty() ? TypeName(n.type) : fmt::format("{} {}", TypeName(n.type), n.name); }
}  // namespace

class Resolution {
 public:
  Resolution(const Schema& w, const Schema& r) : w_(w), r_(r) {}

  // Whether every datum of writer node `w` can be read as reader node `r`; *why when not.
  bool Schemas(int w, int r, std::string* why, int depth = 0) {
    if (depth > kMaxDepth) return true;
    if (!seen_.insert({w, r}).second) return true;  // recursive types: assumed until shown otherwise
    const Node& W = w_.nodes_[w];
    const Node& R = r_.nodes_[r];
    if (W.type == Type::kUnion) {
      for (int b : W.branches)
        if (!Schemas(b, r, why, depth + 1)) return false;
      return true;
    }
    if (R.type == Type::kUnion) {
      int b = Branch(W, R);
      if (b < 0) return Fail(why, fmt::format("the reader's union has no branch for the writer's {}", Describe(W)));
      return Schemas(w, b, why, depth + 1);
    }
    if (!Matches(W, R)) return Fail(why, fmt::format("the writer's {} cannot be read as {}", Describe(W), Describe(R)));
    switch (W.type) {
      case Type::kRecord:
        for (const Field& rf : R.fields) {
          const Field* wf = FieldNamed(W, rf.name);
          if (!wf) {
            if (!rf.has_default)
              return Fail(why, fmt::format("{}: the reader's field \"{}\" has no default and the writer has no such field",
                                           R.name, rf.name));
            continue;
          }
          if (!Schemas(wf->node, rf.node, why, depth + 1)) return Prefix(why, R.name + "." + rf.name);
        }
        return true;
      case Type::kEnum:
        if (R.has_enum_default) return true;
        for (const std::string& sym : W.raw_symbols)
          if (std::find(R.raw_symbols.begin(), R.raw_symbols.end(), sym) == R.raw_symbols.end())
            return Fail(why, fmt::format("{}: the reader's enum lacks the symbol \"{}\" (and has no default)", R.name, sym));
        return true;
      case Type::kArray:
      case Type::kMap: return Schemas(W.items, R.items, why, depth + 1);
      default: return true;
    }
  }

  // Reads one datum of writer node `w` from `in`, checking that this datum can be read as
  // reader node `r` (a union branch or an enum symbol the reader lacks matters only when
  // written).
  bool Datum(int w, int r, ByteReader* in, std::string* why, int depth = 0) {
    if (depth > kMaxDepth) return Fail(why, "nested too deeply");
    if (budget_-- <= 0) return Fail(why, "too many items for the input size");
    const Node& W = w_.nodes_[w];
    const Node& R = r_.nodes_[r];
    if (W.type == Type::kUnion) {
      int64_t i;
      if (!in->GetVarlong(&i) || i < 0 || static_cast<uint64_t>(i) >= W.branches.size())
        return Fail(why, "bad union branch");
      return Datum(W.branches[static_cast<size_t>(i)], r, in, why, depth + 1);
    }
    if (R.type == Type::kUnion) {
      int b = Branch(W, R);
      if (b < 0) return Fail(why, fmt::format("the reader's union has no branch for the writer's {}", Describe(W)));
      return Datum(w, b, in, why, depth + 1);
    }
    if (!Matches(W, R)) return Fail(why, fmt::format("the writer's {} cannot be read as {}", Describe(W), Describe(R)));
    switch (W.type) {
      case Type::kRecord: {
        for (const Field& rf : R.fields)
          if (!FieldNamed(W, rf.name) && !rf.has_default)
            return Fail(why, fmt::format("{}: the reader's field \"{}\" has no default and the writer has no such field",
                                         R.name, rf.name));
        for (const Field& wf : W.fields) {
          const Field* rf = FieldNamed(R, wf.name);
          if (!rf) {  // a field the reader does not have is skipped
            if (!Skip(wf.node, in, why, depth + 1)) return false;
          } else if (!Datum(wf.node, rf->node, in, why, depth + 1)) {
            return Prefix(why, R.name + "." + wf.name);
          }
        }
        return true;
      }
      case Type::kEnum: {
        int64_t i;
        if (!in->GetVarlong(&i) || i < 0 || static_cast<uint64_t>(i) >= W.raw_symbols.size()) return Fail(why, "bad enum index");
        const std::string& sym = W.raw_symbols[static_cast<size_t>(i)];
        if (!R.has_enum_default && std::find(R.raw_symbols.begin(), R.raw_symbols.end(), sym) == R.raw_symbols.end())
          return Fail(why, fmt::format("{}: the symbol \"{}\" is not in the reader's enum (which has no default)", R.name, sym));
        return true;
      }
      case Type::kArray:
      case Type::kMap:
        return Items(W, in, why, [&] { return Datum(W.items, R.items, in, why, depth + 1); });
      default: return SkipPrimitive(W, in, why);
    }
  }

  void SetBudget(size_t n) { budget_ = static_cast<int64_t>(n) * 4 + 4096; }

 private:
  // The blocks of an array's items or a map's entries (whose keys are skipped): item() reads
  // each value.
  template <class Fn>
  static bool Items(const Node& W, ByteReader* in, std::string* why, Fn&& item) {
    for (;;) {
      int64_t count;
      if (!in->GetVarlong(&count)) return Fail(why, "truncated");
      if (count == 0) return true;
      if (count < 0) {
        int64_t size;
        if (!in->GetVarlong(&size) || count == INT64_MIN) return Fail(why, "truncated");
        count = -count;
      }
      for (int64_t k = 0; k < count; ++k) {
        if (W.type == Type::kMap && !SkipLength(in, why)) return false;
        if (!item()) return false;
      }
    }
  }

  // Skips one datum of writer node `w` (a field the reader does not have).
  bool Skip(int w, ByteReader* in, std::string* why, int depth) {
    if (depth > kMaxDepth) return Fail(why, "nested too deeply");
    if (budget_-- <= 0) return Fail(why, "too many items for the input size");
    const Node& W = w_.nodes_[w];
    int64_t i;
    switch (W.type) {
      case Type::kUnion:
        if (!in->GetVarlong(&i) || i < 0 || static_cast<uint64_t>(i) >= W.branches.size())
          return Fail(why, "bad union branch");
        return Skip(W.branches[static_cast<size_t>(i)], in, why, depth + 1);
      case Type::kRecord:
        for (const Field& f : W.fields)
          if (!Skip(f.node, in, why, depth + 1)) return false;
        return true;
      case Type::kEnum: return in->GetVarlong(&i) || Fail(why, "truncated");
      case Type::kArray:
      case Type::kMap: return Items(W, in, why, [&] { return Skip(W.items, in, why, depth + 1); });
      default: return SkipPrimitive(W, in, why);
    }
  }

  static bool Fail(std::string* why, std::string what) {
    if (why->empty()) *why = std::move(what);
    return false;
  }
  static bool Prefix(std::string* why, const std::string& where) {
    if (why->rfind(where, 0) != 0) *why = where + ": " + *why;
    return false;
  }
  static const Field* FieldNamed(const Node& n, const std::string& name) {
    for (const Field& f : n.fields)
      if (f.name == name) return &f;
    return nullptr;
  }
  static bool Matches(const Node& W, const Node& R) {
    if (W.type == Type::kRecord || W.type == Type::kEnum || W.type == Type::kFixed)
      return W.type == R.type && SameName(W, R) && (W.type != Type::kFixed || W.size == R.size);
    if (W.type == Type::kArray || W.type == Type::kMap) return W.type == R.type;
    return Promotes(W.type, R.type);
  }
  // The first reader branch of the same type (and name), else the first one W promotes to.
  int Branch(const Node& W, const Node& R) const {
    for (int b : R.branches) {
      const Node& B = r_.nodes_[b];
      if (B.type == W.type && Matches(W, B)) return b;
    }
    for (int b : R.branches)
      if (Matches(W, r_.nodes_[b])) return b;
    return -1;
  }
  static bool SkipLength(ByteReader* in, std::string* why) {
    int64_t n;
    if (!in->GetVarlong(&n) || n < 0 || static_cast<uint64_t>(n) > in->remaining() || !in->Skip(static_cast<size_t>(n)))
      return Fail(why, "truncated");
    return true;
  }
  static bool SkipPrimitive(const Node& W, ByteReader* in, std::string* why) {
    int64_t v;
    switch (W.type) {
      case Type::kNull: return true;
      case Type::kBoolean: return in->Skip(1) || Fail(why, "truncated");
      case Type::kInt:
      case Type::kLong: return in->GetVarlong(&v) || Fail(why, "truncated");
      case Type::kFloat: return in->Skip(4) || Fail(why, "truncated");
      case Type::kDouble: return in->Skip(8) || Fail(why, "truncated");
      case Type::kBytes:
      case Type::kString: return SkipLength(in, why);
      case Type::kFixed: return in->Skip(static_cast<size_t>(W.size)) || Fail(why, "truncated");
      default: return Fail(why, "unexpected type");
    }
  }

  const Schema& w_;
  const Schema& r_;
  std::set<std::pair<int, int>> seen_;
  int64_t budget_ = 4096;
};

Status CheckResolution(const Schema& writer, const Schema& reader) {
  Resolution res(writer, reader);
  std::string why;
  if (!res.Schemas(writer.root_, reader.root_, &why)) return Status::InvalidArgument(why);
  return Status::OK();
}

Status CheckDatum(const Schema& writer, const Schema& reader, std::string_view bytes) {
  Resolution res(writer, reader);
  res.SetBudget(bytes.size());
  ByteReader in(bytes);
  std::string why;
  if (!res.Datum(writer.root_, reader.root_, &in, &why)) return Status::DataProblem(why);
  if (in.remaining()) return Status::DataProblem(fmt::format("{} bytes left over after the datum", in.remaining()));
  return Status::OK();
}

}  // namespace evt::avro
