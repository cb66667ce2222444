# --encode (evt write, evt replay): values decoded by `evt cat --decode` go back to the bytes
# python3-avro (an independent encoder) wrote, byte for byte; edited values re-encode and
# python3-avro reads the edit; --schema-id, --schema FILE (unframed), --encode json; the
# error cases; replay into a segment directory and into a sandbox topic (kafka-python reads
# it back as an independent client).
source "$(dirname "$0")/lib.sh"
require_cmd jq
require "python3-avro" /usr/bin/python3 -c "import avro.io"
E=$EVT
PY=/usr/bin/python3
trap 'stop_sandbox; rm -rf "$TMP"' EXIT

"$PY" "$(dirname "$0")/schemas/gen.py" "$TMP"
"$E" write "$TMP/data/orders-0" <"$TMP/events.jsonl"
S="$TMP/schemas"
# raw VALUES: offset and base64 value of every record of a segment directory.
raw() { "$E" cat "$1" --decode none | jq -r '"\(.offset) \(.value_base64 // (.value | @base64))"'; }
raw "$TMP/data/orders-0" >"$TMP/orig.txt"

# ---- the round trip: cat --decode | write --encode gives back the stored bytes
"$E" cat "$TMP/data/orders-0" --schemas "$S" --decode-key none >"$TMP/dec.jsonl" 2>/dev/null
expect_eq 14 "$(grep -c '"value_format":"avro"' "$TMP/dec.jsonl")" "Avro values decoded"
expect_exit 0 "$E" write --encode auto --schemas "$S" "$TMP/wout/orders-0" --in "$TMP/dec.jsonl"
raw "$TMP/wout/orders-0" >"$TMP/got.txt"
# Offset 13 is a JSON Schema value written over two lines: it comes back without the line break.
grep -v '^13 ' "$TMP/orig.txt" >"$TMP/want1.txt"
grep -v '^13 ' "$TMP/got.txt" >"$TMP/got1.txt"
if cmp -s "$TMP/want1.txt" "$TMP/got1.txt"; then pass; else
  fail "re-encoded values differ from python3-avro's bytes"; diff "$TMP/want1.txt" "$TMP/got1.txt" | head -6 >&2
fi
expect_eq "$(printf '\0\0\0\0\n{"name": "json-1"}' | base64 -w0)" "$(grep '^13 ' "$TMP/got.txt" | cut -d' ' -f2)" \
  "JSON Schema value framed again"
# Records that did not decode (unknown id, truncated, ...) pass as they were.
expect_eq 3 "$(grep -c '"decode_error"' "$TMP/dec.jsonl")" "records with decode_error in the input"

# ---- an edited value re-encodes; python3-avro reads the edit (jq 1.6 reads integers past
# 2^53 as doubles, so lines that must keep every bit are picked with grep, not jq)
jq -c 'select(.offset == 0) | .value.n = 42 | .value.opt = "edited" | .value.tags += ["new"] | .value.amount = "-1.28"' \
  "$TMP/dec.jsonl" >"$TMP/edit.jsonl"
expect_exit 0 "$E" write --encode avro --schemas "$S" "$TMP/edit/orders-0" --in "$TMP/edit.jsonl"
"$E" cat "$TMP/edit/orders-0" --decode none | jq -r '.value_base64' >"$TMP/edit.b64"
"$PY" - "$S/1.avsc" "$TMP/edit.b64" >"$TMP/edit.out" <<'PYEOF'
import base64, io, json, sys
import avro.io, avro.schema
s = avro.schema.parse(open(sys.argv[1]).read())
b = base64.b64decode(open(sys.argv[2]).read().strip())
assert b[:5] == b"\0\0\0\0\1", b[:5]
v = avro.io.DatumReader(s).read(avro.io.BinaryDecoder(io.BytesIO(b[5:])))
print(v["n"], v["opt"], v["tags"][-1], v["amount"])
PYEOF
expect_eq "42 edited new -1.28" "$(cat "$TMP/edit.out")" "python3-avro reads the edited record"

# ---- --schema-id: another schema for every value (v3: v1 plus region with a default)
cp -r "$S" "$TMP/s2"
jq '.fields += [{"name":"region","type":"string","default":"eu"}]' "$S/1.avsc" >"$TMP/s2/4.avsc"
grep '"schema_id":1,"value_format":"avro"' "$TMP/dec.jsonl" >"$TMP/v1.jsonl"
expect_exit 0 "$E" write --encode avro --schemas "$TMP/s2" --schema-id 4 "$TMP/v3/orders-0" --in "$TMP/v1.jsonl"
"$E" cat "$TMP/v3/orders-0" --schemas "$TMP/s2" >"$TMP/v3.jsonl"
expect_eq "4 eu" "$(jq -r 'select(.offset == 0) | "\(.schema_id) \(.value.region)"' "$TMP/v3.jsonl")" "--schema-id 4"
expect_eq "$(wc -l <"$TMP/v1.jsonl")" "$(grep -c '"schema_id":4' "$TMP/v3.jsonl")" "every value written with id 4"

# ---- --schema FILE: unframed Avro, as python3-avro wrote it
head -12 "$TMP/v1.jsonl" >"$TMP/v1a.jsonl"
expect_exit 0 "$E" write --encode avro --schema "$S/1.avsc" "$TMP/plain/plain-0" --in "$TMP/v1a.jsonl"
expect_eq "$(jq -r .value_base64 "$TMP/unframed.jsonl")" "$("$E" cat "$TMP/plain/plain-0" | jq -r .value_base64)" \
  "--schema FILE: unframed bytes"

# ---- spec style: --avro-json spec on both ends
"$E" cat "$TMP/data/orders-0" --schemas "$S" --decode avro --decode-key none --avro-json spec --until 13 \
  >"$TMP/spec.jsonl" 2>/dev/null
expect_exit 0 "$E" write --encode avro --avro-json spec --schemas "$S" "$TMP/spec/orders-0" --in "$TMP/spec.jsonl"
expect_eq "$(head -13 "$TMP/orig.txt")" "$(raw "$TMP/spec/orders-0")" "spec style: the same bytes"

# ---- --encode json
grep '"value_format":"json"' "$TMP/dec.jsonl" >"$TMP/js.jsonl"
expect_exit 0 "$E" write --encode json "$TMP/js/orders-0" --in "$TMP/js.jsonl"
expect_eq "$(printf '\0\0\0\0\n{"name": "json-1"}' | base64 -w0)" "$(raw "$TMP/js/orders-0" | cut -d' ' -f2)" "--encode json"

# ---- errors: data errors exit 1 naming the record; usage errors exit 2
expect_exit 1 "$E" write --encode avro --schemas "$S" --schema-id 2 "$TMP/e1/orders-0" --in "$TMP/v1.jsonl"
expect_contains "$TMP/err" 'v1.jsonl:1 (orders/0@0): cannot encode the value: field "region" of com.example.Event is missing'
jq -c '.value.n = "x"' "$TMP/edit.jsonl" >"$TMP/bad.jsonl"
expect_exit 1 "$E" write --encode avro --schemas "$S" "$TMP/e2/orders-0" --in "$TMP/bad.jsonl"
expect_contains "$TMP/err" 'n: expected an int, not "x"'
jq -c '.value.zzz = 1' "$TMP/edit.jsonl" >"$TMP/bad.jsonl"
expect_exit 1 "$E" write --encode avro --schemas "$S" "$TMP/e3/orders-0" --in "$TMP/bad.jsonl"
expect_contains "$TMP/err" 'com.example.Event has no field "zzz"'
jq -c '.schema_id = 77' "$TMP/edit.jsonl" >"$TMP/bad.jsonl"
expect_exit 1 "$E" write --encode avro --schemas "$S" "$TMP/e4/orders-0" --in "$TMP/bad.jsonl"
expect_contains "$TMP/err" "schema id 77 not found"
expect_exit 2 "$E" write --encode avro --schemas "$S" --schema-id 77 "$TMP/e5/orders-0" --in "$TMP/edit.jsonl"
expect_contains "$TMP/err" "schema-id 77: not found"
expect_exit 2 "$E" write --encode json --schemas "$S" --schema-id 1 "$TMP/e6/orders-0" --in "$TMP/edit.jsonl"
expect_contains "$TMP/err" "is a AVRO schema, not one for --encode json"
expect_exit 2 "$E" write --encode protobuf --schemas "$S" --schema-id 1 "$TMP/e7/orders-0" --in "$TMP/edit.jsonl"
expect_contains "$TMP/err" "is a AVRO schema, not one for --encode protobuf"
expect_exit 2 "$E" write --encode protobuf "$TMP/e7/orders-0" --in "$TMP/edit.jsonl"
expect_contains "$TMP/err" "--encode protobuf needs --schemas SRC"
expect_exit 2 "$E" write --encode avro "$TMP/e8/orders-0" --in "$TMP/edit.jsonl"
expect_contains "$TMP/err" "needs --schemas SRC"
expect_exit 1 "$E" write --encode avro --schemas "$S" "$TMP/e9/orders-0" --in "$TMP/js.jsonl"
expect_contains "$TMP/err" "schema id 10 is JSON, not AVRO"

# ---- replay: into a segment directory, from the decoded JSON Lines and as a transcode
expect_exit 0 "$E" replay "$TMP/dec.jsonl" "$TMP/rp/orders-0" --encode auto --schemas "$S"
expect_eq "$(cat "$TMP/got.txt")" "$(raw "$TMP/rp/orders-0")" "replay --encode: the same bytes as write --encode"
expect_exit 0 "$E" replay "$TMP/data/orders-0" "$TMP/tc/orders-0" --decode avro --decode-key none --schemas "$S" \
  --encode avro --until 13
expect_eq "$(head -13 "$TMP/orig.txt")" "$(raw "$TMP/tc/orders-0")" "replay --decode --encode: a transcode back to the same bytes"

# ---- replay into a sandbox topic; kafka-python reads the values back
if have "python3-kafka" "$PY" -c "import kafka"; then
  start_sandbox --topics orders:1
  expect_exit 0 "$E" replay "$TMP/dec.jsonl" "kafka://$B/orders" --encode auto --schemas "$S"
  "$PY" - "$B" >"$TMP/kafka.txt" <<'PYEOF'
import base64, sys
from kafka import KafkaConsumer, TopicPartition
c = KafkaConsumer(bootstrap_servers=sys.argv[1], enable_auto_commit=False, consumer_timeout_ms=5000)
tp = TopicPartition("orders", 0)
c.assign([tp]); c.seek_to_beginning(tp)
for m in c:
    print(m.offset, base64.b64encode(m.value).decode())
PYEOF
  expect_eq "$(cat "$TMP/got.txt")" "$(cat "$TMP/kafka.txt")" "replay --encode to a topic: the stored bytes"
  stop_sandbox
fi

finish
