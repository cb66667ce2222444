#include "lib/pipeline/checkpoint.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <xxhash.h>

#include <random>

#include "formats/envelope/envelope.h"
#include "lib/base/file.h"
#include "lib/base/timeutil.h"

namespace evt {

std::string IdentityHash(const std::string& identity) {
  return fmt::format("{:016x}", XXH3_64bits(identity.data(), identity.size()));
}

std::string NewReplayId() {
  std::random_device rd;
  uint64_t a = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(NowMs());
  return fmt::format("{:016x}", a);
}

Result<Checkpoint> ReadCheckpoint(const std::string& path) {
  if (!PathExists(path)) return Status::NotFound(path);
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(*text).get(doc) != simdjson::SUCCESS || !doc.is_object())
    return Status::Corruption(fmt::format("{}: not a checkpoint written by evt (bad JSON)", path));
  Checkpoint c;
  std::string_view sv;
  if (doc["identity"].get(sv) == simdjson::SUCCESS) c.identity = std::string(sv);
  if (doc["replay_id"].get(sv) == simdjson::SUCCESS) c.replay_id = std::string(sv);
  if (doc["dest_kind"].get(sv) == simdjson::SUCCESS) c.dest_kind = std::string(sv);
  bool b = false;
  if (doc["complete"].get(b) == simdjson::SUCCESS) c.complete = b;
  int64_t i = 0;
  if (doc["jsonl_records"].get(i) == simdjson::SUCCESS) c.jsonl_records = static_cast<uint64_t>(i);
  if (doc["dest_size"].get(i) == simdjson::SUCCESS) c.dest_size = i;
  simdjson::dom::array arr;
  if (doc["positions"].get(arr) == simdjson::SUCCESS)
    for (auto e : arr) {
      std::string_view t;
      int64_t p = 0, o = 0;
      if (e["topic"].get(t) || e["partition"].get(p) || e["next"].get(o))
        return Status::Corruption(fmt::format("{}: bad position entry", path));
      c.positions[{std::string(t), static_cast<int32_t>(p)}] = o;
    }
  simdjson::dom::object ends;
  if (doc["dest_ends"].get(ends) == simdjson::SUCCESS)
    for (auto [k, v] : ends) {
      int64_t o = 0;
      if (v.get(o)) return Status::Corruption(fmt::format("{}: bad destination end", path));
      c.dest_ends[std::string(k)] = o;
    }
  if (c.identity.empty()) return Status::Corruption(fmt::format("{}: not a checkpoint written by evt", path));
  return c;
}

Status WriteCheckpoint(const std::string& path, const Checkpoint& c) {
  std::string o = "{\"version\":1,\"identity\":";
  envelope::AppendJsonString(c.identity, &o);
  o += ",\"replay_id\":";
  envelope::AppendJsonString(c.replay_id, &o);
  fmt::format_to(std::back_inserter(o), ",\"complete\":{},\"jsonl_records\":{},\"dest_kind\":", c.complete,
                 c.jsonl_records);
  envelope::AppendJsonString(c.dest_kind, &o);
  fmt::format_to(std::back_inserter(o), ",\"dest_size\":{},\"positions\":[", c.dest_size);
  bool first = true;
  for (const auto& [tp, next] : c.positions) {
    if (!first) o += ',';
    first = false;
    o += "{\"topic\":";
    envelope::AppendJsonString(tp.first, &o);
    fmt::format_to(std::back_inserter(o), ",\"partition\":{},\"next\":{}}}", tp.second, next);
  }
  o += "],\"dest_ends\":{";
  first = true;
  for (const auto& [k, v] : c.dest_ends) {
    if (!first) o += ',';
    first = false;
    envelope::AppendJsonString(k, &o);
    fmt::format_to(std::back_inserter(o), ":{}", v);
  }
  o += "}}\n";
  return WriteFileAtomic(path, o);
}

Status OpenCheckpoint(const std::string& path, const std::string& identity, const char* job, const char* what_differs,
                      Reporter* reporter, Checkpoint* ck, bool* resuming, bool* complete) {
  *resuming = *complete = false;
  const std::string hash = IdentityHash(identity);
  if (!path.empty()) {
    auto c = ReadCheckpoint(path);
    if (c.ok()) {
      if (c->identity != hash)
        return Status::InvalidArgument(fmt::format(
            "{}: this checkpoint belongs to a {} with other {}; resume with the same flags, or give another "
            "--checkpoint file",
            path, job, what_differs));
      *ck = std::move(*c);
      *resuming = true;
      if (ck->complete) {
        *complete = true;
        reporter->Notice(fmt::format("{}: {} says this {} is complete; nothing to do", job, path, job));
      }
      return Status::OK();
    }
    if (c.status().code() != Code::kNotFound) return c.status();
  }
  ck->identity = hash;
  ck->replay_id = NewReplayId();
  return Status::OK();
}

}  // namespace evt
