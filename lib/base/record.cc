#include "lib/base/record.h"

#include <mutex>

namespace evt {
namespace {

// Buffers whose last holder let go, kept for reuse up to a total capacity; beyond it they
// are freed. Holders let go on any thread (a read-ahead thread, a sink's delivery reports).
class BufferPool {
 public:
  static constexpr size_t kMaxBytes = size_t{64} << 20;

  std::string* Take() {
    std::lock_guard<std::mutex> l(mu_);
    if (free_.empty()) return nullptr;
    std::string* s = free_.back();
    free_.pop_back();
    bytes_ -= s->capacity();
    return s;
  }
  void Give(std::string* s) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (bytes_ + s->capacity() <= kMaxBytes) {
        bytes_ += s->capacity();
        free_.push_back(s);
        return;
      }
    }
    delete s;
  }
 private:
  std::mutex mu_;
  std::vector<std::string*> free_;
  size_t bytes_ = 0;
};

BufferPool& Pool() {
  static BufferPool* pool = new BufferPool();  // never destroyed: holders may outlive statics
  return *pool;
}

}  // namespace

SharedBuffer PooledBuffer() {
  std::string* s = Pool().Take();
  if (!s) s = new std::string();
  return SharedBuffer(s, [](std::string* b) { Pool().Give(b); });
}

}  // namespace evt
