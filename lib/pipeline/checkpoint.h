// The checkpoint file of a long job (replay, backfill; later redrive and projections):
// which job it belongs to (a hash of the flags that define it), the run's id, where each
// source partition stands, and where the destination ended when it was written. Written
// atomically (temp file, fsync, rename), only after the destination made everything
// before it durable (Sink::Commit).
//
//   {"version":1,"identity":"<16 hex>","replay_id":"<16 hex>","complete":false,
//    "jsonl_records":0,"dest_kind":"segments","dest_size":-1,
//    "positions":[{"topic":"t","partition":0,"next":42}],"dest_ends":{"out/t-0":42}}
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "lib/base/status.h"
#include "lib/base/source.h"

namespace evt {

struct Checkpoint {
  std::string identity;
  std::string replay_id;
  bool complete = false;
  Positions positions;        // source partition -> next offset to read
  uint64_t jsonl_records = 0; // JSON Lines sources: records consumed
  std::string dest_kind;      // SinkKindName(), or "exec" (backfill)
  std::map<std::string, int64_t> dest_ends;  // SinkPosition::ends
  int64_t dest_size = -1;                    // SinkPosition::size
  SinkPosition dest() const { return SinkPosition{dest_ends, dest_size}; }
  void set_dest(const SinkPosition& p) {
    for (const auto& [k, v] : p.ends) dest_ends[k] = v;
    if (p.size >= 0) dest_size = p.size;
  }
};

Result<Checkpoint> ReadCheckpoint(const std::string& path);  // NotFound when absent
Status WriteCheckpoint(const std::string& path, const Checkpoint& c);
// Resumes from `path` when it exists (refusing a checkpoint of another job: `identity` is
// the job's description, hashed) or starts a new one (a fresh replay id). *complete when
// the checkpoint says the job is done (a Notice says so). `job` names it in messages.
Status OpenCheckpoint(const std::string& path, const std::string& identity, const char* job, const char* what_differs,
                      Reporter* reporter, Checkpoint* ck, bool* resuming, bool* complete);
std::string IdentityHash(const std::string& identity);
std::string NewReplayId();

}  // namespace evt
