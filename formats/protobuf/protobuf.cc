#include "formats/protobuf/protobuf.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include <algorithm>
#include <climits>

#include "formats/envelope/envelope.h"
#include "formats/protobuf/source_tree.h"

namespace evt::protobuf {

namespace gp = google::protobuf;

const char* IndexEncodingName(IndexEncoding e) {
  switch (e) {
    case IndexEncoding::kZigzag: return "zigzag";
    case IndexEncoding::kUnsigned: return "unsigned";
    case IndexEncoding::kNone: break;
  }
  return "none";
}

namespace {

constexpr const char* kTypeUrlPrefix = "type.googleapis.com";

// An unsigned varint of at most 5 bytes (a 32-bit value, as Java's writeVarint writes).
bool ReadVarint32(std::string_view in, size_t* pos, uint32_t* v) {
  uint64_t u = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (*pos >= in.size()) return false;
    const uint8_t b = static_cast<uint8_t>(in[(*pos)++]);
    u |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      if (u > 0xffffffffull) return false;
      *v = static_cast<uint32_t>(u);
      return true;
    }
  }
  return false;
}

bool ReadIndex(std::string_view in, size_t* pos, IndexEncoding enc, int32_t* v) {
  uint32_t u;
  if (!ReadVarint32(in, pos, &u)) return false;
  if (enc == IndexEncoding::kZigzag) {
    if (u & 1) return false;  // negative: not a count or an index
    *v = static_cast<int32_t>(u >> 1);
    return true;
  }
  if (u > static_cast<uint32_t>(INT32_MAX)) return false;
  *v = static_cast<int32_t>(u);
  return true;
}

void PutUnsigned(std::string* out, uint32_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

}  // namespace

bool ReadMessageIndexes(std::string_view payload, IndexEncoding enc, std::vector<int32_t>* indexes,
                        size_t* consumed) {
  indexes->clear();
  size_t pos = 0;
  int32_t count;
  if (enc == IndexEncoding::kNone || !ReadIndex(payload, &pos, enc, &count)) return false;
  if (count == 0) {
    indexes->push_back(0);
  } else {
    if (static_cast<size_t>(count) > kMaxIndexes) return false;
    for (int32_t i = 0; i < count; ++i) {
      int32_t v;
      if (!ReadIndex(payload, &pos, enc, &v)) return false;
      indexes->push_back(v);
    }
  }
  *consumed = pos;
  return true;
}

void AppendMessageIndexes(const std::vector<int32_t>& indexes, IndexEncoding enc, std::string* out) {
  const bool zigzag = enc != IndexEncoding::kUnsigned;
  auto put = [&](int32_t v) { PutUnsigned(out, zigzag ? static_cast<uint32_t>(v) << 1 : static_cast<uint32_t>(v)); };
  if (zigzag && indexes.size() == 1 && indexes[0] == 0) {
    out->push_back('\0');
    return;
  }
  put(static_cast<int32_t>(indexes.size()));
  for (int32_t v : indexes) put(v);
}

struct Schema::Impl {
  internal::Compiled compiled;
  const gp::FileDescriptor* file = nullptr;
  std::vector<const gp::Descriptor*> messages;  // MessageNames' order
  std::vector<std::string> names;
  std::unique_ptr<gp::DynamicMessageFactory> factory;
  std::unique_ptr<gp::util::TypeResolver> resolver;
  gp::util::JsonPrintOptions json;

  void Add(const gp::Descriptor* d) {
    messages.push_back(d);
    names.push_back(d->full_name());
    for (int i = 0; i < d->nested_type_count(); ++i) Add(d->nested_type(i));
  }
};

Schema::Schema() : impl_(std::make_unique<Impl>()) {}
Schema::~Schema() = default;

Result<std::shared_ptr<const Schema>> Schema::Parse(std::string_view text, const std::string& name,
                                                    const std::vector<ImportFile>& imports,
                                                    const ImportResolver& resolver) {
  auto s = std::shared_ptr<Schema>(new Schema());
  Impl& m = *s->impl_;
  EVT_RETURN_IF_ERROR(internal::Compile(text, name, imports, resolver, &m.compiled));
  m.file = m.compiled.file;
  for (int i = 0; i < m.file->message_type_count(); ++i) m.Add(m.file->message_type(i));
  m.factory = std::make_unique<gp::DynamicMessageFactory>(m.compiled.importer->pool());
  m.resolver.reset(gp::util::NewTypeResolverForDescriptorPool(kTypeUrlPrefix, m.compiled.importer->pool()));
  // The proto3 JSON mapping as its spec prints it (and python's json_format.MessageToJson):
  // lowerCamelCase names, fields at their default value left out, enums by name, 64-bit
  // integers as strings, bytes in base64, the well-known types in their JSON forms.
  m.json.add_whitespace = false;
  m.json.always_print_primitive_fields = false;
  m.json.always_print_enums_as_ints = false;
  m.json.preserve_proto_field_names = false;
  return std::shared_ptr<const Schema>(std::move(s));
}

std::vector<std::string> Schema::MessageNames() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < impl_->messages.size(); ++i)
    if (!impl_->messages[i]->options().map_entry()) out.push_back(impl_->names[i]);
  return out;
}

int Schema::FindMessage(std::string_view name) const {
  const std::string& pkg = impl_->file->package();
  for (size_t i = 0; i < impl_->names.size(); ++i) {
    const std::string& n = impl_->names[i];
    if (n == name || (!pkg.empty() && n.size() == pkg.size() + 1 + name.size() && n.compare(0, pkg.size(), pkg) == 0 &&
                      n[pkg.size()] == '.' && std::string_view(n).substr(pkg.size() + 1) == name))
      return static_cast<int>(i);
  }
  return -1;
}

int Schema::MessageAt(const std::vector<int32_t>& indexes) const {
  if (indexes.empty() || indexes[0] < 0 || indexes[0] >= impl_->file->message_type_count()) return -1;
  const gp::Descriptor* d = impl_->file->message_type(indexes[0]);
  for (size_t i = 1; i < indexes.size(); ++i) {
    if (indexes[i] < 0 || indexes[i] >= d->nested_type_count()) return -1;
    d = d->nested_type(indexes[i]);
  }
  for (size_t i = 0; i < impl_->messages.size(); ++i)
    if (impl_->messages[i] == d) return static_cast<int>(i);
  return -1;
}

const std::string& Schema::MessageName(int m) const { return impl_->names[m]; }

std::vector<int32_t> Schema::IndexesOf(int m) const {
  std::vector<int32_t> path;
  if (m < 0 || static_cast<size_t>(m) >= impl_->messages.size()) return path;
  for (const gp::Descriptor* d = impl_->messages[m]; d; d = d->containing_type()) path.push_back(d->index());
  std::reverse(path.begin(), path.end());
  return path;
}

bool Schema::JsonToMessage(int m, std::string_view json, std::string* out, std::string* error) const {
  if (m < 0 || static_cast<size_t>(m) >= impl_->messages.size()) {
    *error = "no such message type";
    return false;
  }
  const gp::Descriptor* d = impl_->messages[m];
  try {
    gp::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = false;
    std::string binary;
    auto st = gp::util::JsonToBinaryString(impl_->resolver.get(), std::string(kTypeUrlPrefix) + "/" + d->full_name(),
                                           std::string(json), &binary, opts);
    if (!st.ok()) {
      *error = fmt::format("not a {} in JSON: {}", d->full_name(), std::string(st.message()));
      return false;
    }
    // Through a message: the converter writes explicit zeros inside the well-known types
    // (a Timestamp's nanos), which a message serializes as python and Java do (fields in
    // number order, defaults left out), and proto2's required fields are checked.
    const gp::Message* proto = impl_->factory->GetPrototype(d);
    std::unique_ptr<gp::Message> msg(proto->New());
    if (!msg->ParsePartialFromString(binary)) {
      *error = fmt::format("not a valid {} message", d->full_name());
      return false;
    }
    if (!msg->IsInitialized()) {
      *error = fmt::format("{}: required fields missing: {}", d->full_name(), msg->InitializationErrorString());
      return false;
    }
    std::string canonical;
    if (!msg->SerializePartialToString(&canonical)) {
      *error = fmt::format("{}: cannot serialize", d->full_name());
      return false;
    }
    out->append(canonical);
    return true;
  } catch (...) {
    *error = fmt::format("{}: libprotobuf failed on this value", d->full_name());
    return false;
  }
}

bool Schema::MessageToJson(int m, std::string_view bytes, std::string* out, std::string* error) const {
  if (m < 0 || static_cast<size_t>(m) >= impl_->messages.size()) {
    *error = "no such message type";
    return false;
  }
  const gp::Descriptor* d = impl_->messages[m];
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    *error = "a message over 2 GiB";
    return false;
  }
  try {
    const gp::Message* proto = impl_->factory->GetPrototype(d);
    std::unique_ptr<gp::Message> msg(proto->New());
    if (!msg->ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      *error = fmt::format("not a valid {} message (truncated, or a bad tag, wire type, length or UTF-8 string)",
                           d->full_name());
      return false;
    }
    if (!msg->IsInitialized()) {
      *error = fmt::format("{}: required fields missing: {}", d->full_name(), msg->InitializationErrorString());
      return false;
    }
    std::string binary;
    msg->SerializePartialToString(&binary);
    std::string json;
    auto st = gp::util::BinaryToJsonString(impl_->resolver.get(), std::string(kTypeUrlPrefix) + "/" + d->full_name(),
                                           binary, &json, impl_->json);
    if (!st.ok()) {
      *error = fmt::format("{} as JSON: {}", d->full_name(), std::string(st.message()));
      return false;
    }
    if (!envelope::IsValidUtf8(json)) {
      *error = fmt::format("{}: a string field is not valid UTF-8", d->full_name());
      return false;
    }
    out->append(json);
    return true;
  } catch (...) {
    *error = fmt::format("{}: libprotobuf failed on this message", d->full_name());
    return false;
  }
}

bool Schema::FramedToJson(std::string_view payload, std::string* out, FramedInfo* info, std::string* error) const {
  // Zigzag first (what Confluent's serializers write today), then unsigned varints; the
  // first whose indexes select a message type and whose rest decodes as it wins. A payload
  // that starts with 0x00 reads the same ([0]) either way.
  // The reason given for a failure: that of the first encoding whose indexes selected a
  // message type, else the first reason.
  std::string best_error;
  FramedInfo best_info;
  bool best_resolved = false;
  for (IndexEncoding enc : {IndexEncoding::kZigzag, IndexEncoding::kUnsigned}) {
    if (enc == IndexEncoding::kUnsigned && !payload.empty() && payload[0] == 0) break;
    std::vector<int32_t> idx;
    size_t used = 0;
    if (!ReadMessageIndexes(payload, enc, &idx, &used)) continue;
    const int m = MessageAt(idx);
    std::string why;
    if (m < 0) {
      why = fmt::format("message indexes [{}] ({}) select no message type of the schema ({} top-level)",
                        fmt::join(idx, ","), IndexEncodingName(enc), impl_->file->message_type_count());
    } else {
      const size_t before = out->size();
      if (MessageToJson(m, payload.substr(used), out, &why)) {
        info->encoding = enc;
        info->indexes = std::move(idx);
        return true;
      }
      out->resize(before);
    }
    if (best_error.empty() || (m >= 0 && !best_resolved)) {
      best_error = why;
      best_resolved = m >= 0;
      best_info.encoding = best_resolved ? enc : IndexEncoding::kNone;
      best_info.indexes = best_resolved ? idx : std::vector<int32_t>();
    }
  }
  *info = best_info;
  if (!best_error.empty()) *error = best_error;
  else *error = payload.empty() ? "empty Protobuf payload (no message indexes)"
                                : "no valid message indexes after the schema id";
  return false;
}

}  // namespace evt::protobuf
