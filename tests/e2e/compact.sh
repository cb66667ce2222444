# evt compact: Kafka's log cleaner on segment directories: results, horizons, policies,
# locks, an independent decoder, and kill -9 at every step and at random moments.
source "$(dirname "$0")/lib.sh"
E=$EVT
py=/usr/bin/python3
NOW=2024-01-02T00:00:00Z       # the clock every run uses (records are from 2024-01-01)
NOW_MS=1704153600000

# gen N KEYS SEED: envelope JSONL with keys k0..k(KEYS-1), ~10% tombstones, headers,
# one record per second from 2024-01-01T00:00:00Z; NULLKEYS=1 adds a few null keys.
gen() {
  $py - "$@" <<'PY'
import json, random, sys
n, keys, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
import os
nullkeys = os.environ.get("NULLKEYS") == "1"
r = random.Random(seed)
for i in range(n):
    k = None if nullkeys and r.random() < 0.02 else f"k{r.randrange(keys)}"
    v = None if r.random() < 0.1 else f"value-{seed}-{i}-" + "x" * r.randrange(0, 80)
    h = [{"key": "h", "value": str(r.randrange(10))}] if r.random() < 0.5 else []
    print(json.dumps({"key": k, "value": v, "timestamp": 1704067200000 + i * 1000, "headers": h}))
PY
}
mk() {  # mk N KEYS SEED [write flags]: a fresh partition dir $TMP/c/c-0
  rm -rf "$TMP/c"
  local n=$1 keys=$2 seed=$3; shift 3
  gen "$n" "$keys" "$seed" | "$E" write "$TMP/c/c-0" --segment-bytes "${SEG:-30000}" --compression "${COMP:-none}" \
    --batch-records 40 "$@" >/dev/null
}
segs() { ls "$TMP/c/c-0" | grep -c '\.log$'; }
# model DIR-JSONL ACTIVE_FROM: what compaction must leave (latest per key below ACTIVE_FROM;
# tombstones stay on a first compaction; records at/after ACTIVE_FROM untouched)
model() {
  $py - "$1" "$2" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
end = int(sys.argv[2])
latest = {}
for r in recs:
    if r["offset"] < end and r["key"] is not None:
        latest[r["key"]] = r["offset"]
for r in recs:
    if r["offset"] < end and r["key"] is not None and latest[r["key"]] != r["offset"]:
        continue
    print(json.dumps(r, sort_keys=True))
PY
}
norm() { $py -c 'import json,sys
for l in sys.stdin: print(json.dumps(json.loads(l), sort_keys=True))'; }
# state FILE: the latest value per key (a tombstone = absent), one line per key, sorted
state() { $py -c 'import json,sys
s = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["key"] is None: continue
    if r["value"] is None: s.pop(r["key"], None)
    else: s[r["key"]] = r["value"]
for k in sorted(s): print(k, s[k])' "$1"; }
active_from() { "$E" dump "$TMP/c/c-0" --batches-only --json | $py -c 'import json,sys
import os
b = [json.loads(l) for l in sys.stdin]
files = sorted({x["file"] for x in b})
last = files[-1]
print(min(x["base_offset"] for x in b if x["file"] == last))'; }

# ---- the basic job, against a model ----
mk 6000 200 1
n0=$(segs)
[ "$n0" -ge 5 ] && pass || fail "expected several segments, got $n0"
"$E" cat "$TMP/c" >"$TMP/before.jsonl"
af=$(active_from)
"$E" compact "$TMP/c" --now $NOW --dry-run >"$TMP/plan" 2>"$TMP/plan.err"
expect_eq "$n0" "$(segs)" "--dry-run changes nothing"
cmp -s <("$E" cat "$TMP/c") "$TMP/before.jsonl" && pass || fail "--dry-run changed records"
expect_contains "$TMP/plan.err" "would clean"
"$E" compact "$TMP/c" --now $NOW --stats-json "$TMP/stats.json" 2>"$TMP/err"
expect_contains "$TMP/err" "compact: cleaned 1 of 1 partition"
"$E" cat "$TMP/c" | norm >"$TMP/got"
model "$TMP/before.jsonl" "$af" >"$TMP/want"
cmp -s "$TMP/got" "$TMP/want" && pass || fail "compacted records differ from the model ($(wc -l <"$TMP/got") vs $(wc -l <"$TMP/want"))"
$py - "$TMP/plan" "$TMP/stats.json" "$(wc -l <"$TMP/want")" <<'PY' && pass || fail "dry-run plan / stats"
import json, sys
plan = json.loads(open(sys.argv[1]).read()); st = json.loads(open(sys.argv[2]).read())
want = int(sys.argv[3])
assert plan["dry_run"] and not st["dry_run"], (plan, st)
for k in ("records_before", "records_after", "keys", "segments_before", "bytes_after"):
    assert plan[k] == st[k], (k, plan[k], st[k])
assert st["records_after"] == want and st["records_before"] == 6000, st
assert st["passes"] == 1 and st["keys"] <= 200 and st["horizons_set"] > 0, st
assert "estimated_seconds" in plan and "seconds" in st
PY
expect_exit 0 "$E" verify "$TMP/c"
[ -f "$TMP/c/c-0/.evt-cleaner-offset-checkpoint" ] && pass || fail "no cleaner checkpoint"
# the latest state per key did not change
"$E" cat "$TMP/c" >"$TMP/after.jsonl"
cmp -s <(state "$TMP/before.jsonl") <(state "$TMP/after.jsonl") && pass || fail "compaction changed the state of some key"
# tombstones got a delete horizon of now + 24h in their batch header
"$E" dump "$TMP/c" --batches-only --json | grep -q "\"delete_horizon\":$((NOW_MS + 86400000))" && pass || fail "no delete horizon stamped"

# ---- a second run: nothing new, exit 0 ----
expect_exit 0 "$E" compact "$TMP/c" --now $NOW
expect_contains "$TMP/err" "nothing to do"
# ...until the horizon has passed: the tombstones go (KIP-534), without --force
expect_exit 0 "$E" compact "$TMP/c" --now 2024-01-03T00:00:00Z --stats-json "$TMP/st2"
$py - "$TMP/st2" <<'PY' && pass || fail "tombstones past their horizon were not removed"
import json, sys
st = json.loads(open(sys.argv[1]).read())
assert st["tombstones_removed"] > 0, st
PY
"$E" cat "$TMP/c" --until "$af" -f '%v\n' | grep -qx 'null' && fail "a tombstone survived its horizon" || pass

# ---- the dirty ratio: a little new data is skipped, --force cleans it ----
mk 6000 200 11
"$E" compact "$TMP/c" --now $NOW --include-active 2>/dev/null
gen 20 200 2 | "$E" write "$TMP/c/c-0" --segment-bytes 1024 >/dev/null  # rolls: the new records get their own segment
expect_exit 0 "$E" compact "$TMP/c" --now $NOW --include-active --stats-json "$TMP/st3"
grep -q '"cleaned":false' "$TMP/st3" && grep -q 'min-cleanable-ratio' "$TMP/st3" && pass || fail "low dirty ratio not skipped: $(cat "$TMP/st3")"
expect_exit 0 "$E" compact "$TMP/c" --now $NOW --include-active --force --stats-json "$TMP/st3"
grep -q '"cleaned":true' "$TMP/st3" && pass || fail "--force did not clean"
expect_exit 0 "$E" compact "$TMP/c" --now $NOW --include-active --min-cleanable-ratio 0 --stats-json "$TMP/st3"

# ---- --include-active compacts everything; --min-compaction-lag holds new segments ----
mk 3000 50 4
"$E" cat "$TMP/c" >"$TMP/before.jsonl"
"$E" compact "$TMP/c" --now $NOW --min-compaction-lag 1000d --stats-json "$TMP/st4" 2>/dev/null
grep -q '"cleaned":false' "$TMP/st4" && pass || fail "--min-compaction-lag did not hold the segments"
"$E" compact "$TMP/c" --now $NOW --include-active 2>/dev/null
"$E" cat "$TMP/c" | norm >"$TMP/got"
model "$TMP/before.jsonl" 999999999 >"$TMP/want"
cmp -s "$TMP/got" "$TMP/want" && pass || fail "--include-active result differs from the model"
[ "$("$E" cat "$TMP/c" -f '%k\n' | sort | uniq -d | wc -l)" = 0 ] && pass || fail "--include-active left duplicate keys"

# ---- --segment-bytes groups, --compression rebuilds ----
mk 6000 3000 5
"$E" compact "$TMP/c" --now $NOW --segment-bytes 64K --compression zstd 2>/dev/null
for f in "$TMP"/c/c-0/*.log; do
  [ "$(stat -c %s "$f")" -le 65536 ] || fail "$f is larger than --segment-bytes"
  [ -f "${f%.log}.index" ] && [ -f "${f%.log}.timeindex" ] || fail "$f has no index files"
done
pass
"$E" dump "$TMP/c" --batches-only --json | grep -q '"codec":"zstd"' && pass || fail "--compression zstd not applied"
expect_exit 0 "$E" verify "$TMP/c"

# ---- null keys: stop by default (exit 1, before any change), keep or drop on request ----
rm -rf "$TMP/c"; NULLKEYS=1 gen 3000 100 6 | "$E" write "$TMP/c/c-0" --segment-bytes 30000 >/dev/null
"$E" cat "$TMP/c" >"$TMP/before.jsonl"
expect_exit 1 "$E" compact "$TMP/c" --now $NOW
expect_contains "$TMP/err" "with a null key"
cmp -s <("$E" cat "$TMP/c") "$TMP/before.jsonl" && pass || fail "a refused run changed the data"
nulls=$(grep -c '"key":null' "$TMP/before.jsonl")
expect_exit 0 "$E" compact "$TMP/c" --now $NOW --null-keys keep
expect_eq "$nulls" "$("$E" cat "$TMP/c" | grep -c '"key":null')" "--null-keys keep"
expect_exit 0 "$E" compact "$TMP/c" --now $NOW --null-keys drop --force
left=$("$E" cat "$TMP/c" | grep -c '"key":null' || true)
[ "$left" -lt "$nulls" ] && pass || fail "--null-keys drop kept them all"

# ---- locks: another evt process, and a running broker ----
mk 2000 50 7
exec 9>"$TMP/c/c-0/.evt.lock"; flock -x 9
expect_exit 2 "$E" compact "$TMP/c" --now $NOW
expect_contains "$TMP/err" "another evt process"
( sleep 1; flock -u 9 ) &
expect_exit 0 "$E" compact "$TMP/c" --now $NOW --wait
exec 9>&-
wait
exec 8>"$TMP/c/.lock"; flock -x 8
expect_exit 2 "$E" compact "$TMP/c" --now $NOW
expect_contains "$TMP/err" "broker"
exec 8>&-; rm -f "$TMP/c/.lock"
expect_exit 2 "$E" compact "$TMP/c" --max-memory 1K
expect_exit 2 "$E" compact "$TMP/nope"

# ---- an independent decoder (python3-kafka) reads the compacted files as evt cat does ----
HAVE_KPY=0
have python3-kafka $py -c 'import kafka.record' && HAVE_KPY=1
if [ "$HAVE_KPY" = 1 ]; then
  COMP=lz4 mk 4000 100 8
  "$E" compact "$TMP/c" --now $NOW --include-active 2>/dev/null
  "$E" cat "$TMP/c" >"$TMP/evt.jsonl"
  $py - "$TMP/c/c-0" "$TMP/evt.jsonl" <<'PY' && pass || fail "python3-kafka reads different records"
import glob, json, struct, sys
from kafka.record.default_records import DefaultRecordBatch
got = []
for f in sorted(glob.glob(sys.argv[1] + "/*.log")):
    data = open(f, "rb").read()
    pos = 0
    while pos < len(data):
        length = struct.unpack(">i", data[pos + 8:pos + 12])[0]
        b = DefaultRecordBatch(data[pos:pos + 12 + length])
        assert b.validate_crc()
        for r in b:
            got.append((r.offset, r.timestamp, r.key.decode() if r.key is not None else None,
                        r.value.decode() if r.value is not None else None,
                        [(k, v.decode()) for k, v in r.headers]))
        pos += 12 + length
want = []
for l in open(sys.argv[2]):
    r = json.loads(l)
    want.append((r["offset"], r["timestamp"], r["key"], r["value"], [(h["key"], h["value"]) for h in r["headers"]]))
assert got == want, (len(got), len(want), [x for x in zip(got, want) if x[0] != x[1]][:2])
PY
fi

# ---- legacy (magic 1) tombstones: gone once now >= segment mtime + --delete-retention ----
if [ "$HAVE_KPY" = 1 ]; then
  rm -rf "$TMP/lg"; mkdir -p "$TMP/lg/lg-0"
  $py - "$TMP/lg/lg-0" <<'PY'
import sys
from kafka.record.legacy_records import LegacyRecordBatchBuilder
def seg(path, msgs):
    b = LegacyRecordBatchBuilder(1, 0, 1 << 20)
    for off, k, v in msgs:
        b.append(off, 1704067200000 + off, k, v)
    open(path, "wb").write(bytes(b.build()))
seg(sys.argv[1] + "/00000000000000000000.log",
    [(0, b"a", b"a1"), (1, b"b", b"b1"), (2, b"a", None), (3, b"c", b"c1"), (4, b"b", b"b2")])
seg(sys.argv[1] + "/00000000000000000005.log", [(5, b"d", b"d1")])
PY
  touch -d @1704067200 "$TMP/lg/lg-0/00000000000000000000.log"   # 2024-01-01T00:00:00Z
  "$E" compact "$TMP/lg" --now 2024-01-01T00:30:00Z --delete-retention 1h 2>/dev/null
  expect_eq "2:a: 3:c:c1 4:b:b2 5:d:d1" "$("$E" cat "$TMP/lg" -f '%o:%k:%v
' | paste -sd' ')" "legacy tombstone kept before mtime + retention"
  "$E" compact "$TMP/lg" --now 2024-01-01T02:00:00Z --delete-retention 1h --force 2>/dev/null
  expect_eq "3:c:c1 4:b:b2 5:d:d1" "$("$E" cat "$TMP/lg" -f '%o:%k:%v
' | paste -sd' ')" "legacy tombstone removed after mtime + retention"
  expect_eq "1704067200" "$(stat -c %Y "$TMP/lg/lg-0/00000000000000000000.log")" "the cleaned segment keeps its source's mtime"
fi

# ---- crash safety: SIGKILL at every step of the replacement protocol ----
# Reference: an uninterrupted run on the same input.
mkcrash() { SEG=20000 mk 1500 300 9; }
mkcrash
"$E" cat "$TMP/c" >"$TMP/orig.jsonl"
state "$TMP/orig.jsonl" >"$TMP/orig.state"
"$E" compact "$TMP/c" --now $NOW --segment-bytes 60000 2>/dev/null
"$E" cat "$TMP/c" >"$TMP/ref.jsonl"
check_crashed() {  # after a kill: readers see each key old or new, nothing twice; verify passes; a rerun finishes
  local what=$1
  "$E" verify "$TMP/c" >/dev/null 2>"$TMP/verr" || { fail "$what: verify failed: $(head -3 "$TMP/verr")"; return; }
  "$E" cat "$TMP/c" >"$TMP/mid.jsonl" || { fail "$what: cat failed"; return; }
  [ "$($py -c 'import json,sys
offs=[json.loads(l)["offset"] for l in open(sys.argv[1])]
print(int(offs == sorted(set(offs))))' "$TMP/mid.jsonl")" = 1 ] || fail "$what: a record seen twice or out of order"
  cmp -s <(state "$TMP/mid.jsonl") "$TMP/orig.state" || fail "$what: some key is in neither its old nor its new state"
  "$E" compact "$TMP/c" --now $NOW --segment-bytes 60000 2>/dev/null || { fail "$what: rerun failed"; return; }
  cmp -s <("$E" cat "$TMP/c") "$TMP/ref.jsonl" || { fail "$what: rerun result differs from an uninterrupted run"; return; }
  ls "$TMP/c/c-0" | grep -qE '\.(cleaned|swap|deleted)$' && { fail "$what: leftovers after the rerun"; return; }
  pass
}
steps=0
for step in $(seq 1 120); do
  mkcrash
  ( EVT_COMPACT_KILL_AT_STEP=$step exec "$E" compact "$TMP/c" --now $NOW --segment-bytes 60000 >/dev/null 2>&1 ) 2>/dev/null &&
    { steps=$((step - 1)); break; }
  check_crashed "kill at step $step"
done
[ "$steps" -ge 10 ] && pass || fail "expected at least 10 protocol steps, the run finished after $steps"

# ---- crash safety: kill -9 at 25 random moments of a larger compaction ----
SEG=200000 mk 30000 2000 10
"$E" cat "$TMP/c" >"$TMP/orig.jsonl"
state "$TMP/orig.jsonl" >"$TMP/orig.state"
cp -r "$TMP/c" "$TMP/c.orig"
"$E" compact "$TMP/c" --now $NOW --segment-bytes 600000 2>/dev/null
"$E" cat "$TMP/c" >"$TMP/ref.jsonl"
rm -rf "$TMP/c"; cp -r "$TMP/c.orig" "$TMP/c"
t0=$(date +%s%N)
"$E" compact "$TMP/c" --now $NOW --segment-bytes 600000 2>/dev/null
dur_us=$(( ($(date +%s%N) - t0) / 1000 ))
# A kill counts only when the compaction died of it (wait reports 137); a run that
# finished first does not. When a delay misses, later delays are drawn from a shorter
# window, so a machine faster or slower than the timing run still gets 25 hits.
killed=0 missed=0 scale=0.8
for i in $(seq 1 150); do
  [ "$killed" -ge 25 ] && break
  rm -rf "$TMP/c"; cp -r "$TMP/c.orig" "$TMP/c"
  delay=$(awk -v s="$i" -v d="$dur_us" -v k="$scale" 'BEGIN { srand(s); printf "%.6f", rand() * k * d / 1e6 }')
  "$E" compact "$TMP/c" --now $NOW --segment-bytes 600000 >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 $pid 2>/dev/null || true
  rc=0; wait $pid 2>/dev/null || rc=$?
  if [ "$rc" -eq 137 ]; then
    killed=$((killed + 1))
  else
    missed=$((missed + 1))
    scale=$(awk -v k="$scale" 'BEGIN { printf "%.4f", k * 0.8 }')
  fi
  check_crashed "random kill $i after ${delay}s"
done
[ "$killed" -ge 25 ] && pass || fail "only $killed random kills hit a running compaction ($missed runs finished first)"
echo "kill points: $steps protocol steps each killed once; $killed random kills hit a running compaction, $missed runs finished first" >&2
finish
