// evt replay SRC... DST: move a chosen slice of history to a topic, a segment directory,
// a JSON Lines file or stdout; paced, checkpointed, safe to kill.
#include <fmt/format.h>
#include <unistd.h>

#include "cmd/common.h"
#include "cmd/selection.h"
#include "formats/kafka/compression.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"
#include "lib/jobs/replay.h"
#include "lib/pipeline/selection.h"

namespace evt::cmd {

RunFn SetupReplay(CLI::App* app) {
  struct Flags {
    std::vector<std::string> args;
    SelectionFlags sel;
    std::string to_topic, partition = "keep", max_gap, checkpoint, stats_json, compression = "zstd",
                                        checkpoint_interval = "1s";
    double rate = 0, speed = 0;
    int producers = 0;
    bool keep_ts = false, now_ts = false, provenance = false, dry_run = false, dedupe = false, create_topic = false;
    EncodeFlags encode;
    std::string group, instance_id;
    bool new_run = false, status = false, json = false;
  };
  auto f = std::make_shared<Flags>();
  app->add_option("SRC DST", f->args,
                  "Sources (segment files/directories, kafka://HOST/TOPIC, JSON Lines files) and, last, the "
                  "destination (kafka://HOST/TOPIC, a segment directory, a .jsonl file, or - for stdout)")
      ->required();
  AddSelectionFlags(app, &f->sel);
  app->add_option("--to-topic", f->to_topic, "Rename the destination topic");
  app->add_option("--partition", f->partition,
                  "Destination partition: keep (default), hash (Java's murmur2 of the key; Kafka only) or N");
  app->add_flag("--keep-timestamps", f->keep_ts, "Keep each record's timestamp (the default)");
  app->add_flag("--now-timestamps", f->now_ts, "Stamp records with the time they are replayed");
  app->add_flag("--provenance", f->provenance,
                "Add headers evt.source (topic/partition/offset) and evt.replay.id");
  app->add_option("--rate", f->rate, "Pace at N records per second")->check(Positive());
  app->add_option("--speed", f->speed,
                  "Replay with the original gaps between records scaled: 10 is ten times faster than it happened")
      ->check(Positive());
  app->add_option("--max-gap", f->max_gap, "With --speed: cap idle gaps at this duration (e.g. 5s)");
  app->add_flag("--dry-run", f->dry_run,
                "Print the plan (per partition: offsets, records, times, bytes; JSON Lines) and write nothing");
  app->add_option("--checkpoint", f->checkpoint,
                  "Record progress in FILE and resume from it: rerun the same command after a crash or Ctrl-C");
  app->add_option("--checkpoint-interval", f->checkpoint_interval,
                  "How often to make the destination durable and write the checkpoint (default 1s)");
  app->add_flag("--dedupe", f->dedupe,
                "Kafka destination with --partition keep and --provenance: on resume, skip records already "
                "delivered (exactly once)");
  app->add_option("--compression", f->compression, "Batch codec of the destination: none, gzip, snappy, lz4, zstd")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  AddProducersFlag(app, &f->producers);
  AddCreateTopicFlag(app, &f->create_topic);
  app->add_option("--stats-json", f->stats_json, "Write the run's figures as JSON to FILE");
  AddEncodeFlags(app, &f->encode, /*schema_flags=*/false);
  app->add_option("--group", f->group,
                  "Share the run with every evt replay --group G on the same topic: the partitions the consumer "
                  "group assigns, the run's frozen plan in the group's commit metadata; all exit 0 when it is done");
  app->add_flag("--new-run", f->new_run, "--group: start a new plan (start and end offsets) instead of following the stored one");
  app->add_option("--instance-id", f->instance_id, "--group: static membership (group.instance.id)");
  app->add_flag("--status", f->status,
                "--group: print the run's progress per partition (start, committed, end, remaining, ETA) and exit");
  app->add_flag("--json", f->json, "--status: one JSON object per partition instead of a table");
  return [f]() {
    if (PrintPropertyListIfAsked(f->sel.kafka)) return kExitOk;
    if (f->status) {
      std::vector<std::string> srcs(f->args.begin(), f->args.size() >= 2 ? f->args.end() - 1 : f->args.end());
      return GroupStatusCommand("replay", f->sel, srcs, f->group, f->json);
    }
    if (f->json) return Finish(Status::InvalidArgument("--json is for --status"));
    if (f->group.empty() && (f->new_run || !f->instance_id.empty()))
      return Finish(Status::InvalidArgument("--new-run and --instance-id are for --group"));
    if (f->args.size() < 2) return Finish(Status::InvalidArgument("give at least one source and a destination"));
    if (f->keep_ts && f->now_ts) return Finish(Status::InvalidArgument("--keep-timestamps or --now-timestamps: one"));
    ReplayOptions o;
    std::vector<std::string> sources(f->args.begin(), f->args.end() - 1);
    o.dst = f->args.back();
    o.dst = WithBrokers(o.dst, f->sel.kafka);
    std::string sel_identity;
    // --encode takes --schemas, --schema and --avro-json from the decode flags; without
    // --decode it decodes nothing first (the values are decoded JSON already), and --schema
    // is then the schema to encode with.
    const bool encoding = f->encode.encode != "none";
    EncodeFlags ef = f->encode;
    if (encoding) {
      if (f->sel.decode.decode.empty()) f->sel.decode.decode = "none";
      if (f->sel.decode.decode_key.empty()) f->sel.decode.decode_key = "none";
      ef.avro_json = f->sel.decode.avro_json;
      ef.message = f->sel.decode.message;
      if (f->encode.schema_id < 0) ef.schema = f->sel.decode.schema;
      if (f->sel.decode.decode == "none") f->sel.decode.schema.clear();
    }
    Status s = ResolveSelection(f->sel, sources, &o.sel, &sel_identity);
    if (!s.ok()) return Finish(s);
    if (!f->instance_id.empty()) o.sel.kafka.props.push_back({"group.instance.id", f->instance_id});
    o.group = f->group;
    o.new_run = f->new_run;
    {
      StderrReporter erep;
      if (Status es = ResolveEncodeFlags(ef, f->sel.kafka, &o.sel.kafka, o.sel.decode.schemas, &erep, &o.encode); !es.ok())
        return Finish(es);
    }
    o.to_topic = f->to_topic;
    PartitionChoice pc;
    if (Status ps = ParsePartitionFlag(f->partition, &pc, &o.fixed_partition); !ps.ok()) return Finish(ps);
    o.partition = pc == PartitionChoice::kKeep   ? ReplayPartition::kKeep
                  : pc == PartitionChoice::kHash ? ReplayPartition::kHash
                                                 : ReplayPartition::kFixed;
    o.now_timestamps = f->now_ts;
    o.provenance = f->provenance;
    o.rate = f->rate;
    o.speed = f->speed;
    if (!f->max_gap.empty()) {
      if (Status d = ParseDurationFlag("--max-gap", f->max_gap, &o.max_gap_ms); !d.ok()) return Finish(d);
      if (f->speed <= 0) return Finish(Status::InvalidArgument("--max-gap goes with --speed"));
    }
    o.dry_run = f->dry_run;
    o.checkpoint = f->checkpoint;
    if (Status d = ParseDurationFlag("--checkpoint-interval", f->checkpoint_interval, &o.checkpoint_interval_ms); !d.ok())
      return Finish(d);
    o.dedupe = f->dedupe;
    auto progress = MakeProgress(f->dry_run);
    o.progress = progress.get();
    o.writer.encode.codec = *kafka::ParseCodec(f->compression);
    o.kafka_write.compression = f->compression;
    if (Status k = CheckKafkaSinkFlags(kafka::IsKafkaUrl(o.dst), f->create_topic, f->producers); !k.ok())
      return Finish(k);
    o.kafka_write.producers = f->producers;
    o.kafka_write.create_topic = f->create_topic;
    o.identity = fmt::format("replay|{}|dst={}|to-topic={}|partition={}|now-ts={}|provenance={}", sel_identity, o.dst,
                             f->to_topic, f->partition, f->now_ts, f->provenance);
    if (encoding) o.identity += fmt::format("|encode={}|schema-id={}|schema={}", ef.encode, ef.schema_id, ef.schema);
    StderrReporter rep;
    ReplayStats st;
    Status run = RunReplay(o, &rep, &st);
    s = FinishSelectionJob(run, o.dry_run, st.plan, o.sel.read, rep, f->stats_json, ReplayStatsJson(st));
    if (!st.already_complete && (s.ok() || s.code() == Code::kInterrupted)) {
      std::string extra;
      if (st.missing_time_field)
        extra += fmt::format(", {} without a usable {}", st.missing_time_field, o.sel.time_field);
      if (o.rate > 0 || o.speed > 0) extra += fmt::format(", at most {:.0f} ms behind schedule", st.max_lag_ms);
      if (o.dry_run) {
        PrintSummary(fmt::format("replay: would send {} of {} records scanned{}", st.selected, st.scanned, extra));
      } else {
        PrintSummary(fmt::format("replay: {} {} records to {} in {:.1f} s ({} scanned{}){}",
                               s.ok() ? "sent" : "interrupted after", st.written, o.dst, st.seconds, st.scanned,
                               extra, !o.checkpoint.empty() ? "; checkpoint " + o.checkpoint : ""));
      }
    }
    return Finish(s);
  };
}

}  // namespace evt::cmd
