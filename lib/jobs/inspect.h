// `evt inspect`: per-partition and total statistics of segment files.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lib/base/hll.h"
#include "lib/base/histogram.h"
#include "lib/pipeline/decode.h"
#include "lib/pipeline/read.h"

namespace evt {

// Records of Kafka's internal topics by what they are (lib/pipeline/decode.h).
struct DecodedStats {
  uint64_t offset_commits = 0;  // offset commit records, tombstones included
  uint64_t group_metadata = 0;  // group metadata records, tombstones included
  uint64_t transactions = 0;    // __transaction_state records, tombstones included
  uint64_t tombstones = 0;
  uint64_t not_decoded = 0;     // shown with "error" and "base64"
  std::set<std::string> groups;             // group ids, at most kMaxIds
  std::set<std::string> transactional_ids;  // at most kMaxIds
  bool ids_truncated = false;
  static constexpr size_t kMaxIds = 1000;
  bool any() const { return offset_commits + group_metadata + transactions + not_decoded > 0; }
  void Add(const DecodeInfo& d);
  void Merge(const DecodedStats& o);
};

struct PartitionStats {
  std::string topic;
  int32_t partition = -1;
  std::string path;
  uint64_t segments = 0;
  uint64_t batches = 0;
  uint64_t control_batches = 0;
  uint64_t records = 0;
  uint64_t tombstones = 0;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  int64_t first_timestamp = -1;  // smallest record timestamp (>= 0)
  int64_t last_timestamp = -1;   // largest record timestamp
  uint64_t bytes = 0;            // on disk (batches)
  uint64_t uncompressed_bytes = 0;
  std::map<std::string, uint64_t> codecs;  // codec name -> batches
  std::set<int64_t> producer_ids;          // at most kMaxListed
  bool producer_ids_truncated = false;
  std::set<std::string> header_keys;       // at most kMaxListed
  bool header_keys_truncated = false;
  HyperLogLog keys;
  uint64_t torn_tail_bytes = 0;
  TimeHistogram times;  // record timestamps over the partition's span
  DecodedStats decoded;  // internal topics (when decoded)
  static constexpr size_t kMaxListed = 1000;
  void Merge(const PartitionStats& o);
};

struct InspectOptions {
  SourceSpec source;
  DecodeOptions decode;  // count internal-topic records by type; schema-decoded values
};

Status RunInspect(const InspectOptions& opts, Reporter* reporter, std::vector<PartitionStats>* parts,
                  PartitionStats* total);
// `buckets`: the records-over-time counts per partition (JSON "histogram": counts over
// [first_timestamp, last_timestamp] in equal slices; the table: a sparkline), 0 for none.
std::string InspectJson(const std::vector<PartitionStats>& parts, const PartitionStats& total, size_t buckets);
std::string InspectTable(const std::vector<PartitionStats>& parts, const PartitionStats& total, size_t buckets);

}  // namespace evt
