#include "lib/pipeline/schemas.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <cstdlib>
#include <mutex>
#include <set>

#include "lib/base/file.h"
#include "lib/pipeline/read.h"

namespace evt {

const char* SchemaTypeName(SchemaType t) {
  switch (t) {
    case SchemaType::kAvro: return "AVRO";
    case SchemaType::kProtobuf: return "PROTOBUF";
    case SchemaType::kJson: return "JSON";
  }
  return "?";
}

bool ParseSchemaType(std::string_view s, SchemaType* t) {
  if (s == "AVRO" || s.empty()) *t = SchemaType::kAvro;
  else if (s == "PROTOBUF") *t = SchemaType::kProtobuf;
  else if (s == "JSON") *t = SchemaType::kJson;
  else return false;
  return true;
}

namespace {

constexpr std::string_view kRegistryPrefix = "schema.registry.";

// The fields of a registry answer or a `_schemas` value: {"subject","version","id",
// "schemaType","schema","references","deleted"} (each optional here; callers check).
struct RegistryObject {
  SchemaEntry entry;
  std::string subject;
  int32_t version = -1;
  bool deleted = false;
  bool has_schema = false;
};

Status ParseRegistryObject(std::string_view json, RegistryObject* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e) != simdjson::SUCCESS || !e.is_object())
    return Status::Corruption("not a JSON object");
  simdjson::dom::object o = e.get_object().value();
  std::string_view sv;
  int64_t n;
  bool b;
  if (o["schema"].get_string().get(sv) == simdjson::SUCCESS) {
    out->entry.schema = std::string(sv);
    out->has_schema = true;
  }
  if (o["schemaType"].get_string().get(sv) == simdjson::SUCCESS && !ParseSchemaType(sv, &out->entry.type))
    return Status::Corruption(fmt::format("unknown schemaType \"{}\"", sv));
  if (o["id"].get_int64().get(n) == simdjson::SUCCESS) out->entry.id = static_cast<int32_t>(n);
  if (o["subject"].get_string().get(sv) == simdjson::SUCCESS) out->subject = std::string(sv);
  if (o["version"].get_int64().get(n) == simdjson::SUCCESS) out->version = static_cast<int32_t>(n);
  if (o["deleted"].get_bool().get(b) == simdjson::SUCCESS) out->deleted = b;
  simdjson::dom::array refs;
  if (o["references"].get_array().get(refs) == simdjson::SUCCESS) {
    for (simdjson::dom::element r : refs) {
      SchemaReference ref;
      if (r["name"].get_string().get(sv) == simdjson::SUCCESS) ref.name = std::string(sv);
      if (r["subject"].get_string().get(sv) == simdjson::SUCCESS) ref.subject = std::string(sv);
      if (r["version"].get_int64().get(n) == simdjson::SUCCESS) ref.version = static_cast<int32_t>(n);
      out->entry.references.push_back(std::move(ref));
    }
  }
  return Status::OK();
}

// Schemas held in memory: a directory's files, a replayed `_schemas` log.
class MemoryStore : public SchemaStore {
 public:
  explicit MemoryStore(std::string describe) : describe_(std::move(describe)) {}
  std::string Describe() const override { return describe_; }
  Result<const SchemaEntry*> ById(int32_t id) override {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &it->second;
  }
  Result<const SchemaEntry*> BySubject(const std::string& subject, int32_t version) override {
    auto lo = versions_.lower_bound({subject, INT32_MIN});
    const Version* found = nullptr;
    for (auto it = lo; it != versions_.end() && it->first.first == subject; ++it) {
      if (version >= 0 ? it->first.second == version : !it->second.deleted) found = &it->second;
    }
    if (!found) {
      // subjects/<subject>/<version>.proto|.avsc: text without an id (the highest version
      // for -1).
      const SchemaEntry* text = nullptr;
      for (auto it = unnumbered_.lower_bound({subject, INT32_MIN}); it != unnumbered_.end() && it->first.first == subject;
           ++it)
        if (version < 0 || it->first.second == version) text = &it->second;
      return text;
    }
    return ById(found->id);
  }
  Status All(std::vector<const SchemaEntry*>* out) override {
    Rebuild();
    for (const auto& [id, e] : by_id_) out->push_back(&e);
    return Status::OK();
  }

  // Registers `e` (with an id) under subject/version when given.
  void Put(SchemaEntry e, const std::string& subject, int32_t version, bool deleted) {
    int32_t id = e.id;
    auto [it, fresh] = by_id_.try_emplace(id, std::move(e));
    if (!fresh && it->second.schema.empty()) it->second = std::move(e);
    if (!subject.empty()) versions_[{subject, version}] = Version{id, deleted};
  }
  // A subject version known by its text alone (no id).
  void PutText(SchemaEntry e, const std::string& subject, int32_t version) {
    unnumbered_[{subject, version}] = std::move(e);
  }
  // A tombstone: the version is gone (its id stays readable while another version uses it).
  void Remove(const std::string& subject, int32_t version) { versions_.erase({subject, version}); }
  // DELETE_SUBJECT: every version up to `version` is soft-deleted.
  void DeleteSubject(const std::string& subject, int32_t upto) {
    for (auto it = versions_.lower_bound({subject, INT32_MIN}); it != versions_.end() && it->first.first == subject;
         ++it)
      if (it->first.second <= upto) it->second.deleted = true;
  }
  // Ids no subject version refers to any more (all hard-deleted) are dropped.
  void DropUnreferenced() {
    std::set<int32_t> live;
    for (const auto& [k, v] : versions_) live.insert(v.id);
    for (auto it = by_id_.begin(); it != by_id_.end();)
      it = live.count(it->first) ? std::next(it) : by_id_.erase(it);
  }
  // Fills each entry's `subjects` from the versions.
  void Rebuild() {
    for (auto& [id, e] : by_id_) e.subjects.clear();
    for (const auto& [k, v] : versions_) {
      auto it = by_id_.find(v.id);
      if (it != by_id_.end()) it->second.subjects.push_back(SubjectVersion{k.first, k.second, v.deleted});
    }
  }
  size_t size() const { return by_id_.size() + unnumbered_.size(); }

 private:
  struct Version {
    int32_t id = -1;
    bool deleted = false;
  };
  std::string describe_;
  std::map<int32_t, SchemaEntry> by_id_;
  std::map<std::pair<std::string, int32_t>, Version> versions_;
  std::map<std::pair<std::string, int32_t>, SchemaEntry> unnumbered_;
};

bool TypeOfExtension(std::string_view name, SchemaType* t, std::string_view* stem) {
  static const std::pair<const char*, SchemaType> kExt[] = {
      {".avsc", SchemaType::kAvro}, {".proto", SchemaType::kProtobuf}, {".json", SchemaType::kJson}};
  for (const auto& [ext, ty] : kExt) {
    std::string_view e(ext);
    if (name.size() > e.size() && name.substr(name.size() - e.size()) == e) {
      *t = ty;
      *stem = name.substr(0, name.size() - e.size());
      return true;
    }
  }
  return false;
}

bool ParseId(std::string_view s, int32_t* id) {
  if (s.empty() || s.size() > 10) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > INT32_MAX) return false;
  *id = static_cast<int32_t>(v);
  return true;
}

bool LooksLikeSchemaDir(const std::string& dir) {
  if (IsDirectory(dir + "/subjects")) return true;
  auto entries = ListDir(dir);
  if (!entries.ok()) return false;
  for (const DirEntry& d : *entries) {
    SchemaType t;
    std::string_view stem;
    int32_t id;
    if (d.is_file && TypeOfExtension(d.name, &t, &stem) && ParseId(stem, &id)) return true;
  }
  return false;
}

Result<std::unique_ptr<SchemaStore>> OpenDirStore(const std::string& dir) {
  auto store = std::make_unique<MemoryStore>(dir);
  auto entries = ListDir(dir);
  if (!entries.ok()) return entries.status();
  for (const DirEntry& d : *entries) {
    SchemaType t;
    std::string_view stem;
    int32_t id;
    if (!d.is_file || !TypeOfExtension(d.name, &t, &stem) || !ParseId(stem, &id)) continue;
    auto text = ReadFileToString(dir + "/" + d.name);
    if (!text.ok()) return text.status();
    SchemaEntry e;
    e.id = id;
    e.type = t;
    e.schema = std::move(*text);
    e.origin = dir + "/" + d.name;
    e.import_dir = dir;
    store->Put(std::move(e), "", -1, false);
  }
  const std::string subjects = dir + "/subjects";
  if (IsDirectory(subjects)) {
    auto subs = ListDir(subjects);
    if (!subs.ok()) return subs.status();
    for (const DirEntry& s : *subs) {
      if (!s.is_dir) continue;
      auto versions = ListDir(subjects + "/" + s.name);
      if (!versions.ok()) return versions.status();
      for (const DirEntry& v : *versions) {
        SchemaType t;
        std::string_view stem;
        int32_t version;
        if (!v.is_file || !TypeOfExtension(v.name, &t, &stem) || !ParseId(stem, &version)) continue;
        const std::string path = subjects + "/" + s.name + "/" + v.name;
        auto text = ReadFileToString(path);
        if (!text.ok()) return text.status();
        if (t != SchemaType::kJson) {  // schema text: reachable by subject and version only
          SchemaEntry e;
          e.type = t;
          e.schema = std::move(*text);
          e.origin = path;
          e.import_dir = subjects + "/" + s.name;
          store->PutText(std::move(e), s.name, version);
          continue;
        }
        RegistryObject ro;
        Status ps = ParseRegistryObject(*text, &ro);
        if (ps.ok() && (!ro.has_schema || ro.entry.id < 0))
          ps = Status::Corruption("needs \"id\" and \"schema\" (the registry's answer for a subject version)");
        if (!ps.ok()) return Status::InvalidArgument(fmt::format("{}: {}", path, ps.message()));
        ro.entry.origin = path;
        store->Put(std::move(ro.entry), s.name, version, ro.deleted);
      }
    }
  }
  if (store->size() == 0)
    return Status::InvalidArgument(fmt::format("--schemas {}: no <id>.avsc/.proto/.json files and no subjects/", dir));
  return std::unique_ptr<SchemaStore>(std::move(store));
}

// The `_schemas` log: keys {"keytype":"SCHEMA"|"DELETE_SUBJECT"|"CONFIG"|"NOOP",
// "subject","version","magic"}, values the registered schema, null for a hard delete.
Result<std::unique_ptr<SchemaStore>> OpenLogStore(const std::string& src, const SchemaSourceOptions& opts,
                                                  Reporter* reporter) {
  SourceSpec spec;
  spec.paths = {src};
  if (IsDirectory(src) && IsDirectory(src + "/_schemas-0")) spec.paths = {src + "/_schemas-0"};
  spec.kafka = opts.kafka;
  spec.merge_time = false;
  auto source = OpenSource(spec, reporter);
  if (!source.ok()) return source.status().WithContext("--schemas " + src);
  auto store = std::make_unique<MemoryStore>(spec.paths[0]);
  RecordBatch batch;
  simdjson::dom::parser parser;
  for (bool eof = false; !eof;) {
    batch.Clear();
    Status s = (*source)->Next(&batch, &eof);
    for (const Record& r : batch.records) {
      if (r.control || r.key.null()) continue;
      simdjson::dom::element k;
      if (parser.parse(r.key.data, r.key.size).get(k) != simdjson::SUCCESS || !k.is_object()) continue;
      std::string_view keytype, subject;
      int64_t version = -1;
      if (k["keytype"].get_string().get(keytype) != simdjson::SUCCESS) continue;
      if (k["subject"].get_string().get(subject) != simdjson::SUCCESS) continue;
      if (k["version"].get_int64().get(version) != simdjson::SUCCESS) version = -1;
      std::string subj(subject);
      const auto v32 = static_cast<int32_t>(version);
      if (keytype == "SCHEMA") {
        if (r.value.null()) {
          store->Remove(subj, v32);
          continue;
        }
        RegistryObject ro;
        if (!ParseRegistryObject(r.value.view(), &ro).ok() || !ro.has_schema || ro.entry.id < 0) {
          if (reporter)
            reporter->Warning(batch.file.empty() ? src : batch.file, r.source_pos,
                              fmt::format("offset {}: a SCHEMA record whose value is not a registered schema", r.offset));
          continue;
        }
        ro.entry.origin = fmt::format("{}@{}", src, r.offset);
        store->Put(std::move(ro.entry), subj, v32, ro.deleted);
      } else if (keytype == "DELETE_SUBJECT" && !r.value.null()) {
        RegistryObject ro;
        if (ParseRegistryObject(r.value.view(), &ro).ok()) store->DeleteSubject(subj, ro.version);
      }
    }
    if (!s.ok()) return s.WithContext("--schemas " + src);
  }
  store->DropUnreferenced();
  store->Rebuild();
  return std::unique_ptr<SchemaStore>(std::move(store));
}

// ---- The registry's REST API ----

size_t CollectBody(char* p, size_t size, size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (s->size() + size * n > (64u << 20)) return 0;  // an answer over 64 MiB is not a schema
  s->append(p, size * n);
  return size * n;
}

std::string UrlEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else fmt::format_to(std::back_inserter(out), "%{:02X}", c);
  }
  return out;
}

class UrlStore : public SchemaStore {
 public:
  static Result<std::unique_ptr<SchemaStore>> Open(const std::string& url, const SchemaSourceOptions& opts) {
    size_t scheme_end = url.find("://");
    size_t host_end = url.find('/', scheme_end + 3);
    std::string authority = url.substr(scheme_end + 3, host_end == std::string::npos ? std::string::npos
                                                                                      : host_end - scheme_end - 3);
    if (authority.find('@') != std::string::npos)
      return Status::InvalidArgument(
          "--schemas: a registry URL takes no credentials; give them as -X "
          "schema.registry.basic.auth.user.info=USER:PASSWORD (or in a --config file)");
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    auto store = std::unique_ptr<UrlStore>(new UrlStore());
    store->base_ = url;
    while (!store->base_.empty() && store->base_.back() == '/') store->base_.pop_back();
    store->timeout_ms_ = opts.kafka.timeout_ms;
    for (const auto& [k, v] : opts.registry_props) {
      if (k == "schema.registry.basic.auth.user.info") store->userpwd_ = v;
      else if (k == "schema.registry.ssl.ca.location") store->ca_ = v;
      else if (k == "schema.registry.bearer.auth.token") store->bearer_ = v;
      else return Status::InvalidArgument(fmt::format("-X {}: not a schema registry setting evt knows (basic.auth.user.info, "
                                                      "bearer.auth.token, ssl.ca.location)", k));
    }
    store->curl_ = curl_easy_init();
    if (!store->curl_) return Status::IOError("curl_easy_init failed");
    return std::unique_ptr<SchemaStore>(std::move(store));
  }
  ~UrlStore() override {
    if (curl_) curl_easy_cleanup(curl_);
    if (headers_) curl_slist_free_all(headers_);
  }
  std::string Describe() const override { return base_; }

  Result<const SchemaEntry*> ById(int32_t id) override {
    if (auto it = by_id_.find(id); it != by_id_.end()) return it->second ? &*it->second : nullptr;
    std::string body;
    auto found = Get(fmt::format("/schemas/ids/{}", id), &body);
    if (!found.ok()) return found.status();
    if (!*found) {
      by_id_[id] = std::nullopt;
      return nullptr;
    }
    RegistryObject ro;
    Status s = ParseRegistryObject(body, &ro);
    if (s.ok() && !ro.has_schema) s = Status::Corruption("no \"schema\" in the answer");
    if (!s.ok()) return Status::Corruption(fmt::format("{}/schemas/ids/{}: {}", base_, id, s.message()));
    ro.entry.id = id;
    ro.entry.origin = fmt::format("{}/schemas/ids/{}", base_, id);
    return &*(by_id_[id] = std::move(ro.entry));
  }

  Result<const SchemaEntry*> BySubject(const std::string& subject, int32_t version) override {
    const std::string path = fmt::format("/subjects/{}/versions/{}", UrlEscape(subject),
                                         version < 0 ? std::string("latest") : std::to_string(version));
    std::string body;
    auto found = Get(path, &body);
    if (!found.ok()) return found.status();
    if (!*found) return nullptr;
    RegistryObject ro;
    Status s = ParseRegistryObject(body, &ro);
    if (s.ok() && (!ro.has_schema || ro.entry.id < 0)) s = Status::Corruption("needs \"id\" and \"schema\"");
    if (!s.ok()) return Status::Corruption(fmt::format("{}{}: {}", base_, path, s.message()));
    auto it = by_id_.find(ro.entry.id);
    if (it == by_id_.end() || !it->second) {
      ro.entry.origin = base_ + path;
      it = by_id_.insert_or_assign(ro.entry.id, std::move(ro.entry)).first;
    }
    return &*it->second;
  }

  // GET /subjects, then each subject's versions.
  Status All(std::vector<const SchemaEntry*>* out) override {
    std::string body;
    auto found = Get("/subjects", &body);
    if (!found.ok()) return found.status();
    if (!*found) return Status::NotFound(base_ + "/subjects: not found");
    std::vector<std::string> subjects;
    EVT_RETURN_IF_ERROR(StringArray(body, "/subjects", &subjects));
    for (const std::string& subject : subjects) {
      const std::string path = fmt::format("/subjects/{}/versions", UrlEscape(subject));
      found = Get(path, &body);
      if (!found.ok()) return found.status();
      if (!*found) continue;
      simdjson::dom::parser parser;
      simdjson::dom::array versions;
      if (parser.parse(body).get_array().get(versions) != simdjson::SUCCESS)
        return Status::Corruption(base_ + path + ": not a JSON array");
      for (simdjson::dom::element v : versions) {
        int64_t n;
        if (v.get_int64().get(n) != simdjson::SUCCESS) continue;
        auto e = BySubject(subject, static_cast<int32_t>(n));
        if (!e.ok()) return e.status();
        if (*e) {
          auto* m = const_cast<SchemaEntry*>(*e);
          bool seen = false;
          for (const auto& sv : m->subjects) seen |= sv.subject == subject && sv.version == n;
          if (!seen) m->subjects.push_back(SubjectVersion{subject, static_cast<int32_t>(n), false});
        }
      }
    }
    for (const auto& [id, e] : by_id_)
      if (e) out->push_back(&*e);
    return Status::OK();
  }

 private:
  UrlStore() = default;

  Status StringArray(const std::string& body, const std::string& path, std::vector<std::string>* out) {
    simdjson::dom::parser parser;
    simdjson::dom::array arr;
    if (parser.parse(body).get_array().get(arr) != simdjson::SUCCESS)
      return Status::Corruption(base_ + path + ": not a JSON array");
    for (simdjson::dom::element e : arr) {
      std::string_view s;
      if (e.get_string().get(s) == simdjson::SUCCESS) out->emplace_back(s);
    }
    return Status::OK();
  }

  // GET base+path: true with the body on 200, false on 404, an error otherwise. Messages
  // name the URL without credentials (the URL never holds any).
  Result<bool> Get(const std::string& path, std::string* body) {
    body->clear();
    const std::string url = base_ + path;
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl_, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms_));
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, body);
    if (!headers_) {
      headers_ = curl_slist_append(headers_, "Accept: application/vnd.schemaregistry.v1+json, application/json");
      if (!bearer_.empty()) headers_ = curl_slist_append(headers_, ("Authorization: Bearer " + bearer_).c_str());
    }
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    if (!userpwd_.empty()) {
      curl_easy_setopt(curl_, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(curl_, CURLOPT_USERPWD, userpwd_.c_str());
    }
    if (!ca_.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, ca_.c_str());
    CURLcode rc = curl_easy_perform(curl_);
    if (rc != CURLE_OK) return Status::IOError(fmt::format("{}: {}", url, curl_easy_strerror(rc)));
    long code = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &code);
    if (code == 200) return true;
    if (code == 404) return false;
    std::string why;
    simdjson::dom::parser parser;
    std::string_view msg;
    if (parser.parse(*body)["message"].get_string().get(msg) == simdjson::SUCCESS) why = ": " + std::string(msg);
    if (code == 401 || code == 403)
      return Status::IOError(fmt::format("{}: HTTP {} (check schema.registry.basic.auth.user.info){}", url, code, why));
    return Status::IOError(fmt::format("{}: HTTP {}{}", url, code, why));
  }

  std::string base_;
  int64_t timeout_ms_ = 30000;
  std::string userpwd_, ca_, bearer_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::map<int32_t, std::optional<SchemaEntry>> by_id_;
};

}  // namespace

std::vector<std::pair<std::string, std::string>> SplitRegistryProperties(kafka::KafkaConfig* cfg) {
  std::vector<std::pair<std::string, std::string>> out;
  auto& props = cfg->props;
  for (auto it = props.begin(); it != props.end();) {
    if (it->first.compare(0, kRegistryPrefix.size(), kRegistryPrefix) == 0) {
      out.push_back(std::move(*it));
      it = props.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

Result<std::unique_ptr<SchemaStore>> OpenSchemaStore(const std::string& src, const SchemaSourceOptions& opts,
                                                     Reporter* reporter) {
  if (src.rfind("http://", 0) == 0 || src.rfind("https://", 0) == 0) return UrlStore::Open(src, opts);
  if (src.rfind("kafka://", 0) == 0) return OpenLogStore(src, opts, reporter);
  if (!PathExists(src)) return Status::NotFound(fmt::format("--schemas {}: no such file or directory", src));
  if (IsDirectory(src) && LooksLikeSchemaDir(src)) return OpenDirStore(src);
  return OpenLogStore(src, opts, reporter);
}

Result<SchemaEntry> ReadSchemaFile(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  SchemaEntry e;
  e.origin = path;
  std::string_view stem;
  if (!TypeOfExtension(path, &e.type, &stem))
    return Status::InvalidArgument(fmt::format("{}: a schema file ends in .avsc, .proto or .json", path));
  if (e.type == SchemaType::kJson) {
    RegistryObject ro;
    if (ParseRegistryObject(*text, &ro).ok() && ro.has_schema) {
      ro.entry.origin = path;
      return ro.entry;
    }
  }
  e.schema = std::move(*text);
  const size_t slash = path.rfind('/');
  e.import_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  return e;
}

Result<std::shared_ptr<const protobuf::Schema>> CompileProtobuf(const SchemaEntry& e,
                                                                const std::vector<protobuf::ImportFile>& imports) {
  protobuf::ImportResolver beside;
  if (!e.import_dir.empty()) {
    const std::string dir = e.import_dir;
    beside = [dir](const std::string& name, std::string* text) {
      // Relative names below the directory only.
      if (name.empty() || name[0] == '/' || name.find("..") != std::string::npos) return false;
      auto t = ReadFileToString(dir + "/" + name);
      if (!t.ok()) return false;
      *text = std::move(*t);
      return true;
    };
  }
  std::string name = e.origin;
  if (const size_t slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  if (name.size() <= 6 || name.compare(name.size() - 6, 6, ".proto") != 0) name = fmt::format("schema-{}.proto", e.id);
  return protobuf::Schema::Parse(e.schema, name, imports, beside);
}

std::string SchemaRegistry::Describe() const {
  std::string out;
  for (const auto& s : stores_) out += (out.empty() ? "" : ", ") + s->Describe();
  return out;
}

Result<const SchemaEntry*> SchemaRegistry::ById(int32_t id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  for (auto& s : stores_) {
    auto e = s->ById(id);
    if (!e.ok() || *e) return e;
  }
  return nullptr;
}

Result<const SchemaEntry*> SchemaRegistry::BySubject(const std::string& subject, int32_t version) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  for (auto& s : stores_) {
    auto e = s->BySubject(subject, version);
    if (!e.ok() || *e) return e;
  }
  return nullptr;
}

Status SchemaRegistry::CollectReferences(const SchemaEntry& e, int depth, std::vector<std::string>* out) {
  if (depth > 32) return Status::InvalidArgument("references nested more than 32 deep (a cycle?)");
  for (const SchemaReference& r : e.references) {
    auto dep = BySubject(r.subject, r.version);
    if (!dep.ok()) return dep.status();
    if (!*dep)
      return Status::NotFound(
          fmt::format("reference \"{}\" (subject {} version {}) not found", r.name, r.subject, r.version));
    EVT_RETURN_IF_ERROR(CollectReferences(**dep, depth + 1, out));
    out->push_back((*dep)->schema);
  }
  return Status::OK();
}

Result<std::vector<std::string>> SchemaRegistry::ReferencedSchemas(const SchemaEntry& e) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<std::string> out;
  EVT_RETURN_IF_ERROR(CollectReferences(e, 0, &out));
  // A schema referenced twice (diamond) is compiled once.
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (auto& s : out)
    if (seen.insert(s).second) unique.push_back(std::move(s));
  return unique;
}

Result<const SchemaEntry*> SchemaRegistry::ByIdOfType(int32_t id, SchemaType want, const char* name) {
  auto e = ById(id);
  if (!e.ok()) return e.status();
  if (!*e) return Status::NotFound(fmt::format("schema id {} not found in {}", id, Describe()));
  if ((*e)->type != want)
    return Status::InvalidArgument(fmt::format("schema id {} is {}, not {}", id, SchemaTypeName((*e)->type), name));
  return *e;
}

Result<std::shared_ptr<const avro::Schema>> SchemaRegistry::AvroById(int32_t id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (auto it = avro_.find(id); it != avro_.end()) return it->second;
  auto compile = [&]() -> Result<std::shared_ptr<const avro::Schema>> {
    auto e = ByIdOfType(id, SchemaType::kAvro, "Avro");
    if (!e.ok()) return e.status();
    auto refs = ReferencedSchemas(**e);
    if (!refs.ok()) return refs.status().WithContext(fmt::format("schema id {}", id));
    auto s = avro::Schema::Parse((*e)->schema, *refs);
    if (!s.ok()) return Status::InvalidArgument(fmt::format("schema id {}: {}", id, s.status().message()));
    return s;
  };
  // Failures are remembered too: a registry that cannot be reached is asked once per id,
  // not once per record.
  return avro_.insert_or_assign(id, compile()).first->second;
}

Status SchemaRegistry::CollectImports(const SchemaEntry& e, int depth, std::vector<protobuf::ImportFile>* out) {
  if (depth > 32) return Status::InvalidArgument("references nested more than 32 deep (a cycle?)");
  for (const SchemaReference& r : e.references) {
    bool seen = false;
    for (const auto& f : *out) seen |= f.name == r.name;
    if (seen) continue;
    auto dep = BySubject(r.subject, r.version);
    if (!dep.ok()) return dep.status();
    if (!*dep)
      return Status::NotFound(
          fmt::format("reference \"{}\" (subject {} version {}) not found", r.name, r.subject, r.version));
    out->push_back(protobuf::ImportFile{r.name, (*dep)->schema});
    EVT_RETURN_IF_ERROR(CollectImports(**dep, depth + 1, out));
  }
  return Status::OK();
}

Result<std::vector<protobuf::ImportFile>> SchemaRegistry::ProtobufImports(const SchemaEntry& e) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<protobuf::ImportFile> out;
  EVT_RETURN_IF_ERROR(CollectImports(e, 0, &out));
  return out;
}

Result<std::shared_ptr<const protobuf::Schema>> SchemaRegistry::ProtobufById(int32_t id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (auto it = protobuf_.find(id); it != protobuf_.end()) return it->second;
  auto compile = [&]() -> Result<std::shared_ptr<const protobuf::Schema>> {
    auto e = ByIdOfType(id, SchemaType::kProtobuf, "Protobuf");
    if (!e.ok()) return e.status();
    auto imports = ProtobufImports(**e);
    if (!imports.ok()) return imports.status().WithContext(fmt::format("schema id {}", id));
    auto s = CompileProtobuf(**e, *imports);
    if (!s.ok()) return Status::InvalidArgument(fmt::format("schema id {}: {}", id, s.status().message()));
    return s;
  };
  return protobuf_.insert_or_assign(id, compile()).first->second;
}

Result<std::shared_ptr<SchemaRegistry>> OpenSchemaRegistry(const std::vector<std::string>& srcs,
                                                           const SchemaSourceOptions& opts, Reporter* reporter) {
  auto reg = std::make_shared<SchemaRegistry>();
  for (const std::string& s : srcs) {
    auto store = OpenSchemaStore(s, opts, reporter);
    if (!store.ok()) return store.status();
    reg->Add(std::move(*store));
  }
  return reg;
}

}  // namespace evt
