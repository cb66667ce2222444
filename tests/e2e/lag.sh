# evt lag on the sandbox: groups whose offsets kafka-python commits (a second client, not
# librdkafka) and kcat -G consumes, exact records and time lag with --now, Burrow's
# statuses across --history samples, thresholds and exit codes, every output format,
# --all-groups on a broker without ListGroups, and the lag of a replay checkpoint.
source "$(dirname "$0")/lib.sh"
E=$EVT
require_cmd kcat
PY=/usr/bin/python3
require python3-kafka "$PY" -c 'import kafka'

trap 'stop_sandbox; rm -rf "$TMP"' EXIT

commit() { kafka_commit "$B" "$@"; }  # commit GROUP TOPIC:PARTITION:OFFSET[:METADATA]...
# field NAME: the value of NAME in every JSON line on stdin with kind KIND (default partition), one per line.
field() { "$PY" -c '
import sys, json
name, kind = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "partition"
for l in sys.stdin:
    r = json.loads(l)
    if r["kind"] == kind:
        v = r.get(name)
        print("null" if v is None else v)' "$@"; }
# row TOPIC PARTITION FIELD: one field of one partition's line (stdin).
row() { "$PY" -c '
import sys, json
t, p, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for l in sys.stdin:
    r = json.loads(l)
    if r["kind"] == "partition" and r["topic"] == t and r["partition"] == p:
        v = r.get(name)
        print("null" if v is None else v)' "$@"; }

start_sandbox --topics orders:4,audit:2,big:1,w:1
[[ "$B" =~ ^127\.0\.0\.1:[0-9]+$ ]] && pass || fail "no sandbox address"
export EVT_BROKERS=$B

# 10 records per partition of orders, record i of partition p at T0 + p min + i s.
T0=1709251200000  # 2024-03-01T00:00:00Z
"$PY" -c '
import json
for p in range(4):
    for i in range(10):
        print(json.dumps({"topic": "orders", "partition": p, "offset": -1, "timestamp": 1709251200000 + p * 60000 + i * 1000,
                          "key": "k%d" % i, "value": "v%d" % i, "headers": []}))' >"$TMP/orders.jsonl"
expect_exit 0 "$E" write kafka:///orders --partition keep --in "$TMP/orders.jsonl"  # (stderr into $TMP/err)
printf 'a\nb\nc\n' | kcat -P -b "$B" -t audit -p 0 2>/dev/null

# ---- a caught-up group (kcat -G consumes everything and commits on close)
timeout 60 kcat -b "$B" -G caught -X session.timeout.ms=6000 -X auto.offset.reset=earliest -e -q orders >/dev/null 2>&1 || true
"$E" lag -G caught >"$TMP/caught.json"
expect_eq "0 0 0 0" "$(field lag <"$TMP/caught.json" | paste -sd' ')" "kcat -G consumed everything: lag 0"
expect_eq "OK OK OK OK" "$(field status <"$TMP/caught.json" | paste -sd' ')" "caught up: OK"
expect_eq "0 0 0 0" "$(field time_lag_ms <"$TMP/caught.json" | paste -sd' ')" "lag 0 has time lag 0"
expect_eq "OK" "$(field status group <"$TMP/caught.json")" "the group is OK"
expect_eq "orders" "$(field topic <"$TMP/caught.json" | sort -u)" "only the topics the group has commits for"
expect_exit 0 "$E" lag -G caught --max-lag 0 --max-time-lag 1ms --fail-on warn,stall,stop,rewind,err

# ---- a lagging group: exact records and time lag from the record at the committed offset
commit lagging orders:0:4 orders:1:10 orders:2:10 orders:3:7
NOW=2024-03-01T01:00:00Z  # T0 + 3600 s
"$E" lag -G lagging --now "$NOW" >"$TMP/lagging.json"
expect_eq 6 "$(row orders 0 lag <"$TMP/lagging.json")" "lag in records (end 10 - committed 4)"
expect_eq $((3600000 - 4000)) "$(row orders 0 time_lag_ms <"$TMP/lagging.json")" "time lag: now - timestamp of offset 4"
expect_eq $((3600000 - 180000 - 7000)) "$(row orders 3 time_lag_ms <"$TMP/lagging.json")" "time lag of partition 3"
expect_eq 0 "$(row orders 1 lag <"$TMP/lagging.json")" "a caught-up partition in a lagging group"
expect_eq LAGGING "$(row orders 0 status <"$TMP/lagging.json")" "one sample: LAGGING"
row orders 0 reason <"$TMP/lagging.json" >"$TMP/reason"
expect_contains "$TMP/reason" "one sample"
expect_eq "9 3596000" "$(echo "$(field lag group <"$TMP/lagging.json") $(field max_time_lag_ms group <"$TMP/lagging.json")")" "group sum and max time lag"
expect_eq 10 "$(row orders 0 end <"$TMP/lagging.json")" "log end offset"
expect_eq 4 "$("$PY" -c 'import sys, json
print([json.loads(l) for l in sys.stdin][0]["first_unconsumed"]["offset"])' <"$TMP/lagging.json")" "the first unconsumed record"
# the same cluster by -b, by a kafka:// URL, by EVT_BROKERS; a topic named
expect_eq 6 "$(env -u EVT_BROKERS "$E" lag -b "$B" -G lagging | row orders 0 lag)" "-b"
expect_eq 6 "$(env -u EVT_BROKERS "$E" lag -G lagging "kafka://$B/orders" | row orders 0 lag)" "kafka://HOST/TOPIC"
expect_eq "0 3" "$("$E" lag -G lagging "kafka:///orders?partition=0,3" | field partition | paste -sd' ')" "?partition=0,3"
expect_exit 2 env -u EVT_BROKERS "$E" lag -G lagging
expect_contains "$TMP/err" "no brokers"
# two groups at once
expect_eq "caught lagging" "$("$E" lag -G caught -G lagging | field group group | paste -sd' ')" "-G twice"

# ---- thresholds and exit codes (1: a threshold crossed, named on stderr)
expect_exit 1 "$E" lag -G lagging --max-lag 5
expect_contains "$TMP/err" "evt: error: lagging: orders/0: lag 6 records > --max-lag 5"
expect_eq 1 "$(grep -c 'max-lag' "$TMP/err")" "only the offending partition is named"
[ -s "$TMP/out" ] && pass || fail "the output is still written when a threshold is crossed"
expect_exit 0 "$E" lag -G lagging --max-lag 6
expect_exit 1 "$E" lag -G lagging --now "$NOW" --max-time-lag 59m
expect_contains "$TMP/err" "orders/0: time lag 59m56s > --max-time-lag 59m00s"
expect_exit 0 "$E" lag -G lagging --now "$NOW" --max-time-lag 1h
expect_exit 0 "$E" lag -G lagging --fail-on warn,stall,stop,rewind  # LAGGING is none of them
expect_exit 2 "$E" lag -G lagging --fail-on late
expect_contains "$TMP/err" "--fail-on: expected warn, stall, stop, rewind or err"
expect_exit 2 "$E" lag -G lagging --now yesterday
expect_exit 2 "$E" lag
expect_contains "$TMP/err" "-G GROUP"
expect_exit 2 "$E" lag -G lagging --format yaml
expect_exit 2 "$E" lag -G lagging --json --format csv

# ---- groups and topics that are not there: ERR
expect_exit 0 "$E" lag -G nobody
field status group <"$TMP/out" >"$TMP/st"; expect_eq ERR "$(cat "$TMP/st")" "a group without commits is ERR"
field reason group <"$TMP/out" >"$TMP/st"; expect_contains "$TMP/st" "no committed offsets"
expect_exit 1 "$E" lag -G nobody --fail-on err
expect_contains "$TMP/err" "nobody: ERR: no committed offsets"
expect_exit 1 "$E" lag -G lagging nosuch --fail-on err
expect_contains "$TMP/err" "lagging: nosuch: ERR: topic does not exist"

# ---- --no-commit-as: partitions without a commit (audit has commits on partition 0 only)
commit partial audit:0:1
expect_eq "2 0" "$("$E" lag -G partial | field lag | paste -sd' ')" "only audit, where partial committed; audit/1 is empty"
commit partial2 orders:0:10
expect_eq "0 10 10 10" "$("$E" lag -G partial2 | field lag | paste -sd' ')" "earliest: counted from the log start"
expect_eq "10 none" "$("$E" lag -G partial2 --format csv | "$PY" -c 'import csv, sys
rows = [r for r in csv.DictReader(sys.stdin) if r["kind"] == "partition"]
print(rows[0]["committed"], rows[1]["committed"] or "none")')" "csv: no commit is empty"
expect_eq "0 0 0 0" "$("$E" lag -G partial2 --no-commit-as latest | field lag | paste -sd' ')" "latest: caught up"
expect_eq "0" "$("$E" lag -G partial2 --no-commit-as skip | field partition | paste -sd' ')" "skip: left out"

# ---- --all-groups: the sandbox has no ListGroups, and says so
expect_exit 2 "$E" lag --all-groups
expect_contains "$TMP/err" "does not answer ListGroups"
expect_contains "$TMP/err" "name the groups with -G"

# ---- table output: members unknown, said once
"$E" lag -G lagging --format table --now "$NOW" >"$TMP/table"
expect_contains "$TMP/table" "^GROUP  *TOPIC  *PART  *COMMITTED  *END  *LAG  *TIME-LAG  *STATUS"
expect_contains "$TMP/table" "59m56s"
expect_eq 1 "$(grep -c 'members: unknown (the broker does not answer DescribeGroups)' "$TMP/table")" "members note once"
grep -q TREND "$TMP/table" && fail "no trend column without history" || pass

# ---- history: catching up (OK), stalling (STALL), stopped (STOP), rewound (REWIND), falling behind (WARN)
at() { date -u -d "@$((1709254800 + $1 * 60))" +%Y-%m-%dT%H:%M:%SZ; }  # minute N after 01:00
hist() {  # hist GROUP MINUTE [ARGS...]: a sample at that minute into $TMP/GROUP.history
  local g=$1 m=$2; shift 2
  "$E" lag -G "$g" orders --now "$(at "$m")" --history "$TMP/$g.history" --samples 3 "$@"
}
commit catchup orders:0:2 orders:1:10 orders:2:10 orders:3:10
hist catchup 0 >/dev/null
commit catchup orders:0:6
hist catchup 1 >"$TMP/h.json"
expect_eq OK "$(row orders 0 status <"$TMP/h.json")" "lag 8 -> 4: catching up is OK"
row orders 0 reason <"$TMP/h.json" >"$TMP/reason"; expect_contains "$TMP/reason" "catching up: lag 8 -> 4"
expect_eq "8,4" "$("$PY" -c 'import sys, json
print(",".join(map(str, [json.loads(l) for l in sys.stdin][0]["lag_window"])))' <"$TMP/h.json")" "lag over the window"
# 4 records consumed in 60 s, none produced: 4 left at 4/60 per s = 60 s
expect_eq "60 1m00s" "$(echo "$(row orders 0 eta_s <"$TMP/h.json") $(row orders 0 eta <"$TMP/h.json")")" "drain ETA"
expect_exit 0 hist catchup 2 --fail-on warn,stall,stop,rewind,err
expect_eq 3 "$(grep -c '"partition":0,' "$TMP/catchup.history")" "history holds --samples 3 per partition"
hist catchup 3 >/dev/null
hist catchup 4 >/dev/null
expect_eq 3 "$(grep -c '"partition":0,' "$TMP/catchup.history")" "history bounded: the last 3 samples"
expect_eq 12 "$(wc -l <"$TMP/catchup.history" | tr -d ' ')" "4 partitions x 3 samples"
"$PY" -c 'import sys, json
[json.loads(l) for l in open(sys.argv[1])]' "$TMP/catchup.history" && pass || fail "history is JSON Lines"
hist catchup 5 --format table >"$TMP/ht"
expect_contains "$TMP/ht" "TREND"
expect_contains "$TMP/ht" "ETA"

# a partition an earlier sample saw and this run does not (a deleted topic): ERR
{ cat "$TMP/catchup.history"; head -1 "$TMP/catchup.history" | sed 's/"topic":"orders"/"topic":"deleted"/'; } >"$TMP/gone.history"
expect_exit 1 "$E" lag -G catchup --history "$TMP/gone.history" --now "$(at 9)" --fail-on err
expect_contains "$TMP/err" "catchup: deleted/0: ERR: no longer observed"

commit stall orders:0:3 orders:1:10 orders:2:10 orders:3:10
hist stall 0 >/dev/null
hist stall 1 >/dev/null
expect_exit 1 hist stall 2 --fail-on stall
expect_contains "$TMP/err" "stall: orders/0: STALL: committed offset 3 unchanged over 3 samples"
expect_eq STALL "$(field status group <"$TMP/out")" "the group is STALL"
expect_eq never "$(row orders 0 eta <"$TMP/out")" "a stalled partition never catches up"
# one more sample: the offset has not changed since before the window (STOP)
expect_exit 1 hist stall 3 --fail-on stop
expect_contains "$TMP/err" "stall: orders/0: STOP: committed offset 3 unchanged since"
expect_contains "$TMP/err" "longer than the window"

commit stop orders:0:1 orders:1:10 orders:2:10 orders:3:10
for m in 0 1 2; do "$E" lag -G stop orders --now "$(at $m)" --history "$TMP/stop.history" --samples 2 >"$TMP/out"; done
expect_eq STOP "$(row orders 0 status <"$TMP/out")" "no commit change over the window: STOP"
expect_exit 0 "$E" lag -G stop orders --now "$(at 3)" --history "$TMP/stop.history" --samples 2 --fail-on stall,warn

commit rewind orders:0:8 orders:1:10 orders:2:10 orders:3:10
hist rewind 0 >/dev/null
commit rewind orders:0:3
expect_exit 1 hist rewind 1 --fail-on rewind
expect_contains "$TMP/err" "rewind: orders/0: REWIND: committed offset went back from 8 to 3"

# falling behind: a topic of its own (w), so that the others keep their ends
w_records() {  # w_records N: N more records into w/0
  "$PY" -c '
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"topic": "w", "partition": 0, "offset": -1, "timestamp": 1709254900000 + i,
                      "key": "n", "value": "x", "headers": []}))' "$1" | "$E" write kafka:///w --partition keep 2>/dev/null
}
w_records 10
commit behind w:0:5
"$E" lag -G behind w --now "$(at 0)" --history "$TMP/behind.history" >/dev/null
w_records 10
commit behind w:0:7
expect_exit 1 "$E" lag -G behind w --now "$(at 1)" --history "$TMP/behind.history" --fail-on warn
expect_contains "$TMP/err" "behind: w/0: WARN: committed offset moves (5 -> 7) but lag never decreases (5 -> 13"
expect_eq 0.167 "$(row w 0 produce_rate <"$TMP/out")" "production rate: 10 records in 60 s"
expect_eq 0.033 "$(row w 0 consume_rate <"$TMP/out")" "consumption rate: 2 records in 60 s"
expect_eq never "$(row w 0 eta <"$TMP/out")" "falling behind: never"

# A history file that is not one: an error, not a silent restart.
echo 'garbage' >"$TMP/bad.history"
expect_exit 2 "$E" lag -G lagging --history "$TMP/bad.history"
expect_contains "$TMP/err" "bad.history:1"

# ---- every output format
"$E" lag -G lagging -G catchup --now "$NOW" --format prometheus --cluster-name 'sand"box' >"$TMP/prom"
"$PY" - "$TMP/prom" <<'EOF' && pass || fail "Prometheus text format"
import re, sys
# The text exposition format: comments (# HELP/# TYPE name ...), samples
# name{label="value",...} value; label values escape \ " and newline; one TYPE per family,
# before its samples.
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r"^(%s)(\{%s(?:,%s)*\})? (-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|NaN|[+-]Inf)$" % (name, label, label))
typed, helped, seen = {}, set(), set()
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip("\n")
    m = re.match(r"^# (HELP|TYPE) (%s) (.+)$" % name, line)
    if m:
        if m.group(1) == "TYPE":
            assert m.group(2) not in typed, "two TYPE lines for %s" % m.group(2)
            assert m.group(3) in ("gauge", "counter", "untyped", "histogram", "summary"), line
            typed[m.group(2)] = m.group(3)
        else:
            helped.add(m.group(2))
        continue
    m = sample.match(line)
    assert m, "line %d is not a sample: %r" % (n, line)
    assert m.group(1) in typed and m.group(1) in helped, "no HELP/TYPE before %s" % m.group(1)
    seen.add(m.group(1))
want = {"kafka_consumergroup_group_lag", "kafka_consumergroup_group_lag_seconds", "kafka_consumergroup_group_max_lag",
        "kafka_consumergroup_group_max_lag_seconds", "kafka_consumergroup_group_sum_lag",
        "kafka_consumergroup_group_topic_sum_lag"}
assert want <= seen, want - seen
EOF
expect_contains "$TMP/prom" '^kafka_consumergroup_group_lag{cluster_name="sand\\"box",group="lagging",topic="orders",partition="0"} 6$'
expect_contains "$TMP/prom" '^kafka_consumergroup_group_lag_seconds{cluster_name="sand\\"box",group="lagging",topic="orders",partition="0"} 3596.000$'
expect_contains "$TMP/prom" '^kafka_consumergroup_group_sum_lag{cluster_name="sand\\"box",group="lagging"} 9$'
expect_contains "$TMP/prom" '^kafka_consumergroup_group_topic_sum_lag{cluster_name="sand\\"box",group="lagging",topic="orders"} 9$'
if "$PY" -c 'import prometheus_client' 2>/dev/null; then
  "$PY" -c 'import sys
from prometheus_client.parser import text_string_to_metric_families
n = sum(len(f.samples) for f in text_string_to_metric_families(open(sys.argv[1]).read()))
assert n > 0' "$TMP/prom" && pass || fail "prometheus_client cannot parse the output"
fi
expect_eq "cluster_name=\"$B\"" "$("$E" lag -G lagging --format prometheus | grep -o 'cluster_name="[^"]*"' | sort -u)" "cluster_name defaults to the bootstrap servers"
"$E" lag -G lagging --format csv >"$TMP/csv"
"$PY" -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["kind"] for r in rows] == ["partition"] * 4 + ["group"], rows
assert rows[0]["lag"] == "6" and rows[0]["status"] == "LAGGING", rows[0]' "$TMP/csv" && pass || fail "csv output"
"$E" lag -G lagging --json | "$PY" -c 'import sys, json
for l in sys.stdin: json.loads(l)' && pass || fail "--json: JSON Lines"
expect_eq "$("$E" lag -G lagging --json --now "$NOW")" "$("$E" lag -G lagging --format json --now "$NOW")" "--json is --format json"

# ---- --watch: rounds until Ctrl-C (exit 130), each round's lines in a pipe
rc=0; timeout --preserve-status -s INT 4 "$E" lag -G lagging --watch 500ms >"$TMP/watch" 2>"$TMP/watch.err" || rc=$?
expect_eq 130 "$rc" "--watch ends on Ctrl-C with 130"
[ "$(field group group <"$TMP/watch" | wc -l)" -ge 3 ] && pass || fail "--watch took fewer than 3 rounds"
tail -5 "$TMP/watch" | field samples | sort -u | tail -1 >"$TMP/samples"
[ "$(cat "$TMP/samples")" -ge 2 ] && pass || fail "--watch keeps the window in memory (samples $(cat "$TMP/samples"))"
timeout -s INT 3 "$E" lag -G lagging --watch 500ms --format csv >"$TMP/watch.csv" 2>/dev/null || true
expect_eq 1 "$(grep -c '^kind,' "$TMP/watch.csv")" "--watch csv: the header once"

# ---- connection errors: exit 2 within --timeout
start=$(date +%s)
expect_exit 2 env -u EVT_BROKERS "$E" lag -b 127.0.0.1:1 -G g --timeout 2s
[ $(($(date +%s) - start)) -le 10 ] && pass || fail "an unreachable cluster took more than 10 s with --timeout 2s"

# ---- a broker that refuses a group's OffsetFetch: that group is ERR, with the broker's reason
"$E" sandbox --topics orders:1 --fault request-error=OffsetFetch:GROUP_AUTHORIZATION_FAILED:100 >"$TMP/addr2" 2>/dev/null &
SB2=$!
for _ in $(seq 100); do [ -s "$TMP/addr2" ] && break; sleep 0.1; done
expect_exit 1 env -u EVT_BROKERS "$E" lag -b "$(head -1 "$TMP/addr2")" -G locked orders --fail-on err --timeout 5s
expect_contains "$TMP/err" "locked: ERR: OffsetFetch: Broker: Group authorization failed"
kill -INT "$SB2"; wait "$SB2" 2>/dev/null || true

# ---- the lag of a replay checkpoint: a topic and a segment directory as its source
"$E" write "$TMP/seg" --in "$TMP/orders.jsonl" 2>/dev/null
"$E" replay "$TMP/seg" "$TMP/copy.jsonl" --checkpoint "$TMP/seg.ck" --until 6 2>/dev/null
expect_exit 0 "$E" lag --checkpoint "$TMP/seg.ck" "$TMP/seg" --now "$NOW"
expect_eq "4 4 4 4" "$(field lag <"$TMP/out" | paste -sd' ')" "checkpoint against a segment dir: end 10 - position 6"
expect_eq $((3600000 - 6000)) "$(row orders 0 time_lag_ms <"$TMP/out")" "checkpoint time lag from the record at the position"
expect_eq "$TMP/seg.ck" "$(field group group <"$TMP/out")" "the group column shows the checkpoint file"
"$E" replay "kafka:///audit" "$TMP/audit.jsonl" --checkpoint "$TMP/k.ck" --until 1 2>/dev/null
expect_exit 0 "$E" lag --checkpoint "$TMP/k.ck" kafka:///audit
expect_eq "2 0" "$(field lag <"$TMP/out" | paste -sd' ')" "checkpoint against a topic: audit/0 end 3 - position 1"
expect_exit 1 "$E" lag --checkpoint "$TMP/k.ck" kafka:///audit --max-lag 1
expect_exit 2 "$E" lag --checkpoint "$TMP/nope.ck" "$TMP/seg"
expect_contains "$TMP/err" "no such file"
expect_exit 2 "$E" lag --checkpoint "$TMP/seg.ck" -G g "$TMP/seg"

# ---- retention: the mock drops a partition's oldest batches beyond about 5 MiB, so the
# committed offset 0 of `big` falls below the log start.
"$PY" -c '
import json, os, base64
for i in range(80):
    print(json.dumps({"topic": "big", "partition": 0, "offset": -1, "timestamp": 1709251200000 + i * 1000,
                      "key": None, "value": base64.b64encode(os.urandom(75000)).decode(), "headers": []}))' >"$TMP/big.jsonl"
"$E" write kafka:///big --partition keep --compression none --in "$TMP/big.jsonl" 2>/dev/null
commit retained big:0:0
"$E" lag -G retained big --now "$NOW" >"$TMP/ret.json"
low=$(row big 0 low <"$TMP/ret.json")
if [ "${low:-0}" -gt 0 ]; then
  expect_eq 80 "$(row big 0 lag <"$TMP/ret.json")" "below the log start: lag is still end - committed"
  expect_eq True "$(row big 0 below_log_start <"$TMP/ret.json")" "below the log start: said"
  expect_eq $((3600000 - low * 1000)) "$(row big 0 time_lag_ms <"$TMP/ret.json")" "time lag from the first available record"
  row big 0 note <"$TMP/ret.json" >"$TMP/note"; expect_contains "$TMP/note" "below the log start $low"
else
  fail "the mock kept every batch of big (log start 0): cannot test retention"
fi
finish
