// libFuzzer target: offset and time index files, checked against the segment beside them
// (`verify`), and rebuilt by `verify --repair`. The input is a partition directory:
// [u32 log size][.log bytes][u32 index size][.index bytes][.timeindex bytes] (sizes taken
// modulo what remains).
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/coding.h"
#include "lib/jobs/verify.h"
#include "scratch.h"

using namespace evt;

namespace {
std::string_view Take(std::string_view* in) {
  if (in->size() < 4) {
    std::string_view all = *in;
    *in = {};
    return all;
  }
  size_t n = DecodeFixed32BE(in->data());
  in->remove_prefix(4);
  n = in->empty() ? 0 : n % (in->size() + 1);
  std::string_view part = in->substr(0, n);
  in->remove_prefix(n);
  return part;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view log = Take(&in), index = Take(&in), timeindex = in;
  const std::string dir = fuzz::ScratchDir() + "/t-0";
  ::mkdir(dir.c_str(), 0755);
  const std::string stem = "t-0/00000000000000000000";
  fuzz::WriteScratch(stem + ".log", log);
  const std::string idx = fuzz::WriteScratch(stem + ".index", index);
  const std::string tidx = fuzz::WriteScratch(stem + ".timeindex", timeindex);
  bool checked = false;
  (void)CheckIndexBesideLog(idx, false, &checked);
  (void)CheckIndexBesideLog(tidx, true, &checked);
  CountingReporter rep;
  std::vector<VerifyReport> out;
  VerifyOptions opts;
  opts.paths = {dir};
  (void)RunVerify(opts, &rep, &out);
  // --repair rewrites the indexes from the log; when verify then passes, the indexes
  // agree with the log by CheckIndexBesideLog's rules too (the ones `dump` uses).
  opts.repair = true;
  out.clear();
  (void)RunVerify(opts, &rep, &out);
  opts.repair = false;
  out.clear();
  if (RunVerify(opts, &rep, &out).ok()) {
    if (!CheckIndexBesideLog(idx, false, &checked).empty() && checked) std::abort();
    if (!CheckIndexBesideLog(tidx, true, &checked).empty() && checked) std::abort();
  }
  return 0;
}
