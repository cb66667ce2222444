// evt filter: select JSON Lines with a jq-style expression, in parallel, keeping order.
#pragma once
#include <string>
#include <vector>

#include "lib/base/file.h"
#include "lib/base/status.h"
#include "lib/base/source.h"
#include "lib/pipeline/decode.h"

namespace evt {

struct FilterRunOptions {
  std::vector<std::string> exprs;  // ANDed
  std::vector<std::string> files;  // empty: stdin; ".zst"/".gz" decompressed
  bool count = false;              // print the number of matching lines instead of them
  bool invert = false;             // select lines for which the expression is false/null
  bool strict = false;             // a line that is not valid JSON stops with an error (exit 1)
  int64_t limit = -1;              // stop after this many selected lines
  int threads = 0;                 // 0: one per core
  size_t chunk_bytes = 1 << 20;    // lines are evaluated in chunks of about this size
  // --decode: when decode.any(), every line is an envelope (as evt cat writes it) whose
  // key and value the expression sees decoded (lib/pipeline/decode.h); the selected lines
  // are still written unchanged. decode.strict: a record that does not decode is an error.
  DecodeOptions decode = DecodeMode::kNone;
};

struct FilterRunStats {
  uint64_t lines = 0;     // documents read (blank lines are not documents)
  uint64_t selected = 0;
  uint64_t errors = 0;    // evaluation raised an error
  uint64_t invalid = 0;   // not valid JSON
  std::string first_error;    // "<file>:<line>: <message>"
  std::string first_invalid;  // "<file>:<line>"
  uint64_t undecoded = 0;     // --decode: records that did not decode (seen as stored)
  std::string first_undecoded;  // "<file>:<line>: <reason>"
};

// Compiles the expressions (InvalidArgument on syntax errors), reads every file and
// writes the selected lines unchanged (each followed by '\n') to `out`. Counts of errors
// and invalid lines are reported through reporter->Notice at the end.
Status RunFilter(const FilterRunOptions& opts, WritableFile* out, Reporter* reporter, FilterRunStats* stats);

}  // namespace evt
