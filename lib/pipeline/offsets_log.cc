#include "lib/pipeline/offsets_log.h"

#include <fmt/format.h>

#include <map>
#include <tuple>
#include <unordered_map>

#include "formats/kafka_internal/records.h"
#include "lib/base/coding.h"
#include "lib/base/term.h"
#include "lib/log/segment.h"
#include "lib/pipeline/read.h"

namespace evt {

namespace {

using kafka_internal::KeyType;
using CommitKey = std::tuple<std::string, std::string, int32_t>;

struct Pending {
  CommitKey key;
  bool tombstone = false;
  CommittedOffset commit;
};

class Replayer {
 public:
  explicit Replayer(OffsetsLogStats* stats) : stats_(stats) {}

  void Record(const RecordBatch& batch, const BatchInfo* bi, const Record& r) {
    if (r.control) {
      if (bi) Marker(bi->producer_id, r.key.view());
      return;
    }
    ++stats_->records;
    if (r.key.null()) {
      ++stats_->not_decoded;
      return;
    }
    auto k = kafka_internal::DecodeKey(kafka_internal::Log::kConsumerOffsets, r.key.view());
    if (!k.ok) {
      ++stats_->not_decoded;
      return;
    }
    if (k.type == KeyType::kGroupMetadata) {
      ++stats_->group_records;
      return;
    }
    Pending p;
    p.key = CommitKey(std::string(k.group()), std::string(k.topic()), k.partition());
    p.tombstone = r.value.null();
    if (!p.tombstone) {
      auto v = kafka_internal::DecodeValue(k.type, r.value.view());
      if (!v.ok) {
        ++stats_->not_decoded;
        return;
      }
      CommittedOffset& c = p.commit;
      c.group = std::get<0>(p.key);
      c.topic = std::get<1>(p.key);
      c.partition = std::get<2>(p.key);
      c.offset = v.fields.IntOr("offset", -1);
      c.leader_epoch = static_cast<int32_t>(v.fields.IntOr("leader_epoch", -1));
      c.metadata = std::string(v.fields.StrOr("metadata"));
      c.commit_timestamp = v.fields.IntOr("commit_timestamp", -1);
      c.expire_timestamp = v.fields.IntOr("expire_timestamp", -1);
      c.value_version = v.version;
      c.log_partition = r.partition >= 0 ? r.partition : batch.partition;
      c.log_offset = r.offset;
    }
    if (bi && bi->transactional && bi->producer_id >= 0) {
      pending_[bi->producer_id].push_back(std::move(p));
      return;
    }
    Apply(std::move(p));
  }

  std::vector<CommittedOffset> Finish() {
    for (auto& [_, list] : pending_) stats_->pending += list.size();
    std::vector<CommittedOffset> out;
    out.reserve(live_.size());
    for (auto& [_, c] : live_) out.push_back(std::move(c));
    return out;
  }

 private:
  void Apply(Pending p) {
    if (p.tombstone) {
      ++stats_->tombstones;
      live_.erase(p.key);
    } else {
      ++stats_->commits;
      live_[p.key] = std::move(p.commit);
    }
  }
  // A transaction marker: version int16, type int16 (0 ABORT, 1 COMMIT).
  void Marker(int64_t producer_id, std::string_view key) {
    if (key.size() < 4) return;
    int16_t type = static_cast<int16_t>(DecodeFixed16BE(reinterpret_cast<const uint8_t*>(key.data()) + 2));
    if (type != 0 && type != 1) return;
    auto it = pending_.find(producer_id);
    if (it == pending_.end()) return;
    if (type == 1) {
      for (Pending& p : it->second) Apply(std::move(p));
    } else {
      stats_->aborted += it->second.size();
    }
    pending_.erase(it);
  }

  OffsetsLogStats* stats_;
  std::map<CommitKey, CommittedOffset> live_;
  std::unordered_map<int64_t, std::vector<Pending>> pending_;
};

}  // namespace

Status ReadCommittedOffsets(const std::vector<std::string>& paths, Reporter* reporter,
                            std::vector<CommittedOffset>* out, OffsetsLogStats* stats) {
  *stats = OffsetsLogStats();
  out->clear();
  auto dirs = ResolvePartitions(paths);
  if (!dirs.ok()) return dirs.status();
  std::vector<PartitionDir> parts;
  for (PartitionDir& pd : *dirs)
    if (pd.topic == "__consumer_offsets") parts.push_back(std::move(pd));
  if (parts.empty())
    return Status::NotFound(fmt::format("no __consumer_offsets-N partition directory in {}",
                                        paths.size() == 1 ? paths[0] : fmt::format("{} paths", paths.size())));
  Replayer replay(stats);
  ReadOptions ro;
  ro.include_control = true;
  for (const PartitionDir& pd : parts) {
    ++stats->partitions;
    SegmentSource src({pd}, ro, reporter);
    RecordBatch batch;
    for (;;) {
      if (InterruptRequested()) return Status::Interrupted();
      bool eof = false;
      Status s = src.Next(&batch, &eof);
      // Records of a batch are those whose source_pos is its position.
      size_t bi = 0;
      for (const Record& r : batch.records) {
        while (bi < batch.batches.size() && batch.batches[bi].position != r.source_pos) ++bi;
        replay.Record(batch, bi < batch.batches.size() ? &batch.batches[bi] : nullptr, r);
      }
      if (!s.ok()) return s;
      if (eof) break;
    }
  }
  *out = replay.Finish();
  return Status::OK();
}

}  // namespace evt
