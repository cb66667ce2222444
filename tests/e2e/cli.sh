# End-to-end tests of every core subcommand and flag, running the built binary.
source "$(dirname "$0")/lib.sh"
E=$EVT

# ---- gen: deterministic
"$E" gen --count 200 --keys 10 --seed 7 >"$TMP/g1.jsonl"
"$E" gen --count 200 --keys 10 --seed 7 >"$TMP/g2.jsonl"
"$E" gen --count 200 --keys 10 --seed 8 >"$TMP/g3.jsonl"
expect_eq 200 "$(wc -l <"$TMP/g1.jsonl")" "gen --count"
if cmp -s "$TMP/g1.jsonl" "$TMP/g2.jsonl"; then pass; else fail "gen not deterministic"; fi
if cmp -s "$TMP/g1.jsonl" "$TMP/g3.jsonl"; then fail "gen ignores --seed"; else pass; fi
expect_eq 10 "$(jq -r .key "$TMP/g1.jsonl" | sort -u | wc -l)" "gen --keys"
expect_eq "orders" "$("$E" gen --count 1 --topic orders | jq -r .topic)" "gen --topic"
expect_eq 3 "$("$E" gen --count 300 --partitions 3 | jq -r .partition | sort -u | wc -l)" "gen --partitions"
expect_eq "a.b" "$("$E" gen --count 5 --types a.b | jq -r '.value.type' | sort -u)" "gen --types"
expect_eq "2024-01-01T00:00:00.000Z" "$("$E" gen --count 1 --start 2024-01-01T00:00:00Z | jq -r .value.time)" "gen --start"
v=$("$E" gen --count 1 --value-size 1000 -f value | wc -c)
[ "$v" -ge 900 ] && [ "$v" -le 1200 ] && pass || fail "gen --value-size gave $v bytes"
# --step is the average gap (uniform jitter in [0, 2*step]): check the mean over many events.
avg=$("$E" gen --count 2001 --step 2s --format '%T\n' | awk 'NR==1{a=$1} END{printf "%d", ($1-a)/2000}')
[ "$avg" -ge 1900 ] && [ "$avg" -le 2100 ] && pass || fail "gen --step: mean gap $avg ms"

# ---- write + cat round trip, byte for byte, every codec
for c in none gzip snappy lz4 zstd; do
  rm -rf "$TMP/rt"
  "$E" write --compression "$c" --keep-offsets "$TMP/rt/events-0" <"$TMP/g1.jsonl"
  "$E" cat "$TMP/rt/events-0" >"$TMP/back.jsonl"
  if cmp -s "$TMP/g1.jsonl" "$TMP/back.jsonl"; then pass; else fail "round trip with $c differs"; fi
  expect_eq "$c" "$("$E" inspect --json "$TMP/rt/events-0" | jq -r '.total.codecs | keys[0]')" "codec $c recorded"
done
"$E" write --compression zstd --compression-level 19 "$TMP/lvl/events-0" <"$TMP/g1.jsonl"
expect_eq 200 "$("$E" cat "$TMP/lvl/events-0" | wc -l)" "--compression-level"

# ---- write appends continue offsets; without --keep-offsets offsets come from the log end
rm -rf "$TMP/app"
"$E" write "$TMP/app/x-0" <"$TMP/g1.jsonl"
"$E" write "$TMP/app/x-0" <"$TMP/g1.jsonl"
expect_eq "0 399" "$("$E" cat "$TMP/app/x-0" | jq -r .offset | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//')" "append continues offsets"
expect_eq "x" "$("$E" cat "$TMP/app/x-0" -n 1 | jq -r .topic)" "partition dir names the topic"
expect_exit 2 "$E" write --keep-offsets "$TMP/app/x-0" --in "$TMP/g1.jsonl"
expect_contains "$TMP/err" "below the log end offset"

# ---- data-directory target routes records to <topic>-<partition>
"$E" gen --count 90 --partitions 3 --topic multi >"$TMP/multi.jsonl"
"$E" write "$TMP/data" --in "$TMP/multi.jsonl"
expect_eq "multi-0 multi-1 multi-2" "$(ls "$TMP/data" | tr '\n' ' ' | sed 's/ $//')" "data dir routing"
expect_eq 90 "$("$E" cat "$TMP/data" | wc -l)" "cat data dir"

# ---- --segment-bytes rolls segments; --batch-records / --batch-bytes shape batches
"$E" gen --count 2000 --value-size 300 | "$E" write --segment-bytes 65536 --batch-records 50 --compression none "$TMP/roll/e-0"
nseg=$(ls "$TMP/roll/e-0"/*.log | wc -l)
[ "$nseg" -gt 5 ] && pass || fail "--segment-bytes did not roll ($nseg segments)"
for f in "$TMP/roll/e-0"/*.log; do s=$(stat -c %s "$f"); [ "$s" -le 65536 ] || fail "segment $f is $s bytes"; done
expect_eq 2000 "$("$E" cat "$TMP/roll/e-0" | wc -l)" "rolled segments read back"
first=$(ls "$TMP/roll/e-0"/*.log | sed -n 2p | xargs basename)
expect_eq "$(printf '%020d.log' "$("$E" dump --json --batches-only "$TMP/roll/e-0/$first" | head -1 | jq .base_offset)")" "$first" "segment named after its first offset"
expect_eq 50 "$("$E" dump --json --batches-only "$TMP/roll/e-0" | head -1 | jq .record_count)" "--batch-records"
"$E" gen --count 100 --value-size 1000 | "$E" write --batch-bytes 5000 "$TMP/bb/e-0"
nb=$("$E" dump --json --batches-only "$TMP/bb/e-0" | wc -l)
[ "$nb" -ge 15 ] && pass || fail "--batch-bytes: only $nb batches"
expect_exit 0 "$E" verify "$TMP/roll/e-0"
[ -s "$TMP/roll/e-0/00000000000000000000.index" ] && pass || fail "index not written"
[ -s "$TMP/roll/e-0/00000000000000000000.timeindex" ] && pass || fail "timeindex not written"

# ---- --input lines / values, --key-field, --topic/--partition
printf 'hello\nworld\n' | "$E" write --input lines "$TMP/lines/l-0"
expect_eq "hello world" "$("$E" cat "$TMP/lines/l-0" -f value | tr '\n' ' ' | sed 's/ $//')" "--input lines"
printf '{"id":"a","n":1}\n{"id":"b","n":2}\n' | "$E" write --input values --key-field .id "$TMP/vals/v-0"
expect_eq "a b" "$("$E" cat "$TMP/vals/v-0" -f '%k\n' | tr '\n' ' ' | sed 's/ $//')" "--key-field"
expect_exit 1 sh -c "printf 'not json\n' | '$E' write --input values '$TMP/vals2/v-0'"
expect_contains "$TMP/err" "<stdin>:1"
printf 'x\n' | "$E" write --input lines --topic tt --partition 4 "$TMP/tp"
[ -d "$TMP/tp/tt-4" ] && pass || fail "--topic/--partition routing"
expect_exit 2 sh -c "printf 'x\n' | '$E' write --input lines '$TMP/notpart'"

# ---- --fsync and --wait accepted
"$E" write --fsync batch "$TMP/fs/f-0" <"$TMP/g1.jsonl" && pass || fail "--fsync batch"
"$E" write --fsync never --wait "$TMP/fs/f-0" <"$TMP/g1.jsonl" && pass || fail "--fsync never --wait"

# ---- bad envelope input names file:line, exit 1
printf '{"topic":"a","partition":0,"offset":0,"timestamp":1,"key":null,"value":"x","headers":[]}\n{"bogus\n' >"$TMP/bad.jsonl"
expect_exit 1 "$E" write "$TMP/bad/a-0" --in "$TMP/bad.jsonl"
expect_contains "$TMP/err" "bad.jsonl:2"

# ---- cat: formats
"$E" write "$TMP/c/events-0" <"$TMP/g1.jsonl"
C="$TMP/c/events-0"
expect_eq "$(jq -c .value "$TMP/g1.jsonl" | head -3)" "$("$E" cat "$C" -f value | head -3)" "--format value"
expect_eq "events 0 5" "$("$E" cat "$C" --from 5 -n 1 -f '%t %p %o\n')" "template %t %p %o"
expect_eq "1.0" "$("$E" cat "$C" -n 1 -f cloudevents | jq -r .specversion)" "cloudevents"
expect_exit 2 "$E" cat "$C" -f nonsense

# ---- cat: ranges
expect_eq "10 11 12" "$("$E" cat "$C" --from 10 --until 13 -f '%o\n' | paste -sd' ')" "--from/--until offsets"
expect_eq "197 198 199" "$("$E" cat "$C" --from -3 -f '%o\n' | paste -sd' ')" "--from -N"
expect_eq "" "$("$E" cat "$C" --from end)" "--from end"
expect_eq 7 "$("$E" cat "$C" -n 7 | wc -l)" "--limit"
t=$("$E" cat "$C" --from 50 -n 1 -f '%T')
iso=$(date -u -d "@$((t / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf '%03d' $((t % 1000)))Z
expect_eq 50 "$("$E" cat "$C" --from "$iso" -n 1 | jq .offset)" "--from RFC 3339 (offsetsForTimes)"
expect_eq 50 "$("$E" cat "$C" --until "$iso" | wc -l)" "--until time"
expect_eq 0 "$("$E" cat "$C" --from -1h | wc -l)" "--from -1h on old data"
expect_exit 2 "$E" cat "$C" --from yesterday
expect_contains "$TMP/err" "not a position"

# ---- cat: --merge time interleaves partitions by timestamp
"$E" cat --merge time "$TMP/data" -f '%T\n' >"$TMP/ts"
if sort -n -c "$TMP/ts" 2>/dev/null; then pass; else fail "--merge time not ordered"; fi
"$E" cat "$TMP/data" -f '%p\n' | uniq | wc -l | grep -qx 3 && pass || fail "default order is partition by partition"

# ---- cat: broken pipe exits 0 quietly
"$E" gen --count 200000 --value-size 100 | "$E" write "$TMP/big/b-0"
set +o pipefail
"$E" cat "$TMP/big/b-0" 2>"$TMP/pipe.err" | head -1 >/dev/null
rc=${PIPESTATUS[0]}
set -o pipefail
expect_eq 0 "$rc" "exit code on closed pipe"
expect_eq "" "$(cat "$TMP/pipe.err")" "no message on closed pipe"

# ---- torn tail: warning and exit 0 for readers; write recovers (truncates) it
cp -r "$C" "$TMP/torn-0"
log="$TMP/torn-0/00000000000000000000.log"
size=$(stat -c %s "$log")
truncate -s $((size - 10)) "$log"
expect_exit 0 "$E" cat "$TMP/torn-0"
expect_contains "$TMP/err" "torn tail"
expect_exit 0 "$E" verify "$TMP/torn-0"
expect_contains "$TMP/err" "warning"
printf '{"topic":"x","partition":0,"offset":0,"timestamp":1,"key":null,"value":"new","headers":[]}\n' | "$E" write "$TMP/torn-0" 2>"$TMP/err"
expect_contains "$TMP/err" "truncating"
expect_exit 0 "$E" verify "$TMP/torn-0"
expect_eq "new" "$("$E" cat "$TMP/torn-0" --from -1 -f value)" "append after recovery"

# ---- corruption: error names file@position, exit 1, records before it are printed
cp -r "$TMP/roll/e-0" "$TMP/corrupt-0"
seg=$(ls "$TMP/corrupt-0"/*.log | head -1)
# Flip a byte inside the second batch, so the first batch's records come out first.
pos2=$("$E" dump --json --batches-only "$seg" | sed -n 2p | jq .position)
printf '\xff' | dd of="$seg" bs=1 seek=$((pos2 + 3000)) conv=notrunc 2>/dev/null
expect_exit 1 "$E" cat "$TMP/corrupt-0"
expect_contains "$TMP/err" "$(basename "$seg")@"
[ "$(wc -l <"$TMP/out")" -gt 0 ] && pass || fail "records before the corruption were not printed"
expect_exit 1 "$E" verify "$TMP/corrupt-0"
expect_exit 1 "$E" inspect "$TMP/corrupt-0"
# The writer recovers the active segment like a broker, but never truncates good data
# after a corrupt batch: it refuses to append.
cp -r "$TMP/roll/e-0" "$TMP/corrupt2-0"
seg=$(ls "$TMP/corrupt2-0"/*.log | tail -1)
printf '\xff' | dd of="$seg" bs=1 seek=3000 conv=notrunc 2>/dev/null
expect_exit 1 sh -c "echo '{\"value\":\"x\"}' | '$E' write '$TMP/corrupt2-0'"
expect_contains "$TMP/err" "refusing to append"
echo "not a kafka file at all, just text" >"$TMP/junk.log"
expect_exit 1 "$E" cat "$TMP/junk.log"
mkdir -p "$TMP/empty-0" && : >"$TMP/empty-0/00000000000000000000.log"
expect_exit 0 "$E" cat "$TMP/empty-0"
expect_exit 2 "$E" cat "$TMP/does-not-exist"

# ---- verify --repair: rebuilds indexes, truncates torn tails
cp -r "$TMP/roll/e-0" "$TMP/rep-0"
idx=$(ls "$TMP/rep-0"/*.index | head -1)
cp "$idx" "$TMP/good.index"
printf '\x00\x00\x00\x05\x00\x00\x00\x07' >"$idx"
expect_exit 1 "$E" verify "$TMP/rep-0"
expect_contains "$TMP/err" "index"
expect_exit 0 "$E" verify --repair "$TMP/rep-0"
if cmp -s "$idx" "$TMP/good.index"; then pass; else fail "--repair did not rebuild the index identically"; fi
rm "$TMP/rep-0"/*.timeindex
expect_exit 0 "$E" verify --repair "$TMP/rep-0"
[ "$(ls "$TMP/rep-0"/*.timeindex | wc -l)" -eq "$nseg" ] && pass || fail "--repair did not recreate timeindexes"
expect_exit 0 "$E" verify --no-index "$TMP/rep-0"
expect_eq true "$("$E" verify --json "$TMP/rep-0" | jq -r .ok)" "verify --json"

# ---- inspect
"$E" inspect --json "$C" >"$TMP/i.json"
expect_eq 200 "$(jq .total.records "$TMP/i.json")" "inspect records"
expect_eq 10 "$(jq .total.distinct_keys_estimate "$TMP/i.json")" "inspect distinct keys"
expect_eq "0 199" "$(jq -r '.partitions[0] | "\(.first_offset) \(.last_offset)"' "$TMP/i.json")" "inspect offsets"
"$E" inspect --table "$C" >"$TMP/i.txt"
expect_contains "$TMP/i.txt" "events-0"
expect_eq 100 "$("$E" inspect --json --from 100 "$C" | jq .total.records)" "inspect --from"
expect_eq 100 "$("$E" inspect --json --until 100 "$C" | jq .total.records)" "inspect --until"

# ---- dump
"$E" dump "$C" >"$TMP/d.txt"
expect_contains "$TMP/d.txt" "baseOffset: 0"
expect_contains "$TMP/d.txt" "| offset: 0"
expect_eq 200 "$("$E" dump --json "$C" | jq '.records | length' | awk '{s += $1} END {print s}')" "dump --json records"
expect_eq 0 "$("$E" dump --json --batches-only "$C" | jq 'has("records")' | grep -c true || true)" "--batches-only"
expect_eq 1 "$("$E" dump --json --from 150 --until 151 "$C" | jq '.records | length')" "dump --from/--until"

# ---- CLI behaviour
expect_exit 2 "$E" cta
expect_contains "$TMP/err" "did you mean 'cat'"
expect_exit 2 "$E" cat
expect_exit 2 "$E" cat --no-such-flag x
expect_exit 0 "$E" --version
expect_exit 0 "$E" --help
for s in bash zsh fish; do expect_exit 0 "$E" completion "$s"; done
expect_exit 2 "$E" completion tcsh
finish
