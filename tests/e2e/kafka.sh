# Kafka topics as sources and sinks (cat, dump, inspect, write) on the sandbox, with kcat
# and kafka-python as independent clients; faults injected with `evt sandbox --fault`.
source "$(dirname "$0")/lib.sh"
E=$EVT
require_cmd kcat
PY=/usr/bin/python3
HAVE_KPY=0
have python3-kafka $PY -c 'import kafka' && HAVE_KPY=1

trap 'stop_sandbox; rm -rf "$TMP"' EXIT

# Records with the awkward cases: binary key, null and empty values, null header values.
"$E" gen --count 2000 --keys 40 --partitions 4 --seed 9 --topic orders --start 2024-03-01T00:00:00Z >"$TMP/gen.jsonl"
printf '%s\n' \
  '{"topic":"orders","partition":0,"offset":-1,"timestamp":1709251200001,"key_base64":"AAEC/w==","value":null,"headers":[{"key":"n","value":null},{"key":"e","value":""}]}' \
  '{"topic":"orders","partition":1,"offset":-1,"timestamp":1709251200002,"key":"","value":"","headers":[]}' \
  '{"topic":"orders","partition":2,"offset":-1,"timestamp":1709251200003,"key":null,"value_base64":"/wABAg==","headers":[{"key":"b","value_base64":"/w=="}]}' \
  >"$TMP/odd.jsonl"
cat "$TMP/gen.jsonl" "$TMP/odd.jsonl" >"$TMP/all.jsonl"
# What a record is, apart from where it landed: key, value, headers, timestamp.
norm() { "$PY" -c '
import sys, json
for l in sys.stdin:
    r = json.loads(l)
    print(json.dumps([r.get("key"), r.get("value"), r.get("headers"), r.get("timestamp")], sort_keys=True))' | sort; }
norm <"$TMP/all.jsonl" >"$TMP/want.norm"

start_sandbox --topics orders:4,one:1,three:3,many:8
[[ "$B" =~ ^127\.0\.0\.1:[0-9]+$ ]] && pass || fail "no sandbox address"

# ---- write kafka:// then cat kafka://: same keys, values, headers, timestamps
expect_exit 0 "$E" write "kafka://$B/orders" --partition keep --in "$TMP/all.jsonl"
"$E" cat "kafka://$B/orders" | norm >"$TMP/got.norm"
cmp -s "$TMP/want.norm" "$TMP/got.norm" && pass || fail "kafka round trip differs"
expect_eq 2003 "$(wc -l <"$TMP/got.norm")" "every record read back"
# --partition keep kept partitions
expect_eq "$(grep -c '"partition":2' "$TMP/all.jsonl")" "$("$E" cat "kafka://$B/orders?partition=2" | wc -l)" "?partition= and --partition keep"

# ---- kcat consumes what evt produced: keys, null values, headers incl. null header values
kcat -C -b "$B" -t orders -e -q -f '%k|%K|%S|%h|%T\n' 2>/dev/null | sort >"$TMP/kcat.txt"
"$E" cat "kafka://$B/orders" -f '%k|%K|%S|%h|%T\n' | sort >"$TMP/evt.txt"
cmp -s "$TMP/kcat.txt" "$TMP/evt.txt" && pass || { fail "kcat sees other records than evt cat"; diff "$TMP/kcat.txt" "$TMP/evt.txt" | head -4 >&2 || true; }
grep -q '|4|-1|n=NULL,e=|' "$TMP/kcat.txt" && pass || fail "kcat does not see the null value / null header"

# ---- evt consumes what kcat produced
printf 'k1\tv1\nk2\tv2\n' | kcat -P -b "$B" -t one -K '\t' -H trace=abc -H nul 2>/dev/null
expect_eq 'k1 v1 trace=abc,nul=NULL|k2 v2 trace=abc,nul=NULL' \
  "$("$E" cat "kafka://$B/one" -f '%k %v %h\n' | paste -sd'|')" "records produced by kcat (header without value is null)"

# ---- -b/-t and EVT_BROKERS are the same as the URL
expect_eq 2 "$("$E" cat -b "$B" -t one | wc -l)" "-b -t"
expect_eq 2 "$(EVT_BROKERS=$B "$E" cat -t one | wc -l)" "-t with EVT_BROKERS"
expect_eq 2 "$(EVT_BROKERS=$B "$E" cat kafka:///one | wc -l)" "kafka:/// with EVT_BROKERS"
expect_exit 2 env -u EVT_BROKERS "$E" cat kafka:///one
expect_contains "$TMP/err" "no brokers"

# ---- --from/--until: offsets, -N, times (the mock answers -1 to offsetsForTimes: client-side search)
"$E" write "$TMP/seg" --in "$TMP/all.jsonl"
for p in 0 3; do
  for b in "--from 5 --until 17" "--from -7" "--from 2024-03-01T00:05:00Z --until 2024-03-01T00:09:30Z" "--from 2024-03-01T00:07:00Z" "--until 2024-03-01T00:01:00Z"; do
    # shellcheck disable=SC2086
    want=$("$E" cat "$TMP/seg/orders-$p" $b -f '%o %K %T\n' | paste -sd,)
    # Offsets are per partition in both (the topic was written with --partition keep).
    # shellcheck disable=SC2086
    got=$("$E" cat "kafka://$B/orders?partition=$p" $b -f '%o %K %T\n' | paste -sd,)
    expect_eq "$want" "$got" "bounds $b on partition $p"
  done
done
expect_eq 0 "$("$E" cat "kafka://$B/orders" --from 2031-01-01T00:00:00Z | wc -l)" "a time after every record selects nothing"
expect_eq 0 "$("$E" cat "kafka://$B/orders" --from end | wc -l)" "--from end"

# ---- --where on a topic, -n, formats
expect_eq "$("$E" filter '.value.type == "order.paid"' "$TMP/gen.jsonl" --count)" \
  "$("$E" cat "kafka://$B/orders" --where '.type == "order.paid"' | wc -l)" "--where on a topic"
expect_eq 10 "$("$E" cat "kafka://$B/orders" -n 10 | wc -l)" "-n on a topic"
"$E" cat "kafka://$B/orders" | head -1 >/dev/null && pass || fail "closed pipe on a topic is not quiet"

# ---- dump and inspect on topics
"$E" dump "kafka://$B/one" >"$TMP/dump.txt"
expect_contains "$TMP/dump.txt" "offset: 1 CreateTime"
expect_eq 2 "$("$E" dump "kafka://$B/one" --json | wc -l)" "dump --json on a topic"
"$E" inspect "kafka://$B/" --json >"$TMP/insp.json"
expect_eq 16 "$(jq '.partitions | length' "$TMP/insp.json")" "inspect kafka://HOST/ lists every partition of every topic"
expect_eq 1 "$(wc -l <"$TMP/insp.json")" "inspect of a cluster is one JSON object, as for files"
"$E" inspect "kafka://$B/orders" --json >"$TMP/insp2.json"
"$PY" - "$TMP/insp2.json" "$TMP/all.jsonl" <<'EOF' && pass || fail "inspect kafka://HOST/TOPIC watermarks/timestamps"
import json, sys
doc = json.load(open(sys.argv[1]))
rows = doc["partitions"]
recs = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == 4, rows
assert doc["total"]["span"] == len(recs), doc["total"]
for r in rows:
    mine = [x for x in recs if x["partition"] == r["partition"]]
    assert r["low"] == 0 and r["high"] == len(mine) == r["span"], (r, len(mine))
    assert r["first_timestamp"] == mine[0]["timestamp"], r
    assert r["last_timestamp"] == mine[-1]["timestamp"], r
EOF
"$E" inspect "kafka://$B/orders" --table >"$TMP/insp.txt"
expect_contains "$TMP/insp.txt" "offset span 2003"
expect_eq "$(grep -c '"key":"key-' "$TMP/all.jsonl")" "$("$E" inspect "kafka://$B/orders" --where '$key != null and ($key | startswith("key-"))' | "$PY" -c 'import sys,json; print(json.load(sys.stdin)["total"]["records"])')" "inspect --where on a topic counts records"

# ---- topic -> segment dir -> topic
"$E" cat "kafka://$B/orders" | "$E" write "$TMP/backup"
"$E" write "kafka://$B/three" --in "$TMP/backup" --partition hash
"$E" cat "kafka://$B/three" | norm >"$TMP/got3.norm"
cmp -s "$TMP/want.norm" "$TMP/got3.norm" && pass || fail "topic -> segments -> topic differs"

# ---- --partition hash is Java's murmur2 (kafka-python's partitioner gives the vectors)
if [ "$HAVE_KPY" = 1 ]; then
  "$E" cat "kafka://$B/three" -f '%p\t%k\n' --where '$key != null and ($key | startswith("key-"))' | sort -u >"$TMP/placed"
  "$PY" - "$TMP/placed" <<'EOF' && pass || fail "--partition hash differs from Java's murmur2"
import sys
from kafka.partitioner.default import murmur2
n = 0
for line in open(sys.argv[1]):
    p, k = line.rstrip("\n").split("\t", 1)
    want = (murmur2(k.encode()) & 0x7fffffff) % 3
    assert int(p) == want, (k, p, want)
    n += 1
assert n >= 40, n
EOF
else
  echo "SKIP: python3-kafka not installed (murmur2 vectors)"
fi
# ---- several producer instances (--producers 3): murmur2 placement, per-partition order
# kept, keyless records spread
"$PY" -c 'import json
for i in range(4000):
    k = None if i % 10 == 0 else "k%d" % (i % 37)
    print(json.dumps({"key": k, "value": str(i)}))' >"$TMP/many.jsonl"
"$E" write "kafka://$B/many" --partition hash --producers 3 --in "$TMP/many.jsonl" 2>"$TMP/err" && pass || fail "write --producers 3"
"$E" cat "kafka://$B/many" >"$TMP/many.got"
"$PY" - "$TMP/many.got" "$HAVE_KPY" <<'EOF' && pass || fail "--producers 3: placement or order"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 4000, len(rows)
assert sorted(int(r["value"]) for r in rows) == list(range(4000))
last, keyparts, nullparts = {}, {}, set()
for r in rows:  # cat prints each partition in offset order
    p, v = r["partition"], int(r["value"])
    assert v > last.get(p, -1), ("order", p, v)
    last[p] = v
    if r["key"] is None:
        nullparts.add(p)
    else:
        keyparts.setdefault(r["key"], set()).add(p)
assert all(len(s) == 1 for s in keyparts.values()), "a key in two partitions"
assert len(nullparts) >= 2, nullparts
if sys.argv[2] == "1":
    from kafka.partitioner.default import murmur2
    for k, ps in keyparts.items():
        assert next(iter(ps)) == (murmur2(k.encode()) & 0x7fffffff) % 8, k
EOF
expect_exit 2 "$E" write "$TMP/dir-many" --producers 2 --in "$TMP/many.jsonl"
expect_contains "$TMP/err" "--producers is for Kafka destinations"
# --partition N
printf '{"value":"a"}\n{"value":"b","key":"z"}\n' | "$E" write "kafka://$B/three" --partition 1
expect_eq "a b" "$("$E" cat "kafka://$B/three?partition=1" --from -2 -f '%v\n' | paste -sd' ')" "--partition N"
expect_exit 2 "$E" write "kafka://$B/three" --partition 7 --in "$TMP/odd.jsonl"
expect_contains "$TMP/err" "partition 7 does not exist"
expect_exit 2 "$E" write "kafka://$B/one" --partition keep --in "$TMP/odd.jsonl"
expect_contains "$TMP/err" "has 1 partitions"
expect_contains "$TMP/err" "1 records were delivered before the error"

# ---- errors: unknown topic (not auto-created), unknown partition, unreachable cluster, -X, --config
expect_exit 2 "$E" cat "kafka://$B/nosuch"
expect_contains "$TMP/err" "topic does not exist"
expect_exit 2 "$E" write "kafka://$B/nosuch" --in "$TMP/odd.jsonl"
expect_contains "$TMP/err" "--create-topic"
expect_eq 0 "$(kcat -L -b "$B" 2>/dev/null | grep -c 'topic "nosuch"')" "a mistyped topic is not created"
expect_exit 0 "$E" write "kafka://$B/made" --create-topic --in "$TMP/odd.jsonl"
expect_eq 3 "$("$E" cat "kafka://$B/made" | wc -l)" "--create-topic"
expect_exit 2 "$E" cat "kafka://$B/orders?partition=9"
expect_contains "$TMP/err" "partition 9 does not exist"
start=$(date +%s)
expect_exit 2 "$E" cat kafka://127.0.0.1:1/orders --timeout 2s
expect_contains "$TMP/err" "no metadata within 2000 ms"
[ $(( $(date +%s) - start )) -le 10 ] && pass || fail "unreachable cluster not bounded by --timeout"
expect_exit 2 "$E" write kafka://127.0.0.1:1/orders --timeout 1s --in "$TMP/odd.jsonl"
expect_exit 2 "$E" cat "kafka://$B/orders" -X no.such.property=1
expect_contains "$TMP/err" "no.such.property"
expect_exit 2 "$E" cat "kafka://$B/orders" -X sasl.password=hunter2 -X security.protocol=bogus
if grep -q hunter2 "$TMP/err"; then fail "a secret was echoed"; else pass; fi
printf 'sasl.password=hunter2\nsecurity.protocol=bogus\n' >"$TMP/client.properties"
expect_exit 2 "$E" cat "kafka://$B/orders" --config "$TMP/client.properties"
if grep -q hunter2 "$TMP/err"; then fail "a secret from --config was echoed"; else pass; fi
printf '# comment\nfetch.wait.max.ms=50\n' >"$TMP/ok.properties"
expect_eq 3 "$("$E" cat "kafka://$B/one" --config "$TMP/ok.properties" -X client.id=me | wc -l)" "--config and -X"
"$E" cat -X list >"$TMP/xlist"
expect_contains "$TMP/xlist" "bootstrap.servers"
expect_exit 2 "$E" cat "kafka://user:pw@$B/one"
expect_contains "$TMP/err" "carry no credentials"
# CLI11 trap: -X before the positional argument does not swallow it
expect_eq 3 "$("$E" cat -X client.id=a -X client.id=b "kafka://$B/one" | wc -l)" "-X before SRC"

# ---- --follow: records produced later arrive; Ctrl-C stops it (exit 130, what was read is out)
"$E" cat "kafka://$B/one" --follow -f '%v\n' >"$TMP/follow.out" 2>"$TMP/follow.err" &
F=$!
for _ in $(seq 50); do [ "$(wc -l <"$TMP/follow.out")" -ge 3 ] && break; sleep 0.1; done
printf '{"value":"later"}\n' | "$E" write "kafka://$B/one"
for _ in $(seq 50); do grep -q later "$TMP/follow.out" && break; sleep 0.1; done
kill -INT $F
rc=0; wait $F || rc=$?
expect_eq 130 "$rc" "--follow exit code on Ctrl-C"
grep -q '^later$' "$TMP/follow.out" && pass || fail "--follow did not see a record produced later"
if grep -q "interrupted" "$TMP/follow.err"; then fail "Ctrl-C on cat --follow printed an error"; else pass; fi

# ---- -G: commits only what was written; a second client sees the commits
"$E" cat "kafka://$B/orders" -G g2 -n 100 -X session.timeout.ms=6000 >"$TMP/g.first"
expect_eq 100 "$(wc -l <"$TMP/g.first")" "-G with -n"
"$E" cat "kafka://$B/orders" -G g2 -X session.timeout.ms=6000 >"$TMP/g.rest"
expect_eq 2003 "$(cat "$TMP/g.first" "$TMP/g.rest" | norm | sort -u | wc -l)" "the group resumes after what was written"
expect_eq 2003 "$(cat "$TMP/g.first" "$TMP/g.rest" | wc -l)" "no record twice across group runs"
# The same with the cooperative protocol (incremental assign and unassign).
GC=(-X session.timeout.ms=6000 -X partition.assignment.strategy=cooperative-sticky)
"$E" cat "kafka://$B/orders" -G g2c -n 100 "${GC[@]}" >"$TMP/gc.first" 2>"$TMP/gc.err" || fail "-G cooperative: $(cat "$TMP/gc.err")"
"$E" cat "kafka://$B/orders" -G g2c "${GC[@]}" >"$TMP/gc.rest" 2>>"$TMP/gc.err" || fail "-G cooperative: $(cat "$TMP/gc.err")"
expect_eq 2003 "$(cat "$TMP/gc.first" "$TMP/gc.rest" | norm | sort -u | wc -l)" "-G cooperative: the group resumes after what was written"
expect_eq 2003 "$(cat "$TMP/gc.first" "$TMP/gc.rest" | wc -l)" "-G cooperative: no record twice across group runs"
# committed_at_end GROUP: kafka-python sees GROUP's commits at the end offsets of orders.
committed_at_end() {
  "$PY" - "$B" "$1" <<'EOF'
import sys
from kafka import KafkaConsumer, TopicPartition
c = KafkaConsumer(bootstrap_servers=sys.argv[1], group_id=sys.argv[2], enable_auto_commit=False)
parts = [TopicPartition("orders", p) for p in range(4)]
ends = c.end_offsets(parts)
got = {tp: c.committed(tp) for tp in parts}
assert all(got[tp] == ends[tp] for tp in parts), (got, ends)
EOF
}
if [ "$HAVE_KPY" = 1 ]; then
  committed_at_end g2 && pass || fail "kafka-python does not see the group's commits at the end offsets"
  # With --where, every partition read is committed to its end, matches or not.
  k=$(head -1 "$TMP/gen.jsonl" | jq -r .key)
  "$E" cat "kafka://$B/orders" -G g3 --where "\$key == \"$k\"" -X session.timeout.ms=6000 >"$TMP/g3.out"
  [ -s "$TMP/g3.out" ] && pass || fail "-G --where selected nothing"
  committed_at_end g3 && pass || fail "-G --where left partitions without a match uncommitted"
fi
stop_sandbox

# ---- faults: authorization failures, a broker that disappears, a producer that cannot deliver
"$E" gen --count 2000 --partitions 2 --seed 3 >"$TMP/two.jsonl"
expect_exit 2 "$E" sandbox --load t="$TMP/two.jsonl" --fault topic-error=t:TOPIC_AUTHORIZATION_FAILED -- \
  "$E" cat kafka:///t --timeout 3s
expect_contains "$TMP/err" "Topic authorization failed"
expect_exit 2 "$E" sandbox --load t="$TMP/two.jsonl" --fault request-error=Fetch:TOPIC_AUTHORIZATION_FAILED:50 -- \
  "$E" cat kafka:///t --timeout 3s
expect_contains "$TMP/err" "authorization failed"
start=$(date +%s)
expect_exit 2 "$E" sandbox --load t="$TMP/two.jsonl" --fault down-after=1500ms -- "$E" cat kafka:///t --follow --timeout 2s
expect_contains "$TMP/err" "lost the cluster"
[ $(( $(date +%s) - start )) -le 20 ] && pass || fail "a vanished cluster was not noticed within the timeout"
expect_eq 2000 "$(grep -c '"topic"' "$TMP/out")" "records before the broker went away were written"
# The broker goes away mid-write: 2,000 records in batches of 2 at 200 ms a round trip take
# far longer than the 4 s the broker stays up, so some are sent and the rest time out,
# however slowly the writer starts (a loaded machine, a sanitizer build).
expect_exit 1 "$E" sandbox --topics t:2 --fault rtt=200ms --fault down-after=4000ms -- \
  "$E" write kafka:///t --in "$TMP/two.jsonl" --timeout 3s -X batch.num.messages=2
expect_contains "$TMP/err" "records were not delivered"
expect_exit 2 "$E" sandbox --fault bogus=1
expect_exit 2 "$E" sandbox --fault request-error=Nope:TOPIC_AUTHORIZATION_FAILED

# Ctrl-C while producing: flushes what it can, says what was not delivered, exit 130
start_sandbox --topics t:2 --fault rtt=300ms
"$E" gen --count 20000 --partitions 2 >"$TMP/big.jsonl"
"$E" write "kafka://$B/t" --in "$TMP/big.jsonl" -X batch.num.messages=10 2>"$TMP/int.err" &
W=$!
sleep 3
kill -INT $W
rc=0; wait $W || rc=$?
expect_eq 130 "$rc" "interrupted producer exit code"
expect_contains "$TMP/int.err" "not delivered"
acked=$(sed -n 's/.*interrupted: \([0-9]*\) records acknowledged.*/\1/p' "$TMP/int.err")
stored=$("$E" inspect "kafka://$B/t" --json | "$PY" -c 'import sys,json; print(sum(p["high"] for p in json.load(sys.stdin)["partitions"]))')
[ -n "$acked" ] && [ "$acked" -le "$stored" ] && pass || fail "acknowledged count $acked exceeds what the broker stored ($stored)"
stop_sandbox

# ---- from a pipe that is slow to fill (tail -f | evt write): each line goes at once, not
# when 4096 have arrived or the input ends
start_sandbox --topics slow:1
( echo '{"key":"k1","value":1}'; sleep 4; echo '{"key":"k2","value":2}' ) | "$E" write "kafka://$B/slow" 2>/dev/null &
W=$!
got=0
for _ in $(seq 30); do
  got=$("$E" inspect "kafka://$B/slow" --json | jq '[.partitions[].high] | add')
  [ "$got" -ge 1 ] && break
  sleep 0.1
done
expect_eq 1 "$got" "a line from a pipe is sent before the next one comes"
wait $W
expect_eq 2 "$("$E" inspect "kafka://$B/slow" --json | jq '[.partitions[].high] | add')" "then the next"
stop_sandbox

# A cooperative-sticky consumer stopped after the group's JoinGroup answer and before any
# assignment (every SyncGroup refused): librdkafka 2.0.2 aborts when it destroys such a
# consumer (librdkafka #4312), evt keeps the closed handle instead, so Ctrl-C exits 130.
start_sandbox --topics t:2 --fault request-error=SyncGroup:REBALANCE_IN_PROGRESS:100000
"$E" cat "kafka://$B/t" -G gnosync -X partition.assignment.strategy=cooperative-sticky >/dev/null 2>"$TMP/nosync.err" &
P=$!
sleep 5  # past the mock's 3 s initial join delay: joined, then refused a SyncGroup or more
kill -INT $P
got=0
wait $P || got=$?
expect_eq 130 "$got" "-G cooperative, stopped before any assignment: Ctrl-C exits 130 (no librdkafka abort)"
if grep -q "assignor_state" "$TMP/nosync.err"; then fail "librdkafka aborted: $(cat "$TMP/nosync.err")"; else pass; fi
stop_sandbox

finish
