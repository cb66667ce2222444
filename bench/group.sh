#!/usr/bin/env bash
# evt backfill --group: records/s of one process against three processes sharing the run, on
# the sandbox (24 partitions), each process `--workers 1` with a --pipe worker that sleeps
# 1 ms per record (the work, not evt, is the bottleneck). Prints both rates and the ratio
# (target >= 2.5x). The time of a run is from the start of the processes to the exit of the
# last, so it includes joining the group and the end-of-run check; the time from the first
# record handed to a worker to the exit of the last is printed too, since joining a new group
# costs a fixed 3 s whatever the member count (the coordinator's
# group.initial.rebalance.delay.ms: 3000 on Kafka by default, and on librdkafka's mock).
# GROUP_STRATEGY sets partition.assignment.strategy (default: evt's, range,roundrobin, the
# eager protocol; cooperative-sticky for the cooperative one).
# Usage: bench/group.sh [records, default 72000: about 80 s of work for one process, so that
# the fixed 3-s join is a small part of the run, as it is of any backfill worth spreading]
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
COUNT=${1:-72000}
OUT=${BENCH_DIR:-bench/out}/group
mkdir -p "$OUT"
source bench/sandbox_common.sh
start_sandbox t:24 "$OUT/addr"
trap 'kill -INT $SB 2>/dev/null || true; wait $SB 2>/dev/null || true' EXIT
/usr/bin/python3 -c "
import json
for i in range($COUNT): print(json.dumps({'key': 'k%d' % (i % 997), 'value': 'v%d' % i}))" | "$EVT" write "kafka://$B/t" 2>/dev/null
cat >"$OUT/worker.py" <<'PY'
import os, sys, time
first = True
while True:
    line = sys.stdin.readline()
    if not line:
        break
    if first:
        with open(os.environ["FIRST_LOG"], "a") as f:
            f.write("%.6f\n" % time.time())
        first = False
    time.sleep(0.001)
    sys.stdout.write("ok\n")
    sys.stdout.flush()
PY
X=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
[ -z "${GROUP_STRATEGY:-}" ] || X+=(-X "partition.assignment.strategy=$GROUP_STRATEGY")
# run GROUP N: N processes; prints records/s over the whole run and after the first record
run() {
  local g=$1 n=$2 pids=() t0 t1 i
  rm -f "$OUT/$g.first"
  t0=$(date +%s.%N)
  for i in $(seq "$n"); do
    FIRST_LOG="$OUT/$g.first" "$EVT" backfill "kafka://$B/t" --group "$g" "${X[@]}" --workers 1 --pipe "/usr/bin/python3 $OUT/worker.py" 2>"$OUT/$g.$i.err" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  t1=$(date +%s.%N)
  /usr/bin/python3 -c "
first = min(float(l) for l in open('$OUT/$g.first'))
print('%.0f %.0f %.1f' % ($COUNT / ($t1 - $t0), $COUNT / ($t1 - first), first - $t0))"
}
read -r one one_w one_j < <(run bench1 1)
read -r three three_w three_j < <(run bench3 3)
echo "evt backfill --group, $COUNT records, 24 partitions, 1 ms per record, assignors ${GROUP_STRATEGY:-range,roundrobin}:"
echo "  1 process:   $one records/s ($one_w records/s after the first record, ${one_j} s to join)"
echo "  3 processes: $three records/s ($three_w records/s after the first record, ${three_j} s to join)"
/usr/bin/python3 -c "print('  ratio: %.2fx (target >= 2.5x); after the first record: %.2fx' % ($three / $one, $three_w / $one_w))"
