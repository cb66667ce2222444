#!/usr/bin/env python3
"""Differential test: `evt filter EXPR` must select exactly the lines `jq -c 'select(EXPR)'`
selects, for several hundred expressions over documents covering every JSON type.

Usage: filter_jq.py EVT TMPDIR   (prints a summary; exit 1 on any disagreement)
"""
import itertools
import json
import os
import subprocess
import sys

EVT, TMP = sys.argv[1], sys.argv[2]

# One valid JSON document per line, written as raw text so that escapes, duplicate keys
# and number spellings reach both tools unchanged.
DOCS = r'''
{"a":1,"b":"x","c":[1,2,3],"d":{"e":true,"f":null},"s":"Hello World"}
{"a":2,"b":"y","c":[],"d":{},"s":"hello"}
{"a":-3.5,"b":"","c":[null,false,true],"d":{"e":false},"s":"HELLO world"}
{"a":null,"b":null,"c":null,"d":null}
{}
[]
[1,2,3]
[{"x":1},{"x":2}]
"just a string"
42
-0
true
false
null
{"a":100000000000000000000000,"b":"big"}
{"a":1e400,"b":"inf"}
{"a":-1e400,"b":"-inf"}
{"a":1.5e300,"b":"e300"}
{"a":9007199254740993,"b":"2^53+1"}
{"a":0.1,"b":"0.1"}
{"a":1,"a":2,"b":"dup"}
{"d":{"e":1},"d":{"f":2},"b":"dup-obj"}
{"b":"\u00e9\u4e2d\ud83d\ude00","s":"caf\u00e9"}
{"b":"tab\there","s":"line\nbreak"}
{"b":"quote\"back\\slash","s":"\u0001ctl"}
{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":1}}}}}}},"b":"deep"}
{"c":[[[[[[1]]]]]],"b":"deep-arr"}
{"a":"5","b":"numstr","s":" 12 "}
{"a":"abc","b":"str-a","c":"not-array","d":"not-object"}
{"a":true,"b":true,"c":{"0":1},"d":[1,2]}
{"a":[1,2],"b":["x","y"],"c":{"k":"v"},"d":{"e":[1,{"g":2}]}}
{"items":[{"sku":"A","qty":2},{"sku":"B","qty":0}],"tags":["red","blue"],"b":"items"}
{"items":[],"tags":[],"b":"no-items"}
{"items":{"sku":"A"},"tags":"red","b":"wrong-types"}
{"type":"order.created","data":{"amount":600,"currency":"EUR"},"b":"order"}
{"type":"order.paid","data":{"amount":400,"currency":"USD"},"b":"order2"}
{"type":"order.created","data":{"amount":"600"},"b":"order-str"}
{"type":null,"data":null,"b":"order-null"}
{"e":[],"f":{},"g":"","h":0,"b":"empties"}
{"a":3,"b":"B","s":"Straße","t":"ÀÉÎ"}
{"s":"a.b*c+d?","b":"regex-meta"}
{"s":"2024-05-01T12:00:00Z","b":"time"}
{"s":"key-17","a":17,"b":"key"}
{"a":1.0,"b":"1.0"}
{"a":-0.0,"b":"-0.0"}
{"a":1e-7,"b":"tiny"}
{"a":123456789012345678,"b":"int18"}
{"t":1425599507,"s":"2015-03-05T23:51:47Z","b":"date"}
{"t":1425599507.9,"s":"2015-03-05T23:51:47.123Z","b":"%Y-%m-%d frac"}
{"t":-1.5,"s":"1969-12-31T23:59:59Z","b":"%s %j %a"}
{"t":0,"s":"1970-01-01T00:00:00Z","b":"epoch %T"}
{"t":-2,"s":"1969-12-31T23:59:58Z","b":"minus-two"}
{"t":1700000000,"s":"2023-11-14 22:13:20","b":"%F %T"}
{"t":253402300800,"s":"2015-02-30T00:00:00Z","b":"%Y %j"}
{"t":-62167219201,"s":"0000-01-01T00:00:00Z","b":"year0"}
{"t":67768036191676792,"s":"2015-12-31T23:59:61Z","b":"%s"}
{"t":[2015,2,5,23,51,47,4,63],"s":"2015-03-05T23:51:47Z xx","b":"%a %b %e %T %Y"}
{"t":[2015,14,40,23,51,-47,9,400],"s":"Thu Mar  5 23:51:47 2015","b":"%a %b %e %T %Y"}
{"t":[2015.7,-2.9,5.9,123,51,47.9,-1,-5],"s":"2016 366","b":"%Y %j"}
{"t":[2015,2,5],"s":"2015 064 07","b":"%Y %j %d"}
{"t":[2015,2,5,23,51,"x",4,63],"s":"1425599507","b":"%s"}
{"t":"1425599507","s":"15-3-5T1:2:3Z","b":"%Y-%m-%dT%H:%M:%SZ"}
{"t":[1e20,2,5,23,51,47,4,63],"s":"2015-03-05T23:51:47+01:00","b":"%FT%T%z"}
{"t":[2015,2,5,23,51,1e20,4,63],"s":" 2015-03-05T23:51:47Z","b":"%Y-%m-%dT%H:%M:%S%Z"}
'''.strip().splitlines()

PATHS = ['.a', '.b', '.c', '.d', '.s', '.d.e', '.d.f', '.c[0]', '.c[-1]', '.c[5]', '."a"', '.["b"]',
         '.items[0].sku', '.data.amount', '.type', '.a.b.c.d', '.c[0][0]', '.missing', '.missing.x',
         '.d["e"]', '.[0]', '.tags[1]', '.', '.b?', '.a.x?', '.c[0]?']
LITS = ['1', '2', '-3.5', '0', '"x"', '""', 'null', 'true', 'false', '[1,2,3]', '[]', '{}', '{"e":true,"f":null}',
        '100000000000000000000000', '1e400', '1.5e300', '"hello"', '0.1', '1e-7']
CMPS = ['==', '!=', '<', '<=', '>', '>=']

exprs = []
for p in PATHS:
    exprs.append(p)
    exprs.append(f'{p} | not')
    exprs.append(f'{p} | type == "string"')
    exprs.append(f'{p} | length > 1')
    exprs.append(f'({p} | tostring) == "1"')
for p, op, lit in itertools.islice(itertools.product(PATHS[:12], CMPS, LITS), 0, None, 7):
    exprs.append(f'{p} {op} {lit}')
exprs += [
    # boolean logic and precedence
    '.a == 1 and .b == "x"', '.a == 1 or .b == "y"', '.a == 1 and .b == "y" or .b == "x"',
    '(.a == 1 or .a == 2) and .b != null', '.a // .b', '.a // "default" | . == "default"',
    '.a == 1 or .b == "y" // false', 'false // .a', '(.a // .b) == "x"', '.missing // empty',
    '.a and .b', '.a or .b', 'null and .a', '.a | not | not', '.b == "x" | not',
    # arithmetic
    '.a + 1 > 2', '.a - 1 == 0', '.a * 2 == 4', '.a / 2 == 1', '.a % 2 == 1', '-.a < 0',
    '.b + "!" == "x!"', '.c + [4] | length == 4', '.d + {"z":1} | has("z")', 'null + .a == .a',
    '.a + .b == null', '.s / " " | length == 2', '.b * 2 == "xx"', '.b * 0 == null', '.b * 1.5 == "x"',
    '.d * {"e":1} | .e == 1', '.c - [1] == [2,3]', '.a / 0 == 1', '.a % 0 == 1', '5 % -2 == 1',
    '-5 % 2 == -1', '.a + 0.2 == 0.30000000000000004', '1 + 2 * 3 == 7', '(1 + 2) * 3 == 9', '10 / 4 == 2.5',
    '.a > 1e300', '.a == 1e400', '.a == -1e400', '.a >= 100000000000000000000000', '.a == 9007199254740992',
    '.a == 123456789012345680',
    # functions
    '.s | test("hello")', '.s | test("hello"; "i")', '.s | test("^H")', '.s | test("world$")',
    '.s | test("l+")', '.s | test("\\\\d")', '.b | test("x|y")', '.s | test("caf.")', '.s | test("^.{5}$")',
    '.s | test("a\\\\.b")', '.s | test("")', '.s | test(""; "n")', '.s | test("L"; "gi")', '.s | test("s"; null)',
    '.s | test(.b)', '.a | test("1")', '.s | test("(?<w>world)")', '.s | test("Stra")', '.s | test("[[:upper:]]")',
    '.s | startswith("He")', '.s | endswith("ld")', '.b | startswith("")', '.a | startswith("1")',
    '.s | contains("ll")', '.c | contains([1])', '.c | contains([1,5])', '.d | contains({"e":true})',
    '.d | contains({})', '.c | contains(["x"])', '.a | contains(1)', '.b | contains(.b)', '. | contains({"a":1})',
    '.items | contains([{"sku":"A"}])', '.tags | contains(["re"])', '.a | contains("x")', 'true | contains(true)',
    'has("a")', 'has("zz")', '.c | has(0)', '.c | has(5)', '.c | has(-1)', '.d | has("e")', '.a | has("x")',
    '"a" | in({"a":1})', '.b | in({"x":1})', '0 | in(.c)', '.b | in(.d)',
    'length > 2', '.b | length == 1', '.c | length == 3', '.d | length == 0', '.a | length > 1', '.s | length == 6',
    '.b | length == 3', 'length == 0', '.a | length == 3.5', '.t | length == 3',
    '.s | ascii_downcase == "hello world"', '.s | ascii_upcase == "HELLO WORLD"', '.a | ascii_downcase == "x"',
    '.t | ascii_downcase == "ÀÉÎ"', '.s | ascii_upcase | test("STRASSE")',
    '.a | tostring == "1"', '.a | tostring == "1e+23"', '.a | tostring == "1.7976931348623157e+308"',
    '.a | tostring == "1.5e+300"', '.a | tostring == "0.1"', '.a | tostring == "1e-07"', '.a | tostring == "-0"',
    '.c | tostring == "[1,2,3]"', '.d | tostring == "{\\"e\\":true,\\"f\\":null}"', '.b | tostring == "x"',
    '. | tostring | length > 10', '.a | tostring == "123456789012345680"', '.a | tostring == "9007199254740992"',
    '.b | tostring | test("\\\\\\\\u0001")', '.s | tostring == "\\u0001ctl"', '.a | tostring == "3"',
    '.a | tonumber == 5', '.s | tonumber == 12', '.b | tonumber > 0', '.a | tonumber == 1', '.c | tonumber == 1',
    'type == "object"', 'type == "array"', 'type == "string"', 'type == "number"', 'type == "boolean"',
    'type == "null"', '.a | type == "number"', '.c | type == "array"',
    '.c | any', '.c | all', '.d | any', '.d | all', '[] | any', '[] | all', '.a | any', '.tags | any',
    '.c | any(. == 2)', '.c | all(. > 0)', '.items | any(.qty > 1)', '.items | all(.qty > 1)',
    '.items | any(.sku == "B")', '.tags | any(test("^r"))', '.c | any(.x)', '.d | any(. == true)',
    '.items | any(.x.y)', '.c | all(type == "number")', '.[0] | any',
    'select(.a == 1)', 'select(.a == 1) | .b == "x"', 'select(.b) | .a', '.a | select(. > 1)', 'empty',
    '.a | select(. == null) | not',
    # paths on wrong types, optional
    '.b.x', '.b[0]', '.c.x', '.c["x"]', '.d[0]', '.a[0]', '.b.x?', '.b[0]?', '(.b.x)? // "alt"', '.c.x? // 1',
    '.a.b.c.d.e.f.g.h == 1', '.c[0][0][0][0][0][0] == 1', '.items[-1].sku == "B"', '.items[1.7].qty == 0',
    '.c[.a]', '.d[.b]', '.["a"] == 1', '."b" == "x"', '.d."e"', '.[1] == 2', '.[-1] == 3',
    # literals and deep equality
    '.c == [1,2,3]', '.c == [1,2]', '.d == {"e":true,"f":null}', '.d == {"f":null,"e":true}', '.d == {"e":true}',
    '[.a, .b] == [1, "x"]', '{"k": .a} == {"k": 1}', '[.a] | length == 1', '{"a": .a, "b": .b} | .a == 1',
    '.c < [1,3]', '.c > [1,2]', '.d < {"f":1}', '.d > {}', '"abc" < "abd"', '"a" < "ab"', '[] < {}',
    'null < false', 'false < true', 'true < 0', '0 < ""', '"" < []',
    '.b < .s', '.a < .b', '.c > .d', '.d < .c',
    # strings and escapes
    '.b == "\\u00e9\\u4e2d\\ud83d\\ude00"', '.b == "é中😀"', '.b == "tab\\there"', '.s == "line\\nbreak"',
    '.b == "quote\\"back\\\\slash"', '.s == "\\u0001ctl"', '.b | length == 3', '.b | test("中")',
    '.s == "café"', '.s | test("^caf\\u00e9$")',
    # '?' binds to one index operation; (...)? is try
    '.c.x? // 1', '(.c.x)? // 1', '.c?.x', '.a?.b? // "n"', '(.a.b.c)? // 2', '.[0]? // 3', '.b[0]? // 4',
    '(.b | tonumber)? // 0', '.b | tonumber? // 0', '"nan" | tonumber > 0', '"nan" | tonumber == ("nan" | tonumber)',
    '"inf" | tonumber == 1e400', '("nan" | tonumber) < 0', '0 < ("nan" | tonumber)', '("nan"|tonumber) <= .a',
    '("nan"|tonumber) | tostring == "null"', '.s | tonumber? > 1', '.missing?', '.d.e?', '(.d | has("e"))?',
    # duplicates
    '.a == 2 and .b == "dup"', '.d.e == null and .b == "dup-obj"', '.d == {"f":2}',
]
# Time builtins (jq 1.6 runs them in the local zone: TZ=UTC below). Every value jq computes
# for an expression over the documents becomes an equality for both tools, so values are
# compared, not only truth; `[(E)?] == []` compares where it raises an error. `now` is not
# comparable (tests/e2e/filter.sh checks it against the clock). Number inputs that gmtime
# cannot convert crash jq 1.6 in strftime/todate, so those run on .t only.
TIME_EXPRS = [
    '.s | fromdate', '.s | fromdateiso8601', '.s | strptime("%Y-%m-%dT%H:%M:%SZ")',
    '.s | strptime("%Y-%m-%dT%H:%M:%SZ") | mktime', '.s | strptime("%a %b %e %T %Y")', '.s | strptime("%Y %j")',
    '.s | strptime("%Y %j %d")', '.s | strptime("%F %T")', '.s | strptime("%FT%T%z")', '.s | strptime("%s")',
    '.s | strptime("%Y-%m-%dT%H:%M:%S%Z")', '.s | strptime(.b)', '.s | strptime(.b) | mktime', '.s | todate',
    '.t | todate', '.t | todateiso8601', '.t | gmtime', '.t | gmtime | mktime', '.t | gmtime | todate', '.t | mktime',
    '.t | strftime("%Y %m %d %H %M %S %Z %z %j %a %b %e %T %F %s %%")', '.t | strftime("%s|%j|%a|%b")',
    '.t | strftime(.b)', '.t | todate | fromdate', '.t | gmtime | .[5]', '.a | gmtime', '.a | mktime', '.c | mktime',
    '.c | todate', '.b | strptime("%s")', '.b | fromdate', '.d | todate',
    '"2015-03-05T23:51:47Z" | fromdate', '1425599507 | todate', '1425599507.9 | todate', '1425599507.9 | gmtime',
    '.t | gmtime | todate | fromdate',
]
jq_env = dict(os.environ, TZ='UTC')
for e in TIME_EXPRS:
    out = subprocess.run(['jq', '-c', 'try (%s) catch empty' % e],
                         input=''.join(d + '\n' for d in DOCS), capture_output=True, text=True, env=jq_env)
    values = list(dict.fromkeys(out.stdout.split('\n')[:-1]))
    exprs.append('[(%s)?] == []' % e)
    exprs += ['(%s) == %s' % (e, v) for v in values]
exprs += ['now > 1700000000', 'now | type == "number"', '(now | todate | length) == 20']

# What folds (evt project --reduce) use: construction, update-assignment, del, entries,
# if/elif/else, `as` bindings, `//`, `*` merges (null * {} is an error in jq 1.6). Values are
# compared the same way as the time builtins': every distinct jq output becomes an
# equality, and `[(E)?] == []` checks where jq raises an error.
FOLD_EXPRS = [
    '{a: .a, b: [.b, .c]}', '[.a, .b, {c: .d}]', '{"x y": .s, z: null}', '[.a, empty, .b]', '{a: empty}',
    '.a = 1', '.a = .b', '.d.e = 5', '.x.y.z = [1]', '.c[1] = "n"', '.c[5] = 0', '.c[-1] = 9', '.[0] = 1',
    '.a |= . + 1', '.a |= empty', '.c[0] |= empty', '.d |= del(.e)', '.missing |= 3', '.a += 1', '.a -= 1',
    '.a *= 2', '.a /= 2', '.a %= 2', '.b += "!"', '.c += [4]', '.d += {z: 1}', '.a //= 7', '.missing //= 7',
    '.d.f //= "dflt"', '.a += .a', '.q = .a | .q', '(.a | select(. != null)) |= 0', '.a? = 1', '.c[.a] = true',
    'del(.a)', 'del(.d.e)', 'del(.c[0])', 'del(.c[-1])', 'del(.missing.x)', 'del(.)', 'del(.c[9])', 'del(.a?)',
    'to_entries', '.d | to_entries', '.c | to_entries', 'to_entries | from_entries', '.d | with_entries(.value = 1)',
    '.d | with_entries(select(.value))', '[{key: .b, value: .a}] | from_entries', '[{name: "n", value: .a}] | from_entries',
    '[{key: .a}] | from_entries', '[] | from_entries',
    'keys', 'keys_unsorted', '.d | keys', '.c | keys', '.c | add', '.tags | add', '.items | map(.qty) | add',
    '.c | map(. + 1)?', '.d | map(.)', 'tojson', '.a | tojson', '.s | fromjson?', '"[1,{\\"a\\":2}]" | fromjson',
    'getpath(["d","e"])', 'getpath(["c",0])', 'setpath(["d","e"]; 1)', 'setpath(["n"]; .a)', '.a | floor',
    '.c | min', '.c | max', '[.a, .b] | min', '[.a, .b] | max', 'error("boom")', 'error({a: 1})', '(error("x"))? // 5',
    'if .a then "t" else "f" end', 'if .a == 1 then "one" elif .a == 2 then "two" else "many" end',
    'if .a then .b elif .c then .d else empty end', 'if .missing then 1 else .a end | . // "alt"',
    '.a as $x | {v: $x, w: .b}', '.a as $x | .b as $y | [$y, $x]', '.d as $d | $d.e', '. as $all | .a | $all.b',
    '.a // .b // "none"', '(.a // 0) + 1', '.d // {} | .e', '(. // {}) * {z: 1}', '(.d // {}) * {e: 9}',
    '.d * .d', 'null * {}', '{} * null', '.d * {e: {x: 1}}', '{a: {b: 1}} * {a: {c: 2}}', '.d * .c',
    '(.qty // 0) + 1', '{a: 1} | .a += 1 | .b = 2 | del(.a)', '.a = 1 // 2', '.a |= (. // 0) + 1',
]
for e in FOLD_EXPRS:
    out = subprocess.run(['jq', '-c', 'try (%s) catch empty' % e],
                         input=''.join(d + '\n' for d in DOCS), capture_output=True, text=True, env=jq_env)
    # Documents with 1e400: jq keeps the infinity inside and prints it clamped, so its
    # printed value does not compare equal to itself (the time builtins never meet one).
    values = [v for v in dict.fromkeys(out.stdout.split('\n')[:-1]) if '1.7976931348623157e+308' not in v]
    exprs.append('[(%s)?] == []' % e)
    exprs += ['(%s) == %s' % (e, v) for v in values]

# De-duplicate, keep order.
seen = set()
exprs = [e for e in exprs if not (e in seen or seen.add(e))]

docs_path = os.path.join(TMP, 'docs.jsonl')
with open(docs_path, 'w') as f:
    for d in DOCS:
        json.loads(d)  # every document is valid JSON
        f.write(d + '\n')
wrapped_path = os.path.join(TMP, 'wrapped.jsonl')
with open(wrapped_path, 'w') as f:
    for i, d in enumerate(DOCS):
        f.write('[%d,%s]\n' % (i, d))

# Debian 12's jq 1.6-2.1+deb12u1 rejects the bare literal `nan` in tonumber (a security
# update; deb12u2 accepts it again, as jq 1.6 does, and so does evt). With that jq, the
# expressions that use it are not comparable.
JQ_REJECTS_NAN = subprocess.run(['jq', '-n', '"nan" | tonumber'], capture_output=True).returncode != 0


def jq_one(e):
    """The documents jq selects with EXPR (one per output), or None where jq rejects it."""
    jq = subprocess.run(['jq', '-c', '.[0] as $__n | .[1] | select(%s) | $__n' % e, wrapped_path],
                        capture_output=True, text=True, env=jq_env)
    if jq.returncode not in (0, 5):
        print('SKIP (jq rejects): %s: %s' % (e, jq.stderr.strip()[:120]))
        return None
    return sorted(int(x) for x in jq.stdout.split())


def jq_many(chunk):
    """jq_one for many expressions in one jq run: each one's select in a try, so that an
    error ends only that expression's outputs for that document, as it ends a whole run's
    (jq goes on with the next document); a chunk jq rejects goes one by one."""
    prog = '.[0] as $__n | .[1] | ' + ', '.join(
        '(try (select(%s) | [%d, $__n]) catch empty)' % (e, k) for k, e in enumerate(chunk))
    jq = subprocess.run(['jq', '-c', prog, wrapped_path], capture_output=True, text=True, env=jq_env)
    if jq.returncode != 0:
        return [jq_one(e) for e in chunk]
    got = [[] for _ in chunk]
    for line in jq.stdout.split():
        k, n = json.loads(line)
        got[k].append(n)
    return [sorted(g) for g in got]


comparable = []
for e in exprs:
    if JQ_REJECTS_NAN and '"nan"' in e:
        print('SKIP (this jq rejects "nan" | tonumber, Debian 12 deb12u1): %s' % e)
        continue
    comparable.append(e)
wants = []
for i in range(0, len(comparable), 200):
    wants += jq_many(comparable[i:i + 200])

failures = 0
compared = 0
for e, want in zip(comparable, wants):
    if want is None:
        continue
    ev = subprocess.run([EVT, 'filter', '--', e, docs_path], capture_output=True)
    if ev.returncode != 0:
        failures += 1
        print('FAIL (evt exit %d): %s: %s' % (ev.returncode, e, ev.stderr.decode()[:300]))
        continue
    lines = ev.stdout.decode().splitlines()
    got = []
    used = set()
    for line in lines:
        idx = next(i for i, d in enumerate(DOCS) if d == line and i not in used)
        used.add(idx)
        got.append(idx)
    got.sort()
    compared += 1
    if got != want:
        failures += 1
        print('FAIL: %s\n  jq selects  %s\n  evt selects %s' % (e, want, got))
        diff = sorted(set(want) ^ set(got))
        for i in diff[:3]:
            print('    doc %d: %s' % (i, DOCS[i]))

print('%d expressions compared over %d documents, %d disagreements' % (compared, len(DOCS), failures))
sys.exit(1 if failures else 0)
