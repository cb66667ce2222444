// evt dlq summary|show|redrive SRC...: dead-letter queues grouped by cause, shown with
// their decoded error headers, and sent back where they came from (capped, rate-limited,
// never twice).
#include <fmt/format.h>
#include <unistd.h>

#include "cmd/common.h"
#include "cmd/selection.h"
#include "lib/base/term.h"
#include "lib/jobs/dlq.h"

namespace evt::cmd {
namespace {

// What every dlq subcommand reads: SRC..., the selection flags, the profile.
struct DlqFlags {
  std::vector<std::string> sources;
  SelectionFlags sel;
  std::string profile = "auto", header_map, fingerprint;
};

// `decode`: --decode/--schemas for what is shown (summary, show; never redrive, which sends
// the stored bytes back).
void AddDlqReadFlags(CLI::App* app, DlqFlags* f, bool decode) {
  app->add_option("SRC", f->sources,
                  "The dead-letter queue: a topic kafka://HOST/TOPIC (or -t), segment files or directories, or an "
                  "envelope JSON Lines file");
  AddReadFlags(app, &f->sel.read, /*with_merge=*/false, /*with_control=*/false);
  AddWhereFlags(app, &f->sel.read);
  app->add_option("--keys", f->sel.keys_file, "Only records whose key is one of the lines of FILE");
  app->add_option("--partitions", f->sel.partitions, "Only these partitions of the DLQ (e.g. 0,2-4)");
  AddKafkaFlags(app, &f->sel.kafka, kKafkaTopic | kKafkaReader);
  if (decode) AddDecodeFlags(app, &f->sel.decode, /*job=*/true);
  app->add_option("--profile", f->profile,
                  "Which convention wrote the dead-letter headers: auto (default, per record), connect, spring, "
                  "streams, evt, custom");
  app->add_option("--header-map", f->header_map,
                  "Headers of a home-made DLQ: original.topic=H,original.partition=H:int32,original.offset=H:int64,"
                  "error.class=H,error.message=H,... (:int32/:int64 big-endian binary, :string decimal text, the default)");
  app->add_option("--fingerprint", f->fingerprint, "Only the group with this fingerprint (from dlq summary; a prefix will do)");
}

Status ResolveDlqRead(const DlqFlags& f, DlqReadOptions* o, std::string* identity) {
  std::vector<std::string> sources = f.sources;
  EVT_RETURN_IF_ERROR(KafkaSourcePaths(f.sel.kafka, &sources));
  EVT_RETURN_IF_ERROR(ResolveSelection(f.sel, sources, &o->sel, identity));
  auto p = dlq::ParseProfile(f.profile);
  if (!p.ok()) return p.status();
  o->profile = *p;
  if (!f.header_map.empty()) {
    EVT_RETURN_IF_ERROR(dlq::ParseHeaderMap(f.header_map, &o->header_map));
    if (o->profile != dlq::Profile::kNone && o->profile != dlq::Profile::kCustom)
      return Status::InvalidArgument("--header-map is the custom profile: it goes with --profile auto or custom");
  } else if (o->profile == dlq::Profile::kCustom) {
    return Status::InvalidArgument("--profile custom needs --header-map");
  }
  o->fingerprint = f.fingerprint;
  for (char c : f.fingerprint)
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return Status::InvalidArgument(fmt::format("--fingerprint: '{}' is not a fingerprint (hex digits, from dlq summary)",
                                                 f.fingerprint));
  return Status::OK();
}

// The brokers of the DLQ's own cluster when it is a topic ("" otherwise).
std::string SourceBrokers(const DlqReadOptions& o) {
  for (const auto& p : o.sel.paths)
    if (kafka::IsKafkaUrl(p)) {
      auto t = kafka::ParseKafkaUrl(p);
      if (t.ok()) return t->brokers;
    }
  return "";
}

RunFn SetupSummary(CLI::App* app) {
  struct Flags : DlqFlags {
    std::string by, format = "auto";
  };
  auto f = std::make_shared<Flags>();
  AddDlqReadFlags(app, f.get(), /*decode=*/true);
  app->add_option("--by", f->by,
                  "Group by these fields (default topic,class,stage,connector,fingerprint; also partition, cause, "
                  "group, profile, dlq_topic)");
  app->add_option("--format", f->format, "auto (a table on a terminal, JSON Lines otherwise), table or json")
      ->check(CLI::IsMember({"auto", "table", "json"}));
  return [f]() {
    if (PrintPropertyListIfAsked(f->sel.kafka)) return kExitOk;
    DlqSummaryOptions o;
    std::string identity;
    if (Status s = ResolveDlqRead(*f, &o.read, &identity); !s.ok()) return Finish(s);
    if (!f->by.empty()) {
      auto by = ParseDlqFields(f->by);
      if (!by.ok()) return Finish(by.status());
      o.by = *by;
    }
    StderrReporter rep;
    DlqSummary sum;
    Status s = RunDlqSummary(o, &rep, &sum);
    if (s.ok()) {
      bool table = f->format == "table" || (f->format == "auto" && IsTerminal(1));
      s = Stdout()->Append(table ? DlqSummaryTable(sum) : DlqSummaryJson(sum));
    }
    if (s.code() == Code::kInterrupted) return kExitInterrupted;
    return Finish(AfterRead(s, o.read.sel.read, rep));
  };
}

RunFn SetupShow(CLI::App* app) {
  struct Flags : DlqFlags {
    std::string format;
    int64_t limit = -1;
    bool with_original = false;
  };
  auto f = std::make_shared<Flags>();
  AddDlqReadFlags(app, f.get(), /*decode=*/true);
  app->add_option("-n,--limit", f->limit, "Stop after N records")->check(AtLeast(0));
  app->add_option("--format,-f", f->format,
                  "The records as evt cat prints them: envelope, value, cloudevents or a template ('%k %v\\n'); "
                  "default: one JSON line per dead letter with its decoded headers");
  app->add_flag("--with-original", f->with_original,
                "Fetch each original record from its topic (when still retained) and say whether it matches");
  return [f]() {
    if (PrintPropertyListIfAsked(f->sel.kafka)) return kExitOk;
    DlqShowOptions o;
    std::string identity;
    if (Status s = ResolveDlqRead(*f, &o.read, &identity); !s.ok()) return Finish(s);
    if (f->with_original && !f->format.empty())
      return Finish(Status::InvalidArgument("--with-original goes with the default output, not -f"));
    o.format = f->format;
    o.limit = f->limit;
    o.with_original = f->with_original;
    o.kafka = o.read.sel.kafka;
    o.brokers = !f->sel.kafka.brokers.empty() ? f->sel.kafka.brokers : SourceBrokers(o.read);
    StderrReporter rep;
    DlqShowStats st;
    Status s = RunDlqShow(o, Stdout(), &rep, &st);
    if (s.ok() && o.with_original && (st.originals_missing || st.originals_differ))
      PrintSummary(fmt::format("dlq show: {} originals found ({} differ from their dead letter), {} not found",
                               st.originals_found, st.originals_differ, st.originals_missing));
    if (s.code() == Code::kInterrupted) return kExitInterrupted;
    return Finish(AfterRead(s, o.read.sel.read, rep));
  };
}

RunFn SetupRedrive(CLI::App* app) {
  struct Flags : DlqFlags {
    std::string to, partition = "keep", ledger, compression = "zstd", stats_json, commit_group;
    uint64_t max = 1000;
    int64_t max_redrives = 3;
    double rate = 0;
    int producers = 0;
    bool dry_run = false, all = false, keep_headers = false, status = false;
    CLI::Option* max_opt = nullptr;
    EncodeFlags encode;
  };
  auto f = std::make_shared<Flags>();
  AddDlqReadFlags(app, f.get(), /*decode=*/false);
  app->add_option("--to", f->to,
                  "Send every record to this topic (TOPIC or kafka://HOST/TOPIC) instead of its original topic");
  app->add_option("--partition", f->partition,
                  "Destination partition: keep (the original one, default), hash (Java's murmur2 of the key) or N");
  app->add_flag("--dry-run", f->dry_run,
                "Count what would be sent, per destination topic/partition and per fingerprint (JSON Lines); send "
                "nothing");
  f->max_opt = app->add_option("--max", f->max, "Refuse to send more than N records (default 1000)");
  app->add_flag("--all", f->all, "No --max cap: send every selected record");
  app->add_flag("--keep-headers", f->keep_headers, "Keep the dead-letter headers on the redriven records");
  app->add_option("--max-redrives", f->max_redrives,
                  "Leave records already redriven N times (evt.redrive.count) in the DLQ (default 3)")
      ->check(AtLeast(1));
  app->add_option("--rate", f->rate, "Pace at N records per second")->check(Positive());
  app->add_option("--ledger", f->ledger,
                  "The ledger of what was redriven (default: derived from the source and destination, under "
                  "$EVT_STATE_DIR, $XDG_STATE_HOME/evt or ~/.local/state/evt)");
  app->add_option("--commit-group", f->commit_group,
                  "DLQ topic: commit this consumer group's offsets past the records handled, as they are redriven");
  app->add_flag("--status", f->status, "Print the ledger's progress (JSON) and exit");
  app->add_option("--compression", f->compression, "Batch codec: none, gzip, snappy, lz4, zstd")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  AddProducersFlag(app, &f->producers);
  app->add_option("--stats-json", f->stats_json, "Write the run's figures as JSON to FILE");
  // --encode: dead letters read from JSON Lines with decoded (and edited) values go back as
  // the bytes their consumers read.
  AddEncodeFlags(app, &f->encode, /*schema_flags=*/true);
  return [f]() {
    if (PrintPropertyListIfAsked(f->sel.kafka)) return kExitOk;
    DlqRedriveOptions o;
    std::string sel_identity;
    if (Status s = ResolveDlqRead(*f, &o.read, &sel_identity); !s.ok()) return Finish(s);
    // The destination cluster: the --to URL's, -b's, the DLQ topic's, else $EVT_BROKERS.
    o.brokers = !f->sel.kafka.brokers.empty() ? f->sel.kafka.brokers : SourceBrokers(o.read);
    if (kafka::IsKafkaUrl(f->to)) {
      auto t = kafka::ParseKafkaUrl(WithBrokers(f->to, f->sel.kafka));
      if (!t.ok()) return Finish(t.status());
      if (t->topic.empty()) return Finish(Status::InvalidArgument("--to: name the topic (kafka://HOST/TOPIC)"));
      if (!t->brokers.empty()) o.brokers = t->brokers;
      o.to_topic = t->topic;
    } else {
      o.to_topic = f->to;
    }
    PartitionChoice pc;
    if (Status ps = ParsePartitionFlag(f->partition, &pc, &o.fixed_partition); !ps.ok()) return Finish(ps);
    o.partition = pc == PartitionChoice::kKeep   ? kafka::PartitionPolicy::kKeep
                  : pc == PartitionChoice::kHash ? kafka::PartitionPolicy::kHash
                                                 : kafka::PartitionPolicy::kFixed;
    if (pc == PartitionChoice::kFixed && o.to_topic.empty())
      return Finish(Status::InvalidArgument("--partition N goes with --to (original topics differ in partitions)"));
    o.identity = fmt::format("dlq-redrive|src={}|to={}|brokers={}", fmt::join(o.read.sel.paths, ","), o.to_topic,
                             o.brokers);
    o.ledger = f->ledger.empty() ? DefaultLedgerPath(o.identity) : f->ledger;
    if (f->status) {
      std::string json;
      Status s = DlqLedgerStatus(o.ledger, &json);
      if (s.ok()) s = Stdout()->Append(json);
      return Finish(s);
    }
    if (f->all && f->max_opt->count() > 0) return Finish(Status::InvalidArgument("--all or --max: one"));
    o.commit_group = f->commit_group;
    o.dlq_brokers = !f->sel.kafka.brokers.empty() ? f->sel.kafka.brokers : SourceBrokers(o.read);
    if (!o.commit_group.empty() && o.dlq_brokers.empty()) {
      auto t = kafka::KafkaTargetFrom("", "x");  // $EVT_BROKERS
      if (t.ok()) o.dlq_brokers = t->brokers;
    }
    o.dry_run = f->dry_run;
    o.max = f->max;
    o.all = f->all;
    o.keep_headers = f->keep_headers;
    o.max_redrives = f->max_redrives;
    o.rate = f->rate;
    o.kafka_write.compression = f->compression;
    o.kafka_write.producers = f->producers;
    auto progress = MakeProgress(f->dry_run);
    o.progress = progress.get();
    StderrReporter rep;
    if (Status es = ResolveEncodeFlags(f->encode, f->sel.kafka, &o.read.sel.kafka, nullptr, &rep, &o.encode); !es.ok())
      return Finish(es);
    DlqRedriveStats st;
    Status s = RunDlqRedrive(o, &rep, &st);
    if (o.dry_run && s.ok()) s = Stdout()->Append(DlqRedrivePlanJson(st));
    if (!f->stats_json.empty()) {
      Status js = WriteFileAtomic(f->stats_json, DlqRedriveStatsJson(st));
      if (s.ok()) s = js;
    }
    if (!o.dry_run && !st.capped && (s.ok() || s.code() == Code::kInterrupted || s.code() == Code::kDataProblem)) {
      std::string skipped;
      if (st.already) skipped += fmt::format(", {} already redriven", st.already);
      if (st.recovered) skipped += fmt::format(", {} found delivered by an interrupted run", st.recovered);
      if (st.too_many_redrives)
        skipped += fmt::format(", {} left after {} redrives", st.too_many_redrives, o.max_redrives);
      if (st.no_coordinates) skipped += fmt::format(", {} without original coordinates (use --to)", st.no_coordinates);
      if (st.bad_partition) skipped += fmt::format(", {} to partitions that do not exist", st.bad_partition);
      PrintSummary(fmt::format("dlq redrive: {} {} of {} selected records in {:.1f} s{}; ledger {}",
                               s.ok() ? "sent" : "interrupted after", st.delivered, st.selected, st.seconds, skipped,
                               o.ledger));
    } else if (o.dry_run && s.ok()) {
      PrintSummary(fmt::format("dlq redrive: would send {} of {} selected records{}", st.planned, st.selected,
                               st.planned > o.max && !o.all ? fmt::format(" (more than --max {})", o.max) : ""));
    }
    if (s.code() == Code::kInterrupted) return kExitInterrupted;
    return Finish(AfterRead(s, o.read.sel.read, rep));
  };
}

}  // namespace

RunFn SetupDlq(CLI::App* app) {
  app->require_subcommand(1);
  struct Sub {
    const char* name;
    const char* summary;
    RunFn (*setup)(CLI::App*);
  };
  static const Sub kSubs[] = {
      {"summary", "Group dead letters by original topic, error class, stage/connector and message fingerprint",
       SetupSummary},
      {"show", "Print dead letters with their original coordinates and decoded error headers", SetupShow},
      {"redrive", "Send dead letters back to their original topic and partition: capped, paced, never twice",
       SetupRedrive},
  };
  auto runs = std::make_shared<std::vector<std::pair<CLI::App*, RunFn>>>();
  for (const Sub& s : kSubs) {
    CLI::App* sub = app->add_subcommand(s.name, s.summary);
    runs->emplace_back(sub, s.setup(sub));
  }
  return [runs]() {
    for (auto& [sub, run] : *runs)
      if (sub->parsed()) return run();
    return kExitUsage;
  };
}

}  // namespace evt::cmd
