// `evt dlq summary|show|redrive SRC`: dead-letter queues (Kafka Connect, Spring Kafka,
// Kafka Streams, evt backfill's own, or --header-map) read as logs, grouped by cause and
// sent back where they came from.
//
// Reading is a Selection (any source: topic, segment directory, envelope JSON Lines; with
// --where, --from/--until, --keys, --partitions); each record's headers are decoded by its
// profile (formats/dlq/profile.h). A header that does not say what its profile says is a
// problem of that record (reported, counted, never read as a wrong number).
//
// Redrive writes through KafkaSinks (one per destination topic) and keeps a ledger: the
// DLQ positions each destination acknowledged, written atomically after the acks, plus
// each destination partition's end at that moment and the run's id. A rerun sends only
// what is not in the ledger; a run killed between two ledger writes is recovered by the
// destination-tail check `replay --dedupe` uses (Sink::Rewind): the destinations are read
// past the ledger's ends for records with that run's evt.redrive.id, whose
// evt.redrive.source names the DLQ position they came from.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "formats/dlq/profile.h"
#include "lib/base/term.h"
#include "lib/kafka/client.h"
#include "lib/pipeline/encode.h"
#include "lib/pipeline/progress.h"
#include "lib/pipeline/selection.h"

namespace evt {

// What every dlq subcommand reads.
struct DlqReadOptions {
  SelectionOptions sel;
  dlq::Profile profile = dlq::Profile::kNone;  // kNone: detected per record
  dlq::HeaderMap header_map;                   // --header-map (forces the custom profile)
  std::string fingerprint;                     // --fingerprint: one group (a prefix of it will do)
  int max_warnings = 20;                       // header problems reported one by one, then counted
};

// ---- summary ----
enum class DlqField { kTopic, kPartition, kClass, kCause, kFingerprint, kStage, kConnector, kGroup, kProfile, kDlqTopic };
// "topic,class,fingerprint": the --by list. Names: topic, partition, class, cause,
// fingerprint, stage, connector, group, profile, dlq_topic.
Result<std::vector<DlqField>> ParseDlqFields(const std::string& text);
const char* DlqFieldName(DlqField f);
// The default grouping: original topic, error class, stage, connector, fingerprint.
std::vector<DlqField> DefaultDlqFields();

struct DlqRange {  // original offsets seen in one original partition
  std::string topic;
  int32_t partition = -1;
  int64_t first = -1, last = -1;
  uint64_t count = 0;
};
struct DlqGroup {
  std::vector<std::string> key;  // the --by fields' values, in order
  std::string fingerprint, pattern;  // pattern: the normalised message
  std::string topic, error_class, stage, connector, group, profile;  // of the first record
  uint64_t count = 0, problems = 0, no_coordinates = 0;
  int64_t first_ts = -1, last_ts = -1;  // DLQ record times
  std::vector<DlqRange> ranges;         // at most kMaxRanges; ranges_truncated beyond
  bool ranges_truncated = false;
  std::string sample_message, sample_frame, sample_where;  // sample_where: DLQ topic/partition/offset
};
struct DlqSummary {
  std::vector<DlqField> by;
  std::vector<DlqGroup> groups;  // largest first
  uint64_t scanned = 0, records = 0, problems = 0, no_coordinates = 0;
};
struct DlqSummaryOptions {
  DlqReadOptions read;
  std::vector<DlqField> by;  // empty: DefaultDlqFields()
};
Status RunDlqSummary(const DlqSummaryOptions& o, Reporter* reporter, DlqSummary* out);
std::string DlqSummaryJson(const DlqSummary& s);   // one JSON line per group
std::string DlqSummaryTable(const DlqSummary& s);  // for a terminal

// ---- show ----
struct DlqShowOptions {
  DlqReadOptions read;
  int64_t limit = -1;
  // Empty: one JSON line per record (coordinates, decoded error, fingerprint, key, value,
  // the record's other headers, problems). Otherwise the records as `evt cat -f` prints them.
  std::string format;
  bool with_original = false;  // fetch the original record (Kafka) and compare
  kafka::KafkaConfig kafka;    // for --with-original
  std::string brokers;         // for --with-original: the cluster of the original topics
};
struct DlqShowStats {
  uint64_t scanned = 0, shown = 0, originals_found = 0, originals_missing = 0, originals_differ = 0;
};
// Writes to `out` (stdout in cmd/).
Status RunDlqShow(const DlqShowOptions& o, std::unique_ptr<WritableFile> out, Reporter* reporter, DlqShowStats* st);

// ---- redrive ----
struct DlqRedriveOptions {
  DlqReadOptions read;
  std::string brokers;   // the destination cluster ("" : $EVT_BROKERS)
  std::string to_topic;  // --to (empty: each record's original topic)
  kafka::PartitionPolicy partition = kafka::PartitionPolicy::kKeep;
  int32_t fixed_partition = 0;
  kafka::KafkaWriteOptions kafka_write;
  bool dry_run = false;
  uint64_t max = 1000;  // the blast-radius cap
  bool all = false;     // no cap
  bool keep_headers = false;
  int64_t max_redrives = 3;
  double rate = 0;  // records/s
  std::string ledger;    // the ledger file
  std::string identity;  // the source and destination (the ledger refuses another's)
  // --commit-group (a DLQ topic): after each ledger write, this group's offsets on the DLQ
  // are committed past every record handled (sent, or left out and counted), so existing
  // DLQ consumers see them as done.
  std::string commit_group;
  std::string dlq_brokers;  // the DLQ topic's cluster
  int64_t ledger_interval_ms = 1000;
  Progress* progress = nullptr;
  StopToken stop;
  EncodeOptions encode;  // --encode: decoded values (a JSON Lines DLQ) back to bytes
};
struct DlqRedriveStats {
  std::string redrive_id, ledger;
  uint64_t scanned = 0, selected = 0, planned = 0, sent = 0, delivered = 0;
  uint64_t already = 0;          // in the ledger
  uint64_t recovered = 0;        // found in the destinations by the tail check after a kill
  uint64_t too_many_redrives = 0, no_coordinates = 0, bad_partition = 0;
  std::map<std::pair<std::string, int32_t>, uint64_t> per_destination;  // planned (-1: the producer's choice)
  std::map<std::string, uint64_t> per_fingerprint;                        // planned
  double seconds = 0;
  bool capped = false;
};
Status RunDlqRedrive(const DlqRedriveOptions& o, Reporter* reporter, DlqRedriveStats* st);
// --dry-run's answer: JSON Lines, one per destination and one per fingerprint, then totals.
std::string DlqRedrivePlanJson(const DlqRedriveStats& st);
std::string DlqRedriveStatsJson(const DlqRedriveStats& st);
// `evt dlq redrive --status`: the ledger's progress, as JSON.
Status DlqLedgerStatus(const std::string& ledger, std::string* json);
// The default ledger file for a job identity: $EVT_STATE_DIR, else $XDG_STATE_HOME/evt,
// else ~/.local/state/evt; dlq-<hash>.ledger.
std::string DefaultLedgerPath(const std::string& identity);

}  // namespace evt
