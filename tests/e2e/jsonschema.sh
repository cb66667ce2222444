# evt schema check with JSON Schema reader schemas: for every value of
# tests/e2e/schemas/jsonschema_cases.json, evt's verdict equals python3-jsonschema's
# (Draft7Validator, an independent validator); a reader with references (the registry's
# subjects layout, resolved by name); values of another type are not checked; a reader that
# is not a schema is a usage error.
source "$(dirname "$0")/lib.sh"
require_cmd jq
require "python3-jsonschema" /usr/bin/python3 -c "import jsonschema"
E=$EVT
PY=/usr/bin/python3
CASES="$(dirname "$0")/schemas/jsonschema_cases.json"

"$PY" - "$CASES" "$TMP" <<'PYEOF'
import base64, json, os, struct, sys
import jsonschema
cases, tmp = json.load(open(sys.argv[1])), sys.argv[2]
os.makedirs(tmp + "/schemas", exist_ok=True)
json.dump({"type": "object"}, open(tmp + "/schemas/1.json", "w"))  # the writers' schema
def envelope(off, framed):
    return json.dumps({"topic": "t", "partition": 0, "offset": off, "timestamp": 1700000000000 + off, "key": None,
                       "value_base64": base64.b64encode(framed).decode(), "headers": []}) + "\n"
for i, c in enumerate(cases):
    d = "%s/case%02d" % (tmp, i)
    os.makedirs(d)
    json.dump(c["schema"], open(d + "/reader.json", "w"))
    v = jsonschema.Draft7Validator(c["schema"])
    with open(d + "/in.jsonl", "w") as f, open(d + "/want", "w") as w:
        for off, text in enumerate(c["values"]):
            f.write(envelope(off, b"\0" + struct.pack(">i", 1) + text.encode()))
            if not v.is_valid(json.loads(text)):
                w.write("%d\n" % off)
# References: subject "orders" (id 6) uses subject "common" (id 5) as "common.json".
os.makedirs(tmp + "/schemas/subjects/common")
os.makedirs(tmp + "/schemas/subjects/orders")
common = {"definitions": {"amount": {"type": "number", "minimum": 0}}}
orders = {"type": "object", "required": ["amount"], "properties": {"amount": {"$ref": "common.json#/definitions/amount"}}}
json.dump({"subject": "common", "version": 1, "id": 5, "schemaType": "JSON", "schema": json.dumps(common)},
          open(tmp + "/schemas/subjects/common/1.json", "w"))
json.dump({"subject": "orders", "version": 1, "id": 6, "schemaType": "JSON", "schema": json.dumps(orders),
           "references": [{"name": "common.json", "subject": "common", "version": 1}]},
          open(tmp + "/schemas/subjects/orders/1.json", "w"))
json.dump({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}, open(tmp + "/schemas/7.avsc", "w"))
with open(tmp + "/refs.jsonl", "w") as f:
    vals = ['{"amount":1}', '{"amount":-1}', '{}', '{"amount":"x"}', '{"amount":0}']
    for off, text in enumerate(vals):
        f.write(envelope(off, b"\0" + struct.pack(">i", 6) + text.encode()))
    f.write(envelope(len(vals), b"\0" + struct.pack(">i", 7) + b"\x02"))  # an Avro value: not checked
    f.write(envelope(len(vals) + 1, b"not framed"))
PYEOF

# ---- each case: the same verdicts as python3-jsonschema
n=0
for d in "$TMP"/case*; do
  "$E" write "$d/seg/t-0" <"$d/in.jsonl" 2>/dev/null
  rc=0
  "$E" schema check "$d/seg/t-0" --schemas "$TMP/schemas" --reader "$d/reader.json" >"$d/out" 2>"$d/err" || rc=$?
  want=$(sort -n "$d/want" | tr '\n' ' ')
  got=$(jq -r .offset "$d/out" | sort -n | tr '\n' ' ')
  want_rc=0
  [ -n "$want" ] && want_rc=1
  if [ "$got" == "$want" ] && [ "$rc" == "$want_rc" ]; then pass; else
    fail "$(basename "$d") $(jq -c . "$d/reader.json"): unreadable offsets [$got] (exit $rc), python3-jsonschema says [$want]"
    sed 's/^/  /' "$d/err" | head -3 >&2
  fi
  n=$((n + 1))
done
expect_eq "30" "$n" "every case ran"

# ---- the reasons name the place in the value and the keyword
expect_exit 1 "$E" schema check "$TMP/case15/seg/t-0" --schemas "$TMP/schemas" --reader "$TMP/case15/reader.json"
expect_contains "$TMP/out" '"reason":"/: the required property \\"id\\" is missing"'
expect_contains "$TMP/out" '"reason":"/id: 1 is integer, not of type \\"string\\""'
expect_contains "$TMP/err" "3 of 5 records cannot be read"

# ---- a reader by id, with references; other types and unframed values are not checked
"$E" write "$TMP/refs/t-0" <"$TMP/refs.jsonl" 2>/dev/null
expect_exit 1 "$E" schema check "$TMP/refs/t-0" --schemas "$TMP/schemas" --reader-id 6
expect_eq "1 2 3" "$(jq -r .offset "$TMP/out" | tr '\n' ' ' | sed 's/ $//')" "--reader-id with a referenced schema"
expect_contains "$TMP/out" '"reason":"/amount: -1 is less than the minimum 0"'
expect_contains "$TMP/err" "1 record"
expect_exit 0 "$E" schema check "$TMP/refs/t-0" --schemas "$TMP/schemas" --reader-id 6 --until 1

# ---- readers that are not schemas
echo '{"type": "strin"}' >"$TMP/bad.json"
expect_exit 2 "$E" schema check "$TMP/refs/t-0" --schemas "$TMP/schemas" --reader "$TMP/bad.json"
expect_contains "$TMP/err" "unknown type"
printf '{"pattern": "(?=x)"}' >"$TMP/lookahead.json"
expect_exit 2 "$E" schema check "$TMP/refs/t-0" --schemas "$TMP/schemas" --reader "$TMP/lookahead.json"
expect_contains "$TMP/err" "RE2"
expect_exit 2 "$E" schema check "$TMP/refs/t-0" --reader "$TMP/case00/reader.json"

finish
