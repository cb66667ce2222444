#include "formats/kafka_internal/schema.h"

#include <fmt/format.h>

#include "formats/envelope/envelope.h"
#include "lib/base/coding.h"

namespace evt::kafka_internal {

namespace {

// Hostile input cannot make the tree larger than this many nodes (about 64 MiB): a 1 MiB
// value of empty compact strings would otherwise become a million nodes.
constexpr size_t kMaxNodes = size_t{1} << 20;

class Reader {
 public:
  Reader(std::string_view data, int16_t version, bool flexible, size_t base, size_t* nodes)
      : p_(reinterpret_cast<const uint8_t*>(data.data())), n_(data.size()), version_(version),
        flexible_(flexible), base_(base), nodes_(nodes) {}

  bool ReadStruct(const Struct& st, Node* out) {
    out->kind = Node::Kind::kStruct;
    for (const Field& f : st.fields) {
      if (!f.versions.Has(version_) || f.tagged.Has(version_)) continue;
      Node child;
      if (!ReadField(f, &child)) return false;
      out->children.push_back(std::move(child));
    }
    if (flexible_) return ReadTaggedFields(st, out);
    return true;
  }

  bool ReadField(const Field& f, Node* n) {
    field_ = f.kafka_name;
    field_start_ = pos_;
    if (!Count(1)) return false;
    n->field = &f;
    switch (f.type) {
      case Type::kInt8: {
        uint8_t v;
        if (!U8(&v)) return false;
        n->kind = Node::Kind::kInt;
        n->i = static_cast<int8_t>(v);
        return true;
      }
      case Type::kInt16:
      case Type::kInt32:
      case Type::kInt64: {
        size_t w = f.type == Type::kInt16 ? 2 : f.type == Type::kInt32 ? 4 : 8;
        if (!Need(w)) return false;
        const uint8_t* q = p_ + pos_;
        n->i = w == 2 ? static_cast<int16_t>(DecodeFixed16BE(q))
               : w == 4 ? static_cast<int32_t>(DecodeFixed32BE(q))
                        : static_cast<int64_t>(DecodeFixed64BE(q));
        pos_ += w;
        n->kind = Node::Kind::kInt;
        return true;
      }
      case Type::kString: return ReadString(f, n);
      case Type::kBytes: {
        int64_t len;
        if (!Length(false, &len)) return false;
        if (len < 0) return Null(f, n);
        n->kind = Node::Kind::kBytes;
        n->s = Take(static_cast<size_t>(len));
        return true;
      }
      case Type::kInt32Array:
      case Type::kStringArray:
      case Type::kStructArray: {
        int64_t count;
        if (!ArrayCount(&count)) return false;
        if (count < 0) return Null(f, n);
        n->kind = Node::Kind::kArray;
        n->i = count;
        if (f.type == Type::kInt32Array) {
          if (static_cast<uint64_t>(count) > remaining() / 4)
            return Fail(fmt::format("{} elements of 4 bytes do not fit the {} bytes left", count, remaining()));
          n->s = Take(static_cast<size_t>(count) * 4);  // read when shown
          return true;
        }
        // Every element takes at least one byte.
        if (static_cast<uint64_t>(count) > remaining())
          return Fail(fmt::format("{} elements do not fit the {} bytes left", count, remaining()));
        n->children.reserve(static_cast<size_t>(count));
        for (int64_t i = 0; i < count; ++i) {
          Node e;
          size_t before = pos_;
          if (!Count(1)) return false;
          if (f.type == Type::kStringArray) {
            if (!ReadString(f, &e, /*element=*/true)) return false;
          } else {
            if (!ReadStruct(*f.elem, &e)) return false;
            field_ = f.kafka_name;
            field_start_ = before;
          }
          if (pos_ == before) return Fail("an array element of no bytes");
          n->children.push_back(std::move(e));
        }
        return true;
      }
    }
    return Fail("unknown field type");
  }

  size_t pos() const { return pos_; }
  size_t size() const { return n_; }
  const std::string& error() const { return error_; }

 private:
  size_t remaining() const { return n_ - pos_; }

  bool Fail(const std::string& what) {
    if (error_.empty())
      error_ = field_ ? fmt::format("{} at byte {} ({})", what, base_ + field_start_, field_)
                      : fmt::format("{} at byte {}", what, base_ + pos_);
    return false;
  }
  bool Need(size_t w) {
    if (w > remaining()) return Fail(pos_ == n_ ? "truncated" : fmt::format("truncated ({} bytes left, {} needed)", remaining(), w));
    return true;
  }
  bool Count(size_t k) {
    *nodes_ += k;
    if (*nodes_ > kMaxNodes) return Fail(fmt::format("more than {} values", kMaxNodes));
    return true;
  }
  bool U8(uint8_t* v) {
    if (!Need(1)) return false;
    *v = p_[pos_++];
    return true;
  }
  bool Fixed(size_t w, int64_t* v) {
    if (!Need(w)) return false;
    const uint8_t* q = p_ + pos_;
    *v = w == 2 ? static_cast<int16_t>(DecodeFixed16BE(q)) : static_cast<int32_t>(DecodeFixed32BE(q));
    pos_ += w;
    return true;
  }
  // Kafka's unsigned varint (ByteUtils.readUnsignedVarint): at most 5 bytes, 32 bits.
  bool UVarint(uint32_t* v) {
    uint64_t r = 0;
    for (int i = 0; i < 5; ++i) {
      uint8_t b;
      if (!U8(&b)) return false;
      r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        if (r > 0xffffffffull) return Fail("unsigned varint above 32 bits");
        *v = static_cast<uint32_t>(r);
        return true;
      }
    }
    return Fail("unsigned varint longer than 5 bytes");
  }
  // A string (int16) or bytes (int32) length, or its compact form; -1 = null. Lengths
  // below -1 and past the end are errors.
  bool Length(bool is_string, int64_t* len) {
    if (flexible_) {
      uint32_t u;
      if (!UVarint(&u)) return false;
      *len = static_cast<int64_t>(u) - 1;
    } else if (!Fixed(is_string ? 2 : 4, len)) {
      return false;
    }
    if (*len < -1) return Fail(fmt::format("negative length {}", *len));
    if (*len > static_cast<int64_t>(remaining()))
      return Fail(fmt::format("length {} past the end ({} bytes left)", *len, remaining()));
    return true;
  }
  bool ArrayCount(int64_t* count) {
    if (flexible_) {
      uint32_t u;
      if (!UVarint(&u)) return false;
      *count = static_cast<int64_t>(u) - 1;
    } else if (!Fixed(4, count)) {
      return false;
    }
    if (*count < -1) return Fail(fmt::format("negative array count {}", *count));
    return true;
  }
  std::string_view Take(size_t len) {
    std::string_view s(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return s;
  }
  bool Null(const Field& f, Node* n) {
    if (!f.nullable.Has(version_)) return Fail("null in a field that is not nullable");
    n->kind = Node::Kind::kNull;
    return true;
  }
  // Elements of a string array are never null.
  bool ReadString(const Field& f, Node* n, bool element = false) {
    int64_t len;
    if (!Length(true, &len)) return false;
    if (len < 0) {
      if (element) return Fail("null string in an array");
      return Null(f, n);
    }
    n->kind = Node::Kind::kString;
    n->s = Take(static_cast<size_t>(len));
    if (!envelope::IsValidUtf8(n->s)) return Fail("string is not valid UTF-8");
    return true;
  }
  // The tagged-field section of a flexible struct: a count, then per field its tag, its
  // size and its bytes, tags strictly ascending (Kafka's serialization rule).
  bool ReadTaggedFields(const Struct& st, Node* out) {
    field_ = "tagged fields";
    field_start_ = pos_;
    uint32_t count;
    if (!UVarint(&count)) return false;
    if (count > remaining() / 2)
      return Fail(fmt::format("{} tagged fields do not fit the {} bytes left", count, remaining()));
    int64_t prev = -1;
    for (uint32_t i = 0; i < count; ++i) {
      field_ = "tagged fields";
      field_start_ = pos_;
      uint32_t tag, size;
      if (!UVarint(&tag) || !UVarint(&size)) return false;
      if (static_cast<int64_t>(tag) <= prev) return Fail(fmt::format("tag {} after tag {}", tag, prev));
      prev = tag;
      if (size > remaining()) return Fail(fmt::format("tagged field {} of {} bytes past the end", tag, size));
      if (!Count(1)) return false;
      const Field* known = nullptr;
      for (const Field& f : st.fields)
        if (f.tagged.Has(version_) && f.tag == static_cast<int32_t>(tag)) known = &f;
      std::string_view bytes = Take(size);
      Node n;
      if (known == nullptr) {
        n.kind = Node::Kind::kUnknownTag;
        n.i = tag;
        n.s = bytes;
      } else {
        Reader sub(bytes, version_, flexible_, base_ + pos_ - size, nodes_);
        if (!sub.ReadField(*known, &n)) return Fail2(sub);
        if (sub.pos() != sub.size()) {
          field_ = known->kafka_name;
          field_start_ = pos_ - size;
          return Fail(fmt::format("tagged field of {} bytes holds {} more", size, sub.size() - sub.pos()));
        }
      }
      out->children.push_back(std::move(n));
    }
    return true;
  }
  bool Fail2(const Reader& sub) {
    if (error_.empty()) error_ = sub.error();
    return false;
  }

  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  int16_t version_;
  bool flexible_;
  size_t base_;  // position of p_ in the whole message, for messages
  size_t* nodes_;
  const char* field_ = nullptr;  // the field being read, for messages
  size_t field_start_ = 0;        // and where it starts
  std::string error_;
};

void AppendName(std::string_view name, std::string_view suffix, std::string* out) {
  out->push_back('"');
  out->append(name);
  out->append(suffix);
  out->append("\":");
}

void AppendValue(const Node& n, std::string* out);

void AppendStruct(const Node& s, std::string* out) {
  out->push_back('{');
  AppendMembers(s, out);
  out->push_back('}');
}

void AppendValue(const Node& n, std::string* out) {
  const Field* f = n.field;
  switch (n.kind) {
    case Node::Kind::kNull: out->append("null"); return;
    case Node::Kind::kInt:
      if (f && f->show == Show::kTransactionState) {
        std::string_view name = TransactionStateName(n.i);
        envelope::AppendJsonString(name.empty() ? fmt::format("Unknown({})", n.i) : std::string(name), out);
        return;
      }
      fmt::format_to(std::back_inserter(*out), "{}", n.i);
      return;
    case Node::Kind::kString: envelope::AppendJsonString(n.s, out); return;
    case Node::Kind::kBytes:
      if (n.embedded_ok && !n.children.empty()) {
        fmt::format_to(std::back_inserter(*out), "{{\"version\":{}", n.embedded_version);
        std::string members;
        if (AppendMembers(n.children[0], &members)) {
          out->push_back(',');
          out->append(members);
        }
        out->push_back('}');
        return;
      }
      out->push_back('"');
      envelope::AppendBase64(n.s, out);
      out->push_back('"');
      return;
    case Node::Kind::kArray:
      out->push_back('[');
      if (f && f->type == Type::kInt32Array) {
        for (size_t i = 0; i + 4 <= n.s.size(); i += 4)
          fmt::format_to(std::back_inserter(*out), "{}{}", i ? "," : "",
                         static_cast<int32_t>(DecodeFixed32BE(n.s.data() + i)));
      } else {
        for (size_t i = 0; i < n.children.size(); ++i) {
          if (i) out->push_back(',');
          if (n.children[i].kind == Node::Kind::kStruct) AppendStruct(n.children[i], out);
          else AppendValue(n.children[i], out);
        }
      }
      out->push_back(']');
      return;
    case Node::Kind::kStruct: AppendStruct(n, out); return;
    case Node::Kind::kUnknownTag: return;  // written by AppendMembers
  }
}

}  // namespace

const Node* Node::Find(std::string_view name) const {
  for (const Node& c : children)
    if (c.field && name == c.field->name) return &c;
  return nullptr;
}

int64_t Node::IntOr(std::string_view name, int64_t def) const {
  const Node* n = Find(name);
  return n && n->kind == Kind::kInt ? n->i : def;
}

std::string_view Node::StrOr(std::string_view name, std::string_view def) const {
  const Node* n = Find(name);
  return n && n->kind == Kind::kString ? n->s : def;
}

bool Decode(const Schema& schema, int16_t version, std::string_view data, Node* out, std::string* error) {
  *out = Node();
  if (!schema.valid.Has(version)) {
    *error = fmt::format("unknown {} version {}", schema.name, version);
    return false;
  }
  size_t nodes = 0;
  Reader r(data, version, schema.flexible.Has(version), 2, &nodes);
  if (!r.ReadStruct(*schema.root, out)) {
    *error = r.error();
    *out = Node();
    return false;
  }
  if (r.pos() != r.size()) {
    *error = fmt::format("{} bytes left over after the {} (version {}) at byte {}", r.size() - r.pos(), schema.name,
                         version, r.pos() + 2);
    *out = Node();
    return false;
  }
  return true;
}

bool DecodeVersioned(const Schema& schema, std::string_view data, int16_t* version, Node* out, std::string* error) {
  *version = -1;
  if (data.size() < 2) {
    *error = fmt::format("{} bytes: too short for a version", data.size());
    *out = Node();
    return false;
  }
  *version = static_cast<int16_t>(DecodeFixed16BE(reinterpret_cast<const uint8_t*>(data.data())));
  return Decode(schema, *version, data.substr(2), out, error);
}

void DecodeEmbedded(Node* n) {
  if (n->kind == Node::Kind::kBytes && n->field && n->field->embedded && !n->embedded_ok) {
    Node msg;
    std::string error;
    int16_t v;
    if (DecodeVersioned(*n->field->embedded, n->s, &v, &msg, &error)) {
      DecodeEmbedded(&msg);
      n->children.clear();
      n->children.push_back(std::move(msg));
      n->embedded_ok = true;
      n->embedded_version = v;
    }
    return;
  }
  for (Node& c : n->children) DecodeEmbedded(&c);
}

bool AppendMembers(const Node& s, std::string* out) {
  bool any = false;
  bool unknown = false;
  for (const Node& c : s.children) {
    if (c.kind == Node::Kind::kUnknownTag) {
      unknown = true;
      continue;
    }
    if (!c.field) continue;
    if (any) out->push_back(',');
    any = true;
    bool base64 = c.kind == Node::Kind::kBytes && !c.embedded_ok;
    AppendName(c.field->name, base64 ? "_base64" : "", out);
    AppendValue(c, out);
  }
  if (unknown) {
    if (any) out->push_back(',');
    any = true;
    out->append("\"unknown_tagged_fields\":[");
    bool first = true;
    for (const Node& c : s.children) {
      if (c.kind != Node::Kind::kUnknownTag) continue;
      if (!first) out->push_back(',');
      first = false;
      fmt::format_to(std::back_inserter(*out), "{{\"tag\":{},\"base64\":\"", c.i);
      envelope::AppendBase64(c.s, out);
      out->append("\"}");
    }
    out->push_back(']');
  }
  return any;
}

std::string_view TransactionStateName(int64_t id) {
  switch (id) {
    case 0: return "Empty";
    case 1: return "Ongoing";
    case 2: return "PrepareCommit";
    case 3: return "PrepareAbort";
    case 4: return "CompleteCommit";
    case 5: return "CompleteAbort";
    case 6: return "Dead";
    case 7: return "PrepareEpochFence";
    default: return "";
  }
}

}  // namespace evt::kafka_internal
