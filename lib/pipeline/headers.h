// --keep-header / --drop-header: which record headers pass on (replay, write, backfill).
//
// A header passes when its key matches one of the keep globs (or there are none) and none
// of the drop globs: drop applies after keep. Globs are shell-style (`*`, `?`, `[...]`,
// `\` quotes the next character), matched over the whole key byte for byte as fnmatch(3)
// without FNM_PATHNAME or FNM_PERIOD (evt runs in the C locale), so `*` matches `.` and `/`
// too. Keys and prefixes are compared without fnmatch; a key holding a NUL byte matches
// only those. The order of the headers that pass is kept, duplicates included.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/base/source.h"

namespace evt {

class HeaderFilter {
 public:
  HeaderFilter() = default;  // passes every header
  // InvalidArgument naming the flag for an empty glob or one ending in a lone `\`.
  static Result<HeaderFilter> Make(const std::vector<std::string>& keep, const std::vector<std::string>& drop);

  bool empty() const { return keep_.empty() && drop_.empty(); }
  bool Passes(std::string_view key) const;
  // Rewrites each record's header range of `b` in place to the headers that pass, in
  // order (no allocation: kept headers move down within the record's own range).
  void Apply(RecordBatch* b) const;

 private:
  struct Glob {
    enum Kind { kAny, kExact, kPrefix, kPattern } kind;
    std::string text;  // kExact: the key; kPrefix: the prefix; kPattern: the glob
    bool Matches(std::string_view key) const;
  };
  static bool AnyMatches(const std::vector<Glob>& globs, std::string_view key);
  std::vector<Glob> keep_, drop_;
};

// `src` with the filter applied to every batch it yields (`src` itself when it is empty).
std::unique_ptr<Source> FilterHeaders(std::unique_ptr<Source> src, const HeaderFilter& filter);

}  // namespace evt
