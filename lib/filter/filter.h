// The filter language: a subset of jq (syntax and semantics) compiled once and evaluated
// per document with simdjson On-Demand, reading only the fields the expression touches.
//
//   auto f = filter::Filter::Compile({".type == \"x\" and .data.amount > 500"}, filter::Mode::kJson);
//   filter::Evaluator ev(*f);          // one per thread
//   if (ev.Json(line, len, capacity) == filter::Match::kYes) ...
//
// The language (paths, literals, operators, functions, record variables) is described in
// man/evt-filter.1; where evt differs from jq 1.6 is listed there too.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/base/record.h"

namespace evt::filter {

enum class Mode {
  kJson,    // bare JSON documents (evt filter): no record variables
  kRecord,  // Kafka records (--where): `.` is the value; $key $offset $timestamp $partition $topic $headers
  kFold,    // a fold step (evt project --reduce): `.` is the state, $event the record's value, and the
            // record variables of kRecord
};

enum class Match {
  kNo,       // evaluated to false/null, or produced no output
  kYes,      // evaluated to a value other than false/null
  kError,    // evaluation raised an error (jq would print it and skip the input)
  kInvalid,  // the document is not valid JSON (as far as evaluation read it)
};

struct Node;
struct PathNode;

class Filter {
 public:
  // Compiles the expressions; several are ANDed. Errors (exit 2 in commands) carry the
  // expression with a caret under the bad position.
  static Result<std::shared_ptr<const Filter>> Compile(const std::vector<std::string>& exprs, Mode mode);
  ~Filter();
  Mode mode() const { return mode_; }
  // True when the expression reads the document (`.`); false when it only uses variables.
  bool reads_document() const;
  const std::string& text() const { return text_; }

 private:
  friend class Evaluator;
  Filter();
  Mode mode_ = Mode::kJson;
  std::string text_;
  std::unique_ptr<Node> root_;
  std::unique_ptr<PathNode> paths_;
  // `A and ...` / `A or ...` where A reads less of the document than the whole: A is
  // evaluated first from pre_paths_ alone, and the rest of the document is read only when
  // A does not decide (as jq, the right side of and/or is not evaluated then).
  const Node* pre_ = nullptr;
  bool pre_or_ = false;
  std::unique_ptr<PathNode> pre_paths_;
  uint32_t vars_used_ = 0;
};

// Memory one evaluation (one record) may take for the values it builds. A filter that
// needs more fails that record with an error (`?` does not hide it), instead of growing
// until the process is killed: `[.k[55555555][2] = 1]` would otherwise build 1.8 GB.
inline constexpr size_t kMaxEvalBytes = size_t{256} << 20;

class Evaluator {
 public:
  explicit Evaluator(std::shared_ptr<const Filter> filter);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // Evaluates a JSON document of `len` bytes at `data`; `capacity` bytes are readable
  // from `data` (when capacity >= len + 64 no copy is made).
  Match Json(const char* data, size_t len, size_t capacity);
  // Evaluates a record. `.` is the value parsed as JSON, or null when it is absent or not
  // valid JSON; with `strict`, a value that is not valid JSON gives kInvalid.
  Match Record(const RecordBatch& batch, const evt::Record& r, bool strict);
  // Evaluations that give the output's value: on kYes, *out holds it as compact JSON
  // (`jq -c`); kNo means the expression produced no output (`empty`).
  //
  // Mode::kFold: `.` is `state` (JSON text; an empty view is null), $event the record's
  // value (null for a tombstone, or a value that is not valid JSON; with `strict` such a
  // value gives kInvalid). kInvalid also when `state` is not valid JSON.
  Match Fold(std::string_view state, const RecordBatch& batch, const evt::Record& r, bool strict, std::string* out);
  // Mode::kRecord: as Record(), with the output's value.
  Match RecordValue(const RecordBatch& batch, const evt::Record& r, bool strict, std::string* out);
  // Mode::kJson over one JSON text (any length; copied when it needs padding).
  Match JsonValue(std::string_view json, std::string* out);
  // The message of the last kError / kInvalid.
  const std::string& error() const { return error_; }

 private:
  struct Impl;
  bool LoadRecordValue(const RecordBatch& batch, const evt::Record& r, bool strict, bool needed, const void* paths,
                       void* doc);
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

}  // namespace evt::filter
