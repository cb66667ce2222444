// `evt write`: JSON Lines into a segment directory.
#include <string>
#include <vector>

#include "lib/headers.h"
#include "lib/jsonl_source.h"
#include "lib/kafka/client.h"
#include "lib/segment_writer.h"

#pragma once
namespace evt {

struct WriteOptions {
  std::string dst;
  std::vector<std::string> inputs;  // empty = stdin
  JsonlSourceOptions input;
  WriterOptions writer;
  HeaderFilter headers;  // --keep-header/--drop-header
  // Kafka destinations (dst is kafka://...).
  kafka::KafkaConfig kafka;
  kafka::KafkaWriteOptions kafka_write;
};

struct WriteStats {
  uint64_t records = 0;
};

// True when `dst` names one partition directory (its name is <topic>-<N> and it does not
// hold partition directories of its own).
bool IsPartitionDirTarget(const std::string& dst);

Status RunWrite(const WriteOptions& opts, Reporter* reporter, WriteStats* stats);

}  // namespace evt
