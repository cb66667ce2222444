#!/usr/bin/env bash
# evt replay and evt backfill throughput, in one run.
# Usage: bench/replay.sh [records, default 1000000] [runs, default 5]
#   replay:   1M records of ~500 B from a segment dir into a sandbox topic of 128 partitions
#             (--partition hash), against `kcat -P -K '\t' -l` of the same keys and values, with
#             the same producer settings (those of bench/kafka.sh) and a fresh sandbox per run.
#             kcat sends the same two headers on every record and stamps records with the
#             time of sending, so the headline compares the same records: a source whose
#             headers are kcat's and `--now-timestamps`. A second line gives evt's default job
#             (original timestamps, a distinct trace-id per record), which kcat cannot do; it
#             delivers less compressible batches, and the compression is most of the work.
#             Ratios of medians (>= 1: evt is faster).
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
source bench/sandbox_common.sh
if [ ! -d "$OUT/seg" ] || [ ! -d "$OUT/same" ]; then
  rm -rf "$OUT/seg" "$OUT/same"
  echo "generating $COUNT records of ~500 B over $PARTS partitions" >&2
  "$EVT" gen --count "$COUNT" --value-size 500 --keys 100000 --partitions "$PARTS" --topic src --output "$OUT/seg"
  # the same records with kcat's headers
  "$EVT" cat "$OUT/seg" | sed -E 's/"trace-id","value":"[0-9a-f]{32}"/"trace-id","value":"'$TRACE'"/' |
    "$EVT" write "$OUT/same"
  "$EVT" cat "$OUT/seg" -f '%k\t%v\n' >"$OUT/kv.txt"
fi
now() { date +%s.%N; }
declare -a R_SAME R_DEF R_KCAT B_EVT
for i in $(seq "$RUNS"); do
  start_sandbox "e:$PARTS,d:$PARTS,k:$PARTS" "$OUT/addr"
  # alternate who goes first, so that neither gets the sandbox fresher
  run_same() { "$EVT" replay "$OUT/same" "kafka://$B/e" --partition hash --now-timestamps "${SETTINGS[@]}" 2>/dev/null; }
  run_kcat() { kcat -P -b "$B" -t k "${KCAT_SETTINGS[@]}" -K $'\t' "${KCAT_HEADERS[@]}" -l "$OUT/kv.txt"; }
  if [ $((i % 2)) = 1 ]; then
    t0=$(now); run_same; t1=$(now); run_kcat; t2=$(now)
    d_same=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'); d_kcat=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')
  else
    t0=$(now); run_kcat; t1=$(now); run_same; t2=$(now)
    d_kcat=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'); d_same=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')
  fi
  t2=$(now)
  "$EVT" replay "$OUT/seg" "kafka://$B/d" --partition hash "${SETTINGS[@]}" 2>/dev/null
  t3=$(now)
  for t in e d k; do
    n=$(stored $t)
    [ "$n" = "$COUNT" ] || { echo "run $i: topic $t stored $n of $COUNT" >&2; exit 1; }
  done
  kill -INT $SB; wait $SB || true
  t4=$(now)
  "$EVT" backfill "$OUT/seg" --pipe "awk '{print \"ok\"; fflush()}'" --workers 2 2>/dev/null
  t5=$(now)
  R_SAME+=("$d_same")
  R_KCAT+=("$d_kcat")
  R_DEF+=("$(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')")
  B_EVT+=("$(awk -v a="$t4" -v b="$t5" 'BEGIN { print b - a }')")
  echo "run $i: replay evt ${R_SAME[-1]}s kcat -P ${R_KCAT[-1]}s evt (default job) ${R_DEF[-1]}s; backfill ${B_EVT[-1]}s" >&2
done
python3 - "$COUNT" "${R_SAME[*]}" "${R_KCAT[*]}" "${R_DEF[*]}" "${B_EVT[*]}" <<'PY'
import statistics, sys
n = int(sys.argv[1])
rs, rk, rd, be = (statistics.median(map(float, a.split())) for a in sys.argv[2:6])
print(f"records: {n} x ~500 B over 128 partitions, medians of {len(sys.argv[2].split())} runs")
# Runs are paired (the same sandbox, one after the other), so the median of the per-run
# ratios is also given: it is less moved by the machine's speed drifting between runs.
paired = statistics.median(float(k) / float(e) for k, e in zip(sys.argv[3].split(), sys.argv[2].split()))
print(f"replay to the sandbox, same records as kcat   evt {n/rs/1e6:.3f} M rec/s   kcat -P {n/rk/1e6:.3f} M rec/s   ratio evt/kcat {rk/rs:.2f} (target >= 1.0); median of per-run ratios {paired:.2f}")
print(f"replay, evt's default job (original timestamps, per-record trace-ids)   evt {n/rd/1e6:.3f} M rec/s   ratio evt/kcat {rk/rd:.2f}")
print(f"backfill --pipe awk --workers 2: {n/be/1e3:.0f} k records/s (target >= 100k)")
PY
