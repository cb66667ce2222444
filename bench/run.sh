#!/usr/bin/env bash
# Benchmarks evt against zstd in the same run and prints ratios (>= 1 means evt is faster).
# Usage: bench/run.sh [MiB of events, default 1024] [runs, default 3]
# Ratios are medians of RUNS runs; batch size is fixed (--batch-bytes 1 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
MIB=${1:-1024}
RUNS=${2:-3}
OUT=${BENCH_DIR:-bench/out}
mkdir -p "$OUT"
M="python3 bench/measure.py"
VALUE=500
COUNT=$((MIB * 1024 * 1024 / (VALUE + 200)))

echo "generating ~${MIB} MiB: $COUNT events of ~${VALUE} B values" >&2
"$EVT" gen --count "$COUNT" --value-size "$VALUE" --keys 100000 >"$OUT/events.jsonl"
"$EVT" gen --count "$COUNT" --value-size "$VALUE" --keys 100000 -f value >"$OUT/values.txt"
zstd -q -f -3 -T1 "$OUT/values.txt" -o "$OUT/values.zst"
in_bytes=$(stat -c %s "$OUT/events.jsonl")

# 1. write (zstd batches) vs zstd -3 -T1 of the same input
rm -rf "$OUT/seg"
read -r t_write rss_write < <($M "$RUNS" "rm -rf $OUT/seg; $EVT write --batch-bytes 1048576 $OUT/seg/events-0 < $OUT/events.jsonl")
read -r t_zstd _ < <($M "$RUNS" "zstd -q -3 -T1 -c $OUT/events.jsonl > /dev/null")
# 2. cat --format value of the zstd segment vs zstd -dc of the values
read -r t_catv rss_cat < <($M "$RUNS" "$EVT cat -f value $OUT/seg/events-0 > /dev/null")
read -r t_zstdd _ < <($M "$RUNS" "zstd -q -dc $OUT/values.zst > /dev/null")
# 3. cat (envelope) records/s
read -r t_cate _ < <($M "$RUNS" "$EVT cat $OUT/seg/events-0 > /dev/null")

python3 - "$t_write" "$t_zstd" "$t_catv" "$t_zstdd" "$t_cate" "$COUNT" "$in_bytes" "$rss_write" "$rss_cat" "$MIB" <<'PY'
import sys
tw, tz, tc, tzd, te, n, b, rw, rc, mib = sys.argv[1:]
tw, tz, tc, tzd, te = map(float, (tw, tz, tc, tzd, te))
n, b = int(n), int(b)
print(f"input: {n} records, {b/2**20:.0f} MiB of envelope JSONL")
print(f"write (zstd) vs zstd -3 -T1:        ratio {tz/tw:.2f}  (evt {b/tw/1e6:.0f} MB/s, zstd {b/tz/1e6:.0f} MB/s; target >= 0.7)")
print(f"cat -f value vs zstd -dc:           ratio {tzd/tc:.2f}  (evt {tc:.2f}s, zstd {tzd:.2f}s; target >= 0.7)")
print(f"cat (envelope):                     {n/te/1e6:.2f} M records/s ({b/te/1e6:.0f} MB/s of output)")
print(f"peak RSS at {mib} MiB: write {int(rw)/1024:.0f} MiB, cat {int(rc)/1024:.0f} MiB")
PY
