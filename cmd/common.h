// What every subcommand file shares: the command table entry type, exit-code mapping,
// the stderr reporter, and flag helpers.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

#include "lib/base/file.h"
#include "lib/base/status.h"
#include "lib/pipeline/decode.h"
#include "lib/pipeline/encode.h"
#include "lib/pipeline/headers.h"
#include "lib/kafka/client.h"
#include "lib/pipeline/progress.h"
#include "lib/pipeline/read.h"
#include "lib/log/segment.h"
#include "lib/base/source.h"
#include "lib/pipeline/where.h"

namespace evt::cmd {

// Exit codes: 0 ok, 1 data problem, 2 usage or runtime error, 130 interrupted.
constexpr int kExitOk = 0;
constexpr int kExitData = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

using RunFn = std::function<int()>;

struct Command {
  const char* name;
  const char* summary;
  // Declares the subcommand and its flags on `app`; returns the function that runs it.
  RunFn (*setup)(CLI::App* sub);
};

// The table (main.cc).
const std::vector<Command>& Commands();

// Prints `evt: error: <message>` (unless the status is OK or a broken pipe) and returns
// the exit code for it.
int Finish(const Status& s);
void PrintError(const std::string& msg);
void PrintWarning(const std::string& msg);
// The one-line summary a long job prints at the end ("evt: replay: sent ..."), not a warning.
void PrintSummary(const std::string& msg);

// Reporter printing to stderr; counts what it printed.
class StderrReporter : public Reporter {
 public:
  void Corruption(std::string_view where, uint64_t pos, uint64_t dropped, std::string_view reason) override;
  void Warning(std::string_view where, uint64_t pos, std::string_view what) override;
  void Notice(std::string_view what) override;
  int errors = 0;
  int warnings = 0;
};

// The JSON Lines results of a command with --dry-run and --stats-json (compact, retain):
// on stdout with --dry-run (when `s` is OK), into the stats file when given. Returns `s`,
// or the first error of writing them.
Status WriteResults(bool dry_run, const std::string& stats_json, const std::string& json, Status s);

// A long job's progress line on stderr, redrawn in place at most four times a second; the
// final one stays. Made only when stderr is a terminal and the job runs (not --dry-run):
// MakeProgress returns null otherwise.
class TerminalProgress : public Progress {
 public:
  void Update(const JobProgress& p, bool final) override;

 private:
  int64_t last_ns_ = 0;
};
std::unique_ptr<Progress> MakeProgress(bool dry_run);
// "1h02m", "3m05s", "42s"
std::string FormatEta(double seconds);

// stdout as a WritableFile.
std::unique_ptr<WritableFile> Stdout();

// Flags shared by readers: --from, --until, --merge, --include-control.
struct ReadFlags {
  std::string from = "beginning";
  std::string until;
  std::string merge;
  bool include_control = false;
  std::vector<std::string> where;
  bool strict = false;
  std::string on_corruption = "stop";
  uint64_t max_batch_bytes = uint64_t{1} << 30;
};
void AddReadFlags(CLI::App* app, ReadFlags* f, bool with_merge, bool with_control);
// --where EXPR (repeatable, ANDed) and --strict.
void AddWhereFlags(CLI::App* app, ReadFlags* f);
// --decode auto|avro|protobuf|json|offsets|transactions|none, --decode-key, --schemas SRC
// (repeatable), --schema FILE, --message TYPE and --avro-json (cat, dump, inspect): Kafka's internal topics
// and schema-registry framed values shown decoded (lib/pipeline/decode.h).
struct DecodeFlags {
  std::string decode = "auto";
  std::string decode_key = "auto";
  std::vector<std::string> schemas;
  std::string schema;
  std::string message;  // --message TYPE: with --schema FILE.proto
  std::string avro_json = "natural";
};
// `job`: for the selection jobs (replay, backfill, project, dlq), which move stored bytes
// unless told: --decode defaults to none, or auto when --schemas or --schema is given
// (DecodeFlags::decode is then "" until ResolveDecodeFlags).
// `envelopes`: for evt filter, whose lines are envelopes only when it decodes them.
void AddDecodeFlags(CLI::App* app, DecodeFlags* f, bool job = false, bool envelopes = false);
WhereOptions WhereFrom(const ReadFlags& f);
// Resolves ReadFlags into ReadOptions; *merge_time set from --merge.
Status ResolveReadFlags(const ReadFlags& f, ReadOptions* ro, bool* merge_time);
// --on-corruption skip applies to segment sources only: an error for topics and JSON Lines.
Status CheckOnCorruption(const ReadOptions& ro, const std::vector<std::string>& sources);
// The end of a read: with --on-corruption skip, skipped ranges (counted by the reporter)
// make it a data problem (exit 1); a read stopped by corruption says how to get past it.
Status AfterRead(Status s, const ReadOptions& ro, const StderrReporter& rep);

// Kafka client flags: -b, -t, -X, --config, --timeout, and for readers --isolation,
// --follow and -G.
struct KafkaFlags {
  std::string brokers;
  std::string topic;
  std::vector<std::string> props;
  std::vector<std::string> config_files;
  std::string timeout = "30s";
  std::string isolation = "read_committed";
  bool follow = false;
  std::string group;
};
enum KafkaFlagSet : unsigned {
  kKafkaTopic = 1,      // -t
  kKafkaReader = 2,     // --isolation
  kKafkaConsumer = 4,   // --follow, -G
};
void AddKafkaFlags(CLI::App* app, KafkaFlags* f, unsigned which);

// What the readers (cat, dump, inspect) are given: SRC..., the read flags and the Kafka
// client flags.
struct SourceFlags {
  std::vector<std::string> sources;
  ReadFlags read;
  KafkaFlags kafka;
};

// The decode flags into `out`: schema sources opened (a `_schemas` topic with the Kafka
// flags; the `schema.registry.*` properties taken out of spec->kafka for the registry URL),
// --schema read. `strict`: a record that does not decode is an error.
Status ResolveDecodeFlags(const DecodeFlags& f, const KafkaFlags& k, bool strict, SourceSpec* spec,
                          Reporter* reporter, DecodeOptions* out);

// --encode avro|json|auto|protobuf|none and --schema-id N (write, replay, dlq redrive):
// decoded values back to their bytes (lib/pipeline/encode.h). With `schema_flags` (commands
// without the decode flags) also --schemas SRC, --schema FILE and --avro-json; replay takes
// those from its decode flags.
struct EncodeFlags {
  std::string encode = "none";
  int64_t schema_id = -1;
  std::vector<std::string> schemas;
  std::string schema;
  std::string avro_json = "natural";
  std::string message;  // --encode protobuf: the message type
};
void AddEncodeFlags(CLI::App* app, EncodeFlags* f, bool schema_flags);
// The encode flags into `out`, with the usage checks of CheckEncodeOptions. `registry`:
// schema sources already opened for the same --schemas (replay's), else f.schemas are
// opened (a `_schemas` topic with `cfg`, whose `schema.registry.*` properties are taken out).
Status ResolveEncodeFlags(const EncodeFlags& f, const KafkaFlags& k, kafka::KafkaConfig* cfg,
                          std::shared_ptr<SchemaRegistry> registry, Reporter* reporter, EncodeOptions* out);

// SRC... into `spec`: -b/-t as a source, the Kafka settings, the read flags, --where, and
// the check that --on-corruption applies. `topic_optional`: -b alone names the cluster.
Status ResolveSourceFlags(const SourceFlags& f, SourceSpec* spec, bool topic_optional = false);
// --producers N for commands that produce to Kafka (write, replay); 0 stays automatic.
void AddProducersFlag(CLI::App* app, int* producers);
// --create-topic for commands that produce to Kafka (write, replay, backfill's dead letters);
// CheckKafkaSinkFlags refuses it, and --producers, when the destination is not a topic.
void AddCreateTopicFlag(CLI::App* app, bool* create_topic);
Status CheckKafkaSinkFlags(bool to_kafka, bool create_topic, int producers);
// `-X list`: print librdkafka's properties; the caller exits 0.
bool WantsPropertyList(const KafkaFlags& f);
// Prints librdkafka's properties when -X list was given; true when it did (exit 0).
bool PrintPropertyListIfAsked(const KafkaFlags& f);
// kafka:///TOPIC with -b BROKERS becomes kafka://BROKERS/TOPIC; anything else is returned as is.
std::string WithBrokers(const std::string& url, const KafkaFlags& f);
// A duration flag ("1s", "5m"): `flag` names it in the error. Negative durations are
// refused; with `positive`, zero too.
Status ParseDurationFlag(const char* flag, const std::string& text, int64_t* ms, bool positive = false);
// --partition keep|hash|N (write, replay): which one, and N.
enum class PartitionChoice { kKeep, kHash, kFixed };
Status ParsePartitionFlag(const std::string& text, PartitionChoice* choice, int32_t* n);
Status ResolveKafkaConfig(const KafkaFlags& f, kafka::KafkaConfig* cfg);
Status ResolveKafkaRead(const KafkaFlags& f, kafka::KafkaReadOptions* ro);
// -b/-t as a source: appends kafka://BROKERS/TOPIC when -t was given; fills in -b for
// kafka:/// URLs without hosts. Errors when there is no source at all.
Status KafkaSourcePaths(const KafkaFlags& f, std::vector<std::string>* sources, bool topic_optional = false);

// --keep-header GLOB and --drop-header GLOB (both repeatable) for commands that pass
// records on (replay, write, backfill).
struct HeaderFlags {
  std::vector<std::string> keep, drop;
};
void AddHeaderFlags(CLI::App* app, HeaderFlags* f);
Status ResolveHeaderFlags(const HeaderFlags& f, HeaderFilter* filter);
// The flags for a checkpoint's job identity: "" without them (older checkpoints still fit).
std::string HeaderFlagsIdentity(const HeaderFlags& f);

// Number flags. CLI11 takes "-5" for an unsigned option as 2^64-5 and "nan"/"inf" for a
// floating one; GuardNumberFlags (main.cc calls it on every subcommand) refuses both for
// every number flag, so only the bounds that mean something need saying per flag:
//   ->check(AtLeast(0))      "-n must be >= 0"
//   ->check(Positive())      "--rate must be > 0"
//   ->check(Between(1, 64))  "--producers must be between 1 and 64"
// Each error names the flag and the value given (exit 2, as every usage error).
void GuardNumberFlags(CLI::App* app);
CLI::Validator AtLeast(double min);
CLI::Validator Positive();
CLI::Validator Between(double min, double max);

// A repeatable option that takes exactly one value per use (CLI11 2.1.2 would otherwise
// swallow the positional arguments after it).
CLI::Option* AddRepeatable(CLI::App* app, const std::string& name, std::vector<std::string>* v,
                           const std::string& desc);

}  // namespace evt::cmd
