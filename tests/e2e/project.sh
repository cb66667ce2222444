# evt project: folds against jq (project_jq.py), SQLite output read by the sqlite3 CLI,
# --columns/--index, JSON Lines and CSV outputs, atomic replacement, --incremental (and a
# kill -9 loop against a full build, compared with sqlite3 dumps), definition changes,
# foreign databases, --max-memory spills, --on-error, --at/--time-field, --dry-run.
source "$(dirname "$0")/lib.sh"
E=$EVT
py=/usr/bin/python3
require_cmd jq
require_cmd sqlite3

# ---- differential folds against jq ----
if $py "$(dirname "$0")/project_jq.py" "$E" "$TMP" >"$TMP/diff.out" 2>&1; then pass; else
  fail "project_jq.py disagreements:"; grep -E 'FAIL|compared' "$TMP/diff.out" | head -20 >&2
fi
tail -1 "$TMP/diff.out" >&2

# ---- a segment source: 3 partitions, 20k CloudEvents-like records, 300 keys ----
"$E" gen --count 20000 --partitions 3 --keys 300 --seed 5 --value-size 120 --segment-bytes 200000 --output "$TMP/src" \
  >/dev/null 2>&1
"$E" cat "$TMP/src" -f '%v\n' | head -1 | jq -e '.type and .data' >/dev/null && pass || fail "gen values are not CloudEvents-like"

dump() { sqlite3 "$1" '.mode list' 'SELECT key, value, topic, partition, "offset", timestamp, updates FROM state ORDER BY key'; }

# ---- SQLite output, read with the sqlite3 CLI ----
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/full.db" --reduce merge --columns 'type=.type:text,seq=.data.seq:integer' \
  --columns 'data=.data:json' --index type
expect_eq 300 "$(sqlite3 "$TMP/full.db" 'SELECT count(*) FROM state')" "one row per key"
expect_eq "$(sqlite3 "$TMP/full.db" "SELECT count(*) FROM state WHERE type = json_extract(value, '$.type')")" 300 "--columns type"
expect_eq integer "$(sqlite3 "$TMP/full.db" 'SELECT DISTINCT typeof(seq) FROM state' | sort -u | head -1)" "--columns :integer"
sqlite3 "$TMP/full.db" "SELECT name FROM sqlite_master WHERE type='index'" | grep -q state_type && pass || fail "--index type"
sqlite3 "$TMP/full.db" "EXPLAIN QUERY PLAN SELECT key FROM state WHERE type = 'order.paid'" | grep -q 'USING INDEX state_type' \
  && pass || fail "the index is used"
expect_eq evt-project-1 "$(sqlite3 "$TMP/full.db" "SELECT value FROM evt_meta WHERE name='format'")" "evt_meta format"
sqlite3 "$TMP/full.db" "SELECT value FROM evt_meta WHERE name='positions'" | jq -e 'length == 3 and all(.[]; .next_offset > 0)' \
  >/dev/null && pass || fail "evt_meta positions"
expect_eq 20000 "$(sqlite3 "$TMP/full.db" 'SELECT sum(updates) FROM state')" "updates count every record"
# The value is the last record's (merge of CloudEvents with the same fields): compare with cat.
"$E" cat "$TMP/src" -f '%k\t%p\t%o\n' | sort -t$'\t' -k1,1 -k3,3n | awk -F'\t' '{last[$1]=$2"|"$3} END{for(k in last) print k"|"last[k]}' \
  | sort >"$TMP/want.last"
sqlite3 "$TMP/full.db" 'SELECT key || "|" || partition || "|" || "offset" FROM state' | sort >"$TMP/got.last"
cmp -s "$TMP/want.last" "$TMP/got.last" && pass || fail "topic/partition/offset of the last change"
[ ! -e "$TMP/full.db.evt-tmp" ] && pass || fail "temporary file left"

# ---- JSON Lines and CSV ----
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/full.jsonl" --reduce merge
expect_eq 300 "$(wc -l <"$TMP/full.jsonl")" "JSON Lines: one line per key"
sqlite3 "$TMP/full.db" '.mode list' 'SELECT key || " " || value FROM state ORDER BY key' >"$TMP/a"
jq -rc '.key + " " + (.state | tojson)' "$TMP/full.jsonl" >"$TMP/b"
cmp -s "$TMP/a" "$TMP/b" && pass || fail "JSON Lines states equal SQLite's"
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/full.csv" --reduce count --columns 'n=.'
expect_eq "key,n" "$(head -1 "$TMP/full.csv")" "CSV header"
expect_eq 20000 "$(tail -n +2 "$TMP/full.csv" | awk -F, '{s+=$2} END{print s}')" "CSV: counts add up"
"$E" project "$TMP/src" --into - --reduce count --format csv >"$TMP/stdout.csv" 2>/dev/null
expect_eq "key,state,topic,partition,offset,timestamp,updates" "$(head -1 "$TMP/stdout.csv")" "CSV without --columns"

# ---- bounded memory: a tiny --max-memory spills to SQLite and gives the same answer ----
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/spill.jsonl" --reduce merge --max-memory 4K --stats-json "$TMP/spill.stats"
cmp -s "$TMP/full.jsonl" "$TMP/spill.jsonl" && pass || fail "JSON Lines through the spill file differ"
jq -e '.spilled == true' "$TMP/spill.stats" >/dev/null && pass || fail "--max-memory 4K did not spill"
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/spill.db" --reduce merge --max-memory 4K --commit-records 500
cmp -s <(dump "$TMP/full.db") <(dump "$TMP/spill.db") && pass || fail "SQLite with a 4K cache differs"
ls "$TMP"/.evt-project-* >/dev/null 2>&1 && fail "spill file left behind" || pass

# ---- a failing build leaves OUT untouched; --on-error skip ----
cp "$TMP/full.db" "$TMP/keep.db"
sum0=$(md5sum <"$TMP/keep.db")
expect_exit 1 "$E" project "$TMP/src" --into "$TMP/keep.db" --reduce '.x = ($event.data.seq | if . % 977 == 5 then error("bad seq") else . end)'
expect_contains "$TMP/err" "bad seq"
grep -qE 'events/[0-9]+/[0-9]+|@[0-9]+' "$TMP/err" && pass || fail "the error names the record"
expect_eq "$sum0" "$(md5sum <"$TMP/keep.db")" "a failed build left OUT untouched"
expect_exit 1 "$E" project "$TMP/src" --into "$TMP/skip.jsonl" --on-error skip \
  --reduce 'if ($event.data.seq % 977) == 5 then error("bad seq") else $event end' --stats-json "$TMP/skip.stats"
[ -s "$TMP/skip.jsonl" ] && pass || fail "--on-error skip wrote no output"
expect_eq "$(($(jq -r '.folded' "$TMP/skip.stats") + $(jq -r '.errors' "$TMP/skip.stats")))" 20000 "--on-error skip counts"
# --on-error dead-letter: the failing records go to --dead-letter with the error in
# Connect's headers (what `evt dlq` reads), the others are folded, exit 1.
expect_exit 1 "$E" project "$TMP/src" --into "$TMP/dl.jsonl" --dead-letter "$TMP/dl-out.jsonl" \
  --reduce 'if ($event.data.seq % 977) == 5 then error("bad seq") else $event end' --stats-json "$TMP/dl.stats"
expect_contains "$TMP/err" "went to $TMP/dl-out.jsonl"
dl=$(wc -l <"$TMP/dl-out.jsonl")
expect_eq "$(jq -r '.errors' "$TMP/skip.stats")" "$dl" "--on-error dead-letter wrote each failing record once"
expect_eq "$(jq -r '.dead_lettered' "$TMP/dl.stats")" "$dl" "stats count the dead letters"
expect_eq "$(($(jq -r '.folded' "$TMP/dl.stats") + dl))" 20000 "folded + dead letters = every record"
cmp -s "$TMP/skip.jsonl" "$TMP/dl.jsonl" && pass || fail "dead-letter mode folds what skip mode folds"
jq -e -s 'all(.[]; (.headers | map(select(.key == "__connect.errors.exception.message"))[0].value | test("bad seq"))
              and (.headers | map(select(.key == "__connect.errors.exception.class.name"))[0].value == "evt.project.ReduceError")
              and (.value | if type == "string" then fromjson else . end | .data.seq % 977 == 5))' "$TMP/dl-out.jsonl" >/dev/null \
  && pass || fail "dead letters carry the record and its error"
"$E" dlq summary "$TMP/dl-out.jsonl" --format json >"$TMP/dl.summary"
expect_eq "$(jq -s 'map(.count) | add' "$TMP/dl.summary")" "$dl" "evt dlq summary reads project's dead letters"
jq -e -s '.[0].class == "evt.project.ReduceError"' "$TMP/dl.summary" >/dev/null && pass \
  || fail "summary groups them by project's error class: $(head -c 300 "$TMP/dl.summary")"
# A --key error is a KeyError; --dead-letter without --on-error implies it; stop/skip with it is a usage error.
expect_exit 1 "$E" project "$TMP/src" --into "$TMP/dk.jsonl" --dead-letter "$TMP/dk-out" \
  --key 'if (.data.seq % 977) == 5 then error("no key") else .subject end'
expect_eq "$("$E" cat "$TMP/dk-out" | jq -r '.headers[] | select(.key == "__connect.errors.exception.class.name") | .value' \
  | sort -u)" "evt.project.KeyError" "a --key failure in a segment-directory dead letter"
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/x.jsonl" --on-error skip --dead-letter "$TMP/x-dl.jsonl"
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/x.jsonl" --on-error dead-letter
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/x.jsonl" --dead-letter -
[ ! -e "$TMP/x.jsonl" ] && [ ! -e "$TMP/x-dl.jsonl" ] && pass || fail "a usage error wrote something"
# ---- --pipe / --exec: the fold step done by a program (jq here, as a worker) ----
"$E" project "$TMP/src" --reduce '(. // {}) * $event' --into "$TMP/pw-want.jsonl" 2>/dev/null
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/pw.jsonl" --pipe "jq -c --unbuffered '(.state // {}) * .event.value'"
cmp -s "$TMP/pw-want.jsonl" "$TMP/pw.jsonl" && pass || fail "--pipe jq equals the same --reduce"
# The request: the state so far and the record's envelope (a worker that counts and keeps the last offset).
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/pc.jsonl" --init '{"n":0}' \
  --pipe "jq -c --unbuffered '{n: (.state.n + 1), last: .event.offset, p: .event.partition, t: .event.topic}'"
jq -e -s 'map(.state.n) | add == 20000' "$TMP/pc.jsonl" >/dev/null && pass || fail "--init reaches the worker; every record once"
jq -e -s 'all(.[]; .state.last == .offset and .state.p == .partition and .state.t == .topic)' "$TMP/pc.jsonl" >/dev/null \
  && pass || fail "the request carries the record's envelope"
"$E" project "$TMP/src" --where '$offset < 30' --reduce '(. // {}) * $event' --into "$TMP/pe-want.jsonl" 2>/dev/null
expect_exit 0 "$E" project "$TMP/src" --where '$offset < 30' --into "$TMP/pe.jsonl" --exec "jq -c '(.state // {}) * .event.value'"
cmp -s "$TMP/pe-want.jsonl" "$TMP/pe.jsonl" && pass || fail "--exec jq equals the same --reduce"
# A null answer deletes the key; an answer that is not JSON, or a failing --exec, is the record's error.
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/pn.jsonl" --pipe "jq -c --unbuffered 'if .event.value.data.seq % 2 == 0 then null else .event.value end'"
expect_eq "$(jq -s 'map(select(.state.data.seq % 2 == 0)) | length' "$TMP/pn.jsonl")" 0 "null answers delete keys"
expect_exit 1 "$E" project "$TMP/src" --into "$TMP/pj.jsonl" --on-error skip --stats-json "$TMP/pj.stats" \
  --pipe "jq -r --unbuffered 'if .event.value.data.seq % 977 == 5 then \"no: bad seq\" else (.event.value | tojson) end'"
expect_eq "$(jq -r '.errors' "$TMP/skip.stats")" "$(jq -r '.errors' "$TMP/pj.stats")" "answers that are not JSON are record errors"
expect_contains "$TMP/err" "the answer is not JSON: no: bad seq"
expect_exit 1 "$E" project "$TMP/src" --where '$offset < 5' --into "$TMP/px.jsonl" --exec 'echo broken >&2; exit 3'
expect_contains "$TMP/err" "--exec: exit status 3"
# A worker that ends early, or cannot start: a runtime error (exit 2), OUT untouched.
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/pd.jsonl" --pipe 'head -c 0'
expect_contains "$TMP/err" "the worker ended (exit status 0) before"
[ ! -e "$TMP/pd.jsonl" ] && pass || fail "a failed --pipe run wrote OUT"
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/pd.jsonl" --pipe 'jq -c --unbuffered .state; exit 4'
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/pd.jsonl" --pipe cat --reduce merge
# Ctrl-C with a worker that never answers: exit 130 at once, the worker terminated.
"$E" project "$TMP/src" --into "$TMP/ph.jsonl" --pipe "sleep 60; echo evt-e2e-hung" 2>/dev/null &
pid=$!
sleep 1
t0=$(date +%s)
kill -INT $pid
rc=0
wait $pid || rc=$?
expect_eq 130 $rc "Ctrl-C during --pipe"
[ $(($(date +%s) - t0)) -le 5 ] && pass || fail "Ctrl-C waited for the worker"
pgrep -f "evt-e2e-hung" >/dev/null && fail "the --pipe worker outlived evt" || pass
# Ctrl-C while an --exec worker lingers after closing its stdout (evt waits for its exit
# status): exit 130, the output as it was, no temporary file left, the worker terminated.
"$E" project "$TMP/src" --where '$offset < 5' --into "$TMP/pl.db" --reduce merge 2>/dev/null
dump "$TMP/pl.db" >"$TMP/pl.before"
"$E" project "$TMP/src" --into "$TMP/pl.db" --exec 'exec >&-; sleep 60; : evt-e2e-linger' 2>"$TMP/pl.err" &
pid=$!
sleep 1
kill -INT $pid
rc=0
wait $pid || rc=$?
expect_eq 130 $rc "Ctrl-C while an --exec worker lingers"
cmp -s "$TMP/pl.before" <(dump "$TMP/pl.db") && pass || fail "an interrupted --exec run changed OUT"
ls -a "$TMP" | grep -q '^pl\.db\.evt-tmp' && fail "an interrupted --exec run left its temporary file" || pass
sleep 0.5
pgrep -f "evt-e2e-linger" >/dev/null && fail "the lingering --exec worker outlived evt" || pass
# Answers end in LF or CRLF (trimmed once); an answer that is not JSON is quoted on one line.
expect_exit 0 "$E" project "$TMP/src" --where '$offset < 30' --into "$TMP/pe-crlf.jsonl" \
  --exec "jq -c '(.state // {}) * .event.value' | sed 's/\$/\r/'"
cmp -s "$TMP/pe-want.jsonl" "$TMP/pe-crlf.jsonl" && pass || fail "--exec answers ending in CRLF"
expect_exit 0 "$E" project "$TMP/src" --where '$offset < 30' --into "$TMP/pw-crlf.jsonl" \
  --pipe "jq -c --unbuffered '(.state // {}) * .event.value' | sed -u 's/\$/\r/'"
cmp -s "$TMP/pe-want.jsonl" "$TMP/pw-crlf.jsonl" && pass || fail "--pipe answers ending in CRLF"
expect_exit 1 "$E" project "$TMP/src" --where '$offset < 5' --into "$TMP/px.jsonl" --exec 'printf "{}\n{}\n"'
expect_eq 1 "$(grep -c 'the answer is not JSON: {}\\n{}$' "$TMP/err")" "a two-line answer is one error line"
# --incremental continues with the worker (the command is part of the fold's definition).
# A first run over each partition's first segment, the second over the whole log.
mkdir -p "$TMP/src-head"
for d in "$TMP"/src/*/; do
  mkdir -p "$TMP/src-head/$(basename "$d")"
  first=$(ls "$d"*.log | head -1)
  cp "$first" "$TMP/src-head/$(basename "$d")/"
done
expect_exit 0 "$E" project "$TMP/src-head" --into "$TMP/pi.db" --incremental --pipe "jq -c --unbuffered '(.state // {}) * .event.value'"
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/pi.db" --incremental --pipe "jq -c --unbuffered '(.state // {}) * .event.value'" \
  --stats-json "$TMP/pi.stats"
jq -e '.resumed and .folded > 0 and .folded < 20000' "$TMP/pi.stats" >/dev/null && pass || fail "--incremental --pipe continued"
"$E" project "$TMP/src" --into "$TMP/pi-full.db" --pipe "jq -c --unbuffered '(.state // {}) * .event.value'" 2>/dev/null
cmp -s <(dump "$TMP/pi.db") <(dump "$TMP/pi-full.db") && pass || fail "--incremental --pipe equals a full --pipe build"
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/pi.db" --incremental --pipe "jq -c --unbuffered '.event.value'"
expect_contains "$TMP/err" "another fold definition"

expect_exit 2 "$E" project "$TMP/src" --into "$TMP/x.db" --reduce '.a ='
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/x.db" --reduce '$nope'
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/x.unknown"
[ ! -e "$TMP/x.db" ] && pass || fail "a usage error created OUT"

# ---- a full build killed at any moment leaves OUT untouched ----
kills=0
for i in $(seq 6); do
  "$E" project "$TMP/src" --into "$TMP/keep.db" --reduce merge --commit-records 200 >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 300 + 20)))"
  kill -9 $pid 2>/dev/null || true
  rc=0; wait $pid 2>/dev/null || rc=$?
  [ "$rc" -eq 137 ] && kills=$((kills + 1))
  cmp -s <(dump "$TMP/full.db") <(dump "$TMP/keep.db") && pass || fail "OUT changed by a killed full build"
done
echo "full build: $kills kill -9 points" >&2

# ---- --incremental: two halves equal one full build ----
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/inc.db" --reduce merge --incremental --until 3000
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/inc.db" --reduce merge --incremental
expect_contains "$TMP/err" "continued from the recorded positions"
cmp -s <(dump "$TMP/full.db") <(dump "$TMP/inc.db") && pass || fail "incremental halves differ from the full build"
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/inc.db" --reduce merge --incremental --stats-json "$TMP/inc.stats"
expect_eq 0 "$(jq -r .folded "$TMP/inc.stats")" "a rerun with nothing new folds nothing"
# another definition: refused, untouched; --rebuild rebuilds
sum1=$(md5sum <"$TMP/inc.db")
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/inc.db" --reduce count --incremental
expect_contains "$TMP/err" "another fold definition"
expect_eq "$sum1" "$(md5sum <"$TMP/inc.db")" "a refused definition left OUT untouched"
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/inc.db" --reduce count --incremental --rebuild
expect_eq 20000 "$(sqlite3 "$TMP/inc.db" 'SELECT sum(value) FROM state')" "--rebuild with count"
# a foreign or corrupt file: refused, untouched
printf 'not a database at all, just text\n%.0s' $(seq 200) >"$TMP/foreign.db"
sum2=$(md5sum <"$TMP/foreign.db")
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/foreign.db" --reduce merge --incremental
expect_contains "$TMP/err" "not an evt project database"
expect_eq "$sum2" "$(md5sum <"$TMP/foreign.db")" "a foreign file is untouched"
sqlite3 "$TMP/other.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (1)'
sum3=$(md5sum <"$TMP/other.db")
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/other.db" --reduce merge --incremental
expect_eq "$sum3" "$(md5sum <"$TMP/other.db")" "another application's database is untouched"
cp "$TMP/full.db" "$TMP/trunc.db"; truncate -s 3000 "$TMP/trunc.db"
expect_exit 2 "$E" project "$TMP/src" --into "$TMP/trunc.db" --reduce merge --incremental

# ---- kill -9 loop during --incremental, then a rerun: equals the full build ----
rm -f "$TMP/k.db"*
kills=0
tries=0
# Until 20 kills have landed inside a run (a run that finished first is not a kill point:
# then its positions are reset, so the next run has the whole log to fold again).
while [ "$kills" -lt 20 ] && [ "$tries" -lt 200 ]; do
  tries=$((tries + 1))
  "$E" project "$TMP/src" --into "$TMP/k.db" --reduce merge --incremental --commit-records 300 >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 250 + 10)))"
  kill -9 $pid 2>/dev/null || true
  rc=0; wait $pid 2>/dev/null || rc=$?
  if [ "$rc" -eq 137 ]; then
    kills=$((kills + 1))
  elif [ "$rc" -eq 0 ] && [ -e "$TMP/k.db" ]; then
    sqlite3 "$TMP/k.db" "UPDATE evt_meta SET value = '[]' WHERE name = 'positions'; DELETE FROM state"
  fi
done
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/k.db" --reduce merge --incremental
cmp -s <(dump "$TMP/full.db") <(dump "$TMP/k.db") && pass || fail "after $kills kill -9 points the database differs from a full build"
[ "$kills" -ge 20 ] && pass || fail "only $kills kill -9 points"
echo "incremental: $kills kill -9 points" >&2

# ---- --at and --time-field ----
mid=$("$E" cat "$TMP/src" -f '%T\n' | sort -n | sed -n 10000p)
at=$(date -u -d "@$((mid / 1000))" +%Y-%m-%dT%H:%M:%SZ)
"$E" project "$TMP/src" --into - --reduce count --at "$at" 2>/dev/null | jq -s 'map(.state) | add' >"$TMP/at.n"
want=$("$E" cat "$TMP/src" -f '%T\n' | awk -v t="$(( $(date -u -d "$at" +%s) * 1000 ))" '$1 <= t' | wc -l)
expect_eq "$want" "$(cat "$TMP/at.n")" "--at counts the records up to TIME"
"$E" project "$TMP/src" --into - --reduce count --time-field .time --at "$at" 2>/dev/null | jq -s 'map(.state) | add' >"$TMP/att.n"
wantt=$("$E" cat "$TMP/src" -f '%v\n' | $py -c 'import sys, json, datetime
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
print(sum(1 for l in sys.stdin
          if datetime.datetime.strptime(json.loads(l)["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc) <= t))' "$at")
expect_eq "$wantt" "$(cat "$TMP/att.n")" "--time-field --at counts the records with event time up to TIME"
expect_exit 2 "$E" project "$TMP/src" --into - --at yesterday-ish

# ---- snapshots: --at from the newest usable snapshot equals a full fold ----
# (--merge time: the snapshots' newest record times then grow with their positions)
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/snap.db" --reduce merge --merge time --snapshots "$TMP/snaps" --snapshot-every 2500 \
  --keep-snapshots 3
expect_eq 3 "$(ls "$TMP/snaps" | grep -c '^snapshot-.*\.db$')" "--keep-snapshots 3"
ls -a "$TMP/snaps" | grep -q '\.tmp$' && fail "snapshot temp file left" || pass
cmp -s <(dump "$TMP/full.db") <(dump "$TMP/snap.db") && pass || fail "a fold that snapshots gives another state"
for when in 6000 9000 19990; do
  t=$("$E" cat "$TMP/src" -f '%T\n' | sort -n | sed -n ${when}p)
  at=$(date -u -d "@$((t / 1000))" +%Y-%m-%dT%H:%M:%SZ)
  "$E" project "$TMP/src" --into "$TMP/at-full.jsonl" --reduce merge --merge time --at "$at" 2>/dev/null
  "$E" project "$TMP/src" --into "$TMP/at-snap.jsonl" --reduce merge --merge time --at "$at" --snapshots "$TMP/snaps" \
    --stats-json "$TMP/at.stats" 2>/dev/null
  cmp -s "$TMP/at-full.jsonl" "$TMP/at-snap.jsonl" && pass || fail "--at $at from snapshots differs from a full fold"
  "$E" project "$TMP/src" --into "$TMP/at-snap.db" --reduce merge --merge time --at "$at" --snapshots "$TMP/snaps" 2>/dev/null
  cmp -s <(jq -rc '.key + " " + (.state | tojson)' "$TMP/at-full.jsonl") \
    <(sqlite3 "$TMP/at-snap.db" '.mode list' 'SELECT key || " " || value FROM state ORDER BY key') \
    && pass || fail "--at $at from snapshots into SQLite differs"
done
jq -e '.from_snapshot != ""' "$TMP/at.stats" >/dev/null && pass || fail "--at did not start from a snapshot"
expect_exit 2 "$E" project "$TMP/src" --into - --snapshot-every 10
expect_exit 2 "$E" project "$TMP/src" --into - --snapshot-every 10 --snapshots "$TMP/s2" --at -1d

# ---- cross-partition keys warn; --merge time does not ----
"$E" write "$TMP/two/t-0" <<<'{"topic":"t","partition":0,"key":"a","value":{"v":1},"timestamp":1000}' >/dev/null 2>&1
"$E" write "$TMP/two/t-1" <<<'{"topic":"t","partition":1,"key":"a","value":{"v":2},"timestamp":2000}' >/dev/null 2>&1
expect_exit 0 "$E" project "$TMP/two" --into -
expect_contains "$TMP/err" "another partition"
expect_exit 0 "$E" project "$TMP/two" --into - --merge time
grep -q "another partition" "$TMP/err" && fail "--merge time still warns" || pass
expect_eq '{"v":2}' "$(jq -c .state "$TMP/out")" "--merge time: the later record wins"

# ---- tombstones, --keep-null, --strict, --dry-run ----
printf '%s\n' '{"topic":"t","partition":0,"key":"a","value":{"v":1}}' '{"topic":"t","partition":0,"key":"b","value":{"v":1}}' \
  '{"topic":"t","partition":0,"key":"a","value":null}' '{"topic":"t","partition":0,"key":"c","value_base64":"bm90IGpzb24="}' \
  >"$TMP/tomb.jsonl"
expect_eq '["b"]' "$("$E" project "$TMP/tomb.jsonl" --into - --reduce merge 2>/dev/null | jq -sc 'map(.key)')" "a tombstone deletes (merge)"
expect_eq '["b"]' "$("$E" project "$TMP/tomb.jsonl" --into - --reduce '$event' 2>/dev/null | jq -sc 'map(.key)')" \
  "last: a tombstone deletes, a value that is not JSON is null"
expect_eq '["a","b","c"]' "$("$E" project "$TMP/tomb.jsonl" --into - --keep-null 2>/dev/null | jq -sc 'map(.key)')" "--keep-null"
expect_exit 1 "$E" project "$TMP/tomb.jsonl" --into - --strict
expect_contains "$TMP/err" "not valid JSON"
expect_exit 0 "$E" project "$TMP/src" --into "$TMP/plan.db" --dry-run
expect_eq 3 "$(wc -l <"$TMP/out")" "--dry-run: one plan line per partition"
[ ! -e "$TMP/plan.db" ] && pass || fail "--dry-run wrote OUT"

# ---- destinations that cannot be written ----
mkdir -p "$TMP/ro"; chmod 555 "$TMP/ro"
if [ "$(id -u)" != 0 ]; then
  expect_exit 2 "$E" project "$TMP/src" --into "$TMP/ro/x.db"
fi
chmod 755 "$TMP/ro"
if [ -w /dev/full ]; then
  rc=0; "$E" project "$TMP/src" --into - >/dev/full 2>"$TMP/err" || rc=$?
  expect_eq 2 "$rc" "a full destination"
fi
finish
