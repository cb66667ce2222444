# Broker faults during write, replay and dlq redrive, on the sandbox (librdkafka's mock cluster, faults
# from `evt sandbox --fault`): request errors the producer retries, errors it cannot, a slow
# broker and a broker that goes away. Every run finishes or exits non-zero within a bounded
# time, says truly how many records were delivered, and its checkpoint never claims more
# than the topic holds.
source "$(dirname "$0")/lib.sh"
E=$EVT
trap 'stop_sandbox; rm -rf "$TMP"' EXIT
stored() { "$E" inspect "kafka://$B/$1" --json | jq '[.partitions[].high] | add'; }
claimed() { jq '[.positions[].next] | add // 0' "$1"; }
# within SECONDS WHAT CMD...: CMD's exit code in RC, and a failure when it took longer.
within() {
  local limit=$1 what=$2; shift 2
  local t0; t0=$(date +%s)
  RC=0; "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
  local took=$(( $(date +%s) - t0 ))
  [ "$took" -le "$limit" ] && pass || fail "$what: took ${took}s, more than ${limit}s"
}

"$E" gen --count 3000 --partitions 3 --seed 21 --topic orders >"$TMP/src.jsonl"
"$E" write "$TMP/src" <"$TMP/src.jsonl"

# ---- retriable request errors: the producer retries, nothing is lost or doubled
start_sandbox --topics orders:3 --fault request-error=Produce:NOT_LEADER_FOR_PARTITION:6
within 120 "write through retriable errors" "$E" write "kafka://$B/orders" --in "$TMP/src.jsonl"
expect_eq 0 "$RC" "write through retriable produce errors: exit"
expect_eq 3000 "$(stored orders)" "write through retriable produce errors: stored"
stop_sandbox
start_sandbox --topics orders:3 --fault request-error=Produce:NOT_LEADER_FOR_PARTITION:6
within 120 "replay through retriable errors" "$E" replay "$TMP/src" "kafka://$B/orders" --checkpoint "$TMP/a.ck"
expect_eq 0 "$RC" "replay through retriable produce errors: exit"
expect_eq 3000 "$(stored orders)" "replay through retriable produce errors: stored"
expect_eq true "$(jq .complete "$TMP/a.ck")" "replay through retriable produce errors: checkpoint complete"
stop_sandbox

# ---- errors the producer cannot get past: non-zero exit, checkpoint not ahead of the topic,
# and reruns complete with every record there (at least once here; --dedupe below)
start_sandbox --topics orders:3 --fault request-error=Produce:TOPIC_AUTHORIZATION_FAILED:4
within 120 "replay into authorization failures" "$E" replay "$TMP/src" "kafka://$B/orders" --checkpoint "$TMP/b.ck" \
  --checkpoint-interval 10ms --provenance --timeout 5s
[ "$RC" -ne 0 ] && pass || fail "replay into authorization failures: exit 0"
grep -q '^evt: error: ' "$TMP/err" && pass || fail "replay into authorization failures: no error line"
if [ -f "$TMP/b.ck" ]; then
  [ "$(claimed "$TMP/b.ck")" -le "$(stored orders)" ] && pass \
    || fail "checkpoint claims $(claimed "$TMP/b.ck") records, the topic holds $(stored orders)"
fi
# The errors are used up by the requests that meet them: rerun until they are (a few runs).
for _ in 1 2 3 4 5 6; do
  within 120 "replay rerun" "$E" replay "$TMP/src" "kafka://$B/orders" --checkpoint "$TMP/b.ck" --provenance \
    --timeout 5s
  [ "$RC" -eq 0 ] && break
  grep -q '^evt: error: ' "$TMP/err" && pass || fail "replay rerun into authorization failures: no error line"
  [ "$(claimed "$TMP/b.ck")" -le "$(stored orders)" ] && pass \
    || fail "rerun: checkpoint claims $(claimed "$TMP/b.ck") records, the topic holds $(stored orders)"
done
expect_eq 0 "$RC" "replay rerun after the errors stopped: exit"
n=$(kcat -C -b "$B" -t orders -e -q -f '%h\n' 2>/dev/null | tr ',' '\n' | grep '^evt.source=' | sort -u | wc -l)
expect_eq 3000 "$n" "replay rerun: every source record in the topic"
stop_sandbox

# ---- the same with --dedupe: exactly once. A failed batch followed by acknowledged ones
# leaves a gap below the highest source offset found past the checkpoint; the rerun skips
# exactly the records found, so the gap is sent again (it once skipped everything below).
start_sandbox --topics orders:3 --fault request-error=Produce:TOPIC_AUTHORIZATION_FAILED:4
rm -f "$TMP/e.ck"
for _ in 1 2 3 4 5 6 7; do
  within 120 "replay --dedupe into authorization failures" "$E" replay "$TMP/src" "kafka://$B/orders" \
    --checkpoint "$TMP/e.ck" --checkpoint-interval 10ms --provenance --dedupe --timeout 5s
  [ "$RC" -eq 0 ] && break
done
expect_eq 0 "$RC" "replay --dedupe rerun after the errors stopped: exit"
kcat -C -b "$B" -t orders -e -q -f '%h\n' 2>/dev/null | tr ',' '\n' | grep '^evt.source=' >"$TMP/dd.src" || true
expect_eq 3000 "$(sort -u "$TMP/dd.src" | wc -l)" "replay --dedupe reruns: every source record in the topic"
expect_eq 3000 "$(wc -l <"$TMP/dd.src")" "replay --dedupe reruns: no source record twice"
stop_sandbox

# ---- a slow broker (200 ms a round trip): finishes, all delivered, in bounded time
start_sandbox --topics orders:3 --fault rtt=200ms
within 180 "write to a slow broker" "$E" write "kafka://$B/orders" --in "$TMP/src.jsonl"
expect_eq 0 "$RC" "write to a slow broker: exit"
expect_eq 3000 "$(stored orders)" "write to a slow broker: stored"
within 180 "replay to a slow broker" "$E" replay "$TMP/src" "kafka://$B/orders" --checkpoint "$TMP/c.ck"
expect_eq 0 "$RC" "replay to a slow broker: exit"
expect_eq 6000 "$(stored orders)" "replay to a slow broker: stored"
stop_sandbox

# ---- the broker goes away mid-replay: non-zero within the timeout; the delivered count
# said is what the checkpoint claims at most
rm -f "$TMP/d.ck"
within 90 "replay when the broker goes away" "$E" sandbox --topics orders:3 --fault rtt=50ms --fault down-after=3s -- \
  "$E" replay "$TMP/src" kafka:///orders --checkpoint "$TMP/d.ck" --checkpoint-interval 10ms --rate 500 --timeout 3s
[ "$RC" -ne 0 ] && pass || fail "replay when the broker goes away: exit 0"
grep -q '^evt: error: ' "$TMP/err" && pass || fail "replay when the broker goes away: no error line"
sed 's/^/  replay when the broker goes away: /' "$TMP/err" | tail -2
if [ -f "$TMP/d.ck" ]; then
  # What was not acknowledged is said; the checkpoint claims no more than the rest.
  unacked=$(grep -o '[0-9]* records\? \(were \)\?not acknowledged' "$TMP/err" | grep -o '^[0-9]*' | head -1 || true)
  [ "$(claimed "$TMP/d.ck")" -le $((3000 - ${unacked:-0})) ] && pass \
    || fail "broker gone: the checkpoint claims $(claimed "$TMP/d.ck") records, ${unacked:-0} of 3000 were not acknowledged"
  expect_eq false "$(jq .complete "$TMP/d.ck")" "broker gone: checkpoint not complete"
fi
within 90 "write when the broker goes away" "$E" sandbox --topics orders:3 --fault rtt=100ms --fault down-after=3s -- \
  "$E" write kafka:///orders --in "$TMP/src.jsonl" --timeout 3s -X batch.num.messages=5
[ "$RC" -ne 0 ] && pass || fail "write when the broker goes away: exit 0"
expect_contains "$TMP/err" "not delivered"
# ---- dlq redrive: Kafka Connect dead letters of the 3,000 orders, sent back to their
# original partitions through the same faults. The ledger never claims more than the topic
# holds; reruns send every dead letter exactly once.
jq -c '{topic: "dlq", partition: .partition, offset: -1, timestamp, key, value,
        headers: (.headers + [{key: "__connect.errors.topic", value: "orders"},
                              {key: "__connect.errors.partition", value: (.partition | tostring)},
                              {key: "__connect.errors.offset", value: (.offset | tostring)},
                              {key: "__connect.errors.exception.class.name", value: "org.example.Boom"},
                              {key: "__connect.errors.exception.message", value: "boom at \(.offset)"}])}' \
  "$TMP/src.jsonl" | "$E" write "$TMP/dlq" --partition keep
ledger_claims() { "$E" dlq redrive "$TMP/dlq" --status --ledger "$1" 2>/dev/null | jq '[.partitions[].records] | add // 0' || echo 0; }
redriven_sources() {  # every evt.redrive.source header in the topic, one a line
  kcat -C -b "$B" -t orders -e -q -f '%h\n' 2>/dev/null | tr ',' '\n' | grep '^evt.redrive.source=' || true
}
start_sandbox --topics orders:3 --fault request-error=Produce:TOPIC_AUTHORIZATION_FAILED:4
rm -f "$TMP/r.ledger"
for _ in 1 2 3 4 5 6 7; do
  within 120 "dlq redrive into authorization failures" "$E" dlq redrive "$TMP/dlq" -b "$B" --all --ledger "$TMP/r.ledger" \
    --timeout 5s
  [ "$RC" -eq 0 ] && break
  [ "$RC" -eq 1 ] && pass || fail "dlq redrive into authorization failures: exit $RC (want 1: not delivered)"
  expect_contains "$TMP/err" "not delivered"
  [ "$(ledger_claims "$TMP/r.ledger")" -le "$(stored orders)" ] && pass \
    || fail "dlq redrive: the ledger claims $(ledger_claims "$TMP/r.ledger"), the topic holds $(stored orders)"
done
expect_eq 0 "$RC" "dlq redrive reruns after the errors stopped: exit"
redriven_sources >"$TMP/rd.src"
expect_eq 3000 "$(sort -u "$TMP/rd.src" | wc -l)" "dlq redrive reruns: every dead letter in the topic"
expect_eq 3000 "$(wc -l <"$TMP/rd.src")" "dlq redrive reruns: no dead letter twice"
expect_eq 3000 "$(ledger_claims "$TMP/r.ledger")" "dlq redrive reruns: the ledger has them all"
within 60 "dlq redrive once more" "$E" dlq redrive "$TMP/dlq" -b "$B" --all --ledger "$TMP/r.ledger" --timeout 5s
expect_eq 0 "$RC" "a finished redrive rerun: exit"
expect_eq 3000 "$(stored orders)" "a finished redrive rerun sends nothing"
stop_sandbox
# The broker goes away mid-redrive: non-zero within the timeout, the ledger claims no more
# than was acknowledged.
rm -f "$TMP/g.ledger"
within 90 "dlq redrive when the broker goes away" "$E" sandbox --topics orders:3 --fault rtt=50ms --fault down-after=3s -- \
  "$E" dlq redrive "$TMP/dlq" --all --ledger "$TMP/g.ledger" --rate 500 --timeout 3s
[ "$RC" -ne 0 ] && pass || fail "dlq redrive when the broker goes away: exit 0"
grep -q '^evt: error: ' "$TMP/err" && pass || fail "dlq redrive when the broker goes away: no error line"
sed 's/^/  dlq redrive when the broker goes away: /' "$TMP/err" | tail -2
if [ -f "$TMP/g.ledger" ]; then
  claims=$(ledger_claims "$TMP/g.ledger")
  [ "$claims" -lt 3000 ] && pass || fail "broker gone: the ledger claims all $claims records"
  [ "$claims" -le $((3 * 500 + 500)) ] && pass || fail "broker gone: the ledger claims $claims, more than 3 s at 500/s could send"
fi
finish
