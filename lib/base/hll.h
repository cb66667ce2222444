// HyperLogLog distinct-count sketch (Flajolet et al. 2007) with 64-bit XXH3 hashes.
//
// Dense one-byte registers: 2^precision bytes (16 KiB at the default precision 14, a
// standard error of 1.04/sqrt(2^14) ~ 0.8%). Estimates use Ertl's improved estimator
// (2017), which behaves like linear counting for small cardinalities (close to exact well
// below the register count) and is unbiased across the whole range.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace evt {

class HyperLogLog {
 public:
  static constexpr int kDefaultPrecision = 14;
  static constexpr int kMinPrecision = 4;
  static constexpr int kMaxPrecision = 18;

  // precision is clamped to [kMinPrecision, kMaxPrecision].
  explicit HyperLogLog(int precision = kDefaultPrecision);

  static uint64_t Hash(std::string_view bytes);  // XXH3_64bits, seed 0

  void Add(std::string_view bytes) { AddHash(Hash(bytes)); }
  void AddHash(uint64_t hash) {
    const uint32_t idx = static_cast<uint32_t>(hash >> (64 - p_));
    // Rank of the first 1 bit in the remaining 64-p bits; the sentinel bit caps it at 64-p+1.
    const uint64_t w = (hash << p_) | (uint64_t{1} << (p_ - 1));
    const uint8_t rank = static_cast<uint8_t>(__builtin_clzll(w) + 1);
    if (rank > regs_[idx]) regs_[idx] = rank;
  }

  // Union with another sketch. With different precisions the result has the smaller one
  // (the finer sketch is folded down exactly).
  void Merge(const HyperLogLog& other);

  uint64_t Estimate() const;  // 0 for an empty sketch

  void Clear();
  bool Empty() const;
  int precision() const { return p_; }
  size_t MemoryUsage() const { return regs_.size(); }
  const std::vector<uint8_t>& registers() const { return regs_; }

 private:
  // Registers of this sketch at a lower precision q.
  std::vector<uint8_t> Folded(int q) const;

  int p_;
  std::vector<uint8_t> regs_;
};

}  // namespace evt
