# evt lag DATADIR: lag read offline from a broker's data directory. A directory the test builds
# (topics written by evt write, __consumer_offsets records built byte by byte in Kafka's
# OffsetCommitKey/Value layout by Python): the latest commit wins, tombstones delete, commit
# timestamps shown, ends from the partitions, exact time lag through the offset index (and
# the same with the index damaged), now = the newest record time, every format, thresholds.
# Then the real broker-written corpus (skipped when absent).
source "$(dirname "$0")/lib.sh"
E=$EVT
PY=/usr/bin/python3
D=$TMP/data

T0=1709251200000  # 2024-03-01T00:00:00Z
# orders: 2 partitions x 1,000 records, record i of partition p at T0 + p min + i s, in batches
# of 10 and small segments, so that a committed offset is deep inside an indexed segment.
"$PY" -c '
import json
for p in range(2):
    for i in range(1000):
        print(json.dumps({"topic": "orders", "partition": p, "offset": -1, "timestamp": 1709251200000 + p * 60000 + i * 1000,
                          "key": "k%d" % i, "value": "v" * 100, "headers": []}))
for i in range(3):
    print(json.dumps({"topic": "audit", "partition": 0, "offset": -1, "timestamp": 1709251200000 + i,
                      "key": None, "value": "a", "headers": []}))' >"$TMP/data.jsonl"
expect_exit 0 "$E" write "$D" --partition keep --compression none --segment-bytes 20000 --batch-records 10 --in "$TMP/data.jsonl"
[ "$(ls "$D/orders-0"/*.log | wc -l)" -gt 3 ] && pass || fail "several segments per partition"

# commits GROUP:TOPIC:PARTITION:OFFSET:TIME (OFFSET "-" is a tombstone), in this order, into
# __consumer_offsets-0: key version 1 (group, topic, partition), value version 3 (offset,
# leader epoch -1, metadata, commit timestamp), the record's timestamp the commit time.
commits() {
  "$PY" - "$@" <<'EOF' >"$TMP/commits.jsonl"
import base64, json, struct, sys
def s(x):
    b = x.encode()
    return struct.pack(">h", len(b)) + b
for spec in sys.argv[1:]:
    g, t, p, o, ts = spec.split(":")
    key = struct.pack(">h", 1) + s(g) + s(t) + struct.pack(">i", int(p))
    rec = {"topic": "__consumer_offsets", "partition": 0, "offset": -1, "timestamp": int(ts),
           "key_base64": base64.b64encode(key).decode(), "headers": []}
    if o == "-":
        rec["value"] = None
    else:
        rec["value_base64"] = base64.b64encode(struct.pack(">hqi", 3, int(o), -1) + s("meta") + struct.pack(">q", int(ts))).decode()
    print(json.dumps(rec))
EOF
  "$E" write "$D" --partition keep --in "$TMP/commits.jsonl" 2>/dev/null
}
C=$((T0 + 3600000))  # commits an hour after T0
commits "g:orders:0:400:$C" "g:orders:1:1000:$((C + 1))" "old:orders:0:2:$((C + 2))" "again:orders:0:1:$((C + 3))" \
  "again:orders:0:600:$((C + 4))" "old:orders:0:-:$((C + 5))" "h:audit:0:1:$((C + 6))" "gone:orders:7:5:$((C + 7))"

# field NAME [KIND] / row TOPIC PARTITION FIELD [GROUP]: from JSON Lines on stdin.
field() { "$PY" -c '
import sys, json
name, kind = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "partition"
print(" ".join("null" if r.get(name) is None else str(r.get(name)) for r in map(json.loads, sys.stdin) if r["kind"] == kind))' "$@"; }
row() { "$PY" -c '
import sys, json
t, p, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
g = sys.argv[4] if len(sys.argv) > 4 else None
for r in map(json.loads, sys.stdin):
    if r["kind"] == "partition" and r["topic"] == t and r["partition"] == p and (g is None or r["group"] == g):
        print("null" if r.get(name) is None else r.get(name))' "$@"; }

NOW=2024-03-01T02:00:00Z  # T0 + 7200 s
"$E" lag "$D" -G g --now "$NOW" >"$TMP/g.json"
expect_eq "0 1" "$(field partition <"$TMP/g.json")" "the partitions of the topics g has commits for"
expect_eq "400 1000" "$(field committed <"$TMP/g.json")" "committed offsets from __consumer_offsets"
expect_eq "1000 1000" "$(field end <"$TMP/g.json")" "log ends from the partition directories"
expect_eq "600 0" "$(field lag <"$TMP/g.json")" "lag in records"
expect_eq "$((7200000 - 400000)) 0" "$(field time_lag_ms <"$TMP/g.json")" "time lag: --now - timestamp of offset 400"
expect_eq "$C $((C + 1))" "$(field commit_timestamp <"$TMP/g.json")" "the commit timestamps stored on disk"
expect_eq 400 "$("$PY" -c 'import sys, json
print(json.loads(sys.stdin.readline())["first_unconsumed"]["offset"])' <"$TMP/g.json")" "the record at the committed offset"

# the same with the offset indexes damaged: a stale index must not change the answer
cp -r "$D" "$TMP/damaged"
for f in "$TMP/damaged"/orders-0/*.index; do head -c "$(stat -c %s "$f")" /dev/urandom >"$f"; done
expect_eq "$((7200000 - 400000))" "$("$E" lag "$TMP/damaged" -G g --now "$NOW" | row orders 0 time_lag_ms)" "a damaged index: the same time lag (scan)"
rm -f "$TMP/damaged"/orders-1/*.index "$TMP/damaged"/orders-1/*.timeindex
"$E" lag "$TMP/damaged" -G again --now "$NOW" >"$TMP/noidx.json"
expect_eq "400 $((7200000 - 600000))" "$(row orders 0 lag <"$TMP/noidx.json") $(row orders 0 time_lag_ms <"$TMP/noidx.json")" "indexes deleted: scanned"

# latest commit wins; a tombstone deletes; every group without -G
"$E" lag "$D" --now "$NOW" >"$TMP/all.json"
expect_eq "again g gone h" "$(field group group <"$TMP/all.json")" "every group with live commits (old's was deleted)"
expect_eq 400 "$(row orders 0 lag again <"$TMP/all.json")" "the latest commit of again (600) wins"
expect_eq 2 "$(row audit 0 lag h <"$TMP/all.json")" "h: audit ends at 3, committed 1"
row orders 7 error gone <"$TMP/all.json" >"$TMP/e"; expect_contains "$TMP/e" "no partition directory orders-7"
expect_exit 1 "$E" lag "$D" -G gone --now "$NOW" --fail-on err
expect_contains "$TMP/err" "gone: orders/7: ERR"

# topics named after the directory; a partition without a commit
expect_eq "3" "$("$E" lag "$D" -G g audit --now "$NOW" | field lag)" "audit has no commit of g: counted from the start"
expect_exit 2 "$E" lag "$D" -G g "kafka://x/orders"

# without --now: the newest record time in the directory (the last commit, C + 7)
"$E" lag "$D" -G g >"$TMP/now.json"
expect_eq "$((C + 7 - T0 - 400000))" "$(row orders 0 time_lag_ms <"$TMP/now.json")" "now = the newest record time in the directory"
"$E" lag "$D" -G g --format table >"$TMP/table"
expect_contains "$TMP/table" "^GROUP  *TOPIC  *PART  *COMMITTED  *COMMITTED-AT  *END  *LAG  *TIME-LAG  *STATUS"
expect_contains "$TMP/table" "2024-03-01T01:00:00.000Z"
expect_contains "$TMP/table" "now: 2024-03-01T01:00:00.007Z, the newest record time in"

# thresholds and formats, as live
expect_exit 1 "$E" lag "$D" -G g --max-lag 599
expect_contains "$TMP/err" "g: orders/0: lag 600 records > --max-lag 599"
expect_exit 0 "$E" lag "$D" -G g --max-lag 600
"$E" lag "$D" -G g --format csv >"$TMP/csv"
"$PY" -c 'import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["kind"] == "partition"]
assert rows[0]["lag"] == "600" and rows[0]["commit_timestamp"] == sys.argv[2], rows[0]' "$TMP/csv" "$C" && pass || fail "csv"
"$E" lag "$D" -G g --format prometheus >"$TMP/prom"
expect_contains "$TMP/prom" "kafka_consumergroup_group_lag{cluster_name=\"$D\",group=\"g\",topic=\"orders\",partition=\"0\"} 600"
# history across runs, offline too
"$E" lag "$D" -G g --now "$NOW" --history "$TMP/h" >/dev/null
"$E" lag "$D" -G g --now 2024-03-01T02:01:00Z --history "$TMP/h" >"$TMP/h.json"
expect_eq STALL "$(row orders 0 status <"$TMP/h.json")" "two samples with the same commit: STALL"

# not a data directory
mkdir -p "$TMP/empty/x-0"
expect_exit 2 "$E" lag "$TMP/empty/" -G g
expect_contains "$TMP/err" "no __consumer_offsets-N partition directory"

# ---- the real corpus
CORPUS=${EVT_CORPUS_DIR:-}
if [ -n "$CORPUS" ] && [ -d "$CORPUS/real" ]; then
  R=$CORPUS/real
  # kafkafun (ZooKeeper mode): group "third" committed first/0..2 at 7, 11, 7 (offsets_corpus.sh
  # reads those bytes by hand); the ends are the partitions' record counts (evt cat).
  "$E" lag "$R/kafkafun" -G third first >"$TMP/k.json"
  expect_eq "7 11 7" "$(field committed <"$TMP/k.json")" "corpus kafkafun: third's commits"
  expect_eq "1599778674777 1599778674777 1599778674777" "$(field commit_timestamp <"$TMP/k.json")" "corpus: commit timestamps"
  ends=""
  for p in 0 1 2; do ends="$ends $("$E" cat "$R/kafkafun/first-$p" | "$PY" -c 'import sys, json
print(max(json.loads(l)["offset"] for l in sys.stdin) + 1)')"; done
  expect_eq "${ends# }" "$(field end <"$TMP/k.json")" "corpus: ends from the partition directories"
  expect_eq "2 0 0" "$(field lag <"$TMP/k.json")" "corpus kafkafun: lag = end - committed"
  # time lag: the newest record time in the directory (every record scanned by evt cat) minus
  # the timestamp of first/0's record at offset 7 (read by evt cat)
  newest=$(find "$R/kafkafun" -mindepth 1 -maxdepth 1 -type d | while read -r p; do "$E" cat "$p"; done | "$PY" -c 'import sys, json
print(max(json.loads(l)["timestamp"] for l in sys.stdin))')
  ts7=$("$E" cat "$R/kafkafun/first-0" --from 7 -n 1 | "$PY" -c 'import sys, json
print(json.loads(sys.stdin.readline())["timestamp"])')
  expect_eq "$((newest - ts7)) 0 0" "$(field time_lag_ms <"$TMP/k.json")" "corpus kafkafun: time lag against the newest record"
  expect_eq "my-first-app my-second-app third" "$("$E" lag "$R/kafkafun" | field group group)" "corpus kafkafun: every group"
  # ldi-poc (Kafka 3.7): DEVSmileCDR committed TestTopicPatient/0 at 3, the partition's end;
  # its other commits name topics whose directories the copy does not have.
  "$E" lag "$R/ldi-poc" -G DEVSmileCDR >"$TMP/l.json"
  expect_eq "3 3 0" "$(row TestTopicPatient 0 committed <"$TMP/l.json") $(row TestTopicPatient 0 end <"$TMP/l.json") $(row TestTopicPatient 0 lag <"$TMP/l.json")" "corpus ldi-poc"
  expect_eq 3 "$(grep -c '"kind":"partition".*no partition directory' "$TMP/l.json")" "corpus ldi-poc: topics the copy lacks are ERR"
  # every corpus directory with __consumer_offsets: no error, every partition evaluated
  while IFS= read -r dir; do
    if "$E" lag "$dir" --now 2030-01-01T00:00:00Z >"$TMP/c.json" 2>"$TMP/c.err"; then pass; else fail "lag $dir: $(head -2 "$TMP/c.err")"; fi
  done < <(find "$R" -maxdepth 2 -type d -name '__consumer_offsets-*' -printf '%h\n' | sort -u)
else
  echo "SKIP (corpus part): corpus not found at '${CORPUS}' (expected ../shared/corpus beside the project)"
fi

finish
