#!/usr/bin/env bash
# Benchmarks `evt compact` against `evt cat --format value` over the same directory, in one
# run, and reports peak RSS of compaction for a small and a large key space.
# Usage: bench/compact.sh [MiB on disk, default 1024] [runs, default 3] [large key space, default 10000000]
# 1. A partition of MiB (zstd batches, as `evt gen` writes them) over 100k keys: compaction
#    time against `evt cat --format value` over the same directory to /dev/null, in one run
#    (ratio = t(cat) / t(compact); target >= 0.5), and peak RSS.
# 2. Peak RSS for a partition with 10M distinct keys (small records), with the default
#    --max-memory (one pass) and with --max-memory 64M (several passes).
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
MIB=${1:-1024}
RUNS=${2:-3}
BIG_KEYS=${3:-10000000}
OUT=${BENCH_DIR:-bench/out}/compact
mkdir -p "$OUT"
VALUE=200
COUNT=$((MIB * 1024 * 1024 / 78))  # `evt gen` records of ~200 B values take ~78 B on disk with zstd

# timed_compact DIR ARGS...: copies DIR (untimed), compacts the copy; prints "seconds rss_kib"
timed_compact() {
  local src=$1; shift
  rm -rf "$OUT/work"; cp -r "$src" "$OUT/work"; sync
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$EVT" compact "$OUT/work" --include-active --force --null-keys drop \
    --stats-json "$OUT/stats.json" "$@" 2>/dev/null
  cat "$OUT/time"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

bench_keys() {  # bench_keys KEYS COUNT LABEL [compact args]: prints a report line
  local keys=$1 count=$2 label=$3; shift 3
  local dir="$OUT/src-$keys"
  if [ ! -d "$dir" ]; then
    echo "generating $count events over $keys keys (~${MIB} MiB, 64 MiB segments)" >&2
    "$EVT" gen --count "$count" --keys "$keys" --value-size "$VALUE" --topic c --segment-bytes 67108864 -o "$dir" >/dev/null
  fi
  local bytes; bytes=$(du -sb "$dir" | cut -f1)
  local tc=() tk=() rss=0
  for _ in $(seq "$RUNS"); do
    local t0; t0=$(date +%s%N)
    "$EVT" cat -f value "$dir" >/dev/null
    tc+=("$(( $(date +%s%N) - t0 ))")
    read -r s m < <(timed_compact "$dir" "$@")
    tk+=("$(awk -v s="$s" 'BEGIN { printf "%d", s * 1e9 }')")
    [ "$m" -gt "$rss" ] && rss=$m
  done
  local mc mk; mc=$(printf '%s\n' "${tc[@]}" | median); mk=$(printf '%s\n' "${tk[@]}" | median)
  python3 - "$label" "$bytes" "$mc" "$mk" "$rss" "$OUT/stats.json" "$*" <<'PY'
import json, sys
label, b, tc, tk, rss, stats, args = sys.argv[1:]
b, tc, tk, rss = int(b), int(tc) / 1e9, int(tk) / 1e9, int(rss)
st = json.loads(open(stats).read().splitlines()[0])
print(f"{label}: {b/2**20:.0f} MiB, {st['records_before']} records, {st['keys']} distinct keys, {st['passes']} pass(es) {args}")
print(f"  compact {tk:.2f}s ({b/tk/1e6:.0f} MB/s) vs cat -f value {tc:.2f}s: ratio {tc/tk:.2f} (target >= 0.5); "
      f"peak RSS {rss/1024:.0f} MiB; {st['records_after']} records, {st['bytes_after']/2**20:.1f} MiB left")
PY
}

bench_keys 100000 "$COUNT" "100k keys"

# 10M distinct keys: one record per key (plus 10% updates), small values.
big="$OUT/src-big-$BIG_KEYS"
if [ ! -d "$big" ]; then
  echo "generating $BIG_KEYS distinct keys" >&2
  python3 -c 'import sys, random
n = int(sys.argv[1]); r = random.Random(1); w = sys.stdout.write
for i in range(n): w("{\"key\":\"key-%d\",\"value\":\"v%d\",\"timestamp\":%d}\n" % (i, i, 1700000000000 + i))
for i in range(n // 10): k = r.randrange(n); w("{\"key\":\"key-%d\",\"value\":\"u%d\",\"timestamp\":%d}\n" % (k, i, 1800000000000 + i))' \
    "$BIG_KEYS" | "$EVT" write "$big/big-0" --segment-bytes 67108864 >/dev/null
fi
for mm in 256M 64M; do
  read -r s m < <(timed_compact "$big" --max-memory "$mm")
  python3 - "$s" "$m" "$mm" "$OUT/stats.json" "$(du -sb "$big" | cut -f1)" <<'PY'
import json, sys
s, m, mm, stats, b = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
st = json.loads(open(stats).read().splitlines()[0])
print(f"{st['records_before']} records over 10M keys ({b/2**20:.0f} MiB; {st['keys']} key-map entries over the passes), --max-memory {mm}: "
      f"{st['passes']} pass(es), {s:.2f}s, peak RSS {m/1024:.0f} MiB")
PY
done
