// Avro binary datums to JSON, and schema resolution between a writer and a reader schema.
// The spec in prose is README.md beside this file.
//
// Decoding uses a schema compiled here from the schema's JSON (avro-c 1.11 drops logical
// types when it parses a schema and its generic values allocate per field), straight from the
// bytes to JSON text without intermediate values.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace evt::avro {

// The JSON that ToJson writes:
//  - kNatural (evt's default): unions unwrapped (the branch's value alone), logical types
//    rendered (decimal as an exact decimal string, date/time/timestamp as RFC 3339 text,
//    uuid as its string), bytes and fixed as base64, NaN/Infinity as strings;
//  - kSpec: the Avro JSON encoding of the specification (unions as {"type":value}, bytes and
//    fixed as strings of code points 0-255, logical types as their underlying values).
enum class JsonStyle { kNatural, kSpec };

class Schema {
 public:
  // Parses the schema's JSON. `references` are schemas whose named types it may use (a
  // schema registry's references, in dependency order).
  static Result<std::shared_ptr<const Schema>> Parse(std::string_view json,
                                                     const std::vector<std::string>& references = {});
  ~Schema();

  // Decodes one datum, which must take all of `bytes`, appending its JSON to *out. On
  // malformed input returns false with the reason in *error (and *out holds a partial text
  // the caller discards).
  bool ToJson(std::string_view bytes, JsonStyle style, std::string* out, std::string* error) const;

  // The type of the top-level schema: "record", "string", ... and its full name when named.
  std::string_view type_name() const;
  std::string_view full_name() const;
  const std::string& json() const { return json_; }

  struct Node;

 private:
  Schema() = default;
  std::vector<Node> nodes_;
  int root_ = 0;
  std::string json_;
  friend class Compiler;
  friend class Decoder;
  friend class Encoding;
  friend class Resolution;
  friend Status CheckResolution(const Schema&, const Schema&);
  friend Status CheckDatum(const Schema&, const Schema&, std::string_view);
};

// JSON to one Avro binary datum: the inverse of Schema::ToJson, in either style (natural:
// a union's branch is the first one the value fits as ToJson would have written it; see
// README.md). Arrays and maps are written as one block with a positive count, then 0; a
// record field missing from the JSON takes its default. Holds a JSON parser's buffers: keep
// one per thread and reuse it.
class JsonEncoder {
 public:
  JsonEncoder();
  ~JsonEncoder();
  // Appends the datum to *out. On failure returns false with the reason in *error, which
  // names the field path ("items[3].price: expected an int, not "x""); *out then holds a
  // partial datum the caller discards.
  bool Encode(const Schema& schema, std::string_view json, JsonStyle style, std::string* out, std::string* error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Schema resolution, by the specification's rules (a reader field the writer lacks needs a
// default; int/long/float promote to wider numbers, string and bytes to each other; a
// reader union takes the first branch that matches; an enum symbol the reader lacks needs
// the reader's default; named types match by name, fixed by size too). (avro-c 1.11's
// resolver cannot apply a reader field's default and crashes on some failures, so it is not
// used.)
// Whether every datum written with `writer` can be read as `reader`: OK, or
// InvalidArgument with the first reason.
Status CheckResolution(const Schema& writer, const Schema& reader);
// Whether this datum (of `writer`) can be read as `reader`, which also depends on the union
// branches and enum symbols it holds: OK or DataProblem with the reason.
Status CheckDatum(const Schema& writer, const Schema& reader, std::string_view bytes);

}  // namespace evt::avro
