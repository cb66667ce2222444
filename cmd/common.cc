#include "cmd/common.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "lib/base/term.h"
#include "lib/pipeline/read.h"
#include "lib/base/timeutil.h"
#include "lib/base/bound.h"

namespace evt::cmd {

namespace {
// "evt: LEVEL: msg" (LEVEL colored on a terminal), or "evt: msg" without a level.
void Print(const char* level, const char* color, const std::string& msg) {
  bool c = ColorAllowed(2);
  std::string line = !level ? fmt::format("evt: {}\n", msg)
                     : c    ? fmt::format("evt: \x1b[{}m{}\x1b[0m: {}\n", color, level, msg)
                            : fmt::format("evt: {}: {}\n", level, msg);
  (void)!::write(2, line.data(), line.size());
}
}  // namespace

void PrintError(const std::string& msg) { Print("error", "1;31", msg); }
void PrintWarning(const std::string& msg) { Print("warning", "1;33", msg); }
void PrintSummary(const std::string& msg) { Print(nullptr, nullptr, msg); }

int Finish(const Status& s) {
  switch (s.code()) {
    case Code::kOk: return kExitOk;
    case Code::kBrokenPipe: return kExitOk;
    case Code::kInterrupted:
      PrintError("interrupted");
      return kExitInterrupted;
    case Code::kCorruption:
    case Code::kDataProblem:
      PrintError(s.message());
      return kExitData;
    default:
      PrintError(s.message());
      return kExitUsage;
  }
}

void StderrReporter::Corruption(std::string_view where, uint64_t pos, uint64_t, std::string_view reason) {
  ++errors;
  PrintError(fmt::format("{}@{}: {}", where, pos, reason));
}

void StderrReporter::Warning(std::string_view where, uint64_t pos, std::string_view what) {
  ++warnings;
  PrintWarning(fmt::format("{}@{}: {}", where, pos, what));
}

void StderrReporter::Notice(std::string_view what) {
  ++warnings;
  PrintWarning(std::string(what));
}

Status WriteResults(bool dry_run, const std::string& stats_json, const std::string& json, Status s) {
  if (s.ok() && dry_run) {
    auto out = Stdout();
    s = out->Append(json);
    if (s.ok()) s = out->Flush();
  }
  if (!stats_json.empty()) {
    Status js = WriteFileAtomic(stats_json, json);
    if (s.ok()) s = js;
  }
  return s;
}

std::string FormatEta(double secs) {
  int64_t s = static_cast<int64_t>(secs + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

void TerminalProgress::Update(const JobProgress& p, bool final) {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (!final && now - last_ns_ < 250'000'000) return;
  last_ns_ = now;
  const double rate = p.seconds > 0 ? p.done / p.seconds : 0.0;
  std::string line;
  if (p.job == "backfill") {
    line = fmt::format("backfill: {} handed, {} ok, {} retried, {} dead letters, {:.0f}/s", p.handed, p.done, p.retried,
                       p.dead_letters, rate);
  } else if (p.keys >= 0) {
    line = fmt::format("{}: {} records, {:.0f}/s, {} keys", p.job, p.done, rate, p.keys);
  } else {
    line = fmt::format("{}: {} records sent, {:.0f}/s", p.job, p.done, rate);
  }
  if (p.estimate > 0 && rate > 0 && !final)  // an upper bound: the offsets left to scan, at the rate so far
    line += fmt::format(", ETA {}", FormatEta(std::max(0.0, (p.estimate - static_cast<double>(p.done)) / rate)));
  if (p.behind_ms >= 0) line += fmt::format(", {:.0f} ms behind schedule", p.behind_ms);
  std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

std::unique_ptr<Progress> MakeProgress(bool dry_run) {
  if (dry_run || !IsTerminal(2)) return nullptr;
  return std::make_unique<TerminalProgress>();
}

std::unique_ptr<WritableFile> Stdout() { return WritableFile::FromFd(1, "<stdout>"); }

void AddReadFlags(CLI::App* app, ReadFlags* f, bool with_merge, bool with_control) {
  app->add_option("--from", f->from,
                  "Start position per partition (inclusive): beginning, end, OFFSET, -N (N before the end), "
                  "an RFC 3339 time, or -DURATION (e.g. -1h)")
      ->default_str("beginning");
  app->add_option("--until", f->until, "Stop position per partition (exclusive), same syntax as --from");
  if (with_merge)
    app->add_option("--merge", f->merge, "Interleave partitions: 'time' merges them in timestamp order")
        ->check(CLI::IsMember({"time", "none"}));
  if (with_control)
    app->add_flag("--include-control", f->include_control, "Include control records (transaction markers)");
  app->add_option("--on-corruption", f->on_corruption,
                  "Segment files: stop (default) at a corrupt batch, or skip it: report each bad range, go on at the "
                  "next good batch, exit 1 at the end")
      ->check(CLI::IsMember({"stop", "skip"}));
  app->add_option("--max-batch-bytes", f->max_batch_bytes,
                  "Segment files: a batch that decompresses to more than this many bytes is corrupt (the "
                  "decompression-bomb guard; default 1 GiB)")
      ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 34));
}

void AddWhereFlags(CLI::App* app, ReadFlags* f) {
  AddRepeatable(app, "--where,-w", &f->where,
                "Keep only records for which this jq-style expression is true (repeatable: ANDed). `.` is the "
                "value parsed as JSON; $key $offset $timestamp $partition $topic $headers");
  app->add_flag("--strict", f->strict,
                "With --where: a value that is not valid JSON is an error (exit 1), not null; with --schemas or "
                "--schema: a value that does not decode is an error (exit 1), not a warning");
}

void AddDecodeFlags(CLI::App* app, DecodeFlags* f, bool job, bool envelopes) {
  if (job) {
    f->decode.clear();
    f->decode_key.clear();
  }
  app->add_option("--decode", f->decode,
                  std::string(envelopes ? "Each line is an envelope (as evt cat writes it) whose key and value the "
                                          "expression sees decoded; the selected lines are printed unchanged (pipe "
                                          "them to evt cat - --decode to see them decoded): none (default; auto when "
                                          "--schemas or --schema is given), auto (__consumer_offsets and "
                                          "__transaction_state by topic name, framed values by schema id)"
                              : job ? "Decode values to JSON before --where and the job (replay writes them decoded): none "
                                    "(default: the stored bytes; auto when --schemas or --schema is given), auto "
                                    "(__consumer_offsets and __transaction_state by topic name, framed values by "
                                    "schema id)"
                                  : "Values as JSON: auto (default) decodes __consumer_offsets and __transaction_state "
                                    "by topic name, and values in Confluent's framing by their schema id (with "
                                    "--schemas)") +
                      "; avro, protobuf or json decode every value as one (framed, or unframed with --schema); offsets or "
                      "transactions decode any topic as that internal topic" +
                      (job ? "" : "; none shows the stored bytes"))
      ->check(CLI::IsMember({"auto", "avro", "protobuf", "json", "offsets", "transactions", "none"}))
      ->default_str(job ? "none" : "auto");
  app->add_option("--decode-key", f->decode_key,
                  job ? "Keys in Confluent's framing: none (default; auto with --schemas), auto (by schema id), avro, "
                        "protobuf or json"
                      : "Keys in Confluent's framing: auto (default: by schema id, with --schemas), avro, protobuf, json "
                        "or none")
      ->check(CLI::IsMember({"auto", "avro", "protobuf", "json", "none"}))
      ->default_str(job ? "none" : "auto");
  AddRepeatable(app, "--schemas", &f->schemas,
                "Where schema ids are looked up (repeatable, first match wins): a directory of <id>.avsc/.proto/.json "
                "files (or subjects/<subject>/<version>.json), the registry's _schemas log (kafka://HOST/_schemas or "
                "its partition directory) or a registry URL http[s]://HOST:8081 (credentials with -X "
                "schema.registry.basic.auth.user.info=USER:PASS)");
  app->add_option("--schema", f->schema,
                  "Values are unframed, written with this schema: Avro (.avsc), or Protobuf (.proto, with --message; "
                  "its imports beside it)");
  app->add_option("--message", f->message,
                  "With --schema FILE.proto: the message type of the values (its full name, or its name within the "
                  "file's package)");
  app->add_option("--avro-json", f->avro_json,
                  "Avro as JSON: natural (default: unions unwrapped, logical types rendered, bytes in base64) or spec "
                  "(the Avro specification's JSON encoding)")
      ->check(CLI::IsMember({"natural", "spec"}))
      ->default_str("natural");
}

namespace {
// --schemas SRC... (decoding and encoding alike): opened in order, a kafka:///_schemas
// without a host completed with -b / EVT_BROKERS.
Result<std::shared_ptr<SchemaRegistry>> OpenSchemasFlag(const std::vector<std::string>& schemas, const KafkaFlags& k,
                                                        const SchemaSourceOptions& so, Reporter* reporter) {
  std::vector<std::string> srcs;
  for (const std::string& s : schemas) srcs.push_back(WithBrokers(s, k));
  return OpenSchemaRegistry(srcs, so, reporter);
}
}  // namespace

Status ResolveDecodeFlags(const DecodeFlags& flags, const KafkaFlags& k, bool strict, SourceSpec* spec,
                          Reporter* reporter, DecodeOptions* out) {
  DecodeFlags f = flags;
  const bool schemas = !f.schemas.empty() || !f.schema.empty();
  if (f.decode.empty()) f.decode = schemas ? "auto" : "none";  // a job's default (AddDecodeFlags)
  if (f.decode_key.empty()) f.decode_key = schemas ? "auto" : "none";
  auto mode = ParseDecodeMode(f.decode);
  if (!mode.ok()) return mode.status();
  auto key = ParseDecodeKeyMode(f.decode_key);
  if (!key.ok()) return key.status();
  *out = DecodeOptions();
  out->value = *mode;
  out->key = *key;
  out->strict = strict;
  out->avro_json = f.avro_json == "spec" ? avro::JsonStyle::kSpec : avro::JsonStyle::kNatural;
  SchemaSourceOptions so;
  so.registry_props = SplitRegistryProperties(&spec->kafka);
  so.kafka = spec->kafka;
  if (!so.registry_props.empty() && f.schemas.empty())
    return Status::InvalidArgument("-X schema.registry.*: only with --schemas http[s]://...");
  if (!f.message.empty() && f.schema.empty())
    return Status::InvalidArgument("--message TYPE goes with --schema FILE.proto (unframed Protobuf values)");
  if (!f.schema.empty()) {
    if (!f.schemas.empty()) return Status::InvalidArgument("--schema (unframed values) and --schemas: give one");
    auto e = ReadSchemaFile(f.schema);
    if (!e.ok()) return e.status().WithContext("--schema");
    if (e->type == SchemaType::kProtobuf) {
      if (*mode != DecodeMode::kAuto && *mode != DecodeMode::kProtobuf)
        return Status::InvalidArgument("--schema FILE.proto takes Protobuf values: --decode protobuf (or auto)");
      auto s = CompileProtobuf(*e);
      if (!s.ok()) return Status::InvalidArgument(fmt::format("--schema {}: {}", f.schema, s.status().message()));
      const std::vector<std::string> names = (*s)->MessageNames();
      if (names.empty()) return Status::InvalidArgument(fmt::format("--schema {}: declares no message type", f.schema));
      if (f.message.empty())
        return Status::InvalidArgument(fmt::format("--schema {} needs --message TYPE, one of: {}", f.schema,
                                                   fmt::join(names, ", ")));
      const int m = (*s)->FindMessage(f.message);
      if (m < 0)
        return Status::InvalidArgument(fmt::format("--message {}: not a message type of {}; it has: {}", f.message,
                                                   f.schema, fmt::join(names, ", ")));
      out->proto_schema = *s;
      out->proto_message = m;
      if (out->value == DecodeMode::kAuto) out->value = DecodeMode::kProtobuf;
      return Status::OK();
    }
    if (!f.message.empty())
      return Status::InvalidArgument(fmt::format("--message goes with a .proto schema, not {}", f.schema));
    if (*mode != DecodeMode::kAuto && *mode != DecodeMode::kAvro)
      return Status::InvalidArgument("--schema FILE.avsc takes Avro values: --decode avro (or auto)");
    if (e->type != SchemaType::kAvro)
      return Status::InvalidArgument(
          fmt::format("--schema {}: unframed values are decoded with Avro (.avsc) or Protobuf (.proto) schemas",
                      f.schema));
    auto s = avro::Schema::Parse(e->schema);
    if (!s.ok()) return Status::InvalidArgument(fmt::format("--schema {}: {}", f.schema, s.status().message()));
    out->schema = *s;
    if (out->value == DecodeMode::kAuto) out->value = DecodeMode::kAvro;
    return Status::OK();
  }
  if (f.schemas.empty()) {
    if (*mode == DecodeMode::kAvro || *mode == DecodeMode::kJson || *mode == DecodeMode::kProtobuf)
      return Status::InvalidArgument(fmt::format("--decode {} needs --schemas SRC (or --schema FILE)", f.decode));
    if (*key == DecodeMode::kAvro || *key == DecodeMode::kJson || *key == DecodeMode::kProtobuf)
      return Status::InvalidArgument(fmt::format("--decode-key {} needs --schemas SRC", f.decode_key));
    return Status::OK();
  }
  auto reg = OpenSchemasFlag(f.schemas, k, so, reporter);
  if (!reg.ok()) return reg.status();
  out->schemas = *reg;
  return Status::OK();
}

void AddEncodeFlags(CLI::App* app, EncodeFlags* f, bool schema_flags) {
  app->add_option("--encode", f->encode,
                  "Encode decoded values (an envelope's value_format and schema_id, or --decode) back to bytes: avro "
                  "(Avro binary in Confluent's framing, or unframed with --schema), json (JSON Schema: the JSON in "
                  "Confluent's framing), protobuf (the message in Confluent's framing, message indexes as Java "
                  "writes them; --message for a type other than the schema's first), auto (each value as its "
                  "value_format says), none (default). Values that were not decoded pass unchanged")
      ->check(CLI::IsMember({"none", "auto", "avro", "json", "protobuf"}))
      ->default_str("none");
  app->add_option("--schema-id", f->schema_id,
                  "With --encode: write every value with this schema id (default: each record's own schema_id)")
      ->check(CLI::Range(int64_t{0}, int64_t{INT32_MAX}));
  if (!schema_flags) return;
  AddRepeatable(app, "--schemas", &f->schemas,
                "With --encode: where schema ids are looked up (repeatable, first match wins): a directory of "
                "<id>.avsc/.json files, the registry's _schemas log or a registry URL http[s]://HOST:8081");
  app->add_option("--schema", f->schema, "With --encode avro: write unframed Avro (no header) with this schema (.avsc)");
  app->add_option("--message", f->message,
                  "With --encode protobuf: the values' message type (default: the first message type of each "
                  "value's schema)");
  app->add_option("--avro-json", f->avro_json,
                  "With --encode avro: the JSON the values are in: natural (default: as evt cat --decode shows them) "
                  "or spec (the Avro specification's JSON encoding, unions wrapped)")
      ->check(CLI::IsMember({"natural", "spec"}))
      ->default_str("natural");
}

Status ResolveEncodeFlags(const EncodeFlags& f, const KafkaFlags& k, kafka::KafkaConfig* cfg,
                          std::shared_ptr<SchemaRegistry> registry, Reporter* reporter, EncodeOptions* out) {
  *out = EncodeOptions();
  auto mode = ParseEncodeMode(f.encode);
  if (!mode.ok()) return mode.status();
  out->value = *mode;
  if (*mode == EncodeMode::kNone) {
    if (f.schema_id >= 0) return Status::InvalidArgument("--schema-id goes with --encode avro|json|auto");
    // Here (write, dlq redrive) the schema flags serve --encode alone: nothing is decoded.
    if (!f.schemas.empty() || !f.schema.empty())
      return Status::InvalidArgument("--schemas and --schema go with --encode here: this command does not decode values");
    return Status::OK();
  }
  out->schema_id = static_cast<int32_t>(f.schema_id);
  out->avro_json = f.avro_json == "spec" ? avro::JsonStyle::kSpec : avro::JsonStyle::kNatural;
  out->message = f.message;
  if (!f.schema.empty()) {
    auto e = ReadSchemaFile(f.schema);
    if (!e.ok()) return e.status().WithContext("--schema");
    if (e->type != SchemaType::kAvro)
      return Status::InvalidArgument(fmt::format(
          "--schema {}: --encode writes unframed values with Avro (.avsc) schemas only (Protobuf: framed, with --schemas)",
          f.schema));
    auto s = avro::Schema::Parse(e->schema);
    if (!s.ok()) return Status::InvalidArgument(fmt::format("--schema {}: {}", f.schema, s.status().message()));
    out->schema = *s;
  }
  if (registry) {
    out->schemas = std::move(registry);
  } else if (!f.schemas.empty()) {
    SchemaSourceOptions so;
    so.registry_props = SplitRegistryProperties(cfg);
    so.kafka = *cfg;
    auto reg = OpenSchemasFlag(f.schemas, k, so, reporter);
    if (!reg.ok()) return reg.status();
    out->schemas = *reg;
  }
  return CheckEncodeOptions(*out);
}

WhereOptions WhereFrom(const ReadFlags& f) {
  WhereOptions w;
  w.exprs = f.where;
  w.strict = f.strict;
  return w;
}

Status ResolveReadFlags(const ReadFlags& f, ReadOptions* ro, bool* merge_time) {
  int64_t now = NowMs();
  auto from = ParseBound(f.from, now);
  if (!from.ok()) return Status::InvalidArgument("--from: " + from.status().message());
  ro->from = *from;
  if (!f.until.empty()) {
    auto until = ParseBound(f.until, now);
    if (!until.ok()) return Status::InvalidArgument("--until: " + until.status().message());
    if (until->kind == Bound::kBeginning) return Status::InvalidArgument("--until beginning selects nothing");
    ro->until = *until;
    if (std::string why = BoundsOutOfOrder(ro->from, ro->until); !why.empty()) return Status::InvalidArgument(why);
  }
  ro->include_control = f.include_control;
  ro->skip_corruption = f.on_corruption == "skip";
  ro->max_batch_bytes = static_cast<size_t>(f.max_batch_bytes);
  if (merge_time) *merge_time = f.merge == "time";
  return Status::OK();
}

namespace {
// The number in `v`, or nullopt when it is not one (CLI11 then says so itself).
std::optional<double> NumberIn(const std::string& v) {
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (end != v.c_str() + v.size()) return std::nullopt;
  return d;
}
std::string Shown(double d) { return fmt::format("{}", d); }
}  // namespace

void GuardNumberFlags(CLI::App* app) {
  for (CLI::Option* o : app->get_options()) {
    const std::string& type = o->get_type_name();
    if (type == "UINT") {
      o->check(CLI::Validator(
          [](std::string& v) -> std::string {
            size_t i = v.find_first_not_of(" \t");
            return i != std::string::npos && v[i] == '-' ? "must be >= 0, not " + v : "";
          },
          "", "non-negative"));
    } else if (type == "FLOAT") {
      o->check(CLI::Validator(
          [](std::string& v) -> std::string {
            auto d = NumberIn(v);
            return d && !std::isfinite(*d) ? "must be a finite number, not " + v : "";
          },
          "", "finite"));
    }
  }
  for (CLI::App* sub : app->get_subcommands({})) GuardNumberFlags(sub);
}

CLI::Validator AtLeast(double min) {
  return CLI::Validator(
      [min](std::string& v) -> std::string {
        auto d = NumberIn(v);
        return d && !(*d >= min) ? fmt::format("must be >= {}, not {}", Shown(min), v) : "";
      },
      fmt::format(">= {}", Shown(min)), "at-least");
}

CLI::Validator Positive() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        auto d = NumberIn(v);
        return d && !(*d > 0 && std::isfinite(*d)) ? "must be > 0, not " + v : "";
      },
      "> 0", "positive");
}

CLI::Validator Between(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& v) -> std::string {
        auto d = NumberIn(v);
        return d && !(*d >= min && *d <= max) ? fmt::format("must be between {} and {}, not {}", Shown(min), Shown(max), v)
                                              : "";
      },
      fmt::format("{}..{}", Shown(min), Shown(max)), "between");
}

Status ResolveSourceFlags(const SourceFlags& f, SourceSpec* spec, bool topic_optional) {
  spec->paths = f.sources;
  EVT_RETURN_IF_ERROR(KafkaSourcePaths(f.kafka, &spec->paths, topic_optional));
  EVT_RETURN_IF_ERROR(ResolveKafkaConfig(f.kafka, &spec->kafka));
  EVT_RETURN_IF_ERROR(ResolveKafkaRead(f.kafka, &spec->kafka_read));
  EVT_RETURN_IF_ERROR(ResolveReadFlags(f.read, &spec->read, &spec->merge_time));
  spec->where = WhereFrom(f.read);
  return CheckOnCorruption(spec->read, spec->paths);
}

Status CheckOnCorruption(const ReadOptions& ro, const std::vector<std::string>& sources) {
  if (!ro.skip_corruption) return Status::OK();
  for (const auto& p : sources)
    if (InputKindOf(p) == InputKind::kKafka || InputKindOf(p) == InputKind::kJsonl)
      return Status::InvalidArgument(fmt::format("--on-corruption skip is for segment files, not for {}", p));
  return Status::OK();
}

Status AfterRead(Status s, const ReadOptions& ro, const StderrReporter& rep) {
  if (s.ok() && ro.skip_corruption && rep.errors > 0)
    return Status::Corruption(fmt::format("{} corrupt range{} skipped (each named above)", rep.errors,
                                          rep.errors == 1 ? "" : "s"));
  if (s.code() == Code::kCorruption && !ro.skip_corruption && s.message().find('@') != std::string::npos)
    return Status::Corruption(s.message() + " (--on-corruption skip reads the good batches after it)");
  return s;
}

CLI::Option* AddRepeatable(CLI::App* app, const std::string& name, std::vector<std::string>* v,
                           const std::string& desc) {
  return app->add_option(name, *v, desc)->expected(1)->allow_extra_args(false)->multi_option_policy(
      CLI::MultiOptionPolicy::TakeAll);
}

void AddHeaderFlags(CLI::App* app, HeaderFlags* f) {
  AddRepeatable(app, "--keep-header", &f->keep,
                "Pass on only the record headers whose key matches this glob (*, ?, [...]; repeatable: any of them)")
      ->type_name("GLOB");
  AddRepeatable(app, "--drop-header", &f->drop,
                "Drop the record headers whose key matches this glob (repeatable; applies after --keep-header), "
                "e.g. '__connect.errors.*'")
      ->type_name("GLOB");
}

Status ResolveHeaderFlags(const HeaderFlags& f, HeaderFilter* filter) {
  auto h = HeaderFilter::Make(f.keep, f.drop);
  if (!h.ok()) return h.status();
  *filter = std::move(*h);
  return Status::OK();
}

std::string HeaderFlagsIdentity(const HeaderFlags& f) {
  if (f.keep.empty() && f.drop.empty()) return "";
  return fmt::format("|keep-header={}|drop-header={}", fmt::join(f.keep, "\x1f"), fmt::join(f.drop, "\x1f"));
}

void AddProducersFlag(CLI::App* app, int* producers) {
  app->add_option("--producers", *producers,
                  "Kafka: producer instances, compressing in parallel (default: one per CPU, at most 4; each "
                  "partition always goes through the same one)")
      ->check(Between(1, 64));
}

void AddCreateTopicFlag(CLI::App* app, bool* create_topic) {
  app->add_flag("--create-topic", *create_topic,
                "Kafka: let the cluster create a missing destination topic (where it allows)");
}

Status CheckKafkaSinkFlags(bool to_kafka, bool create_topic, int producers) {
  if (to_kafka) return Status::OK();
  if (create_topic) return Status::InvalidArgument("--create-topic is for Kafka destinations");
  if (producers > 0) return Status::InvalidArgument("--producers is for Kafka destinations");
  return Status::OK();
}

void AddKafkaFlags(CLI::App* app, KafkaFlags* f, unsigned which) {
  app->add_option("-b,--brokers", f->brokers, "Kafka bootstrap brokers HOST[:PORT],... (default $EVT_BROKERS)");
  if (which & kKafkaTopic) app->add_option("-t", f->topic, "Kafka topic (with -b or $EVT_BROKERS)");
  AddRepeatable(app, "-X", &f->props,
                "librdkafka property prop=value (repeatable; `-X list` prints them all)");
  AddRepeatable(app, "--config", &f->config_files,
                "librdkafka properties file (prop=value lines), for SASL/SSL settings and secrets");
  app->add_option("--timeout", f->timeout, "Bound for connecting and for each Kafka request (default 30s)")
      ->default_str("30s");
  if (which & kKafkaReader)
    app->add_option("--isolation", f->isolation, "Kafka isolation level: read_committed (default) or read_uncommitted")
        ->check(CLI::IsMember({"read_committed", "read_uncommitted"}));
  if (which & kKafkaConsumer) {
    app->add_flag("--follow", f->follow, "Kafka: keep consuming past the end captured at start (Ctrl-C stops)");
    app->add_option("-G,--group", f->group,
                    "Kafka: consume as a member of GROUP and commit only what was written to stdout");
  }
}

bool WantsPropertyList(const KafkaFlags& f) {
  for (const auto& p : f.props)
    if (p == "list") return true;
  return false;
}

bool PrintPropertyListIfAsked(const KafkaFlags& f) {
  if (!WantsPropertyList(f)) return false;
  auto out = Stdout();
  (void)out->Append(kafka::PropertyList());
  (void)out->Flush();
  return true;
}

std::string WithBrokers(const std::string& url, const KafkaFlags& f) {
  if (f.brokers.empty() || url.rfind("kafka:///", 0) != 0) return url;
  return "kafka://" + f.brokers + url.substr(8);
}

Status ParseDurationFlag(const char* flag, const std::string& text, int64_t* ms, bool positive) {
  auto d = ParseDuration(text);
  if (!d.ok() || *d < 0 || (positive && *d == 0))
    return Status::InvalidArgument(fmt::format("{}: bad duration '{}' ({}e.g. 500ms, 30s, 5m, 1h30m, 2d)", flag, text,
                                               positive ? "greater than zero, " : ""));
  *ms = *d;
  return Status::OK();
}

Status ParsePartitionFlag(const std::string& text, PartitionChoice* choice, int32_t* n) {
  if (text == "keep") {
    *choice = PartitionChoice::kKeep;
  } else if (text == "hash") {
    *choice = PartitionChoice::kHash;
  } else {
    char* end = nullptr;
    long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end || v < 0 || v > INT32_MAX)
      return Status::InvalidArgument(fmt::format("--partition: expected keep, hash or a partition number, got '{}'", text));
    *choice = PartitionChoice::kFixed;
    *n = static_cast<int32_t>(v);
  }
  return Status::OK();
}

Status ResolveKafkaConfig(const KafkaFlags& f, kafka::KafkaConfig* cfg) {
  for (const auto& file : f.config_files) EVT_RETURN_IF_ERROR(kafka::AddPropertiesFile(file, cfg));
  for (const auto& p : f.props) EVT_RETURN_IF_ERROR(kafka::AddProperty(p, cfg));
  return ParseDurationFlag("--timeout", f.timeout, &cfg->timeout_ms, true);
}

Status ResolveKafkaRead(const KafkaFlags& f, kafka::KafkaReadOptions* ro) {
  ro->isolation = f.isolation == "read_uncommitted" ? kafka::Isolation::kReadUncommitted
                                                    : kafka::Isolation::kReadCommitted;
  ro->follow = f.follow;
  ro->group = f.group;
  return Status::OK();
}

Status KafkaSourcePaths(const KafkaFlags& f, std::vector<std::string>* sources, bool topic_optional) {
  for (auto& s : *sources) s = WithBrokers(s, f);
  if (!f.topic.empty() || (topic_optional && sources->empty() && !f.brokers.empty()))
    sources->push_back("kafka://" + f.brokers + "/" + f.topic);
  else if (!f.brokers.empty() && sources->empty())
    return Status::InvalidArgument("-b needs -t TOPIC (or give SRC as kafka://HOST/TOPIC)");
  if (sources->empty()) return Status::InvalidArgument("no source given (SRC, or -t TOPIC with -b/$EVT_BROKERS)");
  if (!f.group.empty() || f.follow) {
    bool any = false;
    for (const auto& s : *sources) any |= kafka::IsKafkaUrl(s);
    if (!any) return Status::InvalidArgument(f.follow ? "--follow is for Kafka sources" : "-G is for Kafka sources");
  }
  return Status::OK();
}

}  // namespace evt::cmd
