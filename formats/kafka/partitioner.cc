#include "formats/kafka/partitioner.h"

namespace evt::kafka {

int32_t Murmur2(std::string_view data) {
  const auto* d = reinterpret_cast<const unsigned char*>(data.data());
  const size_t len = data.size();
  constexpr uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  uint32_t h = 0x9747b28cU ^ static_cast<uint32_t>(len);
  const size_t n4 = len / 4;
  for (size_t i = 0; i < n4; ++i) {
    const size_t i4 = i * 4;
    uint32_t k = uint32_t{d[i4]} | (uint32_t{d[i4 + 1]} << 8) | (uint32_t{d[i4 + 2]} << 16) |
                 (uint32_t{d[i4 + 3]} << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const size_t tail = n4 * 4;
  switch (len % 4) {
    case 3: h ^= uint32_t{d[tail + 2]} << 16; [[fallthrough]];
    case 2: h ^= uint32_t{d[tail + 1]} << 8; [[fallthrough]];
    case 1:
      h ^= uint32_t{d[tail]};
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t Murmur2Partition(std::string_view key, int32_t partitions) {
  if (partitions <= 1) return 0;
  return static_cast<int32_t>((static_cast<uint32_t>(Murmur2(key)) & 0x7fffffffU) %
                              static_cast<uint32_t>(partitions));
}

}  // namespace evt::kafka
