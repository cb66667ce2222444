// Compilation (function/variable resolution, regexes, path analysis) and evaluation with
// jq 1.6 semantics.
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <unordered_map>

#include "formats/envelope/envelope.h"
#include "lib/filter/ast.h"
#include "lib/filter/datetime.h"
#include "lib/filter/filter.h"
#include "lib/filter/value.h"

namespace evt::filter {

namespace {

enum Fn : int {
  kTest1, kTest2, kStartswith, kEndswith, kContains, kHas, kIn, kLength, kAsciiDowncase, kAsciiUpcase,
  kTostring, kTonumber, kType, kAny0, kAll0, kAny1, kAll1, kSelect, kNot, kEmpty,
  kNow, kMktime, kGmtime, kStrftime, kStrptime, kTodate, kFromdate,
  kDel, kToEntries, kFromEntries, kWithEntries, kKeys, kKeysUnsorted, kAdd, kMap, kTojson, kFromjson, kGetpath,
  kSetpath, kFloor, kMin, kMax, kError,
};

int FnId(const std::string& name, size_t nargs) {
  static const std::unordered_map<std::string, int> m = {
      {"test/1", kTest1}, {"test/2", kTest2}, {"startswith/1", kStartswith}, {"endswith/1", kEndswith},
      {"contains/1", kContains}, {"has/1", kHas}, {"in/1", kIn}, {"length/0", kLength},
      {"ascii_downcase/0", kAsciiDowncase}, {"ascii_upcase/0", kAsciiUpcase}, {"tostring/0", kTostring},
      {"tonumber/0", kTonumber}, {"type/0", kType}, {"any/0", kAny0}, {"all/0", kAll0}, {"any/1", kAny1},
      {"all/1", kAll1}, {"select/1", kSelect}, {"not/0", kNot}, {"empty/0", kEmpty}, {"now/0", kNow},
      {"mktime/0", kMktime}, {"gmtime/0", kGmtime}, {"strftime/1", kStrftime}, {"strptime/1", kStrptime},
      {"todate/0", kTodate}, {"todateiso8601/0", kTodate}, {"fromdate/0", kFromdate},
      {"fromdateiso8601/0", kFromdate}, {"del/1", kDel}, {"to_entries/0", kToEntries},
      {"from_entries/0", kFromEntries}, {"with_entries/1", kWithEntries}, {"keys/0", kKeys},
      {"keys_unsorted/0", kKeysUnsorted}, {"add/0", kAdd}, {"map/1", kMap}, {"tojson/0", kTojson},
      {"fromjson/0", kFromjson}, {"getpath/1", kGetpath}, {"setpath/2", kSetpath}, {"floor/0", kFloor},
      {"min/0", kMin}, {"max/0", kMax}, {"error/1", kError}};
  auto it = m.find(fmt::format("{}/{}", name, nargs));
  return it == m.end() ? -1 : it->second;
}

enum Var : int { kVarKey, kVarOffset, kVarTimestamp, kVarPartition, kVarTopic, kVarHeaders, kVarEvent, kNumVars };
// Variables bound with `as $name` have ids from here (Node::fn).
constexpr int kUserVarBase = 1000;
int VarId(const std::string& name) {
  if (name == "key") return kVarKey;
  if (name == "offset") return kVarOffset;
  if (name == "timestamp") return kVarTimestamp;
  if (name == "partition") return kVarPartition;
  if (name == "topic") return kVarTopic;
  if (name == "headers") return kVarHeaders;
  if (name == "event") return kVarEvent;
  return -1;
}

const char* TypeName(VType t) {
  switch (t) {
    case VType::kNull: return "null";
    case VType::kFalse:
    case VType::kTrue: return "boolean";
    case VType::kNumber: return "number";
    case VType::kString: return "string";
    case VType::kArray: return "array";
    case VType::kObject: return "object";
  }
  return "?";
}

// ---------------------------------------------------------------- regexes
struct Regex {
  std::unique_ptr<RE2> re;
  bool ignore_empty = false;  // jq flag n
};

// Builds an RE2 for a jq/Oniguruma pattern and flags; errors name what RE2 cannot honour.
Status BuildRegex(std::string_view pattern, std::string_view flags, Regex* out) {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(64 << 20);
  for (char c : flags) {
    switch (c) {
      case 'g': break;  // global: no effect on test()
      case 'i': o.set_case_sensitive(false); break;
      case 'l': o.set_longest_match(true); break;
      case 's': break;  // single-line (^ \A, $ \Z): RE2's default already
      case 'p': o.set_dot_nl(true); break;  // '.' matches newline (Oniguruma multiline+singleline)
      case 'n': out->ignore_empty = true; break;
      case 'x': return Status::InvalidArgument("regex flag 'x' (extended syntax) is not supported by RE2");
      default: return Status::InvalidArgument(fmt::format("{} is not a valid modifier string", flags));
    }
  }
  // Oniguruma's named groups (?<name>...) are RE2's (?P<name>...).
  std::string pat;
  pat.reserve(pattern.size() + 8);
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      pat.push_back(pattern[i]);
      pat.push_back(pattern[++i]);
      continue;
    }
    if (pattern.compare(i, 3, "(?<") == 0 && i + 3 < pattern.size() && pattern[i + 3] != '=' && pattern[i + 3] != '!') {
      pat += "(?P<";
      i += 2;
      continue;
    }
    pat.push_back(pattern[i]);
  }
  out->re = std::make_unique<RE2>(pat, o);
  if (!out->re->ok())
    return Status::InvalidArgument(fmt::format("regex '{}' is not supported by RE2 (evt's regex engine): {}", pattern,
                                               out->re->error()));
  return Status::OK();
}

bool RegexTest(const Regex& rx, std::string_view s) {
  if (!rx.ignore_empty) return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *rx.re);
  re2::StringPiece text(s.data(), s.size());
  size_t pos = 0;
  while (pos <= s.size()) {
    re2::StringPiece m;
    if (!rx.re->Match(text, pos, s.size(), RE2::UNANCHORED, &m, 1)) return false;
    if (!m.empty()) return true;
    pos = static_cast<size_t>(m.data() - s.data()) + 1;
  }
  return false;
}

// ---------------------------------------------------------------- path analysis
PathNode* Nav(Node* n, PathNode* ctx);
void Use(Node* n, PathNode* ctx) {
  PathNode* p = Nav(n, ctx);
  if (p) p->full = true;
}
void UseCtx(PathNode* ctx) {
  if (ctx) ctx->full = true;
}

PathNode* Nav(Node* n, PathNode* ctx) {
  switch (n->kind) {
    case NodeKind::kIdentity: return ctx;
    case NodeKind::kField: {
      PathNode* t = Nav(n->kids[0].get(), ctx);
      return t ? t->Field(n->str) : nullptr;
    }
    case NodeKind::kIndex: {
      PathNode* t = Nav(n->kids[0].get(), ctx);
      Use(n->kids[1].get(), ctx);
      if (!t) return nullptr;
      const Node* ix = n->kids[1].get();
      if (ix->kind == NodeKind::kLiteral && ix->lit == LitType::kNumber) return t->Elems();
      t->full = true;  // dynamic index: keep the whole container
      return nullptr;
    }
    case NodeKind::kOptional: return Nav(n->kids[0].get(), ctx);
    case NodeKind::kPipe: {
      PathNode* t = Nav(n->kids[0].get(), ctx);
      return Nav(n->kids[1].get(), t);  // t == nullptr: the right side reads a complete value
    }
    case NodeKind::kCall:
      switch (n->fn) {
        case kSelect: Use(n->kids[0].get(), ctx); return ctx;
        case kEmpty:
        case kNow: return nullptr;
        case kAny1:
        case kAll1:
          UseCtx(ctx);
          Use(n->kids[0].get(), nullptr);
          return nullptr;
        default:
          UseCtx(ctx);
          for (auto& k : n->kids) Use(k.get(), ctx);
          return nullptr;
      }
    case NodeKind::kLiteral:
    case NodeKind::kVariable: return nullptr;
    case NodeKind::kBind:
      Use(n->kids[0].get(), ctx);
      return Nav(n->kids[1].get(), ctx);
    case NodeKind::kAssign:
      UseCtx(ctx);  // the input is rebuilt: all of it is needed
      for (auto& k : n->kids) Use(k.get(), ctx);
      return nullptr;
    default:
      for (auto& k : n->kids) Use(k.get(), ctx);
      return nullptr;
  }
}

}  // namespace

// ---------------------------------------------------------------- number and JSON printing

void AppendJqNumber(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("null");
    return;
  }
  // Integers below 1e15 print as their digits (jq's %.17g layout gives the same): the
  // common case, without the scientific round trip. -0 keeps its sign below.
  if (std::fabs(d) < 1e15 && d == std::trunc(d) && !(d == 0 && std::signbit(d))) {
    char ibuf[24];
    auto r = std::to_chars(ibuf, ibuf + sizeof(ibuf), static_cast<int64_t>(d));
    out->append(ibuf, static_cast<size_t>(r.ptr - ibuf));
    return;
  }
  if (d > 1.7976931348623157e308) d = 1.7976931348623157e308;
  if (d < -1.7976931348623157e308) d = -1.7976931348623157e308;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);  // [-]d[.ddd]e[+-]XX
  bool neg = false;
  if (!sci.empty() && sci[0] == '-') {
    neg = true;
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e; ++i)
    if (sci[i] != '.') digits.push_back(sci[i]);
  int exp10 = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp10);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int decpt = exp10 + 1;
  int nd = static_cast<int>(digits.size());
  if (neg) out->push_back('-');
  if (digits == "0") {
    out->push_back('0');
    return;
  }
  if (decpt <= -4 || decpt > nd + 15) {
    out->push_back(digits[0]);
    if (nd > 1) {
      out->push_back('.');
      out->append(digits, 1);
    }
    out->push_back('e');
    int x = decpt - 1;
    if (x < 0) {
      out->push_back('-');
      x = -x;
    } else {
      out->push_back('+');
    }
    fmt::format_to(std::back_inserter(*out), "{:02d}", x);
  } else if (decpt <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-decpt), '0');
    out->append(digits);
  } else {
    for (int i = 0; i < nd; ++i) {
      out->push_back(digits[i]);
      if (i + 1 == decpt && i + 1 < nd) out->push_back('.');
    }
    for (int i = nd; i < decpt; ++i) out->push_back('0');
  }
}


void AppendJqJson(const Value& v, std::string* out) {
  switch (v.t) {
    case VType::kNull: out->append("null"); break;
    case VType::kFalse: out->append("false"); break;
    case VType::kTrue: out->append("true"); break;
    case VType::kNumber: AppendJqNumber(v.num, out); break;
    case VType::kString: envelope::AppendJqJsonString(v.sv(), out); break;
    case VType::kArray:
      out->push_back('[');
      for (uint32_t i = 0; i < v.n; ++i) {
        if (i) out->push_back(',');
        AppendJqJson(v.elems[i], out);
      }
      out->push_back(']');
      break;
    case VType::kObject:
      out->push_back('{');
      for (uint32_t i = 0; i < v.n; ++i) {
        if (i) out->push_back(',');
        envelope::AppendJqJsonString(v.members[i].key, out);
        out->push_back(':');
        AppendJqJson(v.members[i].val, out);
      }
      out->push_back('}');
      break;
  }
}

namespace {

// ---------------------------------------------------------------- ordering (jq's jv_cmp)
int KindRank(VType t) { return static_cast<int>(t); }  // null false true number string array object

int Compare(const Value& a, const Value& b);

int CompareStrings(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  int r = n ? std::memcmp(a.data(), b.data(), n) : 0;
  if (r) return r < 0 ? -1 : 1;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

void SortedKeys(const Value& o, std::vector<const Member*>* out) {
  out->clear();
  for (uint32_t i = 0; i < o.n; ++i) out->push_back(&o.members[i]);
  std::sort(out->begin(), out->end(), [](const Member* x, const Member* y) { return CompareStrings(x->key, y->key) < 0; });
}

int Compare(const Value& a, const Value& b) {
  int ka = KindRank(a.t), kb = KindRank(b.t);
  if (ka != kb) return ka < kb ? -1 : 1;
  switch (a.t) {
    case VType::kNumber:
      // jq 1.6 orders NaN below every number (and below itself).
      if (std::isnan(a.num)) return -1;
      if (std::isnan(b.num)) return 1;
      return a.num < b.num ? -1 : a.num == b.num ? 0 : 1;
    case VType::kString: return CompareStrings(a.sv(), b.sv());
    case VType::kArray: {
      uint32_t n = std::min(a.n, b.n);
      for (uint32_t i = 0; i < n; ++i) {
        int r = Compare(a.elems[i], b.elems[i]);
        if (r) return r;
      }
      return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
    }
    case VType::kObject: {
      std::vector<const Member*> ak, bk;
      SortedKeys(a, &ak);
      SortedKeys(b, &bk);
      size_t n = std::min(ak.size(), bk.size());
      for (size_t i = 0; i < n; ++i) {
        int r = CompareStrings(ak[i]->key, bk[i]->key);
        if (r) return r;
      }
      if (ak.size() != bk.size()) return ak.size() < bk.size() ? -1 : 1;
      for (size_t i = 0; i < ak.size(); ++i) {
        int r = Compare(ak[i]->val, bk[i]->val);
        if (r) return r;
      }
      return 0;
    }
    default: return 0;
  }
}

const Value* Lookup(const Value& o, std::string_view key) {
  for (uint32_t i = 0; i < o.n; ++i)
    if (o.members[i].key == key) return &o.members[i].val;
  return nullptr;
}

}  // namespace

// ---------------------------------------------------------------- Filter

Filter::Filter() = default;
Filter::~Filter() = default;

bool Filter::reads_document() const { return paths_ && (paths_->full || !paths_->fields.empty() || paths_->elems); }

namespace {

struct Scope {
  std::vector<std::pair<std::string, int>> names;  // `as $name` bindings in scope, innermost last
  int next = kUserVarBase;
};

Status Resolve(Node* n, Mode mode, uint32_t* vars, const std::string& text, Scope* scope) {
  auto err = [&](const std::string& what, int pos = -1) {
    std::string caret(static_cast<size_t>(pos < 0 ? n->pos : pos), ' ');
    return Status::InvalidArgument(fmt::format("{}\n  {}\n  {}^", what, text, caret));
  };
  if (n->kind == NodeKind::kCall) {
    n->fn = FnId(n->str, n->kids.size());
    if (n->fn < 0) return err(fmt::format("unknown function {}/{}", n->str, n->kids.size()));
    if ((n->fn == kTest1 || n->fn == kTest2) && n->kids[0]->kind == NodeKind::kLiteral &&
        n->kids[0]->lit == LitType::kString) {
      std::string flags;
      bool literal_flags = true;
      if (n->fn == kTest2) {
        const Node* f = n->kids[1].get();
        if (f->kind == NodeKind::kLiteral && f->lit == LitType::kString) flags = f->str;
        else if (f->kind == NodeKind::kLiteral && f->lit == LitType::kNull) flags.clear();
        else literal_flags = false;
      }
      if (literal_flags) {
        auto rx = std::make_shared<Regex>();
        Status s = BuildRegex(n->kids[0]->str, flags, rx.get());
        if (!s.ok()) return err(s.message());
        n->aux = rx;
      }
    }
    // A literal time format with a directive evt lacks is an error now, not per document.
    if ((n->fn == kStrftime || n->fn == kStrptime) && n->kids[0]->kind == NodeKind::kLiteral &&
        n->kids[0]->lit == LitType::kString) {
      std::string_view fmt = n->kids[0]->str;
      Status s = CheckTimeFormat(fmt.substr(0, fmt.find('\0')), n->fn == kStrftime ? "strftime/1" : "strptime/1");
      if (!s.ok()) return err(s.message(), n->kids[0]->pos);
    }
  } else if (n->kind == NodeKind::kBind) {
    EVT_RETURN_IF_ERROR(Resolve(n->kids[0].get(), mode, vars, text, scope));
    n->fn = scope->next++;
    scope->names.emplace_back(n->str, n->fn);
    Status s = Resolve(n->kids[1].get(), mode, vars, text, scope);
    scope->names.pop_back();
    return s;
  } else if (n->kind == NodeKind::kVariable) {
    for (auto it = scope->names.rbegin(); it != scope->names.rend(); ++it)
      if (it->first == n->str) {
        n->fn = it->second;
        return Status::OK();
      }
    int id = VarId(n->str);
    if (id == kVarEvent && mode != Mode::kFold) return err("$event is only defined in a fold (evt project --reduce)");
    if (mode == Mode::kJson) {
      if (id >= 0)
        return err(fmt::format("${} is only defined when filtering records (--where on cat, dump, inspect)", n->str));
      return err(fmt::format("${} is not defined", n->str));
    }
    if (id < 0)
      return err(fmt::format("${} is not defined; records have $key $offset $timestamp $partition $topic $headers{}",
                             n->str, mode == Mode::kFold ? " (and folds $event)" : ""));
    n->fn = id;
    *vars |= 1u << id;
  }
  for (auto& k : n->kids) EVT_RETURN_IF_ERROR(Resolve(k.get(), mode, vars, text, scope));
  return Status::OK();
}

bool SamePaths(const PathNode& a, const PathNode& b) {
  if (a.full != b.full || a.fields.size() != b.fields.size() || !a.elems != !b.elems) return false;
  if (a.elems && !SamePaths(*a.elems, *b.elems)) return false;
  for (size_t i = 0; i < a.fields.size(); ++i)
    if (a.fields[i].first != b.fields[i].first || !SamePaths(*a.fields[i].second, *b.fields[i].second)) return false;
  return true;
}

}  // namespace

Result<std::shared_ptr<const Filter>> Filter::Compile(const std::vector<std::string>& exprs, Mode mode) {
  if (exprs.empty()) return Status::InvalidArgument("no filter expression");
  std::shared_ptr<Filter> f(new Filter());
  f->mode_ = mode;
  std::unique_ptr<Node> root;
  for (const auto& e : exprs) {
    auto n = Parse(e);
    if (!n.ok()) return n.status();
    Scope scope;
    EVT_RETURN_IF_ERROR(Resolve(n->get(), mode, &f->vars_used_, e, &scope));
    if (!root) {
      root = std::move(*n);
    } else {
      auto a = std::make_unique<Node>();
      a->kind = NodeKind::kAnd;
      a->kids.push_back(std::move(root));
      a->kids.push_back(std::move(*n));
      root = std::move(a);
    }
    f->text_ += (f->text_.empty() ? "" : " and ") + e;
  }
  if (mode != Mode::kFold) {
    // As a predicate, `.a = 1` keeps every object (jq's assignment): almost always a typo.
    std::vector<const Node*> todo = {root.get()};
    while (!todo.empty()) {
      const Node* n = todo.back();
      todo.pop_back();
      if (n->kind == NodeKind::kAnd || n->kind == NodeKind::kOr) {
        for (auto& k : n->kids) todo.push_back(k.get());
      } else if (n->kind == NodeKind::kAssign && n->op == Op::kNone) {
        return Status::InvalidArgument(fmt::format(
            "'=' is assignment (as a filter it selects every object it can assign to); use '==' to compare "
            "(or write '... = ... | .' to mean the assignment)\n  {}", f->text_));
      }
    }
  }
  f->paths_ = std::make_unique<PathNode>();
  Use(root.get(), f->paths_.get());
  if (!f->paths_->full && (root->kind == NodeKind::kAnd || root->kind == NodeKind::kOr)) {
    Node* first = root.get();
    while (first->kind == root->kind) first = first->kids[0].get();
    auto pre = std::make_unique<PathNode>();
    Use(first, pre.get());
    if (!SamePaths(*pre, *f->paths_)) {
      f->pre_ = first;
      f->pre_or_ = root->kind == NodeKind::kOr;
      f->pre_paths_ = std::move(pre);
    }
  }
  f->root_ = std::move(root);
  return std::shared_ptr<const Filter>(std::move(f));
}

// ---------------------------------------------------------------- Evaluator

namespace {
struct R {
  enum S : uint8_t { kVal, kEmpty, kErr } s = kVal;
  Value v;
  static R Val(const Value& v) { return R{kVal, v}; }
  static R Empty() { return R{kEmpty, Value()}; }
  static R Err() { return R{kErr, Value()}; }
};
}  // namespace

struct Evaluator::Impl {
  std::shared_ptr<const Filter> f;
  EvalArena arena;
  JsonExtractor extractor;
  JsonExtractor state_extractor;  // Fold: `.` (the state), parsed beside $event
  std::vector<Value> uvars;       // `as $name` bindings, by id - kUserVarBase
  std::string* error = nullptr;
  bool have_error = false;
  std::unordered_map<std::string, std::unique_ptr<Regex>> regex_cache;
  // Record context.
  const RecordBatch* batch = nullptr;
  const evt::Record* rec = nullptr;
  Value vars[kNumVars];
  uint32_t vars_ready = 0;
  std::string scratch;
  std::vector<Value> tmp_values;
  // Memory one evaluation may use (kMaxEvalBytes). Going past it is an error that `?` and
  // `try` do not hide, so a hostile filter cannot grow without bound one record at a time.
  bool over_budget = false;

  // False (and the evaluation fails) when `bytes` more would take it past kMaxEvalBytes.
  bool Budget(double bytes) {
    if (!over_budget && static_cast<double>(arena.MemoryUsage()) + bytes <= static_cast<double>(kMaxEvalBytes))
      return true;
    if (!over_budget) {
      over_budget = true;
      *error = fmt::format("filter needs more than {} MiB of memory for one record", kMaxEvalBytes >> 20);
      have_error = true;
    }
    return false;
  }

  R Fail(const std::string& msg) {
    if (!have_error) {
      *error = msg;
      have_error = true;
    }
    return R::Err();
  }
  std::string Show(const Value& v) {
    std::string s;
    AppendJqJson(v, &s);
    if (s.size() > 11) s = s.substr(0, 10) + "...";
    return fmt::format("{} ({})", TypeName(v.t), s);
  }

  // The Make* builders hand back null once over budget; Eval then fails the record.
  Value MakeString(std::string_view s) {
    if (!Budget(static_cast<double>(s.size()))) return Value::Null();
    return Value::String(arena.Copy(s));
  }

  Value MakeArray(const std::vector<Value>& es) {
    if (!Budget(static_cast<double>(es.size()) * sizeof(Value))) return Value::Null();
    Value v;
    v.t = VType::kArray;
    Value* a = arena.AllocateArray<Value>(es.size());
    for (size_t i = 0; i < es.size(); ++i) new (&a[i]) Value(es[i]);
    v.elems = a;
    v.n = static_cast<uint32_t>(es.size());
    return v;
  }
  Value MakeObject(const std::vector<Member>& ms) {
    if (!Budget(static_cast<double>(ms.size()) * sizeof(Member))) return Value::Null();
    Value v;
    v.t = VType::kObject;
    Member* m = arena.AllocateArray<Member>(ms.size());
    for (size_t i = 0; i < ms.size(); ++i) new (&m[i]) Member(ms[i]);
    v.members = m;
    v.n = static_cast<uint32_t>(ms.size());
    return v;
  }

  // ---- variables
  Value Var(int id) {
    if (vars_ready & (1u << id)) return vars[id];
    vars_ready |= 1u << id;
    Value v;
    // A bare JSON document (Evaluator::Json, evt filter) has no record: its record
    // variables are null, as they are for a record without a key.
    if (!rec && id != kVarEvent) {
      vars[id] = v;
      return v;
    }
    switch (id) {
      case kVarKey: {
        const Bytes& k = rec->key;
        if (k.null() || !envelope::IsValidUtf8(k.view())) break;
        if (envelope::IsEmbeddableJson(k.view())) {
          if (!extractor.ExtractFull(k.view(), &arena, &v)) v = Value::Null();
        } else {
          v = MakeString(k.view());
        }
        break;
      }
      case kVarOffset: v = Value::Number(static_cast<double>(rec->offset)); break;
      case kVarTimestamp: v = Value::Number(static_cast<double>(rec->timestamp)); break;
      case kVarPartition: v = Value::Number(static_cast<double>(rec->partition >= 0 ? rec->partition : batch->partition)); break;
      case kVarTopic: v = MakeString(batch->topic); break;
      case kVarEvent: break;  // set by Fold before evaluation
      case kVarHeaders: {
        std::vector<Member> ms;
        const Header* h = batch->HeadersOf(*rec);
        for (uint32_t i = 0; i < rec->header_count; ++i) {
          if (!envelope::IsValidUtf8(h[i].key)) continue;
          Value hv;
          if (!h[i].value.null() && envelope::IsValidUtf8(h[i].value.view())) hv = MakeString(h[i].value.view());
          bool replaced = false;
          for (auto& m : ms)
            if (m.key == h[i].key) {
              m.val = hv;
              replaced = true;
            }
          if (!replaced) ms.push_back(Member{arena.Copy(h[i].key), hv});
        }
        v = MakeObject(ms);
        break;
      }
    }
    vars[id] = v;
    return v;
  }

  // ---- indexing
  R IndexField(const Value& base, std::string_view name) {
    if (base.t == VType::kObject) {
      const Value* v = Lookup(base, name);
      return R::Val(v ? *v : Value::Null());
    }
    if (base.t == VType::kNull) return R::Val(Value::Null());
    std::string n;
    envelope::AppendJqJsonString(name, &n);
    return Fail(fmt::format("Cannot index {} with string {}", TypeName(base.t), n));
  }
  R IndexValue(const Value& base, const Value& idx) {
    if (idx.t == VType::kString) return IndexField(base, idx.sv());
    if (idx.t == VType::kNumber) {
      if (base.t == VType::kNull) return R::Val(Value::Null());
      if (base.t != VType::kArray) return Fail(fmt::format("Cannot index {} with number", TypeName(base.t)));
      double d = idx.num;
      // jq 1.6: a non-integer index gives null.
      if (std::isnan(d) || d != std::floor(d)) return R::Val(Value::Null());
      int64_t i = d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : static_cast<int64_t>(d);
      if (i < 0) i += base.n;
      if (i < 0 || i >= static_cast<int64_t>(base.n)) return R::Val(Value::Null());
      return R::Val(base.elems[i]);
    }
    if (base.t == VType::kNull && (idx.t == VType::kNull || idx.t == VType::kObject)) return R::Val(Value::Null());
    return Fail(fmt::format("Cannot index {} with {}", TypeName(base.t), TypeName(idx.t)));
  }

  // ---- arithmetic (jq 1.6)
  R Arith(Op op, const Value& a, const Value& b) {
    switch (op) {
      case Op::kAdd:
        if (a.t == VType::kNull) return R::Val(b);
        if (b.t == VType::kNull) return R::Val(a);
        if (a.t == VType::kNumber && b.t == VType::kNumber) return R::Val(Value::Number(a.num + b.num));
        if (a.t == VType::kString && b.t == VType::kString) {
          if (!Budget(2.0 * (a.n + b.n))) return R::Err();
          scratch.assign(a.sv());
          scratch.append(b.sv());
          return R::Val(MakeString(scratch));
        }
        if (a.t == VType::kArray && b.t == VType::kArray) {
          if (!Budget(2.0 * (a.n + b.n) * sizeof(Value))) return R::Err();
          std::vector<Value> es(a.elems, a.elems + a.n);
          es.insert(es.end(), b.elems, b.elems + b.n);
          return R::Val(MakeArray(es));
        }
        if (a.t == VType::kObject && b.t == VType::kObject) return R::Val(Merge(a, b, false));
        return Fail(fmt::format("{} and {} cannot be added", Show(a), Show(b)));
      case Op::kSub:
        if (a.t == VType::kNumber && b.t == VType::kNumber) return R::Val(Value::Number(a.num - b.num));
        if (a.t == VType::kArray && b.t == VType::kArray) {
          std::vector<Value> es;
          for (uint32_t i = 0; i < a.n; ++i) {
            bool drop = false;
            for (uint32_t j = 0; j < b.n && !drop; ++j) drop = Compare(a.elems[i], b.elems[j]) == 0;
            if (!drop) es.push_back(a.elems[i]);
          }
          return R::Val(MakeArray(es));
        }
        return Fail(fmt::format("{} and {} cannot be subtracted", Show(a), Show(b)));
      case Op::kMul:
        if (a.t == VType::kNumber && b.t == VType::kNumber) return R::Val(Value::Number(a.num * b.num));
        if ((a.t == VType::kString && b.t == VType::kNumber) || (a.t == VType::kNumber && b.t == VType::kString)) {
          const Value& s = a.t == VType::kString ? a : b;
          double num = a.t == VType::kNumber ? a.num : b.num;
          if (!(num > 0)) return R::Val(Value::Null());
          // jq 1.6: n = (int)(num - 1) extra copies; past INT_MAX x86 gives INT_MIN, so null.
          if (num - 1 >= 2147483648.0) return R::Val(Value::Null());
          double times = num < 1 ? 1 : std::floor(num - 1) + 1;
          if (!Budget(2.0 * times * s.n)) return R::Err();
          // By doubling: a few appends however large the count (77M copies of a short
          // string one at a time took 13 s under the fuzzer).
          const size_t total = static_cast<size_t>(times) * s.n;
          scratch.clear();
          if (total > 0) {
            scratch.reserve(total);
            scratch.append(s.sv());
            while (scratch.size() < total) scratch.append(scratch.data(), std::min(scratch.size(), total - scratch.size()));
          }
          return R::Val(MakeString(scratch));
        }
        if (a.t == VType::kObject && b.t == VType::kObject) return R::Val(Merge(a, b, true));
        return Fail(fmt::format("{} and {} cannot be multiplied", Show(a), Show(b)));
      case Op::kDiv:
        if (a.t == VType::kNumber && b.t == VType::kNumber) {
          if (b.num == 0) return Fail(fmt::format("{} and {} cannot be divided because the divisor is zero", Show(a), Show(b)));
          return R::Val(Value::Number(a.num / b.num));
        }
        if (a.t == VType::kString && b.t == VType::kString) return R::Val(Split(a.sv(), b.sv()));
        return Fail(fmt::format("{} and {} cannot be divided", Show(a), Show(b)));
      case Op::kMod:
        if (a.t == VType::kNumber && b.t == VType::kNumber) {
          // jq 1.6 casts to intmax_t; out of range gives x86's "integer indefinite" value.
          auto to_int = [](double d) -> int64_t {
            if (std::isnan(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) return INT64_MIN;
            return static_cast<int64_t>(d);
          };
          int64_t x = to_int(a.num), y = to_int(b.num);
          if (y == 0) return Fail(fmt::format("{} and {} cannot be divided because the divisor is zero", Show(a), Show(b)));
          if (y == -1) return R::Val(Value::Number(0));  // avoids INT64_MIN % -1 overflow
          return R::Val(Value::Number(static_cast<double>(x % y)));
        }
        return Fail(fmt::format("{} and {} cannot be divided", Show(a), Show(b)));
      default: return Fail("bad operator");
    }
  }

  // A bit per key's (length, first and last byte): a key whose bit is not among an
  // object's is none of its keys, without comparing strings.
  static uint64_t KeyBit(std::string_view k) {
    const unsigned mix = k.empty() ? 0u
                                   : static_cast<unsigned>(k.size()) * 7u + static_cast<unsigned char>(k.front()) * 3u +
                                         static_cast<unsigned char>(k.back());
    return uint64_t{1} << (mix & 63);
  }

  // `a + b` (deep: `a * b`) of two objects, built in the arena: a's members in their
  // order, each replaced by b's of the same key, then b's other members in theirs.
  Value Merge(const Value& a, const Value& b, bool deep) {
    const size_t cap = size_t{a.n} + b.n;
    if (!Budget(static_cast<double>(cap) * sizeof(Member))) return Value::Null();
    Member* ms = arena.AllocateArray<Member>(cap);
    uint64_t bits = 0;
    for (uint32_t i = 0; i < a.n; ++i) {
      new (&ms[i]) Member(a.members[i]);
      bits |= KeyBit(a.members[i].key);
    }
    uint32_t n = a.n;
    for (uint32_t i = 0; i < b.n; ++i) {
      const Member& bm = b.members[i];
      bool found = false;
      if (bits & KeyBit(bm.key)) {
        for (uint32_t j = 0; j < a.n; ++j) {  // a's keys are distinct; b's too
          Member& m = ms[j];
          if (m.key != bm.key) continue;
          found = true;
          if (deep && m.val.t == VType::kObject && bm.val.t == VType::kObject) m.val = Merge(m.val, bm.val, true);
          else m.val = bm.val;
          break;
        }
      }
      if (!found) new (&ms[n++]) Member(bm);
    }
    Value v;
    v.t = VType::kObject;
    v.members = ms;
    v.n = n;
    return v;
  }

  Value Split(std::string_view s, std::string_view sep) {
    std::vector<Value> parts;
    if (s.empty()) return MakeArray(parts);
    if (sep.empty()) {
      // jq 1.6 splits into... each byte? It returns the characters; keep UTF-8 sequences.
      size_t i = 0;
      while (i < s.size()) {
        size_t len = 1;
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0xF0) len = 4;
        else if (c >= 0xE0) len = 3;
        else if (c >= 0xC0) len = 2;
        len = std::min(len, s.size() - i);
        parts.push_back(MakeString(s.substr(i, len)));
        i += len;
      }
      return MakeArray(parts);
    }
    size_t start = 0;
    while (true) {
      size_t p = s.find(sep, start);
      if (p == std::string_view::npos) {
        parts.push_back(MakeString(s.substr(start)));
        break;
      }
      parts.push_back(MakeString(s.substr(start, p - start)));
      start = p + sep.size();
    }
    return MakeArray(parts);
  }

  // ---- contains (jq 1.6 jv_contains; strings use a full substring search, not strstr)
  static bool Contains(const Value& a, const Value& b) {
    if (a.t != b.t) return false;
    switch (a.t) {
      case VType::kObject:
        for (uint32_t i = 0; i < b.n; ++i) {
          const Value* av = Lookup(a, b.members[i].key);
          Value x = av ? *av : Value::Null();
          if (!Contains(x, b.members[i].val)) return false;
        }
        return true;
      case VType::kArray:
        for (uint32_t j = 0; j < b.n; ++j) {
          bool any = false;
          for (uint32_t i = 0; i < a.n && !any; ++i) any = Contains(a.elems[i], b.elems[j]);
          if (!any) return false;
        }
        return true;
      case VType::kString: return a.sv().find(b.sv()) != std::string_view::npos;
      default: return Compare(a, b) == 0;
    }
  }

  static size_t Utf8Length(std::string_view s) {
    size_t n = 0;
    for (char c : s)
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
  }

  bool ParseNumber(std::string_view s, double* out) {
    // jq 1.6 tonumber parses the string as JSON text: surrounding whitespace allowed.
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    if (s.empty()) return false;
    // jq 1.6 accepts what its strtod accepts: decimal numbers, inf, infinity and nan.
    std::string_view word = s;
    if (word[0] == '+' || word[0] == '-') word.remove_prefix(1);
    std::string lower;
    for (char c : word) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    bool special = lower == "inf" || lower == "infinity" || lower == "nan";
    if (!special)
      for (char c : s)
        if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) return false;
    scratch.assign(s);
    char* end = nullptr;
    double d = std::strtod(scratch.c_str(), &end);
    if (end != scratch.c_str() + scratch.size()) return false;
    if (std::isinf(d)) d = d > 0 ? 1.7976931348623157e308 : -1.7976931348623157e308;
    *out = d;
    return true;
  }

  // Iterates an array's elements or an object's values (jq `.[]`).
  bool Iterate(const Value& v, std::vector<Value>* out) {
    out->clear();
    if (v.t == VType::kArray) {
      out->assign(v.elems, v.elems + v.n);
      return true;
    }
    if (v.t == VType::kObject) {
      for (uint32_t i = 0; i < v.n; ++i) out->push_back(v.members[i].val);
      return true;
    }
    return false;
  }

  // ---- dates (jq 1.6's builtins; the arithmetic is in lib/filter/datetime.cc)
  static constexpr std::string_view kIsoFormat = "%Y-%m-%dT%H:%M:%SZ";  // todate, fromdate

  // jq hands strings to libc as C strings: they end at the first NUL.
  static std::string_view CString(std::string_view s) { return s.substr(0, s.find('\0')); }

  // A broken-down time array: [year, month, day, hours, minutes, seconds, weekday, day of
  // the year], then strptime's unparsed tail when there is one.
  Value TimeArray(const BrokenTime& t, double seconds, std::string_view rest) {
    std::vector<Value> es = {Value::Number(JqYear(t)), Value::Number(t.mon),  Value::Number(t.mday),
                             Value::Number(t.hour),    Value::Number(t.min),  Value::Number(seconds),
                             Value::Number(t.wday),    Value::Number(t.yday)};
    if (!rest.empty()) es.push_back(MakeString(rest));
    return MakeArray(es);
  }
  // jq's jv2tm: the first 8 elements must be numbers.
  static bool ArrayToTime(const Value& v, BrokenTime* t) {
    if (v.t != VType::kArray || v.n < 8) return false;
    double f[8];
    for (int i = 0; i < 8; ++i) {
      if (v.elems[i].t != VType::kNumber) return false;
      f[i] = v.elems[i].num;
    }
    *t = FromJqFields(f);
    return true;
  }
  R GmtimeOf(double secs, BrokenTime* t) {
    if (!GmTime(ToTimeT(secs), t)) return Fail("error converting number of seconds since epoch to datetime");
    return R::Val(Value());
  }
  R Mktime(const BrokenTime& t) {
    int64_t secs;
    if (!TimeGm(t, &secs)) return Fail("mktime: the time is out of range");
    if (secs == -1 || secs == -2)  // jq 1.6 takes these two results of timegm for its errors
      return Fail(fmt::format("mktime: {} (1969-12-31T23:59:5{}Z) is an error value in jq 1.6", secs, secs == -1 ? 9 : 8));
    return R::Val(Value::Number(static_cast<double>(secs)));
  }
  R Strftime(const Value& in, const Value& format) {
    BrokenTime t;
    if (in.t != VType::kNumber && in.t != VType::kArray) return Fail("strftime/1 requires parsed datetime inputs");
    if (format.t != VType::kString) return Fail("strftime/1 requires a string format");
    if (in.t == VType::kNumber) {
      R g = GmtimeOf(in.num, &t);
      if (g.s != R::kVal) return g;
    } else if (!ArrayToTime(in, &t)) {
      return Fail("strftime/1 requires parsed datetime inputs");
    }
    std::string_view f = CString(format.sv());
    Status s = CheckTimeFormat(f, "strftime/1");
    if (!s.ok()) return Fail(s.message());
    scratch.clear();
    if (!FormatTime(f, t, &scratch))
      return Fail("strftime/1: the result is empty or more than 99 bytes longer than the format (jq 1.6's limit)");
    return R::Val(MakeString(scratch));
  }
  // strptime; *out is the array (with the tail) when out is not null.
  R Strptime(const Value& in, const Value& format, BrokenTime* t, Value* out) {
    if (in.t != VType::kString || format.t != VType::kString)
      return Fail("strptime/1 requires string inputs and arguments");
    std::string_view s = CString(in.sv()), f = CString(format.sv());
    Status st = CheckTimeFormat(f, "strptime/1");
    if (!st.ok()) return Fail(st.message());
    std::string_view rest;
    if (!ParseTime(s, f, t, &rest)) {
      std::string shown = s.size() > 60 ? std::string(s.substr(0, 57)) + "..." : std::string(s);
      return Fail(fmt::format("date \"{}\" does not match format \"{}\"", shown, f));
    }
    if (out) *out = TimeArray(*t, t->sec, rest);
    return R::Val(Value());
  }

  R Call(const Node* n, const Value& in) {
    switch (n->fn) {
      case kSelect: {
        R c = Eval(n->kids[0].get(), in);
        if (c.s != R::kVal) return c;
        return c.v.truthy() ? R::Val(in) : R::Empty();
      }
      case kEmpty: return R::Empty();
      case kNot: return R::Val(Value::Bool(!in.truthy()));
      case kLength:
        switch (in.t) {
          case VType::kNull: return R::Val(Value::Number(0));
          case VType::kNumber: return R::Val(Value::Number(std::fabs(in.num)));
          case VType::kString: return R::Val(Value::Number(static_cast<double>(Utf8Length(in.sv()))));
          case VType::kArray:
          case VType::kObject: return R::Val(Value::Number(in.n));
          default: return Fail(fmt::format("{} has no length", Show(in)));
        }
      case kType: return R::Val(Value::String(TypeName(in.t)));
      case kTostring: {
        if (in.t == VType::kString) return R::Val(in);
        std::string s;
        AppendJqJson(in, &s);
        return R::Val(MakeString(s));
      }
      case kTonumber: {
        if (in.t == VType::kNumber) return R::Val(in);
        double d;
        if (in.t == VType::kString && ParseNumber(in.sv(), &d)) return R::Val(Value::Number(d));
        return Fail(fmt::format("{} cannot be parsed as a number", Show(in)));
      }
      case kAsciiDowncase:
      case kAsciiUpcase: {
        if (in.t != VType::kString)
          return Fail(fmt::format("{} input must be a string", n->fn == kAsciiDowncase ? "ascii_downcase" : "ascii_upcase"));
        scratch.assign(in.sv());
        for (char& c : scratch) {
          if (n->fn == kAsciiDowncase && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          if (n->fn == kAsciiUpcase && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        }
        return R::Val(MakeString(scratch));
      }
      case kStartswith:
      case kEndswith: {
        R b = Eval(n->kids[0].get(), in);
        if (b.s != R::kVal) return b;
        if (in.t != VType::kString || b.v.t != VType::kString)
          return Fail(fmt::format("{}() requires string inputs", n->fn == kStartswith ? "startswith" : "endswith"));
        std::string_view s = in.sv(), p = b.v.sv();
        bool r = p.size() <= s.size() &&
                 (n->fn == kStartswith ? s.substr(0, p.size()) == p : s.substr(s.size() - p.size()) == p);
        return R::Val(Value::Bool(r));
      }
      case kContains: {
        R b = Eval(n->kids[0].get(), in);
        if (b.s != R::kVal) return b;
        if (in.t != b.v.t)
          return Fail(fmt::format("{} and {} cannot have their containment checked", Show(in), Show(b.v)));
        return R::Val(Value::Bool(Contains(in, b.v)));
      }
      case kHas:
      case kIn: {
        R k = Eval(n->kids[0].get(), in);
        if (k.s != R::kVal) return k;
        const Value& obj = n->fn == kHas ? in : k.v;
        const Value& key = n->fn == kHas ? k.v : in;
        if (obj.t == VType::kNull) return R::Val(Value::Bool(false));  // jq 1.6: null has no keys of any type
        if (obj.t == VType::kObject && key.t == VType::kString) return R::Val(Value::Bool(Lookup(obj, key.sv()) != nullptr));
        if (obj.t == VType::kArray && key.t == VType::kNumber)
          return R::Val(Value::Bool(key.num >= 0 && key.num < static_cast<double>(obj.n)));
        return Fail(fmt::format("Cannot check whether {} has a {} key", TypeName(obj.t), TypeName(key.t)));
      }
      case kAny0:
      case kAll0: {
        std::vector<Value> items;
        if (!Iterate(in, &items)) return Fail(fmt::format("Cannot iterate over {}", Show(in)));
        bool any = n->fn == kAny0;
        bool acc = !any;
        for (const Value& v : items) acc = any ? (acc || v.truthy()) : (acc && v.truthy());
        return R::Val(Value::Bool(acc));
      }
      case kAny1:
      case kAll1: {
        std::vector<Value> items;
        if (!Iterate(in, &items)) return Fail(fmt::format("Cannot iterate over {}", Show(in)));
        bool any = n->fn == kAny1;
        bool acc = !any;
        for (const Value& v : items) {
          R r = Eval(n->kids[0].get(), v);
          if (r.s == R::kErr) return r;
          if (r.s == R::kEmpty) continue;
          acc = any ? (acc || r.v.truthy()) : (acc && r.v.truthy());
        }
        return R::Val(Value::Bool(acc));
      }
      case kNow: {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
        return R::Val(Value::Number(static_cast<double>(us / 1000000) + static_cast<double>(us % 1000000) / 1000000.0));
      }
      case kGmtime: {
        if (in.t != VType::kNumber) return Fail("gmtime() requires numeric inputs");
        BrokenTime t;
        R g = GmtimeOf(in.num, &t);
        if (g.s != R::kVal) return g;
        // jq 1.6 adds the fraction to the seconds of the time truncated toward zero.
        return R::Val(TimeArray(t, t.sec + (in.num - std::floor(in.num)), {}));
      }
      case kMktime: {
        if (in.t != VType::kArray) return Fail("mktime requires array inputs");
        BrokenTime t;
        if (!ArrayToTime(in, &t)) return Fail("mktime requires parsed datetime inputs");
        return Mktime(t);
      }
      case kStrftime: {
        R f = Eval(n->kids[0].get(), in);
        if (f.s != R::kVal) return f;
        return Strftime(in, f.v);
      }
      case kTodate: return Strftime(in, Value::String(kIsoFormat));
      case kStrptime: {
        R f = Eval(n->kids[0].get(), in);
        if (f.s != R::kVal) return f;
        BrokenTime t;
        Value v;
        R r = Strptime(in, f.v, &t, &v);
        return r.s == R::kVal ? R::Val(v) : r;
      }
      case kFromdate: {
        BrokenTime t;
        R r = Strptime(in, Value::String(kIsoFormat), &t, nullptr);
        return r.s == R::kVal ? Mktime(t) : r;
      }
      case kTest1:
      case kTest2: {
        R re = Eval(n->kids[0].get(), in);
        if (re.s != R::kVal) return re;
        Value flags;
        if (n->fn == kTest2) {
          R fl = Eval(n->kids[1].get(), in);
          if (fl.s != R::kVal) return fl;
          flags = fl.v;
        }
        if (in.t != VType::kString) return Fail(fmt::format("{} cannot be matched, as it is not a string", Show(in)));
        if (re.v.t != VType::kString) return Fail(fmt::format("{} cannot be matched, as it is not a string", Show(re.v)));
        if (flags.t != VType::kNull && flags.t != VType::kString)
          return Fail(fmt::format("{} is not a string", Show(flags)));
        const Regex* rx = static_cast<const Regex*>(n->aux.get());
        if (!rx) {
          std::string key(re.v.sv());
          key.push_back('\0');
          if (flags.t == VType::kString) key.append(flags.sv());
          auto it = regex_cache.find(key);
          if (it == regex_cache.end()) {
            if (regex_cache.size() >= 64) regex_cache.clear();
            auto nr = std::make_unique<Regex>();
            Status s = BuildRegex(re.v.sv(), flags.t == VType::kString ? flags.sv() : std::string_view(), nr.get());
            if (!s.ok()) return Fail(s.message());
            it = regex_cache.emplace(key, std::move(nr)).first;
          }
          rx = it->second.get();
        }
        return R::Val(Value::Bool(RegexTest(*rx, in.sv())));
      }
      default: return CallFold(n, in);
    }
    return Fail("unknown function");
  }

  // ---- paths (jq's path(f)), for assignment and del: the path `n` selects in `in`, and the
  // value there. Only path expressions are accepted: . .a .[e] f|g f? select(c) empty
  // getpath(p) if-then-else and `as` bindings.
  R PathOf(const Node* n, const Value& in, std::vector<Value>* path) {
    switch (n->kind) {
      case NodeKind::kIdentity: return R::Val(in);
      case NodeKind::kField: {
        size_t sz = path->size();
        R b = PathOf(n->kids[0].get(), in, path);
        if (b.s != R::kVal) return b;
        R v = IndexField(b.v, n->str);
        if (v.s == R::kErr && n->opt) {
          path->resize(sz);
          return Suppress(v);
        }
        if (v.s == R::kVal) path->push_back(Value::String(n->str));
        return v;
      }
      case NodeKind::kIndex: {
        size_t sz = path->size();
        R b = PathOf(n->kids[0].get(), in, path);
        if (b.s != R::kVal) return b;
        R i = Eval(n->kids[1].get(), in);
        if (i.s != R::kVal) return i;
        R v = IndexValue(b.v, i.v);
        if (v.s == R::kErr && n->opt) {
          path->resize(sz);
          return Suppress(v);
        }
        if (v.s == R::kVal) path->push_back(i.v);
        return v;
      }
      case NodeKind::kPipe: {
        R l = PathOf(n->kids[0].get(), in, path);
        if (l.s != R::kVal) return l;
        return PathOf(n->kids[1].get(), l.v, path);
      }
      case NodeKind::kOptional: {
        size_t sz = path->size();
        bool had = have_error;
        R r = PathOf(n->kids[0].get(), in, path);
        if (r.s == R::kErr && !over_budget) {
          if (!had) have_error = false;
          path->resize(sz);
          return R::Empty();
        }
        return r;
      }
      case NodeKind::kIf: {
        R r;
        const Node* b = Branch(n, in, &r);
        return b ? PathOf(b, in, path) : r;
      }
      case NodeKind::kBind: {
        R r;
        return Bind(n, in, &r) ? PathOf(n->kids[1].get(), in, path) : r;
      }
      case NodeKind::kCall:
        if (n->fn == kEmpty) return R::Empty();
        if (n->fn == kSelect) {
          R c = Eval(n->kids[0].get(), in);
          if (c.s != R::kVal) return c;
          return c.v.truthy() ? R::Val(in) : R::Empty();
        }
        if (n->fn == kGetpath) {
          R p = Eval(n->kids[0].get(), in);
          if (p.s != R::kVal) return p;
          if (p.v.t != VType::kArray) return Fail("Path must be specified as an array");
          Value cur = in;
          for (uint32_t i = 0; i < p.v.n; ++i) {
            R v = IndexValue(cur, p.v.elems[i]);
            if (v.s != R::kVal) return v;
            path->push_back(p.v.elems[i]);
            cur = v.v;
          }
          return R::Val(cur);
        }
        break;
      default: break;
    }
    R v = Eval(n, in);
    if (v.s != R::kVal) return v;
    std::string shown;
    AppendJqJson(v.v, &shown);
    if (shown.size() > 11) shown = shown.substr(0, 10) + "...";
    return Fail(fmt::format("Invalid path expression with result {}", shown));
  }

  // kIf: the branch the conditions choose (nullptr, with *r, when one has no value).
  const Node* Branch(const Node* n, const Value& in, R* r) {
    size_t i = 0;
    for (; i + 1 < n->kids.size(); i += 2) {
      R c = Eval(n->kids[i].get(), in);
      if (c.s != R::kVal) {
        *r = c;
        return nullptr;
      }
      if (c.v.truthy()) return n->kids[i + 1].get();
    }
    return n->kids[i].get();
  }
  // kBind: binds `as $name` to the source's value (false, with *r, when it has none).
  bool Bind(const Node* n, const Value& in, R* r) {
    R src = Eval(n->kids[0].get(), in);
    if (src.s != R::kVal) {
      *r = src;
      return false;
    }
    size_t slot = static_cast<size_t>(n->fn - kUserVarBase);
    if (uvars.size() <= slot) uvars.resize(slot + 1);
    uvars[slot] = src.v;
    return true;
  }

  static int64_t PathIndex(double d) {
    if (std::isnan(d)) return 0;
    return d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : static_cast<int64_t>(d);
  }

  // jq's setpath: containers are created on null; arrays grow with nulls.
  R SetPath(const Value& root, const std::vector<Value>& path, size_t i, const Value& v) {
    if (i == path.size()) return R::Val(v);
    const Value& k = path[i];
    if (k.t == VType::kString) {
      if (root.t != VType::kObject && root.t != VType::kNull) {
        std::string n;
        envelope::AppendJqJsonString(k.sv(), &n);
        return Fail(fmt::format("Cannot index {} with string {}", TypeName(root.t), n));
      }
      const Value* child = root.t == VType::kObject ? Lookup(root, k.sv()) : nullptr;
      R c = SetPath(child ? *child : Value::Null(), path, i + 1, v);
      if (c.s != R::kVal) return c;
      std::vector<Member> ms;
      if (root.t == VType::kObject) ms.assign(root.members, root.members + root.n);
      bool found = false;
      for (auto& m : ms)
        if (m.key == k.sv()) {
          m.val = c.v;
          found = true;
        }
      if (!found) ms.push_back(Member{k.sv(), c.v});
      return R::Val(MakeObject(ms));
    }
    if (k.t == VType::kNumber) {
      if (root.t != VType::kArray && root.t != VType::kNull)
        return Fail(fmt::format("Cannot index {} with number", TypeName(root.t)));
      int64_t n = root.t == VType::kArray ? root.n : 0;
      int64_t idx = PathIndex(k.num);
      if (idx < 0) idx += n;
      if (idx < 0) return Fail("Out of bounds negative array index");
      if (idx > (1 << 29)) return Fail("Array index too large");  // jq 1.6's bound
      if (!Budget(2.0 * (static_cast<double>(idx) + 1) * sizeof(Value))) return R::Err();
      R c = SetPath(idx < n ? root.elems[idx] : Value::Null(), path, i + 1, v);
      if (c.s != R::kVal) return c;
      std::vector<Value> es;
      if (root.t == VType::kArray) es.assign(root.elems, root.elems + root.n);
      if (static_cast<int64_t>(es.size()) <= idx) es.resize(static_cast<size_t>(idx) + 1);
      es[static_cast<size_t>(idx)] = c.v;
      return R::Val(MakeArray(es));
    }
    return Fail(fmt::format("Cannot update field at object index of {}", TypeName(root.t)));
  }

  // jq's delpaths of one path: deleting what is not there changes nothing.
  R DelPath(const Value& root, const std::vector<Value>& path, size_t i) {
    if (path.empty()) return R::Val(Value::Null());
    if (root.t == VType::kNull) return R::Val(root);
    const Value& k = path[i];
    bool last = i + 1 == path.size();
    if (k.t == VType::kString) {
      if (root.t != VType::kObject) return Fail(fmt::format("Cannot delete field at object index of {}", TypeName(root.t)));
      const Value* child = Lookup(root, k.sv());
      if (!child) return R::Val(root);
      std::vector<Member> ms;
      for (uint32_t j = 0; j < root.n; ++j) {
        const Member& m = root.members[j];
        if (m.key != k.sv()) {
          ms.push_back(m);
        } else if (!last) {
          R c = DelPath(m.val, path, i + 1);
          if (c.s != R::kVal) return c;
          ms.push_back(Member{m.key, c.v});
        }
      }
      return R::Val(MakeObject(ms));
    }
    if (k.t == VType::kNumber) {
      if (root.t != VType::kArray) return Fail(fmt::format("Cannot delete field at index of {}", TypeName(root.t)));
      int64_t n = root.n, idx = PathIndex(k.num);
      if (idx < 0) idx += n;
      if (idx < 0 || idx >= n) return R::Val(root);
      std::vector<Value> es(root.elems, root.elems + root.n);
      if (last) {
        es.erase(es.begin() + idx);
      } else {
        R c = DelPath(es[static_cast<size_t>(idx)], path, i + 1);
        if (c.s != R::kVal) return c;
        es[static_cast<size_t>(idx)] = c.v;
      }
      return R::Val(MakeArray(es));
    }
    return Fail(fmt::format("Cannot delete field at object index of {}", TypeName(root.t)));
  }

  // lhs = rhs, lhs |= f, lhs += rhs ... with jq 1.6's definitions: `=` and `OP=` evaluate
  // rhs on the input first; `|=` applies f to the value at the path, and an `empty` f
  // deletes the path.
  R Assign(const Node* n, const Value& in) {
    const Node* lhs = n->kids[0].get();
    const Node* rhs = n->kids[1].get();
    std::vector<Value> path;
    if (n->op == Op::kUpdate) {
      R p = PathOf(lhs, in, &path);
      if (p.s == R::kErr) return p;
      if (p.s == R::kEmpty) return R::Val(in);
      R u = Eval(rhs, p.v);
      if (u.s == R::kErr) return u;
      if (u.s == R::kEmpty) return DelPath(in, path, 0);
      return SetPath(in, path, 0, u.v);
    }
    R r = Eval(rhs, in);
    if (r.s != R::kVal) return r;
    Value rv = r.v;
    R p = PathOf(lhs, in, &path);
    if (p.s == R::kErr) return p;
    if (p.s == R::kEmpty) return R::Val(in);
    Value nv = rv;
    if (n->op == Op::kAltUpdate) {
      nv = p.v.truthy() ? p.v : rv;
    } else if (n->op != Op::kNone) {
      R a = Arith(n->op, p.v, rv);
      if (a.s != R::kVal) return a;
      nv = a.v;
    }
    return SetPath(in, path, 0, nv);
  }

  // Keys of an object (member order, or sorted) or indices of an array.
  R Keys(const Value& in, bool sorted) {
    std::vector<Value> ks;
    if (in.t == VType::kObject) {
      for (uint32_t i = 0; i < in.n; ++i) ks.push_back(Value::String(in.members[i].key));
      if (sorted)
        std::sort(ks.begin(), ks.end(), [](const Value& a, const Value& b) { return CompareStrings(a.sv(), b.sv()) < 0; });
    } else if (in.t == VType::kArray) {
      for (uint32_t i = 0; i < in.n; ++i) ks.push_back(Value::Number(i));
    } else {
      return Fail(fmt::format("{} has no keys", Show(in)));
    }
    return R::Val(MakeArray(ks));
  }

  R ToEntries(const Value& in) {
    R ks = Keys(in, false);
    if (ks.s != R::kVal) return ks;
    std::vector<Value> es;
    for (uint32_t i = 0; i < ks.v.n; ++i) {
      R v = IndexValue(in, ks.v.elems[i]);
      if (v.s != R::kVal) return v;
      es.push_back(MakeObject({Member{"key", ks.v.elems[i]}, Member{"value", v.v}}));
    }
    return R::Val(MakeArray(es));
  }

  // jq 1.6: map({(.key // .name // .Name // .Key): .value}) | add + {} // {}
  R FromEntries(const Value& in) {
    std::vector<Value> items;
    if (!Iterate(in, &items)) return Fail(fmt::format("Cannot iterate over {}", Show(in)));
    Value acc;
    for (const Value& e : items) {
      Value key;
      for (const char* name : {"key", "name", "Name", "Key"}) {
        R k = IndexField(e, name);
        if (k.s != R::kVal) return k;
        key = k.v;
        if (key.truthy()) break;
      }
      if (key.t != VType::kString) return Fail(fmt::format("Cannot use {} as object key", Show(key)));
      R v = IndexField(e, "value");
      if (v.s != R::kVal) return v;
      Value one = MakeObject({Member{key.sv(), v.v}});
      R a = Arith(Op::kAdd, acc, one);
      if (a.s != R::kVal) return a;
      acc = a.v;
    }
    if (acc.t == VType::kNull) return R::Val(MakeObject({}));
    return R::Val(acc);
  }

  R Map(const Node* f, const Value& in) {
    std::vector<Value> items, out;
    if (!Iterate(in, &items)) return Fail(fmt::format("Cannot iterate over {}", Show(in)));
    for (const Value& v : items) {
      R r = Eval(f, v);
      if (r.s == R::kErr) return r;
      if (r.s == R::kVal) out.push_back(r.v);
    }
    return R::Val(MakeArray(out));
  }

  // True when a JSON text holds more than one top-level value ("12 13"), which jq's
  // fromjson rejects.
  static bool HasExtraJsonValues(std::string_view s) {
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    size_t i = 0;
    while (i < s.size() && ws(s[i])) ++i;
    int depth = 0;
    bool in_str = false;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (in_str) {
        if (c == '\\') ++i;
        else if (c == '"') in_str = false;
        if (!in_str && depth == 0) { ++i; break; }
        continue;
      }
      if (c == '"') in_str = true;
      else if (c == '{' || c == '[') ++depth;
      else if (c == '}' || c == ']') {
        if (--depth == 0) { ++i; break; }
      } else if (depth == 0 && ws(c)) break;
    }
    while (i < s.size() && ws(s[i])) ++i;
    return i < s.size();
  }

  R CallFold(const Node* n, const Value& in) {
    switch (n->fn) {
      case kDel: {
        std::vector<Value> path;
        R p = PathOf(n->kids[0].get(), in, &path);
        if (p.s == R::kErr) return p;
        if (p.s == R::kEmpty) return R::Val(in);
        return DelPath(in, path, 0);
      }
      case kToEntries: return ToEntries(in);
      case kFromEntries: return FromEntries(in);
      case kWithEntries: {
        R e = ToEntries(in);
        if (e.s != R::kVal) return e;
        R m = Map(n->kids[0].get(), e.v);
        if (m.s != R::kVal) return m;
        return FromEntries(m.v);
      }
      case kKeys: return Keys(in, true);
      case kKeysUnsorted: return Keys(in, false);
      case kAdd: {
        std::vector<Value> items;
        if (!Iterate(in, &items)) return Fail(fmt::format("Cannot iterate over {}", Show(in)));
        Value acc;
        for (const Value& v : items) {
          R a = Arith(Op::kAdd, acc, v);
          if (a.s != R::kVal) return a;
          acc = a.v;
        }
        return R::Val(acc);
      }
      case kMap: return Map(n->kids[0].get(), in);
      case kTojson: {
        std::string s;
        AppendJqJson(in, &s);
        return R::Val(MakeString(s));
      }
      case kFromjson: {
        if (in.t != VType::kString) return Fail(fmt::format("{} cannot be parsed as JSON", Show(in)));
        Value v;
        if (HasExtraJsonValues(in.sv()) || !extractor.ExtractFull(in.sv(), &arena, &v))
          return Fail(fmt::format("{} is not valid JSON", Show(in)));
        return R::Val(v);
      }
      case kGetpath: {
        R p = Eval(n->kids[0].get(), in);
        if (p.s != R::kVal) return p;
        if (p.v.t != VType::kArray) return Fail("Path must be specified as an array");
        Value cur = in;
        for (uint32_t i = 0; i < p.v.n && cur.t != VType::kNull; ++i) {
          R v = IndexValue(cur, p.v.elems[i]);
          if (v.s != R::kVal) return v;
          cur = v.v;
        }
        return R::Val(cur);
      }
      case kSetpath: {
        R v = Eval(n->kids[1].get(), in);
        if (v.s != R::kVal) return v;
        R p = Eval(n->kids[0].get(), in);
        if (p.s != R::kVal) return p;
        if (p.v.t != VType::kArray) return Fail("Path must be specified as an array");
        std::vector<Value> path(p.v.elems, p.v.elems + p.v.n);
        return SetPath(in, path, 0, v.v);
      }
      case kFloor:
        if (in.t != VType::kNumber) return Fail(fmt::format("{} number required", Show(in)));
        return R::Val(Value::Number(std::floor(in.num)));
      case kMin:
      case kMax: {
        if (in.t != VType::kArray) return Fail(fmt::format("Cannot determine {} of {}", n->fn == kMin ? "min" : "max", Show(in)));
        if (in.n == 0) return R::Val(Value::Null());
        // jq sorts and takes the first (min) or the last (max) of equal elements.
        size_t best = 0;
        for (uint32_t i = 1; i < in.n; ++i) {
          int c = Compare(in.elems[i], in.elems[best]);
          if (n->fn == kMin ? c < 0 : c >= 0) best = i;
        }
        return R::Val(in.elems[best]);
      }
      case kError: {
        R m = Eval(n->kids[0].get(), in);
        if (m.s != R::kVal) return m;
        if (m.v.t == VType::kString) return Fail(std::string(m.v.sv()));
        std::string s;
        AppendJqJson(m.v, &s);
        return Fail(s + " (not a string)");
      }
    }
    return Fail("unknown function");
  }

  // The result of an index operation under '?': an error becomes no output.
  R Suppress(R r) {
    if (r.s != R::kErr || over_budget) return r;
    have_error = false;
    return R::Empty();
  }

  R Eval(const Node* n, const Value& in) {
    switch (n->kind) {
      case NodeKind::kIdentity: return R::Val(in);
      case NodeKind::kField: {
        R b = Eval(n->kids[0].get(), in);
        if (b.s != R::kVal) return b;
        if (n->opt) return Suppress(IndexField(b.v, n->str));
        return IndexField(b.v, n->str);
      }
      case NodeKind::kIndex: {
        R b = Eval(n->kids[0].get(), in);
        if (b.s != R::kVal) return b;
        R i = Eval(n->kids[1].get(), in);
        if (i.s != R::kVal) return i;
        if (n->opt) return Suppress(IndexValue(b.v, i.v));
        return IndexValue(b.v, i.v);
      }
      case NodeKind::kOptional: {
        bool had = have_error;
        R r = Eval(n->kids[0].get(), in);
        if (r.s == R::kErr && !over_budget) {
          if (!had) have_error = false;  // suppressed
          return R::Empty();
        }
        return r;
      }
      case NodeKind::kLiteral:
        switch (n->lit) {
          case LitType::kNull: return R::Val(Value::Null());
          case LitType::kFalse: return R::Val(Value::Bool(false));
          case LitType::kTrue: return R::Val(Value::Bool(true));
          case LitType::kNumber: return R::Val(Value::Number(n->num));
          case LitType::kString: return R::Val(Value::String(n->str));
        }
        return R::Val(Value::Null());
      case NodeKind::kArray: {
        std::vector<Value> es;
        for (auto& k : n->kids) {
          R r = Eval(k.get(), in);
          if (r.s == R::kErr) return r;
          if (r.s == R::kVal) es.push_back(r.v);
        }
        return R::Val(MakeArray(es));
      }
      case NodeKind::kObject: {
        std::vector<Member> ms;
        for (size_t i = 0; i < n->kids.size(); ++i) {
          R r = Eval(n->kids[i].get(), in);
          if (r.s != R::kVal) return r;
          bool replaced = false;
          for (auto& m : ms)
            if (m.key == n->keys[i]) {
              m.val = r.v;
              replaced = true;
            }
          if (!replaced) ms.push_back(Member{n->keys[i], r.v});
        }
        return R::Val(MakeObject(ms));
      }
      case NodeKind::kVariable:
        return R::Val(n->fn >= kUserVarBase ? uvars[static_cast<size_t>(n->fn - kUserVarBase)] : Var(n->fn));
      case NodeKind::kPipe: {
        R l = Eval(n->kids[0].get(), in);
        if (l.s != R::kVal) return l;
        return Eval(n->kids[1].get(), l.v);
      }
      case NodeKind::kAlt: {
        R l = Eval(n->kids[0].get(), in);
        if (l.s == R::kErr) return l;
        if (l.s == R::kVal && l.v.truthy()) return l;
        return Eval(n->kids[1].get(), in);
      }
      case NodeKind::kOr:
      case NodeKind::kAnd: {
        R l = Eval(n->kids[0].get(), in);
        if (l.s != R::kVal) return l;
        bool is_or = n->kind == NodeKind::kOr;
        if (is_or && l.v.truthy()) return R::Val(Value::Bool(true));
        if (!is_or && !l.v.truthy()) return R::Val(Value::Bool(false));
        R r = Eval(n->kids[1].get(), in);
        if (r.s != R::kVal) return r;
        return R::Val(Value::Bool(r.v.truthy()));
      }
      case NodeKind::kCompare: {
        // jq evaluates the right operand first (it is the outer loop).
        R r = Eval(n->kids[1].get(), in);
        if (r.s != R::kVal) return r;
        R l = Eval(n->kids[0].get(), in);
        if (l.s != R::kVal) return l;
        int c = Compare(l.v, r.v);
        bool b = false;
        switch (n->op) {
          case Op::kEq: b = c == 0; break;
          case Op::kNe: b = c != 0; break;
          case Op::kLt: b = c < 0; break;
          case Op::kLe: b = c <= 0; break;
          case Op::kGt: b = c > 0; break;
          case Op::kGe: b = c >= 0; break;
          default: break;
        }
        return R::Val(Value::Bool(b));
      }
      case NodeKind::kArith: {
        R r = Eval(n->kids[1].get(), in);
        if (r.s != R::kVal) return r;
        R l = Eval(n->kids[0].get(), in);
        if (l.s != R::kVal) return l;
        return Arith(n->op, l.v, r.v);
      }
      case NodeKind::kNegate: {
        R v = Eval(n->kids[0].get(), in);
        if (v.s != R::kVal) return v;
        if (v.v.t != VType::kNumber) return Fail(fmt::format("{} cannot be negated", Show(v.v)));
        return R::Val(Value::Number(-v.v.num));
      }
      case NodeKind::kCall: return Call(n, in);
      case NodeKind::kIf: {
        R r;
        const Node* b = Branch(n, in, &r);
        return b ? Eval(b, in) : r;
      }
      case NodeKind::kBind: {
        R r;
        return Bind(n, in, &r) ? Eval(n->kids[1].get(), in) : r;
      }
      case NodeKind::kAssign: return Assign(n, in);
    }
    return Fail("bad node");
  }

  // Evaluates `n` on a fresh record: no error yet, nothing spent.
  R Start(const Node* n, const Value& doc) {
    have_error = false;
    over_budget = false;
    R r = Eval(n, doc);
    // Once over budget every builder gives null and no error is suppressed, so the rest of
    // the evaluation allocates nothing; its result is the error.
    return over_budget ? R::Err() : r;
  }

  Match RunValue(const Value& doc, std::string* out) {
    R r = Start(f->root_.get(), doc);
    if (r.s == R::kErr) return Match::kError;
    if (r.s == R::kEmpty) return Match::kNo;
    out->clear();
    AppendJqJson(r.v, out);
    return Match::kYes;
  }

  Match Run(const Value& doc) {
    R r = Start(f->root_.get(), doc);
    if (r.s == R::kErr) return Match::kError;
    if (r.s == R::kEmpty) return Match::kNo;
    return r.v.truthy() ? Match::kYes : Match::kNo;
  }
};

Evaluator::Evaluator(std::shared_ptr<const Filter> filter) : impl_(std::make_unique<Impl>()) {
  impl_->f = std::move(filter);
  impl_->error = &error_;
}
Evaluator::~Evaluator() = default;

Match Evaluator::Json(const char* data, size_t len, size_t capacity) {
  Impl& im = *impl_;
  im.arena.Reset();
  Value doc;
  const Filter& f = *im.f;
  if (f.pre_) {
    // The first operand of the and/or chain, from the fields it reads alone.
    if (!im.extractor.Extract(data, len, capacity, f.pre_paths_.get(), &im.arena, &doc)) {
      error_ = "not valid JSON";
      return Match::kInvalid;
    }
    R r = im.Start(f.pre_, doc);
    if (r.s == R::kErr) return Match::kError;
    if (r.s == R::kEmpty) return Match::kNo;  // `empty and x`, `empty or x`: empty
    if (r.v.truthy() == f.pre_or_) return f.pre_or_ ? Match::kYes : Match::kNo;
    if (!im.extractor.ExtractAgain(f.paths_.get(), &doc)) {
      error_ = "not valid JSON";
      return Match::kInvalid;
    }
    return im.Run(doc);
  }
  if (!im.extractor.Extract(data, len, capacity, f.paths_.get(), &im.arena, &doc)) {
    error_ = "not valid JSON";
    return Match::kInvalid;
  }
  return im.Run(doc);
}

namespace {
const PathNode* FullPath() {
  static const PathNode* full = [] {
    auto* p = new PathNode();
    p->full = true;
    return p;
  }();
  return full;
}
}  // namespace

// The record's value as `.` (or, for folds, $event): null when absent or not valid JSON.
bool Evaluator::LoadRecordValue(const RecordBatch& batch, const evt::Record& r, bool strict, bool needed,
                                const void* paths, void* doc) {
  Impl& im = *impl_;
  im.arena.Reset();
  im.batch = &batch;
  im.rec = &r;
  im.vars_ready = 0;
  Value& d = *static_cast<Value*>(doc);
  d = Value::Null();
  if (needed && !r.value.null()) {
    std::string_view v = r.value.view();
    if (!im.extractor.Extract(v.data(), v.size(), v.size(), static_cast<const PathNode*>(paths), &im.arena, &d)) {
      if (strict) {
        error_ = "value is not valid JSON";
        return false;
      }
      im.arena.Reset();
      d = Value::Null();
    }
  }
  return true;
}

Match Evaluator::Record(const RecordBatch& batch, const evt::Record& r, bool strict) {
  Value doc;
  if (!LoadRecordValue(batch, r, strict, impl_->f->reads_document(), impl_->f->paths_.get(), &doc)) return Match::kInvalid;
  return impl_->Run(doc);
}

Match Evaluator::RecordValue(const RecordBatch& batch, const evt::Record& r, bool strict, std::string* out) {
  Value doc;
  if (!LoadRecordValue(batch, r, strict, impl_->f->reads_document(), impl_->f->paths_.get(), &doc)) return Match::kInvalid;
  return impl_->RunValue(doc, out);
}

Match Evaluator::Fold(std::string_view state, const RecordBatch& batch, const evt::Record& r, bool strict,
                      std::string* out) {
  Impl& im = *impl_;
  Value event;
  bool uses_event = (im.f->vars_used_ >> kVarEvent) & 1;
  if (!LoadRecordValue(batch, r, strict, uses_event, FullPath(), &event)) return Match::kInvalid;
  im.vars[kVarEvent] = event;
  im.vars_ready |= 1u << kVarEvent;
  Value doc;
  if (!state.empty() && im.f->reads_document()) {
    if (!im.state_extractor.Extract(state.data(), state.size(), state.size(), im.f->paths_.get(), &im.arena, &doc)) {
      error_ = "the state is not valid JSON";
      return Match::kInvalid;
    }
  }
  return im.RunValue(doc, out);
}

Match Evaluator::JsonValue(std::string_view json, std::string* out) {
  Impl& im = *impl_;
  im.arena.Reset();
  Value doc;
  if (!im.extractor.Extract(json.data(), json.size(), json.size(), im.f->paths_.get(), &im.arena, &doc)) {
    error_ = "not valid JSON";
    return Match::kInvalid;
  }
  return im.RunValue(doc, out);
}

}  // namespace evt::filter
