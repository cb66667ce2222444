// How far a long job has come. lib/ hands the figures over; cmd/ alone decides whether and
// how to draw them (a progress line on a terminal, never in a pipe).
#pragma once
#include <cstdint>
#include <string_view>

namespace evt {

struct JobProgress {
  std::string_view job;  // "replay", "backfill"
  uint64_t done = 0;     // records sent (replay) or acknowledged (backfill)
  uint64_t handed = 0, retried = 0, dead_letters = 0;  // backfill
  int64_t keys = -1;                                   // project: keys in the state (-1: not shown)
  int64_t estimate = -1;  // records the job covers at most (-1: unknown), for an ETA
  double seconds = 0;     // since the start
  double behind_ms = -1;  // paced jobs: furthest behind the schedule so far (-1: not paced)
};

class Progress {
 public:
  virtual ~Progress() = default;
  // Called after every batch (the implementation decides how often to draw) and once
  // with `final` at the end.
  virtual void Update(const JobProgress& p, bool final) = 0;
};

}  // namespace evt
