# evt retain: time, size and position retention on segment directories.
source "$(dirname "$0")/lib.sh"
E=$EVT
py=/usr/bin/python3
mk() {  # 20 segments of 1000 records, one record per second from 2024-01-01T00:00:00Z
  rm -rf "$TMP/r"
  "$E" gen --count 20000 --start 2024-01-01T00:00:00Z --step 1s --topic r --output "$TMP/r" --segment-bytes 80000 \
    --batch-records 500 >/dev/null
}
segs() { ls "$TMP/r/r-0" | grep -c '\.log$'; }
first() { "$E" cat "$TMP/r" -n 1 -f '%o\n'; }
mk
n0=$(segs)
[ "$n0" -ge 10 ] && pass || fail "expected many segments, got $n0"

# --dry-run changes nothing and prints the plan as JSON Lines
"$E" retain "$TMP/r" --max-age 1h --now 2024-01-01T06:00:00Z --dry-run >"$TMP/plan" 2>"$TMP/plan.err"
expect_eq "$n0" "$(segs)" "--dry-run deletes nothing"
expect_contains "$TMP/plan.err" "would delete"
$py - "$TMP/plan" <<'PY' && pass || fail "dry-run plan"
import json, sys
p = json.loads(open(sys.argv[1]).read())
assert p["dry_run"] is True and p["segments_deleted"] == len(p["deleted"]) > 0, p
cut = 1704088800000 - 3600000
assert all(s["max_timestamp"] < cut and s["reason"] == "max-age" for s in p["deleted"]), p
PY

# --max-age: every deleted segment is older than the cut; the first kept one is not
"$E" retain "$TMP/r" --max-age 5h --now 2024-01-01T06:00:00Z --stats-json "$TMP/stats.json" 2>"$TMP/err"
expect_contains "$TMP/err" "deleted"
off=$(first)
ts=$("$E" cat "$TMP/r" --from "$off" --until "$((off + 1))" -f '%T\n')
$py - "$TMP/stats.json" "$off" <<'PY' && pass || fail "--max-age kept/deleted the wrong segments"
import json, sys
p = json.loads(open(sys.argv[1]).read())
cut = 1704088800000 - 5 * 3600000
assert p["deleted"] and all(s["max_timestamp"] < cut for s in p["deleted"]), p
assert p["new_start_offset"] == int(sys.argv[2]), (p["new_start_offset"], sys.argv[2])
PY
expect_exit 0 "$E" verify "$TMP/r"
# re-running finds nothing more to do and exits 0
expect_exit 0 "$E" retain "$TMP/r" --max-age 5h --now 2024-01-01T06:00:00Z
expect_contains "$TMP/err" "deleted 0 segments"

# the active segment is never deleted, even when everything is old
expect_exit 0 "$E" retain "$TMP/r" --max-age 0s
expect_eq 1 "$(segs)" "only the active segment stays"
expect_eq 19999 "$("$E" cat "$TMP/r" --from -1 -f '%o\n')" "the newest record stays"

# --max-bytes: the oldest go while the partition stays at least the budget
mk
total=$(du -cb "$TMP/r/r-0"/*.log "$TMP/r/r-0"/*.index "$TMP/r/r-0"/*.timeindex | tail -1 | cut -f1)
budget=$((total / 2))
expect_exit 0 "$E" retain "$TMP/r" --max-bytes "$budget"
left=$(du -cb "$TMP/r/r-0"/*.log "$TMP/r/r-0"/*.index "$TMP/r/r-0"/*.timeindex | tail -1 | cut -f1)
[ "$left" -ge "$budget" ] && pass || fail "--max-bytes left $left < budget $budget"
oldest=$(ls "$TMP/r/r-0"/*.log | head -1)
osize=$(du -cb "${oldest%.log}".* | tail -1 | cut -f1)
[ $((left - osize)) -lt "$budget" ] && pass || fail "--max-bytes could have deleted one more segment"
expect_exit 2 "$E" retain "$TMP/r" --max-bytes 10X
expect_exit 0 "$E" retain "$TMP/r" --max-bytes 1T --dry-run

# --before OFFSET and --before TIME
mk
expect_exit 0 "$E" retain "$TMP/r" --before 5000
o=$(first)
[ "$o" -le 5000 ] && [ "$o" -gt 4000 ] && pass || fail "--before 5000 left the log starting at $o"
expect_exit 0 "$E" retain "$TMP/r" --before 2024-01-01T03:00:00Z
o=$(first)
t=$("$E" cat "$TMP/r" -n 1 -f '%T\n')
[ "$o" -le 10800 ] && pass || fail "--before TIME deleted past the time (start $o)"
expect_exit 2 "$E" retain "$TMP/r" --before end
expect_exit 2 "$E" retain "$TMP/r"
expect_contains "$TMP/err" "nothing to retain by"

# crash safety: leftovers of an interrupted run (*.deleted) are invisible to readers and
# removed by the next run
mk
seg=$(ls "$TMP/r/r-0"/*.log | head -1)
for f in "${seg%.log}".*; do mv "$f" "$f.deleted"; done
expect_exit 0 "$E" verify "$TMP/r"
[ "$(first)" -gt 0 ] && pass || fail "a .deleted segment is still read"
expect_exit 0 "$E" retain "$TMP/r" --before 0
[ -z "$(ls "$TMP/r/r-0" | grep '\.deleted$' || true)" ] && pass || fail "leftover .deleted files not removed"

# every state a crash can leave between the renames and the removals: readers see whole
# segments only (a contiguous suffix, no record twice), verify passes, a rerun finishes
for state in log-only all-renamed some-removed; do
  mk
  want=$("$E" cat "$TMP/r" -f '%o\n' | wc -l)
  seg=$(ls "$TMP/r/r-0"/*.log | head -1)
  n1=$("$E" cat "$seg" -f '%o\n' | wc -l)
  stem=${seg%.log}
  case $state in
    log-only) mv "$seg" "$seg.deleted" ;;
    all-renamed) for f in "$stem".*; do mv "$f" "$f.deleted"; done ;;
    some-removed) for f in "$stem".*; do mv "$f" "$f.deleted"; done; rm "$stem.log.deleted" ;;
  esac
  expect_exit 0 "$E" verify "$TMP/r"
  got=$("$E" cat "$TMP/r" -f '%o\n')
  expect_eq $((want - n1)) "$(printf '%s\n' "$got" | sort -u | wc -l)" "$state: every other record once"
  expect_eq "$n1" "$(printf '%s\n' "$got" | head -1)" "$state: the log starts after the half-deleted segment"
  expect_exit 0 "$E" retain "$TMP/r" --before 0
  [ -z "$(ls "$TMP/r/r-0" | grep -e '\.deleted$' -e "^$(basename "$stem")\." || true)" ] && pass || fail "$state: rerun left files"
done

# locks: another evt process, a running broker
mk
exec 9>"$TMP/r/r-0/.evt.lock"
flock 9
expect_exit 2 "$E" retain "$TMP/r" --max-age 0s
expect_contains "$TMP/err" "another evt process"
flock -u 9
exec 9>&-
touch "$TMP/r/.lock"
exec 8>"$TMP/r/.lock"
flock 8
expect_exit 2 "$E" retain "$TMP/r" --max-age 0s
expect_contains "$TMP/err" "running Kafka broker"
flock -u 8
exec 8>&-
expect_eq "$n0" "$(segs)" "locked partitions untouched"
finish
