# evt backfill: --exec and --pipe workers, per-key order under parallel workers with random
# delays, retries, dead letters (file, segments, the sandbox), stopping failures, Ctrl-C,
# and a kill -9 loop checking that no record is skipped.
source "$(dirname "$0")/lib.sh"
E=$EVT
py=/usr/bin/python3
"$E" gen --count 600 --partitions 3 --keys 20 --seed 3 --value-size 40 --segment-bytes 30000 --output "$TMP/src" >/dev/null
"$E" cat "$TMP/src" -f '%p/%o\n' | sort >"$TMP/all.po"

# ---- --exec: environment, stdin, exit status ----
"$E" backfill "$TMP/src" --until 5 --workers 3 \
  --exec 'printf "%s|%s|%s|%s|%s|%s\n" "$EVT_TOPIC" "$EVT_PARTITION" "$EVT_OFFSET" "$EVT_KEY" "$EVT_ATTEMPT" "$(wc -c)" >> '"$TMP/exec.log" \
  2>"$TMP/err" && pass || fail "backfill --exec failed: $(cat "$TMP/err")"
expect_eq 15 "$(wc -l <"$TMP/exec.log")" "--exec ran once per record"
"$E" cat "$TMP/src" --until 5 -f '%t|%p|%o|%k|1|\n' | sort >"$TMP/exec.want"
cut -d'|' -f1-5 "$TMP/exec.log" | sed 's/$/|/' | sort >"$TMP/exec.got"
cmp -s "$TMP/exec.want" "$TMP/exec.got" && pass || fail "--exec environment differs"
# stdin: the envelope line, or the raw value with --input value
"$E" backfill "$TMP/src" --until 1 --partitions 0 --exec "cat > $TMP/stdin.env" 2>/dev/null
"$E" cat "$TMP/src" --until 1 --partitions 0 >"$TMP/stdin.want" 2>/dev/null || "$E" cat "$TMP/src/events-0" --until 1 >"$TMP/stdin.want"
cmp -s "$TMP/stdin.env" <("$E" cat "$TMP/src/events-0" --until 1) && pass || fail "--exec stdin is not the envelope line"
"$E" backfill "$TMP/src" --until 1 --partitions 0 --input value --exec "cat > $TMP/stdin.val" 2>/dev/null
cmp -s "$TMP/stdin.val" <("$E" cat "$TMP/src/events-0" --until 1 -f value | head -c -1) && pass || fail "--input value"

# ---- --pipe: every record answered ----
"$E" backfill "$TMP/src" --pipe "awk '{print \"ok\"; fflush()}'" --workers 2 --stats-json "$TMP/p.json" 2>/dev/null \
  && pass || fail "--pipe awk"
$py -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["ok"] == 600 and s["handed"] == 600, s' "$TMP/p.json" \
  && pass || fail "--pipe stats"

# ---- per-key order and exclusivity under parallel workers with random delays ----
# Each worker logs "key partition offset begin-ns end-ns" for every record it finishes.
cat >"$TMP/slow.sh" <<'SH'
while IFS= read -r l; do
  k=$(printf '%s' "$l" | sed 's/.*"timestamp":[-0-9]*,"key":"\([^"]*\)".*/\1/')
  po=$(printf '%s' "$l" | grep -o '"partition":[0-9]*,"offset":[0-9]*' | tr -dc '0-9,' | tr ',' ' ')
  b=$(date +%s%N); sleep 0.00$((RANDOM % 5)); e=$(date +%s%N)
  echo "$k $po $b $e" >> "$LOG"
  echo ok
done
SH
check_order() {  # check_order LOG: per key, offsets of a partition in order; no overlap in time
  $py - "$1" <<'PY'
import sys, collections
by = collections.defaultdict(list)
for l in open(sys.argv[1]):
    k, p, o, b, e = l.split()
    by[k].append((int(b), int(e), int(p), int(o)))
for k, xs in by.items():
    xs.sort()
    for (b1, e1, p1, o1), (b2, e2, p2, o2) in zip(xs, xs[1:]):
        assert b2 >= e1, f"key {k}: two records at once"
        if p1 == p2: assert o2 > o1, f"key {k}: partition {p1} offset {o2} after {o1}"
PY
}
export LOG="$TMP/order.log"
"$E" backfill "$TMP/src" --until 60 --workers 4 --pipe "bash $TMP/slow.sh" 2>/dev/null && pass || fail "slow pipe workers"
expect_eq 180 "$(wc -l <"$LOG")" "--pipe with delays: every record once"
check_order "$LOG" && pass || fail "--pipe: per-key order or exclusivity broken"
export LOG="$TMP/order2.log"
"$E" backfill "$TMP/src" --until 30 --workers 6 --exec 'k=$EVT_KEY; b=$(date +%s%N); sleep 0.0$((RANDOM % 3)); echo "$k $EVT_PARTITION $EVT_OFFSET $b $(date +%s%N)" >> $LOG' \
  2>/dev/null && pass || fail "slow exec workers"
expect_eq 90 "$(wc -l <"$LOG")" "--exec with delays: every record once"
check_order "$LOG" && pass || fail "--exec: per-key order or exclusivity broken"
# with retries: a record fails its first attempt; later records of its key wait for it
cat >"$TMP/flaky.sh" <<'SH'
while IFS= read -r l; do
  k=$(printf '%s' "$l" | sed 's/.*"timestamp":[-0-9]*,"key":"\([^"]*\)".*/\1/')
  po=$(printf '%s' "$l" | grep -o '"partition":[0-9]*,"offset":[0-9]*' | tr -dc '0-9,' | tr ',' ' ')
  if [ $((RANDOM % 4)) = 0 ]; then echo "retry flaky"; continue; fi
  b=$(date +%s%N); echo "$k $po $b $(date +%s%N)" >> "$LOG"; echo ok
done
SH
export LOG="$TMP/order3.log"
"$E" backfill "$TMP/src" --until 40 --workers 3 --retries 50 --backoff 1ms..5ms --pipe "bash $TMP/flaky.sh" \
  --stats-json "$TMP/f.json" 2>/dev/null && pass || fail "flaky workers"
check_order "$LOG" && pass || fail "retries broke per-key order"
expect_eq 120 "$(awk '{print $2"/"$3}' "$LOG" | sort -u | wc -l)" "every record succeeded once retried"
$py -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["retried"] > 5, s' "$TMP/f.json" && pass || fail "no retries happened"

# ---- dead letters: Kafka Connect's headers; exit 1; --max-failures ----
expect_exit 1 "$E" backfill "$TMP/src" --until 10 --retries 2 --backoff 1ms..2ms --dead-letter "$TMP/dl.jsonl" \
  --pipe 'while read -r l; do case "$l" in *\"offset\":3,*) echo "fail offset three";; *) echo ok;; esac; done'
expect_eq 3 "$(wc -l <"$TMP/dl.jsonl")" "one dead letter per partition"
$py - "$TMP/dl.jsonl" "$TMP/src" "$E" <<'PY' && pass || fail "dead-letter records"
import json, subprocess, sys
dl = [json.loads(l) for l in open(sys.argv[1])]
src = {(r["partition"], r["offset"]): r for r in map(json.loads, subprocess.run([sys.argv[3], "cat", sys.argv[2]], capture_output=True, text=True).stdout.splitlines())}
for r in dl:
    h = {x["key"]: x["value"] for x in r["headers"]}
    assert h["__connect.errors.topic"] == "events" and h["__connect.errors.offset"] == "3", h
    assert h["__connect.errors.partition"] == str(r["partition"])
    assert h["__connect.errors.exception.message"] == "offset three"
    assert h["__connect.errors.exception.class.name"] == "evt.backfill.WorkerFailure"
    assert h["evt.dlq.attempts"] == "1" and h["evt.dlq.time"].endswith("Z")
    o = src[(r["partition"], 3)]
    assert r["key"] == o["key"] and r["value"] == o["value"], "original key/value kept"
    assert [x for x in r["headers"] if not x["key"].startswith(("__connect", "evt.dlq"))] == o["headers"]
PY
# retries exhausted: attempts = retries + 1
expect_exit 1 "$E" backfill "$TMP/src" --until 1 --partitions 1 --retries 2 --backoff 1ms..2ms --dead-letter "$TMP/dl2" \
  --exec 'exit 3'
expect_eq "3" "$("$E" cat "$TMP/dl2" -f '%h\n' | tr ',' '\n' | grep '^evt.dlq.attempts=' | cut -d= -f2)" "attempts in a segment-dir dead letter"
"$E" cat "$TMP/dl2" -f '%h\n' | grep -q '__connect.errors.exception.message=exit status 3' && pass || fail "exec failure message"
expect_exit 1 "$E" backfill "$TMP/src" --retries 0 --dead-letter "$TMP/dl3.jsonl" --max-failures 5 --exec 'exit 1'
expect_contains "$TMP/err" "max-failures"
[ "$(wc -l <"$TMP/dl3.jsonl")" -ge 5 ] && [ "$(wc -l <"$TMP/dl3.jsonl")" -lt 600 ] && pass || fail "--max-failures did not stop early"

# ---- a final failure without --dead-letter stops with a checkpoint before it ----
rm -f "$TMP/s.ck" "$TMP/s.log"
expect_exit 1 "$E" backfill "$TMP/src" --partitions 2 --checkpoint "$TMP/s.ck" --retries 0 \
  --exec 'if [ "$EVT_OFFSET" = 50 ] && [ ! -e '"$TMP/fixed"' ]; then exit 9; fi; echo $EVT_OFFSET >> '"$TMP/s.log"
expect_contains "$TMP/err" "events/2@50"
$py -c 'import json,sys; c=json.load(open(sys.argv[1])); p=[x for x in c["positions"] if x["partition"]==2][0]; assert p["next"] <= 50 and not c["complete"], c' "$TMP/s.ck" \
  && pass || fail "checkpoint not before the failed record"
touch "$TMP/fixed"
expect_exit 0 "$E" backfill "$TMP/src" --partitions 2 --checkpoint "$TMP/s.ck" --retries 0 \
  --exec 'if [ "$EVT_OFFSET" = 50 ] && [ ! -e '"$TMP/fixed"' ]; then exit 9; fi; echo $EVT_OFFSET >> '"$TMP/s.log"
expect_eq "$(grep -c '^2/' "$TMP/all.po")" "$(sort -un "$TMP/s.log" | wc -l)" "resumed after the fix: every record of the partition done"
expect_exit 0 "$E" backfill "$TMP/src" --partitions 2 --checkpoint "$TMP/s.ck" --retries 0 --exec 'exit 1'
expect_contains "$TMP/err" "complete"
expect_exit 2 "$E" backfill "$TMP/src" --partitions 1 --checkpoint "$TMP/s.ck" --exec 'true'

# ---- Ctrl-C: in-flight records finish, checkpoint, exit 130, resume completes ----
rm -f "$TMP/i.ck" "$TMP/i.log"
"$E" backfill "$TMP/src" --checkpoint "$TMP/i.ck" --workers 2 --exec 'sleep 0.01; echo $EVT_PARTITION/$EVT_OFFSET >> '"$TMP/i.log" \
  >/dev/null 2>&1 &
pid=$!
sleep 1
kill -INT $pid
rc=0; wait $pid || rc=$?
expect_eq 130 "$rc" "Ctrl-C exit status"
[ -f "$TMP/i.ck" ] && pass || fail "no checkpoint after Ctrl-C"
"$E" backfill "$TMP/src" --checkpoint "$TMP/i.ck" --workers 2 --exec 'sleep 0.01; echo $EVT_PARTITION/$EVT_OFFSET >> '"$TMP/i.log" \
  2>/dev/null && pass || fail "resume after Ctrl-C"
cmp -s <(sort -u "$TMP/i.log") "$TMP/all.po" && pass || fail "Ctrl-C + resume skipped records"

# ---- kill -9 at random moments: no record is skipped (at least once) ----
# The --pipe workers run in process groups of their own, so they outlive a kill -9 of evt.
# Each worker writes its PID to k.pids first; stop_workers ends those groups, and only while
# the PID still runs this test's command (a PID is reused once its process is gone). Nothing
# is stopped by name: on a shared machine that reaches other people's processes.
stop_workers() {  # stop_workers PIDFILE
  local p
  [ -f "$1" ] || return 0
  while read -r p; do
    grep -qF -- "$TMP" "/proc/$p/cmdline" 2>/dev/null && kill -9 -- "-$p" 2>/dev/null || true
  done <"$1"
  : >"$1"
}
rm -f "$TMP/k.ck" "$TMP/k.log" "$TMP/k.pids"
kills=0
for i in $(seq 1 25); do
  "$E" backfill "$TMP/src" --checkpoint "$TMP/k.ck" --checkpoint-interval 10ms --workers 3 --pipeline 4 \
    --pipe 'echo $$ >> '"$TMP/k.pids"'; while read -r l; do sleep 0.04; printf "%s\n" "$l" | grep -o "\"partition\":[0-9]*,\"offset\":[0-9]*" >> '"$TMP/k.log"'; echo ok; done' \
    >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 250 + 50)))"
  kill -9 $pid 2>/dev/null || true
  rc=0; wait $pid 2>/dev/null || rc=$?
  [ "$rc" -eq 137 ] && kills=$((kills + 1))
  stop_workers "$TMP/k.pids"
done
"$E" backfill "$TMP/src" --checkpoint "$TMP/k.ck" --workers 3 \
  --pipe 'while read -r l; do printf "%s\n" "$l" | grep -o "\"partition\":[0-9]*,\"offset\":[0-9]*" >> '"$TMP/k.log"'; echo ok; done' \
  >/dev/null 2>&1 && pass || fail "final resume after kill -9"
tr -dc '0-9,\n' <"$TMP/k.log" | tr ',' '/' | sort -u >"$TMP/k.done"
cmp -s "$TMP/k.done" "$TMP/all.po" && pass || fail "kill -9 loop: some records were never handed to a worker"
[ "$kills" -ge 20 ] && pass || fail "only $kills kills hit a running backfill"
echo "backfill: $kills kill -9 points; $(wc -l <"$TMP/k.log") deliveries for 600 records (at least once)" >&2

# ---- dry run, usage errors ----
"$E" backfill "$TMP/src" --until 10 --dry-run >"$TMP/plan" 2>/dev/null
$py -c 'import json,sys; p=[json.loads(l) for l in open(sys.argv[1])]; assert len(p)==3 and all(x["records"]==10 for x in p), p' "$TMP/plan" \
  && pass || fail "--dry-run plan"
expect_exit 2 "$E" backfill "$TMP/src"
expect_exit 2 "$E" backfill "$TMP/src" --exec true --pipe cat
expect_exit 2 "$E" backfill "$TMP/src" --pipe cat --input value
expect_exit 2 "$E" backfill "$TMP/src" --exec true --backoff 5s..1s
expect_exit 2 "$E" backfill "$TMP/src" --exec true --max-failures 3

# ---- dead letters into the sandbox, read with kcat ----
if have_cmd kcat; then
  "$E" sandbox --topics dlq:1 -- sh -c '"$0" backfill "$1" --until 2 --retries 0 --dead-letter kafka:///dlq --exec "exit 1" 2>/dev/null;
    kcat -C -b "$EVT_BROKERS" -t dlq -e -q -f "%h\n"' "$E" "$TMP/src" >"$TMP/kdl" 2>/dev/null
  expect_eq 6 "$(grep -c '__connect.errors.exception.class.name=evt.backfill.WorkerFailure' "$TMP/kdl")" "dead letters in a Kafka topic"
fi
finish
