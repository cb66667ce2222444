// A small table-driven reader of Kafka's message-schema primitives (the JSON message
// definitions under Kafka's `common/message/`): a message is described once as a table of
// fields with the versions they exist in, and one reader decodes any version of it into a
// tree of nodes that point into the input. Both internal-topic decoders (offsets.h) use it.
// The spec in prose is README.md beside this file.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace evt::kafka_internal {

constexpr int16_t kMaxVersion = 0x7fff;

// A range of versions, as a schema's "0+", "1", "3+" or "none".
struct Versions {
  int16_t lo = 1;
  int16_t hi = 0;  // lo > hi: no version
  constexpr bool Has(int16_t v) const { return v >= lo && v <= hi; }
};
constexpr Versions kNoVersions{1, 0};
constexpr Versions From(int16_t v) { return Versions{v, kMaxVersion}; }  // "v+"
constexpr Versions Only(int16_t v) { return Versions{v, v}; }            // "v"
constexpr Versions Between(int16_t lo, int16_t hi) { return Versions{lo, hi}; }

// The field types the internal topics use. In flexible versions strings, bytes and arrays
// take their compact forms (unsigned varint length + 1, 0 = null).
enum class Type : uint8_t {
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kString,       // int16 length (-1 null) / compact
  kBytes,        // int32 length (-1 null) / compact
  kInt32Array,   // []int32
  kStringArray,  // []string
  kStructArray,  // []Struct (Field::elem)
};

// How a value is shown beyond its type.
enum class Show : uint8_t {
  kPlain,
  kTransactionState,  // int8 TransactionState id, shown by name ("Ongoing")
};

struct Schema;
struct Struct;

struct Field {
  const char* name;        // the name in evt's JSON (snake_case)
  const char* kafka_name;  // the name in Kafka's schema file
  Type type;
  Versions versions;                 // versions it is a regular field in
  Versions nullable = kNoVersions;   // versions it may be null in
  Versions tagged = kNoVersions;     // versions it is a tagged field in
  int32_t tag = -1;
  const Struct* elem = nullptr;      // kStructArray: the element
  const Schema* embedded = nullptr;  // kBytes that may hold this message (int16 version first)
  Show show = Show::kPlain;
};

struct Struct {
  const char* name;
  std::span<const Field> fields;
};

// A message: its valid and flexible versions and its top-level struct.
struct Schema {
  const char* name;
  Versions valid;
  Versions flexible;
  const Struct* root;
};

// A decoded value. Strings and bytes are views into the decoded input.
struct Node {
  enum class Kind : uint8_t { kNull, kInt, kString, kBytes, kArray, kStruct, kUnknownTag };
  Kind kind = Kind::kNull;
  const Field* field = nullptr;  // null for array elements, the root and unknown tags
  int64_t i = 0;                 // kInt; kUnknownTag: the tag
  std::string_view s;            // kString, kBytes, kUnknownTag: the bytes
  std::vector<Node> children;    // kArray: elements; kStruct: fields in read order
  // kBytes whose field has an embedded schema and that DecodeEmbedded decoded: children[0]
  // is the message (a kStruct), `embedded_version` its version.
  bool embedded_ok = false;
  int16_t embedded_version = -1;

  // Struct fields by JSON name; null when absent (not in this version, or a tagged field
  // that was not written).
  const Node* Find(std::string_view name) const;
  int64_t IntOr(std::string_view name, int64_t def) const;
  std::string_view StrOr(std::string_view name, std::string_view def = {}) const;
};

// Decodes `data` as version `version` of `schema` (the version itself is not part of
// `data`). Every byte must be consumed. False with *error set ("truncated at byte 12
// (metadata)", "string length -2 (metadata)", ...) on anything the schema does not allow:
// lengths past the end or negative (other than -1 for null), null where the version does
// not allow it, array counts larger than the bytes left, strings that are not UTF-8,
// tagged fields out of bounds, bytes left over.
bool Decode(const Schema& schema, int16_t version, std::string_view data, Node* out, std::string* error);

// Reads an int16 version and then the message; the version is stored in *version even when
// decoding fails (-1 when there are fewer than 2 bytes). Versions outside schema.valid fail.
bool DecodeVersioned(const Schema& schema, std::string_view data, int16_t* version, Node* out, std::string* error);

// Decodes, in place, every kBytes node under `n` whose field names an embedded schema, when
// the bytes hold a valid version of it with nothing left over; those that do not stay bytes.
void DecodeEmbedded(Node* n);

// Appends the fields of a kStruct node as JSON members, without braces: `"offset":42,...`.
// Returns whether anything was written (so a caller knows whether to add a comma).
//   int → number; string → JSON string or null; bytes → "name_base64":"..." or "name":null,
//   or "name":{"version":V,...} when DecodeEmbedded decoded it; arrays → [...] or null;
//   unknown tagged fields → "unknown_tagged_fields":[{"tag":N,"base64":"..."}] at the end.
bool AppendMembers(const Node& s, std::string* out);

// The name of a TransactionState id (Kafka's TransactionState.java): "Empty", "Ongoing",
// "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead",
// "PrepareEpochFence"; "" for others.
std::string_view TransactionStateName(int64_t id);

}  // namespace evt::kafka_internal
