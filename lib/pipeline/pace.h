// Pacing (--rate, --speed): the schedule on which records are due, and waiting for it.
// Shared by `evt replay` and `evt dlq redrive`.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>

#include "lib/base/term.h"

namespace evt {

inline int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Waits until `deadline_ns` (steady clock), in slices, unless interrupted.
inline void SleepUntil(int64_t deadline_ns, const StopToken& stop) {
  for (;;) {
    if (stop.requested()) return;
    int64_t now = SteadyNs();
    if (now >= deadline_ns) return;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(deadline_ns - now, 50'000'000)));
  }
}

// The pacing schedule: when each record is due, relative to the start.
class Pacer {
  // A due time past what int64 nanoseconds hold (--speed 1e-12 over an hour of history) is
  // as good as never: the run waits (Ctrl-C stops it) rather than wrapping to the past.
  static int64_t Saturate(double ns) {
    return ns >= 1e18 ? int64_t{1000000000000000000} : static_cast<int64_t>(ns);  // 31 years
  }

 public:
  Pacer(double rate, double speed, int64_t max_gap_ms) : rate_(rate), speed_(speed), max_gap_(max_gap_ms) {}
  bool active() const { return rate_ > 0 || speed_ > 0; }
  // Due time (ns after start) of the next record with time `t`.
  int64_t Due(int64_t t) {
    ++n_;
    if (rate_ > 0) return Saturate((n_ - 1) * 1e9 / rate_);
    if (hw_ < 0) {
      hw_ = t;
      return 0;
    }
    if (t > hw_) {
      int64_t gap = t - hw_;
      if (max_gap_ >= 0) gap = std::min(gap, max_gap_);
      virt_ms_ += gap;
      hw_ = t;
    }
    return Saturate(virt_ms_ * 1e6 / speed_);
  }

 private:
  double rate_, speed_;
  int64_t max_gap_;
  uint64_t n_ = 0;
  int64_t hw_ = -1;
  int64_t virt_ms_ = 0;
};

}  // namespace evt
