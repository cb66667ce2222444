#!/usr/bin/env bash
# evt replay and evt backfill throughput, in one run.
# Usage: bench/replay.sh [records, default 1000000] [runs, default 5]
#   replay:   `evt replay SEGMENT_DIR kafka://SANDBOX/e --partition hash` (1M records of ~500 B
#             from a segment dir, 128 partitions) vs `kcat -P -K '\t' -l` of the same keys,
#             values and header sizes, same producer settings as bench/kafka.sh; ratio of
#             medians (>= 1: evt is faster). Each run uses a fresh sandbox.
#   backfill: `evt backfill SEGMENT_DIR --pipe "awk '{print \"ok\"; fflush()}'" --workers 2`,
#             records/s (median); target >= 100k records/s.
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
COUNT=${1:-1000000}
RUNS=${2:-5}
OUT=${BENCH_DIR:-bench/out}/replay
PARTS=128
mkdir -p "$OUT"
SETTINGS=(-X linger.ms=5 -X batch.num.messages=10000 -X batch.size=1000000)
KCAT_SETTINGS=("${SETTINGS[@]}" -X compression.codec=zstd -X acks=all -X enable.idempotence=true
               -X partitioner=murmur2_random -X queue.buffering.max.kbytes=262144)
if [ ! -d "$OUT/seg" ]; then
  echo "generating $COUNT records of ~500 B over $PARTS partitions" >&2
  "$EVT" gen --count "$COUNT" --value-size 500 --keys 100000 --partitions "$PARTS" --topic src --output "$OUT/seg"
  "$EVT" cat "$OUT/seg" -f '%k\t%v\n' >"$OUT/kv.txt"
fi
now() { date +%s.%N; }
declare -a R_EVT R_KCAT B_EVT
for i in $(seq "$RUNS"); do
  "$EVT" sandbox --topics "e:$PARTS,k:$PARTS" >"$OUT/addr" 2>/dev/null &
  SB=$!
  for _ in $(seq 100); do [ -s "$OUT/addr" ] && break; sleep 0.1; done
  B=$(head -1 "$OUT/addr")
  t0=$(now); "$EVT" replay "$OUT/seg" "kafka://$B/e" --partition hash "${SETTINGS[@]}" 2>/dev/null; t1=$(now)
  kcat -P -b "$B" -t k "${KCAT_SETTINGS[@]}" -K $'\t' -H content-type=application/json \
    -H trace-id=0123456789abcdef0123456789abcdef -l "$OUT/kv.txt"; t2=$(now)
  n_evt=$("$EVT" inspect "kafka://$B/e" --json | python3 -c 'import sys,json; print(sum(json.loads(l)["high"] for l in sys.stdin))')
  [ "$n_evt" = "$COUNT" ] || { echo "run $i: stored $n_evt of $COUNT" >&2; exit 1; }
  kill -INT $SB; wait $SB || true
  t3=$(now)
  "$EVT" backfill "$OUT/seg" --pipe "awk '{print \"ok\"; fflush()}'" --workers 2 2>/dev/null
  t4=$(now)
  R_EVT+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
  R_KCAT+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')")
  B_EVT+=("$(awk -v a="$t3" -v b="$t4" 'BEGIN { print b - a }')")
  echo "run $i: replay evt ${R_EVT[-1]}s kcat -P ${R_KCAT[-1]}s; backfill ${B_EVT[-1]}s" >&2
done
python3 - "$COUNT" "${R_EVT[*]}" "${R_KCAT[*]}" "${B_EVT[*]}" <<'PY'
import statistics, sys
n = int(sys.argv[1])
re, rk, be = (statistics.median(map(float, a.split())) for a in sys.argv[2:5])
print(f"records: {n} x ~500 B over 128 partitions, medians of {len(sys.argv[2].split())} runs")
print(f"replay to the sandbox  evt {n/re/1e6:.3f} M rec/s   kcat -P {n/rk/1e6:.3f} M rec/s   ratio evt/kcat {rk/re:.2f} (target >= 1.0)")
print(f"backfill --pipe awk --workers 2: {n/be/1e3:.0f} k records/s (target >= 100k)")
PY
