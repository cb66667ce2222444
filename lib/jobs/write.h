// `evt write`: JSON Lines into a segment directory.
#include <string>
#include <vector>

#include "lib/pipeline/encode.h"
#include "lib/pipeline/headers.h"
#include "lib/pipeline/jsonl_source.h"
#include "lib/kafka/client.h"
#include "lib/log/segment_writer.h"
#include "lib/pipeline/sink.h"

#pragma once
namespace evt {

// --on-invalid: what becomes of a JSON Lines line that is not a record.
enum class OnInvalid {
  kError,       // stop with the error (exit 1)
  kSkip,        // warn with file:line, count, go on
  kDeadLetter,  // append {"file","line","error","raw"} to dead_letter, count, go on
};

struct WriteOptions {
  std::string dst;
  std::vector<std::string> inputs;  // empty = stdin
  JsonlSourceOptions input;
  WriterOptions writer;
  HeaderFilter headers;  // --keep-header/--drop-header
  OnInvalid on_invalid = OnInvalid::kError;
  std::string dead_letter;  // with kDeadLetter: a JSON Lines file, appended to
  bool skip_corruption = false;  // segment inputs: --on-corruption skip
  EncodeOptions encode;          // --encode: decoded values back to bytes before the destination
  // Kafka destinations (dst is kafka://...).
  kafka::KafkaConfig kafka;
  kafka::KafkaWriteOptions kafka_write;
};

struct WriteStats {
  uint64_t records = 0;       // records read and handed to the destination
  uint64_t acknowledged = 0;  // Kafka: delivered (acks=all); a directory: written and closed
  uint64_t invalid = 0;       // lines skipped or dead-lettered (--on-invalid)
};

// With --on-invalid skip or dead-letter, invalid lines leave RunWrite OK and are counted in
// stats->invalid: the caller reports them (exit 1).
Status RunWrite(const WriteOptions& opts, Reporter* reporter, WriteStats* stats);

// The dead-letter line for an invalid input line, with '\n': {"file":..,"line":N,
// "error":..,"raw":..}; "raw_base64" instead of "raw" when the line is not UTF-8.
void AppendInvalidLine(const InvalidLine& l, std::string* out);

}  // namespace evt
