// CRC32C (Castagnoli, RecordBatch v2) with SSE4.2 when the CPU has it, and CRC32 (IEEE,
// legacy magic 0/1 messages) through zlib.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace evt {

uint32_t Crc32c(const void* data, size_t n, uint32_t crc = 0);
inline uint32_t Crc32c(std::string_view s) { return Crc32c(s.data(), s.size()); }
uint32_t Crc32(const void* data, size_t n);
bool Crc32cIsHardware();

}  // namespace evt
