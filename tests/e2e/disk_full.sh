# Disk full: write, compact, retain, replay (to a segment directory and to a JSON Lines
# file), backfill --checkpoint and verify --repair on a small tmpfs, each run with the free
# space cut at many points. Every run that hits ENOSPC must end with a one-line error and
# a non-zero exit; afterwards, with the space back, verify passes, no record that was there
# before is lost or changed, and a rerun finishes the job. Needs root (mount -t tmpfs):
# without it the test says so and skips.
source "$(dirname "$0")/lib.sh"
E=$EVT
MNT=$TMP/mnt
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=4m,mode=0755 evt-disk-full "$MNT" 2>"$TMP/mount.err"; then
  echo "SKIP: cannot mount a tmpfs here ($(head -1 "$TMP/mount.err")); the disk-full checks need root"
  exit 77
fi
trap 'umount "$MNT" 2>/dev/null; rm -rf "$TMP"' EXIT

avail() { df --output=avail -B1 "$MNT" | tail -1 | tr -d ' '; }
# leave FREE bytes free on the tmpfs (a filler file takes the rest).
leave_free() {
  rm -f "$MNT/filler"
  local a; a=$(avail)
  if [ "$a" -gt "$1" ]; then fallocate -l $((a - $1)) "$MNT/filler"; fi
}
free_all() { rm -f "$MNT/filler"; }
# A failed run: non-zero exit, and stderr ends with its one `evt: error: ...` line (a job's
# summary of what it did may come before it).
check_failed() {
  local what=$1 rc=$2
  if [ "$rc" -eq 0 ]; then fail "$what: exit 0 with the disk full"; return; fi
  local errors; errors=$(grep -c '^evt: error: ' "$TMP/err" || true)
  if [ "$errors" -eq 1 ] && tail -1 "$TMP/err" | grep -q '^evt: error: '; then pass; else
    fail "$what: exit $rc, want one 'evt: error:' line at the end, got:"; sed 's/^/  /' "$TMP/err" | head -5 >&2
  fi
  grep -qi 'no space\|ENOSPC\|space' "$TMP/err" && pass || fail "$what: the error does not say the disk is full: $(head -1 "$TMP/err")"
}
records() { "$E" cat "$@" -f '%t/%p/%o|%k|%v|%h\n' 2>/dev/null; }
POINTS=${DISK_FULL_POINTS:-"0 300 4096 20000 60000 150000 400000"}

"$E" gen --count 3000 --keys 200 --value-size 200 --seed 3 --topic ev >"$TMP/new.jsonl"
"$E" gen --count 500 --keys 200 --value-size 200 --seed 4 --topic ev >"$TMP/old.jsonl"

# ---- write: the records already in the log survive; a rerun appends the rest
for free in $POINTS; do
  rm -rf "$MNT/w"; free_all
  "$E" write --segment-bytes 100000 "$MNT/w/ev-0" <"$TMP/old.jsonl"
  records "$MNT/w/ev-0" >"$TMP/before"
  leave_free "$free"
  rc=0; "$E" write --segment-bytes 100000 "$MNT/w/ev-0" <"$TMP/new.jsonl" >/dev/null 2>"$TMP/err" || rc=$?
  [ "$rc" -eq 0 ] && [ "$free" -ge 400000 ] && { pass; continue; }  # it fitted
  check_failed "write with $free bytes free" "$rc"
  free_all
  expect_exit 0 "$E" verify "$MNT/w"
  records "$MNT/w/ev-0" | head -500 >"$TMP/after"
  cmp -s "$TMP/before" "$TMP/after" && pass || fail "write with $free bytes free: records already there changed"
  expect_exit 0 "$E" write --segment-bytes 100000 "$MNT/w/ev-0" --in "$TMP/new.jsonl"
  expect_exit 0 "$E" verify "$MNT/w"
done

# ---- compact: the log stays as it was or becomes the compacted one
rm -rf "$TMP/ref"; "$E" write --segment-bytes 60000 "$TMP/ref/ev-0" <"$TMP/new.jsonl"
"$E" cat "$TMP/ref/ev-0" -f '%k|%v\n' | awk -F'|' '{l[$1]=$0} END{for(k in l) print l[k]}' | sort >"$TMP/latest"
for free in $POINTS; do
  rm -rf "$MNT/c"; free_all
  cp -r "$TMP/ref" "$MNT/c"
  leave_free "$free"
  rc=0; "$E" compact --force --include-active "$MNT/c" >/dev/null 2>"$TMP/err" || rc=$?
  if [ "$rc" -ne 0 ]; then check_failed "compact with $free bytes free" "$rc"; fi
  free_all
  expect_exit 0 "$E" verify "$MNT/c"
  "$E" cat "$MNT/c/ev-0" -f '%k|%v\n' | awk -F'|' '{l[$1]=$0} END{for(k in l) print l[k]}' | sort >"$TMP/got"
  cmp -s "$TMP/latest" "$TMP/got" && pass || fail "compact with $free bytes free: the latest record of some key changed"
  expect_exit 0 "$E" compact --force --include-active "$MNT/c"
  "$E" cat "$MNT/c/ev-0" -f '%k|%v\n' | sort >"$TMP/got"
  cmp -s "$TMP/latest" "$TMP/got" && pass || fail "compact rerun after $free bytes free: not the compacted log"
done

# ---- retain: whole segments go or stay; what stays is unchanged
for free in 0 100 2000; do
  rm -rf "$MNT/r"; free_all
  cp -r "$TMP/ref" "$MNT/r"
  leave_free "$free"
  rc=0; "$E" retain --before 1500 "$MNT/r" >/dev/null 2>"$TMP/err" || rc=$?
  if [ "$rc" -ne 0 ]; then check_failed "retain with $free bytes free" "$rc"; fi
  free_all
  expect_exit 0 "$E" verify "$MNT/r"
  records "$MNT/r" >"$TMP/got"
  records "$TMP/ref" | tail -n "$(wc -l <"$TMP/got")" >"$TMP/want"
  cmp -s "$TMP/want" "$TMP/got" && [ "$(wc -l <"$TMP/got")" -ge 1500 ] && pass \
    || fail "retain with $free bytes free: kept records differ or too many went"
  expect_exit 0 "$E" retain --before 1500 "$MNT/r"
done

# ---- replay with a checkpoint, to a segment directory and to a JSON Lines file
records "$TMP/ref" | cut -d'|' -f2- >"$TMP/want"
for dst in seg jsonl; do
  for free in $POINTS; do
    rm -rf "$MNT/rp" "$MNT/rp.jsonl" "$MNT/rp.ck"; free_all
    target=$MNT/rp; [ "$dst" = jsonl ] && target=$MNT/rp.jsonl
    leave_free "$free"
    rc=0; "$E" replay "$TMP/ref" "$target" --checkpoint "$MNT/rp.ck" --checkpoint-interval 10ms >/dev/null 2>"$TMP/err" || rc=$?
    [ "$rc" -eq 0 ] && [ "$free" -ge 400000 ] && { pass; continue; }
    check_failed "replay to $dst with $free bytes free" "$rc"
    free_all
    if [ "$dst" = seg ] && [ -d "$MNT/rp" ]; then expect_exit 0 "$E" verify "$MNT/rp"; fi
    expect_exit 0 "$E" replay "$TMP/ref" "$target" --checkpoint "$MNT/rp.ck"
    records "$target" | cut -d'|' -f2- >"$TMP/got"
    cmp -s "$TMP/want" "$TMP/got" && pass || fail "replay to $dst after $free bytes free: not every record exactly once"
    ls "$MNT" | grep -q '\.tmp\|~' && fail "replay to $dst: temp files left: $(ls "$MNT")" || pass
  done
done

# ---- backfill --checkpoint on the full disk (the worker writes elsewhere): at least once
records "$TMP/ref" | cut -d'|' -f1 | sed 's/^ev\///' | sort -u >"$TMP/want.po"
for free in 0 200 2000; do
  rm -f "$MNT/bf.ck" "$TMP/bf.log"; free_all
  leave_free "$free"
  rc=0; "$E" backfill "$TMP/ref" --checkpoint "$MNT/bf.ck" --checkpoint-interval 10ms \
    --exec "echo \$EVT_PARTITION/\$EVT_OFFSET >> $TMP/bf.log" >/dev/null 2>"$TMP/err" || rc=$?
  [ "$rc" -eq 0 ] && { fail "backfill --checkpoint with $free bytes free: exit 0"; continue; }
  check_failed "backfill --checkpoint with $free bytes free" "$rc"
  free_all
  expect_exit 0 "$E" backfill "$TMP/ref" --checkpoint "$MNT/bf.ck" --exec "echo \$EVT_PARTITION/\$EVT_OFFSET >> $TMP/bf.log"
  sort -u "$TMP/bf.log" >"$TMP/got.po"
  cmp -s "$TMP/want.po" "$TMP/got.po" && pass || fail "backfill after $free bytes free: some record never processed"
done

# ---- verify --repair: rebuilding indexes on a full disk keeps the old state
for free in 0 100 3000; do
  rm -rf "$MNT/v"; free_all
  cp -r "$TMP/ref" "$MNT/v"
  records "$MNT/v" >"$TMP/before"
  rm "$MNT"/v/ev-0/*.index
  printf 'junk' >>"$(ls "$MNT"/v/ev-0/*.log | tail -1)"  # a torn tail
  leave_free "$free"
  rc=0; "$E" verify --repair "$MNT/v" >/dev/null 2>"$TMP/err" || rc=$?
  if [ "$rc" -ne 0 ]; then grep -c '^evt: error: ' "$TMP/err" >/dev/null && pass || fail "verify --repair: no error line"; fi
  free_all
  expect_exit 0 "$E" verify --repair "$MNT/v"
  expect_exit 0 "$E" verify "$MNT/v"
  records "$MNT/v" >"$TMP/after"
  cmp -s "$TMP/before" "$TMP/after" && pass || fail "verify --repair with $free bytes free: records changed"
done
finish
