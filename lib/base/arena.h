// A bump allocator whose blocks never move, so string_views into it stay valid until Reset().
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace evt {

class Arena {
 public:
  explicit Arena(size_t block_size = 1 << 16) : block_size_(block_size) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  char* Allocate(size_t n) {
    if (n > avail_) NewBlock(n);
    char* p = ptr_;
    ptr_ += n;
    avail_ -= n;
    return p;
  }
  // Memory aligned for any scalar type (blocks come from operator new[], which is).
  void* AllocateAligned(size_t n, size_t align = alignof(std::max_align_t)) {
    size_t pad = (align - (reinterpret_cast<uintptr_t>(ptr_) & (align - 1))) & (align - 1);
    if (n + pad > avail_) {
      NewBlock(n);
      pad = 0;
    }
    ptr_ += pad;
    avail_ -= pad;
    return Allocate(n);
  }
  template <typename T>
  T* AllocateArray(size_t count) {
    return static_cast<T*>(AllocateAligned(sizeof(T) * (count ? count : 1), alignof(T)));
  }
  std::string_view Copy(std::string_view s) {
    if (s.empty()) return std::string_view(ptr_ ? ptr_ : "", 0);
    char* p = Allocate(s.size());
    std::memcpy(p, s.data(), s.size());
    return std::string_view(p, s.size());
  }
  // Makes all memory reusable. When the last fill needed several blocks, they are replaced
  // by one block of their total size (up to 64 MiB), so a steady workload settles on a
  // single block that is reused without new allocations or page faults.
  void Reset() {
    if (blocks_.empty()) return;
    if (blocks_.size() > 1) {
      size_t total = 0, best = 0;
      for (size_t i = 0; i < blocks_.size(); ++i) {
        total += sizes_[i];
        if (sizes_[i] > sizes_[best]) best = i;
      }
      constexpr size_t kMaxMerged = size_t{64} << 20;
      if (total <= kMaxMerged) {
        blocks_.clear();
        sizes_.clear();
        blocks_.emplace_back(new char[total]);
        sizes_.push_back(total);
        total_ = total;
      } else {
        auto keep = std::move(blocks_[best]);
        size_t keep_size = sizes_[best];
        blocks_.clear();
        sizes_.clear();
        blocks_.push_back(std::move(keep));
        sizes_.push_back(keep_size);
        total_ = keep_size;
      }
    }
    ptr_ = blocks_[0].get();
    avail_ = sizes_[0];
  }
  size_t MemoryUsage() const { return total_; }

 private:
  void NewBlock(size_t min) {
    size_t sz = min > block_size_ ? min : block_size_;
    blocks_.emplace_back(new char[sz]);
    sizes_.push_back(sz);
    total_ += sz;
    ptr_ = blocks_.back().get();
    avail_ = sz;
  }
  size_t block_size_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<size_t> sizes_;
  char* ptr_ = nullptr;
  size_t avail_ = 0;
  size_t total_ = 0;
};

}  // namespace evt
