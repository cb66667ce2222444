// Deterministic synthetic CloudEvents-style events (`evt gen`, tests, benchmarks).
//
// The output depends only on GenOptions: the same options give the same records, byte for
// byte, on every run and machine (a fixed xoshiro256** stream, no std distributions).
// Records are generated in one global sequence (seq 0..count-1, timestamps non-decreasing)
// and spread over partitions by key (Kafka's murmur2 partitioner) or round robin for null
// keys; each partition numbers its own offsets from 0. What a partition receives does not
// depend on batch_records, only how it is cut into batches.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/base/source.h"

namespace evt {

struct GenOptions {
  uint64_t count = 1000;  // records in total
  uint64_t keys = 100;    // distinct keys "key-0".."key-<keys-1>" (0 = null keys)
  uint64_t seed = 1;
  std::vector<std::string> types = {"order.created", "order.paid", "order.shipped", "order.cancelled"};
  size_t value_size = 256;  // JSON value size in bytes (exact unless the fields alone are longer)
  std::string topic = "events";
  int32_t partitions = 1;             // records spread by key hash (round robin for null keys)
  int64_t start_ms = 1700000000000;   // timestamp of the first record
  int64_t step_ms = 1000;             // average gap between records (uniform jitter in [0, 2*step])
  bool headers = true;                // "content-type: application/json" and "trace-id: <32 hex>"
  size_t batch_records = 1000;        // records per RecordBatch yielded, at most
};

// Checks the options GenSource needs (types, partitions, batch_records, step, value_size).
Status ValidateGenOptions(const GenOptions& o);

// Yields batches of records of one partition each (topic and partition set); keys, values
// and headers live in the batch's arena. Invalid options are reported by the first Next().
// Memory is bounded: when more than ~64 MiB of records are pending across partitions, all
// pending partitions are emitted early (smaller batches).
class GenSource : public Source {
 public:
  explicit GenSource(GenOptions opts);
  ~GenSource() override;
  Status Next(RecordBatch* out, bool* eof) override;
  std::string Describe() const override;

  const GenOptions& options() const;
  uint64_t generated() const;  // records generated so far (some may still be pending)

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace evt
