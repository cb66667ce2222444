#!/usr/bin/env bash
# evt project throughput and memory, in one run.
# Usage: bench/project.sh [records, default 1000000] [runs, default 3] [big keys, default 10000000]
#   1. `evt project SEG --reduce merge --into X.db` on 1M CloudEvents-like records (evt gen,
#      ~250 B values, 100k keys, 8 partitions) against `evt cat SEG >/dev/null` of the same
#      source: ratio of records/s (target >= 0.3).
#   2. the same fold against jq's in-memory fold over the envelope lines,
#      `jq -n 'reduce inputs as $e ({}; .[$e.key] = ((.[$e.key] // {}) * $e.value))'`, which
#      slows as its object grows: its rate over its first 20 s (records it consumed, counted
#      by a pipe meter) against evt's whole-run rate (target >= 10).
#   3. peak RSS of `--max-memory 64M` folding BIG distinct keys (target <= 64 MiB + 96 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
COUNT=${1:-1000000}
RUNS=${2:-3}
BIG=${3:-10000000}
OUT=${BENCH_DIR:-bench/out}/project
mkdir -p "$OUT"
if [ ! -d "$OUT/seg" ]; then
  echo "generating $COUNT records, 100000 keys" >&2
  "$EVT" gen --count "$COUNT" --value-size 250 --keys 100000 --partitions 8 --topic ce --output "$OUT/seg" 2>/dev/null
fi
if [ ! -f "$OUT/env.jsonl" ]; then "$EVT" cat "$OUT/seg" >"$OUT/env.jsonl"; fi
med() { python3 bench/measure.py "$RUNS" "$1"; }
read -r t_cat _ < <(med "$EVT cat $OUT/seg >/dev/null")
read -r t_proj rss_proj < <(med "rm -f $OUT/m.db; $EVT project $OUT/seg --reduce merge --into $OUT/m.db 2>/dev/null")
rate_cat=$(awk -v n="$COUNT" -v t="$t_cat" 'BEGIN { printf "%.0f", n / t }')
rate_proj=$(awk -v n="$COUNT" -v t="$t_proj" 'BEGIN { printf "%.0f", n / t }')
# jq over its first 20 s: count the lines it has read (a pipe meter in front of it).
jq_count=$(python3 - "$OUT/env.jsonl" <<'PY'
import subprocess, sys, threading, time
src = open(sys.argv[1], 'rb')
p = subprocess.Popen(['jq', '-n', 'reduce inputs as $e ({}; .[$e.key] = ((.[$e.key] // {}) * $e.value)) | length'],
                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
n = 0
stop = time.monotonic() + 20
try:
    for line in src:
        p.stdin.write(line)
        n += 1
        if n % 1000 == 0 and time.monotonic() > stop:
            break
    else:
        p.stdin.close(); p.wait()
except BrokenPipeError:
    pass
elapsed = 20.0 if time.monotonic() > stop else None
p.kill()
# Lines written but still in the pipe buffer (64 KiB) were not folded: a few hundred at most.
print(n, 20.0 if elapsed else 0)
PY
)
read -r jq_n jq_t <<<"$jq_count"
if [ "$jq_t" = "0" ]; then jq_rate="(finished all $COUNT records within 20 s)"; jq_ratio="n/a"; else
  jq_rate=$(awk -v n="$jq_n" -v t="$jq_t" 'BEGIN { printf "%.0f", n / t }')
  jq_ratio=$(awk -v a="$rate_proj" -v b="$jq_rate" 'BEGIN { printf "%.1f", a / b }')
fi
echo "project --reduce merge into SQLite: $rate_proj records/s (median of $RUNS, peak RSS $((rss_proj / 1024)) MiB)"
echo "evt cat of the same source:         $rate_cat records/s"
awk -v a="$rate_proj" -v b="$rate_cat" 'BEGIN { printf "ratio project/cat: %.2f (target >= 0.3)\n", a / b }'
echo "jq in-memory fold, first 20 s:      $jq_rate records/s ($jq_n records)"
echo "ratio project/jq: $jq_ratio (target >= 10)"
# Memory: BIG distinct keys (one record each) with --max-memory 64M.
if [ ! -d "$OUT/big" ]; then
  echo "generating $BIG records with $BIG keys" >&2
  "$EVT" gen --count "$BIG" --value-size 60 --keys "$BIG" --partitions 4 --topic big --output "$OUT/big" 2>/dev/null
fi
read -r t_big rss_big < <(python3 bench/measure.py 1 "rm -f $OUT/big.db; $EVT project $OUT/big --reduce merge --max-memory 64M --into $OUT/big.db 2>/dev/null")
keys=$(sqlite3 "$OUT/big.db" 'SELECT count(*) FROM state' 2>/dev/null || echo '?')
echo "$BIG keys with --max-memory 64M: peak RSS $((rss_big / 1024)) MiB (target <= 160 MiB), $keys keys, ${t_big} s"
