// JSON Schema validation (the validation keywords of drafts 4, 6 and 7, and 2019-09's
// dependentRequired / dependentSchemas), for `evt schema check` on values written with
// Confluent's JSON Schema serializer. The spec in prose is README.md beside this file.
//
// Why not a library: Debian 12's only C++ validator, libvalijson-dev (header-only), depends
// on Qt 5, Poco and MariaDB development packages (70 packages on a fresh machine).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/status.h"

namespace evt::jsonschema {

class Schema {
 public:
  // Compiles a schema. `references`: other schemas it may `$ref` by name (a registry's
  // references: {name, schema text}), e.g. `"$ref": "other.json#/definitions/x"`.
  // InvalidArgument for a schema that is not JSON, a keyword of the wrong type, a `pattern`
  // RE2 cannot compile, a `$ref` that resolves to nothing, or a keyword evt does not
  // evaluate (unevaluatedProperties, unevaluatedItems, $dynamicRef, $recursiveRef): a
  // validator that skipped it would call invalid values valid.
  static Result<std::shared_ptr<const Schema>> Parse(
      std::string_view text, const std::vector<std::pair<std::string, std::string>>& references = {});
  ~Schema();

  // Whether `json` (one JSON document) is valid. When not, *why says the first failing
  // keyword and where, e.g. `/data/amount: 5 is less than the minimum 10`; a value that is
  // not JSON is invalid with the parser's reason. Not thread-safe (one parse buffer).
  bool Validate(std::string_view json, std::string* why) const;

  struct Impl;

 private:
  Schema() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace evt::jsonschema
