# evt filter and --where: every flag, error handling, and the differential test against jq.
source "$(dirname "$0")/lib.sh"
E=$EVT

# jq is the reference these tests compare with (scripts/deps.sh installs it). Without it the
# comparisons are skipped on a developer's machine; under CI they fail (see have in lib.sh).
HAVE_JQ=0
have_cmd jq && HAVE_JQ=1

# ---- differential test against jq (hundreds of expressions)
if [ "$HAVE_JQ" = 1 ] && have_cmd python3; then
  mkdir -p "$TMP/diff"
  if python3 "$(dirname "$0")/filter_jq.py" "$E" "$TMP/diff" >"$TMP/diff.out" 2>&1; then pass; else
    fail "evt filter disagrees with jq"; tail -20 "$TMP/diff.out" >&2
  fi
  tail -1 "$TMP/diff.out"
fi

# ---- evt filter: lines out unchanged, flags
printf '%s\n' '{"a":1, "b": "x"}' '' '{"a":2,"b":"y"}' 'not json' '{"a":3,"b":"x"}' '{"a":"s"}' >"$TMP/in.jsonl"
expect_exit 0 "$E" filter '.b == "x"' "$TMP/in.jsonl"
expect_eq "$(printf '%s\n' '{"a":1, "b": "x"}' '{"a":3,"b":"x"}')" "$(cat "$TMP/out")" "filter prints matching lines byte for byte"
expect_contains "$TMP/err" "1 line was not valid JSON"
expect_contains "$TMP/err" "in.jsonl:4"
expect_eq 2 "$("$E" filter -c '.b == "x"' "$TMP/in.jsonl" 2>/dev/null)" "filter --count"
expect_eq 2 "$("$E" filter --count '.b == "x"' "$TMP/in.jsonl" 2>/dev/null)" "filter --count (long)"
expect_eq '{"a":2,"b":"y"}' "$("$E" filter -v '.b == "x"' "$TMP/in.jsonl" 2>/dev/null | head -1)" "filter -v"
expect_eq 2 "$("$E" filter --invert -c '.b == "x"' "$TMP/in.jsonl" 2>/dev/null)" "filter --invert counts non-matching documents"
expect_eq 1 "$("$E" filter -n 1 '.a' "$TMP/in.jsonl" 2>/dev/null | wc -l)" "filter -n"
expect_eq 2 "$("$E" filter --limit 2 -c '.a' "$TMP/in.jsonl" 2>/dev/null)" "filter --limit with --count"
expect_exit 0 "$E" filter '.a == 100' "$TMP/in.jsonl"
expect_eq "" "$(cat "$TMP/out")" "no match: empty output, exit 0"
# Evaluation errors are counted, not printed per line.
expect_exit 0 "$E" filter '.a + 1 > 2' "$TMP/in.jsonl"
expect_contains "$TMP/err" "evaluation raised an error"
expect_contains "$TMP/err" "cannot be added"
# --strict: invalid JSON is an error with file:line, exit 1, after the lines before it.
expect_exit 1 "$E" filter --strict '.a' "$TMP/in.jsonl"
expect_contains "$TMP/err" "in.jsonl:4: not valid JSON"
expect_eq 2 "$(wc -l <"$TMP/out")" "--strict prints the selected lines before the bad one"
# stdin, compressed inputs, several files, threads
expect_eq 2 "$("$E" filter -c '.b == "x"' <"$TMP/in.jsonl" 2>/dev/null)" "filter reads stdin"
gzip -c "$TMP/in.jsonl" >"$TMP/in.jsonl.gz"
zstd -q -c "$TMP/in.jsonl" >"$TMP/in.jsonl.zst"
expect_eq 6 "$("$E" filter -c '.b == "x"' "$TMP/in.jsonl.gz" "$TMP/in.jsonl.zst" "$TMP/in.jsonl" 2>/dev/null)" "gz, zst and plain files"
"$E" gen --count 20000 --seed 5 -f value >"$TMP/vals.jsonl"
a=$("$E" filter -j 1 '.data.amount > 5000 and .type == "order.paid"' "$TMP/vals.jsonl" | md5sum)
b=$("$E" filter --threads 2 '.data.amount > 5000 and .type == "order.paid"' "$TMP/vals.jsonl" | md5sum)
c=$("$E" filter -j 4 '.data.amount > 5000 and .type == "order.paid"' <"$TMP/vals.jsonl" | md5sum)
expect_eq "$a" "$b" "parallel output keeps order (mmap)"
expect_eq "$a" "$c" "parallel output keeps order (stdin)"
if [ "$HAVE_JQ" = 1 ]; then
  d=$(jq -c 'select(.data.amount > 5000 and .type == "order.paid")' "$TMP/vals.jsonl" | md5sum)
  expect_eq "$d" "$a" "same lines as jq on gen output"
fi
# closed pipe: exit 0, no message
set +o pipefail
"$E" filter '.type' "$TMP/vals.jsonl" 2>"$TMP/pipe.err" | head -1 >/dev/null
rc=${PIPESTATUS[0]}
set -o pipefail
expect_eq 0 "$rc" "closed pipe exits 0"
expect_eq "" "$(cat "$TMP/pipe.err")" "closed pipe is quiet"

# ---- syntax and usage errors: exit 2, caret under the position
expect_exit 2 "$E" filter '.a == )' "$TMP/in.jsonl"
expect_contains "$TMP/err" "column 7"
expect_contains "$TMP/err" "      ^"
expect_exit 2 "$E" filter 'nosuch(1)' "$TMP/in.jsonl"
expect_contains "$TMP/err" "supported: test/1"
expect_exit 2 "$E" filter '.a | test("(?=x)")' "$TMP/in.jsonl"
expect_contains "$TMP/err" "not supported by RE2"
expect_exit 2 "$E" filter '.a | test("x"; "x")' "$TMP/in.jsonl"
expect_exit 2 "$E" filter '$key == "a"' "$TMP/in.jsonl"
expect_contains "$TMP/err" "only defined when filtering records"
expect_exit 2 "$E" filter '.[] == 1' "$TMP/in.jsonl"
expect_exit 2 "$E" filter '.a' "$TMP/nope.jsonl"

# ---- --where on cat, dump, inspect
"$E" gen --count 300 --keys 10 --seed 9 --start 2024-01-01T00:00:00Z | "$E" write --compression none "$TMP/w/events-0"
printf '%s\n' \
  '{"topic":"events","partition":0,"offset":-1,"timestamp":1,"key":"{\"id\":7}","value":"plain text","headers":[{"key":"trace","value":"t-1"},{"key":"content-type","value":"text/plain"},{"key":"nul","value":null}]}' \
  | "$E" write "$TMP/w/events-0"
W="$TMP/w/events-0"
n_paid=$("$E" cat "$W" --where '.type == "order.paid"' | wc -l)
[ "$n_paid" -gt 0 ] && pass || fail "cat --where on the value selected nothing"
if [ "$HAVE_JQ" = 1 ]; then
  expect_eq "$("$E" cat "$W" | jq -c 'select(.value.type? == "order.paid")' | wc -l)" "$n_paid" "cat --where on the value (jq)"
fi
expect_eq "$n_paid" "$("$E" cat "$W" -w '.type == "order.paid"' | wc -l)" "cat -w"
expect_eq 0 "$("$E" cat "$W" --where '.type == "order.paid"' --where '.type == "order.created"' | wc -l)" "--where is ANDed"
expect_eq "100 101 102" "$("$E" cat "$W" --where '$offset >= 100 and $offset < 103' -f '%o\n' | paste -sd' ')" "\$offset"
expect_eq 300 "$("$E" cat "$W" --where '$offset == 300' -f '%o\n')" "appended record offset"
expect_eq 300 "$("$E" cat "$W" --where '$headers.trace == "t-1"' -f '%o\n')" "\$headers.trace"
expect_eq 300 "$("$E" cat "$W" --where '$headers["content-type"] == "text/plain"' -f '%o\n')" "\$headers[\"content-type\"]"
expect_eq 300 "$("$E" cat "$W" --where '$headers | has("nul") and .nul == null' -f '%o\n')" "\$headers null value"
expect_eq 300 "$("$E" cat "$W" --where '$key.id == 7' -f '%o\n')" "\$key embedded JSON"
expect_eq 300 "$("$E" cat "$W" --where '$timestamp == 1' -f '%o\n')" "\$timestamp"
expect_eq 301 "$("$E" cat "$W" --where '$topic == "events" and $partition == 0' | wc -l)" "\$topic \$partition"
expect_eq 300 "$("$E" cat "$W" --where '. == null' -f '%o\n')" "a value that is not JSON is null"
if [ "$HAVE_JQ" = 1 ]; then
  expect_eq "$("$E" cat "$W" --where '$key == "key-3"' | wc -l)" "$("$E" cat "$W" | jq -c 'select(.key == "key-3")' | wc -l)" "\$key string"
fi
expect_exit 1 "$E" cat "$W" --where '.type == "x"' --strict
expect_contains "$TMP/err" "not valid JSON"
expect_exit 2 "$E" cat "$W" --where '.type =='
expect_contains "$TMP/err" "^"
expect_exit 0 "$E" cat "$W" --where '.data.amount + "x"'
expect_contains "$TMP/err" "evaluation raised an error"
if [ "$HAVE_JQ" = 1 ]; then
  expect_eq "$n_paid" "$("$E" inspect --json "$W" --where '.type == "order.paid"' | jq .total.records)" "inspect --where counts"
  expect_eq "$n_paid" "$("$E" dump --json "$W" --where '.type == "order.paid"' | jq '.records | length' | awk '{s+=$1} END {print s}')" "dump --where"
fi
expect_eq 0 "$("$E" dump --json "$W" --where '$offset < 0' | wc -l)" "dump --where hides batches without matches"
expect_eq 5 "$("$E" cat "$W" --where '.type == "order.paid"' -n 5 | wc -l)" "--where with --limit"

# ---- time builtins: now against the clock; dates with --where; errors are counted
printf '{}\n' >"$TMP/one.jsonl"
d=$(date +%s)
expect_eq 1 "$("$E" filter -c "now > $d - 5 and now < $d + 5" "$TMP/one.jsonl")" "now is within seconds of date +%s"
expect_eq 1 "$("$E" filter -c "(now | todate) >= \"$(date -u -d @"$d" +%Y-%m-%dT%H:%M:%SZ)\"" "$TMP/one.jsonl")" "now | todate"
since='$timestamp/1000 > ("2024-01-01T00:02:00Z" | fromdate)'
n_jq=$("$E" cat "$W" | jq -c 'select(.timestamp/1000 > ("2024-01-01T00:02:00Z" | fromdate))' | wc -l)
[ "$n_jq" -gt 0 ] && [ "$n_jq" -lt 301 ] && pass || fail "the time bound should split the records ($n_jq)"
expect_eq "$n_jq" "$("$E" cat "$W" --where "$since" | wc -l)" "--where with fromdate, as jq counts"
expect_eq "$n_jq" "$("$E" inspect --json "$W" --where "$since" | jq .total.records)" "inspect --where with fromdate"
ms=$("$E" cat "$W" -n 1 -f '%T')
iso=$(date -u -d @$((ms / 1000)) +%Y-%m-%dT%H:%M:%S)
expect_eq 1 "$("$E" cat "$W" --where "(\$timestamp/1000 | todate) == \"${iso}Z\"" | wc -l)" "todate on \$timestamp"
expect_exit 0 "$E" cat "$W" --where '.type | fromdate'
expect_eq "" "$(cat "$TMP/out")" "a string that is not a date selects nothing"
expect_contains "$TMP/err" "records were not selected because evaluation raised an error"
expect_contains "$TMP/err" "does not match format"
expect_exit 2 "$E" cat "$W" --where '$timestamp | strftime("%A")'
expect_contains "$TMP/err" "directive '%A' is not supported"
# %T{iso}: the timestamp as RFC 3339 UTC with milliseconds
expect_eq "$iso.$(printf %03d $((ms % 1000)))Z" "$("$E" cat "$W" -n 1 -f '%T{iso}')" "cat -f %T{iso}"
expect_eq "1 1970-01-01T00:00:00.001Z" "$("$E" cat "$W" --where '$offset == 300' -f '%T %T{iso}\n')" "%T{iso} of 1 ms"
expect_exit 2 "$E" cat "$W" -f '%T{local}'
expect_contains "$TMP/err" "%T{iso}"
finish
