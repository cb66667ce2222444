// `evt dump`: batch-level and record-level listing, like
// `kafka-dump-log --deep-iteration --print-data-log`, as text or JSON Lines.
#pragma once
#include <string>
#include <vector>

#include "lib/base/file.h"
#include "lib/pipeline/decode.h"
#include "lib/pipeline/read.h"

namespace evt {

struct DumpOptions {
  SourceSpec source;
  bool json = false;
  bool records = true;  // false: batches only
  // Internal topics: keys and values shown as JSON (text: `key: {...} payload: {...}`, a
  // tombstone's payload `<DELETE>`; sizes stay the stored ones).
  DecodeOptions decode;
};

Status RunDump(const DumpOptions& opts, WritableFile* out, Reporter* reporter);

// Names a control record's type from its key (Kafka ControlRecordType, KRaft types).
std::string ControlRecordTypeName(std::string_view key);

}  // namespace evt
