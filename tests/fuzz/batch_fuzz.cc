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
  for (evt::kafka::EntryWalker w(in); !w.done() && w.ok(); w.Next()) {
    const evt::kafka::EntryView& e = w.entry();
    opts.verify_crc = (e.base_offset() & 1) == 0;  // let the fuzzer past the CRC half the time
    // Every header accessor on hostile bytes (summed unsigned: the fields are arbitrary).
    auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
    volatile uint64_t sink = u(e.last_offset()) + u(e.length());
    if (e.is_v2()) {
      sink = sink + u(e.partition_leader_epoch()) + e.crc() + u(e.attributes()) + u(e.codec()) +
             e.is_transactional() + e.is_control() + e.has_delete_horizon() + u(e.base_timestamp()) +
             u(e.max_timestamp()) + u(e.producer_id()) + u(e.producer_epoch()) + u(e.base_sequence()) +
             u(e.records_count()) + e.records().size();
    } else {
      sink = sink + e.legacy_crc() + u(e.legacy_codec()) + u(e.legacy_timestamp());
    }
    (void)sink;
    (void)evt::kafka::DecodeEntry(e.bytes(), w.pos(), opts, &out);
  }
  return 0;
}
