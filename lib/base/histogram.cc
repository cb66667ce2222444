#include "lib/base/histogram.h"

#include <algorithm>

namespace evt {

void TimeHistogram::Add(int64_t t, uint64_t count) {
  if (count == 0) return;
  if (count_ == 0) {
    fine_.assign(kFine, 0);
    origin_ = t;
    width_ = 1;
    lo_ = hi_ = t;
  }
  lo_ = std::min(lo_, t);
  hi_ = std::max(hi_, t);
  // Widen (doubling) until t falls inside; the old buckets fold pairwise into the new ones.
  while (static_cast<__int128>(t) < origin_ || static_cast<__int128>(t) >= static_cast<__int128>(origin_) + kFine * static_cast<__int128>(width_)) {
    std::vector<uint64_t> wider(kFine, 0);
    const bool left = t < origin_;
    for (int64_t i = 0; i < kFine; ++i) wider[(left ? kFine / 2 : 0) + i / 2] += fine_[i];
    if (left) origin_ -= kFine * width_;
    width_ *= 2;
    fine_.swap(wider);
  }
  fine_[static_cast<size_t>((t - origin_) / width_)] += count;
  count_ += count;
}

void TimeHistogram::Merge(const TimeHistogram& o) {
  if (o.count_ == 0) return;
  for (int64_t i = 0; i < kFine; ++i)
    if (o.fine_[i]) Add(std::clamp(o.origin_ + i * o.width_ + o.width_ / 2, o.lo_, o.hi_), o.fine_[i]);
}

std::vector<uint64_t> TimeHistogram::Counts(size_t n) const {
  std::vector<uint64_t> out(n, 0);
  if (count_ == 0 || n == 0) return out;
  const __int128 span = static_cast<__int128>(hi_) - lo_ + 1;
  for (int64_t i = 0; i < kFine; ++i) {
    if (!fine_[i]) continue;
    int64_t mid = std::clamp(origin_ + i * width_ + width_ / 2, lo_, hi_);
    size_t k = static_cast<size_t>((static_cast<__int128>(mid) - lo_) * static_cast<__int128>(n) / span);
    out[std::min(k, n - 1)] += fine_[i];
  }
  return out;
}

std::string Sparkline(const std::vector<uint64_t>& counts) {
  static const char* const kBars[] = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
  uint64_t max = 0;
  for (uint64_t c : counts) max = std::max(max, c);
  std::string s;
  for (uint64_t c : counts) {
    if (c == 0) {
      s += ' ';
      continue;
    }
    uint64_t level = (c * 8 + max - 1) / max;  // 1..8
    s += kBars[std::min<uint64_t>(level, 8) - 1];
  }
  return s;
}

}  // namespace evt
