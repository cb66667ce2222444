// evt schema ACTION ...: schema sources (list, show), the schema ids of a log (ids), whether a
// reader schema reads every event of a log (check), whether two schemas are compatible
// (compat).
#include <fmt/format.h>

#include "cmd/common.h"
#include "lib/jobs/schema.h"

namespace evt::cmd {

RunFn SetupSchema(CLI::App* app) {
  struct Flags : SourceFlags {
    std::string action;
    std::vector<std::string> schemas;
    bool json = false;
    std::string reader;
    int64_t reader_id = -1;
    std::string mode = "backward";
  };
  auto f = std::make_shared<Flags>();
  app->add_option("ACTION", f->action,
                  "list SRC | show SRC ID|SUBJECT[/VERSION] | ids LOG... | check LOG... --reader FILE|--reader-id N | "
                  "compat OLD NEW")
      ->required()
      ->check(CLI::IsMember({"list", "show", "ids", "check", "compat"}));
  app->add_option("ARGS", f->sources,
                  "Schema sources (list, show), logs: segment files, partition or data directories, kafka://HOST/TOPIC "
                  "(ids, check), or two schema files (compat)");
  AddRepeatable(app, "--schemas", &f->schemas,
                "Schema sources for check (and instead of SRC for list/show): a directory, a _schemas log, a registry "
                "URL (repeatable, first match wins)");
  app->add_flag("--json", f->json, "JSON Lines output (list, show, ids)");
  app->add_option("--reader", f->reader, "check: the reader schema, a file (.avsc: Avro; .proto: Protobuf; .json: a JSON Schema or a registry answer)");
  app->add_option("--reader-id", f->reader_id, "check: the reader schema, by id in --schemas")->check(AtLeast(0));
  app->add_option("--mode", f->mode, "compat: backward (default: NEW reads OLD data), forward (OLD reads NEW data) or full")
      ->check(CLI::IsMember({"backward", "forward", "full"}))
      ->default_str("backward");
  AddReadFlags(app, &f->read, false, false);
  AddKafkaFlags(app, &f->kafka, kKafkaTopic | kKafkaReader);
  return [f]() {
    if (PrintPropertyListIfAsked(f->kafka)) return kExitOk;
    StderrReporter rep;
    const std::string& action = f->action;
    auto out = Stdout();
    auto emit = [&](const std::string& text) {
      Status s = out->Append(text);
      if (s.ok()) s = out->Flush();
      return s;
    };
    auto need = [&](size_t lo, size_t hi, const char* usage) -> Status {
      if (f->sources.size() < lo || f->sources.size() > hi)
        return Status::InvalidArgument(fmt::format("usage: evt schema {}", usage));
      return Status::OK();
    };
    // The schema sources: --schemas, or the first ARGS for list/show.
    auto open_registry = [&](std::vector<std::string> srcs) -> Result<std::shared_ptr<SchemaRegistry>> {
      SchemaSourceOptions so;
      EVT_RETURN_IF_ERROR(ResolveKafkaConfig(f->kafka, &so.kafka));
      so.registry_props = SplitRegistryProperties(&so.kafka);
      for (auto& s : srcs) s = WithBrokers(s, f->kafka);
      return OpenSchemaRegistry(srcs, so, &rep);
    };
    if (action == "compat") {
      Status s = need(2, 2, "compat OLD NEW [--mode backward|forward|full]");
      if (!s.ok()) return Finish(s);
      auto older = ReadSchemaFile(f->sources[0]);
      if (!older.ok()) return Finish(older.status());
      auto newer = ReadSchemaFile(f->sources[1]);
      if (!newer.ok()) return Finish(newer.status());
      CompatMode mode = f->mode == "forward" ? CompatMode::kForward
                        : f->mode == "full"  ? CompatMode::kFull
                                             : CompatMode::kBackward;
      s = CheckCompat(*older, *newer, mode);
      if (s.code() == Code::kDataProblem) {
        Status w = emit("incompatible: " + s.message() + "\n");
        return w.ok() ? kExitData : Finish(w);
      }
      if (!s.ok()) return Finish(s);
      return Finish(emit(fmt::format("compatible ({})\n", f->mode)));
    }
    if (action == "list" || action == "show") {
      const bool show = action == "show";
      std::vector<std::string> srcs = f->schemas;
      std::vector<std::string> args = f->sources;
      if (srcs.empty() && !args.empty()) {
        srcs.push_back(args.front());
        args.erase(args.begin());
      }
      if (srcs.empty() || args.size() != (show ? 1u : 0u))
        return Finish(Status::InvalidArgument(show ? "usage: evt schema show SRC ID|SUBJECT[/VERSION]"
                                                   : "usage: evt schema list SRC (or --schemas SRC...)"));
      auto reg = open_registry(srcs);
      if (!reg.ok()) return Finish(reg.status());
      if (show) {
        auto e = FindSchema(reg->get(), args[0]);
        if (!e.ok()) return Finish(e.status());
        if (!*e) {
          rep.Notice(fmt::format("no schema {} in {}", args[0], (*reg)->Describe()));
          return kExitData;
        }
        return Finish(emit(SchemaShowText(**e, f->json)));
      }
      std::vector<const SchemaEntry*> all;
      for (const auto& store : (*reg)->stores()) {
        Status s = store->All(&all);
        if (!s.ok()) return Finish(s);
      }
      return Finish(emit(SchemaListText(all, f->json)));
    }
    // ids, check: logs.
    if (f->sources.empty() && f->kafka.topic.empty())
      return Finish(Status::InvalidArgument(fmt::format("usage: evt schema {} LOG...", action)));
    SourceSpec spec;
    Status s = ResolveSourceFlags(*f, &spec);
    if (!s.ok()) return Finish(s);
    if (action == "ids") {
      std::vector<SchemaIdRow> rows;
      uint64_t unframed = 0;
      s = RunSchemaIds(spec, &rep, &rows, &unframed);
      Status w = emit(SchemaIdsText(rows, f->json));
      if (unframed) rep.Notice(fmt::format("{} record{} without Confluent's framing", unframed, unframed == 1 ? "" : "s"));
      return Finish(AfterRead(s.ok() ? w : s, spec.read, rep));
    }
    // check
    if (f->schemas.empty()) return Finish(Status::InvalidArgument("evt schema check needs --schemas SRC (the writers' schemas)"));
    if (f->reader.empty() == (f->reader_id < 0))
      return Finish(Status::InvalidArgument("evt schema check needs --reader FILE or --reader-id N"));
    SchemaCheckOptions o;
    o.source = spec;
    auto reg = open_registry(f->schemas);
    if (!reg.ok()) return Finish(reg.status());
    o.schemas = *reg;
    if (!f->reader.empty()) {
      auto e = ReadSchemaFile(f->reader);
      if (!e.ok()) return Finish(e.status());
      o.reader = *e;
    } else {
      auto e = o.schemas->ById(static_cast<int32_t>(f->reader_id));
      if (!e.ok()) return Finish(e.status());
      if (!*e) return Finish(Status::NotFound(fmt::format("--reader-id {}: not in {}", f->reader_id, o.schemas->Describe())));
      o.reader = **e;
      o.reader.origin = fmt::format("schema id {}", f->reader_id);
    }
    SchemaCheckResult r;
    s = RunSchemaCheck(o, out.get(), &rep, &r);
    Status w = out->Flush();
    for (const auto& [id, ws] : r.by_writer) {
      if (ws.unreadable)
        rep.Notice(fmt::format("schema id {}: {} of {} records cannot be read by {} (first at offset {}: {})", id,
                               ws.unreadable, ws.records, o.reader.origin, ws.first_unreadable, ws.reason));
    }
    if (r.unframed || r.other_type)
      rep.Notice(fmt::format("not checked: {} records without Confluent's framing, {} written with a schema of another type",
                             r.unframed, r.other_type));
    if (s.ok() && w.ok())
      rep.Notice(fmt::format("{} records checked, {} unreadable", r.checked, r.unreadable));
    s = AfterRead(s.ok() ? w : s, spec.read, rep);
    if (!s.ok()) return Finish(s);
    return r.unreadable ? kExitData : kExitOk;
  };
}

}  // namespace evt::cmd
