// Compatibility of two Protobuf schemas, by the rules of Confluent's schema registry
// (its protobuf diff): README.md beside this file.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "formats/protobuf/protobuf.h"
#include "lib/base/status.h"

namespace evt::protobuf {

// One difference from an original schema to an update that breaks readers: its name in
// Confluent's rules (MESSAGE_REMOVED, FIELD_SCALAR_KIND_CHANGED, ...) and a sentence.
struct Incompatibility {
  std::string type;
  std::string reason;
};

// A schema to compare: its .proto text and how its imports are found (as Schema::Parse).
struct SchemaText {
  std::string_view text;
  std::string name = "schema.proto";
  std::vector<ImportFile> imports{};
  ImportResolver resolver{};
};

// The incompatible differences from `original` to `update` (empty: compatible as far as
// these rules see). Messages are matched by full name, fields by number. NEW is backward
// compatible with OLD when Incompatibilities(OLD, NEW) is empty, forward when
// Incompatibilities(NEW, OLD) is. InvalidArgument when either does not compile (the
// message says which: "original: ..." / "update: ...").
Result<std::vector<Incompatibility>> Incompatibilities(const SchemaText& original, const SchemaText& update);

}  // namespace evt::protobuf
