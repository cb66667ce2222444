# SIGINT and SIGTERM at random moments of every long-running subcommand: exit 130 (or 0
# when the signal came after the work was done), a checkpoint that a resume finishes from
# with every record exactly once (replay) or at least once (backfill), logs that verify,
# and no temporary files left behind.
source "$(dirname "$0")/lib.sh"
E=$EVT
py=/usr/bin/python3
ROUNDS=${SIGNAL_ROUNDS:-6}
trap 'stop_sandbox; rm -rf "$TMP"' EXIT

# interrupt SIG CMD...: runs CMD, sends SIG after a random 50-650 ms, waits; sets RC.
# Counts the runs the signal reached (exit 130) in INTERRUPTED.
INTERRUPTED=0
interrupt() {
  local sig=$1; shift
  "$@" >"$TMP/sig.out" 2>"$TMP/sig.err" &
  local pid=$!
  # First until evt catches the signal (SigCgt in /proc: its handler is installed; under
  # ASan start-up alone can take longer than the shortest delay), then the random delay.
  local bit; bit=$(kill -l "$sig")
  for _ in $(seq 500); do
    local cgt; cgt=$(awk '/^SigCgt:/ {print $2}' /proc/$pid/status 2>/dev/null) || break
    [ -z "$cgt" ] && break
    (( (16#$cgt >> (bit - 1)) & 1 )) && break
    sleep 0.01
  done
  sleep "0.$(printf '%03d' $((RANDOM % 600 + 50)))"
  kill -"$sig" $pid 2>/dev/null || true
  RC=0; wait $pid || RC=$?
  if [ "$RC" -eq 130 ]; then INTERRUPTED=$((INTERRUPTED + 1)); pass
  elif [ "$RC" -eq 0 ]; then pass  # finished before the signal
  else fail "$sig: exit $RC from $*"; sed 's/^/  /' "$TMP/sig.err" | head -3 >&2; fi
}
no_temp_files() {
  local left; left=$(find "$@" -name '*.tmp*' -o -name '.*.tmp' -o -name '*~' 2>/dev/null | head -3 || true)
  [ -z "$left" ] && pass || fail "temporary files left: $left"
}
sig() { if [ $((RANDOM % 2)) -eq 0 ]; then echo INT; else echo TERM; fi; }

"$E" gen --count 3000 --partitions 3 --keys 50 --seed 11 --topic orders >"$TMP/src.jsonl"
"$E" write "$TMP/src" --segment-bytes 60000 <"$TMP/src.jsonl"
"$E" cat "$TMP/src" -f '%p/%o\n' | sort >"$TMP/want.po"
"$E" gen --count 200000 --seed 12 >"$TMP/big.jsonl"

# ---- replay to a segment directory and to a JSON Lines file: exactly once after resumes
for dst in seg jsonl; do
  rm -rf "$TMP/r" "$TMP/r.jsonl" "$TMP/r.ck"
  target=$TMP/r; [ "$dst" = jsonl ] && target=$TMP/r.jsonl
  for _ in $(seq "$ROUNDS"); do
    interrupt "$(sig)" "$E" replay "$TMP/src" "$target" --checkpoint "$TMP/r.ck" --checkpoint-interval 20ms \
      --rate 3000 --provenance
    [ "$RC" -eq 130 ] && { jq -e .identity "$TMP/r.ck" >/dev/null && pass || fail "replay to $dst: checkpoint unreadable after a signal"; }
  done
  expect_exit 0 "$E" replay "$TMP/src" "$target" --checkpoint "$TMP/r.ck" --provenance
  "$E" cat "$target" -f '%h\n' | tr ',' '\n' | grep '^evt.source=' | sed 's/evt.source=orders\///; s/@/\//' | sort >"$TMP/got.po"
  cmp -s "$TMP/want.po" "$TMP/got.po" && pass || fail "replay to $dst: not every record exactly once after signals"
  [ "$dst" = seg ] && expect_exit 0 "$E" verify "$TMP/r"
  no_temp_files "$TMP/r" "$TMP/r.jsonl" "$TMP"/r.ck*
done

# ---- backfill: at least once after resumes
rm -f "$TMP/b.ck" "$TMP/b.log"
for _ in $(seq "$ROUNDS"); do
  interrupt "$(sig)" "$E" backfill "$TMP/src" --checkpoint "$TMP/b.ck" --checkpoint-interval 20ms --workers 2 \
    --exec "sleep 0.002; echo \$EVT_PARTITION/\$EVT_OFFSET >> $TMP/b.log"
done
expect_exit 0 "$E" backfill "$TMP/src" --checkpoint "$TMP/b.ck" --exec "echo \$EVT_PARTITION/\$EVT_OFFSET >> $TMP/b.log"
sort -u "$TMP/b.log" >"$TMP/got.po"
cmp -s "$TMP/want.po" "$TMP/got.po" && pass || fail "backfill: some record never processed after signals"
no_temp_files "$TMP"/b.ck*

# ---- write from a slow stdin, compact, retain, cat, filter, verify: 130 or 0, logs intact
for _ in $(seq "$ROUNDS"); do
  # From a FIFO whose writer pauses after the records: the signal may come mid-write or
  # while write waits for more input.
  rm -f "$TMP/fifo"; mkfifo "$TMP/fifo"
  { "$E" gen --count 20000 --value-size 100 --seed 5; sleep 1; } >"$TMP/fifo" 2>/dev/null &
  feeder=$!
  interrupt "$(sig)" "$E" write "$TMP/w/ev-0" --in "$TMP/fifo"
  kill $feeder 2>/dev/null || true; wait $feeder 2>/dev/null || true
  expect_exit 0 "$E" verify "$TMP/w"
  rm -rf "$TMP/c"; cp -r "$TMP/src" "$TMP/c"
  "$E" cat "$TMP/c" -f '%p|%k|%v\n' | awk -F'|' '{l[$1"|"$2]=$0} END{for(k in l) print l[k]}' | sort >"$TMP/latest"
  interrupt "$(sig)" "$E" compact --force "$TMP/c"
  expect_exit 0 "$E" verify "$TMP/c"
  "$E" cat "$TMP/c" -f '%p|%k|%v\n' | awk -F'|' '{l[$1"|"$2]=$0} END{for(k in l) print l[k]}' | sort >"$TMP/got"
  cmp -s "$TMP/latest" "$TMP/got" && pass || fail "compact interrupted: the latest record of a key changed"
  no_temp_files "$TMP/c" "$TMP/w"
  rm -rf "$TMP/t"; cp -r "$TMP/src" "$TMP/t"
  interrupt "$(sig)" "$E" retain --before 1500 "$TMP/t"
  expect_exit 0 "$E" verify "$TMP/t"
  interrupt "$(sig)" "$E" filter '.value.type != "x"' "$TMP/big.jsonl"
  interrupt "$(sig)" "$E" cat "$TMP/src" --merge time
done

# ---- the sandbox: replay into a topic, cat --follow -G, write: 130, acks never overstated
start_sandbox --topics orders:3
for _ in $(seq 3); do
  interrupt "$(sig)" "$E" replay "$TMP/src" "kafka://$B/orders" --checkpoint "$TMP/k.ck" --checkpoint-interval 20ms --rate 3000
  if [ "$RC" -eq 130 ]; then
    claimed=$(jq '[.positions[].next] | add // 0' "$TMP/k.ck")
    stored=$("$E" inspect "kafka://$B/orders" --json | jq '[.partitions[].high] | add')
    [ "$claimed" -le "$stored" ] && pass || fail "replay to a topic: the checkpoint claims $claimed records, the topic holds $stored"
  fi
done
interrupt INT "$E" cat "kafka://$B/orders" --follow -G sig-group -X session.timeout.ms=6000
[ "$RC" -eq 130 ] && pass || fail "cat --follow -G: exit $RC after SIGINT"
interrupt TERM "$E" write "kafka://$B/orders" --in "$TMP/src.jsonl" -X batch.num.messages=10
no_temp_files "$TMP"/k.ck*
stop_sandbox
[ "$INTERRUPTED" -gt 0 ] && pass || fail "no run was interrupted: the signals all came too late"
echo "signals: $INTERRUPTED runs interrupted"
finish
