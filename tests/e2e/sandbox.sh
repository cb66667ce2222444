# evt sandbox: librdkafka's mock cluster, checked with kcat as an independent client.
source "$(dirname "$0")/lib.sh"
E=$EVT
require_cmd kcat

# ---- serve: the bootstrap address is the only line on stdout; kcat produces and consumes
"$E" sandbox --topics t:3,u >"$TMP/addr" 2>"$TMP/sb.err" &
SB=$!
for _ in $(seq 50); do [ -s "$TMP/addr" ] && break; sleep 0.1; done
B=$(head -1 "$TMP/addr")
[[ "$B" =~ ^127\.0\.0\.1:[0-9]+$ ]] && pass || fail "sandbox printed '$B', not a bootstrap address"
printf 'a\nb\n' | kcat -P -b "$B" -t t -p 2 -k k1 -H h=v 2>"$TMP/kcat.err"
expect_eq "2 0 k1 a h=v|2 1 k1 b h=v" "$(kcat -C -b "$B" -t t -e -q -f '%p %o %k %s %h\n' 2>/dev/null | paste -sd'|')" "kcat round trip"
expect_eq "3" "$(kcat -L -b "$B" -t t 2>/dev/null | grep -c 'partition ')" "--topics creates partitions"
expect_eq "1" "$(kcat -L -b "$B" -t u 2>/dev/null | grep -c 'partition ')" "--topics default partition count"
kill -INT $SB
wait $SB && pass || fail "sandbox did not exit 0 when interrupted"

# ---- --load from segments: partitions, keys, values, headers (null too) and timestamps kept
"$E" gen --count 300 --partitions 3 --seed 4 --start 2024-01-01T00:00:00Z --output "$TMP/seg"
printf '%s\n' '{"topic":"events","partition":1,"offset":-1,"timestamp":1704067300000,"key":null,"value":null,"headers":[{"key":"n","value":null},{"key":"e","value":""}]}' \
  '{"topic":"events","partition":2,"offset":-1,"timestamp":1704067301000,"key":"","value":"","headers":[]}' | "$E" write "$TMP/seg"
"$E" cat "$TMP/seg" -f '%p|%k|%K|%T|%S|%h|%v\n' | sort >"$TMP/want"
"$E" sandbox --load ev="$TMP/seg" -- sh -c 'kcat -C -b "$EVT_BROKERS" -t ev -e -q -f "%p|%k|%K|%T|%S|%h|%s\n"' | sort >"$TMP/got"
if cmp -s "$TMP/want" "$TMP/got"; then pass; else fail "records loaded from segments differ"; diff "$TMP/want" "$TMP/got" | head -4 >&2; fi
expect_eq 302 "$(wc -l <"$TMP/got")" "every record loaded"
# offsets renumbered from 0 per partition
"$E" sandbox --load ev="$TMP/seg" -- sh -c 'kcat -C -b "$EVT_BROKERS" -t ev -p 1 -o beginning -c 1 -q -f "%o\n"' >"$TMP/off"
expect_eq 0 "$(cat "$TMP/off")" "offsets renumbered from 0"
# --load from envelope JSONL (and a second topic at once)
"$E" cat "$TMP/seg" >"$TMP/seg.jsonl"
"$E" sandbox --load a="$TMP/seg.jsonl" --load b="$TMP/seg" -- sh -c \
  'kcat -C -b "$EVT_BROKERS" -t a -e -q -f "%p|%k|%K|%T|%S|%h|%s\n"; kcat -C -b "$EVT_BROKERS" -t b -e -q -f "%o\n" | wc -l >&2' \
  2>"$TMP/b.count" | sort >"$TMP/got2"
cmp -s "$TMP/want" "$TMP/got2" && pass || fail "records loaded from JSONL differ"
expect_eq 302 "$(tail -1 "$TMP/b.count" | tr -d ' ')" "second --load"

# ---- -- COMMAND: EVT_BROKERS set, exit status passed through
expect_exit 7 "$E" sandbox -- sh -c 'test -n "$EVT_BROKERS" && exit 7'
expect_exit 0 "$E" sandbox --brokers 3 -- sh -c 'kcat -L -b "$EVT_BROKERS" | grep -q "3 brokers"'
expect_exit 127 "$E" sandbox -- /nonexistent/command
expect_contains "$TMP/err" "cannot run"

# ---- refusals
"$E" gen --count 30000 --value-size 400 --keys 0 --output "$TMP/big"
expect_exit 2 "$E" sandbox --load big="$TMP/big" -- true
expect_contains "$TMP/err" "at least 4 partitions"
expect_exit 2 "$E" sandbox --load nothing
expect_exit 2 "$E" sandbox --topics t:0
expect_exit 2 "$E" sandbox --brokers 0
expect_exit 2 "$E" sandbox --load x="$TMP/missing-dir" -- true
finish
