// Recursive-descent parser for the jq subset, with jq's precedence (lowest first):
//   |   (right)      //  (right)      or      and      == != < <= > >= (non-assoc)
//   + - (left)       * / % (left)     unary -      postfix: .name [e] ? on terms
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "lib/filter/ast.h"

namespace evt::filter {

const std::vector<std::string>& SupportedFunctions() {
  static const std::vector<std::string> f = {
      "test/1", "test/2", "startswith/1", "endswith/1", "contains/1", "has/1", "in/1", "length/0",
      "ascii_downcase/0", "ascii_upcase/0", "tostring/0", "tonumber/0", "type/0", "any/0", "all/0",
      "any/1", "all/1", "select/1", "not/0", "empty/0", "now/0", "mktime/0", "gmtime/0", "strftime/1",
      "strptime/1", "todate/0", "fromdate/0", "todateiso8601/0", "fromdateiso8601/0",
      // for folds (evt project)
      "del/1", "to_entries/0", "from_entries/0", "with_entries/1", "keys/0", "keys_unsorted/0", "add/0",
      "map/1", "tojson/0", "fromjson/0", "getpath/1", "setpath/2", "floor/0", "min/0", "max/0", "error/1"};
  return f;
}

namespace {

enum class Tok : uint8_t {
  kEnd, kDot, kField, kQuotedField /* ."x" handled in parser */, kIdent, kVar, kNumber, kString,
  kLParen, kRParen, kLBracket, kRBracket, kLBrace, kRBrace, kComma, kColon, kSemicolon,
  kPipe, kAlt, kQuestion, kEq, kNe, kLt, kLe, kGt, kGe, kPlus, kMinus, kStar, kSlash, kPercent,
  kDotDot, kAssign, kUpdateAssign /* |= += -= *= /= %= //= (op in text) */,
};

struct Token {
  Tok t = Tok::kEnd;
  int pos = 0;
  std::string text;  // identifier / field / variable name / string contents
  double num = 0;
};

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  Result<std::unique_ptr<Node>> Run() {
    Status st = Next();
    if (!st.ok()) return st;
    auto n = ParsePipe();
    if (!n.ok()) return n;
    if (tok_.t != Tok::kEnd) {
      if (tok_.t == Tok::kComma)
        return Error(tok_.pos, "',' (multiple outputs) is not supported; combine conditions with 'and'/'or'");
      return Unexpected();
    }
    return n;
  }

 private:
  // ---------------------------------------------------------------- errors
  Status Error(int pos, const std::string& what) const {
    std::string caret(static_cast<size_t>(std::max(0, pos)), ' ');
    // Keep tabs aligned.
    for (int i = 0; i < pos && i < static_cast<int>(s_.size()); ++i)
      if (s_[i] == '\t') caret[i] = '\t';
    return Status::InvalidArgument(fmt::format("syntax error in expression at column {}: {}\n  {}\n  {}^", pos + 1, what, s_, caret));
  }
  Status Unexpected() const {
    if (tok_.t == Tok::kEnd) return Error(tok_.pos, "unexpected end of expression");
    return Error(tok_.pos, fmt::format("unexpected '{}'", s_.substr(tok_.pos, std::max(1, tok_len_))));
  }

  // ---------------------------------------------------------------- lexer
  static bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
  static bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

  Status LexString(size_t* i, std::string* out) {
    size_t start = *i;
    ++*i;  // opening quote
    while (*i < s_.size()) {
      char c = s_[*i];
      if (c == '"') {
        ++*i;
        return Status::OK();
      }
      if (static_cast<unsigned char>(c) < 0x20) return Error(static_cast<int>(*i), "control character in string literal");
      if (c != '\\') {
        out->push_back(c);
        ++*i;
        continue;
      }
      if (*i + 1 >= s_.size()) break;
      char e = s_[*i + 1];
      *i += 2;
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          auto hex4 = [&](size_t at, uint32_t* v) {
            if (at + 4 > s_.size()) return false;
            *v = 0;
            for (size_t k = 0; k < 4; ++k) {
              char h = s_[at + k];
              *v <<= 4;
              if (h >= '0' && h <= '9') *v |= h - '0';
              else if (h >= 'a' && h <= 'f') *v |= h - 'a' + 10;
              else if (h >= 'A' && h <= 'F') *v |= h - 'A' + 10;
              else return false;
            }
            return true;
          };
          uint32_t cp;
          if (!hex4(*i, &cp)) return Error(static_cast<int>(*i - 2), "bad \\u escape");
          *i += 4;
          if (cp >= 0xD800 && cp <= 0xDBFF && *i + 6 <= s_.size() && s_[*i] == '\\' && s_[*i + 1] == 'u') {
            uint32_t lo;
            if (hex4(*i + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              *i += 6;
            }
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogate, as jq does
          if (cp < 0x80) {
            out->push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else if (cp < 0x10000) {
            out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        case '(': return Error(static_cast<int>(*i - 2), "string interpolation \\( ) is not supported");
        default: return Error(static_cast<int>(*i - 2), fmt::format("bad escape '\\{}' in string literal", e));
      }
    }
    return Error(static_cast<int>(start), "unterminated string literal");
  }

  Status Next() {
    size_t i = pos_;
    while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\t' || s_[i] == '\n' || s_[i] == '\r')) ++i;
    // Comments: '#' to end of line, as in jq.
    while (i < s_.size() && s_[i] == '#') {
      while (i < s_.size() && s_[i] != '\n') ++i;
      while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\t' || s_[i] == '\n' || s_[i] == '\r')) ++i;
    }
    tok_ = Token{};
    tok_.pos = static_cast<int>(i);
    if (i >= s_.size()) {
      tok_.t = Tok::kEnd;
      pos_ = i;
      tok_len_ = 0;
      return Status::OK();
    }
    char c = s_[i];
    auto two = [&](char a, char b) { return c == a && i + 1 < s_.size() && s_[i + 1] == b; };
    size_t start = i;
    if (c == '.') {
      if (i + 1 < s_.size() && s_[i + 1] == '.') {
        tok_.t = Tok::kDotDot;
        i += 2;
      } else if (i + 1 < s_.size() && IsIdentStart(s_[i + 1])) {
        size_t j = i + 1;
        while (j < s_.size() && IsIdentChar(s_[j])) ++j;
        tok_.t = Tok::kField;
        tok_.text = s_.substr(i + 1, j - i - 1);
        i = j;
      } else if (i + 1 < s_.size() && s_[i + 1] == '"') {
        size_t j = i + 1;
        EVT_RETURN_IF_ERROR(LexString(&j, &tok_.text));
        tok_.t = Tok::kField;
        i = j;
      } else if (i + 1 < s_.size() && s_[i + 1] >= '0' && s_[i + 1] <= '9') {
        return LexNumber(i);
      } else {
        tok_.t = Tok::kDot;
        ++i;
      }
    } else if (c == '$') {
      size_t j = i + 1;
      if (j < s_.size() && IsIdentStart(s_[j])) {
        while (j < s_.size() && IsIdentChar(s_[j])) ++j;
      } else {
        return Error(static_cast<int>(i), "'$' must be followed by a variable name");
      }
      tok_.t = Tok::kVar;
      tok_.text = s_.substr(i + 1, j - i - 1);
      i = j;
    } else if (c >= '0' && c <= '9') {
      return LexNumber(i);
    } else if (IsIdentStart(c)) {
      size_t j = i;
      while (j < s_.size() && (IsIdentChar(s_[j]) || (s_[j] == ':' && j + 1 < s_.size() && s_[j + 1] == ':'))) {
        if (s_[j] == ':') ++j;
        ++j;
      }
      tok_.t = Tok::kIdent;
      tok_.text = s_.substr(i, j - i);
      i = j;
    } else if (c == '"') {
      size_t j = i;
      EVT_RETURN_IF_ERROR(LexString(&j, &tok_.text));
      tok_.t = Tok::kString;
      i = j;
    } else if (two('/', '/')) {
      if (i + 2 < s_.size() && s_[i + 2] == '=') {
        tok_.t = Tok::kUpdateAssign;
        tok_.text = "//=";
        i += 3;
      } else {
        tok_.t = Tok::kAlt;
        i += 2;
      }
    } else if (two('=', '=')) {
      tok_.t = Tok::kEq;
      i += 2;
    } else if (two('!', '=')) {
      tok_.t = Tok::kNe;
      i += 2;
    } else if (two('<', '=')) {
      tok_.t = Tok::kLe;
      i += 2;
    } else if (two('>', '=')) {
      tok_.t = Tok::kGe;
      i += 2;
    } else if (two('|', '=') || two('+', '=') || two('-', '=') || two('*', '=') || two('/', '=') || two('%', '=')) {
      tok_.t = Tok::kUpdateAssign;
      tok_.text = s_.substr(i, 2);
      i += 2;
    } else {
      ++i;
      switch (c) {
        case '(': tok_.t = Tok::kLParen; break;
        case ')': tok_.t = Tok::kRParen; break;
        case '[': tok_.t = Tok::kLBracket; break;
        case ']': tok_.t = Tok::kRBracket; break;
        case '{': tok_.t = Tok::kLBrace; break;
        case '}': tok_.t = Tok::kRBrace; break;
        case ',': tok_.t = Tok::kComma; break;
        case ':': tok_.t = Tok::kColon; break;
        case ';': tok_.t = Tok::kSemicolon; break;
        case '|': tok_.t = Tok::kPipe; break;
        case '?': tok_.t = Tok::kQuestion; break;
        case '<': tok_.t = Tok::kLt; break;
        case '>': tok_.t = Tok::kGt; break;
        case '+': tok_.t = Tok::kPlus; break;
        case '-': tok_.t = Tok::kMinus; break;
        case '*': tok_.t = Tok::kStar; break;
        case '/': tok_.t = Tok::kSlash; break;
        case '%': tok_.t = Tok::kPercent; break;
        case '=': tok_.t = Tok::kAssign; break;
        default:
          return Error(static_cast<int>(start), fmt::format("unexpected character '{}'", c));
      }
    }
    tok_len_ = static_cast<int>(i - start);
    pos_ = i;
    return Status::OK();
  }

  Status LexNumber(size_t i) {
    size_t j = i;
    while (j < s_.size() && s_[j] >= '0' && s_[j] <= '9') ++j;
    if (j < s_.size() && s_[j] == '.') {
      ++j;
      while (j < s_.size() && s_[j] >= '0' && s_[j] <= '9') ++j;
    }
    if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
      size_t k = j + 1;
      if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
      if (k < s_.size() && s_[k] >= '0' && s_[k] <= '9') {
        while (k < s_.size() && s_[k] >= '0' && s_[k] <= '9') ++k;
        j = k;
      }
    }
    std::string text = s_.substr(i, j - i);
    double d = std::strtod(text.c_str(), nullptr);
    // jq clamps infinities to the largest double.
    if (std::isinf(d)) d = d > 0 ? 1.7976931348623157e308 : -1.7976931348623157e308;
    tok_.t = Tok::kNumber;
    tok_.num = d;
    tok_len_ = static_cast<int>(j - i);
    pos_ = j;
    return Status::OK();
  }

  // ---------------------------------------------------------------- grammar
  static std::unique_ptr<Node> Make(NodeKind k, int pos) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->pos = pos;
    return n;
  }
  static std::unique_ptr<Node> Binary(NodeKind k, Op op, int pos, std::unique_ptr<Node> a, std::unique_ptr<Node> b) {
    auto n = Make(k, pos);
    n->op = op;
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  Result<std::unique_ptr<Node>> ParsePipe() {
    if (++depth_ > kMaxDepth) return Error(tok_.pos, "expression nested too deeply");
    if (tok_.t == Tok::kIdent && (tok_.text == "def" || tok_.text == "reduce" || tok_.text == "foreach" ||
                                  tok_.text == "try" || tok_.text == "label" ||
                                  tok_.text == "import" || tok_.text == "include"))
      return Error(tok_.pos, fmt::format("'{}' is not supported by evt's filter language", tok_.text));
    auto lhs = ParseAlt();
    if (!lhs.ok()) return lhs;
    if (tok_.t == Tok::kIdent && tok_.text == "as") {
      // src as $name | body: body sees `.` as src did, with $name bound.
      int pos = tok_.pos;
      EVT_RETURN_IF_ERROR(Next());
      if (tok_.t != Tok::kVar) return Error(tok_.pos, "expected a variable ($name) after 'as' (destructuring is not supported)");
      std::string name = tok_.text;
      EVT_RETURN_IF_ERROR(Next());
      if (tok_.t != Tok::kPipe) return tok_.t == Tok::kEnd ? Error(tok_.pos, "expected '|' after 'as $name'") : Unexpected();
      EVT_RETURN_IF_ERROR(Next());
      auto body = ParsePipe();
      if (!body.ok()) return body;
      --depth_;
      auto b = Binary(NodeKind::kBind, Op::kNone, pos, std::move(*lhs), std::move(*body));
      b->str = std::move(name);
      return b;
    }
    if (tok_.t == Tok::kPipe) {
      int pos = tok_.pos;
      EVT_RETURN_IF_ERROR(Next());
      auto rhs = ParsePipe();
      if (!rhs.ok()) return rhs;
      --depth_;
      return Binary(NodeKind::kPipe, Op::kNone, pos, std::move(*lhs), std::move(*rhs));
    }
    --depth_;
    return lhs;
  }

  Result<std::unique_ptr<Node>> ParseAlt() {
    auto lhs = ParseAssign();
    if (!lhs.ok()) return lhs;
    if (tok_.t == Tok::kAlt) {
      int pos = tok_.pos;
      EVT_RETURN_IF_ERROR(Next());
      auto rhs = ParseAlt();  // right-associative
      if (!rhs.ok()) return rhs;
      return Binary(NodeKind::kAlt, Op::kNone, pos, std::move(*lhs), std::move(*rhs));
    }
    return lhs;
  }

  // jq: '=' '|=' '+=' ... bind tighter than '//' and looser than 'or'; non-associative.
  Result<std::unique_ptr<Node>> ParseAssign() {
    auto lhs = ParseOr();
    if (!lhs.ok()) return lhs;
    if (tok_.t != Tok::kAssign && tok_.t != Tok::kUpdateAssign) return lhs;
    int pos = tok_.pos;
    Op op = Op::kNone;
    if (tok_.t == Tok::kUpdateAssign) {
      const std::string& t = tok_.text;
      op = t == "|=" ? Op::kUpdate : t == "+=" ? Op::kAdd : t == "-=" ? Op::kSub : t == "*=" ? Op::kMul
         : t == "/=" ? Op::kDiv : t == "%=" ? Op::kMod : Op::kAltUpdate;
    }
    EVT_RETURN_IF_ERROR(Next());
    auto rhs = ParseOr();
    if (!rhs.ok()) return rhs;
    if (tok_.t == Tok::kAssign || tok_.t == Tok::kUpdateAssign)
      return Error(tok_.pos, "assignments do not chain (jq: non-associative); use parentheses");
    return Binary(NodeKind::kAssign, op, pos, std::move(*lhs), std::move(*rhs));
  }

  Result<std::unique_ptr<Node>> ParseOr() {
    auto lhs = ParseAnd();
    if (!lhs.ok()) return lhs;
    while (tok_.t == Tok::kIdent && tok_.text == "or") {
      int pos = tok_.pos;
      EVT_RETURN_IF_ERROR(Next());
      auto rhs = ParseAnd();
      if (!rhs.ok()) return rhs;
      lhs = Binary(NodeKind::kOr, Op::kNone, pos, std::move(*lhs), std::move(*rhs));
    }
    return lhs;
  }

  Result<std::unique_ptr<Node>> ParseAnd() {
    auto lhs = ParseCompare();
    if (!lhs.ok()) return lhs;
    while (tok_.t == Tok::kIdent && tok_.text == "and") {
      int pos = tok_.pos;
      EVT_RETURN_IF_ERROR(Next());
      auto rhs = ParseCompare();
      if (!rhs.ok()) return rhs;
      lhs = Binary(NodeKind::kAnd, Op::kNone, pos, std::move(*lhs), std::move(*rhs));
    }
    return lhs;
  }

  static Op CompareOp(Tok t) {
    switch (t) {
      case Tok::kEq: return Op::kEq;
      case Tok::kNe: return Op::kNe;
      case Tok::kLt: return Op::kLt;
      case Tok::kLe: return Op::kLe;
      case Tok::kGt: return Op::kGt;
      case Tok::kGe: return Op::kGe;
      default: return Op::kNone;
    }
  }

  Result<std::unique_ptr<Node>> ParseCompare() {
    auto lhs = ParseAdditive();
    if (!lhs.ok()) return lhs;
    Op op = CompareOp(tok_.t);
    if (op == Op::kNone) return lhs;
    int pos = tok_.pos;
    EVT_RETURN_IF_ERROR(Next());
    auto rhs = ParseAdditive();
    if (!rhs.ok()) return rhs;
    if (CompareOp(tok_.t) != Op::kNone)
      return Error(tok_.pos, "comparisons do not chain (jq: non-associative); use parentheses");
    return Binary(NodeKind::kCompare, op, pos, std::move(*lhs), std::move(*rhs));
  }

  Result<std::unique_ptr<Node>> ParseAdditive() {
    auto lhs = ParseMultiplicative();
    if (!lhs.ok()) return lhs;
    while (tok_.t == Tok::kPlus || tok_.t == Tok::kMinus) {
      Op op = tok_.t == Tok::kPlus ? Op::kAdd : Op::kSub;
      int pos = tok_.pos;
      EVT_RETURN_IF_ERROR(Next());
      auto rhs = ParseMultiplicative();
      if (!rhs.ok()) return rhs;
      lhs = Binary(NodeKind::kArith, op, pos, std::move(*lhs), std::move(*rhs));
    }
    return lhs;
  }

  Result<std::unique_ptr<Node>> ParseMultiplicative() {
    auto lhs = ParseUnary();
    if (!lhs.ok()) return lhs;
    while (tok_.t == Tok::kStar || tok_.t == Tok::kSlash || tok_.t == Tok::kPercent) {
      Op op = tok_.t == Tok::kStar ? Op::kMul : tok_.t == Tok::kSlash ? Op::kDiv : Op::kMod;
      int pos = tok_.pos;
      EVT_RETURN_IF_ERROR(Next());
      auto rhs = ParseUnary();
      if (!rhs.ok()) return rhs;
      lhs = Binary(NodeKind::kArith, op, pos, std::move(*lhs), std::move(*rhs));
    }
    return lhs;
  }

  Result<std::unique_ptr<Node>> ParseUnary() {
    if (tok_.t == Tok::kMinus) {
      int pos = tok_.pos;
      EVT_RETURN_IF_ERROR(Next());
      if (++depth_ > kMaxDepth) return Error(pos, "expression nested too deeply");
      auto operand = ParseUnary();
      --depth_;
      if (!operand.ok()) return operand;
      auto n = Make(NodeKind::kNegate, pos);
      n->kids.push_back(std::move(*operand));
      return n;
    }
    return ParsePostfix();
  }

  // Suffixes after a term: .name  ."name"  [expr]  ?  (and .[expr])
  Result<std::unique_ptr<Node>> ParseSuffixes(std::unique_ptr<Node> n) {
    while (true) {
      if (tok_.t == Tok::kField) {
        auto f = Make(NodeKind::kField, tok_.pos);
        f->str = tok_.text;
        f->kids.push_back(std::move(n));
        n = std::move(f);
        EVT_RETURN_IF_ERROR(Next());
        last_was_index_ = true;
      } else if (tok_.t == Tok::kDot) {
        // ".[" after a term: "x.[0]" is accepted by jq 1.6 only as "x | .[0]"; keep it simple.
        int pos = tok_.pos;
        EVT_RETURN_IF_ERROR(Next());
        if (tok_.t != Tok::kLBracket) return Error(pos, "unexpected '.'");
        auto idx = ParseBracket(std::move(n));
        if (!idx.ok()) return idx;
        n = std::move(*idx);
        last_was_index_ = true;
      } else if (tok_.t == Tok::kLBracket) {
        auto idx = ParseBracket(std::move(n));
        if (!idx.ok()) return idx;
        n = std::move(*idx);
        last_was_index_ = true;
      } else if (tok_.t == Tok::kQuestion) {
        // jq: "Term FIELD ?" suppresses errors of that one index operation only (the
        // term's own errors propagate); "Term ?" on anything else is try without catch.
        if (last_was_index_ && (n->kind == NodeKind::kField || n->kind == NodeKind::kIndex) && !n->opt) {
          n->opt = true;
        } else {
          auto o = Make(NodeKind::kOptional, tok_.pos);
          o->kids.push_back(std::move(n));
          n = std::move(o);
        }
        last_was_index_ = false;
        EVT_RETURN_IF_ERROR(Next());
        continue;
      } else {
        return n;
      }
    }
  }

  // At '[': parses "[expr]" applied to `target`.
  Result<std::unique_ptr<Node>> ParseBracket(std::unique_ptr<Node> target) {
    int pos = tok_.pos;
    EVT_RETURN_IF_ERROR(Next());
    if (tok_.t == Tok::kRBracket)
      return Error(pos, "iteration '.[]' is not supported; use any(cond) or all(cond) on arrays");
    if (tok_.t == Tok::kColon) return Error(tok_.pos, "slices '.[a:b]' are not supported");
    auto e = ParsePipe();
    if (!e.ok()) return e;
    if (tok_.t == Tok::kColon) return Error(tok_.pos, "slices '.[a:b]' are not supported");
    if (tok_.t == Tok::kComma) return Error(tok_.pos, "',' (multiple outputs) is not supported");
    if (tok_.t != Tok::kRBracket) return Unexpected();
    EVT_RETURN_IF_ERROR(Next());
    // A literal string index is a field access.
    if ((*e)->kind == NodeKind::kLiteral && (*e)->lit == LitType::kString) {
      auto f = Make(NodeKind::kField, pos);
      f->str = (*e)->str;
      f->kids.push_back(std::move(target));
      return f;
    }
    auto n = Make(NodeKind::kIndex, pos);
    n->kids.push_back(std::move(target));
    n->kids.push_back(std::move(*e));
    return n;
  }

  Result<std::unique_ptr<Node>> ParsePostfix() {
    if (++depth_ > kMaxDepth) return Error(tok_.pos, "expression nested too deeply");
    term_parenthesized_ = false;
    auto t = ParseTerm();
    if (!t.ok()) return t;
    last_was_index_ = !term_parenthesized_ && ((*t)->kind == NodeKind::kField || (*t)->kind == NodeKind::kIndex);
    auto r = ParseSuffixes(std::move(*t));
    --depth_;
    return r;
  }

  Result<std::unique_ptr<Node>> ParseTerm() {
    int pos = tok_.pos;
    switch (tok_.t) {
      case Tok::kDot: {
        EVT_RETURN_IF_ERROR(Next());
        auto id = Make(NodeKind::kIdentity, pos);
        if (tok_.t == Tok::kLBracket) return ParseBracket(std::move(id));
        if (tok_.t == Tok::kString) {  // . "name" is not jq; ."name" is lexed as a field
          return Unexpected();
        }
        return id;
      }
      case Tok::kField: {
        auto f = Make(NodeKind::kField, pos);
        f->str = tok_.text;
        f->kids.push_back(Make(NodeKind::kIdentity, pos));
        EVT_RETURN_IF_ERROR(Next());
        return f;
      }
      case Tok::kDotDot: return Error(pos, "recursive descent '..' is not supported");
      case Tok::kVar: {
        auto v = Make(NodeKind::kVariable, pos);
        v->str = tok_.text;
        EVT_RETURN_IF_ERROR(Next());
        return v;
      }
      case Tok::kNumber: {
        auto l = Make(NodeKind::kLiteral, pos);
        l->lit = LitType::kNumber;
        l->num = tok_.num;
        EVT_RETURN_IF_ERROR(Next());
        return l;
      }
      case Tok::kString: {
        auto l = Make(NodeKind::kLiteral, pos);
        l->lit = LitType::kString;
        l->str = tok_.text;
        EVT_RETURN_IF_ERROR(Next());
        if (tok_.t == Tok::kString) return Error(tok_.pos, "unexpected string literal (jq has no implicit concatenation)");
        return l;
      }
      case Tok::kLParen: {
        EVT_RETURN_IF_ERROR(Next());
        auto e = ParsePipe();
        if (!e.ok()) return e;
        if (tok_.t == Tok::kComma) return Error(tok_.pos, "',' (multiple outputs) is not supported");
        if (tok_.t != Tok::kRParen) return tok_.t == Tok::kEnd ? Error(tok_.pos, "missing ')'") : Unexpected();
        EVT_RETURN_IF_ERROR(Next());
        term_parenthesized_ = true;
        return e;
      }
      case Tok::kLBracket: {
        auto a = Make(NodeKind::kArray, pos);
        EVT_RETURN_IF_ERROR(Next());
        if (tok_.t == Tok::kRBracket) {
          EVT_RETURN_IF_ERROR(Next());
          return a;
        }
        while (true) {
          auto e = ParseElement();
          if (!e.ok()) return e;
          a->kids.push_back(std::move(*e));
          if (tok_.t == Tok::kComma) {
            EVT_RETURN_IF_ERROR(Next());
            continue;
          }
          if (tok_.t != Tok::kRBracket) return tok_.t == Tok::kEnd ? Error(tok_.pos, "missing ']'") : Unexpected();
          EVT_RETURN_IF_ERROR(Next());
          return a;
        }
      }
      case Tok::kLBrace: {
        auto o = Make(NodeKind::kObject, pos);
        EVT_RETURN_IF_ERROR(Next());
        if (tok_.t == Tok::kRBrace) {
          EVT_RETURN_IF_ERROR(Next());
          return o;
        }
        while (true) {
          std::string key;
          if (tok_.t == Tok::kString || (tok_.t == Tok::kIdent)) {
            key = tok_.text;
          } else if (tok_.t == Tok::kVar) {
            return Error(tok_.pos, "'{$name}' shorthand is not supported");
          } else {
            return tok_.t == Tok::kLParen ? Error(tok_.pos, "computed object keys are not supported") : Unexpected();
          }
          EVT_RETURN_IF_ERROR(Next());
          if (tok_.t != Tok::kColon) return Error(tok_.pos, "expected ':' after the object key ('{a}' shorthand is not supported)");
          EVT_RETURN_IF_ERROR(Next());
          auto v = ParseElement();
          if (!v.ok()) return v;
          o->keys.push_back(std::move(key));
          o->kids.push_back(std::move(*v));
          if (tok_.t == Tok::kComma) {
            EVT_RETURN_IF_ERROR(Next());
            continue;
          }
          if (tok_.t != Tok::kRBrace) return tok_.t == Tok::kEnd ? Error(tok_.pos, "missing '}'") : Unexpected();
          EVT_RETURN_IF_ERROR(Next());
          return o;
        }
      }
      case Tok::kIdent: return ParseCallOrKeyword();
      case Tok::kEnd: return Error(pos, "unexpected end of expression");
      default: return Unexpected();
    }
  }

  // An array element or object value: a full expression without ',' (jq allows pipes in
  // array elements; object values are more restricted in jq, evt accepts more).
  Result<std::unique_ptr<Node>> ParseElement() {
    if (++depth_ > kMaxDepth) return Error(tok_.pos, "expression nested too deeply");
    auto e = ParsePipe();
    --depth_;
    return e;
  }

  Result<std::unique_ptr<Node>> ParseCallOrKeyword() {
    int pos = tok_.pos;
    std::string name = tok_.text;
    if (name == "true" || name == "false" || name == "null") {
      auto l = Make(NodeKind::kLiteral, pos);
      l->lit = name == "true" ? LitType::kTrue : name == "false" ? LitType::kFalse : LitType::kNull;
      EVT_RETURN_IF_ERROR(Next());
      return l;
    }
    if (name == "and" || name == "or" || name == "as" || name == "then" || name == "else" || name == "end" ||
        name == "elif")
      return Unexpected();
    if (name == "if") return ParseIf();
    EVT_RETURN_IF_ERROR(Next());
    auto c = Make(NodeKind::kCall, pos);
    c->str = name;
    if (tok_.t == Tok::kLParen) {
      EVT_RETURN_IF_ERROR(Next());
      while (true) {
        auto a = ParsePipe();
        if (!a.ok()) return a;
        c->kids.push_back(std::move(*a));
        if (tok_.t == Tok::kSemicolon) {
          EVT_RETURN_IF_ERROR(Next());
          continue;
        }
        if (tok_.t == Tok::kComma) return Error(tok_.pos, "function arguments are separated by ';' in jq, not ','");
        if (tok_.t != Tok::kRParen) return tok_.t == Tok::kEnd ? Error(tok_.pos, "missing ')'") : Unexpected();
        EVT_RETURN_IF_ERROR(Next());
        break;
      }
    }
    std::string sig = fmt::format("{}/{}", name, c->kids.size());
    const auto& fns = SupportedFunctions();
    if (std::find(fns.begin(), fns.end(), sig) == fns.end()) {
      std::string list;
      for (const auto& f : fns) list += (list.empty() ? "" : ", ") + f;
      return Error(pos, fmt::format("unknown function {}; supported: {}", sig, list));
    }
    return c;
  }

  bool AtKeyword(const char* k) const { return tok_.t == Tok::kIdent && tok_.text == k; }

  // At 'if': if c then a (elif c then a)* else b end (jq 1.6: 'else' is required).
  Result<std::unique_ptr<Node>> ParseIf() {
    auto n = Make(NodeKind::kIf, tok_.pos);
    EVT_RETURN_IF_ERROR(Next());
    while (true) {
      auto c = ParsePipe();
      if (!c.ok()) return c;
      if (!AtKeyword("then")) return tok_.t == Tok::kEnd ? Error(tok_.pos, "expected 'then'") : Unexpected();
      EVT_RETURN_IF_ERROR(Next());
      auto t = ParsePipe();
      if (!t.ok()) return t;
      n->kids.push_back(std::move(*c));
      n->kids.push_back(std::move(*t));
      if (AtKeyword("elif")) {
        EVT_RETURN_IF_ERROR(Next());
        continue;
      }
      if (!AtKeyword("else"))
        return Error(tok_.pos, AtKeyword("end") ? "'if' without 'else' (jq 1.6 requires 'else')" : "expected 'elif', 'else' or 'end'");
      EVT_RETURN_IF_ERROR(Next());
      auto e = ParsePipe();
      if (!e.ok()) return e;
      n->kids.push_back(std::move(*e));
      if (!AtKeyword("end")) return tok_.t == Tok::kEnd ? Error(tok_.pos, "missing 'end'") : Unexpected();
      EVT_RETURN_IF_ERROR(Next());
      return n;
    }
  }

  static constexpr int kMaxDepth = 256;
  const std::string& s_;
  size_t pos_ = 0;
  Token tok_;
  int tok_len_ = 0;
  int depth_ = 0;
  bool last_was_index_ = false;
  bool term_parenthesized_ = false;
};

}  // namespace

Result<std::unique_ptr<Node>> Parse(const std::string& expr) {
  if (expr.size() > (1u << 20)) return Status::InvalidArgument("expression is longer than 1 MiB");
  Parser p(expr);
  return p.Run();
}

}  // namespace evt::filter
