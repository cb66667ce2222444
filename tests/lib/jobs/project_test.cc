// Unit tests for lib/jobs/project: the reduce shorthands, rules files, --columns parsing,
// and the fold evaluation (lib/filter's Mode::kFold) they rely on.
#include "lib/jobs/project.h"

#include <catch2/catch.hpp>

#include "lib/filter/filter.h"

using namespace evt;

namespace {

// One fold step over a record with value `value` (nullptr: a tombstone).
std::string Step(const std::string& expr, const std::string& state, const char* value, filter::Match* m = nullptr) {
  auto f = filter::Filter::Compile({expr}, filter::Mode::kFold);
  REQUIRE(f.ok());
  filter::Evaluator ev(*f);
  RecordBatch b;
  b.topic = "t";
  b.partition = 0;
  Record r;
  r.offset = 7;
  r.key = Bytes::Of(b.arena.Copy("k1"));
  if (value) r.value = Bytes::Of(b.arena.Copy(value));
  std::string out;
  filter::Match got = ev.Fold(state, b, r, false, &out);
  if (m) *m = got;
  if (got == filter::Match::kError) return "error: " + ev.error();
  if (got == filter::Match::kNo) return "empty";
  return out;
}

}  // namespace

TEST_CASE("project: fold steps have jq's reduce semantics", "[project]") {
  CHECK(Step("$event", "", R"({"a":1})") == R"({"a":1})");
  CHECK(Step("$event", R"({"a":1})", nullptr) == "null");
  CHECK(Step(ExpandReduce("merge"), R"({"a":{"b":1}})", R"({"a":{"c":2}})") == R"({"a":{"b":1,"c":2}})");
  CHECK(Step(ExpandReduce("merge"), R"({"a":1})", nullptr) == "null");
  CHECK(Step("(. // {}) * $event", R"({"a":1})", nullptr).find("cannot be multiplied") != std::string::npos);
  CHECK(Step("null * {}", "", "1").find("cannot be multiplied") != std::string::npos);
  CHECK(Step(ExpandReduce("count"), "", "1") == "1");
  CHECK(Step(ExpandReduce("count"), "41", "1") == "42");
  CHECK(Step(ExpandReduce("sum(.n)"), "10", R"({"n":2.5})") == "12.5");
  CHECK(Step(ExpandReduce("sum(.n)"), "10", R"({})") == "10");
  CHECK(Step(ExpandReduce("min(.n)"), "", R"({"n":3})") == "3");
  CHECK(Step(ExpandReduce("min(.n)"), "3", R"({"n":5})") == "3");
  CHECK(Step(ExpandReduce("min(.n)"), "3", R"({"n":1})") == "1");
  CHECK(Step(ExpandReduce("max(.n)"), "3", R"({"n":5})") == "5");
  CHECK(Step(ExpandReduce("max(.n)"), "3", R"({})") == "3");
  CHECK(Step(".qty += $event.qty", R"({"qty":1})", R"({"qty":2})") == R"({"qty":3})");
  CHECK(Step(".last = $offset | .k = $key | .t = $topic", "", "1") == R"({"last":7,"k":"k1","t":"t"})");
  CHECK(Step("empty", R"({"a":1})", "1") == "empty");
  CHECK(Step("del(.a)", R"({"a":1,"b":2})", "1") == R"({"b":2})");
  CHECK(Step("$event.n as $n | .h |= (. // []) + [$n]", R"({"h":[1]})", R"({"n":2})") == R"({"h":[1,2]})");
  CHECK(Step("if $event.t == \"a\" then 1 elif $event.t == \"b\" then 2 else 3 end", "", R"({"t":"b"})") == "2");
  // The state is not re-read as the record's value: `.` and $event are separate documents.
  CHECK(Step("[., $event]", R"({"s":"state"})", R"({"v":"value"})") == R"([{"s":"state"},{"v":"value"}])");
  filter::Match m;
  Step(".", "{not json", "1", &m);
  CHECK(m == filter::Match::kInvalid);
}

TEST_CASE("project: $event only in folds; '=' as a filter is refused", "[project]") {
  auto f = filter::Filter::Compile({"$event"}, filter::Mode::kRecord);
  REQUIRE(!f.ok());
  CHECK(f.status().message().find("only defined in a fold") != std::string::npos);
  auto g = filter::Filter::Compile({".a = 1"}, filter::Mode::kJson);
  REQUIRE(!g.ok());
  CHECK(g.status().message().find("use '=='") != std::string::npos);
  CHECK(filter::Filter::Compile({".a = 1 | ."}, filter::Mode::kJson).ok());
  CHECK(filter::Filter::Compile({".a = 1"}, filter::Mode::kFold).ok());
}

TEST_CASE("project: shorthands expand; other text is an expression", "[project]") {
  CHECK(ExpandReduce("last") == "$event");
  CHECK(ExpandReduce(" count ") == "(. // 0) + 1");
  CHECK(ExpandReduce("sum(.data.amount)") == "(. // 0) + ($event | .data.amount // 0)");
  CHECK(ExpandReduce(".x += 1") == ".x += 1");
  CHECK(ExpandReduce("summary") == "summary");
}

TEST_CASE("project: rules files become one expression", "[project]") {
  auto e = RulesExpression(R"({"type": ".type", "on": {"a": ".n += 1", "b": "null"}, "default": "error"})");
  REQUIRE(e.ok());
  CHECK(*e ==
        "($event | .type) as $__type | if $__type == \"a\" then (.n += 1) elif $__type == \"b\" then (null) else "
        "error(\"no rule for event type \" + ($__type | tojson)) end");
  CHECK(Step(*e, R"({"n":1})", R"({"type":"a"})") == R"({"n":2})");
  CHECK(Step(*e, R"({"n":1})", R"({"type":"b"})") == "null");
  CHECK(Step(*e, R"({"n":1})", R"({"type":"c"})") == "error: no rule for event type \"c\"");
  auto ign = RulesExpression(R"({"type": ".type", "on": {}})");
  REQUIRE(ign.ok());
  CHECK(Step(*ign, R"({"n":1})", R"({"type":"x"})") == R"({"n":1})");
  CHECK(!RulesExpression("[1]").ok());
  CHECK(!RulesExpression("{not json").ok());
  CHECK(!RulesExpression(R"({"on": {}})").ok());
  CHECK(!RulesExpression(R"({"type": ".t", "on": {"a": 1}})").ok());
  CHECK(!RulesExpression(R"({"type": ".t", "bogus": 1})").ok());
}

// Found while writing rules_fuzz: each expression was pasted into the one reduce expression
// unchecked, so a rule with an unbalanced parenthesis reached into its neighbours (".t) |
// (.u" as the type was accepted), and a comment swallowed the rest of the expression.
TEST_CASE("project: each expression of a rules file stands on its own", "[project]") {
  auto bad = RulesExpression(R"({"type": ".t) | (.u", "on": {"a": "."}})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kInvalidArgument);
  CHECK(bad.status().message().find("--rules: \"type\": ") == 0);
  auto rule = RulesExpression(R"({"type": ".t", "on": {"a": ". ) else (1"}})");
  REQUIRE_FALSE(rule.ok());
  CHECK(rule.status().message().find("--rules: the rule for \"a\": ") == 0);
  CHECK_FALSE(RulesExpression(R"({"type": ".t", "on": {"a": "."}, "default": "1 end | ("})").ok());
  CHECK_FALSE(RulesExpression(R"({"type": ".t", "on": {"a": ""}})").ok());
  // Comments end at the end of their line, inside the file's expressions too.
  auto c = RulesExpression(R"({"type": ".type # the event type", "on": {"a": ".n += 1 # count"}})");
  REQUIRE(c.ok());
  CHECK(Step(*c, R"({"n":1})", R"({"type":"a"})") == R"({"n":2})");
  CHECK(Step(*c, R"({"n":1})", R"({"type":"b"})") == R"({"n":1})");
  // $__type, as the man page spells the expansion, may be used by the rules.
  auto v = RulesExpression(R"({"type": ".type", "on": {"a": "$__type"}})");
  REQUIRE(v.ok());
  CHECK(Step(*v, "null", R"({"type":"a"})") == R"("a")");
}

TEST_CASE("project: --columns parsing", "[project]") {
  std::vector<ProjectColumn> c;
  REQUIRE(ParseColumns("qty=.qty:integer,name=.data.name,obj={a: .x, b: [1,2]}:json,t=.a // \"x:y\"", &c).ok());
  REQUIRE(c.size() == 4);
  CHECK(c[0].name == "qty");
  CHECK(c[0].expr == ".qty");
  CHECK(c[0].type == "integer");
  CHECK(c[1].type.empty());
  CHECK(c[2].expr == "{a: .x, b: [1,2]}");
  CHECK(c[2].type == "json");
  CHECK(c[3].expr == ".a // \"x:y\"");
  std::vector<ProjectColumn> d;
  CHECK(!ParseColumns("key=.k", &d).ok());
  CHECK(!ParseColumns("1x=.k", &d).ok());
  CHECK(!ParseColumns("noexpr", &d).ok());
  CHECK(!ParseColumns("a=.x,a=.y", &d).ok());
}
