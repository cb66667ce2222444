// evt offsets show -G GROUP [TOPIC...] | evt offsets reset -G GROUP (--topic T[:P,...] | --all-topics)
// (--to-earliest | --to-latest | --to-offset N | --shift-by N | --to-datetime T | --by-duration D |
// --from-file PLAN) [--execute] [--export FILE]: a group's committed offsets, and moving them.
#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "cmd/common.h"
#include "lib/base/term.h"
#include "lib/base/timeutil.h"
#include "lib/jobs/offsets.h"

namespace evt::cmd {

namespace {

struct OffsetsFlags {
  KafkaFlags kafka;
  std::vector<std::string> args;  // ACTION [TOPIC...]
  std::string group;
  std::vector<std::string> topics;
  bool all_topics = false;
  bool to_earliest = false, to_latest = false;
  std::string to_offset, shift_by, to_datetime, by_duration, from_file;
  bool execute = false, force = false, json = false;
  std::string exp, format;
};

Status ParseInt64Flag(const char* flag, const std::string& text, int64_t* out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || errno || *end) return Status::InvalidArgument(fmt::format("{}: '{}' is not a number", flag, text));
  *out = v;
  return Status::OK();
}

// "T" or "T:P,P,...".
Status ParseTopicSpec(const std::string& spec, LagTopic* out) {
  size_t colon = spec.rfind(':');
  out->topic = spec.substr(0, colon);
  if (out->topic.empty() || out->topic.find('/') != std::string::npos)
    return Status::InvalidArgument(fmt::format("--topic: '{}' is not TOPIC or TOPIC:P,P,...", spec));
  if (colon == std::string::npos) return Status::OK();
  std::string list = spec.substr(colon + 1);
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string p = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    int64_t v = -1;
    if (!ParseInt64Flag("--topic", p, &v).ok() || v < 0 || v > INT32_MAX)
      return Status::InvalidArgument(fmt::format("--topic: '{}' in '{}' is not a partition number", p, spec));
    out->partitions.push_back(static_cast<int32_t>(v));
    pos = comma == std::string::npos ? list.size() + 1 : comma + 1;
  }
  return Status::OK();
}

Status Resolve(const OffsetsFlags& f, OffsetsOptions* o, bool* reset, std::string* format) {
  if (f.args.empty() || (f.args[0] != "show" && f.args[0] != "reset"))
    return Status::InvalidArgument(fmt::format("expected `evt offsets show` or `evt offsets reset`{}",
                                               f.args.empty() ? "" : fmt::format(", not '{}'", f.args[0])));
  *reset = f.args[0] == "reset";
  if (f.group.empty()) return Status::InvalidArgument("which group? -G GROUP");
  o->group = f.group;
  EVT_RETURN_IF_ERROR(ResolveKafkaConfig(f.kafka, &o->kafka));
  auto b = kafka::KafkaTargetFrom(f.kafka.brokers, "");
  if (!b.ok()) return b.status();
  o->brokers = b->brokers;
  int modes = f.to_earliest + f.to_latest + !f.to_offset.empty() + !f.shift_by.empty() + !f.to_datetime.empty() +
              !f.by_duration.empty() + !f.from_file.empty();
  if (!*reset) {
    if (modes || !f.topics.empty() || f.all_topics || f.execute || f.force || !f.exp.empty())
      return Status::InvalidArgument(
          "evt offsets show takes topics as arguments; --topic, --all-topics, --to-*, --shift-by, --by-duration, "
          "--from-file, --execute, --export and --force are for `evt offsets reset`");
    for (size_t i = 1; i < f.args.size(); ++i) {
      LagTopic t;
      EVT_RETURN_IF_ERROR(ParseTopicSpec(f.args[i], &t));
      o->topics.push_back(t);
    }
    if (f.format == "csv") return Status::InvalidArgument("--format csv is the plan of `evt offsets reset`");
  } else {
    if (f.args.size() > 1)
      return Status::InvalidArgument(fmt::format("evt offsets reset: name topics with --topic {} (not as arguments)",
                                                 f.args[1]));
    if (modes != 1)
      return Status::InvalidArgument(
          "evt offsets reset needs exactly one of --to-earliest, --to-latest, --to-offset N, --shift-by N, "
          "--to-datetime T, --by-duration D, --from-file PLAN");
    for (const auto& spec : f.topics) {
      LagTopic t;
      EVT_RETURN_IF_ERROR(ParseTopicSpec(spec, &t));
      o->topics.push_back(t);
    }
    if (o->topics.empty() == !f.all_topics && f.from_file.empty())
      return Status::InvalidArgument("which partitions? --topic T[:P,...] (repeatable) or --all-topics, not both");
    if (!o->topics.empty() && f.all_topics) return Status::InvalidArgument("--topic and --all-topics contradict each other");
    o->all_topics = f.all_topics;
    if (f.to_earliest) o->mode = ResetMode::kEarliest;
    if (f.to_latest) o->mode = ResetMode::kLatest;
    if (!f.to_offset.empty()) {
      o->mode = ResetMode::kOffset;
      EVT_RETURN_IF_ERROR(ParseInt64Flag("--to-offset", f.to_offset, &o->value));
      if (o->value < 0) return Status::InvalidArgument("--to-offset: an offset is >= 0");
    }
    if (!f.shift_by.empty()) {
      o->mode = ResetMode::kShiftBy;
      EVT_RETURN_IF_ERROR(ParseInt64Flag("--shift-by", f.shift_by, &o->value));
    }
    if (!f.to_datetime.empty()) {
      o->mode = ResetMode::kDatetime;
      auto t = ParseBound(f.to_datetime, NowMs());
      if (!t.ok() || t->kind != Bound::kTime)
        return Status::InvalidArgument(fmt::format(
            "--to-datetime: expected a time (RFC 3339, @EPOCH_MS, now or -DURATION), not '{}'", f.to_datetime));
      o->value = t->value;
    }
    if (!f.by_duration.empty()) {
      o->mode = ResetMode::kDatetime;
      int64_t ms = 0;
      EVT_RETURN_IF_ERROR(ParseDurationFlag("--by-duration", f.by_duration, &ms));
      o->value = NowMs() - ms;
    }
    if (!f.from_file.empty()) {
      o->mode = ResetMode::kFile;
      o->from_file = f.from_file;
    }
    o->execute = f.execute;
    o->force = f.force;
  }
  if (f.json && !f.format.empty() && f.format != "json")
    return Status::InvalidArgument(fmt::format("--json and --format {} contradict each other", f.format));
  *format = f.json ? "json" : !f.format.empty() ? f.format : IsTerminal(1) ? "table" : "json";
  return Status::OK();
}

}  // namespace

RunFn SetupOffsets(CLI::App* app) {
  auto f = std::make_shared<OffsetsFlags>();
  app->add_option("ACTION", f->args,
                  "show [TOPIC[:P,...]...]: the group's committed offsets (default: every topic it has commits for); "
                  "reset: plan (and with --execute apply) new offsets")
      ->required();
  app->add_option("-G,--group", f->group, "The consumer group")->expected(1);
  AddKafkaFlags(app, &f->kafka, 0);
  AddRepeatable(app, "--topic", &f->topics, "reset: the partitions to reset, TOPIC or TOPIC:P,P,... (repeatable)");
  app->add_flag("--all-topics", f->all_topics, "reset: every partition of every topic the group has commits for");
  app->add_flag("--to-earliest", f->to_earliest, "reset to the log start");
  app->add_flag("--to-latest", f->to_latest, "reset to the log end (skip everything not yet read)");
  app->add_option("--to-offset", f->to_offset, "reset to offset N (clamped to the log, with a warning)");
  app->add_option("--shift-by", f->shift_by, "move the committed offset by N (negative: read again)");
  app->add_option("--to-datetime", f->to_datetime,
                  "reset to the first record at or after time T (RFC 3339, @EPOCH_MS, -2h, any time evt accepts)");
  app->add_option("--by-duration", f->by_duration, "reset to the first record of the last DURATION (now - D)");
  app->add_option("--from-file", f->from_file,
                  "reset to the offsets of a plan: kafka-consumer-groups' CSV (topic,partition,offset) or evt's "
                  "JSON Lines (--export)");
  app->add_flag("--execute", f->execute, "apply the plan in one OffsetCommit (without it, only the plan is printed)");
  app->add_option("--export", f->exp,
                  "also write the plan to FILE: CSV in kafka-consumer-groups' layout when FILE ends in .csv, evt's "
                  "JSON Lines otherwise");
  app->add_flag("--force", f->force,
                "reset even when the group has active members, or when the broker cannot say (no DescribeGroups)");
  app->add_flag("--json", f->json, "JSON Lines output (the default when stdout is not a terminal)");
  app->add_option("--format", f->format, "Output: table (default on a terminal), json, or csv (reset: the plan as "
                                         "kafka-consumer-groups exports it)")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  return [f]() {
    if (PrintPropertyListIfAsked(f->kafka)) return kExitOk;
    OffsetsOptions o;
    bool reset = false;
    std::string format;
    Status s = Resolve(*f, &o, &reset, &format);
    if (!s.ok()) return Finish(s);
    OffsetsReport r;
    s = reset ? RunOffsetsReset(o, &r) : RunOffsetsShow(o, &r);
    for (const auto& w : r.warnings) PrintWarning(w);
    if (!s.ok()) return Finish(s);
    if (reset && !f->exp.empty()) {
      bool csv = f->exp.size() > 4 && f->exp.compare(f->exp.size() - 4, 4, ".csv") == 0;
      s = WriteFileAtomic(f->exp, csv ? ResetPlanCsv(r) : ResetPlanJson(r));
      if (!s.ok()) return Finish(s);
    }
    std::string text;
    if (!reset) text = format == "table" ? OffsetsShowTable(r) : OffsetsShowJson(r);
    else if (format == "table") text = ResetPlanTable(r);
    else if (format == "csv") text = ResetPlanCsv(r);
    else text = ResetPlanJson(r);
    auto out = Stdout();
    s = out->Append(text);
    if (s.ok()) s = out->Flush();
    return Finish(s);
  };
}

}  // namespace evt::cmd
