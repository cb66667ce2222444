#include "formats/protobuf/compat.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>

#include <set>

#include "formats/protobuf/source_tree.h"

namespace evt::protobuf {

namespace gp = google::protobuf;

namespace {

// A oneof that is not the synthetic one of a proto3 `optional` field.
const gp::OneofDescriptor* RealOneof(const gp::FieldDescriptor* f) { return f->real_containing_oneof(); }

enum class Kind { kScalar, kMessage, kEnum };
Kind KindOf(const gp::FieldDescriptor* f) {
  if (f->type() == gp::FieldDescriptor::TYPE_MESSAGE || f->type() == gp::FieldDescriptor::TYPE_GROUP)
    return Kind::kMessage;
  if (f->type() == gp::FieldDescriptor::TYPE_ENUM) return Kind::kEnum;
  return Kind::kScalar;
}

// Scalar types whose values read as each other on the wire (Confluent's groups).
int ScalarGroup(gp::FieldDescriptor::Type t) {
  switch (t) {
    case gp::FieldDescriptor::TYPE_INT32:
    case gp::FieldDescriptor::TYPE_UINT32:
    case gp::FieldDescriptor::TYPE_INT64:
    case gp::FieldDescriptor::TYPE_UINT64:
    case gp::FieldDescriptor::TYPE_BOOL: return 1;
    case gp::FieldDescriptor::TYPE_SINT32:
    case gp::FieldDescriptor::TYPE_SINT64: return 2;
    case gp::FieldDescriptor::TYPE_FIXED32:
    case gp::FieldDescriptor::TYPE_SFIXED32: return 3;
    case gp::FieldDescriptor::TYPE_FIXED64:
    case gp::FieldDescriptor::TYPE_SFIXED64: return 4;
    case gp::FieldDescriptor::TYPE_STRING:
    case gp::FieldDescriptor::TYPE_BYTES: return 5;
    default: return 100 + static_cast<int>(t);  // float, double: only themselves
  }
}

std::string TypeText(const gp::FieldDescriptor* f) {
  if (f->is_map())
    return fmt::format("map<{}, {}>", TypeText(f->message_type()->map_key()), TypeText(f->message_type()->map_value()));
  std::string t;
  switch (KindOf(f)) {
    case Kind::kMessage: t = f->message_type()->full_name(); break;
    case Kind::kEnum: t = f->enum_type()->full_name(); break;
    case Kind::kScalar: t = f->type_name(); break;
  }
  return f->is_repeated() ? "repeated " + t : t;
}

class Differ {
 public:
  std::vector<Incompatibility> out;

  void Add(const char* type, std::string reason) { out.push_back({type, std::move(reason) + " (" + type + ")"}); }

  // The types of one field (or of a map's key or value).
  void CompareTypes(const std::string& where, const gp::FieldDescriptor* f, const gp::FieldDescriptor* g) {
    if (f->is_map() != g->is_map() || KindOf(f) != KindOf(g)) {
      Add("FIELD_KIND_CHANGED", fmt::format("{}: {} became {}", where, TypeText(f), TypeText(g)));
      return;
    }
    if (f->is_map()) {
      CompareTypes(where + " (map key)", f->message_type()->map_key(), g->message_type()->map_key());
      CompareTypes(where + " (map value)", f->message_type()->map_value(), g->message_type()->map_value());
      return;
    }
    switch (KindOf(f)) {
      case Kind::kScalar:
        if (ScalarGroup(f->type()) != ScalarGroup(g->type()))
          Add("FIELD_SCALAR_KIND_CHANGED", fmt::format("{}: {} became {}", where, f->type_name(), g->type_name()));
        break;
      case Kind::kMessage:
        if (f->message_type()->full_name() != g->message_type()->full_name())
          Add("FIELD_NAMED_TYPE_CHANGED", fmt::format("{}: message type {} became {}", where,
                                                      f->message_type()->full_name(), g->message_type()->full_name()));
        break;
      case Kind::kEnum:
        if (f->enum_type()->full_name() != g->enum_type()->full_name())
          Add("FIELD_NAMED_TYPE_CHANGED", fmt::format("{}: enum type {} became {}", where, f->enum_type()->full_name(),
                                                      g->enum_type()->full_name()));
        break;
    }
  }

  void CompareMessages(const gp::Descriptor* m, const gp::Descriptor* u) {
    std::set<std::string> moved_reported;
    for (int i = 0; i < m->field_count(); ++i) {
      const gp::FieldDescriptor* f = m->field(i);
      const std::string where = fmt::format("{} field {} ({})", m->full_name(), f->number(), f->name());
      const gp::FieldDescriptor* g = u->FindFieldByNumber(f->number());
      if (!g) {
        if (f->is_required()) Add("REQUIRED_FIELD_REMOVED", where + ": a required field was removed");
        else if (RealOneof(f))
          Add("ONEOF_FIELD_REMOVED", fmt::format("{}: removed from oneof {}", where, RealOneof(f)->name()));
        continue;
      }
      CompareTypes(where, f, g);
      if (!f->is_map() && !g->is_map() && f->is_repeated() != g->is_repeated() && KindOf(f) != Kind::kMessage) {
        const bool text = f->type() == gp::FieldDescriptor::TYPE_STRING || f->type() == gp::FieldDescriptor::TYPE_BYTES;
        Add(text ? "FIELD_STRING_OR_BYTES_LABEL_CHANGED" : "FIELD_NUMERIC_LABEL_CHANGED",
            fmt::format("{}: {} became {}", where, f->is_repeated() ? "repeated" : "singular",
                        g->is_repeated() ? "repeated" : "singular"));
      }
      if (!f->is_required() && g->is_required()) Add("REQUIRED_FIELD_ADDED", where + ": became required");
      if (f->is_required() && !g->is_required()) Add("REQUIRED_FIELD_REMOVED", where + ": is no longer required");
      // Into a oneof: into one that existed, or several fields into a new one.
      const gp::OneofDescriptor* uo = RealOneof(g);
      if (uo && !RealOneof(f) && !moved_reported.count(uo->name())) {
        bool existed = false;
        for (int k = 0; k < m->real_oneof_decl_count(); ++k) existed |= m->oneof_decl(k)->name() == uo->name();
        int moved = 0;
        for (int k = 0; k < uo->field_count(); ++k) {
          const gp::FieldDescriptor* was = m->FindFieldByNumber(uo->field(k)->number());
          if (was && !RealOneof(was)) ++moved;
        }
        if (existed) {
          Add("FIELD_MOVED_TO_EXISTING_ONEOF", fmt::format("{}: moved into the existing oneof {}", where, uo->name()));
          moved_reported.insert(uo->name());
        } else if (moved > 1) {
          Add("MULTIPLE_FIELDS_MOVED_TO_ONEOF",
              fmt::format("{}: {} fields moved into the new oneof {}", m->full_name(), moved, uo->name()));
          moved_reported.insert(uo->name());
        }
      }
    }
    for (int i = 0; i < u->field_count(); ++i) {
      const gp::FieldDescriptor* g = u->field(i);
      if (g->is_required() && !m->FindFieldByNumber(g->number()))
        Add("REQUIRED_FIELD_ADDED",
            fmt::format("{} field {} ({}): a required field was added", m->full_name(), g->number(), g->name()));
    }
  }

  void Walk(const gp::Descriptor* m, const gp::DescriptorPool* update) {
    if (m->options().map_entry()) return;  // compared with its map field
    const gp::Descriptor* u = update->FindMessageTypeByName(m->full_name());
    if (!u) {
      Add("MESSAGE_REMOVED", fmt::format("message {} was removed", m->full_name()));
      return;
    }
    CompareMessages(m, u);
    for (int i = 0; i < m->nested_type_count(); ++i) Walk(m->nested_type(i), update);
  }
};

}  // namespace

Result<std::vector<Incompatibility>> Incompatibilities(const SchemaText& original, const SchemaText& update) {
  internal::Compiled a, b;
  Status s = internal::Compile(original.text, original.name, original.imports, original.resolver, &a);
  if (!s.ok()) return Status::InvalidArgument("original: " + s.message());
  s = internal::Compile(update.text, update.name, update.imports, update.resolver, &b);
  if (!s.ok()) return Status::InvalidArgument("update: " + s.message());
  Differ d;
  if (a.file->package() != b.file->package())
    d.Add("PACKAGE_CHANGED", fmt::format("the package {} became {}", a.file->package().empty() ? "(none)" : a.file->package(),
                                         b.file->package().empty() ? "(none)" : b.file->package()));
  for (int i = 0; i < a.file->message_type_count(); ++i) d.Walk(a.file->message_type(i), b.importer->pool());
  return std::move(d.out);
}

}  // namespace evt::protobuf
