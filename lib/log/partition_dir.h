// The partition directory as one evt process changes it: the locks that keep a running
// broker and other evt processes out, and the recovery of an interrupted compaction or
// retention (Kafka's `.cleaned`/`.swap`/`.deleted` protocol). Writers, compaction,
// retention and `verify --repair` all go through here.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "lib/base/file.h"
#include "lib/base/status.h"

namespace evt {

// Refuses a partition dir whose log dir a running Kafka broker holds, then takes the
// partition's `.evt.lock` (one evt writer, compaction or retention at a time; Busy unless
// `wait`). With !take_lock (dry runs) only the broker check is made and null is returned.
Result<std::unique_ptr<FileLock>> LockPartition(const std::string& dir, bool wait, bool take_lock = true);

// True if `dir` (a partition dir) sits in a log dir that a running Kafka broker holds.
bool BrokerHoldsLogDir(const std::string& partition_dir);

// Finishes what an interrupted compaction or retention left in a partition directory, the
// way Kafka's log recovery does: `*.cleaned` files are removed; each `<base>.log.swap`
// replaces the segments it covers (their files removed, the swap renamed, its indexes
// rebuilt); leftover `*.deleted` files and index files whose `.log` is gone are removed.
// The caller holds the partition's lock. *changes counts what was (or, with dry_run, would
// be) removed or renamed.
Status FinishInterruptedCompaction(const std::string& dir, bool dry_run, uint64_t* changes);

}  // namespace evt
