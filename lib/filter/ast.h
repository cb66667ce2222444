// The filter language's syntax tree: a subset of jq's grammar (see man/evt-filter.1).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "lib/base/status.h"

namespace evt::filter {

enum class NodeKind : uint8_t {
  kIdentity,   // .
  kField,      // lhs.name / lhs."name" / lhs["name"] with a literal name (str)
  kIndex,      // lhs[expr]
  kOptional,   // lhs?
  kLiteral,    // number / string / true / false / null (num, str, lit_type)
  kArray,      // [a, b, ...]
  kObject,     // {"k": v, ...}  (keys in str_list, values in kids)
  kVariable,   // $name (str)
  kPipe,       // a | b
  kAlt,        // a // b
  kOr,
  kAnd,
  kCompare,    // op: == != < <= > >=
  kArith,      // op: + - * / %
  kNegate,     // -a
  kCall,       // name(args...) (str = name)
  kIf,         // if c1 then t1 elif c2 then t2 ... else e end: kids c1 t1 c2 t2 ... e
  kAssign,     // lhs OP rhs: op kNone '=', kUpdate '|=', kAdd.. kMod 'OP=', kAltUpdate '//='
  kBind,       // src as $name | body (kids src, body; str = name)
};

enum class Op : uint8_t { kNone, kEq, kNe, kLt, kLe, kGt, kGe, kAdd, kSub, kMul, kDiv, kMod, kUpdate, kAltUpdate };

enum class LitType : uint8_t { kNull, kFalse, kTrue, kNumber, kString };

struct Node {
  NodeKind kind;
  Op op = Op::kNone;
  LitType lit = LitType::kNull;
  double num = 0;
  std::string str;                  // field name, variable name, function name, string literal
  std::vector<std::string> keys;    // object literal keys
  std::vector<std::unique_ptr<Node>> kids;
  int pos = 0;                      // byte position in the expression, for messages
  // Filled by the compiler: function id, variable id, precompiled regex (kCall test/1,2).
  int fn = -1;
  bool opt = false;  // kField/kIndex followed by '?': errors of this index operation give no output
  std::shared_ptr<void> aux;
};

// Parses `expr`. Errors are InvalidArgument with the expression and a caret line under
// the bad position, e.g.
//   syntax error: unexpected ')'
//     .a == )
//          ^
Result<std::unique_ptr<Node>> Parse(const std::string& expr);

// The names of the functions the language supports (for messages and docs).
const std::vector<std::string>& SupportedFunctions();

}  // namespace evt::filter
