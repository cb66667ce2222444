#!/usr/bin/env bash
# evt vs kcat against the sandbox (librdkafka's mock cluster), in one run; prints ratios
# (>= 1 means evt is faster) of medians.
# Usage: bench/kafka.sh [records, default 1000000] [runs, default 5]
# Records of ~500 B over 128 partitions (the mock keeps only ~5 MiB per partition), the same
# producer settings for both tools: zstd, linger.ms=5, batch.num.messages=10000,
# batch.size=1000000, acks=all, idempotence, murmur2_random. Each run uses a fresh sandbox.
#   produce: `evt write kafka://... --in SEGMENT_DIR`  vs  `kcat -P -K '\t' -l KEYS_VALUES_FILE` with
#            two headers of the same sizes as evt gen's (content-type, trace-id), so both tools
#            send the same bytes: the mock broker's one broker thread (copy + zstd) is the
#            bottleneck, and its work grows with the bytes per record
#   consume: `evt cat kafka://... -f value` (and envelope)  vs  `kcat -C -e` (values), to /dev/null
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
COUNT=${1:-1000000}
RUNS=${2:-5}
OUT=${BENCH_DIR:-bench/out}/kafka
PARTS=128
mkdir -p "$OUT"
source bench/sandbox_common.sh

echo "generating $COUNT records of ~500 B over $PARTS partitions" >&2
rm -rf "$OUT/seg"
"$EVT" gen --count "$COUNT" --value-size 500 --keys 100000 --partitions "$PARTS" --topic src --output "$OUT/seg"
"$EVT" cat "$OUT/seg" -f '%k\t%v\n' >"$OUT/kv.txt"

now() { date +%s.%N; }
declare -a P_EVT P_KCAT C_EVT C_EVTE C_KCAT
for i in $(seq "$RUNS"); do
  start_sandbox "e:$PARTS,k:$PARTS" "$OUT/addr"
  t0=$(now); "$EVT" write "kafka://$B/e" --in "$OUT/seg" "${SETTINGS[@]}"; t1=$(now)
  kcat -P -b "$B" -t k "${KCAT_SETTINGS[@]}" -K $'\t' "${KCAT_HEADERS[@]}" -l "$OUT/kv.txt"; t2=$(now)
  n_evt=$(stored e)
  n_kcat=$(stored k)
  [ "$n_evt" = "$COUNT" ] && [ "$n_kcat" = "$COUNT" ] || { echo "run $i: stored $n_evt (evt) / $n_kcat (kcat) of $COUNT" >&2; exit 1; }
  t3=$(now); "$EVT" cat "kafka://$B/e" -f value >/dev/null; t4=$(now)
  kcat -C -b "$B" -t e -e -q -o beginning >/dev/null; t5=$(now)
  "$EVT" cat "kafka://$B/e" >/dev/null; t6=$(now)
  P_EVT+=("$(echo "$t1 - $t0" | awk '{print $1 - $3}')")
  P_KCAT+=("$(echo "$t2 - $t1" | awk '{print $1 - $3}')")
  C_EVT+=("$(echo "$t4 - $t3" | awk '{print $1 - $3}')")
  C_KCAT+=("$(echo "$t5 - $t4" | awk '{print $1 - $3}')")
  C_EVTE+=("$(echo "$t6 - $t5" | awk '{print $1 - $3}')")
  kill -INT $SB; wait $SB || true
  echo "run $i: produce evt ${P_EVT[-1]}s kcat ${P_KCAT[-1]}s; consume evt ${C_EVT[-1]}s kcat ${C_KCAT[-1]}s (envelope ${C_EVTE[-1]}s)" >&2
done

python3 - "$COUNT" "${P_EVT[*]}" "${P_KCAT[*]}" "${C_EVT[*]}" "${C_KCAT[*]}" "${C_EVTE[*]}" <<'EOF'
import statistics, sys
n = int(sys.argv[1])
pe, pk, ce, ck, cee = (statistics.median(map(float, a.split())) for a in sys.argv[2:7])
print(f"records: {n} x ~500 B over 128 partitions, medians of {len(sys.argv[2].split())} runs")
print(f"produce  evt {n/pe/1e6:.3f} M rec/s   kcat -P {n/pk/1e6:.3f} M rec/s   ratio evt/kcat {pk/pe:.2f}")
print(f"consume  evt -f value {n/ce/1e6:.3f} M rec/s   kcat -C {n/ck/1e6:.3f} M rec/s   ratio evt/kcat {ck/ce:.2f}")
print(f"consume  evt envelope {n/cee/1e6:.3f} M rec/s   ratio vs kcat values {ck/cee:.2f}")
EOF
