// libFuzzer target: the internal-topic decoders (__consumer_offsets, __transaction_state) and
// their JSON, which must always be valid JSON the envelope can embed.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "formats/envelope/envelope.h"
#include "formats/kafka_internal/records.h"

using namespace evt::kafka_internal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first byte picks the log and the key type of the value; the rest is the bytes.
  if (in.empty()) return 0;
  const uint8_t sel = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  const Log log = sel & 1 ? Log::kTransactionState : Log::kConsumerOffsets;
  std::string out;
  DecodedKey k = DecodeKey(log, in);
  AppendKeyJson(k, in, &out);
  if (!evt::envelope::IsEmbeddableJson(out)) std::abort();
  const KeyType types[] = {KeyType::kOffsetCommit, KeyType::kGroupMetadata, KeyType::kTransaction,
                           KeyType::kUnknown};
  out.clear();
  DecodedValue v = DecodeValue(types[(sel >> 1) & 3], in);
  AppendValueJson(v, in, &out);
  if (!evt::envelope::IsEmbeddableJson(out)) std::abort();
  return 0;
}
