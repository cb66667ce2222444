// The compiled form of an Avro schema (Schema::Node), shared by the decoder (avro.cc) and
// the encoder (encode.cc). Not for use outside formats/avro.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "formats/avro/avro.h"

namespace evt::avro {

enum class Type : uint8_t { kNull, kBoolean, kInt, kLong, kFloat, kDouble, kBytes, kString, kRecord, kEnum, kArray, kMap, kUnion, kFixed };
enum class Logical : uint8_t {
  kNone, kDecimal, kUuid, kDate, kTimeMillis, kTimeMicros, kTimestampMillis, kTimestampMicros,
  kLocalTimestampMillis, kLocalTimestampMicros, kDuration
};

struct Field {
  std::string key;  // `"name":`, escaped once
  std::string name;
  int node = -1;
  bool has_default = false;
  // The default (its JSON, minified), and as Avro binary once Schema::Parse encoded it:
  // default_state 0 not yet, 1 encoded, 2 it does not fit the field's type (default_error).
  std::string default_json;
  std::string default_bytes;
  uint8_t default_state = 0;
  std::string default_error;
};

struct Schema::Node {
  Type type = Type::kNull;
  Logical logical = Logical::kNone;
  int32_t precision = 0;
  int32_t scale = 0;
  int64_t size = 0;           // fixed
  std::string name;           // full name of a named type
  std::string spec_name;      // the union branch name in the spec's JSON encoding, escaped
  std::vector<std::string> symbols;  // enum, each as a JSON string
  std::vector<std::string> raw_symbols;
  bool has_enum_default = false;
  std::vector<Field> fields;  // record
  std::vector<int> branches;  // union
  int items = -1;             // array items, map values
};
using Node = Schema::Node;

inline constexpr int kMaxDepth = 100;

// Encodes every field default of `s` (encode.cc), called by Schema::Parse.
void ComputeDefaults(Schema* s);

}  // namespace evt::avro
