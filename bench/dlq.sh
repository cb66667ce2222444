#!/usr/bin/env bash
# evt dlq throughput, in one run.
# Usage: bench/dlq.sh [summary records, default 1000000] [redrive records, default 100000] [runs, default 3]
#   summary: `evt dlq summary` over a segment directory of Kafka Connect dead letters (32
#            partitions, ~450 B each with their headers, five causes whose messages differ in
#            numbers and ids) against `evt cat` of the same directory to /dev/null.
#            Ratio = cat time / summary time (target >= 0.5).
#   redrive: `evt dlq redrive --all` of the first N of them from a segment directory to their
#            original topic and partitions on the sandbox, against `kcat -P -l` of the same
#            values with the producer settings of bench/kafka.sh, a fresh sandbox per run.
#            Ratio = kcat time / redrive time (target >= 0.8). Ratios of medians.
#   reference (no target): `kcat -P -K` of the same keys and values with three headers the
#            size of the ones redrive adds (evt.redrive.id, .count, .source), the records
#            redrive sends; its ratio to plain kcat -P shows what the key and headers cost
#            librdkafka itself.
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
COUNT=${1:-1000000}
RCOUNT=${2:-100000}
RUNS=${3:-3}
OUT=${BENCH_DIR:-bench/out}/dlq-$COUNT-$RCOUNT
mkdir -p "$OUT"
source bench/sandbox_common.sh
gen() {  # gen N: Connect dead letters as envelope JSON Lines
  python3 - "$1" <<'PY'
import json, sys, uuid
n = int(sys.argv[1])
causes = [("org.apache.kafka.connect.errors.DataException", "Failed to deserialize data for topic orders at offset {o}: Unknown magic byte 0x{h:x}"),
          ("org.apache.kafka.connect.errors.DataException", "Field 'amount{m}' is missing in record {u}"),
          ("java.lang.NullPointerException", "Cannot invoke \"String.length()\" because \"name\" is null at row {o}"),
          ("org.postgresql.util.PSQLException", "ERROR: duplicate key value violates unique constraint \"orders_pkey\" Detail: Key (id)=({o}) already exists."),
          ("org.apache.kafka.connect.errors.RetriableException", "Timed out after {m} ms waiting for {u}")]
# partition by partition (i % 32), so that the writer makes batches of many records, as a broker does
for i in (p + 32 * k for p in range(32) for k in range((n - p + 31) // 32)):
    cls, msg = causes[i % 5]
    m = msg.format(o=i, h=0xdead0000 + i, m=i % 977, u=uuid.UUID(int=i))
    h = [{"key": "__connect.errors.topic", "value": "r"}, {"key": "__connect.errors.partition", "value": str(i % 32)},
         {"key": "__connect.errors.offset", "value": str(i // 32)}, {"key": "__connect.errors.connector.name", "value": "sink-pg"},
         {"key": "__connect.errors.task.id", "value": str(i % 4)}, {"key": "__connect.errors.stage", "value": "TASK_PUT"},
         {"key": "__connect.errors.exception.class.name", "value": cls}, {"key": "__connect.errors.exception.message", "value": m}]
    print(json.dumps({"topic": "dlq", "partition": i % 32, "offset": -1, "timestamp": 1709251200000 + i,
                      "key": "k%d" % (i % 100000), "value": "v" * 120 + str(i), "headers": h}))
PY
}
if [ ! -d "$OUT/seg" ] || [ ! -d "$OUT/rseg" ]; then
  rm -rf "$OUT/seg" "$OUT/rseg"
  echo "generating $COUNT dead letters" >&2
  gen "$COUNT" | "$EVT" write "$OUT/seg" --partition keep 2>/dev/null
  gen "$RCOUNT" | "$EVT" write "$OUT/rseg" --partition keep 2>/dev/null
  "$EVT" cat "$OUT/rseg" -f '%v\n' >"$OUT/values.txt"
fi
[ -s "$OUT/keyed.txt" ] || "$EVT" cat "$OUT/rseg" -f '%k\t%v\n' >"$OUT/keyed.txt"
REDRIVE_HEADERS=(-H evt.redrive.id=0123456789abcdef -H evt.redrive.count=1 -H evt.redrive.source=dlq/17/1234)
now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
declare -a S_EVT S_CAT R_EVT R_KCAT R_KCATH
for i in $(seq "$RUNS"); do
  t0=$(now); "$EVT" cat "$OUT/seg" >/dev/null; t1=$(now)
  "$EVT" dlq summary "$OUT/seg" --format json >/dev/null; t2=$(now)
  S_CAT+=("$(el "$t0" "$t1")"); S_EVT+=("$(el "$t1" "$t2")")
  start_sandbox "r:32,k:32,h:32" "$OUT/addr"
  rm -f "$OUT/ledger" "$OUT/ledger.lock"
  t0=$(now)
  "$EVT" dlq redrive "$OUT/rseg" -b "$B" --all --ledger "$OUT/ledger" "${SETTINGS[@]}" 2>/dev/null
  t1=$(now)
  kcat -P -b "$B" -t k "${KCAT_SETTINGS[@]}" -l "$OUT/values.txt"
  t2=$(now)
  kcat -P -b "$B" -t h -K$'\t' "${REDRIVE_HEADERS[@]}" "${KCAT_SETTINGS[@]}" -l "$OUT/keyed.txt"
  t3=$(now)
  for t in r k h; do
    n=$(stored $t)
    [ "$n" = "$RCOUNT" ] || { echo "run $i: topic $t stored $n of $RCOUNT" >&2; exit 1; }
  done
  kill -INT $SB; wait $SB || true
  R_EVT+=("$(el "$t0" "$t1")"); R_KCAT+=("$(el "$t1" "$t2")"); R_KCATH+=("$(el "$t2" "$t3")")
done
sc=$(median "${S_CAT[@]}"); se=$(median "${S_EVT[@]}"); rk=$(median "${R_KCAT[@]}"); re=$(median "${R_EVT[@]}")
rh=$(median "${R_KCATH[@]}")
awk -v c="$sc" -v e="$se" -v n="$COUNT" 'BEGIN { printf "dlq summary: %d records: evt cat %.2f s, evt dlq summary %.2f s (%.0f records/s): ratio %.2f (target >= 0.5)\n", n, c, e, n / e, c / e }'
awk -v k="$rk" -v e="$re" -v n="$RCOUNT" 'BEGIN { printf "dlq redrive: %d records: kcat -P %.2f s, evt dlq redrive %.2f s (%.0f records/s): ratio %.2f (target >= 0.8)\n", n, k, e, n / e, k / e }'
awk -v k="$rk" -v h="$rh" -v e="$re" 'BEGIN { printf "reference: kcat -P -K of the same keys and values with redrive'"'"'s three headers %.2f s: kcat -P / it %.2f, it / evt dlq redrive %.2f (no target)\n", h, k / h, h / e }'
