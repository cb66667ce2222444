// Counts of record timestamps over their span, in bounded memory whatever the span
// (`evt inspect`'s records-over-time sparkline and its JSON counts).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace evt {

class TimeHistogram {
 public:
  // Fine buckets kept; their width doubles whenever a value falls outside them, so memory
  // stays at kFine counters and each fine bucket is at most 1/512 of the span wide.
  static constexpr int64_t kFine = 1024;

  void Add(int64_t t, uint64_t count = 1);
  // Adds another histogram's counts (at its buckets' midpoints): for totals.
  void Merge(const TimeHistogram& o);
  bool empty() const { return count_ == 0; }
  int64_t lo() const { return lo_; }  // smallest value added
  int64_t hi() const { return hi_; }  // largest value added
  // `n` counts over [lo, hi], in equal slices of the span.
  std::vector<uint64_t> Counts(size_t n) const;

 private:
  int64_t origin_ = 0;  // fine bucket i covers [origin_ + i * width_, origin_ + (i + 1) * width_)
  int64_t width_ = 1;
  std::vector<uint64_t> fine_;
  int64_t lo_ = 0, hi_ = 0;
  uint64_t count_ = 0;
};

// One character per count, ' ' for none and ▁..█ in eighths of the largest.
std::string Sparkline(const std::vector<uint64_t>& counts);

}  // namespace evt
