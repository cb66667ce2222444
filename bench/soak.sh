#!/usr/bin/env bash
# Soak: `evt cat --follow -G` and `evt write` against the sandbox with steady traffic for
# SOAK_SECONDS (default 600), sampling the RSS (KiB) and open file descriptors of every evt
# process every SOAK_EVERY seconds (default 10). Both must stay flat: the script prints the
# series and, at the end, the growth from the first third of the run to the last.
#   nice -n 19 bench/soak.sh            # 10 minutes
#   SOAK_SECONDS=60 bench/soak.sh       # a quick look
# Traffic: one long-lived `evt write` fed RATE records (default 200, of 300 B) every second
# through a pipe, and one consumer-group member following the topic the whole time.
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
SECS=${SOAK_SECONDS:-600}
EVERY=${SOAK_EVERY:-10}
RATE=${SOAK_RATE:-200}
OUT=${BENCH_DIR:-bench/out}
mkdir -p "$OUT"
source bench/sandbox_common.sh
# 8 partitions spread the data under the mock's 5 MiB per partition cap for a while; the
# mock then drops old batches, which a follower does not notice.
start_sandbox soak:8 "$OUT/soak.addr"
trap 'kill $FEED $CAT $WRITE $SB 2>/dev/null; wait 2>/dev/null' EXIT
"$EVT" gen --count "$RATE" --value-size 300 --seed 1 --topic soak >"$OUT/soak-batch.jsonl"
"$EVT" cat "kafka://$B/soak" --follow -G soak-group -X session.timeout.ms=6000 >/dev/null 2>"$OUT/soak-cat.err" &
CAT=$!
rm -f "$OUT/soak.fifo"; mkfifo "$OUT/soak.fifo"
"$EVT" write "kafka://$B/soak" --in "$OUT/soak.fifo" >/dev/null 2>"$OUT/soak-write.err" &
WRITE=$!
( while :; do cat "$OUT/soak-batch.jsonl"; sleep 1; done ) >"$OUT/soak.fifo" &
FEED=$!
rss() { awk '/^VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
echo "t_s cat_rss_kib cat_fds write_rss_kib write_fds sandbox_rss_kib sandbox_fds"
series=()
for ((t = 0; t <= SECS; t += EVERY)); do
  line="$t $(rss $CAT) $(fds $CAT) $(rss $WRITE) $(fds $WRITE) $(rss $SB) $(fds $SB)"
  echo "$line"
  series+=("$line")
  kill -0 $CAT 2>/dev/null || { echo "soak: cat --follow exited early:" >&2; cat "$OUT/soak-cat.err" >&2; exit 1; }
  kill -0 $WRITE 2>/dev/null || { echo "soak: write exited early:" >&2; cat "$OUT/soak-write.err" >&2; exit 1; }
  sleep "$EVERY"
done
stored_now=$(stored soak)
printf '%s\n' "${series[@]}" | python3 -c '
import sys
rows = [list(map(int, l.split())) for l in sys.stdin if l.strip()]
n = max(1, len(rows) // 3)
first, last = rows[:n], rows[-n:]
def avg(rs, i): return sum(r[i] for r in rs) / len(rs)
for name, i in (("cat RSS KiB", 1), ("cat fds", 2), ("write RSS KiB", 3), ("write fds", 4), ("sandbox RSS KiB", 5),
                ("sandbox fds", 6)):
    a, b = avg(first, i), avg(last, i)
    print(f"{name:<16} first third {a:10.0f}  last third {b:10.0f}  growth {100*(b-a)/a if a else 0:+.1f}%")
'
echo "records stored in the topic at the end: $stored_now"
