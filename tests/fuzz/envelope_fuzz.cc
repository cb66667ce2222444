// libFuzzer target: the JSON Lines envelope parser, and its round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "formats/envelope/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  evt::RecordBatch batch;
  evt::envelope::Parser parser;
  evt::envelope::ParsedRecord rec;
  if (!parser.Parse(line, &batch, &rec).ok()) return 0;
  batch.topic = std::string(rec.topic);
  batch.partition = rec.partition;
  std::string once, twice;
  evt::envelope::AppendRecord(batch, rec.record, &once);
  evt::RecordBatch b2;
  evt::envelope::ParsedRecord r2;
  once.pop_back();
  if (!parser.Parse(once, &b2, &r2).ok()) abort();  // our own output must parse
  b2.topic = std::string(r2.topic);
  b2.partition = r2.partition;
  evt::envelope::AppendRecord(b2, r2.record, &twice);
  twice.pop_back();
  if (once != twice) abort();  // and round-trip exactly
  return 0;
}
