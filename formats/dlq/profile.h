// Dead-letter records: which convention wrote their headers (a profile), what those
// headers say (the original topic, partition, offset and time, the error), decoded with
// the encoding each convention uses, and the message fingerprint that groups records with
// the same cause. Pure functions over a record's headers: no I/O. The spec in prose is
// README.md beside this file.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/record.h"
#include "lib/base/status.h"

namespace evt::dlq {

enum class Profile : int8_t {
  kNone,     // no dead-letter headers
  kConnect,  // Kafka Connect: __connect.errors.* (UTF-8 strings)
  kSpring,   // Spring Kafka DeadLetterPublishingRecoverer: kafka_dlt-* (binary int32/int64 coordinates)
  kStreams,  // Kafka Streams (KIP-1034): __streams.errors.* (UTF-8 strings)
  kEvt,      // evt backfill's dead letters: Connect's headers plus evt.dlq.attempts, evt.dlq.time
  kCustom,   // --header-map
};
const char* ProfileName(Profile p);  // "none", "connect", "spring", "streams", "evt", "custom"
// "auto" -> kNone (detect per record), or a profile's name.
Result<Profile> ParseProfile(std::string_view text);

// How a header's bytes encode a value.
enum class Encoding : int8_t { kString, kInt32, kInt64 };

// --header-map FIELD=HEADER[:ENCODING],...: the headers of a home-made dead-letter queue.
// Fields: original.topic, original.partition, original.offset, original.timestamp,
// error.class, error.message, error.stacktrace, group, connector, stage, attempts.
// Numeric fields default to :string (decimal text); :int32 and :int64 read big-endian binary.
struct HeaderMap {
  struct Field {
    std::string header;  // empty: not mapped
    Encoding encoding = Encoding::kString;
  };
  Field topic, partition, offset, timestamp, error_class, error_message, stacktrace, group, connector, stage, attempts;
  bool empty() const;
};
Status ParseHeaderMap(std::string_view text, HeaderMap* out);

// A header that did not say what its profile says it holds (or is missing).
struct HeaderProblem {
  std::string header;
  std::string what;  // "4 bytes, expected an 8-byte big-endian int64", "missing", ...
};

// What a dead letter's headers say. String fields are views into the record's header
// bytes (valid as long as the batch is). Numbers are -1 when absent or unreadable (a
// problem then says why: never a guessed number).
struct DeadLetter {
  Profile profile = Profile::kNone;
  bool has_topic = false;
  std::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp = -1;
  std::string_view timestamp_type;
  std::string_view group;      // Spring: the consumer group
  std::string_view connector;  // Connect: connector name
  int64_t task = -1;           // Connect: task id
  std::string_view stage;      // Connect: VALUE_CONVERTER, TRANSFORMATION, ...
  std::string_view plugin_class;  // Connect: the class of the stage
  std::string_view error_class;
  std::string_view cause_class;  // Spring: exception-cause-fqcn
  std::string_view error_message;
  std::string_view stacktrace;
  bool key_error = false;  // Spring: the key failed (kafka_dlt-key-exception-*)
  int64_t attempts = -1;   // evt.dlq.attempts, retry_topic-attempts
  std::string_view dlq_time;  // evt.dlq.time
  int64_t redrive_count = 0;  // evt.redrive.count (0 when absent)
  std::string_view redrive_id;
  std::vector<HeaderProblem> problems;
  bool has_coordinates() const { return has_topic && partition >= 0 && offset >= 0; }
  void Clear();
};

// The profile a record's headers belong to (kNone: no dead-letter headers).
Profile Detect(const Header* h, uint32_t n);
// Decodes the headers under `forced` (kNone: detected). `map` is used for kCustom (and a
// non-empty map forces kCustom).
void Decode(const Header* h, uint32_t n, Profile forced, const HeaderMap* map, DeadLetter* out);
// Headers that belong to a dead-letter queue, not to the original record: every known
// profile's (__connect.errors.*, kafka_dlt-*, retry_topic-*, __streams.errors.*,
// evt.dlq.*), evt.redrive.* (a redrive sets its own) and the --header-map's.
bool IsDeadLetterHeader(std::string_view key, const HeaderMap* map);

// The message with what varies between occurrences of one cause normalised: quoted values
// -> '?', UUIDs -> <uuid>, hex strings -> <hex>, numbers (with their sign) -> <n> (digits
// inside words such as "Base64" stay). Appends to *out.
void NormaliseMessage(std::string_view msg, std::string* out);
// The fingerprint of a cause: 12 hex digits of a hash of the error class and the
// normalised message.
std::string Fingerprint(std::string_view error_class, std::string_view normalised_message);
// The first frame of a Java stack trace ("at com.x.Y.z(Y.java:42)"), or "".
std::string_view FirstFrame(std::string_view stacktrace);

// Big-endian binary and decimal text, strictly (the whole value, in range).
bool ReadInt(std::string_view bytes, Encoding e, int64_t* out, std::string* why);

}  // namespace evt::dlq
