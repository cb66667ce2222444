# End-to-end tests of what a new user hit (issue 21): each block failed before its fix.
source "$(dirname "$0")/lib.sh"
E=$EVT

"$E" gen --count 200 --keys 10 --seed 3 >"$TMP/g.jsonl"
"$E" write --batch-records 20 "$TMP/d/orders-0" <"$TMP/g.jsonl"

# ---- numbers: negative, NaN and infinite values are usage errors, with words, not limits
expect_exit 2 "$E" gen --count -5
expect_contains "$TMP/err" "--count must be >= 0, not -5"
expect_exit 2 "$E" cat "$TMP/d/orders-0" -n -5
expect_contains "$TMP/err" "--limit must be >= 0"
expect_exit 2 "$E" filter -n -1 true "$TMP/g.jsonl"
expect_exit 2 "$E" gen --value-size -1
for v in nan inf -inf 0 -3; do
  expect_exit 2 "$E" replay "$TMP/d/orders-0" "$TMP/o.jsonl" --rate "$v"
  expect_contains "$TMP/err" "--rate must be > 0"
  expect_exit 2 "$E" replay "$TMP/d/orders-0" "$TMP/o.jsonl" --speed "$v"
  expect_contains "$TMP/err" "--speed must be > 0"
done
expect_exit 2 "$E" compact --min-cleanable-ratio nan "$TMP/d"
expect_exit 2 "$E" backfill "$TMP/d/orders-0" --exec true --workers 0
expect_contains "$TMP/err" "--workers must be between 1 and 4096, not 0"
expect_exit 2 "$E" backfill "$TMP/d/orders-0" --exec true --max-failures -2
if grep -q '[0-9]\{30\}' "$TMP/err"; then fail "a range error prints a huge limit"; else pass; fi
expect_exit 0 "$E" cat "$TMP/d/orders-0" -n 0
expect_eq 0 "$(wc -c <"$TMP/out")" "-n 0 prints nothing"
# --speed far below 1 paces (the first record goes out, the next waits), it is not ignored.
timeout 5 "$E" replay "$TMP/d/orders-0" "$TMP/slow.jsonl" --speed 1e-12 2>/dev/null && rc=0 || rc=$?
expect_eq 124 "$rc" "--speed 1e-12 paces instead of finishing at once"

# ---- verify --repair refuses a log dir a broker holds, like write/compact/retain
cp -r "$TMP/d" "$TMP/held"
exec 8>"$TMP/held/.lock"; flock -x 8
expect_exit 2 "$E" verify --repair "$TMP/held/orders-0"
expect_contains "$TMP/err" "running Kafka broker holds"
expect_exit 0 "$E" verify "$TMP/held/orders-0"  # reading is fine
exec 8>&-; rm -f "$TMP/held/.lock"
exec 9>"$TMP/held/orders-0/.evt.lock"; flock -x 9
expect_exit 2 "$E" verify --repair "$TMP/held/orders-0"
expect_contains "$TMP/err" "another evt process"
exec 9>&-
expect_exit 0 "$E" verify --repair "$TMP/held/orders-0"
expect_exit 2 "$E" verify --wait "$TMP/held/orders-0"

# ---- a flipped byte in a base offset (outside the CRC) is corruption, reported once
cp -r "$TMP/d" "$TMP/flip"
seg=$(ls "$TMP/flip/orders-0"/*.log)
pos=$("$E" dump --json --batches-only "$seg" | sed -n 3p | jq .position)
printf '\x01' | dd of="$seg" bs=1 seek=$((pos + 3)) conv=notrunc 2>/dev/null  # byte 3 of 8: +2^32
expect_exit 1 "$E" cat "$TMP/flip/orders-0"
expect_contains "$TMP/err" "$(basename "$seg")@$pos"
expect_eq 40 "$(wc -l <"$TMP/out")" "records before the bad batch are printed"
if grep -q '42949673' "$TMP/out"; then fail "cat printed the flipped offset"; else pass; fi
expect_exit 1 "$E" verify "$TMP/flip/orders-0"
expect_eq 1 "$(grep -c '@' "$TMP/err")" "verify reports one fault for one flipped base offset"
expect_contains "$TMP/out" "1 errors"
expect_exit 1 "$E" inspect "$TMP/flip/orders-0"

# ---- flags and commands: suggestions, help, version
expect_exit 2 "$E" cat "$TMP/d/orders-0" --form value
expect_contains "$TMP/err" "did you mean '--format'"
expect_exit 2 "$E" man
if grep -q "did you mean" "$TMP/err"; then fail "evt man suggests a command"; else pass; fi
expect_exit 2 "$E" inpsect
expect_contains "$TMP/err" "did you mean 'inspect'"
expect_exit 0 "$E" help cat
expect_contains "$TMP/out" "--limit"
expect_exit 0 "$E" version
expect_contains "$TMP/out" "^evt "
expect_exit 0 "$E" -V
expect_contains "$TMP/out" "^evt "

# ---- verify labels partitions by path: two data dirs' orders-0 are told apart
expect_exit 0 "$E" verify "$TMP/d" "$TMP/held"
expect_contains "$TMP/out" "$TMP/d/orders-0"
expect_contains "$TMP/out" "$TMP/held/orders-0"

# ---- every reader takes what evt writes: envelope JSON Lines (plain, .zst, .gz) and stdin
"$E" cat "$TMP/d/orders-0" >"$TMP/two.jsonl"
zstd -q -c "$TMP/two.jsonl" >"$TMP/two.jsonl.zst"
gzip -c "$TMP/two.jsonl" >"$TMP/two.jsonl.gz"
cp "$TMP/two.jsonl" "$TMP/noext"
for f in two.jsonl two.jsonl.zst two.jsonl.gz noext; do
  expect_exit 0 "$E" cat "$TMP/$f"
  if cmp -s "$TMP/out" "$TMP/two.jsonl"; then pass; else fail "cat $f does not give the records back"; fi
done
expect_exit 0 sh -c "'$E' cat - <'$TMP/two.jsonl'"
if cmp -s "$TMP/out" "$TMP/two.jsonl"; then pass; else fail "cat - does not read stdin"; fi
expect_exit 0 "$E" cat "$TMP/two.jsonl" --from 10 --until 15 -f '%o\n'
expect_eq "10 11 12 13 14" "$(tr '\n' ' ' <"$TMP/out" | sed 's/ $//')" "cat JSONL --from/--until offsets"
expect_exit 2 "$E" cat "$TMP/two.jsonl" --from -3
expect_contains "$TMP/err" "read as a stream"
expect_exit 0 "$E" inspect --json "$TMP/two.jsonl"
expect_eq 200 "$(jq .total.records "$TMP/out")" "inspect JSONL counts its records"
expect_exit 0 "$E" dump "$TMP/two.jsonl.zst"
expect_eq 200 "$(grep -c '^| offset' "$TMP/out" || true)" "dump JSONL lists its records"
expect_exit 0 "$E" cat "$TMP/d/orders-0" "$TMP/d/orders-0" -n 1  # two segment sources still fine
expect_exit 2 "$E" cat "$TMP/d/orders-0" "$TMP/two.jsonl"
expect_contains "$TMP/err" "not a mix"
idx=$(ls "$TMP/d/orders-0"/*.index)
expect_exit 2 "$E" cat "$idx"
expect_contains "$TMP/err" "not a segment file"
expect_exit 2 "$E" cat "${idx%.index}.timeindex"
expect_contains "$TMP/err" "not a segment file"

# ---- dump decodes the other files of a partition directory
idx=$(ls "$TMP/d/orders-0"/*.index)
expect_exit 0 "$E" dump "$idx"
expect_contains "$TMP/out" "^offset: [0-9]* position: [0-9]*$"
expect_exit 0 "$E" dump --json "$idx"
expect_eq "$(jq -s 'length' "$TMP/out")" "$(jq -s 'length' < <("$E" dump --json "$idx"))" "dump --json index"
first_pos=$(head -1 "$TMP/out" | jq .position)
"$E" dump --json --batches-only "$TMP/d/orders-0" | jq -r .position | grep -qx "$first_pos" && pass || fail "index entry is not a batch position"
expect_exit 0 "$E" dump "${idx%.index}.timeindex"
expect_contains "$TMP/out" "^timestamp: [0-9]* offset: [0-9]*$"
cp -r "$TMP/d" "$TMP/badidx"
bidx=$(ls "$TMP/badidx/orders-0"/*.index)
printf '\x00\x00\x00\x05\x00\x00\x00\x07' >"$bidx"
expect_exit 1 "$E" dump "$bidx"
expect_contains "$TMP/err" "not the start of a batch"
cp "$idx" "$TMP/lonely.index"
expect_exit 0 "$E" dump "$TMP/lonely.index"
printf '0\n2\n0 0\n3 150\n' >"$TMP/d/orders-0/leader-epoch-checkpoint"
expect_exit 0 "$E" dump "$TMP/d/orders-0/leader-epoch-checkpoint"
expect_contains "$TMP/out" "epoch: 3 start_offset: 150"
printf '0\n1\norders 0 200\n' >"$TMP/recovery-point-offset-checkpoint"
expect_exit 0 "$E" dump --json "$TMP/recovery-point-offset-checkpoint"
expect_eq 200 "$(jq .offset "$TMP/out")" "dump checkpoint --json"
printf '0\n3\norders 0 200\n' >"$TMP/bad-checkpoint"
expect_exit 1 "$E" dump "$TMP/bad-checkpoint"
printf 'x' >"$TMP/d/orders-0/00000000000000000000.snapshot"
expect_exit 2 "$E" dump "$TMP/d/orders-0/00000000000000000000.snapshot"
expect_contains "$TMP/err" "not a segment file"
rm "$TMP/d/orders-0/leader-epoch-checkpoint" "$TMP/d/orders-0/00000000000000000000.snapshot"

# ---- dump of a CRC-corrupt batch: the same exit code as cat, inspect and verify
cp -r "$TMP/d" "$TMP/crc"
seg=$(ls "$TMP/crc/orders-0"/*.log)
pos=$("$E" dump --json --batches-only "$seg" | sed -n 4p | jq .position)
printf '\xff' | dd of="$seg" bs=1 seek=$((pos + 17)) conv=notrunc 2>/dev/null  # the stored CRC
for c in cat dump inspect verify; do
  expect_exit 1 "$E" $c "$TMP/crc/orders-0"
  expect_contains "$TMP/err" "@$pos"
done
expect_exit 1 "$E" dump --json "$TMP/crc/orders-0"
expect_eq false "$(jq -r "select(.position == $pos) | .crc_ok" "$TMP/out")" "dump shows the bad batch"
# inspect summarises what it read, then names the error
expect_exit 1 "$E" inspect --json "$TMP/crc/orders-0"
expect_eq 60 "$(jq .total.records "$TMP/out")" "inspect counts the records before the bad batch"

# ---- `.` and symlinks name the real directory
(cd "$TMP/d/orders-0" && "$E" cat . -n 1) >"$TMP/dot.jsonl"
expect_eq "orders 0" "$(jq -r '"\(.topic) \(.partition)"' "$TMP/dot.jsonl")" "cat . takes the directory's name"
(cd "$TMP/d/orders-0" && "$E" cat .) | "$E" write "$TMP/dotw" && pass || fail "cat . | write DIR"
expect_eq "orders-0" "$(ls "$TMP/dotw")" "records of cat . land in orders-0"
ln -s "$TMP/d/orders-0" "$TMP/link"
expect_eq orders "$("$E" cat "$TMP/link" -n 1 | jq -r .topic)" "a symlink takes the target's name"

# ---- a record without a timestamp gets the time of writing, in a segment dir as on Kafka
before=$(($(date +%s) * 1000))
printf '{"value":"a"}\n' | "$E" write "$TMP/ts/t-0"
ts=$("$E" cat "$TMP/ts/t-0" -f '%T')
[ "$ts" -ge "$before" ] && pass || fail "no timestamp became $ts, not the time of writing"
printf '{"value":"a","timestamp":-1}\n' | "$E" write "$TMP/ts2/t-0"
expect_eq -1 "$("$E" cat "$TMP/ts2/t-0" -f '%T')" "an explicit -1 stays -1"
printf '{"value":"a","timestamp":"2023-11-14T22:13:20.250Z"}\n' | "$E" write "$TMP/ts3/t-0"
expect_eq 1700000000250 "$("$E" cat "$TMP/ts3/t-0" -f '%T')" "an RFC 3339 timestamp"
expect_exit 1 sh -c "printf '{\"value\":\"a\",\"timestamp\":\"yesterday\"}\n' | '$E' write '$TMP/ts4/t-0'"

# ---- write --in DIR applies --partition and --topic instead of ignoring them
expect_exit 0 "$E" write --in "$TMP/d/orders-0" "$TMP/moved" --partition 7 --topic other
expect_eq "other-7" "$(ls "$TMP/moved")" "write --in DIR --partition 7 --topic other"
expect_eq 200 "$("$E" cat "$TMP/moved/other-7" | wc -l)" "every record moved"

# ---- --on-corruption skip: every good record out, each bad range named, exit 1
expect_exit 1 "$E" cat "$TMP/flip/orders-0"
expect_contains "$TMP/err" "--on-corruption skip"
expect_exit 1 "$E" cat "$TMP/flip/orders-0" --on-corruption skip -f '%o\n'
expect_eq 180 "$(wc -l <"$TMP/out")" "skip: the records of every good batch"
expect_eq "0 39 60 199" "$(sed -n '1p;40p;41p;$p' "$TMP/out" | tr '\n' ' ' | sed 's/ $//')" "skip: around the bad batch"
expect_contains "$TMP/err" "skipped [0-9]* bytes to the next good batch"
expect_contains "$TMP/err" "1 corrupt range skipped"
expect_exit 1 "$E" cat "$TMP/crc/orders-0" --on-corruption skip
expect_eq 180 "$(wc -l <"$TMP/out")" "skip past a bad CRC"
expect_exit 1 "$E" inspect --json "$TMP/crc/orders-0" --on-corruption skip
expect_eq 180 "$(jq .total.records "$TMP/out")" "inspect --on-corruption skip counts the good batches"
expect_exit 1 "$E" replay "$TMP/crc/orders-0" "$TMP/skipped.jsonl" --on-corruption skip
expect_eq 180 "$(wc -l <"$TMP/skipped.jsonl")" "replay --on-corruption skip"
# junk in the middle of a segment: resynchronised at the next batch
cp -r "$TMP/d" "$TMP/junk"
seg=$(ls "$TMP/junk/orders-0"/*.log)
pos=$("$E" dump --json --batches-only "$seg" | sed -n 5p | jq .position)
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 37 + 11) % 256 for i in range(300)))' |
  dd of="$seg" bs=1 seek=$((pos + 20)) conv=notrunc 2>/dev/null  # junk over a header and its records
expect_exit 1 "$E" cat "$TMP/junk/orders-0" --on-corruption skip -f '%o\n'
[ "$(wc -l <"$TMP/out")" -ge 160 ] && pass || fail "skip over junk kept only $(wc -l <"$TMP/out") records"
expect_eq 199 "$(tail -1 "$TMP/out")" "skip over junk reaches the end"
expect_exit 1 "$E" write --in "$TMP/crc/orders-0" "$TMP/rescued/orders-0" --on-corruption skip
expect_eq 180 "$("$E" cat "$TMP/rescued/orders-0" | wc -l)" "write --in DIR --on-corruption skip rescues every good batch"
expect_exit 2 "$E" write --in "$TMP/two.jsonl" "$TMP/rescued2/orders-0" --on-corruption skip
expect_exit 0 "$E" cat "$TMP/d/orders-0" --on-corruption skip  # a clean log: exit 0
expect_exit 2 "$E" cat "$TMP/two.jsonl" --on-corruption skip
expect_contains "$TMP/err" "is for segment files"
expect_exit 2 "$E" cat "$TMP/d/orders-0" --on-corruption maybe

# ---- inspect: records over time (a gap shows), the same counts in JSON
"$E" gen --count 2000 --step 1s >"$TMP/g2k.jsonl"
(head -800 "$TMP/g2k.jsonl"; tail -600 "$TMP/g2k.jsonl") | "$E" write "$TMP/gap/e-0" 2>/dev/null
expect_exit 0 "$E" inspect --json --buckets 5 "$TMP/gap/e-0"
expect_eq "[409,391,0,200,400]" "$(jq -c '.partitions[0].histogram' "$TMP/out")" "histogram counts with a gap"
expect_eq 1400 "$(jq '.total.histogram | add' "$TMP/out")" "histogram counts every record"
expect_exit 0 "$E" inspect --table "$TMP/gap/e-0"
expect_contains "$TMP/out" "RECORDS OVER TIME"
line=$(sed -n 's/^e-0 *|\(.*\)|.*/\1/p' "$TMP/out")
case "$line" in *[!\ ]"   "*[!\ ]*) pass ;; *) fail "the sparkline does not show the gap: [$line]" ;; esac
expect_exit 0 "$E" inspect --json --buckets 0 "$TMP/gap/e-0"
expect_eq null "$(jq -c '.partitions[0].histogram' "$TMP/out")" "--buckets 0"
expect_exit 2 "$E" inspect --buckets -1 "$TMP/gap/e-0"

# ---- positions: @epoch-ms, now, and a --from after --until
expect_exit 0 "$E" cat "$TMP/d/orders-0" --from @1700000100000 -f '%T\n' -n 1
[ "$(cat "$TMP/out")" -ge 1700000100000 ] && pass || fail "--from @EPOCH_MS"
expect_exit 0 "$E" cat "$TMP/d/orders-0" --from now
expect_eq 0 "$(wc -l <"$TMP/out")" "--from now on a closed log"
expect_exit 2 "$E" cat "$TMP/d/orders-0" --from 50 --until 10
expect_contains "$TMP/err" "--from is after --until"
expect_exit 2 "$E" cat "$TMP/d/orders-0" --from 2024-01-02T00:00:00Z --until 2024-01-01T00:00:00Z
expect_exit 2 "$E" cat "$TMP/d/orders-0" --from @x

# ---- write says what it wrote; compact that does nothing says why
expect_exit 0 "$E" write "$TMP/sum/orders-0" --in "$TMP/two.jsonl"
expect_contains "$TMP/err" "wrote 200 records, 200 acknowledged, to $TMP/sum/orders-0"
expect_exit 0 "$E" compact "$TMP/sum"
expect_contains "$TMP/err" "nothing to do in 1 partition: only the active segment (--include-active"

# ---- Kafka: every hint names a flag of the command that prints it; inspect counts a range
if command -v kcat >/dev/null; then
  "$E" sandbox --topics have:1 >"$TMP/addr" 2>"$TMP/sb.err" &
  SB=$!
  trap 'kill -INT $SB 2>/dev/null; wait $SB 2>/dev/null; rm -rf "$TMP"' EXIT
  for _ in $(seq 100); do [ -s "$TMP/addr" ] && break; sleep 0.1; done
  B=$(head -1 "$TMP/addr")
  expect_exit 2 "$E" replay "$TMP/d/orders-0" "kafka://$B/missing"
  expect_contains "$TMP/err" "--create-topic"
  expect_exit 0 "$E" replay "$TMP/d/orders-0" "kafka://$B/missing" --create-topic
  expect_eq 200 "$("$E" cat "kafka://$B/missing" | wc -l)" "replay --create-topic"
  expect_exit 2 "$E" replay "$TMP/d/orders-0" "$TMP/r.jsonl" --create-topic
  expect_contains "$TMP/err" "is for Kafka destinations"
  expect_exit 0 "$E" write "kafka://$B/have" --in "$TMP/two.jsonl"
  expect_contains "$TMP/err" "wrote 200 records, 200 acknowledged, to kafka://$B/have"
  expect_exit 0 "$E" inspect --json "kafka://$B/have" --from 150
  expect_eq 50 "$(jq .total.records "$TMP/out")" "inspect of a topic with --from counts the range"
  # --merge time and --speed over a topic of several partitions
  "$E" gen --count 300 --keys 30 --partitions 3 --topic m3 >"$TMP/m3.jsonl"
  expect_exit 0 "$E" write "kafka://$B/m3" --create-topic --partition keep --in "$TMP/m3.jsonl"
  expect_exit 0 "$E" cat "kafka://$B/m3" --merge time -f '%T\n'
  expect_eq 300 "$(wc -l <"$TMP/out")" "cat --merge time on a topic reads every partition"
  if sort -n -c "$TMP/out" 2>/dev/null; then pass; else fail "cat --merge time on a topic is not in time order"; fi
  expect_exit 2 "$E" cat "kafka://$B/m3" --merge time --follow
  expect_exit 0 "$E" replay "kafka://$B/m3" "$TMP/m3out.jsonl" --merge time --speed 100000
  expect_eq 300 "$(wc -l <"$TMP/m3out.jsonl")" "replay --speed --merge time from a topic"
  if jq .timestamp "$TMP/m3out.jsonl" | sort -n -c 2>/dev/null; then pass; else fail "replay --merge time from a topic out of order"; fi
  expect_exit 2 "$E" replay "kafka://$B/m3" "$TMP/m3b.jsonl" --speed 10
  expect_contains "$TMP/err" "--merge time"
  kill -INT $SB; wait $SB 2>/dev/null || true
  trap 'rm -rf "$TMP"' EXIT
else
  echo "SKIP: kcat not installed (Kafka part)"
fi

finish
