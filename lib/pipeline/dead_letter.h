// Dead letters: a record a job could not process, written with Kafka Connect's error
// headers and evt's own (`evt.dlq.attempts`, `evt.dlq.time`, `evt.dlq.where`), so that
// `evt dlq` reads them as the evt profile and `evt dlq redrive` can send them back to
// their original topic and partition. The destination is any sink: a JSON Lines file,
// a segment directory or a topic (never stdout, which carries the job's data).
//
// Used by `evt backfill --dead-letter` (records a worker failed) and `evt project
// --on-error dead-letter` (records whose --key or --reduce expression failed).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lib/base/source.h"
#include "lib/base/status.h"
#include "lib/pipeline/sink.h"

namespace evt {

struct DeadLetterCause {
  std::string_view class_name;  // __connect.errors.exception.class.name, e.g. evt.project.FoldError
  std::string_view message;     // __connect.errors.exception.message
  std::string_view where;       // evt.dlq.where: file@position or topic/partition/offset ("": none)
  int attempts = 1;             // evt.dlq.attempts
};

class DeadLetterWriter {
 public:
  // `so` carries the writer and Kafka settings; the writer sets its flag (for messages),
  // refuses stdout and hashes keys to partitions on a topic, with one producer.
  static Result<std::unique_ptr<DeadLetterWriter>> Open(const std::string& dst, const std::string& flag, SinkOptions so,
                                                        Reporter* reporter);

  // Record r of batch b (its key, value, timestamp and headers; the __connect.errors.* and
  // evt.dlq.* headers of an earlier dead-lettering are replaced) with the cause's headers.
  Status Write(const RecordBatch& b, const Record& r, const DeadLetterCause& cause);
  // What was written is durable (files: fsync) or acknowledged (topics).
  Status Commit();
  Status Close();

  uint64_t written() const { return written_; }
  const std::string& destination() const { return dst_; }

 private:
  DeadLetterWriter() = default;
  std::unique_ptr<Sink> sink_;
  std::string dst_;
  RecordBatch out_;
  uint64_t written_ = 0;
};

}  // namespace evt
