# Protobuf values (--decode protobuf / auto with --schemas, --schema FILE.proto --message):
# messages encoded by python3-protobuf (classes from protoc --python_out, an independent
# encoder), framed with Confluent's header and message indexes in both encodings (zigzag
# and unsigned varints), decoded by evt and compared (as parsed JSON) with python's own
# json_format.MessageToJson; schemas from a directory (an import beside the schema), from
# the registry's REST API (references; static answers served by python3 -m http.server on
# 127.0.0.1) and from the registry's `_schemas` log (a segment directory); bad values.
source "$(dirname "$0")/lib.sh"
require_cmd jq
require_cmd protoc
require "python3-protobuf" /usr/bin/python3 -c "import google.protobuf.json_format"
E=$EVT
PY=/usr/bin/python3
SRC="$(dirname "$0")/protobuf"

mkdir -p "$TMP/proto" "$TMP/py"
cp "$SRC/shop.proto" "$SRC/common.proto" "$TMP/proto/"
protoc -I "$TMP/proto" --python_out="$TMP/py" "$TMP/proto/shop.proto" "$TMP/proto/common.proto"
"$PY" "$SRC/gen.py" "$TMP"
"$E" write "$TMP/data/orders-0" <"$TMP/events.jsonl"
"$E" write "$TMP/data/plain-0" <"$TMP/unframed.jsonl"
"$E" write "$TMP/data/_schemas-0" <"$TMP/_schemas.jsonl"
BAD=$(cat "$TMP/bad_start")
KEY=$(cat "$TMP/key_offset")
jq -c -S '{offset, value}' "$TMP/expected.jsonl" >"$TMP/want.jsonl"
# compare OUT WHAT: the decoded values of OUT (the good records) against python's JSON.
compare() {
  head -n "$BAD" "$1" | jq -c -S '{offset, value}' >"$TMP/got.jsonl"
  if cmp -s "$TMP/got.jsonl" "$TMP/want.jsonl"; then pass; else
    fail "$2: decoded values differ from python's json_format"; diff "$TMP/want.jsonl" "$TMP/got.jsonl" | head -10 >&2
  fi
}

# ---- a schema directory: <id>.proto, its import (common.proto) beside it
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas"
cp "$TMP/out" "$TMP/dir.out"
compare "$TMP/dir.out" "schema directory"
expect_eq "1 protobuf" "$(jq -r 'select(.offset == 0) | "\(.schema_id) \(.value_format)"' "$TMP/dir.out")" "schema_id and value_format"
expect_eq '"2023-11-15T22:13:20.005Z"' "$(jq -c 'select(.offset == 1) | .value.at' "$TMP/dir.out")" "Timestamp as RFC 3339"
expect_eq '"18446744073709551614"' "$(jq -c 'select(.offset == 1) | .value.u64' "$TMP/dir.out")" "uint64 as a string"
expect_eq '{"name":"other-9","money":{"units":"9"}}' "$(jq -c "select(.offset == $KEY) | .key" "$TMP/dir.out")" \
  "a Protobuf key (--decode-key auto)"
expect_eq '{"units":"-5","currency":"USD"}' "$(jq -c 'select(.offset == 14) | .value' "$TMP/dir.out")" "the imported file's own id"
# Bad values: shown as stored (base64) with decode_error, counted on stderr.
expect_eq "4" "$(jq -s '[.[] | select(.decode_error and .value_base64)] | length' "$TMP/dir.out")" "bad values shown raw"
jq -r "select(.offset == $BAD) | .decode_error" "$TMP/dir.out" >"$TMP/e0"
expect_contains "$TMP/e0" "not a valid shop.Order"
jq -r "select(.offset == $((BAD + 1))) | .decode_error" "$TMP/dir.out" >"$TMP/e1"
expect_contains "$TMP/e1" "not a valid shop.Order"
jq -r "select(.offset == $((BAD + 2))) | .decode_error" "$TMP/dir.out" >"$TMP/e2"
expect_contains "$TMP/e2" "message indexes \[7\] (zigzag) select no message type"
jq -r "select(.offset == $((BAD + 3))) | .decode_error" "$TMP/dir.out" >"$TMP/e3"
expect_contains "$TMP/e3" "empty Protobuf payload"
"$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" >/dev/null 2>"$TMP/err" || true
expect_contains "$TMP/err" "4 records could not be decoded"
expect_exit 1 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" --strict
expect_contains "$TMP/err" "orders/0@$BAD: not a valid shop.Order"
expect_eq "$BAD" "$(wc -l <"$TMP/out" | tr -d ' ')" "--strict: the records before the bad one are output"
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" --decode protobuf
compare "$TMP/out" "--decode protobuf"
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" --decode avro -n 1
expect_contains "$TMP/out" '"decode_error":"schema id 1 is PROTOBUF, not AVRO"'

# ---- dump shows the message indexes and which encoding was found
expect_exit 0 "$E" dump "$TMP/data/orders-0" --schemas "$TMP/schemas"
expect_contains "$TMP/out" '| offset: 0 .*schemaId: 1 valueFormat: protobuf messageIndexes: \[0\] indexEncoding: zigzag .*payload: {"id":"o-0"'
expect_contains "$TMP/out" '| offset: 1 .*messageIndexes: \[0\] indexEncoding: unsigned '
expect_contains "$TMP/out" '| offset: 8 .*messageIndexes: \[1\] indexEncoding: zigzag .*payload: {"name":"other-0"'
expect_contains "$TMP/out" '| offset: 10 .*messageIndexes: \[1\] indexEncoding: unsigned '
expect_contains "$TMP/out" '| offset: 9 .*messageIndexes: \[0,1\] indexEncoding: zigzag .*payload: {"sku":"line-0"'
expect_contains "$TMP/out" '| offset: 11 .*messageIndexes: \[0,1\] indexEncoding: unsigned '
expect_contains "$TMP/out" "| offset: $BAD .*schemaId: 1 messageIndexes: \[0\] indexEncoding: zigzag decodeError: \"not a valid"

# ---- --where sees the decoded fields
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" -w '.status == "SHIPPED" and .cash.currency == "EUR"' -f '%o\n'
expect_eq "4" "$(tr '\n' ' ' <"$TMP/out" | sed 's/ $//')" "--where on enum and oneof fields"
# evt filter --decode on the stored envelopes selects the same records, printed as stored.
"$E" cat "$TMP/data/orders-0" >"$TMP/raw.jsonl"
expect_exit 0 "$E" filter --schemas "$TMP/schemas" -j 2 '.value.status == "SHIPPED" and .value.cash.currency == "EUR"' "$TMP/raw.jsonl"
expect_eq "4" "$(jq -r .offset "$TMP/out" | tr '\n' ' ' | sed 's/ $//')" "evt filter --decode on Protobuf values"
grep -Fxf "$TMP/out" "$TMP/raw.jsonl" | cmp -s - "$TMP/out" && pass || fail "evt filter --decode prints the stored lines"

# ---- --schema FILE.proto --message TYPE: unframed messages
expect_exit 0 "$E" cat "$TMP/data/plain-0" --schema "$TMP/proto/shop.proto" --message shop.Order -f value -n 8
jq -c -S . "$TMP/out" >"$TMP/got.jsonl"
jq -c -S . "$TMP/unframed_expected.jsonl" >"$TMP/want2.jsonl"
if cmp -s "$TMP/got.jsonl" "$TMP/want2.jsonl"; then pass; else fail "--schema .proto: values differ"; fi
expect_exit 0 "$E" cat "$TMP/data/plain-0" --schema "$TMP/proto/shop.proto" --message Order -n 1 -f value
expect_contains "$TMP/out" '"id":"o-0"'
expect_exit 2 "$E" cat "$TMP/data/plain-0" --schema "$TMP/proto/shop.proto"
expect_contains "$TMP/err" "needs --message TYPE, one of: shop.Order, shop.Order.Line, shop.Other"
expect_exit 2 "$E" cat "$TMP/data/plain-0" --schema "$TMP/proto/shop.proto" --message Nope
expect_contains "$TMP/err" "not a message type"
expect_exit 2 "$E" cat "$TMP/data/plain-0" --message shop.Order
expect_exit 0 "$E" cat "$TMP/data/plain-0" --schema "$TMP/proto/shop.proto" --message shop.Order --from 8
expect_contains "$TMP/out" '"decode_error":"not a valid shop.Order message'
expect_exit 1 "$E" cat "$TMP/data/plain-0" --schema "$TMP/proto/shop.proto" --message shop.Order --strict
printf 'syntax = "proto3"; message {' >"$TMP/broken.proto"
expect_exit 2 "$E" cat "$TMP/data/plain-0" --schema "$TMP/broken.proto" --message X
expect_contains "$TMP/err" "broken.proto:1"
expect_exit 0 "$E" replay "$TMP/data/plain-0" "$TMP/replayed.jsonl" --schema "$TMP/proto/shop.proto" --message shop.Order
expect_eq "8" "$(jq -s 'map(select(.value.id)) | length' "$TMP/replayed.jsonl")" "replay --schema .proto writes decoded values"

# ---- the registry's REST API: references resolved by subject/version
serve_dir "$TMP/registry"
trap 'kill $HTTP 2>/dev/null; rm -rf "$TMP"' EXIT
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$URL"
compare "$TMP/out" "registry URL"
expect_exit 0 "$E" schema list "$URL" --json
expect_contains "$TMP/out" '"PROTOBUF"'

# ---- the registry's own log: a segment directory
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/data/_schemas-0"
compare "$TMP/out" "_schemas segment dir"
# A reference that is not there: every value of id 1 fails, with the reason.
head -n 2 "$TMP/_schemas.jsonl" | sed 's/"common-value"/"elsewhere"/g' >"$TMP/broken_schemas.jsonl"
tail -n 1 "$TMP/_schemas.jsonl" >>"$TMP/broken_schemas.jsonl"
"$E" write "$TMP/data2/_schemas-0" <"$TMP/broken_schemas.jsonl"
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/data2/_schemas-0" -n 1
expect_contains "$TMP/out" 'reference \\"common.proto\\" (subject common-value version 1) not found'
# ... found in a second source: a directory's subjects/<subject>/<version>.proto (text, no id)
mkdir -p "$TMP/refdir/subjects/common-value"
cp "$TMP/proto/common.proto" "$TMP/refdir/subjects/common-value/1.proto"
expect_exit 0 "$E" cat "$TMP/data/orders-0" --schemas "$TMP/data2/_schemas-0" --schemas "$TMP/refdir"
compare "$TMP/out" "a reference from subjects/<subject>/<version>.proto"

# ---- evt schema compat: Confluent's Protobuf rules, imports beside the files
mkdir -p "$TMP/v2ok" "$TMP/v2bad" "$TMP/v2oneof"
cp "$TMP/proto/common.proto" "$TMP/v2ok/"; cp "$TMP/proto/common.proto" "$TMP/v2bad/"; cp "$TMP/proto/common.proto" "$TMP/v2oneof/"
# Compatible: a field added, a field renamed, int32 -> int64.
sed -e 's/^  string id = 1;/  string id = 1;\n  string added = 99;/' -e 's/int32 i32 = 2;/int64 i32_renamed = 2;/' \
  "$TMP/proto/shop.proto" >"$TMP/v2ok/shop.proto"
expect_exit 0 "$E" schema compat "$TMP/proto/shop.proto" "$TMP/v2ok/shop.proto" --mode full
expect_contains "$TMP/out" "compatible (full)"
# A message added: backward compatible; forward (OLD reading what NEW writes) it is removed.
printf 'message Extra { int32 x = 1; }\n' >>"$TMP/v2ok/shop.proto"
expect_exit 0 "$E" schema compat "$TMP/proto/shop.proto" "$TMP/v2ok/shop.proto"
expect_exit 1 "$E" schema compat "$TMP/proto/shop.proto" "$TMP/v2ok/shop.proto" --mode forward
expect_contains "$TMP/out" "message shop.Extra was removed (MESSAGE_REMOVED)"
# Incompatible: a scalar kind changed, a message removed (both reasons given).
sed -e 's/int64 i64 = 3;/string i64 = 3;/' -e '/^message Other {/,/^}/d' "$TMP/proto/shop.proto" >"$TMP/v2bad/shop.proto"
expect_exit 1 "$E" schema compat "$TMP/proto/shop.proto" "$TMP/v2bad/shop.proto"
expect_contains "$TMP/out" "shop.Order field 3 (i64): int64 became string (FIELD_SCALAR_KIND_CHANGED); message shop.Other was removed (MESSAGE_REMOVED)"
expect_exit 1 "$E" schema compat "$TMP/v2bad/shop.proto" "$TMP/proto/shop.proto" --mode full
expect_contains "$TMP/out" "string became int64"
# A field moved into an existing oneof; a message field that now names another type.
sed -e 's/^  string id = 1;//' -e 's/    string card = 22;/    string card = 22;\n    string id = 1;/' \
  -e 's/common.Money money = 2;/Order money = 2;/' "$TMP/proto/shop.proto" >"$TMP/v2oneof/shop.proto"
expect_exit 1 "$E" schema compat "$TMP/proto/shop.proto" "$TMP/v2oneof/shop.proto"
expect_contains "$TMP/out" "FIELD_MOVED_TO_EXISTING_ONEOF"
expect_exit 1 "$E" schema compat "$TMP/proto/common.proto" "$TMP/v2oneof/shop.proto"
expect_contains "$TMP/out" "PACKAGE_CHANGED"
# proto2: a required field added, or removed.
printf 'syntax = "proto2";\nmessage R { optional int32 a = 1; }\n' >"$TMP/p2a.proto"
printf 'syntax = "proto2";\nmessage R { optional int32 a = 1; required string b = 2; }\n' >"$TMP/p2b.proto"
expect_exit 1 "$E" schema compat "$TMP/p2a.proto" "$TMP/p2b.proto"
expect_contains "$TMP/out" "R field 2 (b): a required field was added (REQUIRED_FIELD_ADDED)"
expect_exit 1 "$E" schema compat "$TMP/p2b.proto" "$TMP/p2a.proto"
expect_contains "$TMP/out" "REQUIRED_FIELD_REMOVED"
expect_exit 2 "$E" schema compat "$TMP/broken.proto" "$TMP/p2a.proto"
expect_contains "$TMP/err" "broken.proto:1"
expect_exit 2 "$E" schema compat "$TMP/p2a.proto" "$TMP/schemas/2.proto.nope"

# ---- evt schema check with a Protobuf reader: the writer's message type must be in the
# reader, the rules must hold for it, and the reader must read the value
expect_exit 0 "$E" schema check "$TMP/data/orders-0" --schemas "$TMP/schemas" --reader "$TMP/v2ok/shop.proto" --until 14
expect_exit 0 "$E" schema check "$TMP/data/orders-0" --schemas "$TMP/schemas" --reader-id 1 --until 14
expect_exit 1 "$E" schema check "$TMP/data/orders-0" --schemas "$TMP/schemas" --reader "$TMP/v2bad/shop.proto" --until 14
expect_eq "0 1 2 3 4 5 6 7 8 10 12 13" "$(jq -r .offset "$TMP/out" | tr '\n' ' ' | sed 's/ $//')" "exactly the unreadable records"
expect_contains "$TMP/out" '"offset":0,.*"reason":"shop.Order field 3 (i64): int64 became string (FIELD_SCALAR_KIND_CHANGED)"'
expect_contains "$TMP/out" '"offset":8,.*"reason":"the reader schema has no message shop.Other"'
expect_exit 1 "$E" schema check "$TMP/data/orders-0" --schemas "$TMP/schemas" --reader "$TMP/v2ok/shop.proto" --from 14
expect_contains "$TMP/out" '"offset":14,.*no message common.Money'
expect_contains "$TMP/out" '"offset":15,.*does not decode with its writer schema'

# ---- --encode protobuf: decoded values back to the bytes python3-protobuf wrote
"$E" cat "$TMP/data/orders-0" --until "$BAD" >"$TMP/stored.jsonl"
"$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" --decode-key none --until "$BAD" >"$TMP/dec.jsonl"
# pick FILE OFFSETS...: the lines of those offsets
pick() { local f=$1; shift; jq -c --argjson o "[$(echo "$@" | tr ' ' ',')]" 'select(.offset as $x | $o | index($x))' "$f"; }
# Messages of each schema's first type ([0]) with zigzag indexes, as Java writes them: byte for byte.
pick "$TMP/dec.jsonl" 0 2 4 6 12 13 14 >"$TMP/first.jsonl"
expect_exit 0 "$E" write "$TMP/enc/orders-0" --encode protobuf --schemas "$TMP/schemas" --in "$TMP/first.jsonl"
"$E" cat "$TMP/enc/orders-0" | jq -c '[.key, .key_base64, .value_base64]' >"$TMP/got"
pick "$TMP/stored.jsonl" 0 2 4 6 12 13 14 | jq -c '[.key, .key_base64, .value_base64]' >"$TMP/want"
cmp -s "$TMP/want" "$TMP/got" && pass || { fail "--encode protobuf: not the stored bytes"; diff "$TMP/want" "$TMP/got" | head -4 >&2; }
# Another message type with --message; --encode auto takes each value's value_format.
pick "$TMP/dec.jsonl" 8 >"$TMP/other.jsonl"
expect_exit 0 "$E" write "$TMP/enc2/orders-0" --encode auto --schemas "$TMP/schemas" --message shop.Other --in "$TMP/other.jsonl"
expect_eq "$(pick "$TMP/stored.jsonl" 8 | jq -r .value_base64)" "$("$E" cat "$TMP/enc2/orders-0" | jq -r .value_base64)" "--message shop.Other ([1])"
# Values first written with unsigned indexes come back with zigzag ones and decode the same.
pick "$TMP/dec.jsonl" 1 3 5 7 >"$TMP/unsigned.jsonl"
expect_exit 0 "$E" write "$TMP/enc3/orders-0" --encode protobuf --schemas "$TMP/schemas" --in "$TMP/unsigned.jsonl"
expect_eq "$(jq -c .value "$TMP/unsigned.jsonl" | tr '\n' ' ')" "$("$E" cat "$TMP/enc3/orders-0" --schemas "$TMP/schemas" | jq -c .value | tr '\n' ' ')" "re-encoded unsigned-index values decode the same"
expect_eq "4" "$("$E" dump "$TMP/enc3/orders-0" --schemas "$TMP/schemas" 2>/dev/null | grep -c 'indexEncoding: zigzag')" "written with Java's zigzag indexes"
# An edited value: python reads the edit back.
pick "$TMP/dec.jsonl" 0 | jq -c '.value.id = "edited"' >"$TMP/edited.jsonl"
expect_exit 0 "$E" write "$TMP/enc4/orders-0" --encode protobuf --schemas "$TMP/schemas" --in "$TMP/edited.jsonl"
"$E" cat "$TMP/enc4/orders-0" | jq -r .value_base64 | "$PY" -c '
import base64, sys
sys.path.insert(0, sys.argv[1])
import shop_pb2
b = base64.b64decode(sys.stdin.read())
assert b[:5] == b"\0\0\0\0\1" and b[5:6] == b"\0", b[:6]
m = shop_pb2.Order(); m.ParseFromString(b[6:]); print(m.id)' "$TMP/py" >"$TMP/pyid" 2>&1
expect_eq "edited" "$(cat "$TMP/pyid")" "python3-protobuf reads the edited value"
# Errors: a field the message lacks (exit 1, naming the record); --message the schema lacks,
# --schema FILE (usage, exit 2).
pick "$TMP/dec.jsonl" 0 | jq -c '.value.noSuchField = 1' >"$TMP/badfield.jsonl"
expect_exit 1 "$E" write "$TMP/enc5/orders-0" --encode protobuf --schemas "$TMP/schemas" --in "$TMP/badfield.jsonl"
expect_contains "$TMP/err" "cannot encode the value"
expect_contains "$TMP/err" "noSuchField"
expect_exit 2 "$E" write "$TMP/enc6/orders-0" --encode protobuf --schemas "$TMP/schemas" --schema-id 1 --message shop.Nope --in "$TMP/first.jsonl"
expect_contains "$TMP/err" "no such message type"
expect_exit 2 "$E" write "$TMP/enc7/orders-0" --encode protobuf --schema "$TMP/proto/shop.proto" --in "$TMP/first.jsonl"

finish
