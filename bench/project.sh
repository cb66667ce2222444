#!/usr/bin/env bash
# evt project throughput, memory and --at from snapshots, in one run.
# Usage: bench/project.sh [records, default 1000000] [runs, default 3] [big keys, default 10000000]
#        [long records, default 10000000]
# PARTS (default "fold memory at") chooses what runs; inputs are kept in $BENCH_DIR/project.
#   fold:   1. `evt project SEG --reduce merge --into X.db` on 1M CloudEvents-like records (evt gen,
#           ~250 B values, 100k keys, 8 partitions) against `evt cat SEG >/dev/null` of the same
#           source: ratio of records/s (target >= 0.3).
#           2. the same fold against jq's in-memory fold over the envelope lines,
#           `jq -n 'reduce inputs as $e ({}; .[$e.key] = ((.[$e.key] // {}) * $e.value))'`, which
#           slows as its object grows: its rate over its first 20 s (records it consumed, counted
#           by a pipe meter) against evt's whole-run rate (target >= 10).
#   memory: 3. peak RSS of `--max-memory 64M` folding BIG distinct keys, one record each (generated
#           with awk + `evt write`, key-0..key-BIG-1; target <= 64 MiB + 96 MiB).
#   at:     4. `--at T` from snapshots against the same `--at T` folding the whole log, on a
#           LONG-record log (evt gen, 100k keys, 8 partitions, --merge time; T at 95% of its time
#           span; snapshots every LONG/10 records, taken by a first full build): the speedup,
#           and that both give the same state.
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
COUNT=${1:-1000000}
RUNS=${2:-3}
BIG=${3:-10000000}
LONG=${4:-10000000}
PARTS=${PARTS:-fold memory at}
OUT=${BENCH_DIR:-bench/out}/project
mkdir -p "$OUT"
has() { [[ " $PARTS " == *" $1 "* ]]; }
med() { python3 bench/measure.py "$RUNS" "$1"; }
dump() { sqlite3 "$1" 'SELECT key, value, topic, partition, "offset", timestamp, updates FROM state ORDER BY key'; }
if has fold; then
if [ ! -d "$OUT/seg" ]; then
  echo "generating $COUNT records, 100000 keys" >&2
  "$EVT" gen --count "$COUNT" --value-size 250 --keys 100000 --partitions 8 --topic ce --output "$OUT/seg" 2>/dev/null
fi
if [ ! -f "$OUT/env.jsonl" ]; then "$EVT" cat "$OUT/seg" >"$OUT/env.jsonl"; fi
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
fi
# Memory: BIG distinct keys (one record each) with --max-memory 64M. `evt gen` draws keys at
# random (BIG records would hold only ~63% distinct keys), so the input is written by awk.
if has memory; then
if [ ! -d "$OUT/big" ]; then
  echo "generating $BIG records with $BIG distinct keys" >&2
  rm -rf "$OUT/big.tmp"
  awk -v n="$BIG" 'BEGIN { for (i = 0; i < n; i++) printf "{\"topic\":\"big\",\"partition\":%d,\"key\":\"key-%d\",\"timestamp\":%.0f,\"value\":{\"type\":\"big.set\",\"data\":{\"n\":%d,\"note\":\"0123456789abcdef\"}}}\n", i % 4, i, 1700000000000 + i * 100, i }' \
    | "$EVT" write --compression zstd "$OUT/big.tmp" 2>/dev/null
  mv "$OUT/big.tmp" "$OUT/big"
fi
read -r t_big rss_big < <(python3 bench/measure.py 1 "rm -f $OUT/big.db; $EVT project $OUT/big --reduce merge --max-memory 64M --into $OUT/big.db --stats-json $OUT/big.stats 2>/dev/null")
keys=$(sqlite3 "$OUT/big.db" 'SELECT count(*) FROM state' 2>/dev/null || echo '?')
echo "$BIG keys with --max-memory 64M: peak RSS $((rss_big / 1024)) MiB (target <= 160 MiB), $keys keys, ${t_big} s"
fi
# --at from snapshots vs a full fold, on a LONG-record log.
if has at; then
if [ ! -d "$OUT/long" ]; then
  echo "generating $LONG records, 100000 keys" >&2
  "$EVT" gen --count "$LONG" --value-size 250 --keys 100000 --partitions 8 --topic long --output "$OUT/long.tmp" 2>/dev/null
  mv "$OUT/long.tmp" "$OUT/long"
fi
F="--reduce merge --merge time"
rm -rf "$OUT/long-snaps"
read -r t_snap _ < <(python3 bench/measure.py 1 "rm -f $OUT/long.db; $EVT project $OUT/long $F --into $OUT/long.db --snapshots $OUT/long-snaps --snapshot-every $((LONG / 10)) --keep-snapshots 20 --stats-json $OUT/long.stats 2>/dev/null")
at=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); import datetime; t = s["first_timestamp"] + (s["last_timestamp"] - s["first_timestamp"]) * 95 // 100; print(datetime.datetime.fromtimestamp(t / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))' "$OUT/long.stats")
read -r t_full _ < <(med "rm -f $OUT/at-full.db; $EVT project $OUT/long $F --at $at --into $OUT/at-full.db 2>/dev/null")
read -r t_from _ < <(med "rm -f $OUT/at-snap.db; $EVT project $OUT/long $F --at $at --snapshots $OUT/long-snaps --into $OUT/at-snap.db --stats-json $OUT/at-snap.stats 2>/dev/null")
from=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["from_snapshot"].rsplit("/", 1)[-1] or "none", s["folded"])' "$OUT/at-snap.stats")
same=$(cmp -s <(dump "$OUT/at-full.db") <(dump "$OUT/at-snap.db") && echo "same state" || echo "STATES DIFFER")
echo "$LONG-record log, full build taking $(ls "$OUT/long-snaps" | grep -c '^snapshot-') snapshots: ${t_snap} s"
echo "--at $at (95% of the span) folding the whole log: ${t_full} s; from snapshot ${from% *} (then ${from#* } records): ${t_from} s"
awk -v a="$t_full" -v b="$t_from" -v s="$same" 'BEGIN { printf "speedup of --at from snapshots: %.1fx (%s)\n", a / b, s }'
fi
