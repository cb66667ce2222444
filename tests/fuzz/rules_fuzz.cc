// libFuzzer target: `evt project --rules FILE` files (RulesExpression), the fold expression
// they become compiled in Mode::kFold, and a few fold steps over fixed events: any bytes
// give InvalidArgument or an expression; a step's output is always valid JSON.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "formats/envelope/envelope.h"
#include "lib/filter/filter.h"
#include "lib/jobs/project.h"

using namespace evt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto e = RulesExpression(in);
  if (!e.ok()) {
    if (e.status().code() != Code::kInvalidArgument) std::abort();
    return 0;
  }
  auto f = filter::Filter::Compile({*e}, filter::Mode::kFold);
  if (!f.ok()) {
    if (f.status().code() != Code::kInvalidArgument) std::abort();
    return 0;
  }
  filter::Evaluator ev(*f);
  RecordBatch b;
  b.topic = "t";
  b.partition = 0;
  const char* events[] = {R"({"type":"a","n":1,"data":{"qty":2}})", R"({"type":"b"})", nullptr,
                          R"({"type":["a"],"n":"x"})", "not json"};
  std::string state;  // null
  int64_t off = 0;
  for (const char* v : events) {
    Record r;
    r.offset = off++;
    r.key = Bytes::Of(b.arena.Copy("k"));
    if (v) r.value = Bytes::Of(b.arena.Copy(v));
    std::string out;
    filter::Match m = ev.Fold(state, b, r, false, &out);
    if (m == filter::Match::kYes) {
      if (!envelope::IsEmbeddableJson("[" + out + "]")) std::abort();  // a scalar too
      if (out.size() < (1u << 16)) state = out;  // a state that doubles each step stays small
    }
  }
  return 0;
}
