# evt backfill --group on the sandbox: 24 partitions shared by 3 processes with --pipe
# workers that log (process, partition, offset, key, time); every record acknowledged, none
# handed out twice without a failure, per-key order, the plan race of simultaneous starts,
# a late joiner, kill -9 of one member at a random moment (5 runs), --status against the
# workers' logs, a changed selection refused, --new-run. Time bounds come from the session
# timeout, not sleeps. evt replay --group (one member with --instance-id) copies the plan to
# another topic. Commits refused for a while (the run goes on), past max.poll.interval.ms
# (warned about, then exit 2) and for good (exit 2 at once).
# GROUP_STRATEGY (partition.assignment.strategy) picks the rebalance protocol: unset, evt's
# default (range,roundrobin: the eager protocol); group_cooperative.sh runs the same checks
# with cooperative-sticky, but for the kill -9 runs (GROUP_KILL_RUNS=0, it says why).
source "$(dirname "$0")/lib.sh"
trap 'stop_sandbox; rm -rf "$TMP"' EXIT
require python3 /usr/bin/python3 -c 'import json'
E=$EVT
SESSION_MS=6000
GX=(-X session.timeout.ms=$SESSION_MS -X heartbeat.interval.ms=500)
[ -z "${GROUP_STRATEGY:-}" ] || GX+=(-X "partition.assignment.strategy=$GROUP_STRATEGY")
# Bound on a run: a few session timeouts (joins and the dead member's expiry) plus the work.
BOUND=$((SESSION_MS * 8 / 1000 + 30))

start_sandbox --topics t:24
[ -n "$B" ] || { fail "sandbox did not start"; finish; exit 1; }

# 2400 records, 100 keys; n counts each key's records.
/usr/bin/python3 - >"$TMP/in.jsonl" <<'PY'
import json
c = {}
for i in range(2400):
    k = "k%d" % (i % 100)
    c[k] = c.get(k, 0) + 1
    print(json.dumps({"key": k, "value": json.dumps({"k": k, "n": c[k]})}))
PY
"$E" write "kafka://$B/t" <"$TMP/in.jsonl" 2>"$TMP/w.err" && pass || { fail "write: $(head -3 "$TMP/w.err")"; finish; exit 1; }

# The worker: logs "tag partition offset key n time" and answers ok (DELAY s per record).
cat >"$TMP/worker.py" <<'PY'
import json, os, sys, time
tag, log, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
out = open(log, "a")
while True:
    line = sys.stdin.readline()
    if not line:
        break
    r = json.loads(line)
    if delay:
        time.sleep(delay)
    v = r["value"] if isinstance(r["value"], dict) else json.loads(r["value"])  # embedded JSON or a string
    out.write("%s %d %d %s %d %.6f\n" % (tag, r["partition"], r["offset"], r["key"], v["n"], time.time()))
    out.flush()
    sys.stdout.write("ok\n")
    sys.stdout.flush()
PY
# member TAG GROUP DELAY [ARGS...]: one evt backfill --group process in the background (PID in $!).
member() {
  local tag=$1 group=$2 delay=$3; shift 3
  timeout $BOUND "$E" backfill "kafka://$B/t" --group "$group" "${GX[@]}" --workers 2 --pipeline 8 \
    --pipe "/usr/bin/python3 $TMP/worker.py $tag $TMP/$group.log $delay" "$@" 2>"$TMP/$group.$tag.err" &
}
# check_log GROUP WANT_RECORDS MAX_RUNS: every (partition, offset) of the plan logged at
# least once; each key's n strictly increasing within a partition (first handlings); and no two
# processes on one partition at the same time: in time order a partition's records come in
# at most MAX_RUNS runs of one process each (a run ends at a rebalance; a record handed out
# again by the next owner is the at-least-once overlap at that boundary, reported as dups).
check_log() {
  /usr/bin/python3 - "$TMP/$1.log" "$2" "$3" <<'PY'
import sys, collections
log, want, max_runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = collections.Counter()
last = {}
bad = []
events = collections.defaultdict(list)
for line in open(log):
    tag, p, off, k, n, t = line.split()
    p, off, n = int(p), int(off), int(n)
    seen[(p, off)] += 1
    events[p].append((float(t), tag))
    if seen[(p, off)] == 1:  # first handling; a record handed out again after a rebalance repeats older ones
        key = (p, k)
        if key in last and n <= last[key]:
            bad.append("per-key order: partition %d key %s: n=%d after n=%d" % (p, k, n, last[key]))
        last[key] = n
if len(seen) != want:
    bad.append("%d distinct records logged, want %d" % (len(seen), want))
for p, ev in events.items():
    ev.sort()
    runs = 1 + sum(1 for a, b in zip(ev, ev[1:]) if a[1] != b[1])
    if runs > max_runs:
        bad.append("partition %d: %d runs of processes (want <= %d): two processes at once?" % (p, runs, max_runs))
dups = sum(1 for v in seen.values() if v > 1)
print("\n".join(bad[:5]) if bad else "ok")
print("dups %d" % dups, file=sys.stderr)
PY
}
# wait_all PID...: every one exits 0.
wait_all() {
  local rc=0 p
  for p in "$@"; do wait "$p" || rc=$?; done
  return $rc
}
# plan_done N SUBCOMMAND GROUP [DST]: "done" when --status shows N partitions of one plan,
# each with nothing remaining; else what it showed.
plan_done() {
  local n=$1 cmd=$2 group=$3; shift 3
  "$E" "$cmd" "kafka://$B/t" "$@" --group "$group" --status --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
ok = len(rows) == int(sys.argv[1]) and len({r["run"] for r in rows}) == 1 and all(r["remaining"] == 0 for r in rows)
print("done" if ok else "not done: %r" % rows)' "$n"
}

# ---- three processes started at once (the plan race): one plan, every record once ----
member a g1 0; A=$!
member b g1 0; Bp=$!
member c g1 0; C=$!
t0=$SECONDS
if wait_all $A $Bp $C; then pass; else fail "3 members of g1: not all exited 0"; tail -n 3 "$TMP"/g1.*.err >&2; fi
echo "g1: 3 members done in $((SECONDS - t0)) s" >&2
expect_eq ok "$(check_log g1 2400 4 2>>"$TMP/dups")" "g1: records and order"
# Records handed out again come from a rebalance's at-least-once boundary, a few per
# partition; a group that keeps rebalancing with its commits refused hands the plan out
# many times over (seen: 27,312 handlings of 2,400 records when cooperative members'
# commits waited behind their JoinGroup).
n=$(wc -l <"$TMP/g1.log")
[ "$n" -le 4800 ] && pass || fail "g1: $n records handled for a plan of 2400: the group kept rebalancing?"
"$E" backfill "kafka://$B/t" --group g1 --status --json >"$TMP/st.json" 2>"$TMP/st.err" && pass || fail "--status: $(cat "$TMP/st.err")"
expect_eq 24 "$(wc -l <"$TMP/st.json")" "--status: one line per partition"
/usr/bin/python3 - "$TMP/st.json" "$TMP/g1.log" >"$TMP/st.check" <<'PY'
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
logged = collections.defaultdict(set)
for line in open(sys.argv[2]):
    f = line.split()
    logged[int(f[1])].add(int(f[2]))
bad = []
if len({r["run"] for r in rows}) != 1: bad.append("several runs")
for r in rows:
    p = r["partition"]
    if r["topic"] != "t": bad.append("topic")
    if r["committed"] != r["end"] or r["remaining"] != 0: bad.append("partition %d not at its end" % p)
    if r["end"] - r["start"] != len(logged[p]): bad.append("partition %d: plan %d records, workers logged %d" % (p, r["end"] - r["start"], len(logged[p])))
    if logged[p] and (min(logged[p]) != r["start"] or max(logged[p]) != r["end"] - 1): bad.append("partition %d range" % p)
print("\n".join(bad) if bad else "ok")
PY
expect_eq ok "$(cat "$TMP/st.check")" "--status numbers equal the workers' logs"
expect_contains "$TMP/st.err" "owners unavailable"
"$E" backfill "kafka://$B/t" --group g1 --status >"$TMP/st.txt" 2>/dev/null && pass || fail "--status table"
expect_contains "$TMP/st.txt" "remaining"
expect_eq 26 "$(wc -l <"$TMP/st.txt")" "--status table: header, 24 partitions, total"

# ---- a changed selection is refused; --new-run starts a new plan ----
expect_exit 2 "$E" backfill "kafka://$B/t" --group g1 "${GX[@]}" --until 10 --pipe cat
expect_contains "$TMP/err" "--new-run"
run1=$(head -1 "$TMP/st.json" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])')
: >"$TMP/g1.log"
# (The members that just left are still in the mock's group until their session times
# out: the new plan is then written from inside the group at the first assignment.)
member a g1 0 --until 10 --new-run; A=$!
rc=0; wait $A || rc=$?
[ $rc = 0 ] && pass || { fail "--new-run (exit $rc)"; tail -n 3 "$TMP/g1.a.err" >&2; }
"$E" backfill "kafka://$B/t" --group g1 --status --json >"$TMP/st2.json" 2>/dev/null
# --until 10: 10 records of each partition, or all of a smaller one.
want=$(/usr/bin/python3 -c 'import json,sys; print(sum(json.loads(l)["end"]-json.loads(l)["start"] for l in open(sys.argv[1])))' "$TMP/st2.json")
expect_eq "$(/usr/bin/python3 -c 'import collections,json,sys
c = collections.Counter()
for l in open(sys.argv[1]):
    c[json.loads(l)["key"]] += 0
print()' "$TMP/in.jsonl" >/dev/null; "$E" cat "kafka://$B/t" --until 10 2>/dev/null | wc -l)" "$want" "--new-run: plan = --until 10 of each partition"
expect_eq ok "$(check_log g1 "$want" 4 2>>"$TMP/dups")" "--new-run: the new plan's records"
run2=$(head -1 "$TMP/st2.json" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])')
[ -n "$run2" ] && [ "$run1" != "$run2" ] && pass || fail "--new-run: run id $run1 -> $run2"

# ---- a process started after the others follows the same plan ----
t0=$SECONDS
member a g2 0.002; A=$!
member b g2 0.002; Bp=$!
for _ in $(seq $((BOUND * 10))); do [ "$(wc -l 2>/dev/null <"$TMP/g2.log" || echo 0)" -gt 200 ] && break; sleep 0.1; done
member c g2 0.002; C=$!
if wait_all $A $Bp $C; then pass; else fail "g2 with a late member: not all exited 0"; tail -n 3 "$TMP"/g2.*.err >&2; fi
echo "g2: 3 members (one late) done in $((SECONDS - t0)) s" >&2
expect_eq ok "$(check_log g2 2400 6 2>>"$TMP/dups")" "g2: records and order"
expect_eq done "$(plan_done 24 backfill g2)" "g2: one plan, done"

# ---- kill -9 of one member at a random moment: the others finish the plan ----
KILL_RUNS=${GROUP_KILL_RUNS:-5}
[ "$KILL_RUNS" -gt 0 ] || echo "note: kill -9 runs skipped: ${GROUP_KILL_WHY:-GROUP_KILL_RUNS=0}" >&2
for i in $(seq "$KILL_RUNS"); do
  g=gk$i
  member a $g 0.002 --until 40; A=$!
  member b $g 0.002 --until 40; Bp=$!
  member c $g 0.002 --until 40; C=$!
  victims=($A $Bp $C)
  v=${victims[$((RANDOM % 3))]}
  sleep "$(/usr/bin/python3 -c 'import random; print(round(random.uniform(0.5, 3.0), 2))')"
  kill -9 "$v" 2>/dev/null || true
  rest=()
  for p in $A $Bp $C; do [ "$p" != "$v" ] && rest+=("$p"); done
  wait "$v" 2>/dev/null || true
  if wait_all "${rest[@]}"; then pass; else fail "$g: survivors did not all exit 0"; tail -n 3 "$TMP"/$g.*.err >&2; fi
  want=$("$E" backfill "kafka://$B/t" --group $g --status --json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(sum(json.loads(l)["end"]-json.loads(l)["start"] for l in sys.stdin))')
  expect_eq ok "$(check_log $g "$want" 6 2>>"$TMP/dups")" "$g: every record acknowledged at least once, per-key order"
done

echo "records handed out again at a rebalance or after kill -9 (at least once): $(awk '{s+=$2} END {print s+0}' "$TMP/dups")"

# ---- evt replay --group: two processes copy the plan to another topic ----
stop_sandbox
start_sandbox --topics t:8,d:8
head -800 "$TMP/in.jsonl" | "$E" write "kafka://$B/t" 2>/dev/null
replica() {
  timeout $BOUND "$E" replay "kafka://$B/t" "kafka://$B/d" --group "$1" "${GX[@]}" "${@:3}" 2>"$TMP/$1.$2.err" &
}
replica rp a; A=$!
replica rp b --instance-id evt-b; Bp=$!
if wait_all $A $Bp; then pass; else fail "replay --group: $(tail -n 2 "$TMP"/rp.*.err)"; fi
"$E" cat "kafka://$B/d" 2>/dev/null | /usr/bin/python3 -c '
import json, sys
got = {}
n = 0
for l in sys.stdin:
    r = json.loads(l)
    v = r["value"] if isinstance(r["value"], str) else json.dumps(r["value"], separators=(",", ":"))
    got[(r["key"], json.loads(v)["n"])] = True
    n += 1
print("ok" if len(got) == 800 and n >= 800 else "%d distinct of %d records" % (len(got), n))' >"$TMP/rp.check"
expect_eq ok "$(cat "$TMP/rp.check")" "replay --group: every record in the destination (at least once)"
expect_eq done "$(plan_done 8 replay rp "kafka://$B/d")" "replay --group --status: done"

# ---- commits refused by the coordinator ----
# The first OffsetCommit (the plan, written from outside the group) goes through; the
# members' commits after it are refused: for a while (REBALANCE_IN_PROGRESS: the run goes
# on and finishes, its commits sent again), or for good (not authorized: exit 2 at once,
# saying that the run's progress cannot be saved, not a run that works on and keeps nothing).
# refusing ERROR COUNT: a new sandbox (t:4, 200 records) whose OffsetCommits after the
# first answer ERROR, COUNT times.
refusing() {
  stop_sandbox
  start_sandbox --topics t:4 --fault request-error=OffsetCommit:NO_ERROR:1 --fault "request-error=OffsetCommit:$1:$2"
  head -200 "$TMP/in.jsonl" | "$E" write "kafka://$B/t" 2>/dev/null
}
refusing REBALANCE_IN_PROGRESS 10
member a gr1 0.002; A=$!
if wait_all $A; then pass; else fail "gr1: refused for a while: $(tail -n 2 "$TMP/gr1.a.err")"; fi
expect_eq ok "$(check_log gr1 200 1)" "gr1: every record once"
expect_eq done "$(plan_done 4 backfill gr1)" "gr1: the commits refused for a while went through later"
# Refused for longer than max.poll.interval.ms (6 s here): said after a tenth of it, then
# exit 2 (the run cannot save its progress).
refusing REBALANCE_IN_PROGRESS 100000
member a gr3 0.002 -X max.poll.interval.ms=$SESSION_MS; A=$!
rc=0; wait $A || rc=$?
expect_eq 2 "$rc" "gr3: commits refused past max.poll.interval.ms: exit 2"
if grep -q "commits refused for .* (the run stops after 6.0 s" "$TMP/gr3.a.err"; then pass; else fail "gr3: warns while refused: $(head -n 2 "$TMP/gr3.a.err")"; fi
if grep -q "commits refused for [6-9].* progress cannot be saved" "$TMP/gr3.a.err"; then pass; else fail "gr3: says why it stopped: $(tail -n 2 "$TMP/gr3.a.err")"; fi
refusing GROUP_AUTHORIZATION_FAILED 100000
member a gr2 0.002; A=$!
rc=0; wait $A || rc=$?
expect_eq 2 "$rc" "gr2: commits refused for good: exit 2"
if grep -q "progress cannot be saved" "$TMP/gr2.a.err"; then pass; else fail "gr2: says why it stopped: $(tail -n 2 "$TMP/gr2.a.err")"; fi
finish
