// Schema sources (--schemas SRC): where the schemas of Confluent-framed records come from.
//
//  - a directory of `<id>.avsc` / `<id>.proto` / `<id>.json` files (a .proto's imports are
//    looked up beside it, then among the well-known types), and/or
//    `subjects/<subject>/<version>.json` files holding the registry's answer to
//    GET /subjects/<subject>/versions/<version> ({"subject","version","id","schema",...}),
//    or `subjects/<subject>/<version>.proto` / `.avsc` (schema text without an id: found by
//    subject and version, which is how references name them);
//  - the registry's own log, `_schemas`: a topic (kafka://HOST/_schemas) or its partition
//    directory in a broker data directory or a backup (a data directory holding
//    `_schemas-0` names it too), replayed in offset order with tombstones and `deleted`
//    honoured;
//  - a registry URL (http:// or https://): GET /schemas/ids/{id}, /subjects/... with the
//    credentials of `schema.registry.basic.auth.user.info` (from --config / -X; never
//    shown), each answer cached for the run.
// `SchemaRegistry` holds them in order (the first that knows an id wins) and compiles
// schemas once per id.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "formats/avro/avro.h"
#include "formats/protobuf/protobuf.h"
#include "lib/base/source.h"
#include "lib/kafka/client.h"

namespace evt {

enum class SchemaType { kAvro, kProtobuf, kJson };
// "AVRO", "PROTOBUF", "JSON" (the registry's schemaType).
const char* SchemaTypeName(SchemaType t);
bool ParseSchemaType(std::string_view s, SchemaType* t);

struct SchemaReference {
  std::string name;  // the name the schema uses (an Avro type name, an import path)
  std::string subject;
  int32_t version = -1;
};

struct SubjectVersion {
  std::string subject;
  int32_t version = -1;
  bool deleted = false;  // soft-deleted: still readable by id, not the subject's latest
};

struct SchemaEntry {
  int32_t id = -1;
  SchemaType type = SchemaType::kAvro;
  std::string schema;  // the schema text
  std::vector<SchemaReference> references;
  std::vector<SubjectVersion> subjects;  // where it is registered (when the source says)
  std::string origin;                    // a file, a log position or a URL path, for messages
  std::string import_dir;  // a schema file's directory: where a .proto's other imports are
};

class SchemaStore {
 public:
  virtual ~SchemaStore() = default;
  virtual std::string Describe() const = 0;
  // The schema with this id, or null when this store does not have it.
  virtual Result<const SchemaEntry*> ById(int32_t id) = 0;
  // A subject's version (-1: its latest not deleted), or null.
  virtual Result<const SchemaEntry*> BySubject(const std::string& subject, int32_t version) = 0;
  // Every schema the store holds, by id.
  virtual Status All(std::vector<const SchemaEntry*>* out) = 0;
};

struct SchemaSourceOptions {
  // For a `_schemas` topic, and the HTTP settings: `schema.registry.*` properties
  // (SplitRegistryProperties) and the timeout of each request.
  kafka::KafkaConfig kafka;
  std::vector<std::pair<std::string, std::string>> registry_props;
};

// Moves the `schema.registry.*` properties out of `cfg` (librdkafka would refuse them).
std::vector<std::pair<std::string, std::string>> SplitRegistryProperties(kafka::KafkaConfig* cfg);

// Opens one schema source by the rules above.
Result<std::unique_ptr<SchemaStore>> OpenSchemaStore(const std::string& src, const SchemaSourceOptions& opts,
                                                     Reporter* reporter);

// Reads a schema file (--schema, --reader, evt schema compat): its type from the extension
// (.avsc, .proto, .json), or a registry answer ({"schema": ...}) in a .json file that has one.
Result<SchemaEntry> ReadSchemaFile(const std::string& path);

// Compiles a Protobuf entry with its imports: `imports` (a registry's references, by import
// name), then files in e.import_dir, then the well-known types.
Result<std::shared_ptr<const protobuf::Schema>> CompileProtobuf(const SchemaEntry& e,
                                                                const std::vector<protobuf::ImportFile>& imports = {});

// Thread-safe: evt filter's workers decode side by side (one lock around lookups and the
// compiled-schema cache; compiled schemas are immutable and shared).
class SchemaRegistry {
 public:
  void Add(std::unique_ptr<SchemaStore> store) { stores_.push_back(std::move(store)); }
  bool empty() const { return stores_.empty(); }
  std::string Describe() const;
  // The first store's answer; null when none knows the id.
  Result<const SchemaEntry*> ById(int32_t id);
  Result<const SchemaEntry*> BySubject(const std::string& subject, int32_t version);
  // The texts of the schemas `e` references, dependencies first (Avro named types).
  Result<std::vector<std::string>> ReferencedSchemas(const SchemaEntry& e);
  // The compiled Avro schema of id (cached, also when it failed).
  Result<std::shared_ptr<const avro::Schema>> AvroById(int32_t id);
  // The files a Protobuf schema's references name, with their own references (each
  // reference's `name` is what the schema imports; the text is its subject version's).
  Result<std::vector<protobuf::ImportFile>> ProtobufImports(const SchemaEntry& e);
  // The compiled Protobuf schema of id, with its references (cached, also when it failed).
  Result<std::shared_ptr<const protobuf::Schema>> ProtobufById(int32_t id);
  const std::vector<std::unique_ptr<SchemaStore>>& stores() const { return stores_; }

 private:
  // ById, with NotFound for an unknown id and InvalidArgument for a schema of another type.
  Result<const SchemaEntry*> ByIdOfType(int32_t id, SchemaType want, const char* name);
  Status CollectReferences(const SchemaEntry& e, int depth, std::vector<std::string>* out);
  Status CollectImports(const SchemaEntry& e, int depth, std::vector<protobuf::ImportFile>* out);
  std::vector<std::unique_ptr<SchemaStore>> stores_;
  std::recursive_mutex mu_;  // ById, BySubject, ReferencedSchemas and AvroById call each other
  std::map<int32_t, Result<std::shared_ptr<const avro::Schema>>> avro_;
  std::map<int32_t, Result<std::shared_ptr<const protobuf::Schema>>> protobuf_;
};

// Opens every --schemas source in order.
Result<std::shared_ptr<SchemaRegistry>> OpenSchemaRegistry(const std::vector<std::string>& srcs,
                                                           const SchemaSourceOptions& opts, Reporter* reporter);

}  // namespace evt
