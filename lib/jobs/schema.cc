#include "lib/jobs/schema.h"

#include <fmt/format.h>

#include <functional>
#include <map>

#include "formats/avro/avro.h"
#include "formats/confluent/framing.h"
#include "formats/envelope/envelope.h"
#include "formats/jsonschema/jsonschema.h"
#include "formats/protobuf/compat.h"
#include "lib/base/file.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"

namespace evt {

namespace {
void AppendReferencesJson(const SchemaEntry& e, std::string* o) {
  o->append("\"references\":[");
  for (size_t i = 0; i < e.references.size(); ++i) {
    const SchemaReference& r = e.references[i];
    if (i) o->push_back(',');
    o->append("{\"name\":");
    envelope::AppendJsonString(r.name, o);
    o->append(",\"subject\":");
    envelope::AppendJsonString(r.subject, o);
    fmt::format_to(std::back_inserter(*o), ",\"version\":{}}}", r.version);
  }
  o->push_back(']');
}

void AppendSubjectsJson(const SchemaEntry& e, std::string* o) {
  o->append("\"subjects\":[");
  for (size_t i = 0; i < e.subjects.size(); ++i) {
    if (i) o->push_back(',');
    o->append("{\"subject\":");
    envelope::AppendJsonString(e.subjects[i].subject, o);
    fmt::format_to(std::back_inserter(*o), ",\"version\":{},\"deleted\":{}}}", e.subjects[i].version,
                   e.subjects[i].deleted ? "true" : "false");
  }
  o->push_back(']');
}

bool ParseInt32(const std::string& s, int32_t* v) {
  if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  int64_t n = std::stoll(s);
  if (n > INT32_MAX) return false;
  *v = static_cast<int32_t>(n);
  return true;
}
}  // namespace

std::string SchemaListText(const std::vector<const SchemaEntry*>& entries, bool json) {
  std::string o;
  if (!json) o += fmt::format("{:>8}  {:<8}  {:>4}  {}\n", "ID", "TYPE", "REFS", "SUBJECTS");
  for (const SchemaEntry* e : entries) {
    if (json) {
      fmt::format_to(std::back_inserter(o), "{{\"id\":{},\"type\":\"{}\",", e->id, SchemaTypeName(e->type));
      AppendSubjectsJson(*e, &o);
      o.push_back(',');
      AppendReferencesJson(*e, &o);
      o.append("}\n");
      continue;
    }
    std::string subjects;
    for (const SubjectVersion& s : e->subjects)
      subjects += fmt::format("{}{}/{}{}", subjects.empty() ? "" : " ", s.subject, s.version, s.deleted ? " (deleted)" : "");
    o += fmt::format("{:>8}  {:<8}  {:>4}  {}\n", e->id, SchemaTypeName(e->type), e->references.size(),
                     subjects.empty() ? "-" : subjects);
  }
  return o;
}

Result<const SchemaEntry*> FindSchema(SchemaRegistry* reg, const std::string& what) {
  int32_t id;
  if (ParseInt32(what, &id)) return reg->ById(id);
  size_t slash = what.rfind('/');
  int32_t version = -1;
  std::string subject = what;
  if (slash != std::string::npos && ParseInt32(what.substr(slash + 1), &version)) subject = what.substr(0, slash);
  else if (slash != std::string::npos && what.substr(slash + 1) == "latest") subject = what.substr(0, slash);
  return reg->BySubject(subject, version);
}

std::string SchemaShowText(const SchemaEntry& e, bool json) {
  if (!json) {
    std::string s = e.schema;
    if (s.empty() || s.back() != '\n') s.push_back('\n');
    return s;
  }
  std::string o = fmt::format("{{\"id\":{},\"schemaType\":\"{}\",\"schema\":", e.id, SchemaTypeName(e.type));
  envelope::AppendJsonString(e.schema, &o);
  o.push_back(',');
  AppendSubjectsJson(e, &o);
  o.push_back(',');
  AppendReferencesJson(e, &o);
  o.append("}\n");
  return o;
}

Status RunSchemaIds(const SourceSpec& source, Reporter* reporter, std::vector<SchemaIdRow>* rows, uint64_t* unframed) {
  auto src = OpenSource(source, reporter);
  if (!src.ok()) return src.status();
  std::map<std::tuple<int32_t, bool, int32_t>, SchemaIdRow> by;
  *unframed = 0;
  RecordBatch batch;
  Status s;
  for (bool eof = false; !eof;) {
    if (InterruptRequested()) return Status::Interrupted();
    batch.Clear();
    s = (*src)->Next(&batch, &eof);
    for (const Record& r : batch.records) {
      if (r.control) continue;
      const int32_t p = r.partition >= 0 ? r.partition : batch.partition;
      bool any = false;
      for (bool key : {false, true}) {
        const Bytes& b = key ? r.key : r.value;
        confluent::Frame f;
        if (b.null() || !confluent::ParseFrame(b.view(), &f)) continue;
        any = true;
        SchemaIdRow& row = by[{p, key, f.schema_id}];
        if (row.records++ == 0) {
          row.partition = p;
          row.key = key;
          row.schema_id = f.schema_id;
          row.first_offset = r.offset;
          row.first_timestamp = r.timestamp;
        }
        row.last_offset = r.offset;
        row.last_timestamp = r.timestamp;
      }
      if (!any) ++*unframed;
    }
    if (!s.ok()) break;
  }
  for (auto& [k, row] : by) rows->push_back(row);
  return s;
}

std::string SchemaIdsText(const std::vector<SchemaIdRow>& rows, bool json) {
  std::string o;
  auto ts = [](int64_t t) { return t < 0 ? std::string("-") : FormatRfc3339Ms(t); };
  if (!json)
    o += fmt::format("{:>9}  {:<5}  {:>9}  {:>10}  {:>12}  {:>12}  {:<24}  {}\n", "PARTITION", "FIELD", "SCHEMA_ID",
                     "RECORDS", "FIRST", "LAST", "FIRST_TIME", "LAST_TIME");
  for (const SchemaIdRow& r : rows) {
    if (json) {
      fmt::format_to(std::back_inserter(o),
                     "{{\"partition\":{},\"field\":\"{}\",\"schema_id\":{},\"records\":{},\"first_offset\":{},"
                     "\"last_offset\":{},\"first_timestamp\":{},\"last_timestamp\":{}}}\n",
                     r.partition, r.key ? "key" : "value", r.schema_id, r.records, r.first_offset, r.last_offset,
                     r.first_timestamp, r.last_timestamp);
    } else {
      o += fmt::format("{:>9}  {:<5}  {:>9}  {:>10}  {:>12}  {:>12}  {:<24}  {}\n", r.partition,
                       r.key ? "key" : "value", r.schema_id, r.records, r.first_offset, r.last_offset,
                       ts(r.first_timestamp), ts(r.last_timestamp));
    }
  }
  return o;
}

namespace {

// Whether one framed value can be read with the reader schema: OK with *why empty
// (readable) or the reason; Unsupported: written with a schema of another type, not
// checked.
using RecordCheck = std::function<Status(int32_t id, std::string_view payload, std::string* why)>;

// The registry's entry for writer schema `id` when it is of `type`: NotFound where the
// registry has no such id (its values are not readable), Unsupported for another type
// (its values are not checked).
Result<const SchemaEntry*> WriterEntry(SchemaRegistry* reg, int32_t id, SchemaType type) {
  auto e = reg->ById(id);
  if (!e.ok()) return e.status();
  if (!*e) return Status::NotFound(fmt::format("schema id {} not found in {}", id, reg->Describe()));
  if ((*e)->type != type)
    return Status::Unsupported(fmt::format("schema id {} is {}", id, SchemaTypeName((*e)->type)));
  return *e;
}

Result<RecordCheck> AvroCheck(const SchemaCheckOptions& opts) {
  auto reader = avro::Schema::Parse(opts.reader.schema);
  if (!reader.ok()) return Status::InvalidArgument(fmt::format("the reader schema: {}", reader.status().message()));
  // Per writer id: its compiled schema, or the reason no datum of it can be read.
  auto writers = std::make_shared<std::map<int32_t, Result<std::shared_ptr<const avro::Schema>>>>();
  SchemaRegistry* reg = opts.schemas.get();
  std::shared_ptr<const avro::Schema> rd = *reader;
  return RecordCheck([writers, reg, rd](int32_t id, std::string_view payload, std::string* why) -> Status {
    auto it = writers->find(id);
    if (it == writers->end()) {
      auto make = [&]() -> Result<std::shared_ptr<const avro::Schema>> {
        EVT_RETURN_IF_ERROR(WriterEntry(reg, id, SchemaType::kAvro).status());
        return reg->AvroById(id);
      };
      it = writers->emplace(id, make()).first;
    }
    auto& writer = it->second;
    if (!writer.ok() && writer.status().code() == Code::kUnsupported) return writer.status();
    std::string scratch;
    if (!writer.ok()) {
      *why = writer.status().message();
    } else if (!(*writer)->ToJson(payload, avro::JsonStyle::kSpec, &scratch, why)) {
      *why = "does not decode with its writer schema: " + *why;
    } else if (Status rs = avro::CheckDatum(**writer, *rd, payload); !rs.ok()) {
      *why = rs.message();
    }
    return Status::OK();
  });
}

protobuf::SchemaText ProtobufText(const SchemaEntry& e);

// A Protobuf reader: the value must decode with its writer schema; the reader must have
// its message type (by full name) and read it (required fields); and the writer's schema
// must be compatible with the reader's by Confluent's rules for that message (the
// differences whose message is that type or one nested in it).
Result<RecordCheck> ProtobufCheck(const SchemaCheckOptions& opts) {
  SchemaRegistry* reg = opts.schemas.get();
  std::vector<protobuf::ImportFile> reader_imports;
  if (!opts.reader.references.empty()) {
    auto imp = reg->ProtobufImports(opts.reader);
    if (!imp.ok()) return imp.status().WithContext("the reader schema");
    reader_imports = std::move(*imp);
  }
  auto reader = CompileProtobuf(opts.reader, reader_imports);
  if (!reader.ok()) return Status::InvalidArgument(fmt::format("the reader schema: {}", reader.status().message()));
  struct Writer {
    Status status;  // the reason no value of it can be read
    std::shared_ptr<const protobuf::Schema> schema;
    std::vector<protobuf::Incompatibility> diffs;
  };
  auto writers = std::make_shared<std::map<int32_t, Writer>>();
  std::shared_ptr<const protobuf::Schema> rd = *reader;
  SchemaEntry reader_entry = opts.reader;
  return RecordCheck([=](int32_t id, std::string_view payload, std::string* why) -> Status {
    auto it = writers->find(id);
    if (it == writers->end()) {
      Writer w;
      auto e = WriterEntry(reg, id, SchemaType::kProtobuf);
      w.status = e.status();
      if (w.status.ok()) {
        auto s = reg->ProtobufById(id);
        if (!s.ok()) w.status = s.status();
        else w.schema = *s;
      }
      if (w.status.ok()) {
        auto imports = reg->ProtobufImports(**e);
        protobuf::SchemaText wt = ProtobufText(**e);
        if (imports.ok()) wt.imports = std::move(*imports);
        protobuf::SchemaText rt = ProtobufText(reader_entry);
        rt.imports = reader_imports;
        auto d = protobuf::Incompatibilities(wt, rt);
        if (!d.ok()) w.status = d.status();
        else w.diffs = std::move(*d);
      }
      it = writers->emplace(id, std::move(w)).first;
    }
    const Writer& w = it->second;
    if (w.status.code() == Code::kUnsupported) return w.status;
    if (!w.status.ok()) {
      *why = w.status.message();
      return Status::OK();
    }
    std::string json;
    protobuf::FramedInfo info;
    if (!w.schema->FramedToJson(payload, &json, &info, why)) {
      *why = "does not decode with its writer schema: " + *why;
      return Status::OK();
    }
    const std::string& type = w.schema->MessageName(w.schema->MessageAt(info.indexes));
    const int m = rd->FindMessage(type);
    if (m < 0) {
      *why = fmt::format("the reader schema has no message {}", type);
      return Status::OK();
    }
    for (const auto& d : w.diffs) {
      const std::string& r = d.reason;
      if ((r.compare(0, type.size(), type) == 0 && r.size() > type.size() && (r[type.size()] == ' ' || r[type.size()] == '.')) ||
          r.rfind("message " + type + ".", 0) == 0) {
        *why = r;
        return Status::OK();
      }
    }
    std::vector<int32_t> idx;
    size_t used = 0;
    protobuf::ReadMessageIndexes(payload, info.encoding, &idx, &used);
    json.clear();
    if (!rd->MessageToJson(m, payload.substr(used), &json, why)) *why = "the reader cannot read it: " + *why;
    return Status::OK();
  });
}

// The schemas `e` references, by the names it uses for them (JSON Schema `$ref`s), with
// theirs in turn.
Status NamedReferences(SchemaRegistry* reg, const SchemaEntry& e, int depth,
                       std::vector<std::pair<std::string, std::string>>* out) {
  if (depth > 32) return Status::InvalidArgument("references nested more than 32 deep (a cycle?)");
  for (const SchemaReference& r : e.references) {
    if (!reg) return Status::InvalidArgument(fmt::format("reference \"{}\" needs --schemas to be found", r.name));
    auto dep = reg->BySubject(r.subject, r.version);
    if (!dep.ok()) return dep.status();
    if (!*dep)
      return Status::NotFound(
          fmt::format("reference \"{}\" (subject {} version {}) not found", r.name, r.subject, r.version));
    bool seen = false;
    for (const auto& [name, text] : *out) seen = seen || name == r.name;
    if (seen) continue;
    out->emplace_back(r.name, (*dep)->schema);
    EVT_RETURN_IF_ERROR(NamedReferences(reg, **dep, depth + 1, out));
  }
  return Status::OK();
}

// A JSON Schema reader: each value written with a JSON Schema is validated against it.
Result<RecordCheck> JsonCheck(const SchemaCheckOptions& opts) {
  std::vector<std::pair<std::string, std::string>> refs;
  EVT_RETURN_IF_ERROR(NamedReferences(opts.schemas.get(), opts.reader, 0, &refs));
  auto reader = jsonschema::Schema::Parse(opts.reader.schema, refs);
  if (!reader.ok()) return Status::InvalidArgument(fmt::format("the reader schema: {}", reader.status().message()));
  // Per writer id: OK for a JSON Schema, else why its values are not read or not checked.
  auto writers = std::make_shared<std::map<int32_t, Status>>();
  std::shared_ptr<const jsonschema::Schema> rd = *reader;
  SchemaRegistry* reg = opts.schemas.get();
  return RecordCheck([writers, rd, reg](int32_t id, std::string_view payload, std::string* why) -> Status {
    auto it = writers->find(id);
    if (it == writers->end()) it = writers->emplace(id, WriterEntry(reg, id, SchemaType::kJson).status()).first;
    if (it->second.code() == Code::kUnsupported) return it->second;
    if (!it->second.ok()) {
      *why = it->second.message();
      return Status::OK();
    }
    rd->Validate(payload, why);
    return Status::OK();
  });
}

}  // namespace

Status RunSchemaCheck(const SchemaCheckOptions& opts, WritableFile* out, Reporter* reporter,
                      SchemaCheckResult* result) {
  auto make_check = [&]() -> Result<RecordCheck> {
    if (opts.reader.type == SchemaType::kAvro) return AvroCheck(opts);
    if (opts.reader.type == SchemaType::kProtobuf) return ProtobufCheck(opts);
    if (opts.reader.type == SchemaType::kJson) return JsonCheck(opts);
    return Status::Unsupported(fmt::format("{}: evt schema check takes Avro, Protobuf or JSON Schema reader schemas (this one is {})",
                                           opts.reader.origin, SchemaTypeName(opts.reader.type)));
  };
  auto check = make_check();
  if (!check.ok()) return check.status();
  auto src = OpenSource(opts.source, reporter);
  if (!src.ok()) return src.status();
  RecordBatch batch;
  std::string line, why;
  Status s;
  for (bool eof = false; !eof;) {
    if (InterruptRequested()) return Status::Interrupted();
    batch.Clear();
    s = (*src)->Next(&batch, &eof);
    line.clear();
    for (const Record& r : batch.records) {
      if (r.control || r.value.null()) continue;
      confluent::Frame f;
      if (!confluent::ParseFrame(r.value.view(), &f)) {
        ++result->unframed;
        continue;
      }
      why.clear();
      Status cs = (*check)(f.schema_id, f.payload, &why);
      if (cs.code() == Code::kUnsupported) {
        ++result->other_type;
        continue;
      }
      WriterSummary& w = result->by_writer[f.schema_id];
      ++w.records;
      ++result->checked;
      if (why.empty()) continue;
      ++result->unreadable;
      if (w.unreadable++ == 0) {
        w.first_unreadable = r.offset;
        w.reason = why;
      }
      line.append("{\"topic\":");
      envelope::AppendJsonString(batch.topic, &line);
      fmt::format_to(std::back_inserter(line), ",\"partition\":{},\"offset\":{},\"timestamp\":{},\"schema_id\":{},\"reason\":",
                     r.partition >= 0 ? r.partition : batch.partition, r.offset, r.timestamp, f.schema_id);
      envelope::AppendJsonString(why, &line);
      line.append("}\n");
    }
    if (!line.empty()) EVT_RETURN_IF_ERROR(out->Append(line));
    if (!s.ok()) break;
  }
  return s;
}

namespace {

// A .proto schema file with its imports found beside it (and among the well-known types).
protobuf::SchemaText ProtobufText(const SchemaEntry& e) {
  protobuf::SchemaText t;
  t.text = e.schema;
  const size_t slash = e.origin.rfind('/');
  t.name = slash == std::string::npos ? e.origin : e.origin.substr(slash + 1);
  if (t.name.empty()) t.name = "schema.proto";
  if (!e.import_dir.empty()) {
    const std::string dir = e.import_dir;
    t.resolver = [dir](const std::string& name, std::string* text) {
      if (name.empty() || name[0] == '/' || name.find("..") != std::string::npos) return false;
      auto r = ReadFileToString(dir + "/" + name);
      if (!r.ok()) return false;
      *text = std::move(*r);
      return true;
    };
  }
  return t;
}

// Confluent's Protobuf rules (formats/protobuf/compat.h), with up to 10 reasons.
Status ProtobufCompat(const SchemaEntry& older, const SchemaEntry& newer, CompatMode mode) {
  auto check = [&](const SchemaEntry& writer, const SchemaEntry& reader, const char* what) -> Status {
    auto diffs = protobuf::Incompatibilities(ProtobufText(writer), ProtobufText(reader));
    if (!diffs.ok()) {
      const std::string& m = diffs.status().message();
      const bool first = m.rfind("original: ", 0) == 0;
      return Status::InvalidArgument(
          fmt::format("{}: {}", first ? writer.origin : reader.origin, m.substr(m.find(": ") + 2)));
    }
    if (diffs->empty()) return Status::OK();
    std::string reasons;
    for (size_t i = 0; i < diffs->size() && i < 10; ++i) reasons += (i ? "; " : "") + (*diffs)[i].reason;
    if (diffs->size() > 10) reasons += fmt::format("; and {} more", diffs->size() - 10);
    return Status::DataProblem(fmt::format("not {} compatible: {} cannot read data written with {}: {}", what,
                                           reader.origin, writer.origin, reasons));
  };
  if (mode == CompatMode::kBackward || mode == CompatMode::kFull) EVT_RETURN_IF_ERROR(check(older, newer, "backward"));
  if (mode == CompatMode::kForward || mode == CompatMode::kFull) EVT_RETURN_IF_ERROR(check(newer, older, "forward"));
  return Status::OK();
}

}  // namespace

Status CheckCompat(const SchemaEntry& older, const SchemaEntry& newer, CompatMode mode) {
  if (older.type == SchemaType::kProtobuf && newer.type == SchemaType::kProtobuf)
    return ProtobufCompat(older, newer, mode);
  if (older.type != newer.type)
    return Status::InvalidArgument(fmt::format("{} is {} and {} is {}: compat compares two schemas of one type",
                                               older.origin, SchemaTypeName(older.type), newer.origin,
                                               SchemaTypeName(newer.type)));
  if (older.type != SchemaType::kAvro || newer.type != SchemaType::kAvro)
    return Status::Unsupported("evt schema compat compares Avro or Protobuf schemas");
  auto o = avro::Schema::Parse(older.schema);
  if (!o.ok()) return Status::InvalidArgument(fmt::format("{}: {}", older.origin, o.status().message()));
  auto n = avro::Schema::Parse(newer.schema);
  if (!n.ok()) return Status::InvalidArgument(fmt::format("{}: {}", newer.origin, n.status().message()));
  if (mode == CompatMode::kBackward || mode == CompatMode::kFull) {
    Status s = avro::CheckResolution(**o, **n);
    if (!s.ok())
      return Status::DataProblem(fmt::format("not backward compatible: {} cannot read data written with {}: {}",
                                             newer.origin, older.origin, s.message()));
  }
  if (mode == CompatMode::kForward || mode == CompatMode::kFull) {
    Status s = avro::CheckResolution(**n, **o);
    if (!s.ok())
      return Status::DataProblem(fmt::format("not forward compatible: {} cannot read data written with {}: {}",
                                             older.origin, newer.origin, s.message()));
  }
  return Status::OK();
}

}  // namespace evt
