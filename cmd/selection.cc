// The selection flags replay and backfill share (cmd/selection.h).
#include "cmd/selection.h"

#include <cstdio>

#include "formats/envelope/envelope.h"
#include "lib/jobs/group_run.h"

#include <fmt/format.h>

namespace evt::cmd {

void AddSelectionFlags(CLI::App* app, SelectionFlags* f) {
  AddReadFlags(app, &f->read, /*with_merge=*/true, /*with_control=*/false);
  AddWhereFlags(app, &f->read);
  app->add_option("--time-field", f->time_field,
                  "Bound --from/--until times by event time read from this field of the value (e.g. .time; RFC 3339 "
                  "strings or epoch milliseconds), a filter over the scanned range");
  app->add_option("--keys", f->keys_file, "Only records whose key is one of the lines of FILE");
  app->add_option("--partitions", f->partitions, "Only these source partitions (e.g. 0,2-4)");
  AddHeaderFlags(app, &f->headers);
  AddKafkaFlags(app, &f->kafka, kKafkaReader);
  AddDecodeFlags(app, &f->decode, /*job=*/true);
}

Status ResolveSelection(const SelectionFlags& f, const std::vector<std::string>& sources, SelectionOptions* o,
                        std::string* identity) {
  o->paths = sources;
  for (auto& s : o->paths)
    s = WithBrokers(s, f.kafka);
  EVT_RETURN_IF_ERROR(ResolveReadFlags(f.read, &o->read, &o->merge_time));
  EVT_RETURN_IF_ERROR(CheckOnCorruption(o->read, o->paths));
  o->where = WhereFrom(f.read);
  EVT_RETURN_IF_ERROR(ResolveKafkaConfig(f.kafka, &o->kafka));
  EVT_RETURN_IF_ERROR(ResolveKafkaRead(f.kafka, &o->kafka_read));
  o->time_field = f.time_field;
  if (!f.time_field.empty()) {
    // Time bounds become event-time bounds; offsets stay offsets.
    if (o->read.from.kind == Bound::kTime) {
      o->event_from = o->read.from.value;
      o->read.from = Bound{Bound::kBeginning, 0};
    }
    if (o->read.until.kind == Bound::kTime) {
      o->event_until = o->read.until.value;
      o->read.until = Bound{Bound::kNone, 0};
    }
  }
  std::string keys_hash;
  if (!f.keys_file.empty()) {
    // Read once: the selection uses the keys, the identity their hash.
    auto k = ReadKeysFile(f.keys_file);
    if (!k.ok()) return k.status();
    o->keys = *k;
    keys_hash = o->keys->hash;
  }
  if (!f.partitions.empty()) {
    auto p = kafka::ParsePartitionList(f.partitions);
    if (!p.ok()) return Status::InvalidArgument("--partitions: " + p.status().message());
    o->partitions = *p;
  }
  EVT_RETURN_IF_ERROR(ResolveHeaderFlags(f.headers, &o->headers));
  {
    StderrReporter rep;  // schema sources opened here (a _schemas topic, a registry) warn on stderr
    EVT_RETURN_IF_ERROR(ResolveDecodeFlags(f.decode, f.kafka, f.read.strict, o, &rep, &o->decode));
  }
  *identity = fmt::format("src={}|from={}|until={}|merge={}|time-field={}|where={}|keys={}|partitions={}",
                          fmt::join(o->paths, ","), f.read.from, f.read.until, f.read.merge, f.time_field,
                          fmt::join(f.read.where, "\x1f"), keys_hash, f.partitions);
  *identity += HeaderFlagsIdentity(f.headers);
  if (o->decode.any())  // decoded records are other records: a checkpoint of another decoding is refused
    *identity += fmt::format("|decode={}|decode-key={}|schemas={}|schema={}|avro-json={}", f.decode.decode,
                             f.decode.decode_key, fmt::join(f.decode.schemas, ","), f.decode.schema,
                             f.decode.avro_json);
  if (o->decode.any() && !f.decode.message.empty()) *identity += "|message=" + f.decode.message;
  return Status::OK();
}

Status FinishSelectionJob(Status run, bool dry_run, const std::vector<PartitionPlan>& plan, const ReadOptions& ro,
                          const StderrReporter& rep, const std::string& stats_file, const std::string& stats_json) {
  if (dry_run && run.ok()) run = WriteResults(true, "", PlanJson(plan), run);
  Status s = AfterRead(run, ro, rep);
  if (!stats_file.empty()) {
    Status js = WriteFileAtomic(stats_file, stats_json);
    if (s.ok()) s = js;
  }
  return s;
}

int GroupStatusCommand(const char* job, const SelectionFlags& f, const std::vector<std::string>& sources,
                       const std::string& group, bool json) {
  if (group.empty()) return Finish(Status::InvalidArgument("--status shows a --group run: give --group G"));
  SelectionOptions o;
  std::string identity;
  Status s = ResolveSelection(f, sources, &o, &identity);
  if (!s.ok()) return Finish(s);
  GroupStatusReport r;
  s = GroupStatus(o, group, 1000, &r);
  if (!s.ok()) return Finish(s);
  int64_t remaining = 0, done = 0, total = 0;
  for (const auto& p : r.parts) {
    remaining += p.remaining;
    total += p.end - p.start;
    done += p.end - p.start - p.remaining;
  }
  auto eta = [&](int64_t left) -> std::string {
    if (left == 0) return "done";
    if (r.rate <= 0) return "-";
    return fmt::format("{:.0f}s", left / r.rate);
  };
  std::string out;
  if (json) {
    std::string topic;
    envelope::AppendJsonString(r.topic, &topic);
    for (const auto& p : r.parts) {
      std::string owner = "null";
      if (r.owners_known) {
        owner.clear();
        envelope::AppendJsonString(r.owners.count(p.partition) ? r.owners.at(p.partition) : "", &owner);
      }
      out += fmt::format(
          "{{\"topic\":{},\"partition\":{},\"run\":\"{}\",\"start\":{},\"committed\":{},\"end\":{},"
          "\"remaining\":{},\"owner\":{}}}\n",
          topic, p.partition, p.run, p.start, p.committed, p.end, p.remaining, owner);
    }
  } else {
    out += fmt::format("{:>9} {:>12} {:>12} {:>12} {:>12} {:>8}  {}\n", "partition", "start", "committed", "end",
                       "remaining", "eta", "owner");
    for (const auto& p : r.parts) {
      std::string owner = r.owners_known ? (r.owners.count(p.partition) ? r.owners.at(p.partition) : "-") : "n/a";
      out += fmt::format("{:>9} {:>12} {:>12} {:>12} {:>12} {:>8}  {}\n", p.partition, p.start, p.committed, p.end,
                         p.remaining, p.remaining == 0 ? "done" : "", owner);
    }
    out += fmt::format("{:>9} {:>12} {:>12} {:>12} {:>12} {:>8}\n", "total", "", done, total, remaining,
                       eta(remaining));
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  PrintSummary(fmt::format("{} --group {}: run {}: {} of {} records done, {} remaining{}{}", job, group, r.run, done,
                           total, remaining,
                           r.rate > 0 ? fmt::format(", {:.0f}/s, ETA {}", r.rate, eta(remaining)) : "",
                           r.owners_known ? "" : "; " + r.owners_note));
  return kExitOk;
}

}  // namespace evt::cmd
