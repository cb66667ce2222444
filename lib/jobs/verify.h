// `evt verify`: CRCs, offsets, batch lengths and index consistency; `--repair` truncates
// torn tails and rebuilds missing or inconsistent indexes atomically.
#pragma once
#include <string>
#include <vector>

#include "lib/pipeline/read.h"

namespace evt {

struct VerifyOptions {
  std::vector<std::string> paths;
  bool repair = false;
  bool check_indexes = true;
  bool wait_for_lock = false;  // --repair: wait for another evt process's partition lock
};

struct VerifyReport {
  std::string topic;
  int32_t partition = -1;
  std::string path;
  uint64_t segments = 0;
  uint64_t batches = 0;
  uint64_t records = 0;          // data records, as inspect counts them
  uint64_t control_records = 0;  // transaction markers, counted apart
  uint64_t errors = 0;
  uint64_t warnings = 0;
  uint64_t repaired = 0;  // files rewritten or truncated
};

// An `.index` (is_time false) or `.timeindex` file checked against the `.log` beside it, by
// the rules `verify` uses. Returns the problem, "" when consistent; *checked is false (and
// nothing is checked) when there is no segment beside it.
std::string CheckIndexBesideLog(const std::string& index_path, bool is_time, bool* checked);

// Problems go to the reporter (Corruption = error, Warning = warning). Returns Corruption
// if any error was found, OK otherwise.
Status RunVerify(const VerifyOptions& opts, Reporter* reporter, std::vector<VerifyReport>* out);

}  // namespace evt
