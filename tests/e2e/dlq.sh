# evt dlq on the sandbox: kafka-python (a second client) produces dead-letter queues with
# Kafka Connect, Spring (struct-packed binary int/long headers), Kafka Streams and custom
# headers, evt backfill writes its own; summary groups and fingerprints, show (also
# --with-original), wrong and missing headers, redrive to the original partitions (read
# back with kcat), the cap, --max-redrives, --dry-run, the ledger (never twice, --status),
# and a kill -9 loop during a redrive: every selected record exactly once.
source "$(dirname "$0")/lib.sh"
E=$EVT
require_cmd kcat
PY=/usr/bin/python3
require python3-kafka "$PY" -c 'import kafka'

trap 'stop_sandbox; rm -rf "$TMP"' EXIT

start_sandbox --topics payments:2,orders:4,clicks:2,connect-dlq:1,payments.DLT:2,streams-dlq:1,custom-dlq:1,out:2,kill:4,bf:1,bf-dlq:1
[[ "$B" =~ ^127\.0\.0\.1:[0-9]+$ ]] && pass || fail "no sandbox address"
export EVT_BROKERS=$B
export EVT_STATE_DIR=$TMP/state
T0=1709251200000  # 2024-03-01T00:00:00Z

# The originals (payments: 6 per partition) and the dead-letter queues, by kafka-python.
"$PY" - "$B" "$T0" <<'EOF'
import struct, sys, uuid
from kafka import KafkaProducer
b, t0 = sys.argv[1], int(sys.argv[2])
p = KafkaProducer(bootstrap_servers=b, api_version=(2, 0, 0), acks="all")
s = lambda x: x.encode()
i32 = lambda v: struct.pack(">i", v)
i64 = lambda v: struct.pack(">q", v)
for part in range(2):
    for i in range(6):
        p.send("payments", key=s("pk%d-%d" % (part, i)), value=s('{"amount":%d}' % -i), partition=part,
               timestamp_ms=t0 + part * 1000 + i, headers=[("app", b"web")])
p.flush()
# Spring: 12 records, originals payments/<part>/<i>; the value of payments/1/5 differs from its original.
for part in range(2):
    for i in range(6):
        v = '{"amount":%d}' % -i if (part, i) != (1, 5) else '{"amount":"changed"}'
        h = [("app", b"web"),
             ("kafka_dlt-original-topic", b"payments"), ("kafka_dlt-original-partition", i32(part)),
             ("kafka_dlt-original-offset", i64(i)), ("kafka_dlt-original-timestamp", i64(t0 + part * 1000 + i)),
             ("kafka_dlt-original-timestamp-type", b"CreateTime"), ("kafka_dlt-original-consumer-group", b"billing"),
             ("kafka_dlt-exception-fqcn", b"org.springframework.kafka.listener.ListenerExecutionFailedException"),
             ("kafka_dlt-exception-cause-fqcn", b"java.lang.IllegalStateException"),
             ("kafka_dlt-exception-message", s("Listener failed; amount %d < 0 for order %s" % (-i, uuid.uuid4()))),
             ("kafka_dlt-exception-stacktrace", b"java.lang.IllegalStateException: x\n\tat com.acme.Billing.charge(Billing.java:42)\n"),
             ("retry_topic-attempts", i32(3))]
        p.send("payments.DLT", key=s("pk%d-%d" % (part, i)), value=s(v), partition=part, timestamp_ms=t0 + 60000 + i, headers=h)
# Spring with wrong headers: a text partition, a missing offset, a 4-byte offset.
bad = [[("kafka_dlt-original-topic", b"payments"), ("kafka_dlt-original-partition", b"1"), ("kafka_dlt-original-offset", i64(3))],
       [("kafka_dlt-original-topic", b"payments"), ("kafka_dlt-original-partition", i32(1))],
       [("kafka_dlt-original-topic", b"payments"), ("kafka_dlt-original-partition", i32(0)), ("kafka_dlt-original-offset", i32(2))]]
for h in bad:
    h = h + [("kafka_dlt-exception-fqcn", b"java.lang.RuntimeException"), ("kafka_dlt-exception-message", b"broken headers")]
    p.send("payments.DLT", key=b"bad", value=b"{}", partition=0, timestamp_ms=t0 + 70000, headers=h)
# Connect: 20 deserialization failures (offsets differ), 10 of another cause, 2 redriven 3 times already.
def connect(topic, part, off, cls, msg, extra=()):
    return [("__connect.errors.topic", s(topic)), ("__connect.errors.partition", s(str(part))),
            ("__connect.errors.offset", s(str(off))), ("__connect.errors.connector.name", b"sink-pg"),
            ("__connect.errors.task.id", b"0"), ("__connect.errors.stage", b"VALUE_CONVERTER"),
            ("__connect.errors.class.name", b"io.confluent.connect.avro.AvroConverter"),
            ("__connect.errors.exception.class.name", s(cls)), ("__connect.errors.exception.message", s(msg)),
            ("__connect.errors.exception.stacktrace", b"x\n\tat io.confluent.connect.avro.AvroConverter.toConnectData(AvroConverter.java:110)\n")] + list(extra)
for i in range(20):
    p.send("connect-dlq", key=s("o%d" % i), value=s("v%d" % i), partition=0, timestamp_ms=t0 + 1000 * i,
           headers=connect("orders", i % 4, 100 + i, "org.apache.kafka.connect.errors.DataException",
                           "Failed to deserialize data for topic orders at offset %d: Unknown magic byte 0x%x" % (100 + i, 0xdead00 + i)))
for i in range(10):
    p.send("connect-dlq", key=s("m%d" % i), value=s("w%d" % i), partition=0, timestamp_ms=t0 + 100000 + i,
           headers=connect("orders", i % 4, 200 + i, "org.apache.kafka.connect.errors.DataException",
                           "Field 'amount%d' is missing in record %s" % (i, uuid.uuid4())))
for i in range(2):
    p.send("connect-dlq", key=s("poison%d" % i), value=b"p", partition=0, timestamp_ms=t0 + 200000 + i,
           headers=connect("orders", 0, 300 + i, "java.lang.NullPointerException", "poison", [("evt.redrive.count", b"3")]))
# Streams (KIP-1034): 5 records, and one without any dead-letter header.
for i in range(5):
    p.send("streams-dlq", key=s("c%d" % i), value=b"\x00\x01", partition=0, timestamp_ms=t0 + i,
           headers=[("__streams.errors.exception", b"org.apache.kafka.common.errors.SerializationException"),
                    ("__streams.errors.message", s("Size of data received by IntegerDeserializer is %d, not 4" % (i + 5))),
                    ("__streams.errors.stacktrace", b"s\n\tat org.apache.kafka.Foo.bar(Foo.java:1)\n"),
                    ("__streams.errors.topic", b"clicks"), ("__streams.errors.partition", s(str(i % 2))),
                    ("__streams.errors.offset", s(str(i)))])
p.send("streams-dlq", key=b"lost", value=b"x", partition=0, timestamp_ms=t0)
# Custom: binary int32/int64 coordinates under home-made names.
for i in range(4):
    p.send("custom-dlq", key=s("u%d" % i), value=s("cv%d" % i), partition=0, timestamp_ms=t0 + i,
           headers=[("x-topic", b"orders"), ("x-part", i32(i % 4)), ("x-off", i64(500 + i)), ("x-err", b"Boom"),
                    ("x-msg", s("id %d failed" % i)), ("trace", b"t%d" % i)])
p.flush()
EOF
[ $? -eq 0 ] && pass || fail "kafka-python could not produce the DLQs"

j() { "$PY" -c "import sys, json
rows = [json.loads(l) for l in sys.stdin if l.strip()]
$1"; }

# ---- summary: groups, counts, fingerprints
expect_exit 0 "$E" dlq summary -t connect-dlq
cp "$TMP/out" "$TMP/connect.sum"
expect_eq "3" "$(j 'print(len(rows))' <"$TMP/connect.sum")" "Connect: three causes"
expect_eq "20 10 2" "$(j 'print(*[r["count"] for r in rows])' <"$TMP/connect.sum")" "counts, largest first"
expect_eq "orders DataException VALUE_CONVERTER sink-pg" \
  "$(j 'r = rows[0]; print(r["topic"], r["class"].split(".")[-1], r["stage"], r["connector"])' <"$TMP/connect.sum")" "group fields"
expect_eq "Failed to deserialize data for topic orders at offset <n>: Unknown magic byte <hex>" \
  "$(j 'print(rows[0]["pattern"])' <"$TMP/connect.sum")" "the normalised message"
expect_eq "0:100-116 1:101-117 2:102-118 3:103-119" \
  "$(j 'print(*["%d:%d-%d" % (o["partition"], o["first_offset"], o["last_offset"]) for o in rows[0]["original"]])' <"$TMP/connect.sum")" \
  "original partitions and offset ranges"
expect_eq "2024-03-01T00:00:00.000Z 2024-03-01T00:00:19.000Z" "$(j 'print(rows[0]["first_seen"], rows[0]["last_seen"])' <"$TMP/connect.sum")" "first and last seen"
expect_eq "at io.confluent.connect.avro.AvroConverter.toConnectData(AvroConverter.java:110)" \
  "$(j 'print(rows[0]["sample"]["frame"])' <"$TMP/connect.sum")" "sample: first frame"
FP=$(j 'print(rows[0]["fingerprint"])' <"$TMP/connect.sum")
FP2=$(j 'print(rows[1]["fingerprint"])' <"$TMP/connect.sum")
[[ "$FP" =~ ^[0-9a-f]{12}$ && "$FP" != "$FP2" ]] && pass || fail "fingerprints: [$FP] [$FP2]"
expect_eq "30" "$("$E" dlq summary -t connect-dlq --by class | j 'print(rows[0]["count"])')" "--by class merges the two DataException causes"
expect_eq "connect" "$("$E" dlq summary -t connect-dlq --by profile | j 'print(*[r["by"]["profile"] for r in rows])')" "--by profile"
expect_eq "10" "$("$E" dlq summary -t connect-dlq --where '$key | startswith("m")' | j 'print(rows[0]["count"])')" "--where"
expect_eq "5" "$("$E" dlq summary -t connect-dlq --from 15 --until 20 | j 'print(sum(r["count"] for r in rows))')" "--from/--until"
expect_exit 0 "$E" dlq summary -t connect-dlq --format table
expect_contains "$TMP/out" "20  orders"
expect_contains "$TMP/out" "32 records in 3 groups"
expect_exit 2 "$E" dlq summary -t connect-dlq --by colour
expect_contains "$TMP/err" "unknown field 'colour'"

# Spring: binary coordinates; three records with wrong or missing headers, reported per record.
expect_exit 0 "$E" dlq summary -t payments.DLT
cp "$TMP/out" "$TMP/spring.sum"; cp "$TMP/err" "$TMP/spring.err"
expect_eq "12 billing spring" "$(j 'r = rows[0]; print(r["count"], r["group"], r["profile"])' <"$TMP/spring.sum")" "Spring: one cause with different amounts and UUIDs"
expect_eq "0:0-5 1:0-5" "$(j 'print(*["%d:%d-%d" % (o["partition"], o["first_offset"], o["last_offset"]) for o in rows[0]["original"]])' <"$TMP/spring.sum")" "binary partitions and offsets"
expect_eq "3" "$(j 'print(sum(r["problems"] for r in rows))' <"$TMP/spring.sum")" "header problems counted"
expect_eq 3 "$(grep -c 'evt: warning: payments.DLT/0@' "$TMP/spring.err")" "one warning per record with a problem"
expect_contains "$TMP/spring.err" "kafka_dlt-original-partition: 1 byte, expected a 4-byte big-endian int32"
expect_contains "$TMP/spring.err" "kafka_dlt-original-offset: missing"
expect_contains "$TMP/spring.err" "kafka_dlt-original-offset: 4 bytes, expected an 8-byte big-endian int64"

# Streams, custom (--header-map), and a record without dead-letter headers.
expect_eq "5 clicks 1" "$("$E" dlq summary -t streams-dlq --by topic | j 'print(rows[0]["count"], rows[0]["topic"], rows[1]["no_coordinates"])')" "Streams"
expect_eq "4 orders Boom 500 503" "$("$E" dlq summary -t custom-dlq --by class --header-map original.topic=x-topic,original.partition=x-part:int32,original.offset=x-off:int64,error.class=x-err,error.message=x-msg |
  j 'r = rows[0]; print(r["count"], r["topic"], r["class"], min(o["first_offset"] for o in r["original"]), max(o["last_offset"] for o in r["original"]))')" "--header-map with binary ints"
# the same map read as int64 everywhere: every record a problem, no number made up
"$E" dlq summary -t custom-dlq --header-map original.topic=x-topic,original.partition=x-part:int64,original.offset=x-off:int64 >"$TMP/out" 2>"$TMP/err" || fail "summary with a wrong --header-map encoding: exit $?"
expect_eq "4 4" "$(j 'print(rows[0]["problems"], rows[0]["no_coordinates"])' <"$TMP/out")" "a wrong --header-map encoding is a problem"
expect_contains "$TMP/err" "x-part: 4 bytes, expected an 8-byte big-endian int64"
expect_exit 2 "$E" dlq summary -t custom-dlq --header-map original.topic
expect_exit 2 "$E" dlq summary -t custom-dlq --profile mq

# evt backfill's own dead letters.
printf 'a\nb\nc\n' | kcat -P -b "$B" -t bf -p 0 2>/dev/null
expect_exit 1 "$E" backfill kafka:///bf --retries 0 --exec 'exit 3' --dead-letter kafka:///bf-dlq
expect_eq "3 evt bf" "$("$E" dlq summary -t bf-dlq --by profile,topic | j 'print(rows[0]["count"], rows[0]["by"]["profile"], rows[0]["by"]["topic"])')" "evt backfill's dead letters"

# ---- show
expect_exit 0 "$E" dlq show -t connect-dlq --fingerprint "$FP"
expect_eq 20 "$(wc -l <"$TMP/out")" "--fingerprint selects one group"
expect_eq "orders 0 100 connect $FP VALUE_CONVERTER v0" "$(head -1 "$TMP/out" | j 'r = rows[0]; print(r["original"]["topic"], r["original"]["partition"], r["original"]["offset"], r["profile"], r["fingerprint"], r["error"]["stage"], r["value"])')" "show fields"
expect_eq 20 "$("$E" dlq show -t connect-dlq --fingerprint "${FP:0:6}" | wc -l)" "a fingerprint prefix"
expect_eq "o0 v0" "$("$E" dlq show -t connect-dlq -n 1 -f '%k %v\n')" "-f as evt cat"
expect_exit 2 "$E" dlq show -t connect-dlq --fingerprint xyz
"$E" dlq show -t payments.DLT --with-original >"$TMP/orig" 2>"$TMP/err" || fail "show --with-original: exit $?"
expect_eq "11 1 3" "$(j 'print(sum(1 for r in rows if r["original"] and r["original"].get("matches")),
  sum(1 for r in rows if r["original"] and r["original"].get("found") and not r["original"]["matches"]),
  sum(1 for r in rows if r["original"] and not r["original"].get("found")))' <"$TMP/orig")" "--with-original: 11 match, payments/1/5 differs, 3 without coordinates"
expect_eq "1 -1 [{'header': 'kafka_dlt-original-partition', 'what': '1 byte, expected a 4-byte big-endian int32'}]" \
  "$(j 'r = [r for r in rows if r["key"] == "bad" and r["original"]["offset"] == 3][0]; print(1, r["original"]["partition"], r["problems"])' <"$TMP/orig")" "show: problems per record, no guessed partition"

# ---- redrive: dry run, the cap, the originals' partitions, headers, timestamps
expect_exit 0 "$E" dlq redrive -t payments.DLT --dry-run
expect_eq "payments:0:6 payments:1:6" "$(j 'print(*["%s:%d:%d" % (r["topic"], r["partition"], r["records"]) for r in rows if r["kind"] == "destination"])' <"$TMP/out")" "dry run per destination"
expect_eq "12 3" "$(j 't = rows[-1]; print(t["would_send"], t["no_coordinates"])' <"$TMP/out")" "dry run totals"
expect_exit 2 "$E" dlq redrive -t connect-dlq --max 10
expect_contains "$TMP/err" "refusing to redrive 30 records: more than --max 10"

expect_exit 0 "$E" dlq redrive -t payments.DLT --ledger "$TMP/spring.ledger"
expect_contains "$TMP/err" "sent 12 of 15 selected records"
expect_contains "$TMP/err" "3 without original coordinates"
kcat -C -b "$B" -t payments -p 1 -o 6 -e -q -f '%p|%k|%s|%T|%h\n' 2>/dev/null >"$TMP/back1" || true
expect_eq 6 "$(wc -l <"$TMP/back1")" "6 records back in payments/1"
head -1 "$TMP/back1" | cut -d'|' -f1-4 >"$TMP/first"
expect_eq "1|pk1-0|{\"amount\":0}|$((T0 + 1000))" "$(cat "$TMP/first")" "key, value, original timestamp, original partition"
h=$(head -1 "$TMP/back1" | cut -d'|' -f5)
[[ "$h" == app=web,evt.redrive.id=*,evt.redrive.count=1,evt.redrive.source=payments.DLT/1/0 ]] && pass || fail "headers: [$h]"
[[ "$h" != *kafka_dlt* && "$h" != *retry_topic* ]] && pass || fail "dead-letter headers were kept: $h"
expect_eq 6 "$(kcat -C -b "$B" -t payments -p 0 -o 6 -e -q -f '%k\n' 2>/dev/null | wc -l | tr -d ' ')" "6 records back in payments/0"
# never twice: a rerun sends nothing; --status
expect_exit 0 "$E" dlq redrive -t payments.DLT --ledger "$TMP/spring.ledger"
expect_contains "$TMP/err" "sent 0 of 15 selected records"
expect_contains "$TMP/err" "12 already redriven"
expect_exit 0 "$E" dlq redrive -t payments.DLT --ledger "$TMP/spring.ledger" --status
expect_eq "12 2 False" "$(j 'r = rows[0]; print(r["redriven"], r["runs"], r["interrupted"])' <"$TMP/out")" "--status"
expect_exit 2 "$E" dlq redrive -t connect-dlq --ledger "$TMP/spring.ledger" --all
expect_contains "$TMP/err" "belongs to a redrive of another source"

# --to, --max-redrives, --keep-headers, --partition hash; the default ledger under EVT_STATE_DIR
expect_exit 0 "$E" dlq redrive -t connect-dlq --to out --partition hash --all --keep-headers --commit-group redrivers
expect_contains "$TMP/err" "sent 30 of 32 selected records"
expect_eq "32 0" "$("$E" lag -G redrivers | j 'print(*[(r["committed"], r["lag"]) for r in rows if r["kind"] == "partition"][0])')" "--commit-group: the DLQ group is past every handled record"
expect_contains "$TMP/err" "2 left after 3 redrives"
ls "$TMP/state"/dlq-*.ledger >/dev/null 2>&1 && pass || fail "no default ledger under EVT_STATE_DIR"
kcat -C -b "$B" -t out -o beginning -e -q -f '%k|%p\n' 2>/dev/null >"$TMP/out.recs" || true
expect_eq 30 "$(wc -l <"$TMP/out.recs")" "30 records in out"
"$PY" - "$TMP/out.recs" <<'EOF' && pass || fail "--partition hash: murmur2 of the key"
import sys
from kafka.partitioner.default import murmur2
for l in open(sys.argv[1]):
    k, p = l.rstrip("\n").split("|")
    assert int(p) == (murmur2(k.encode()) & 0x7fffffff) % 2, l
EOF
expect_eq 30 "$(kcat -C -b "$B" -t out -o beginning -e -q -f '%h\n' 2>/dev/null | grep -c '__connect.errors.topic=orders')" "--keep-headers"
expect_exit 0 "$E" dlq redrive -t connect-dlq --to out --all
expect_contains "$TMP/err" "30 already redriven"
expect_exit 2 "$E" dlq redrive -t payments.DLT --partition 1
# Records whose redrive count reached the limit: --max-redrives 4 lets them go
expect_exit 0 "$E" dlq redrive -t connect-dlq --to out --all --max-redrives 4 --where '$key | startswith("poison")'
expect_contains "$TMP/err" "sent 2 of 2"
expect_eq "4 4" "$(kcat -C -b "$B" -t out -o beginning -e -q -f '%k %h\n' 2>/dev/null | grep '^poison' | sed 's/.*evt.redrive.count=\([0-9]*\).*/\1/' | paste -sd' ')" "evt.redrive.count incremented from 3"
# --header-map DLQ redriven to its original partitions of orders
expect_exit 0 "$E" dlq redrive -t custom-dlq --header-map original.topic=x-topic,original.partition=x-part:int32,original.offset=x-off:int64,error.class=x-err,error.message=x-msg
expect_eq "0|u0|cv0|trace=t0 1|u1|cv1|trace=t1 2|u2|cv2|trace=t2 3|u3|cv3|trace=t3" \
  "$(for p in 0 1 2 3; do kcat -C -b "$B" -t orders -p $p -o beginning -e -q -f '%p|%k|%s|%h\n' 2>/dev/null; done | sed 's/,evt.redrive.*//' | paste -sd' ')" "custom: original partitions, x-* headers removed"

# ---- kill -9 during a redrive, at random moments: then every record exactly once
"$PY" - >"$TMP/kill.jsonl" <<'EOF'
import json
for i in range(20000):
    h = [{"key": "__connect.errors.topic", "value": "kill"}, {"key": "__connect.errors.partition", "value": str(i % 4)},
         {"key": "__connect.errors.offset", "value": str(i)},
         {"key": "__connect.errors.exception.class.name", "value": "E"},
         {"key": "__connect.errors.exception.message", "value": "failed %d" % i}]
    print(json.dumps({"topic": "kdlq", "partition": 0, "offset": i, "timestamp": 1709251200000 + i,
                      "key": "k%d" % i, "value": "v%d" % i, "headers": h}))
EOF
KL=$TMP/kill.ledger
kills=0
for round in $(seq 12); do
  "$E" dlq redrive "$TMP/kill.jsonl" --all --rate 2000 --ledger "$KL" >/dev/null 2>>"$TMP/kill.err" &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
done
[ "$kills" -ge 10 ] && pass || fail "only $kills kills landed"
# one Ctrl-C: exit 130 with the ledger written
"$E" dlq redrive "$TMP/kill.jsonl" --all --rate 2000 --ledger "$KL" >/dev/null 2>"$TMP/int.err" &
pid=$!
sleep 0.5
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
expect_eq 130 "$rc" "Ctrl-C during a redrive"
expect_contains "$TMP/int.err" "interrupted after"
expect_exit 0 "$E" dlq redrive "$TMP/kill.jsonl" --all --ledger "$KL"
expect_exit 0 "$E" dlq redrive "$TMP/kill.jsonl" --all --ledger "$KL" --status
expect_eq "20000 False" "$(j 'print(rows[0]["redriven"], rows[0]["interrupted"])' <"$TMP/out")" "the ledger holds every record"
for p in 0 1 2 3; do kcat -C -b "$B" -t kill -p $p -o beginning -e -q -f '%p %k %h\n' 2>/dev/null || true; done >"$TMP/kill.got" || true
"$PY" - "$TMP/kill.got" <<'EOF' && pass || fail "after kill -9: not every record exactly once"
import collections, sys
seen = collections.Counter()
for l in open(sys.argv[1]):
    p, k, h = l.rstrip("\n").split(" ", 2)
    i = int(k[1:])
    assert int(p) == i % 4, l
    src = [x for x in h.split(",") if x.startswith("evt.redrive.source=")]
    assert src == ["evt.redrive.source=kdlq/0/%d" % i], l
    seen[i] += 1
dups = [i for i, n in seen.items() if n > 1]
missing = [i for i in range(20000) if i not in seen]
if dups or missing:
    sys.exit("duplicates %d (e.g. %s), missing %d (e.g. %s)" % (len(dups), dups[:5], len(missing), missing[:5]))
EOF
finish
