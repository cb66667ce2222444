// The ledger of `evt dlq redrive` (lib/jobs/dlq.h): which DLQ positions a destination
// acknowledged, so that no record is redriven twice, and where each destination ended
// when it was written (the start of a killed run's tail check). One JSON object in a
// file, replaced atomically:
//
//   {"version":1,"identity":HASH,"source":TEXT,"last_run":ID,"clean":BOOL,"runs":N,
//    "redriven":N,"updated_ms":MS,"updated":RFC3339,
//    "done":[{"topic":T,"partition":P,"ranges":[[FIRST,LAST],...]},...],
//    "dest_ends":{TOPIC:{"PARTITION":END,...},...}}
//
// Ranges are inclusive, sorted and disjoint per DLQ partition, offsets (or, for JSON Lines
// without offsets, line positions) from 0 to 2^63-2; partitions -1 (a file) to 2^31-1.
// Anything else is refused as not a ledger written by evt, never half read.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/record.h"
#include "lib/base/status.h"

namespace evt {

struct DlqLedger {
  using TP = std::pair<std::string, int32_t>;
  using Ranges = std::vector<std::pair<int64_t, int64_t>>;

  std::string identity;  // hash of the job's identity
  std::string source;    // in words, for --status
  std::string last_run;  // the id of the last run that started sending
  bool clean = true;     // that run ended with every ack recorded (no tail check needed)
  uint64_t runs = 0, redriven = 0;
  int64_t updated_ms = -1;
  // DLQ partition -> sorted, disjoint, inclusive offset ranges acknowledged by a destination.
  std::map<TP, Ranges> done;
  // Destination topic -> its partitions' ends when the ledger was written.
  std::map<std::string, std::map<std::string, int64_t>> dest_ends;

  bool Has(const TP& tp, int64_t off) const;
  // The same for a record of `b` (the last partition asked about is remembered: no lookup,
  // no copy of the topic name per record).
  bool Has(const RecordBatch& b, int32_t part, int64_t off);
  // Adds one position; true when it was not there yet. A position outside 0 .. kMaxPosition
  // is not added (false).
  bool Add(const TP& tp, int64_t off);
  // The same in two steps, for many positions of one partition: its ranges (created empty
  // when new; valid until the next change to `done`), then AddTo for each position.
  Ranges& RangesOf(const TP& tp);
  static bool AddTo(Ranges* v, int64_t off);

  // The largest position a ledger keeps (one below INT64_MAX, so LAST + 1 never overflows).
  static constexpr int64_t kMaxPosition = INT64_MAX - 1;

 private:
  static bool In(const Ranges& v, int64_t off);
  const Ranges* cached_ = nullptr;
  std::string cached_topic_;
  int32_t cached_part_ = -1;
  Ranges empty_;
};

// Parses a ledger's text; `path` names it in messages (Corruption: "PATH: not a dlq
// redrive ledger written by evt (WHAT)").
Result<DlqLedger> ParseDlqLedger(std::string_view text, const std::string& path);
// The ledger's text, as ParseDlqLedger reads it (one line; partitions without ranges left out).
std::string DlqLedgerText(const DlqLedger& l);
// NotFound when there is no file.
Result<DlqLedger> ReadDlqLedger(const std::string& path);
// Sets updated_ms to now and replaces the file atomically.
Status WriteDlqLedger(const std::string& path, DlqLedger* l);

}  // namespace evt
