// libFuzzer target: output templates (`--format '%k %v\n'`): any text as a template, then
// rendered on records with null, empty and binary keys, values and headers.
// Build: cmake -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON -DEVT_TESTS=OFF
#include <cstddef>
#include <cstdint>
#include <string>

#include "formats/template/template.h"
#include "testutil.h"

using namespace evt;

namespace {
const RecordBatch& Sample() {
  static const RecordBatch* b = [] {
    auto* out = new RecordBatch();
    out->topic = "t/..\n";
    out->partition = 7;
    test::RecordSpec one;
    one.offset = 0;
    one.timestamp = -1;
    one.has_key = true;
    one.key_bytes = std::string("k\0", 2);
    one.value = "v\n%";
    one.headers = {{"h", ""}};
    test::AddRecord(out, one);
    test::RecordSpec nul;
    nul.offset = INT64_MAX;
    nul.timestamp = INT64_MIN;
    nul.null_value = true;
    nul.headers = {{"a", std::string("\0\xff", 2)}, {"", "b"}};
    test::AddRecord(out, nul);
    return out;
  }();
  return *b;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = tmpl::Template::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!t.ok()) return 0;
  std::string out;
  for (const Record& r : Sample().records) t->Append(Sample(), r, &out);
  return 0;
}
