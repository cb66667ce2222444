# Schema-aware records (--decode with --schemas / --schema, evt schema): Avro values written
# by python3-avro (an independent encoder) in Confluent's framing, decoded by evt and compared
# with python3-avro's own decoding; schemas from a directory, from the registry's REST API
# (static answers served by python3 -m http.server on 127.0.0.1) and from the registry's
# `_schemas` log (a segment directory here, a topic in the sandbox); bad values.
source "$(dirname "$0")/lib.sh"
require_cmd jq
require "python3-avro" /usr/bin/python3 -c "import avro.io"
E=$EVT
PY=/usr/bin/python3

"$PY" "$(dirname "$0")/schemas/gen.py" "$TMP"
"$E" write "$TMP/data/orders-0" <"$TMP/events.jsonl"
"$E" write "$TMP/data/plain-0" <"$TMP/unframed.jsonl"
"$E" write "$TMP/data/_schemas-0" <"$TMP/_schemas.jsonl"
BAD=$(cat "$TMP/bad_start")

# ---- a schema directory: every logical type and union case as python3-avro decodes them
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas"
cp "$TMP/out" "$TMP/dir.out"
head -n "$BAD" "$TMP/dir.out" | jq -c -S '{offset, value}' >"$TMP/got.jsonl"
head -n "$BAD" "$TMP/expected.jsonl" | jq -c -S '{offset, value}' >"$TMP/want.jsonl"
if cmp -s "$TMP/got.jsonl" "$TMP/want.jsonl"; then pass; else
  fail "decoded values differ from python3-avro's decoding"; diff "$TMP/want.jsonl" "$TMP/got.jsonl" | head -10 >&2
fi
expect_eq "1 1 avro" "$(jq -r 'select(.offset == 0) | "\(.schema_id) \(.value | type == "object" | if . then 1 else 0 end) \(.value_format)"' "$TMP/dir.out")" "schema_id and value_format"
expect_eq "10 json" "$(jq -r 'select(.offset == 13) | "\(.schema_id) \(.value_format)"' "$TMP/dir.out")" "JSON Schema value"
expect_eq '"key-3"' "$(jq -c 'select(.offset == 14) | .key' "$TMP/dir.out")" "an Avro key (--decode-key auto)"
# Bad values: shown as stored (base64) with decode_error, counted on stderr, exit 0.
expect_eq "99 true" "$(jq -r "select(.offset == $BAD) | \"\(.schema_id) \(.value_base64 != null)\"" "$TMP/dir.out")" "unknown id shown raw"
expect_contains "$TMP/dir.out" '"decode_error":"schema id 99 not found'
jq -r "select(.offset == $((BAD + 1))) | .decode_error" "$TMP/dir.out" >"$TMP/e1"
expect_contains "$TMP/e1" "truncated\|past the end"
jq -r "select(.offset == $((BAD + 3))) | .decode_error" "$TMP/dir.out" >"$TMP/e3"
expect_contains "$TMP/e3" "left over"
# Not framed: left alone with auto, an error with --decode avro.
expect_eq "null" "$(jq -c "select(.offset == $((BAD + 2))) | .decode_error" "$TMP/dir.out")" "unframed value left alone under auto"
"$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" >/dev/null 2>"$TMP/err" || true
expect_contains "$TMP/err" "3 records could not be decoded"
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" --decode avro
expect_eq "5" "$(jq -s '[.[] | select(.decode_error)] | length' "$TMP/out")" "--decode avro: JSON Schema and unframed are errors too"
expect_exit 1 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" --strict
expect_contains "$TMP/err" "schema id 99 not found"
expect_eq "$BAD" "$(wc -l <"$TMP/out" | tr -d ' ')" "--strict: the records before the bad one are output"

# ---- dump shows the decoded value and its schema id
expect_exit 0 "$E" dump "$TMP/data/orders-0" --schemas "$TMP/schemas"
expect_contains "$TMP/out" '| offset: 0 .*schemaId: 1 valueFormat: avro .*payload: {"id":"e-0"'
expect_contains "$TMP/out" "| offset: $BAD .*schemaId: 99 decodeError: \"schema id 99 not found"

# ---- --where sees the decoded value; -f value prints it
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" -w '.color == "BLUE" and .n < -50 and .region == null' -f value
expect_eq "e-8 e-11" "$(jq -r .id "$TMP/out" | tr '\n' ' ' | sed 's/ $//')" "--where on Avro fields"
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" -w '.amount == "-12345.72"' -f value
expect_eq "e-1" "$(jq -r .id "$TMP/out")" "--where on a decimal"

# ---- the jobs (project, replay, backfill, dlq) decode with --schemas too; without it they
# move the stored bytes
"$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" -w '.color == "BLUE"' -f '%o\n' >"$TMP/blue.want"
expect_exit 0 "$E" project "$TMP/data/orders-0" --schemas "$TMP/schemas" -w '.color == "BLUE"' --key '.id' \
  --reduce '$offset' --into "$TMP/blue.jsonl"
expect_eq "$(sort -n "$TMP/blue.want" | tr '\n' ' ')" "$(jq -r .state "$TMP/blue.jsonl" | sort -n | tr '\n' ' ')" \
  "project --schemas: --where and --key on Avro fields"
expect_exit 0 "$E" replay "$TMP/data/orders-0" "$TMP/replayed.jsonl" --schemas "$TMP/schemas" -w '.color == "BLUE"'
expect_eq "$(wc -l <"$TMP/blue.want")" "$(wc -l <"$TMP/replayed.jsonl")" "replay --schemas --where: the matching records"
jq -e -s 'all(.[]; .value.color == "BLUE")' "$TMP/replayed.jsonl" >/dev/null && pass || fail "replay --schemas writes decoded values"
expect_exit 0 "$E" replay "$TMP/data/orders-0" "$TMP/raw-replay"
cmp -s <("$E" cat "$TMP/data/orders-0" -f '%v\n') <("$E" cat "$TMP/raw-replay" -f '%v\n') && pass \
  || fail "replay without --schemas changed the stored bytes"
expect_exit 0 "$E" backfill "$TMP/data/orders-0" --schemas "$TMP/schemas" -w '.color == "BLUE"' --input value \
  --exec "cat >>$TMP/bf.out; echo >>$TMP/bf.out"
expect_eq "$(wc -l <"$TMP/blue.want")" "$(grep -c BLUE "$TMP/bf.out")" "backfill --schemas: workers get decoded values"
expect_exit 0 "$E" dlq summary "$TMP/data/orders-0" --schemas "$TMP/schemas" -w '.color == "BLUE"' --format json
expect_eq "$(wc -l <"$TMP/blue.want")" "$(jq -s 'map(.count) | add' "$TMP/out")" "dlq summary --schemas --where"
expect_exit 2 "$E" dlq redrive "$TMP/data/orders-0" --schemas "$TMP/schemas" --dry-run
"$E" replay "$TMP/data/orders-0" "$TMP/x.jsonl" --decode avro >/dev/null 2>"$TMP/err" && fail "--decode avro without schemas" || pass
expect_contains "$TMP/err" "needs --schemas"

# ---- --avro-json spec: wrapped unions, bytes as code points
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" --avro-json spec -n 2 -f value
expect_eq '{"string":"o1"} {"string":"s1"}' "$(jq -c 'select(.id == "e-1") | .opt, .choice' "$TMP/out" | tr '\n' ' ' | sed 's/ $//')" "spec unions"
expect_eq "null" "$(jq -c 'select(.id == "e-0") | .opt' "$TMP/out")" "spec null branch"
"$PY" - "$TMP/out" <<'PYEOF' && pass || fail "--avro-json spec bytes are not the stored bytes"
import json, sys
v = [json.loads(l) for l in open(sys.argv[1])][0]
assert v["raw"].encode("latin-1") == bytes(range(0, 6)) + b"\x00\xff", v["raw"]
assert isinstance(v["ts"], int)
PYEOF

# ---- --schema FILE: unframed Avro
expect_exit 0 "$E" cat "$TMP/data/plain-0" --schema "$TMP/v1.avsc" -f value
expect_eq "12" "$(jq -s 'map(select(.id)) | length' "$TMP/out")" "--schema decodes unframed values"
expect_exit 2 "$E" cat "$TMP/data/plain-0" --schema "$TMP/nope.avsc"
expect_exit 2 "$E" cat "$TMP/data/plain-0" --decode avro
expect_contains "$TMP/err" "needs --schemas"

# ---- the registry's REST API (static answers on 127.0.0.1)
serve_dir "$TMP/registry"
trap 'kill $HTTP 2>/dev/null; rm -rf "$TMP"' EXIT
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$URL"
head -n "$BAD" "$TMP/out" | jq -c -S '{offset, value}' >"$TMP/got.jsonl"
if cmp -s "$TMP/got.jsonl" "$TMP/want.jsonl"; then pass; else fail "registry URL: values differ"; fi
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$URL" -X schema.registry.basic.auth.user.info=alice:s3cret-pw --schemas "$TMP/schemas"
expect_exit 2 "$E" cat "$TMP/data/orders-0" --schemas "http://alice:pw@127.0.0.1:1"
expect_contains "$TMP/err" "basic.auth.user.info"
if grep -q "pw" "$TMP/err"; then fail "a password in the URL was echoed"; else pass; fi
# A registry that does not answer: every value is a decode error, bounded by --timeout.
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "http://127.0.0.1:9" --timeout 2s -n 1
expect_contains "$TMP/out" "decode_error"

# ---- the registry's own log: a segment directory (and a data directory holding it)
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/data/_schemas-0"
head -n "$BAD" "$TMP/out" | jq -c -S '{offset, value}' >"$TMP/got.jsonl"
if cmp -s "$TMP/got.jsonl" "$TMP/want.jsonl"; then pass; else fail "_schemas segment dir: values differ"; fi
expect_exit 0 "$E" schema list "$TMP/data"
expect_contains "$TMP/out" "orders-value"
expect_contains "$TMP/out" "soft-value"
if grep -q "gone-value" "$TMP/out"; then fail "a hard-deleted (tombstoned) schema is listed"; else pass; fi
expect_exit 0 "$E" schema list "$TMP/data/_schemas-0" --json
expect_eq "true" "$(jq -r 'select(.id == 51) | .subjects[0].deleted' "$TMP/out")" "soft delete"
expect_eq "" "$(jq -r 'select(.id == 50) | .id' "$TMP/out")" "tombstone"
expect_exit 0 "$E" schema show "$TMP/data/_schemas-0" 2
expect_contains "$TMP/out" '"region"'
expect_exit 0 "$E" schema show "$URL" orders-value
expect_contains "$TMP/out" '"region"'
expect_exit 1 "$E" schema show "$TMP/schemas" 77

# ---- evt schema ids: the schema history of a log
expect_exit 0 "$E" schema ids "$TMP/data/orders-0" --json
expect_eq "value:1:15 value:2:1 value:10:1 value:99:1 key:3:1" "$(jq -r '"\(.field):\(.schema_id):\(.records)"' "$TMP/out" | tr '\n' ' ' | sed 's/ $//')" "ids and counts"
expect_eq "0 $((BAD + 3))" "$(jq -r 'select(.schema_id == 1) | "\(.first_offset) \(.last_offset)"' "$TMP/out")" "first/last offset"

# ---- evt schema compat: Avro resolution without data
expect_exit 0 "$E" schema compat "$TMP/v1.avsc" "$TMP/v3.avsc"
expect_exit 1 "$E" schema compat "$TMP/v1.avsc" "$TMP/v2.avsc"
expect_contains "$TMP/out" "region"
expect_exit 0 "$E" schema compat "$TMP/v1.avsc" "$TMP/v2.avsc" --mode forward
expect_exit 1 "$E" schema compat "$TMP/v1.avsc" "$TMP/v2.avsc" --mode full

# ---- evt schema check: exactly the records the new reader cannot read
expect_exit 1 "$E" schema check "$TMP/data/orders-0" --schemas "$TMP/schemas" --reader "$TMP/v2.avsc"
expect_eq "15" "$(jq -s '[.[] | select(.schema_id == 1)] | length' "$TMP/out")" "v1 records unreadable by v2"
expect_eq "1" "$(jq -s '[.[] | select(.schema_id == 99)] | length' "$TMP/out")" "an unknown writer id is unreadable"
expect_eq "" "$(jq -r 'select(.schema_id == 2) | .offset' "$TMP/out")" "v2 records are readable"
expect_contains "$TMP/err" "schema id 1"
expect_exit 0 "$E" schema check "$TMP/data/orders-0" --schemas "$TMP/schemas" --reader "$TMP/v3.avsc" --until $BAD
expect_exit 0 "$E" schema check "$TMP/data/orders-0" --schemas "$TMP/schemas" --reader-id 1 --until 13

# ---- the `_schemas` topic in the sandbox (produced by kafka-python, a second client)
if have "python3-kafka" "$PY" -c "import kafka"; then
  "$E" sandbox --topics _schemas:1,orders:1 >"$TMP/addr" 2>"$TMP/sb.err" &
  SB=$!
  trap 'kill $HTTP 2>/dev/null; kill -INT $SB 2>/dev/null; wait $SB 2>/dev/null; rm -rf "$TMP"' EXIT
  for _ in $(seq 100); do [ -s "$TMP/addr" ] && break; sleep 0.1; done
  B=$(head -1 "$TMP/addr")
  "$PY" - "$B" "$TMP/_schemas.jsonl" "$TMP/events.jsonl" <<'PYEOF'
import base64, json, sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1])
for line in open(sys.argv[2]):
    r = json.loads(line)
    v = None if r["value"] is None else json.dumps(r["value"]).encode()
    p.send("_schemas", key=json.dumps(r["key"]).encode(), value=v, partition=0)
for line in open(sys.argv[3]):
    r = json.loads(line)
    p.send("orders", key=None, value=base64.b64decode(r["value_base64"]), partition=0)
p.flush()
PYEOF
  expect_exit 0 "$E" cat "kafka://$B/orders" --schemas "kafka://$B/_schemas"
  head -n "$BAD" "$TMP/out" | jq -c -S '{offset, value}' >"$TMP/got.jsonl"
  if cmp -s "$TMP/got.jsonl" "$TMP/want.jsonl"; then pass; else fail "_schemas topic: values differ"; fi
  expect_exit 0 "$E" schema list --schemas "kafka:///_schemas" -b "$B" --json
  expect_eq "1 2 3 10 51" "$(jq -r .id "$TMP/out" | tr '\n' ' ' | sed 's/ $//')" "_schemas topic: ids (tombstoned 50 gone)"
  expect_exit 1 "$E" schema check "kafka://$B/orders" --schemas "kafka://$B/_schemas" --reader "$TMP/v2.avsc"
fi

finish
