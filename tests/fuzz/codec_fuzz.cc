// libFuzzer target: every compression codec, alone and inside log entries.
// The first byte picks the codec (gzip, snappy, lz4, zstd) and the mode:
//   0: the bytes as hostile compressed input (decompression-bomb guard at 1 MiB);
//   1: a round trip (compress, decompress: must give the bytes back);
//   2: the bytes compressed as the inner message set of a legacy (magic 0/1) wrapper, so the
//      fuzzer writes the inner messages (nested wrappers included) past the codec;
//   3: the bytes compressed as the records of a v2 batch (record count from the bytes).
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "formats/kafka/batch.h"
#include "formats/kafka/compression.h"
#include "lib/base/coding.h"
#include "testutil.h"

using namespace evt;
using namespace evt::kafka;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Codec codec = static_cast<Codec>(1 + (sel & 3));
  const int mode = (sel >> 2) & 3;
  constexpr size_t kMaxOut = 1 << 20;
  std::string out;
  if (mode == 0) {
    Status s = Decompress(codec, in, kMaxOut, &out);
    if (s.ok() ? out.size() > kMaxOut : !out.empty()) std::abort();  // the guard holds; a failure leaves nothing
    return 0;
  }
  std::string packed;
  if (!Compress(codec, (sel >> 4) & 1 ? 1 : -1, in, &packed).ok()) std::abort();
  if (mode == 1) {
    if (!Decompress(codec, packed, in.size() + 1, &out).ok() || out != in) std::abort();
    return 0;
  }
  std::string entry;
  if (mode == 2) {
    const int8_t magic = (sel >> 5) & 1;
    entry = test::LegacyMessage(magic, static_cast<int8_t>(codec), 0, 1000, nullptr, packed);
  } else {
    entry.assign(kBatchHeaderSize, '\0');
    entry += packed;
    MutableEntryView v(entry.data(), entry.size());
    v.set_base_offset(0);
    v.set_length(static_cast<int32_t>(entry.size() - kLogOverhead));
    v.set_magic(2);
    v.set_attributes(static_cast<int16_t>(codec | ((sel >> 5) << 3)));
    v.set_records_count(in.size() >= 2 ? static_cast<int32_t>(DecodeFixed16BE(in.data())) : 1);
    v.set_last_offset_delta(in.size() >= 1 ? static_cast<uint8_t>(in[0]) : 0);
    v.set_producer_id(kNoProducerId);
    v.set_producer_epoch(kNoProducerEpoch);
    v.set_base_sequence(kNoSequence);
    v.UpdateCrc();
  }
  RecordBatch batch;
  DecodeOptions opts;
  opts.max_uncompressed = kMaxOut;
  (void)DecodeEntry(entry, 0, opts, &batch);
  return 0;
}
