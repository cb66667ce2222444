# evt replay: selection, mapping, pacing, checkpoints and kill -9 loops, to segment
# directories, JSON Lines files, stdout and the sandbox (checked with kcat).
source "$(dirname "$0")/lib.sh"
E=$EVT
py=/usr/bin/python3
trap 'stop_sandbox; rm -rf "$TMP"' EXIT

# Source: 3 partitions, one record every second from 2024-01-01T00:00:00Z; values carry an
# event time ("at") 1 hour before the record time, and out of order by up to 30 s.
$py - >"$TMP/src.jsonl" <<'PY'
import json, random
r = random.Random(7)
for i in range(3000):
    ts = 1704067200000 + i * 1000
    at = ts - 3600000 + r.randrange(-30000, 30000)
    v = {"n": i, "at": __import__("datetime").datetime.utcfromtimestamp(at / 1000).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
         "kind": r.choice(["a", "b", "c"])}
    print(json.dumps({"topic": "orders", "partition": i % 3, "key": f"k{r.randrange(40)}", "value": v,
                      "timestamp": ts, "headers": [{"key": "h", "value": str(i)}]}))
PY
"$E" write "$TMP/src" <"$TMP/src.jsonl" --segment-bytes 40000 >/dev/null
"$E" cat "$TMP/src" >"$TMP/all.jsonl"
# sel PYEXPR: the records of all.jsonl for which PYEXPR (over r, v) holds, as "p/o" lines
sel() { $py - "$TMP/all.jsonl" "$1" <<'PY'
import json, sys, datetime
def ms(s): return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
for l in open(sys.argv[1]):
    r = json.loads(l); v = r["value"]
    if eval(sys.argv[2]): print(f'{r["partition"]}/{r["offset"]}')
PY
}
po() { $py - "$1" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    src = [h["value"] for h in r["headers"] if h["key"] == "evt.source"]
    print(src[0].split("/", 1)[1] if src else "%d/%d" % (r["partition"], r["offset"]))
PY
}

# ---- selection: offsets, record time, event time, keys, partitions, where ----
"$E" replay "$TMP/src" "$TMP/o1.jsonl" --from 100 --until 200 2>/dev/null
cmp -s <(po "$TMP/o1.jsonl" | sort) <(sel '100 <= r["offset"] < 200' | sort) && pass || fail "--from/--until offsets"
"$E" replay "$TMP/src" "$TMP/o2.jsonl" --from 2024-01-01T00:10:00Z --until 2024-01-01T00:20:00Z 2>/dev/null
cmp -s <(po "$TMP/o2.jsonl" | sort) <(sel '1704067800000 <= r["timestamp"] < 1704068400000' | sort) && pass || fail "--from/--until times"
"$E" replay "$TMP/src" "$TMP/o3.jsonl" --time-field .at --from 2023-12-31T23:10:00Z --until 2023-12-31T23:15:00Z 2>"$TMP/err"
cmp -s <(po "$TMP/o3.jsonl" | sort) <(sel '1704064200000 <= ms(v["at"]) < 1704064500000' | sort) && pass || fail "--time-field event-time window"
[ "$(wc -l <"$TMP/o3.jsonl")" -gt 100 ] && pass || fail "event-time window too small"
printf 'k1\nk7\n' >"$TMP/keys"
"$E" replay "$TMP/src" - --keys "$TMP/keys" --partitions 0,2 --where '.kind == "a"' >"$TMP/o4.jsonl" 2>/dev/null
cmp -s <(po "$TMP/o4.jsonl" | sort) <(sel 'r["key"] in ("k1","k7") and r["partition"] in (0,2) and v["kind"] == "a"' | sort) && pass || fail "--keys --partitions --where"
# per-partition order is kept; --merge time interleaves by timestamp
"$E" replay "$TMP/src" - --merge time --until 300 >"$TMP/o5.jsonl" 2>/dev/null
$py - "$TMP/o5.jsonl" <<'PY' && pass || fail "--merge time order"
import json, sys
ts = [json.loads(l)["timestamp"] for l in open(sys.argv[1])]
assert ts == sorted(ts) and len(ts) == 900, len(ts)
PY

# ---- --dry-run: exact per-partition plan, nothing written ----
"$E" replay "$TMP/src" "$TMP/dry" --from 100 --until 200 --dry-run >"$TMP/plan" 2>/dev/null
[ ! -e "$TMP/dry" ] && pass || fail "--dry-run wrote something"
$py - "$TMP/plan" <<'PY' && pass || fail "--dry-run plan"
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
assert len(p) == 3 and all(x["records"] == 100 and x["first_offset"] == 100 and x["last_offset"] == 199 and x["exact"] for x in p), p
assert all(x["bytes"] > 0 and x["first_timestamp"] < x["last_timestamp"] for x in p), p
PY

# ---- mapping: --to-topic, --partition N, --now-timestamps, --provenance ----
"$E" replay "$TMP/src" "$TMP/m" --to-topic copy --partition 5 --now-timestamps --provenance --until 10 2>/dev/null
expect_eq "copy-5" "$(ls "$TMP/m")" "--to-topic/--partition N directory"
$py - "$TMP/m" "$E" <<'PY' && pass || fail "mapping"
import json, subprocess, sys, time
out = subprocess.run([sys.argv[2], "cat", sys.argv[1]], capture_output=True, text=True).stdout.splitlines()
rs = [json.loads(l) for l in out]
assert len(rs) == 30
now = time.time() * 1000
assert all(abs(r["timestamp"] - now) < 600000 for r in rs), "timestamps not now"
for r in rs:
    h = {x["key"]: x["value"] for x in r["headers"]}
    t, p, o = h["evt.source"].split("/")
    assert t == "orders" and int(o) < 10 and len(h["evt.replay.id"]) == 16, h
PY
expect_exit 2 "$E" replay "$TMP/src" "$TMP/m2" --partition hash
expect_exit 2 "$E" replay "$TMP/src" "$TMP/m2" --speed 2
expect_exit 2 "$E" replay "$TMP/src" "$TMP/m2" --dedupe
expect_exit 2 "$E" replay "$TMP/src"

# ---- pacing: measured durations against the schedule ----
# partition 0: 50 records, 3 s apart, --speed 75: 49 * 3 s / 75 = 1.96 s
t0=$(date +%s%N)
"$E" replay "$TMP/src" - --partitions 0 --until 50 --speed 75 --stats-json "$TMP/ps.json" >/dev/null 2>&1
el=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "pacing: --speed 75: $el ms for a 1960 ms schedule" >&2
awk -v e="$el" 'BEGIN { r = e / 1960; exit !(r > 0.95 && r < 10) }' && pass || fail "--speed 75 took ${el} ms for a 1960 ms schedule"
# --rate 100 for 150 records: 1.49 s
t0=$(date +%s%N)
"$E" replay "$TMP/src" - --until 50 --rate 100 >/dev/null 2>&1
el=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "pacing: --rate 100: $el ms for a 1490 ms schedule" >&2
awk -v e="$el" 'BEGIN { r = e / 1490; exit !(r > 0.95 && r < 10) }' && pass || fail "--rate 100 took ${el} ms for a 1490 ms schedule"
# --max-gap: the same 50 records with 3 s gaps capped at 10 ms, at --speed 1: 0.49 s.
# Pacing never runs early (the lower bounds); the upper bounds only show that the schedule
# holds at all (uncapped, this one would take 147 s), so a loaded machine does not fail them.
t0=$(date +%s%N)
"$E" replay "$TMP/src" - --partitions 0 --until 50 --speed 1 --max-gap 10ms >/dev/null 2>&1
el=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "pacing: --max-gap 10ms: $el ms for a 490 ms schedule" >&2
awk -v e="$el" 'BEGIN { r = e / 490; exit !(r > 0.95 && r < 20) }' && pass || fail "--max-gap 10ms took ${el} ms for a 490 ms schedule"


# ---- checkpoints: refusal of other flags, completion, resume ----
"$E" replay "$TMP/src" "$TMP/c1" --checkpoint "$TMP/c1.ck" --until 100 2>/dev/null
expect_exit 2 "$E" replay "$TMP/src" "$TMP/c1" --checkpoint "$TMP/c1.ck" --until 200
expect_contains "$TMP/err" "other sources, selection or destination"
expect_exit 0 "$E" replay "$TMP/src" "$TMP/c1" --checkpoint "$TMP/c1.ck" --until 100
expect_contains "$TMP/err" "complete"
expect_eq 300 "$("$E" cat "$TMP/c1" | wc -l)" "a completed checkpoint does not replay again"

# kill_loop N CMD...: runs CMD N times, each killed with SIGKILL after a random 50-450 ms
# (a run that finishes first just ends); sets KILLED to the number of runs that died of
# the kill (wait reports 137), not counting runs that had already finished.
kill_loop() {
  local n=$1; shift
  KILLED=0
  for _ in $(seq "$n"); do
    "$@" >/dev/null 2>&1 &
    local pid=$!
    sleep "0.$(printf '%03d' $((RANDOM % 400 + 50)))"
    kill -9 $pid 2>/dev/null || true
    local rc=0; wait $pid 2>/dev/null || rc=$?
    if [ "$rc" -eq 137 ]; then KILLED=$((KILLED + 1)); fi
  done
}

# ---- kill -9 loop: segment directory destination, exactly once ----
"$E" cat "$TMP/src" -f '%p/%o|%k|%v|%h\n' | sort >"$TMP/want.seg"
rm -rf "$TMP/k" "$TMP/k.ck"
kill_loop 25 "$E" replay "$TMP/src" "$TMP/k" --checkpoint "$TMP/k.ck" --checkpoint-interval 20ms --rate 200 --provenance
runs=$KILLED
# finish it
"$E" replay "$TMP/src" "$TMP/k" --checkpoint "$TMP/k.ck" --checkpoint-interval 20ms --provenance >/dev/null 2>&1 \
  && pass || fail "final resume failed"
"$E" cat "$TMP/k" -f '%h\n' | tr ',' '\n' | grep '^evt.source=' | sed 's/evt.source=orders\///' | sort >"$TMP/got.src"
expect_eq 3000 "$(wc -l <"$TMP/got.src")" "segment destination: every record once after $runs kills"
expect_eq 0 "$(uniq -d "$TMP/got.src" | wc -l)" "segment destination: no duplicates"
expect_exit 0 "$E" verify "$TMP/k"
# order within each destination partition follows the source
"$E" cat "$TMP/k" -f '%p %h\n' | $py -c 'import sys
last = {}
for l in sys.stdin:
    p, h = l.split(" ", 1)
    src = [x for x in h.strip().split(",") if x.startswith("evt.source=")][0].split("/")
    o = int(src[2])
    assert o > last.get(p, -1), (p, o); last[p] = o' && pass || fail "segment destination: order"
[ "$runs" -ge 20 ] && pass || fail "only $runs kill points"
echo "replay to segments: $runs kill -9 points" >&2

# ---- kill -9 loop: JSON Lines file destination, exactly once ----
rm -f "$TMP/j.jsonl" "$TMP/j.ck"
kill_loop 20 "$E" replay "$TMP/src" "$TMP/j.jsonl" --checkpoint "$TMP/j.ck" --checkpoint-interval 20ms --rate 250
runs=$KILLED
"$E" replay "$TMP/src" "$TMP/j.jsonl" --checkpoint "$TMP/j.ck" >/dev/null 2>&1
cmp -s <(po "$TMP/j.jsonl" | sort) <(sel 'True' | sort) && pass || fail "JSON Lines destination after $runs runs: records lost or doubled"
expect_eq 3000 "$(wc -l <"$TMP/j.jsonl")" "JSON Lines destination line count"

# ---- Kafka (the sandbox, checked with kcat) ----
if have_cmd kcat; then
  start_sandbox --topics dst:3,dd:3,big:8,zc:4,zn:4
  [[ "$B" =~ ^127\.0\.0\.1:[0-9]+$ ]] && pass || fail "no sandbox address"
  "$E" replay "$TMP/src" "kafka://$B/dst" --until 100 --provenance 2>/dev/null
  kcat -C -b "$B" -t dst -e -q -f '%p|%k|%s|%T\n' 2>/dev/null | sort >"$TMP/kgot"
  "$E" cat "$TMP/src" --until 100 -f '%p|%k|%v|%T\n' | sort >"$TMP/kwant"
  cmp -s "$TMP/kgot" "$TMP/kwant" && pass || fail "replay to Kafka: kcat reads other records"
  # Values of compressed batches go to Kafka without a copy, each batch held until its last
  # record is acknowledged: every byte must arrive while batches are recycled (20,000 records
  # of 20-900 bytes), from a zstd source (held) and a stored one (copied from the mapping).
  $py - >"$TMP/zc.jsonl" <<'PY'
import json, random
r = random.Random(11)
for i in range(20000):
    v = r.randbytes(r.randrange(10, 450)).hex()
    print(json.dumps({"topic": "zc", "partition": i % 4, "key": f"k{i}", "value": f"{i}:{v}", "timestamp": 1704067200000 + i}))
PY
  "$E" write "$TMP/zsrc" <"$TMP/zc.jsonl" >/dev/null
  "$E" write "$TMP/nsrc" --compression none <"$TMP/zc.jsonl" >/dev/null
  "$E" cat "$TMP/zsrc" -f '%p|%k|%v\n' | sort >"$TMP/zwant"
  for v in "zsrc zc" "nsrc zn"; do
    set -- $v
    "$E" replay "$TMP/$1" "kafka://$B/$2" 2>/dev/null
    kcat -C -b "$B" -t "$2" -e -q -f '%p|%k|%s\n' 2>/dev/null | sort >"$TMP/zgot"
    cmp -s "$TMP/zgot" "$TMP/zwant" && pass || fail "replay of $1 to Kafka: values differ from the source"
  done
  # a topic as the source, to a JSON Lines file
  "$E" replay "kafka://$B/dst" "$TMP/fromk.jsonl" --partitions 1 2>/dev/null
  expect_eq 100 "$(wc -l <"$TMP/fromk.jsonl")" "replay from a Kafka partition"
  # a topic as a resumable source: kill -9 a few times, resume, every record once
  rm -f "$TMP/kk.jsonl" "$TMP/kk.ck"
  kill_loop 3 "$E" replay "kafka://$B/dst" "$TMP/kk.jsonl" --checkpoint "$TMP/kk.ck" --checkpoint-interval 20ms --rate 300
  "$E" replay "kafka://$B/dst" "$TMP/kk.jsonl" --checkpoint "$TMP/kk.ck" >/dev/null 2>&1 || fail "resume from a topic"
  expect_eq "300 300" "$(wc -l <"$TMP/kk.jsonl") $(po "$TMP/kk.jsonl" | sort -u | wc -l)" "topic source: every record once after $KILLED kills"
  # --partition hash spreads by key like evt write
  "$E" replay "$TMP/src" "kafka://$B/big" --partition hash --until 50 2>/dev/null
  expect_eq 150 "$(kcat -C -b "$B" -t big -e -q -f '%o\n' 2>/dev/null | wc -l)" "--partition hash"

  # kill -9 loop with --dedupe: exactly once into the topic
  rm -f "$TMP/d.ck"
  kill_loop 25 "$E" replay "$TMP/src" "kafka://$B/dd" --checkpoint "$TMP/d.ck" --checkpoint-interval 30ms --rate 200 \
    --provenance --dedupe
  runs=$KILLED
  "$E" replay "$TMP/src" "kafka://$B/dd" --checkpoint "$TMP/d.ck" --provenance --dedupe >/dev/null 2>&1 || fail "final dedupe resume"
  kcat -C -b "$B" -t dd -e -q -f '%h\n' 2>/dev/null | tr ',' '\n' | grep '^evt.source=' | sort >"$TMP/dd.src"
  expect_eq 3000 "$(sort -u "$TMP/dd.src" | wc -l)" "--dedupe: every record delivered ($runs runs)"
  expect_eq 0 "$(uniq -d "$TMP/dd.src" | wc -l)" "--dedupe: no record twice ($runs runs)"
  [ "$runs" -ge 20 ] && pass || fail "only $runs kill points for --dedupe"
  echo "replay to Kafka with --dedupe: $runs kill -9 points" >&2
  stop_sandbox
fi
finish
