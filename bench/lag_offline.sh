#!/usr/bin/env bash
# Offline evt lag over a ~1 GiB data directory: 16 partitions of 2M uncompressed records of
# ~500 B (64 MiB segments, with their .index/.timeindex as evt write makes them) and a
# __consumer_offsets-0 in which group g committed offset 60,000 of every partition. Prints
# evt lag's seconds and peak RSS (/usr/bin/time -v; memory must stay bounded, not grow with
# the directory), next to reading the segment files once (cat > /dev/null) for scale.
# Usage: bench/lag_offline.sh [runs, default 3]  (the directory is kept in $BENCH_DIR/lag_offline)
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
RUNS=${1:-3}
OUT=${BENCH_DIR:-bench/out}/lag_offline
D=$OUT/data
PY=/usr/bin/python3
mkdir -p "$OUT"
if [ ! -f "$OUT/ready" ]; then
  rm -rf "$D"
  "$EVT" gen --count 2000000 --value-size 500 --partitions 16 --topic orders --compression none \
    --segment-bytes 67108864 -o "$D"
  "$PY" - <<'PY' >"$OUT/commits.jsonl"
import base64, json, struct
def s(x):
    b = x.encode()
    return struct.pack(">h", len(b)) + b
for p in range(16):
    key = struct.pack(">h", 1) + s("g") + s("orders") + struct.pack(">i", p)
    val = struct.pack(">hqi", 3, 60000, -1) + s("") + struct.pack(">q", 1700000000000 + p)
    print(json.dumps({"topic": "__consumer_offsets", "partition": 0, "offset": -1, "timestamp": 1700000000000 + p,
                      "key_base64": base64.b64encode(key).decode(), "value_base64": base64.b64encode(val).decode(),
                      "headers": []}))
PY
  "$EVT" write "$D" --partition keep --in "$OUT/commits.jsonl"
  touch "$OUT/ready"
fi
echo "data directory: $(du -sh "$D" | cut -f1), $(find "$D" -name '*.log' | wc -l) segments"
ref=()
lag=()
rss=()
for _ in $(seq "$RUNS"); do
  s=$(date +%s.%N); cat "$D"/*/*.log >/dev/null; e=$(date +%s.%N); ref+=("$(echo "$e - $s" | bc)")
  /usr/bin/time -v "$EVT" lag "$D" -G g --json >"$OUT/lag.json" 2>"$OUT/time.txt"
  lag+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {split($2, a, ":"); print (length(a) == 3 ? a[1] * 3600 + a[2] * 60 + a[3] : a[1] * 60 + a[2])}' "$OUT/time.txt")")
  rss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time.txt")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
echo "partitions lagging: $(grep -c '"kind":"partition"' "$OUT/lag.json"), group lag $("$PY" -c 'import json, sys
print([json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["kind"] == "group"][0]["lag"])' "$OUT/lag.json")"
echo "evt lag DATADIR:        median $(median "${lag[@]}") s, peak RSS $(median "${rss[@]}") KiB  (runs: ${lag[*]} s; ${rss[*]} KiB)"
echo "cat segments >/dev/null: median $(median "${ref[@]}") s  (reading every byte once, for scale)"
