// `evt schema`: schema sources listed and shown, the schema ids that occur in a log, whether
// a reader schema can read every event of a log (check), and whether two schemas are
// compatible (compat).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/base/file.h"
#include "lib/pipeline/read.h"
#include "lib/pipeline/schemas.h"

namespace evt {

// ---- list / show ----
// One line per schema: JSON ({"id","type","subjects":[{"subject","version","deleted"}],
// "references":[...]}) or a table.
std::string SchemaListText(const std::vector<const SchemaEntry*>& entries, bool json);
// `what`: an id, SUBJECT (its latest version) or SUBJECT/VERSION. Null when not found.
Result<const SchemaEntry*> FindSchema(SchemaRegistry* reg, const std::string& what);
// The entry as JSON (registry style), or its schema text alone.
std::string SchemaShowText(const SchemaEntry& e, bool json);

// ---- ids ----
struct SchemaIdRow {
  int32_t partition = -1;
  bool key = false;  // a key's schema id (else the value's)
  int32_t schema_id = -1;
  uint64_t records = 0;
  int64_t first_offset = -1, last_offset = -1;
  int64_t first_timestamp = -1, last_timestamp = -1;
};
// The schema ids of the framed keys and values of `source`, per partition, in order of
// partition, key/value and id. Unframed records are counted in *unframed.
Status RunSchemaIds(const SourceSpec& source, Reporter* reporter, std::vector<SchemaIdRow>* rows, uint64_t* unframed);
std::string SchemaIdsText(const std::vector<SchemaIdRow>& rows, bool json);

// ---- check ----
struct SchemaCheckOptions {
  SourceSpec source;
  std::shared_ptr<SchemaRegistry> schemas;  // writer schemas, by the records' ids
  SchemaEntry reader;
};
struct WriterSummary {
  uint64_t records = 0;
  uint64_t unreadable = 0;
  int64_t first_unreadable = -1;  // offset
  std::string reason;             // of the first unreadable record
};
struct SchemaCheckResult {
  uint64_t checked = 0;     // framed values resolved against the reader
  uint64_t unreadable = 0;
  uint64_t unframed = 0;    // not in Confluent's framing: not checked
  uint64_t other_type = 0;  // written with a schema of another type: not checked
  std::map<int32_t, WriterSummary> by_writer;
};
// Writes one JSON line per record the reader cannot read ({"topic","partition","offset",
// "timestamp","schema_id","reason"}) to `out`.
Status RunSchemaCheck(const SchemaCheckOptions& opts, WritableFile* out, Reporter* reporter, SchemaCheckResult* result);

// ---- compat ----
enum class CompatMode { kBackward, kForward, kFull };
// OK when compatible; DataProblem with the reason when not; other errors for schemas that
// cannot be compared.
Status CheckCompat(const SchemaEntry& older, const SchemaEntry& newer, CompatMode mode);

}  // namespace evt
