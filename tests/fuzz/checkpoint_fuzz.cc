// libFuzzer target: checkpoint files (ReadCheckpoint), and the round trip of what it
// accepts through WriteCheckpoint.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lib/pipeline/checkpoint.h"
#include "scratch.h"

using namespace evt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  auto c = ReadCheckpoint(fuzz::WriteScratch("in.ckpt", s));
  if (!c.ok()) return 0;
  const std::string out = fuzz::ScratchDir() + "/out.ckpt";
  if (!WriteCheckpoint(out, *c).ok()) std::abort();
  auto d = ReadCheckpoint(out);
  if (!d.ok() || d->identity != c->identity || d->replay_id != c->replay_id || d->complete != c->complete ||
      d->positions != c->positions || d->jsonl_records != c->jsonl_records || d->dest_kind != c->dest_kind ||
      d->dest_ends != c->dest_ends || d->dest_size != c->dest_size)
    std::abort();
  return 0;
}
