#!/usr/bin/env bash
# Benchmarks `evt compact` against `evt cat --format value` over the same directory, in one
# run, and reports peak RSS of compaction for a small and a large key space.
# Usage: bench/compact.sh [MiB, default 1024] [runs, default 3] [large key space, default 10000000]
# Ratio = t(cat -f value > /dev/null) / t(compact): >= 0.5 is the target.
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
MIB=${1:-1024}
RUNS=${2:-3}
BIG_KEYS=${3:-10000000}
OUT=${BENCH_DIR:-bench/out}/compact
mkdir -p "$OUT"
VALUE=200
COUNT=$((MIB * 1024 * 1024 / (VALUE + 150)))

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
bench_keys "$BIG_KEYS" "$COUNT" "$BIG_KEYS keys"
bench_keys "$BIG_KEYS" "$COUNT" "$BIG_KEYS keys" --max-memory 64M
