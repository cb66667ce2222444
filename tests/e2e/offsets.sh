# evt offsets on the sandbox: show (offsets and metadata kafka-python committed), reset plans
# for every mode (clamping, shift without a commit, time through the client-side search),
# export as kafka-consumer-groups' CSV and as JSON Lines, --from-file, --execute read back by
# kafka-python and consumed from by kcat -G, and the refusal while members cannot be known
# (the mock has no DescribeGroups), with and without a running consumer.
source "$(dirname "$0")/lib.sh"
E=$EVT
require_cmd kcat
PY=/usr/bin/python3
require python3-kafka "$PY" -c 'import kafka'

trap 'stop_sandbox; [ -n "${LIVE:-}" ] && kill "$LIVE" 2>/dev/null; rm -rf "$TMP"' EXIT

commit() { kafka_commit "$B" "$@"; }  # commit GROUP TOPIC:PARTITION:OFFSET[:METADATA]...
# committed GROUP TOPIC PARTITIONS: what kafka-python reads back, space-separated ("none" without a commit).
committed() {
  "$PY" - "$B" "$@" <<'EOF'
import sys
from kafka import KafkaConsumer, TopicPartition
brokers, group, topic, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = KafkaConsumer(bootstrap_servers=brokers, group_id=group, enable_auto_commit=False, api_version=(2, 0, 0))
print(" ".join(str(o) if o is not None else "none" for o in (c.committed(TopicPartition(topic, p)) for p in range(n))))
c.close()
EOF
}
# col NAME [KIND]: NAME of every JSON line of KIND (default partition) on stdin, space-separated.
col() { "$PY" -c '
import sys, json
name, kind = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "partition"
print(" ".join("null" if r.get(name) is None else str(r.get(name)).lower() if isinstance(r.get(name), bool) else str(r.get(name))
               for r in map(json.loads, sys.stdin) if r["kind"] == kind))' "$@"; }

start_sandbox --topics orders:4,audit:1
[[ "$B" =~ ^127\.0\.0\.1:[0-9]+$ ]] && pass || fail "no sandbox address"
export EVT_BROKERS=$B

# 10 records per partition of orders, record i of partition p at T0 + p min + i s.
"$PY" -c '
import json
for p in range(4):
    for i in range(10):
        print(json.dumps({"topic": "orders", "partition": p, "offset": -1, "timestamp": 1709251200000 + p * 60000 + i * 1000,
                          "key": "k%d" % i, "value": "v%d" % i, "headers": []}))' >"$TMP/orders.jsonl"
expect_exit 0 "$E" write kafka:///orders --partition keep --in "$TMP/orders.jsonl"
printf 'a\nb\nc\n' | kcat -P -b "$B" -t audit -p 0 2>/dev/null

# ---- show: offsets and metadata committed by kafka-python
commit g orders:0:2:first orders:1:5 orders:3:0 audit:0:1:a,b
"$E" offsets show -G g >"$TMP/show.json"
expect_eq "audit orders orders orders orders" "$(col topic <"$TMP/show.json")" "every partition of the topics with commits"
expect_eq "1 2 5 null 0" "$(col committed <"$TMP/show.json")" "committed offsets (orders/2 has none)"
expect_eq "a,b first  null " "$(col metadata <"$TMP/show.json")" "metadata as committed"
expect_eq "2 8 5 null 10" "$(col lag <"$TMP/show.json")" "lag against the log end"
expect_eq null "$(col members group <"$TMP/show.json")" "members unknown on the sandbox"
expect_contains "$TMP/show.json" "does not answer DescribeGroups"
expect_eq "2 5" "$("$E" offsets show -G g orders:0,1 | col committed)" "show TOPIC:P,P"
"$E" offsets show -G g --format table >"$TMP/show.table"
expect_contains "$TMP/show.table" "^GROUP  *TOPIC  *PART  *COMMITTED  *LOG-START  *LOG-END  *LAG  *METADATA"
expect_contains "$TMP/show.table" "members: unknown"
expect_exit 2 "$E" offsets show -G nobody
expect_contains "$TMP/err" "no committed offsets"
expect_exit 2 "$E" offsets show -G g nosuch
expect_contains "$TMP/err" "topic nosuch does not exist"

# ---- reset plans: nothing is committed without --execute
"$E" offsets reset -G g --topic orders --to-earliest >"$TMP/plan.json"
expect_eq "0 0 0 0" "$(col new <"$TMP/plan.json")" "--to-earliest"
expect_eq "2 5 0 0" "$(col reread <"$TMP/plan.json")" "records read again"
expect_eq "7 false" "$(col reread total <"$TMP/plan.json") $(col executed total <"$TMP/plan.json")" "totals; not executed"
expect_eq "2 5 none 0" "$(committed g orders 4)" "a plan commits nothing (kafka-python reads the old offsets)"
expect_eq "10 10 10 10" "$("$E" offsets reset -G g --topic orders --to-latest | col new)" "--to-latest"
expect_eq "8 5 10 10" "$("$E" offsets reset -G g --topic orders --to-latest | col skipped)" "records skipped (from the log start without a commit)"
"$E" offsets reset -G g --topic orders:0,1 --to-offset 100 >"$TMP/out" 2>"$TMP/err"
expect_eq "10 10" "$(col new <"$TMP/out")" "--to-offset past the end is clamped"
expect_eq "true true" "$(col clamped <"$TMP/out")" "clamped is said"
expect_contains "$TMP/err" "evt: warning: orders/0: offset 100 is past the log end 10: clamped"
"$E" offsets reset -G g --topic orders --shift-by -3 >"$TMP/out" 2>"$TMP/err"
expect_eq "0 2 null 0" "$(col new <"$TMP/out")" "--shift-by -3: clamped at 0; no commit: left out"
expect_contains "$TMP/err" "orders/2: no committed offset to shift from: left out"
expect_contains "$TMP/err" "orders/0: offset -1 is before the log start 0: clamped"
expect_eq "4 7 null 2" "$("$E" offsets reset -G g --topic orders --shift-by 2 2>/dev/null | col new)" "--shift-by 2"
# record i of partition p is at T0 + p min + i s: T0 + 1 min + 3 s is offset 3 of partition 1,
# after all of partition 0 (its end) and before all of 2 and 3 (offset 0). The mock cannot
# answer ListOffsets by time: evt searches with fetches.
expect_eq "10 3 0 0" "$("$E" offsets reset -G g --topic orders --to-datetime 2024-03-01T00:01:03Z | col new)" "--to-datetime"
expect_eq "10 4 0 0" "$("$E" offsets reset -G g --topic orders --to-datetime @1709251263500 | col new)" "--to-datetime between records"
expect_eq "0 0 0 0" "$("$E" offsets reset -G g --topic orders --by-duration 36500d | col new)" "--by-duration longer than the data"
expect_eq "10 10 10 10" "$("$E" offsets reset -G g --topic orders --to-datetime -1h | col new)" "--to-datetime -1h (all data is older)"
expect_eq "audit orders orders orders orders" "$("$E" offsets reset -G g --all-topics --to-earliest | col topic)" "--all-topics"
"$E" offsets reset -G g --topic orders --to-earliest --format table >"$TMP/plan.table"
expect_contains "$TMP/plan.table" "^GROUP  *TOPIC  *PART  *CURRENT  *NEW  *LOG-START  *LOG-END  *CHANGE"
expect_contains "$TMP/plan.table" "re-reads 5"
expect_contains "$TMP/plan.table" "4 partitions, 3 changed: 0 records skipped, 7 read again"
expect_contains "$TMP/plan.table" "plan only: nothing was committed"

# ---- export, review, apply with --from-file; read back by kafka-python, consumed by kcat -G
expect_exit 0 "$E" offsets reset -G g --topic orders --to-offset 7 --export "$TMP/plan.csv"
expect_eq "orders,0,7 orders,1,7 orders,2,7 orders,3,7" "$(paste -sd' ' "$TMP/plan.csv")" "kafka-consumer-groups' CSV layout"
expect_eq "2 5 none 0" "$(committed g orders 4)" "--export without --execute commits nothing"
expect_exit 2 "$E" offsets reset -G g --from-file "$TMP/plan.csv" --execute
expect_contains "$TMP/err" "cannot tell whether group g has active members"
expect_contains "$TMP/err" "does not answer DescribeGroups"
expect_contains "$TMP/err" "--force"
expect_eq "2 5 none 0" "$(committed g orders 4)" "a refused reset commits nothing"
expect_exit 0 "$E" offsets reset -G g --from-file "$TMP/plan.csv" --execute --force
expect_contains "$TMP/err" "evt: warning: --force: group g's members are unknown"
expect_eq "true" "$(col executed total <"$TMP/out")" "executed"
expect_eq "7 7 7 7" "$(committed g orders 4)" "kafka-python reads the new offsets"
expect_eq 1 "$(committed g audit 1)" "partitions outside the plan keep theirs"
timeout 60 kcat -b "$B" -G g -X session.timeout.ms=6000 -X auto.offset.reset=earliest -e -q \
  -f '%p:%o\n' orders >"$TMP/consumed" 2>/dev/null || true
expect_eq 12 "$(wc -l <"$TMP/consumed" | tr -d ' ')" "kcat -G consumes from the reset offsets (3 records x 4)"
expect_eq "0:7 1:7 2:7 3:7" "$(sort "$TMP/consumed" | awk -F: '$2 == 7' | paste -sd' ')" "the first record read is offset 7"
# a JSON plan (evt's export; also its stdout), with --topic narrowing it
expect_exit 0 "$E" offsets reset -G g --topic orders --to-offset 3 --export "$TMP/plan.json"
expect_eq 5 "$(wc -l <"$TMP/plan.json" | tr -d ' ')" "JSON export: 4 partitions and a total"
# kcat -G g joined the group: from then on the mock refuses any commit from outside it, with
# or without members (it keeps the group; a real broker accepts one once the group is Empty).
expect_exit 2 "$E" offsets reset -G g --from-file "$TMP/plan.json" --topic orders:1 --execute --force
expect_contains "$TMP/err" "the broker refused the commit: Broker: Unknown member: the group has active members"
expect_eq "10 10 10 10" "$(committed g orders 4)" "a refused commit changes nothing"
# a group that never joined (kafka-python commits only): its own JSON plan, narrowed by --topic
commit j orders:0:9 orders:1:9 orders:2:9 orders:3:9
expect_exit 0 "$E" offsets reset -G j --topic orders --to-offset 3 --export "$TMP/plan-j.json"
expect_exit 2 "$E" offsets reset -G j --from-file "$TMP/plan.json" --execute --force
expect_contains "$TMP/err" "no offsets for group j"
expect_exit 0 "$E" offsets reset -G j --from-file "$TMP/plan-j.json" --topic orders:1 --execute --force
expect_eq "9 3 9 9" "$(committed j orders 4)" "--from-file JSON, narrowed by --topic"
# kafka-consumer-groups' CSV with groups, and a header line
printf 'group,topic,partition,offset\nother,orders,0,1\ng,orders,0,2\n' >"$TMP/groups.csv"
expect_eq "2" "$("$E" offsets reset -G g --from-file "$TMP/groups.csv" | col new)" "group,topic,partition,offset: this group's lines"
printf 'orders,0,1\norders,x,2\n' >"$TMP/bad.csv"
expect_exit 2 "$E" offsets reset -G g --from-file "$TMP/bad.csv"
expect_contains "$TMP/err" "bad.csv:2: 'x' is not a partition number"
printf 'orders,0,1\norders,0,2\n' >"$TMP/twice.csv"
expect_exit 2 "$E" offsets reset -G g --from-file "$TMP/twice.csv"
expect_contains "$TMP/err" "orders/0 is planned twice"
printf 'orders,9,1\n' >"$TMP/nopart.csv"
expect_exit 2 "$E" offsets reset -G g --from-file "$TMP/nopart.csv"
expect_contains "$TMP/err" "orders/9: partition does not exist"

# ---- a running consumer: still refused (members cannot be known on the sandbox)
kcat -b "$B" -G live -X session.timeout.ms=6000 -X auto.offset.reset=earliest -q orders >/dev/null 2>&1 &
LIVE=$!
for _ in $(seq 100); do [ "$(committed live orders 4)" != "none none none none" ] && break; sleep 0.2; done
expect_exit 2 "$E" offsets reset -G live --topic orders --to-earliest --execute
expect_contains "$TMP/err" "cannot tell whether group live has active members"
expect_exit 2 "$E" offsets reset -G live --topic orders --to-earliest --execute --force
expect_contains "$TMP/err" "the group has active members"
[ "$(committed live orders 4)" != "0 0 0 0" ] && pass || fail "a refused commit changed nothing"
kill "$LIVE" 2>/dev/null; wait "$LIVE" 2>/dev/null || true; LIVE=

# ---- usage errors
expect_exit 2 "$E" offsets reset -G g --topic orders
expect_contains "$TMP/err" "exactly one of --to-earliest"
expect_exit 2 "$E" offsets reset -G g --topic orders --to-earliest --to-latest
expect_exit 2 "$E" offsets reset -G g --to-earliest
expect_contains "$TMP/err" "--topic T"
expect_exit 2 "$E" offsets reset -G g --topic orders --all-topics --to-earliest
expect_exit 2 "$E" offsets reset -G g --topic orders:x --to-earliest
expect_exit 2 "$E" offsets reset -G g --topic orders --to-datetime yesterday
expect_exit 2 "$E" offsets show -G g --to-earliest
expect_contains "$TMP/err" "are for \`evt offsets reset\`"
expect_exit 2 "$E" offsets show
expect_contains "$TMP/err" "-G GROUP"
expect_exit 2 "$E" offsets list -G g
expect_exit 2 env -u EVT_BROKERS "$E" offsets show -G g

finish
