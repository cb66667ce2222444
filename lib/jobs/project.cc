#include "lib/jobs/project.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "formats/envelope/envelope.h"
#include "lib/base/file.h"
#include "lib/base/process.h"
#include "lib/base/timeutil.h"
#include "lib/filter/ast.h"
#include "lib/filter/filter.h"
#include "lib/pipeline/checkpoint.h"
#include "lib/pipeline/dead_letter.h"

namespace evt {

// ---------------------------------------------------------------- definitions

std::string ExpandReduce(const std::string& spec) {
  std::string s = spec;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.pop_back();
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.erase(0, 1);
  if (s == "last") return "$event";
  // A tombstone deletes the key (jq's `{} * null` would be an error).
  if (s == "merge") return "if $event == null then null else (. // {}) * $event end";
  if (s == "count") return "(. // 0) + 1";
  for (const char* fn : {"sum", "min", "max"}) {
    std::string prefix = std::string(fn) + "(";
    if (s.size() > prefix.size() + 1 && s.compare(0, prefix.size(), prefix) == 0 && s.back() == ')') {
      std::string path = s.substr(prefix.size(), s.size() - prefix.size() - 1);
      if (std::string_view(fn) == "sum") return fmt::format("(. // 0) + ($event | {} // 0)", path);
      return fmt::format("($event | {}) as $v | if $v == null then . elif . == null or $v {} . then $v else . end", path,
                         std::string_view(fn) == "min" ? "<" : ">");
    }
  }
  return s;
}

namespace {

std::string RuleBody(std::string_view v) {
  if (v == "ignore") return ".";
  if (v == "delete") return "null";
  if (v == "error") return "error(\"no rule for event type \" + ($__type | tojson))";
  // A comment ('#' to the end of the line) would swallow the closing parenthesis.
  return fmt::format("({}{})", v, v.find('#') == std::string_view::npos ? "" : "\n");
}

// Each expression of a rules file must be one whole expression on its own: pasted into
// the one reduce expression, ".a) | (.b" would otherwise change the meaning of its neighbours.
Status CheckRulePart(std::string_view what, std::string_view expr) {
  if (expr == "ignore" || expr == "delete" || expr == "error") return Status::OK();
  auto n = filter::Parse(std::string(expr));
  if (!n.ok()) return Status::InvalidArgument(fmt::format("--rules: {}: {}", what, n.status().message()));
  return Status::OK();
}

}  // namespace

Result<std::string> RulesExpression(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::padded_string padded(json);
  if (parser.parse(padded).get(doc)) return Status::InvalidArgument("--rules: not valid JSON");
  simdjson::dom::object root;
  if (doc.get(root)) return Status::InvalidArgument("--rules: the file must hold a JSON object");
  std::string_view type_expr, dflt = "ignore";
  std::vector<std::pair<std::string, std::string>> on;
  for (auto field : root) {
    std::string_view k = field.key;
    if (k == "type") {
      if (field.value.get(type_expr)) return Status::InvalidArgument("--rules: \"type\" must be a string (an expression)");
    } else if (k == "default") {
      if (field.value.get(dflt))
        return Status::InvalidArgument("--rules: \"default\" must be a string (an expression, \"ignore\" or \"error\")");
    } else if (k == "on") {
      simdjson::dom::object o;
      if (field.value.get(o)) return Status::InvalidArgument("--rules: \"on\" must be an object of TYPE: EXPR");
      for (auto r : o) {
        std::string_view e;
        if (r.value.get(e))
          return Status::InvalidArgument(fmt::format("--rules: the rule for \"{}\" must be a string (an expression)", r.key));
        on.emplace_back(std::string(r.key), std::string(e));
      }
    } else {
      return Status::InvalidArgument(fmt::format("--rules: unknown field \"{}\" (type, on, default)", k));
    }
  }
  if (type_expr.empty()) return Status::InvalidArgument("--rules: \"type\" (the expression giving an event's type) is missing");
  {
    auto n = filter::Parse(std::string(type_expr));
    if (!n.ok()) return Status::InvalidArgument(fmt::format("--rules: \"type\": {}", n.status().message()));
  }
  EVT_RETURN_IF_ERROR(CheckRulePart("\"default\"", dflt));
  for (const auto& [type, expr] : on) {
    std::string what = "the rule for ";
    envelope::AppendJsonString(type, &what);
    EVT_RETURN_IF_ERROR(CheckRulePart(what, expr));
  }
  std::string e = fmt::format("($event | {}{}) as $__type | ", type_expr,
                              type_expr.find('#') == std::string_view::npos ? "" : "\n");
  if (on.empty()) return e + RuleBody(dflt);
  for (size_t i = 0; i < on.size(); ++i) {
    std::string lit;
    envelope::AppendJsonString(on[i].first, &lit);
    e += fmt::format("{} $__type == {} then {} ", i == 0 ? "if" : "elif", lit, RuleBody(on[i].second));
  }
  e += fmt::format("else {} end", RuleBody(dflt));
  return e;
}

Status ParseColumns(const std::string& spec, std::vector<ProjectColumn>* out) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  bool in_str = false;
  for (size_t i = 0; i < spec.size(); ++i) {
    char c = spec[i];
    if (in_str) {
      cur.push_back(c);
      if (c == '\\' && i + 1 < spec.size()) cur.push_back(spec[++i]);
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
      continue;
    }
    cur.push_back(c);
  }
  parts.push_back(cur);
  for (const auto& p : parts) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument(fmt::format("--columns: '{}' is not name=EXPR[:type]", p));
    ProjectColumn c;
    c.name = p.substr(0, eq);
    c.expr = p.substr(eq + 1);
    bool ok = (c.name[0] >= 'a' && c.name[0] <= 'z') || (c.name[0] >= 'A' && c.name[0] <= 'Z') || c.name[0] == '_';
    for (char ch : c.name)
      ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_');
    if (!ok) return Status::InvalidArgument(fmt::format("--columns: '{}' is not a column name ([A-Za-z_][A-Za-z0-9_]*)", c.name));
    for (const char* reserved : {"key", "value", "topic", "partition", "offset", "timestamp", "updates"})
      if (c.name == reserved) return Status::InvalidArgument(fmt::format("--columns: '{}' is a column of the state table", c.name));
    size_t colon = c.expr.rfind(':');
    if (colon != std::string::npos) {
      std::string t = c.expr.substr(colon + 1);
      if (t == "text" || t == "integer" || t == "real" || t == "json" || t == "any") {
        c.type = t == "any" ? "" : t;
        c.expr.resize(colon);
      }
    }
    if (c.expr.empty()) return Status::InvalidArgument(fmt::format("--columns: '{}' has no expression", p));
    for (const auto& o : *out)
      if (o.name == c.name) return Status::InvalidArgument(fmt::format("--columns: '{}' is given twice", c.name));
    out->push_back(std::move(c));
  }
  return Status::OK();
}

namespace {

// ---------------------------------------------------------------- JSON helpers

// The string a JSON string literal (as the filter prints it) holds.
bool DecodeJsonString(std::string_view json, std::string* out) {
  if (json.size() < 2 || json.front() != '"' || json.back() != '"') return false;
  if (json.find('\\') == std::string_view::npos) {
    out->assign(json.substr(1, json.size() - 2));
    return true;
  }
  simdjson::dom::parser p;
  simdjson::padded_string padded(json);
  std::string_view s;
  if (p.parse(padded).get(s)) return false;
  out->assign(s);
  return true;
}

// ---------------------------------------------------------------- SQLite

class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }
  sqlite3_stmt* get() const { return s_; }
  sqlite3_stmt** addr() { return &s_; }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

class Db {
 public:
  ~Db() { Close(); }
  Status Open(const std::string& path, bool create) {
    path_ = path;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &h_, flags, nullptr) != SQLITE_OK) {
      Status s = Status::IOError(fmt::format("{}: cannot open: {}", path, h_ ? sqlite3_errmsg(h_) : "out of memory"));
      Close();
      return s;
    }
    sqlite3_extended_result_codes(h_, 1);
    return Status::OK();
  }
  void Close() {
    if (h_) sqlite3_close_v2(h_);
    h_ = nullptr;
  }
  sqlite3* h() const { return h_; }
  const std::string& path() const { return path_; }
  Status Err(std::string_view what) const {
    return Status::IOError(fmt::format("{}: {}: {}", path_, what, sqlite3_errmsg(h_)));
  }
  Status Exec(const std::string& sql) {
    char* msg = nullptr;
    if (sqlite3_exec(h_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      Status s = Status::IOError(fmt::format("{}: {}: {}", path_, sql.substr(0, 60), msg ? msg : sqlite3_errmsg(h_)));
      sqlite3_free(msg);
      return s;
    }
    return Status::OK();
  }
  Status Prepare(const std::string& sql, Stmt* st) {
    if (sqlite3_prepare_v2(h_, sql.c_str(), -1, st->addr(), nullptr) != SQLITE_OK) return Err("prepare " + sql.substr(0, 60));
    return Status::OK();
  }

 private:
  sqlite3* h_ = nullptr;
  std::string path_;
};

void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text64(s, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

std::string Quote(const std::string& name) { return "\"" + name + "\""; }

// ---------------------------------------------------------------- the state store

struct Entry {
  std::string state;  // JSON; empty: none (deleted, or never had one)
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1, timestamp = -1;
  uint64_t updates = 0;
  bool dirty = false, in_db = false;
};

constexpr size_t kEntryOverhead = 128;  // hash node, strings, bookkeeping

// A write-back cache of states over an SQLite table. Flushes write into the open
// transaction; Commit makes them (with the positions) durable at once.
class Store {
 public:
  Store(const ProjectOptions& o, Reporter* rep) : o_(o), rep_(rep) {}

  // Opens `path`: `fresh`, a new file (the tables are created); `wal`, the published
  // output continued in place (WAL, durable commits); otherwise a private copy nobody else
  // sees (no journal: it is discarded when the run fails).
  Status Attach(const std::string& path, bool fresh, bool wal) {
    EVT_RETURN_IF_ERROR(db_.Open(path, fresh));
    sqlite3_busy_timeout(db_.h(), 5000);
    int64_t cache_kib = std::max<int64_t>(2048, o_.max_memory / 4 / 1024);
    if (!wal) {
      EVT_RETURN_IF_ERROR(db_.Exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE"));
    } else {
      EVT_RETURN_IF_ERROR(db_.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"));
    }
    EVT_RETURN_IF_ERROR(db_.Exec(fmt::format("PRAGMA cache_size=-{}; PRAGMA temp_store=FILE", cache_kib)));
    if (fresh) {
      std::string cols;
      for (const auto& c : o_.columns) {
        std::string t = c.type == "integer" ? " INTEGER" : c.type == "real" ? " REAL" : c.type.empty() ? "" : " TEXT";
        cols += ", " + Quote(c.name) + t;
      }
      EVT_RETURN_IF_ERROR(db_.Exec(fmt::format(
          "CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT, topic TEXT, partition INTEGER, \"offset\" INTEGER, "
          "timestamp INTEGER, updates INTEGER{}); CREATE TABLE evt_meta(name TEXT PRIMARY KEY, value TEXT)",
          cols)));
    }
    std::string names, marks;
    for (const auto& c : o_.columns) {
      names += ", " + Quote(c.name);
      marks += ", ?";
    }
    EVT_RETURN_IF_ERROR(db_.Prepare(
        fmt::format("INSERT OR REPLACE INTO state(key, value, topic, partition, \"offset\", timestamp, updates{}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?{})",
                    names, marks),
        &put_));
    EVT_RETURN_IF_ERROR(db_.Prepare("DELETE FROM state WHERE key = ?", &del_));
    EVT_RETURN_IF_ERROR(
        db_.Prepare("SELECT value, topic, partition, \"offset\", timestamp, updates FROM state WHERE key = ?", &get_));
    EVT_RETURN_IF_ERROR(db_.Prepare("INSERT OR REPLACE INTO evt_meta(name, value) VALUES (?, ?)", &meta_));
    may_have_rows_ = !fresh;
    for (const auto& c : o_.columns) {
      auto f = filter::Filter::Compile({c.expr}, filter::Mode::kJson);
      if (!f.ok()) return Status::InvalidArgument(fmt::format("--columns {}: {}", c.name, f.status().message()));
      col_ev_.push_back(std::make_unique<filter::Evaluator>(*f));
    }
    return db_.Exec("BEGIN");
  }
  bool attached() const { return db_.h() != nullptr; }
  Db& db() { return db_; }

  Result<Entry*> Get(const std::string& key) {
    auto it = cache_.find(key);
    if (it != cache_.end()) return &it->second;
    Entry e;
    if (may_have_rows_) {
      sqlite3_stmt* s = get_.get();
      BindText(s, 1, key);
      int rc = sqlite3_step(s);
      if (rc == SQLITE_ROW) {
        auto text = [&](int i) {
          const unsigned char* p = sqlite3_column_text(s, i);
          return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s, i)) : std::string();
        };
        e.state = text(0);
        e.topic = text(1);
        e.partition = sqlite3_column_int(s, 2);
        e.offset = sqlite3_column_int64(s, 3);
        e.timestamp = sqlite3_column_int64(s, 4);
        e.updates = static_cast<uint64_t>(sqlite3_column_int64(s, 5));
        e.in_db = true;
      } else if (rc != SQLITE_DONE) {
        get_.Reset();
        return db_.Err("read state");
      }
      get_.Reset();
    }
    bytes_ += key.size() + e.state.size() + e.topic.size() + kEntryOverhead;
    return &cache_.emplace(key, std::move(e)).first->second;
  }
  void Resized(size_t before, size_t after) { bytes_ += after - before; }
  bool over_budget() const { return bytes_ > static_cast<size_t>(o_.max_memory); }

  // Writes the dirty entries into the open transaction, in key order (appends to the
  // B-tree instead of scattered inserts); with `evict`, empties the cache.
  Status Flush(bool evict) {
    if (!attached()) return Status::OK();
    dirty_.clear();
    for (auto& kv : cache_)
      if (kv.second.dirty) dirty_.push_back(&kv);
    std::sort(dirty_.begin(), dirty_.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    for (auto* kv : dirty_) {
      const std::string& key = kv->first;
      Entry& e = kv->second;
      if (e.state.empty()) {
        if (e.in_db) {
          sqlite3_stmt* s = del_.get();
          BindText(s, 1, key);
          int rc = sqlite3_step(s);
          del_.Reset();
          if (rc != SQLITE_DONE) return db_.Err("delete state");
        }
        e.in_db = false;
      } else {
        sqlite3_stmt* s = put_.get();
        BindText(s, 1, key);
        BindText(s, 2, e.state);
        BindText(s, 3, e.topic);
        sqlite3_bind_int(s, 4, e.partition);
        sqlite3_bind_int64(s, 5, e.offset);
        sqlite3_bind_int64(s, 6, e.timestamp);
        sqlite3_bind_int64(s, 7, static_cast<int64_t>(e.updates));
        for (size_t i = 0; i < col_ev_.size(); ++i) BindColumn(s, static_cast<int>(8 + i), i, e.state);
        int rc = sqlite3_step(s);
        put_.Reset();
        if (rc != SQLITE_DONE) return db_.Err("write state");
        e.in_db = true;
      }
      e.dirty = false;
    }
    dirty_.clear();
    if (evict) {
      cache_.clear();
      bytes_ = 0;
    }
    may_have_rows_ = true;
    return Status::OK();
  }

  Status PutMeta(std::string_view name, std::string_view value) {
    sqlite3_stmt* s = meta_.get();
    BindText(s, 1, name);
    BindText(s, 2, value);
    int rc = sqlite3_step(s);
    meta_.Reset();
    return rc == SQLITE_DONE ? Status::OK() : db_.Err("write evt_meta");
  }

  Status Commit() {
    EVT_RETURN_IF_ERROR(db_.Exec("COMMIT"));
    return db_.Exec("BEGIN");
  }
  // Commits, and copies the database (as committed) to `path`.
  Status CommitAndCopy(const std::string& path) {
    EVT_RETURN_IF_ERROR(db_.Exec("COMMIT"));
    std::string quoted;
    for (char c : path) {
      if (c == '\'') quoted.push_back('\'');
      quoted.push_back(c);
    }
    Status s = db_.Exec("VACUUM INTO '" + quoted + "'");
    Status b = db_.Exec("BEGIN");
    return s.ok() ? b : s;
  }
  Status Finish() { return db_.Exec("COMMIT"); }

  // The value of a --columns expression over a state, bound as the column's type.
  void BindColumn(sqlite3_stmt* s, int i, size_t c, const std::string& state) {
    const ProjectColumn& col = o_.columns[c];
    filter::Match m = col_ev_[c]->JsonValue(state, &scratch_);
    if (m == filter::Match::kError || m == filter::Match::kInvalid) {
      if (column_errors_++ == 0)
        rep_->Warning("", 0, fmt::format("--columns {}: {} (the column is NULL)", col.name, col_ev_[c]->error()));
    }
    if (m != filter::Match::kYes || scratch_ == "null") {
      sqlite3_bind_null(s, i);
      return;
    }
    const std::string& v = scratch_;
    std::string str;
    bool is_str = v[0] == '"' && DecodeJsonString(v, &str);
    bool is_num = (v[0] >= '0' && v[0] <= '9') || v[0] == '-';
    if (col.type == "json") return BindText(s, i, v);
    if (col.type == "text") return BindText(s, i, is_str ? std::string_view(str) : std::string_view(v));
    if (is_num) {
      double d = std::strtod(v.c_str(), nullptr);
      if (col.type != "real" && d == static_cast<double>(static_cast<int64_t>(d)) && d > -9.2e18 && d < 9.2e18)
        sqlite3_bind_int64(s, i, static_cast<int64_t>(d));
      else
        sqlite3_bind_double(s, i, d);
      return;
    }
    if (v == "true" || v == "false") {
      sqlite3_bind_int(s, i, v == "true");
      return;
    }
    BindText(s, i, is_str ? std::string_view(str) : std::string_view(v));
  }

  std::unordered_map<std::string, Entry>& cache() { return cache_; }
  uint64_t column_errors() const { return column_errors_; }

 private:
  const ProjectOptions& o_;
  Reporter* rep_;
  Db db_;
  Stmt put_, del_, get_, meta_;
  std::unordered_map<std::string, Entry> cache_;
  std::vector<std::pair<const std::string, Entry>*> dirty_;  // Flush's, reused
  size_t bytes_ = 0;
  bool may_have_rows_ = false;
  std::vector<std::unique_ptr<filter::Evaluator>> col_ev_;
  std::string scratch_;
  uint64_t column_errors_ = 0;
};

std::string PositionsJson(const Positions& p) {
  std::string out = "[";
  for (const auto& [tp, next] : p) {
    if (out.size() > 1) out.push_back(',');
    out += "{\"topic\":";
    envelope::AppendJsonString(tp.first, &out);
    out += fmt::format(",\"partition\":{},\"next_offset\":{}}}", tp.second, next);
  }
  return out + "]";
}

Status ParsePositions(const std::string& json, Positions* out) {
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  simdjson::padded_string padded(json);
  if (parser.parse(padded).get(arr)) return Status::Corruption("evt_meta positions: not a JSON array");
  for (auto el : arr) {
    std::string_view topic;
    int64_t partition, next;
    if (el["topic"].get(topic) || el["partition"].get(partition) || el["next_offset"].get(next))
      return Status::Corruption("evt_meta positions: bad entry");
    (*out)[{std::string(topic), static_cast<int32_t>(partition)}] = next;
  }
  return Status::OK();
}

constexpr const char* kFormat = "evt-project-1";

Result<std::string> ReadMeta(Db& db, const std::string& name) {
  Stmt st;
  if (sqlite3_prepare_v2(db.h(), "SELECT value FROM evt_meta WHERE name = ?", -1, st.addr(), nullptr) != SQLITE_OK)
    return Status::InvalidArgument(fmt::format("{}: not an evt project database ({})", db.path(), sqlite3_errmsg(db.h())));
  BindText(st.get(), 1, name);
  int rc = sqlite3_step(st.get());
  if (rc == SQLITE_ROW) {
    const unsigned char* p = sqlite3_column_text(st.get(), 0);
    return std::string(p ? reinterpret_cast<const char*>(p) : "", sqlite3_column_bytes(st.get(), 0));
  }
  if (rc == SQLITE_DONE) return Status::NotFound(name);
  return Status::InvalidArgument(fmt::format("{}: not an evt project database ({})", db.path(), sqlite3_errmsg(db.h())));
}

Status SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(fmt::format("{}: cannot open to sync", path));
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::OK() : Status::IOError(fmt::format("{}: fsync failed", path));
}

void AppendCsvField(std::string_view v, std::string* out) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// A JSON value as a CSV cell: strings unquoted, null empty, the rest as JSON.
void AppendCsvJson(std::string_view json, std::string* out) {
  std::string s;
  if (json == "null") return;
  if (!json.empty() && json[0] == '"' && DecodeJsonString(json, &s)) return AppendCsvField(s, out);
  AppendCsvField(json, out);
}

// ---------------------------------------------------------------- --pipe / --exec

// The fold step done by a program, for logic jq cannot express. Each record becomes one
// request line, {"state":STATE,"event":ENVELOPE} (STATE null for a new key, or --init;
// ENVELOPE the record as `evt cat` prints it), and the answer is the key's new state as
// JSON (null deletes the key, as for --reduce). --pipe CMD: one long-lived process,
// one answer line per request line, in order. --exec CMD: one process per record, its
// whole stdout the answer, a non-zero exit that record's error. Records go one at a time,
// so a key's records are folded in log order. An answer that is not JSON is that
// record's error (its text the message), handled by --on-error.
class FoldWorker {
 public:
  FoldWorker(std::string cmd, bool pipe, StopToken stop) : cmd_(std::move(cmd)), pipe_(pipe), stop_(stop) {
    auto id = filter::Filter::Compile({"."}, filter::Mode::kJson);
    check_ = std::make_unique<filter::Evaluator>(*id);
  }
  ~FoldWorker() { (void)Close(/*abort=*/true); }

  // kDataProblem: this record's error (message in error()); anything else stops the run.
  Status Step(std::string_view state, const RecordBatch& b, const Record& r, std::string* out) {
    req_.assign("{\"state\":");
    req_.append(state.empty() ? std::string_view("null") : state);
    req_.append(",\"event\":");
    envelope::AppendRecord(b, r, &req_);
    while (!req_.empty() && req_.back() == '\n') req_.pop_back();
    req_.append("}\n");
    answer_.clear();
    if (pipe_) {
      if (pid_ < 0) EVT_RETURN_IF_ERROR(Start());
      EVT_RETURN_IF_ERROR(WriteAll(req_));
      EVT_RETURN_IF_ERROR(ReadLine(&answer_));
    } else {
      EVT_RETURN_IF_ERROR(Start());
      Status w = WriteAll(req_);
      ::close(in_fd_);
      in_fd_ = -1;
      Status rd = w.ok() ? ReadToEnd(&answer_) : w;
      int status = 0;
      Status reaped = Reap(&status);  // Ctrl-C while the worker lingers after closing its stdout
      if (!rd.ok()) return rd;
      EVT_RETURN_IF_ERROR(reaped);
      if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        std::string_view answer = TrimLineEnd(answer_);
        error_ = fmt::format("--exec: {}{}", ExitText(status), answer.empty() ? "" : ": " + Shorten(answer));
        return Status::DataProblem(error_);
      }
    }
    // The line end is trimmed here, once: ReadLine leaves a CR of CRLF, --exec the whole
    // output's last line end(s).
    std::string_view answer = TrimLineEnd(answer_);
    if (check_->JsonValue(answer, out) != filter::Match::kYes) {
      error_ = fmt::format("--{}: the answer is not JSON: {}", pipe_ ? "pipe" : "exec", Shorten(answer));
      return Status::DataProblem(error_);
    }
    return Status::OK();
  }

  const std::string& error() const { return error_; }

  // The end of input: the worker has 10 s to exit (at once after Ctrl-C, an error, or
  // with `abort`), then it is terminated (SIGTERM, then SIGKILL), its process group too.
  Status Close(bool abort = false) {
    if (pid_ < 0) return Status::OK();
    if (in_fd_ >= 0) ::close(in_fd_);
    in_fd_ = -1;
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
    abort = abort || stop_.requested();
    int status = 0;
    const bool ended = WaitExit(abort ? 0 : 10000, &status);
    if (abort || !pipe_) return Status::OK();
    if (!ended || !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      return Status::IOError(fmt::format("--pipe {}: the worker ended with {} at the end of its input", cmd_,
                                         ended ? ExitText(status) : "no exit status"));
    return Status::OK();
  }

 private:
  static std::string_view TrimLineEnd(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    return s;
  }
  // An answer in a diagnostic: at most 200 bytes, on one line (line ends as \n, \r).
  static std::string Shorten(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 200)) {
      if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else out.push_back(c);
    }
    if (s.size() > 200) out += "...";
    return out;
  }

  Status Start() {
    BlockSigpipe();  // a worker that has gone gives EPIPE, not a dead evt
    Status s = SpawnShell(cmd_, nullptr, true, &pid_, &in_fd_, &out_fd_);
    if (!s.ok()) return Status::IOError(fmt::format("--{} {}: {}", pipe_ ? "pipe" : "exec", cmd_, s.message()));
    rbuf_.clear();
    return Status::OK();
  }

  // Waits for the worker's exit, polling: after `grace_ms` (at once after Ctrl-C; never
  // with a negative grace) it is terminated, its process group too: SIGTERM, then SIGKILL
  // 2 s later. False when no exit status could be had.
  bool WaitExit(int64_t grace_ms, int* status) {
    bool ended = false;
    const int64_t t0 = SteadyMs();
    int64_t term_at = -1;  // when SIGTERM was sent
    for (int sig = 0;;) {
      pid_t r = ::waitpid(pid_, status, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) {
        ended = r == pid_;
        break;
      }
      const int64_t now = SteadyMs();
      if (sig == 0 && ((grace_ms >= 0 && now - t0 >= grace_ms) || stop_.requested())) {
        sig = SIGTERM;
        term_at = now;
      } else if (sig == SIGTERM && now - term_at >= 2000) {
        sig = SIGKILL;
      }
      if (sig) ::kill(-pid_, sig);
      struct timespec ts{0, 10 * 1000 * 1000};
      ::nanosleep(&ts, nullptr);
    }
    pid_ = -1;
    return ended;
  }

  // The worker's exit status once its output has ended. It may linger (a worker that
  // closed its stdout and goes on): Ctrl-C then terminates it and interrupts the run.
  Status Reap(int* status) {
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
    *status = 0;
    if (pid_ < 0) return Status::OK();
    WaitExit(-1, status);
    return stop_.requested() ? Status::Interrupted() : Status::OK();
  }

  Status Gone(const char* what) {
    if (in_fd_ >= 0) ::close(in_fd_);
    in_fd_ = -1;
    int status = 0;
    EVT_RETURN_IF_ERROR(Reap(&status));
    return Status::IOError(
        fmt::format("--{} {}: the worker ended ({}) {}", pipe_ ? "pipe" : "exec", cmd_, ExitText(status), what));
  }

  // Waits until fd is ready, checking for Ctrl-C every 100 ms.
  Status Wait(int fd, short events) {
    for (;;) {
      if (stop_.requested()) return Status::Interrupted();
      struct pollfd p{fd, events, 0};
      int n = ::poll(&p, 1, 100);
      if (n > 0) return Status::OK();
      if (n < 0 && errno != EINTR) return Status::IOError(fmt::format("poll: {}", std::strerror(errno)));
    }
  }

  Status WriteAll(std::string_view data) {
    size_t off = 0;
    while (off < data.size()) {
      EVT_RETURN_IF_ERROR(Wait(in_fd_, POLLOUT));
      ssize_t n = ::write(in_fd_, data.data() + off, data.size() - off);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) return pipe_ ? Gone("before reading a record") : Status::OK();  // --exec: need not read it
      off += static_cast<size_t>(n);
    }
    return Status::OK();
  }

  Status ReadLine(std::string* line) {
    for (;;) {
      size_t nl = rbuf_.find('\n', rpos_);
      if (nl != std::string::npos) {
        line->assign(rbuf_, rpos_, nl - rpos_);
        rpos_ = nl + 1;
        if (rpos_ == rbuf_.size()) rbuf_.clear(), rpos_ = 0;
        return Status::OK();
      }
      if (rbuf_.size() - rpos_ > (64u << 20)) return Status::IOError("--pipe: an answer line longer than 64 MiB");
      EVT_RETURN_IF_ERROR(Wait(out_fd_, POLLIN));
      char buf[65536];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return Gone("before answering a record");
      rbuf_.append(buf, static_cast<size_t>(n));
    }
  }

  Status ReadToEnd(std::string* out) {
    for (;;) {
      EVT_RETURN_IF_ERROR(Wait(out_fd_, POLLIN));
      char buf[65536];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return Status::OK();
      out->append(buf, static_cast<size_t>(n));
      if (out->size() > (64u << 20)) return Status::IOError("--exec: an answer longer than 64 MiB");
    }
  }

  std::string cmd_;
  bool pipe_;
  StopToken stop_;
  std::unique_ptr<filter::Evaluator> check_;
  pid_t pid_ = -1;
  int in_fd_ = -1, out_fd_ = -1;
  std::string req_, rbuf_, answer_, error_;
  size_t rpos_ = 0;
};

// ---------------------------------------------------------------- the run

class Projection {
 public:
  Projection(const ProjectOptions& o, Reporter* rep, ProjectStats* st) : o_(o), rep_(rep), st_(st), store_(o, rep) {}

  Status Run() {
    auto t0 = std::chrono::steady_clock::now();
    Status s = RunInner();
    st_->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return s;
  }

 private:
  Status Compile() {
    if (!o_.exec_cmd.empty() && !o_.pipe_cmd.empty()) return Status::InvalidArgument("--exec and --pipe: choose one");
    if (!o_.exec_cmd.empty() || !o_.pipe_cmd.empty())
      worker_ = std::make_unique<FoldWorker>(o_.pipe_cmd.empty() ? o_.exec_cmd : o_.pipe_cmd, !o_.pipe_cmd.empty(),
                                             o_.stop);
    auto f = filter::Filter::Compile({o_.reduce_expr}, filter::Mode::kFold);
    if (!f.ok()) return Status::InvalidArgument("--reduce: " + f.status().message());
    fold_ = std::make_unique<filter::Evaluator>(*f);
    if (!o_.key_expr.empty()) {
      auto k = filter::Filter::Compile({o_.key_expr}, filter::Mode::kRecord);
      if (!k.ok()) return Status::InvalidArgument("--key: " + k.status().message());
      key_ = std::make_unique<filter::Evaluator>(*k);
    }
    if (!o_.init_json.empty()) {
      // Normalised through the filter (`.`), so that it is checked and compact.
      auto id = filter::Filter::Compile({"."}, filter::Mode::kJson);
      filter::Evaluator ev(*id);
      if (ev.JsonValue(o_.init_json, &init_) != filter::Match::kYes)
        return Status::InvalidArgument(fmt::format("--init: '{}' is not valid JSON", o_.init_json));
      if (init_ == "null") init_.clear();
    }
    return Status::OK();
  }

  Status RunInner() {
    EVT_RETURN_IF_ERROR(Compile());
    const bool sqlite = o_.format == ProjectFormat::kSqlite;
    if (sqlite && o_.out == "-") return Status::InvalidArgument("an SQLite output needs a file name (--into FILE.db)");
    if (o_.incremental && !sqlite) return Status::InvalidArgument("--incremental needs an SQLite output");
    if (o_.incremental && o_.at_ms != INT64_MAX) return Status::InvalidArgument("--at and --incremental: choose one");
    if (!o_.index.empty() && !sqlite) return Status::InvalidArgument("--index needs an SQLite output");
    for (const auto& ix : o_.index) {
      bool found = false;
      for (const auto& c : o_.columns) found = found || c.name == ix;
      if (!found) return Status::InvalidArgument(fmt::format("--index {}: not one of --columns", ix));
    }
    const std::string hash = IdentityHash(o_.definition);
    Positions resume;
    uint64_t resume_jsonl = 0;
    bool continuing = false;
    std::unique_ptr<FileLock> lock;
    if (!o_.dry_run && o_.out != "-") {
      auto l = FileLock::Acquire(o_.out + ".lock", false);
      if (!l.ok()) {
        if (l.status().code() == Code::kBusy)
          return Status::Busy(fmt::format("{}: another evt project is writing it", o_.out));
        return l.status();
      }
      lock = std::move(*l);
    }
    const bool snapshotting = o_.snapshot_every_records > 0 || o_.snapshot_every_ms > 0;
    if (snapshotting && o_.snapshots.empty()) return Status::InvalidArgument("--snapshot-every needs --snapshots DIR");
    if (snapshotting && o_.at_ms != INT64_MAX)
      return Status::InvalidArgument("--snapshot-every and --at: snapshots are taken by runs without --at");
    if (!o_.dry_run && o_.incremental && !o_.rebuild && PathExists(o_.out)) {
      EVT_RETURN_IF_ERROR(OpenExisting(hash, &resume, &resume_jsonl));
      continuing = true;
      st_->resumed = true;
    }
    if (!o_.dry_run && snapshotting) EVT_RETURN_IF_ERROR(MakeDirs(o_.snapshots));
    if (!o_.dry_run && !o_.snapshots.empty() && o_.at_ms != INT64_MAX) {
      EVT_RETURN_IF_ERROR(StartFromSnapshot(hash, &resume, &resume_jsonl));
      continuing = !st_->from_snapshot.empty();
    }

    SelectionOptions so = o_.sel;
    so.stop = o_.stop;
    auto sel = Selection::Open(so, resume, resume_jsonl, rep_);
    if (!sel.ok()) return sel.status();
    Selection& S = **sel;
    if (o_.dry_run) {
      EVT_RETURN_IF_ERROR(PlanSelection(&S, &st_->plan, &st_->selected));
      st_->scanned = S.scanned();
      return Status::OK();
    }
    if (o_.on_error == ProjectOnError::kDeadLetter) {
      if (o_.dead_letter.empty()) return Status::InvalidArgument("--on-error dead-letter needs --dead-letter DST");
      SinkOptions dso;
      dso.kafka = o_.sel.kafka;
      dso.kafka_write = o_.dlq_kafka;
      auto d = DeadLetterWriter::Open(o_.dead_letter, "--dead-letter", dso, rep_);
      if (!d.ok()) return d.status();
      dlq_ = std::move(*d);
    }

    if (sqlite && !continuing) {
      tmp_ = o_.out + ".evt-tmp";
      if (PathExists(tmp_)) EVT_RETURN_IF_ERROR(RemoveFile(tmp_));
      EVT_RETURN_IF_ERROR(store_.Attach(tmp_, true, false));
      EVT_RETURN_IF_ERROR(store_.PutMeta("format", kFormat));
      EVT_RETURN_IF_ERROR(store_.PutMeta("evt_version", EVT_VERSION));
      EVT_RETURN_IF_ERROR(store_.PutMeta("definition_hash", hash));
      EVT_RETURN_IF_ERROR(store_.PutMeta("definition", o_.definition));
    }

    Status result = Fold(S);
    if (worker_) {  // --pipe: end of input, then the worker's exit
      Status ws = worker_->Close(/*abort=*/!result.ok());
      if (result.ok()) result = ws;
    }
    bool interrupted = result.code() == Code::kInterrupted;
    st_->scanned = S.scanned();
    st_->missing_time_field = S.missing_time_field();
    if (!result.ok() && !(interrupted && o_.incremental)) {
      if (dlq_) (void)dlq_->Close();  // the dead letters written stay
      if (!tmp_.empty()) {
        store_.db().Close();
        (void)RemoveFile(tmp_);
      }
      return result;
    }
    // Everything folded: the last commit (with the positions), then the output.
    if (sqlite) {
      EVT_RETURN_IF_ERROR(CommitPositions(S, /*final=*/true));
      EVT_RETURN_IF_ERROR(CountKeys());
      if (!tmp_.empty()) {
        for (const auto& ix : o_.index)
          EVT_RETURN_IF_ERROR(store_.db().Exec(
              fmt::format("CREATE INDEX IF NOT EXISTS {} ON state({})", Quote("state_" + ix), Quote(ix))));
        EVT_RETURN_IF_ERROR(store_.db().Exec("PRAGMA journal_mode=DELETE"));
        store_.db().Close();
        EVT_RETURN_IF_ERROR(SyncFile(tmp_));
        EVT_RETURN_IF_ERROR(RenameFile(tmp_, o_.out));
        EVT_RETURN_IF_ERROR(SyncDir(Dirname(o_.out)));
      } else {
        store_.db().Close();
      }
    } else {
      EVT_RETURN_IF_ERROR(WriteText());
    }
    if (dlq_) {
      EVT_RETURN_IF_ERROR(dlq_->Commit());
      EVT_RETURN_IF_ERROR(dlq_->Close());
    }
    if (!result.ok()) return result;
    if (st_->dead_lettered > 0)
      return Status::DataProblem(fmt::format("{} record{} went to {} (first: {})", st_->dead_lettered,
                                             st_->dead_lettered == 1 ? "" : "s", o_.dead_letter, st_->first_error));
    if (st_->errors > 0)
      return Status::DataProblem(fmt::format("{} record{} skipped by --on-error skip (first: {})", st_->errors,
                                             st_->errors == 1 ? "" : "s", st_->first_error));
    return Status::OK();
  }

  Status OpenExisting(const std::string& hash, Positions* resume, uint64_t* resume_jsonl) {
    Db& db = store_.db();
    EVT_RETURN_IF_ERROR(db.Open(o_.out, false));
    auto format = ReadMeta(db, "format");
    if (!format.ok() || *format != kFormat) {
      db.Close();
      return Status::InvalidArgument(fmt::format(
          "{}: not an evt project database{}; nothing was changed (remove it or choose another --into)", o_.out,
          format.ok() ? " (format " + *format + ")" : format.status().code() == Code::kNotFound ? "" : ": " + format.status().message()));
    }
    auto h = ReadMeta(db, "definition_hash");
    if (!h.ok() || *h != hash) {
      auto def = ReadMeta(db, "definition");
      db.Close();
      return Status::InvalidArgument(fmt::format(
          "{}: built by another fold definition ({}); rerun with --rebuild to rebuild it with this one",
          o_.out, def.ok() ? *def : "unknown"));
    }
    auto pos = ReadMeta(db, "positions");
    if (pos.ok()) EVT_RETURN_IF_ERROR(ParsePositions(*pos, resume));
    auto jl = ReadMeta(db, "jsonl_records");
    if (jl.ok()) *resume_jsonl = std::strtoull(jl->c_str(), nullptr, 10);
    auto nt = ReadMeta(db, "newest_time");
    if (nt.ok()) st_->newest_time = std::strtoll(nt->c_str(), nullptr, 10);
    db.Close();
    return store_.Attach(o_.out, false, true);
  }

  // The newest snapshot of this definition whose records are all at or before --at: its
  // state is copied to the file this run builds, which continues from its positions.
  Status StartFromSnapshot(const std::string& hash, Positions* resume, uint64_t* resume_jsonl) {
    auto entries = ListDir(o_.snapshots);
    if (!entries.ok()) return entries.status().code() == Code::kNotFound ? Status::OK() : entries.status();
    std::string best;
    for (auto it = entries->rbegin(); it != entries->rend(); ++it) {  // newest (highest position) first
      const std::string& n = it->name;
      if (!it->is_file || n.rfind("snapshot-", 0) != 0 || n.size() < 4 || n.compare(n.size() - 3, 3, ".db") != 0) continue;
      Db db;
      std::string path = JoinPath(o_.snapshots, n);
      if (!db.Open(path, false).ok()) continue;
      auto h = ReadMeta(db, "definition_hash");
      auto t = ReadMeta(db, "newest_time");
      if (!h.ok() || *h != hash || !t.ok() || std::strtoll(t->c_str(), nullptr, 10) > o_.at_ms) continue;
      best = path;
      break;
    }
    if (best.empty()) return Status::OK();
    tmp_ = o_.format == ProjectFormat::kSqlite ? o_.out + ".evt-tmp" : SpillPath();
    if (PathExists(tmp_)) EVT_RETURN_IF_ERROR(RemoveFile(tmp_));
    {
      Db src;
      EVT_RETURN_IF_ERROR(src.Open(best, false));
      auto pos = ReadMeta(src, "positions");
      if (!pos.ok()) return Status::Corruption(fmt::format("{}: no positions in evt_meta", best));
      EVT_RETURN_IF_ERROR(ParsePositions(*pos, resume));
      auto jl = ReadMeta(src, "jsonl_records");
      if (jl.ok()) *resume_jsonl = std::strtoull(jl->c_str(), nullptr, 10);
      auto nt = ReadMeta(src, "newest_time");
      if (nt.ok()) st_->newest_time = std::strtoll(nt->c_str(), nullptr, 10);
      std::string quoted;
      for (char c : tmp_) {
        if (c == '\'') quoted.push_back('\'');
        quoted.push_back(c);
      }
      EVT_RETURN_IF_ERROR(src.Exec("VACUUM INTO '" + quoted + "'"));
    }
    EVT_RETURN_IF_ERROR(store_.Attach(tmp_, false, false));
    if (o_.format != ProjectFormat::kSqlite) st_->spilled = true;
    st_->from_snapshot = best;
    return Status::OK();
  }

  // Between batches: the whole state, committed, copied to DIR/snapshot-<position>.db
  // (temp, fsync, rename), and the oldest beyond --keep-snapshots removed.
  Status TakeSnapshot(Selection& S) {
    if (!store_.attached()) EVT_RETURN_IF_ERROR(Spill());
    EVT_RETURN_IF_ERROR(store_.Flush(store_.over_budget()));
    EVT_RETURN_IF_ERROR(PutPositions(S));
    uint64_t at = S.jsonl_records();
    for (const auto& [tp, next] : S.positions()) at += static_cast<uint64_t>(std::max<int64_t>(0, next));
    std::string name = fmt::format("snapshot-{:020d}.db", at);
    std::string path = JoinPath(o_.snapshots, name), tmp = JoinPath(o_.snapshots, "." + name + ".tmp");
    if (PathExists(tmp)) EVT_RETURN_IF_ERROR(RemoveFile(tmp));
    EVT_RETURN_IF_ERROR(store_.CommitAndCopy(tmp));
    EVT_RETURN_IF_ERROR(SyncFile(tmp));
    EVT_RETURN_IF_ERROR(RenameFile(tmp, path));
    EVT_RETURN_IF_ERROR(SyncDir(o_.snapshots));
    ++st_->snapshots_written;
    if (o_.keep_snapshots > 0) {
      auto entries = ListDir(o_.snapshots);
      if (!entries.ok()) return entries.status();
      std::vector<std::string> snaps;
      for (const auto& e : *entries)
        if (e.is_file && e.name.rfind("snapshot-", 0) == 0) snaps.push_back(e.name);
      for (size_t i = 0; i + static_cast<size_t>(o_.keep_snapshots) < snaps.size(); ++i)
        EVT_RETURN_IF_ERROR(RemoveFile(JoinPath(o_.snapshots, snaps[i])));
    }
    return Status::OK();
  }

  Status PutPositions(Selection& S) {
    EVT_RETURN_IF_ERROR(store_.PutMeta("positions", PositionsJson(S.positions())));
    EVT_RETURN_IF_ERROR(store_.PutMeta("jsonl_records", std::to_string(S.jsonl_records())));
    return store_.PutMeta("newest_time", std::to_string(st_->newest_time));
  }

  Status CommitPositions(Selection& S, bool final) {
    // Dead letters first: positions never move past a record whose dead letter could be lost.
    if (dlq_) EVT_RETURN_IF_ERROR(dlq_->Commit());
    EVT_RETURN_IF_ERROR(store_.Flush(store_.over_budget()));
    if (store_.attached()) {
      EVT_RETURN_IF_ERROR(PutPositions(S));
      if (o_.format == ProjectFormat::kSqlite) EVT_RETURN_IF_ERROR(final ? store_.Finish() : store_.Commit());
      ++st_->commits;
    }
    return Status::OK();
  }

  Status CountKeys() {
    Stmt st;
    EVT_RETURN_IF_ERROR(store_.db().Prepare("SELECT count(*) FROM state", &st));
    if (sqlite3_step(st.get()) == SQLITE_ROW) st_->keys = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0));
    return Status::OK();
  }

  // A record the fold could not apply: stop, or count and go on (after writing it to
  // --dead-letter, with the error in its headers).
  Status RecordError(const RecordBatch& b, const Record& r, std::string_view what, const char* class_name) {
    std::string where = b.file.empty() ? fmt::format("{}/{}/{}", b.topic, r.partition >= 0 ? r.partition : b.partition, r.offset)
                                       : fmt::format("{}@{} (offset {})", b.file, r.source_pos, r.offset);
    std::string msg = fmt::format("{}: {}", where, what);
    if (o_.on_error == ProjectOnError::kStop) return Status::DataProblem(msg);
    if (dlq_) {
      DeadLetterCause c;
      c.class_name = class_name;
      c.message = what;
      c.where = where;
      EVT_RETURN_IF_ERROR(dlq_->Write(b, r, c));
      ++st_->dead_lettered;
    }
    if (st_->errors++ == 0) st_->first_error = msg;
    return Status::OK();
  }

  std::string SpillPath() const {
    std::string dir = o_.temp_dir;
    if (dir.empty()) dir = o_.out != "-" ? Dirname(o_.out) : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    return JoinPath(dir, fmt::format(".evt-project-{}.db", ::getpid()));
  }

  Status Spill() {
    // JSON Lines / CSV: the state moves to a temporary SQLite file once it outgrows the cache.
    if (!store_.attached()) {
      tmp_ = SpillPath();
      if (PathExists(tmp_)) EVT_RETURN_IF_ERROR(RemoveFile(tmp_));
      EVT_RETURN_IF_ERROR(store_.Attach(tmp_, true, false));
      st_->spilled = true;
    }
    return store_.Flush(true);
  }

  Status Fold(Selection& S) {
    RecordBatch in;
    std::string key, out;
    const bool several = !o_.sel.merge_time;
    uint64_t since_commit = 0, since_snapshot = 0;
    const int64_t start = SteadyMs();
    int64_t last_snapshot = start;
    int64_t last_progress = 0;
    for (;;) {
      bool eof = false;
      Status s = S.Next(&in, &eof);
      if (!s.ok()) return s;
      if (eof) break;
      for (const Record& r : in.records) {
        ++st_->selected;
        if (o_.at_ms != INT64_MAX) {
          int64_t t = S.TimeOf(r);
          if (t < 0 || t > o_.at_ms) {
            ++st_->after_at;
            continue;
          }
        }
        const int32_t partition = r.partition >= 0 ? r.partition : in.partition;
        // The key.
        if (key_) {
          filter::Match m = key_->RecordValue(in, r, o_.strict, &out);
          if (m == filter::Match::kError || m == filter::Match::kInvalid) {
            EVT_RETURN_IF_ERROR(RecordError(in, r, "--key: " + key_->error(), "evt.project.KeyError"));
            continue;
          }
          if (m == filter::Match::kNo || out == "null") {
            ++st_->no_key;
            continue;
          }
          if (out[0] != '"' || !DecodeJsonString(out, &key)) key = out;
        } else {
          if (r.key.null()) {
            ++st_->no_key;
            continue;
          }
          key.assign(r.key.view());
        }
        auto got = store_.Get(key);
        if (!got.ok()) return got.status();
        Entry& e = **got;
        std::string_view cur = e.state.empty() ? std::string_view(init_) : std::string_view(e.state);
        filter::Match m = filter::Match::kYes;
        if (worker_) {
          Status ws = worker_->Step(cur, in, r, &out);
          if (ws.code() == Code::kDataProblem) {
            EVT_RETURN_IF_ERROR(RecordError(in, r, worker_->error(), "evt.project.WorkerError"));
            continue;
          }
          EVT_RETURN_IF_ERROR(ws);
        } else {
          m = fold_->Fold(cur, in, r, o_.strict, &out);
        }
        if (m == filter::Match::kError || m == filter::Match::kInvalid) {
          EVT_RETURN_IF_ERROR(RecordError(in, r, fold_->error(), "evt.project.ReduceError"));
          continue;
        }
        if (several && e.updates > 0 && (e.partition != partition || e.topic != in.topic)) {
          if (st_->cross_partition++ == 0)
            st_->first_cross_partition = fmt::format("key {} in {}/{} and {}/{}", key, e.topic, e.partition, in.topic, partition);
        }
        size_t before = e.state.size() + e.topic.size();
        if (m == filter::Match::kNo) out = "null";  // jq 1.6: an empty update gives null
        if (out == "null" && !o_.keep_null) {
          if (!e.state.empty()) ++st_->deleted;
          e.state.clear();
          e.updates = 0;
        } else {
          e.state.swap(out);
          ++e.updates;
        }
        if (e.topic != in.topic) e.topic = in.topic;
        e.partition = partition;
        e.offset = r.offset;
        e.timestamp = r.timestamp;
        e.dirty = true;
        store_.Resized(before, e.state.size() + e.topic.size());
        ++st_->folded;
        ++since_commit;
        ++since_snapshot;
        if (st_->first_ts < 0) st_->first_ts = r.timestamp;
        st_->last_ts = r.timestamp;
        st_->newest_time = std::max(st_->newest_time, S.TimeOf(r));
        if (store_.over_budget()) {
          if (o_.format == ProjectFormat::kSqlite) EVT_RETURN_IF_ERROR(store_.Flush(true));
          else EVT_RETURN_IF_ERROR(Spill());
        }
      }
      // Between batches: a commit (state and positions in one transaction) of an output
      // continued in place (--incremental). A new build goes to a private file that is
      // discarded unless the run completes, so commits would buy it nothing but writes of
      // the same keys again: it commits once, at the end.
      if (o_.format == ProjectFormat::kSqlite && tmp_.empty() && since_commit >= o_.commit_records) {
        EVT_RETURN_IF_ERROR(CommitPositions(S, false));
        since_commit = 0;
      }
      if ((o_.snapshot_every_records > 0 && since_snapshot >= o_.snapshot_every_records) ||
          (o_.snapshot_every_ms > 0 && since_snapshot > 0 && SteadyMs() - last_snapshot >= o_.snapshot_every_ms)) {
        EVT_RETURN_IF_ERROR(TakeSnapshot(S));
        since_snapshot = 0;
        since_commit = 0;
        last_snapshot = SteadyMs();
      }
      if (o_.progress) {
        int64_t now = SteadyMs();
        if (now - last_progress >= 200) {
          last_progress = now;
          JobProgress p;
          p.job = "project";
          p.done = st_->selected;
          p.estimate = S.estimated_records();
          p.seconds = (now - start) / 1000.0;
          p.keys = static_cast<int64_t>(store_.cache().size());
          o_.progress->Update(p, false);
        }
      }
      if (o_.stop.requested()) return Status::Interrupted();
    }
    if (o_.progress) {
      JobProgress p;
      p.job = "project";
      p.done = st_->selected;
      p.estimate = S.estimated_records();
      p.seconds = (SteadyMs() - start) / 1000.0;
      o_.progress->Update(p, true);
    }
    return Status::OK();
  }

  // JSON Lines / CSV: the states sorted by key, to OUT (atomically) or stdout.
  Status WriteText() {
    std::unique_ptr<WritableFile> f;
    std::string tmp_out;
    if (o_.out == "-") {
      f = WritableFile::FromFd(1, "stdout");
    } else {
      tmp_out = o_.out + ".evt-tmp";
      auto w = WritableFile::Open(tmp_out, false);
      if (!w.ok()) return w.status();
      f = std::move(*w);
    }
    std::string line;
    const bool csv = o_.format == ProjectFormat::kCsv;
    std::vector<std::unique_ptr<filter::Evaluator>> cols;
    for (const auto& c : o_.columns) {
      auto cf = filter::Filter::Compile({c.expr}, filter::Mode::kJson);
      if (!cf.ok()) return Status::InvalidArgument(fmt::format("--columns {}: {}", c.name, cf.status().message()));
      cols.push_back(std::make_unique<filter::Evaluator>(*cf));
    }
    if (csv) {
      line = "key";
      if (o_.columns.empty()) line += ",state,topic,partition,offset,timestamp,updates";
      for (const auto& c : o_.columns) line += "," + c.name;
      line += "\n";
      EVT_RETURN_IF_ERROR(f->Append(line));
    }
    std::string v;
    auto emit = [&](std::string_view key, const Entry& e) -> Status {
      line.clear();
      if (csv) {
        AppendCsvField(key, &line);
        if (o_.columns.empty()) {
          line.push_back(',');
          AppendCsvField(e.state, &line);
          line += ",";
          AppendCsvField(e.topic, &line);
          line += fmt::format(",{},{},{},{}", e.partition, e.offset, e.timestamp, e.updates);
        }
        for (auto& ev : cols) {
          line.push_back(',');
          if (ev->JsonValue(e.state, &v) == filter::Match::kYes) AppendCsvJson(v, &line);
        }
      } else {
        line += "{\"key\":";
        envelope::AppendJsonString(key, &line);
        line += ",\"state\":";
        line += e.state;
        line += ",\"topic\":";
        envelope::AppendJsonString(e.topic, &line);
        line += fmt::format(",\"partition\":{},\"offset\":{},\"timestamp\":{},\"updates\":{}}}", e.partition, e.offset,
                            e.timestamp, e.updates);
      }
      line.push_back('\n');
      ++st_->keys;
      return f->Append(line);
    };
    Status s;
    if (!store_.attached()) {
      std::vector<std::pair<const std::string*, const Entry*>> sorted;
      for (const auto& [k, e] : store_.cache())
        if (!e.state.empty()) sorted.emplace_back(&k, &e);
      std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
      for (const auto& [k, e] : sorted) {
        s = emit(*k, *e);
        if (!s.ok()) break;
      }
    } else {
      s = store_.Flush(true);
      {
      Stmt st;
      if (s.ok())
        s = store_.db().Prepare(
            "SELECT key, value, topic, partition, \"offset\", timestamp, updates FROM state ORDER BY key", &st);
      while (s.ok()) {
        int rc = sqlite3_step(st.get());
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) {
          s = store_.db().Err("read state");
          break;
        }
        auto text = [&](int i) {
          const unsigned char* p = sqlite3_column_text(st.get(), i);
          return std::string_view(p ? reinterpret_cast<const char*>(p) : "", sqlite3_column_bytes(st.get(), i));
        };
        Entry e;
        e.state = text(1);
        e.topic = text(2);
        e.partition = sqlite3_column_int(st.get(), 3);
        e.offset = sqlite3_column_int64(st.get(), 4);
        e.timestamp = sqlite3_column_int64(st.get(), 5);
        e.updates = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 6));
        s = emit(text(0), e);
      }
      }
      store_.db().Close();
      (void)RemoveFile(tmp_);
    }
    if (s.ok()) s = tmp_out.empty() ? f->Flush() : f->Sync();
    Status cs = f->Close();
    if (s.ok()) s = cs;
    if (!s.ok()) {
      if (!tmp_out.empty()) (void)RemoveFile(tmp_out);
      return s;
    }
    if (!tmp_out.empty()) {
      EVT_RETURN_IF_ERROR(RenameFile(tmp_out, o_.out));
      EVT_RETURN_IF_ERROR(SyncDir(Dirname(o_.out)));
    }
    return Status::OK();
  }

  const ProjectOptions& o_;
  Reporter* rep_;
  ProjectStats* st_;
  Store store_;
  std::unique_ptr<filter::Evaluator> fold_, key_;
  std::unique_ptr<DeadLetterWriter> dlq_;  // --on-error dead-letter
  std::unique_ptr<FoldWorker> worker_;     // --pipe / --exec
  std::string init_;  // compact JSON; empty: null
  std::string tmp_;   // the file being built (SQLite full build, or the spill file)
};

}  // namespace

Status RunProject(const ProjectOptions& o, Reporter* reporter, ProjectStats* stats) {
  Projection p(o, reporter, stats);
  Status s = p.Run();
  return s;
}

std::string ProjectStatsJson(const ProjectStats& s) {
  return fmt::format(
      "{{\"resumed\":{},\"scanned\":{},\"selected\":{},\"folded\":{},\"after_at\":{},\"no_key\":{},\"errors\":{},"
      "\"dead_lettered\":{},\"keys\":{},\"deleted\":{},\"cross_partition\":{},\"missing_time_field\":{},\"commits\":{},\"spilled\":{},"
      "\"first_timestamp\":{},\"last_timestamp\":{},\"newest_time\":{},\"snapshots_written\":{},\"from_snapshot\":\"{}\","
      "\"seconds\":{:.3f},\"records_per_s\":{:.0f}}}\n",
      s.resumed, s.scanned, s.selected, s.folded, s.after_at, s.no_key, s.errors, s.dead_lettered, s.keys, s.deleted, s.cross_partition,
      s.missing_time_field, s.commits, s.spilled, s.first_ts, s.last_ts, s.newest_time, s.snapshots_written,
      s.from_snapshot, s.seconds,
      s.seconds > 0 ? s.selected / s.seconds : 0.0);
}

}  // namespace evt
