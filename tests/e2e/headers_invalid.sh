# --keep-header/--drop-header (replay, write, backfill) and evt write's invalid lines: the
# wording of the errors and --on-invalid error|skip|dead-letter:FILE.
source "$(dirname "$0")/lib.sh"
E=$EVT
py=/usr/bin/python3
SB=
stop_sandbox() { if [ -n "$SB" ]; then kill -INT "$SB" 2>/dev/null || true; wait "$SB" 2>/dev/null || true; SB=; fi; }
trap 'stop_sandbox; rm -rf "$TMP"' EXIT
run() { "$@" || fail "exit $?: $*"; }  # a step whose output later checks read
# expect_says CODE TEXT CMD...: one check that CMD exits CODE and says TEXT on stderr
expect_says() {
  local want=$1 text=$2 got=0
  shift 2
  "$@" >"$TMP/out" 2>"$TMP/err" || got=$?
  if [ "$got" = "$want" ] && grep -qF -- "$text" "$TMP/err"; then
    pass
  else
    fail "expected exit $want saying [$text], got $got: $*"; sed 's/^/  stderr: /' "$TMP/err" | head -3 >&2
  fi
}

# hdrs FILE: per record of an envelope JSON Lines file, its header keys=values in order
hdrs() { jq -c '[.headers[] | "\(.key)=\(.value)"]' "$1"; }

# Dead letters as Kafka Connect writes them, with the application's own headers around the
# error headers (order and a duplicate key kept).
cat >"$TMP/dlq.jsonl" <<'EOF'
{"topic":"orders.dlq","partition":0,"offset":0,"timestamp":1704067200000,"key":"k1","value":{"n":1},"headers":[{"key":"trace-id","value":"t1"},{"key":"__connect.errors.topic","value":"orders"},{"key":"__connect.errors.exception.message","value":"boom"},{"key":"content-type","value":"json"},{"key":"trace-id","value":"t1b"}]}
{"topic":"orders.dlq","partition":0,"offset":1,"timestamp":1704067201000,"key":"k2","value":{"n":2},"headers":[]}
{"topic":"orders.dlq","partition":0,"offset":2,"timestamp":1704067202000,"key":"k3","value":{"n":3},"headers":[{"key":"__connect.errors.offset","value":"7"},{"key":"x-a","value":"1"},{"key":"x-b","value":null},{"key":"x-bb","value":"2"}]}
EOF
NO_CONNECT='["trace-id=t1","content-type=json","trace-id=t1b"]
[]
["x-a=1","x-b=null","x-bb=2"]'

# ---- replay --drop-header / --keep-header ----
run "$E" replay "$TMP/dlq.jsonl" "$TMP/r0.jsonl" 2>/dev/null  # every header, for the write checks below
run "$E" replay "$TMP/dlq.jsonl" "$TMP/r1.jsonl" --drop-header '__connect.errors.*' 2>"$TMP/err"
expect_eq "$NO_CONNECT" "$(hdrs "$TMP/r1.jsonl")" "replay --drop-header '__connect.errors.*'"
expect_eq '[{"n":1},{"n":2},{"n":3}]' "$(jq -c -s 'map(.value)' "$TMP/r1.jsonl")" "replay --drop-header keeps values"
# repeatable, before the positional arguments (CLI11 must not take SRC/DST as glob values)
run "$E" replay --keep-header 'trace-*' --keep-header 'x-?' --drop-header x-b "$TMP/dlq.jsonl" "$TMP/r2.jsonl" 2>"$TMP/err"
expect_eq '["trace-id=t1","trace-id=t1b"]
[]
["x-a=1"]' "$(hdrs "$TMP/r2.jsonl")" "replay --keep-header twice, then --drop-header"
# [...] and ? globs; a segment destination; the headers --provenance adds are never removed
run "$E" replay "$TMP/dlq.jsonl" "$TMP/rseg" --drop-header '*' --provenance 2>/dev/null
expect_eq '["evt.source","evt.replay.id"]' "$("$E" cat "$TMP/rseg" -n 1 | jq -c '[.headers[].key]')" "--provenance headers survive --drop-header '*'"
run "$E" replay "$TMP/dlq.jsonl" - --drop-header 'x-[ab]' --drop-header '???????-type' 2>/dev/null >"$TMP/r3.jsonl"
expect_eq '["trace-id=t1","__connect.errors.topic=orders","__connect.errors.exception.message=boom","trace-id=t1b"]
[]
["__connect.errors.offset=7","x-bb=2"]' "$(hdrs "$TMP/r3.jsonl")" "replay --drop-header with [...] and ?"
# --where sees the headers as read
run "$E" replay "$TMP/dlq.jsonl" - --where '$headers["__connect.errors.topic"] == "orders"' --drop-header '__connect.*' \
  2>/dev/null >"$TMP/r4.jsonl"
expect_eq '["trace-id=t1","content-type=json","trace-id=t1b"]' "$(hdrs "$TMP/r4.jsonl")" "--where before --drop-header"
# bad globs are usage errors
expect_says 2 "evt: error: --drop-header: empty glob" "$E" replay "$TMP/dlq.jsonl" "$TMP/bad.jsonl" --drop-header ''
expect_says 2 "evt: error: --keep-header: 'x\\' ends in a lone '\\'" \
  "$E" replay "$TMP/dlq.jsonl" "$TMP/bad.jsonl" --keep-header 'x\'
# the header flags are part of a checkpoint's job: a rerun with other ones is refused
run "$E" replay "$TMP/dlq.jsonl" "$TMP/ck.jsonl" --checkpoint "$TMP/ck" --drop-header 'x-*' 2>/dev/null
expect_says 2 "belongs to a replay with other" \
  "$E" replay "$TMP/dlq.jsonl" "$TMP/ck.jsonl" --checkpoint "$TMP/ck" --drop-header 'y-*'
expect_says 0 "is complete" "$E" replay "$TMP/dlq.jsonl" "$TMP/ck.jsonl" --checkpoint "$TMP/ck" --drop-header 'x-*'

# ---- write --drop-header / --keep-header: JSON Lines and segment inputs ----
run "$E" write "$TMP/w/orders-0" --in "$TMP/dlq.jsonl" --drop-header '__connect.errors.*' 2>/dev/null
expect_eq "$NO_CONNECT" "$("$E" cat "$TMP/w/orders-0" | jq -c '[.headers[] | "\(.key)=\(.value)"]')" "write --drop-header"
run "$E" write "$TMP/w0/orders-0" --in "$TMP/dlq.jsonl" 2>/dev/null
run "$E" write --keep-header '__connect.errors.*' "$TMP/w2/orders-0" --in "$TMP/w0/orders-0" 2>/dev/null
run "$E" write --keep-header '__connect.errors.*' --keep-header content-type "$TMP/w3/orders-0" <"$TMP/r0.jsonl" 2>/dev/null
expect_eq '["__connect.errors.topic","__connect.errors.exception.message"]
[]
["__connect.errors.offset"]' "$("$E" cat "$TMP/w2/orders-0" | jq -c '[.headers[].key]')" "write --keep-header from a segment input"
expect_eq '["__connect.errors.topic","__connect.errors.exception.message","content-type"]
[]
["__connect.errors.offset"]' "$("$E" cat "$TMP/w3/orders-0" | jq -c '[.headers[].key]')" "write --keep-header from stdin"

# ---- backfill: workers and dead letters get the filtered headers ----
run "$E" backfill "$TMP/dlq.jsonl" --drop-header '__connect.errors.*' --exec "cat >> $TMP/seen.jsonl" 2>/dev/null
expect_eq "$NO_CONNECT" "$(hdrs "$TMP/seen.jsonl")" "backfill --drop-header: what --exec reads"
expect_exit 1 "$E" backfill "$TMP/dlq.jsonl" --keep-header 'trace-*' --exec 'exit 3' --retries 0 --backoff 1ms..1ms \
  --dead-letter "$TMP/bdl.jsonl"  # dead letters: exit 1
expect_eq '["trace-id","trace-id","__connect.errors.topic","__connect.errors.partition","__connect.errors.offset","__connect.errors.exception.message","__connect.errors.exception.class.name","evt.dlq.attempts","evt.dlq.time"]' \
  "$(jq -c 'select(.key == "k1") | [.headers[].key]' "$TMP/bdl.jsonl")" "backfill --keep-header: dead letter headers"

# ---- evt write: invalid lines say what is wrong, in words, at file:line ----
check_err() {  # check_err WANT WHAT LINE...: evt write of these lines on stdin exits 1, stderr WANT
  local want=$1 what=$2 got=0
  shift 2
  printf '%s\n' "$@" | "$E" write "$TMP/inv/t-0" 2>"$TMP/werr" >/dev/null || got=$?
  expect_eq "1|$want" "$got|$(cat "$TMP/werr")" "$what"
}
# (the records before the bad line are written, as before: nothing decoded is dropped)
rc=0; printf '%s\n' '{"value":"a"}' '{"value":"b"}' 'hello world' | "$E" write "$TMP/first/t-0" 2>"$TMP/err" || rc=$?
expect_eq '1|evt: error: <stdin>:3: not JSON (use --input lines for raw text)|2' \
  "$rc|$(cat "$TMP/err")|$("$E" cat "$TMP/first/t-0" 2>/dev/null | wc -l)" "plain text"
check_err 'evt: error: <stdin>:1: not JSON at column 11: unexpected '"'tru}'"' (use --input lines for raw text)' \
  "broken JSON" '{"value": tru}'
check_err 'evt: error: <stdin>:1: not JSON: the line ends before the JSON does (is a quote or bracket missing?) (use --input lines for raw text)' \
  "unclosed string" '{"value":"a'
check_err 'evt: error: <stdin>:1: a JSON array, not an envelope (an envelope is an object such as {"key":"k","value":"v"}); use --input values to write each line as a value' \
  "an array" '[1,2]'
check_err 'evt: error: <stdin>:2: a JSON string, not an envelope (an envelope is an object such as {"key":"k","value":"v"}); use --input values to write each line as a value' \
  "a string" '{"value":1}' '"just a string"'
check_err 'evt: error: <stdin>:1: partition must be an integer, not "x"' "partition type" '{"partition":"x","value":1}'
check_err 'evt: error: <stdin>:1: partition must be between 0 and 2147483647 (or -1: unknown), not 4294967296' \
  "partition range" '{"partition":4294967296}'
check_err 'evt: error: <stdin>:1: offset must be an integer, not 1.5' "offset type" '{"offset":1.5}'
check_err 'evt: error: <stdin>:1: topic must be a string, not an object' "topic type" '{"topic":{"a":1}}'
check_err 'evt: error: <stdin>:1: timestamp must be milliseconds since the epoch (an integer) or an RFC 3339 string, not true' \
  "timestamp type" '{"timestamp":true}'
check_err 'evt: error: <stdin>:1: headers must be an array of {"key":..,"value":..} objects, not an object' \
  "headers type" '{"headers":{"a":"b"}}'
check_err 'evt: error: <stdin>:1: headers[1].value must be a string or null, not 5' \
  "header value type" '{"headers":[{"key":"a","value":"b"},{"key":"c","value":5}]}'
check_err 'evt: error: <stdin>:1: headers[0] has no "key" (or "key_base64")' "header key" '{"headers":[{"value":"b"}]}'
check_err 'evt: error: <stdin>:1: value_base64 is not valid base64: "!!"' "base64" '{"value_base64":"!!"}'
# --input values: a line that is not one JSON value
rc=0; printf '{"a":1}\nnope\n' | "$E" write --input values "$TMP/vals/t-0" 2>"$TMP/err" || rc=$?
expect_eq '1|evt: error: <stdin>:2: not JSON (use --input lines for raw text)' "$rc|$(cat "$TMP/err")" "--input values wording"
# other readers name the problem without a hint for a flag they do not have
printf '{"value":1}\nhello\n' >"$TMP/bad.jsonl"
expect_says 1 "evt: error: $TMP/bad.jsonl:2: not JSON" "$E" cat "$TMP/bad.jsonl"
expect_eq "evt: error: $TMP/bad.jsonl:2: not JSON" "$(cat "$TMP/err")" "cat wording: no hint for a flag cat lacks"

# ---- --on-invalid skip ----
mixed() {
  printf '%s\n' '{"key":"a","value":1}' 'hello' '{"key":"b","value":2}' '' '[1]' '{"key":"c","partition":"x"}' \
    '{"key":"d","value":4}'
}
rc=0; mixed | "$E" write --on-invalid skip "$TMP/skip2/t-0" 2>"$TMP/err" >/dev/null || rc=$?
expect_eq 1 "$rc" "--on-invalid skip exits 1"
expect_eq 'evt: warning: <stdin>:2: skipped: not JSON (use --input lines for raw text)
evt: warning: <stdin>:5: skipped: a JSON array, not an envelope (an envelope is an object such as {"key":"k","value":"v"}); use --input values to write each line as a value
evt: warning: <stdin>:6: skipped: partition must be an integer, not "x"
evt: wrote 3 records, 3 acknowledged, to '"$TMP/skip2/t-0"'
evt: 3 invalid lines skipped' "$(cat "$TMP/err")" "--on-invalid skip warnings and summary"
expect_eq "a b d" "$("$E" cat "$TMP/skip2/t-0" | jq -r .key | tr '\n' ' ' | sed 's/ $//')" "--on-invalid skip writes the valid records"
# all valid: exit 0, no summary; the one-value option before DST does not swallow it
rc=0; printf '{"value":1}\n' | "$E" write --on-invalid skip "$TMP/ok/t-0" 2>"$TMP/err" || rc=$?
expect_eq "0|evt: wrote 1 record, 1 acknowledged, to $TMP/ok/t-0" "$rc|$(cat "$TMP/err")" "--on-invalid skip with nothing invalid"
# --input values and --key-field lines are invalid lines too
rc=0; printf '{"id":1}\nnope\n{"id":3}\n' | "$E" write --input values --key-field .id --on-invalid skip "$TMP/kv/t-0" 2>"$TMP/err" || rc=$?
expect_eq "1|1 3" "$rc|$("$E" cat "$TMP/kv/t-0" | jq -r .key | tr '\n' ' ' | sed 's/ $//')" "--input values --on-invalid skip"
expect_contains "$TMP/err" '<stdin>:2: skipped: not JSON'
rc=0; printf 'plain\n{"id":2}\n' | "$E" write --input lines --key-field .id --on-invalid skip "$TMP/kl/t-0" 2>"$TMP/err" || rc=$?
expect_eq "1|2" "$rc|$("$E" cat "$TMP/kl/t-0" | jq -r .key)" "--input lines --key-field --on-invalid skip"
expect_contains "$TMP/err" '<stdin>:1: skipped: not JSON, so --key-field .id has nothing to read'

# ---- --on-invalid dead-letter:FILE ----
# lines with quotes, backslashes, a tab, a control byte and bytes that are not UTF-8
printf '%s\n' '{"value":"ok1"}' 'say "hi" \ there' >"$TMP/dl_in.jsonl"
printf 'tab\there\001\n' >>"$TMP/dl_in.jsonl"
printf '\xff\xfe not utf-8\n' >>"$TMP/dl_in.jsonl"
printf '%s\n' '{"value":"ok2"}' '{"value":"x","offset":"7"}' >>"$TMP/dl_in.jsonl"
rc=0; "$E" write --in "$TMP/dl_in.jsonl" --on-invalid "dead-letter:$TMP/dead.jsonl" "$TMP/dl/t-0" 2>"$TMP/err" || rc=$?
expect_eq 1 "$rc" "--on-invalid dead-letter exits 1"
expect_eq "evt: wrote 2 records, 2 acknowledged, to $TMP/dl/t-0
evt: 4 invalid lines written to $TMP/dead.jsonl" "$(cat "$TMP/err")" "--on-invalid dead-letter summary, no warnings"
expect_eq "ok1 ok2" "$("$E" cat "$TMP/dl/t-0" | jq -r .value | tr '\n' ' ' | sed 's/ $//')" "--on-invalid dead-letter writes the valid records"
$py - "$TMP/dead.jsonl" "$TMP/dl_in.jsonl" <<'PY' && pass || fail "dead-letter file: file, line, error, raw"
import base64, json, sys
dead = [json.loads(l) for l in open(sys.argv[1], "rb")]
raw = open(sys.argv[2], "rb").read().split(b"\n")
assert [d["line"] for d in dead] == [2, 3, 4, 6], dead
assert all(d["file"] == sys.argv[2] and set(d) <= {"file", "line", "error", "raw", "raw_base64"} for d in dead), dead
for d in dead:
    got = base64.b64decode(d["raw_base64"]) if "raw_base64" in d else d["raw"].encode()
    assert got == raw[d["line"] - 1], (d, raw[d["line"] - 1])
assert "raw_base64" in dead[2] and "raw" in dead[0], dead
assert dead[0]["error"] == "not JSON (use --input lines for raw text)", dead[0]
assert dead[2]["error"] == "not JSON (not valid UTF-8) (use --input lines for raw text)", dead[2]
assert dead[3]["error"] == 'offset must be an integer, not "7"', dead[3]
PY
# a second run appends
"$E" write --in "$TMP/dl_in.jsonl" --on-invalid "dead-letter:$TMP/dead.jsonl" "$TMP/dl/t-0" 2>/dev/null || true
expect_eq 8 "$(wc -l <"$TMP/dead.jsonl")" "--on-invalid dead-letter appends"
# ---- --on-invalid usage ----
expect_says 2 "evt: error: --on-invalid: expected error, skip or dead-letter:FILE, got 'bogus'" \
  "$E" write --on-invalid bogus "$TMP/u/t-0"
expect_says 2 "evt: error: --on-invalid dead-letter needs a file, joined with ':': --on-invalid dead-letter:FILE" \
  "$E" write --on-invalid dead-letter "$TMP/u/t-0"
expect_says 2 "evt: error: --on-invalid dead-letter needs a file" "$E" write --on-invalid dead-letter: "$TMP/u/t-0"
# (and a usage error creates no dead-letter file)
rc=0; "$E" write --on-invalid "dead-letter:$TMP/u.jsonl" --in "$TMP/w/orders-0" "$TMP/u2/t-0" 2>"$TMP/err" || rc=$?
expect_eq "2|1|absent" "$rc|$(grep -c 'evt: error: --on-invalid is for JSON Lines input' "$TMP/err")|$(
  [ -e "$TMP/u.jsonl" ] || [ -e "$TMP/u2" ] && echo present || echo absent)" "--on-invalid with segment inputs"
# an unwritable dead-letter file is found before any record moves
rc=0; printf '{"value":1}\nbad\n' | "$E" write --on-invalid "dead-letter:$TMP/no/such/dir/d.jsonl" "$TMP/u3/t-0" 2>"$TMP/err" || rc=$?
expect_eq "2|1|absent" "$rc|$(grep -c 'no/such/dir/d.jsonl: cannot' "$TMP/err")|$([ -e "$TMP/u3" ] && echo present || echo absent)" \
  "--on-invalid dead-letter: an unwritable file"
# ---- Kafka (the sandbox, checked with kcat) ----
if command -v kcat >/dev/null; then
  "$E" sandbox --topics orders:1,back:1 >"$TMP/addr" 2>"$TMP/sb.err" &
  SB=$!
  for _ in $(seq 100); do [ -s "$TMP/addr" ] && break; sleep 0.1; done
  B=$(head -1 "$TMP/addr")
  rc=0; mixed | "$E" write "kafka://$B/orders" --on-invalid skip --partition 0 2>"$TMP/err" || rc=$?
  expect_eq 1 "$rc" "write to Kafka --on-invalid skip exits 1"
  expect_contains "$TMP/err" "evt: 3 invalid lines skipped"
  expect_eq "a b d" "$(kcat -C -b "$B" -t orders -e -q -f '%k\n' 2>/dev/null | tr '\n' ' ' | sed 's/ $//')" "Kafka: the valid records"
  # the issue's example: dead letters back to their topic without the error headers
  run "$E" replay "$TMP/dlq.jsonl" "kafka://$B/back" --drop-header '__connect.errors.*' 2>/dev/null
  expect_eq "trace-id=t1,content-type=json,trace-id=t1b||x-a=1,x-b=NULL,x-bb=2" \
    "$(kcat -C -b "$B" -t back -e -q -f '%h\n' 2>/dev/null | tr '\n' '|' | sed 's/|$//')" "replay to Kafka --drop-header (kcat)"
  stop_sandbox
else
  echo "note: kcat missing, Kafka checks skipped" >&2
fi
finish
