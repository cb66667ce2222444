#include "lib/jobs/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "lib/base/term.h"
#include "lib/base/timeutil.h"
#include "lib/jobs/group_run.h"
#include "lib/pipeline/pace.h"
#include "lib/pipeline/sink.h"

namespace evt {

Status RunReplay(const ReplayOptions& o, Reporter* reporter, ReplayStats* st) {
  auto t0 = std::chrono::steady_clock::now();
  const SinkKind kind = SinkKindOf(o.dst);
  if (o.rate > 0 && o.speed > 0) return Status::InvalidArgument("--rate and --speed: choose one");
  if (o.dedupe && (kind != SinkKind::kKafka || o.partition != ReplayPartition::kKeep || !o.provenance))
    return Status::InvalidArgument("--dedupe needs a Kafka destination, --partition keep and --provenance");
  if (o.partition == ReplayPartition::kHash && kind != SinkKind::kKafka)
    return Status::InvalidArgument("--partition hash needs a Kafka destination (it needs the partition count)");

  // ---- checkpoint: resume or start ----
  Checkpoint ck;
  bool resuming = false, complete = false;
  EVT_RETURN_IF_ERROR(OpenCheckpoint(o.dry_run ? "" : o.checkpoint, o.identity, "replay",
                                     "sources, selection or destination", reporter, &ck, &resuming, &complete));
  st->resumed = resuming;
  if (complete) {
    st->already_complete = true;
    st->replay_id = ck.replay_id;
    return Status::OK();
  }
  if (!resuming) ck.dest_kind = SinkKindName(kind);
  st->replay_id = ck.replay_id;

  // ---- --group: the run's plan ----
  const bool grouped = !o.group.empty();
  std::unique_ptr<GroupRun> group;
  if (grouped) {
    if (kind != SinkKind::kKafka)
      return Status::InvalidArgument("--group: the processes share the destination, so it must be kafka://HOST/TOPIC");
    auto g = GroupRun::ForJob(o.sel, o.group, o.identity, o.new_run, o.checkpoint, o.dry_run, reporter);
    if (!g.ok()) return g.status();
    group = std::move(*g);
    st->resumed = !group->created();
  }

  // ---- source ----
  SelectionOptions so_sel = o.sel;
  so_sel.stop = o.stop;
  if (grouped) group->Attach(&so_sel);
  auto sel = Selection::Open(so_sel, resuming ? ck.positions : Positions{}, resuming ? ck.jsonl_records : 0, reporter);
  if (!sel.ok()) return sel.status();
  Selection& S = **sel;
  // A topic read whole (--partitions not given) counts as several partitions.
  const bool several = S.partition_count() > 1 || (S.is_kafka() && S.partition_count() == 0);
  if (o.speed > 0 && !o.sel.merge_time && several)
    return Status::InvalidArgument("--speed over several partitions needs --merge time (or select one with --partitions)");

  // ---- destination ----
  std::unique_ptr<Sink> sink;
  if (!o.dry_run) {
    SinkOptions so;
    so.writer = o.writer;
    so.kafka = o.sel.kafka;
    so.kafka_write = o.kafka_write;
    so.kafka_write.policy = o.partition == ReplayPartition::kKeep   ? kafka::PartitionPolicy::kKeep
                            : o.partition == ReplayPartition::kHash ? kafka::PartitionPolicy::kHash
                                                                    : kafka::PartitionPolicy::kFixed;
    so.kafka_write.fixed_partition = o.fixed_partition;
    if (kind == SinkKind::kKafka) {
      auto t = kafka::ParseKafkaUrl(o.dst);
      if (!t.ok()) return t.status();
      if (t->topic.empty()) {
        // The destination topic: --to-topic, else the source topic's name.
        so.default_topic = o.to_topic;
        if (so.default_topic.empty() && !o.sel.paths.empty() && kafka::IsKafkaUrl(o.sel.paths[0])) {
          auto s = kafka::ParseKafkaUrl(o.sel.paths[0]);
          if (s.ok()) so.default_topic = s->topic;
        }
        if (so.default_topic.empty())
          return Status::InvalidArgument(fmt::format("{}: name the destination topic (kafka://HOST/TOPIC or --to-topic)", o.dst));
      }
    }
    auto opened = OpenSink(o.dst, so, reporter);
    if (!opened.ok()) return opened.status();
    sink = std::move(*opened);
    if (resuming) {
      // Back to where the checkpoint left the destination: files and segment directories
      // cut what was written after it (exactly once); with --dedupe, a topic is read past
      // it for this replay's records, which are then skipped at the source.
      RewindResult rr;
      EVT_RETURN_IF_ERROR(sink->Rewind(ck.dest(), o.dedupe ? std::string_view(ck.replay_id) : std::string_view(), &rr));
      if (rr.removed)
        reporter->Notice(fmt::format("replay: removed {} records from {} written after the checkpoint", rr.removed, o.dst));
      if (rr.found)
        reporter->Notice(fmt::format("replay: --dedupe: {} records past the checkpoint are already in {}; they are skipped",
                                     rr.found, o.dst));
      if (!rr.refs.empty()) S.SkipExactly(rr.refs);
    }
    if (!resuming || (!sink->rewinds_exactly() && ck.dest_ends.empty())) {
      // Where the destination starts: what a rerun goes back to.
      SinkPosition at;
      EVT_RETURN_IF_ERROR(sink->Commit(&at));
      ck.set_dest(at);
    }
  }

  if (!o.checkpoint.empty() && !o.dry_run && !resuming) EVT_RETURN_IF_ERROR(WriteCheckpoint(o.checkpoint, ck));

  if (o.dry_run) {
    EVT_RETURN_IF_ERROR(PlanSelection(&S, &st->plan, &st->selected));
    st->scanned = S.scanned();
    st->missing_time_field = S.missing_time_field();
    st->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return Status::OK();
  }

  Pacer pacer(o.rate, o.speed, o.max_gap_ms);
  std::unique_ptr<Encoder> encoder;
  if (o.encode.any()) encoder = std::make_unique<Encoder>(o.encode);
  const int64_t start_ns = SteadyNs();
  int64_t last_ck_ns = start_ns;
  RecordBatch in, out;
  std::string prov;
  int64_t pending_due = -1;  // due time of the record the pacer has scheduled but not sent
  const int64_t now_ts = NowMs();
  int64_t stamp = now_ts;  // --now-timestamps
  uint64_t stamp_count = 0;

  // Ctrl-C while the pacer waits inside a batch: the rest of the batch is not sent. For
  // sources read by offset the checkpoint then names the first unsent record; a JSON Lines
  // source is resumed by a count of records consumed, so its batch is sent out unpaced.
  std::pair<std::string, int32_t> unsent_tp;
  int64_t unsent_next = -1;
  const bool finish_batch_on_stop = S.is_jsonl();
  // --group: what the destination acknowledged is committed, per assigned partition.
  auto group_commit = [&](const std::vector<int32_t>* only) -> Status {
    SinkPosition at;
    EVT_RETURN_IF_ERROR(sink->Commit(&at));
    return group->CommitDone(only, [&](int32_t p) { return unsent_tp.second == p ? unsent_next : -1; });
  };
  auto checkpoint = [&](bool complete) -> Status {
    if (grouped) return group_commit(nullptr);
    if (o.checkpoint.empty() || o.dry_run) return Status::OK();
    // Everything handed to the sink is made durable or acknowledged first.
    SinkPosition at;
    EVT_RETURN_IF_ERROR(sink->Commit(&at));
    ck.positions = S.positions();
    // Stopped inside a batch: its records from the first unsent one were read, not sent.
    if (unsent_next >= 0) ck.positions[unsent_tp] = unsent_next;
    ck.jsonl_records = S.jsonl_records();
    ck.complete = complete;
    ck.set_dest(at);
    return WriteCheckpoint(o.checkpoint, ck);
  };

  auto progress = [&](bool final) {
    if (!o.progress) return;
    JobProgress p;
    p.job = "replay";
    p.done = st->written;
    p.estimate = S.estimated_records();
    p.seconds = (SteadyNs() - start_ns) / 1e9;
    p.behind_ms = pacer.active() ? st->max_lag_ms : -1;
    o.progress->Update(p, final);
  };

  // --group, a rebalance: before partitions go, what was sent is acknowledged and
  // committed; if they come back they are read again from the commit.
  Status revoke_error;
  GroupRun::RevokeScope revoke_scope(group.get(), [&](const std::vector<int32_t>& parts) {
    Status cs = group_commit(&parts);
    if (!cs.ok() && revoke_error.ok()) revoke_error = cs;
    for (int32_t p : parts) S.ForgetPosition(group->topic(), p);
  });
  const int64_t ck_interval_ms =
      grouped ? std::min(o.checkpoint_interval_ms, GroupRun::kCommitIntervalMs) : o.checkpoint_interval_ms;

  Status result;
  for (;;) {
    bool eof = false;
    result = S.Next(&in, &eof);
    if (result.ok() && !revoke_error.ok()) result = revoke_error;
    if (!result.ok() || eof) break;
    if (grouped && in.records.empty()) {
      // Nothing to read now: commit, and once this member's partitions are done, ask
      // whether the whole run is.
      if (o.stop.requested()) {
        result = Status::Interrupted();
        break;
      }
      progress(false);
      if (SteadyNs() - last_ck_ns >= ck_interval_ms * 1000000) {
        result = checkpoint(false);
        if (!result.ok()) break;
        last_ck_ns = SteadyNs();
      }
      if (group->CompletionCheckDue()) {
        result = checkpoint(false);
        if (!result.ok()) break;
        auto all = group->RunComplete();
        if (!all.ok()) {
          result = all.status();
          break;
        }
        if (*all) break;
      }
      continue;
    }
    Status s;
    const std::string& topic = o.to_topic.empty() ? in.topic : o.to_topic;
    // Map, stamp and pace, in runs of records that are due.
    size_t i = 0;
    while (i < in.records.size()) {
      out.Clear();
      out.topic = topic;
      out.partition = o.partition == ReplayPartition::kFixed ? o.fixed_partition : in.partition;
      out.file = in.file;
      out.ShareBuffers(in);
      stamp_count = 0;
      for (; i < in.records.size(); ++i) {
        const Record& r = in.records[i];
        if (pacer.active() && !(finish_batch_on_stop && o.stop.requested())) {
          if (pending_due < 0) pending_due = pacer.Due(S.TimeOf(r));
          if (pending_due > SteadyNs() - start_ns) {
            if (!out.records.empty()) break;  // send what is due first
            SleepUntil(start_ns + pending_due, o.stop);
            if (o.stop.requested() && !finish_batch_on_stop) break;
          }
          st->max_lag_ms = std::max(st->max_lag_ms, (SteadyNs() - start_ns - pending_due) / 1e6);
          pending_due = -1;
        }
        Record c = r;
        if (o.partition == ReplayPartition::kFixed) c.partition = o.fixed_partition;
        if (o.now_timestamps) {
          // The time of sending: unpaced, read every 64 records of a run (a clock read per
          // record costs more than the millisecond it could add); paced, per record.
          if (pacer.active() || (stamp_count++ & 63) == 0) stamp = now_ts + (SteadyNs() - start_ns) / 1000000;
          c.timestamp = stamp;
          c.timestamp_type = TimestampType::kCreateTime;
        }
        c.header_begin = static_cast<uint32_t>(out.headers.size());
        const Header* hs = in.HeadersOf(r);
        out.headers.insert(out.headers.end(), hs, hs + r.header_count);
        if (o.provenance) {
          prov = fmt::format("{}/{}/{}", in.topic, in.partition, r.offset);
          out.headers.push_back(Header{"evt.source", Bytes::Of(out.arena.Copy(prov))});
          out.headers.push_back(Header{"evt.replay.id", Bytes::Of(out.arena.Copy(ck.replay_id))});
          c.header_count += 2;
        }
        out.records.push_back(c);
        if (st->first_ts < 0) st->first_ts = r.timestamp;
        st->last_ts = r.timestamp;
        st->bytes += r.key.size + r.value.size;
      }
      if (out.records.empty()) break;
      // --encode: what encodes before a value that does not is still sent.
      Status es = encoder ? encoder->Encode(&out) : Status::OK();
      s = out.records.empty() ? Status::OK() : sink->Write(out);
      if (s.ok()) s = es;
      if (!s.ok()) {
        result = s;
        break;
      }
      st->written += out.records.size();
      st->selected += out.records.size();
      if (o.stop.requested() && !finish_batch_on_stop) break;
    }
    if (o.stop.requested() && i < in.records.size()) {
      unsent_tp = {in.topic, in.partition};
      unsent_next = in.records[i].offset;
    }
    if (!result.ok()) break;
    if (o.stop.requested()) {
      result = Status::Interrupted();
      break;
    }
    progress(false);
    if ((grouped || !o.checkpoint.empty()) && SteadyNs() - last_ck_ns >= ck_interval_ms * 1000000) {
      result = checkpoint(false);
      if (!result.ok()) break;
      last_ck_ns = SteadyNs();
    }
  }
  st->scanned = S.scanned();
  st->missing_time_field = S.missing_time_field();
  // Ctrl-C or an error: what reached the sink is made durable and checkpointed (Commit
  // waits for it, boundedly, also after Ctrl-C).
  bool interrupted = result.code() == Code::kInterrupted;
  Status ckst = (result.ok() || interrupted) ? checkpoint(result.ok()) : Status::OK();
  Status cs = sink ? sink->Close() : Status::OK();
  progress(true);
  st->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!result.ok()) return result;
  if (!ckst.ok()) return ckst;
  return cs;
}

std::string ReplayStatsJson(const ReplayStats& s) {
  return fmt::format(
      "{{\"replay_id\":\"{}\",\"resumed\":{},\"already_complete\":{},\"scanned\":{},\"selected\":{},\"written\":{},"
      "\"missing_time_field\":{},\"first_timestamp\":{},\"last_timestamp\":{},\"bytes\":{},\"seconds\":{:.3f},"
      "\"max_lag_ms\":{:.1f}}}\n",
      s.replay_id, s.resumed, s.already_complete, s.scanned, s.selected, s.written, s.missing_time_field, s.first_ts,
      s.last_ts, s.bytes, s.seconds, s.max_lag_ms);
}

}  // namespace evt
