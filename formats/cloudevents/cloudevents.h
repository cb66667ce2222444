// CloudEvents 1.0 structured-mode JSON for Kafka records (spec: README.md beside this file).
#pragma once
#include <string>

#include "lib/base/record.h"

namespace evt::cloudevents {

// Appends one CloudEvents structured JSON object for `r` and a '\n'.
//  * A value that already is a structured CloudEvent (a JSON object with "specversion",
//    or content-type application/cloudevents+json) is written as it is.
//  * Otherwise the Kafka binary-mode binding applies: `ce_<attr>` headers become attributes,
//    `content-type` becomes `datacontenttype`, the key becomes `partitionkey`, and the value
//    becomes `data` (embedded JSON, a string) or `data_base64`.
//  * Required attributes missing from the headers are derived from the record:
//    id = "<topic>-<partition>-<offset>", source = "kafka://<topic>/<partition>",
//    type = "kafka.record", time = the record timestamp (RFC 3339, UTC, ms).
void AppendRecord(const RecordBatch& b, const Record& r, std::string* out);

}  // namespace evt::cloudevents
