// libFuzzer target: the segment entry decoder (v2 batches, legacy message sets, codecs).
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/kafka/batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  evt::RecordBatch out;
  evt::kafka::DecodeOptions opts;
  opts.max_uncompressed = 16 << 20;
  uint64_t pos = 0;
  while (pos < in.size()) {
    evt::kafka::EntryHeader h;
    std::string reason;
    if (evt::kafka::PeekEntry(in, pos, &h, &reason) != evt::kafka::EntryState::kOk) break;
    opts.verify_crc = (h.base_offset & 1) == 0;  // let the fuzzer past the CRC half the time
    (void)evt::kafka::DecodeEntry(in.substr(pos, h.total_size()), pos, opts, &out);
    pos += h.total_size();
  }
  return 0;
}
