#!/usr/bin/env bash
# evt lag of one group over 1,024 partitions (64 topics x 16) against the same over one
# 16-partition topic, each on its own sandbox, every partition lagging (20 records, the
# group committed 10 of them, so the first unconsumed record of each is fetched for its
# time lag); the two commands alternate, so that a slower spell of the machine falls on
# both. Prints the medians, their ratio (target: 64x the partitions within 2.5x the time),
# the Kafka requests evt sent (counted from -X debug=protocol), and `kcat -L` on the same
# clusters for scale.
# Usage: bench/lag.sh [runs, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
RUNS=${1:-5}
OUT=${BENCH_DIR:-bench/out}/lag
PY=/usr/bin/python3
mkdir -p "$OUT"
# start_sandbox TOPICS ADDRFILE: sets SB and B (1,024 partitions take a few seconds to create).
start_sandbox() {
  rm -f "$2"
  "$EVT" sandbox --topics "$1" >"$2" 2>/dev/null &
  SB=$!
  for _ in $(seq 600); do [ -s "$2" ] && break; sleep 0.1; done
  B=$(head -1 "$2")
  [ -n "$B" ] || { echo "the sandbox did not start" >&2; exit 1; }
}
SBS=()
trap 'for p in "${SBS[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done' EXIT

# setup NAME TOPICS PARTITIONS: a sandbox with TOPICS topics of PARTITIONS partitions, 20
# records in each partition, group g committed at 10 everywhere; sets B_<NAME>.
setup() {
  local name=$1 topics=$2 parts=$3 spec="" t
  for t in $(seq -f 't%02g' 0 $((topics - 1))); do spec+="${spec:+,}$t:$parts"; done
  start_sandbox "$spec" "$OUT/$name.addr"
  SBS+=("$SB")
  printf -v "B_$name" '%s' "$B"
  "$PY" - "$topics" "$parts" "$OUT/$name" <<'EOF'
import json, sys
topics, parts, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for t in range(topics):
    with open("%s-t%02d.jsonl" % (prefix, t), "w") as f:
        for p in range(parts):
            for i in range(20):
                f.write(json.dumps({"topic": "t%02d" % t, "partition": p, "offset": -1,
                                    "timestamp": 1709251200000 + i * 1000, "key": "k", "value": "v%d" % i,
                                    "headers": []}) + "\n")
EOF
  for t in $(seq -f 't%02g' 0 $((topics - 1))); do
    "$EVT" write "kafka://$B/$t" --partition keep --in "$OUT/$name-$t.jsonl" 2>/dev/null
  done
  "$PY" - "$B" "$topics" "$parts" <<'EOF'
import sys
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
b, topics, parts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = KafkaConsumer(bootstrap_servers=b, group_id="g", enable_auto_commit=False, api_version=(2, 0, 0))
c.commit({TopicPartition("t%02d" % t, p): OffsetAndMetadata(10, None) for t in range(topics) for p in range(parts)})
c.close()
EOF
}

now() { date +%s.%N; }
# one_run ADDR PARTITIONS: the wall time of one `evt lag -G g` on that sandbox; checks the result.
one_run() {
  local t0 t1
  t0=$(now)
  "$EVT" lag -b "$1" -G g --json >"$OUT/lag.json"
  t1=$(now)
  "$PY" -c 'import sys, json
rows = [json.loads(l) for l in open(sys.argv[1])]
parts = [r for r in rows if r["kind"] == "partition"]
assert len(parts) == int(sys.argv[2]), len(parts)
assert all(r["lag"] == 10 and r["time_lag_ms"] is not None for r in parts), "not every partition lags with a time lag"' \
    "$OUT/lag.json" "$2"
  awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
# requests NAME: Kafka requests of one run, by type, from librdkafka's protocol debug log.
requests() {
  "$EVT" lag -b "$1" -G g --json -X debug=protocol 2>"$OUT/debug.log" >/dev/null
  grep -oE 'Sent [A-Za-z]+Request' "$OUT/debug.log" | awk '{print $2}' | sort | uniq -c | sort -rn |
    awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1; n += $1} END{printf " (total %d)\n", n}'
}
kcat_l() {
  local i t0 t1 times=()
  for i in $(seq "$RUNS"); do
    t0=$(now); kcat -L -b "$1" >/dev/null; t1=$(now)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')")
  done
  median "${times[@]}"
}

echo "setting up: 64 topics x 16 partitions, and 1 topic x 16 partitions" >&2
setup many 64 16
setup one 1 16
# The two alternate, so that a slower spell of the machine falls on both.
T_MANY=() T_ONE=()
for _ in $(seq "$RUNS"); do
  T_MANY+=("$(one_run "$B_many" 1024)")
  T_ONE+=("$(one_run "$B_one" 16)")
done
t_many=$(median "${T_MANY[@]}")
t_one=$(median "${T_ONE[@]}")
r_many=$(requests "$B_many")
r_one=$(requests "$B_one")
k_many=$(kcat_l "$B_many")
k_one=$(kcat_l "$B_one")
"$PY" - "$t_many" "$t_one" "$k_many" "$k_one" "$RUNS" <<EOF
import sys
tm, to, km, ko = map(float, sys.argv[1:5])
print(f"evt lag -G g, every partition lagging, medians of {sys.argv[5]} runs")
print(f"  1,024 partitions (64 topics x 16): {tm:.3f} s")
print(f"     16 partitions (1 topic x 16):   {to:.3f} s")
print(f"  ratio {tm/to:.2f} for 64x the partitions (target <= 2.5)")
print(f"requests, 1,024 partitions: $r_many")
print(f"requests,    16 partitions: $r_one")
print(f"kcat -L for scale: {km:.3f} s (1,024 partitions), {ko:.3f} s (16)")
EOF
