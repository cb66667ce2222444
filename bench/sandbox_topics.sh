#!/usr/bin/env bash
# evt sandbox --topics: the time from start to the printed address with one 16-partition
# topic and with 67 of them (1,072 partitions), the median of RUNS starts each, and their
# ratio (target: about 1x; before the fix a 67-topic sandbox took 0.06-23 s, and here over a
# minute, stalling up to a second per topic on librdkafka's mock op wakeup).
# Usage: bench/sandbox_topics.sh [runs, default 5] [topics, default 67]
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
RUNS=${1:-5}
TOPICS=${2:-67}
/usr/bin/python3 - "$EVT" "$RUNS" "$TOPICS" <<'PY'
import signal, statistics, subprocess, sys, time
evt, runs, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def start(spec):
    t = time.monotonic()
    p = subprocess.Popen([evt, "sandbox", "--topics", spec], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    dt = time.monotonic() - t
    p.send_signal(signal.SIGINT)
    p.wait(timeout=60)
    if not line.strip():
        sys.exit("the sandbox printed no address")
    return dt
one = ",".join("t0:16" for _ in range(1))
many = ",".join("t%d:16" % i for i in range(n))
a = [start(one) for _ in range(runs)]
b = [start(many) for _ in range(runs)]
ma, mb = statistics.median(a), statistics.median(b)
print("sandbox start, 1 topic x 16:   median %.3f s  (runs: %s)" % (ma, " ".join("%.3f" % x for x in a)))
print("sandbox start, %d topics x 16: median %.3f s  (runs: %s)" % (n, mb, " ".join("%.3f" % x for x in b)))
print("ratio %d topics / 1 topic: %.2fx" % (n, mb / ma))
PY
