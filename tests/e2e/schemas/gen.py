# Test records for tests/e2e/schemas.sh, encoded by python3-avro (an independent Avro
# encoder) and framed with Confluent's 5-byte header; the expected JSON comes from
# python3-avro's own decoding of the same bytes. Writes into DIR:
#   schemas/<id>.avsc, schemas/<id>.json       a schema directory
#   events.jsonl     envelopes (value_base64) of framed Avro and JSON Schema values
#   expected.jsonl   {"offset","value"} as evt should show each decoded value
#   unframed.jsonl   the same Avro values without the header (for --schema FILE)
#   registry/        the registry's REST answers as static files (python3 -m http.server)
#   _schemas.jsonl   the registry's own log, with a soft delete and a tombstone
import base64, datetime, decimal, io, json, struct, sys, uuid
import avro.io, avro.schema

out = sys.argv[1]
V1 = {
    "type": "record", "name": "Event", "namespace": "com.example",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "n", "type": "int"},
        {"name": "big", "type": "long"},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
        {"name": "price", "type": {"type": "fixed", "name": "Price", "size": 8, "logicalType": "decimal",
                                   "precision": 18, "scale": 4}},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "opt", "type": ["null", "string"], "default": None},
        {"name": "choice", "type": ["int", "string", "Price"]},
        {"name": "raw", "type": "bytes"},
        {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
        {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {"name": "ratio", "type": "double"},
        {"name": "f", "type": "float"},
        {"name": "ok", "type": "boolean"},
        {"name": "text", "type": "string"},
    ]}
# v2 adds a field without a default: it cannot read v1 events (schema check finds them).
V2 = json.loads(json.dumps(V1))
V2["fields"].append({"name": "region", "type": "string"})
# v3 adds a field with a default: compatible.
V3 = json.loads(json.dumps(V1))
V3["fields"].append({"name": "region", "type": "string", "default": "eu"})
JSON_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}

utc = datetime.timezone.utc
def event(i):
    return {
        "id": f"e-{i}", "n": -i * 7, "big": (1 << 53) + i if i % 2 else -(1 << 40) - i,
        "amount": decimal.Decimal(f"{(-1) ** i * (i * 1234567 + 5)}") / 100,
        "price": decimal.Decimal(i * 98765 - 3) / 10000,
        "ts": datetime.datetime(2024, 1, 1, 12, 0, 0, (i * 1000) % 1000000, tzinfo=utc) + datetime.timedelta(days=i),
        "tsu": datetime.datetime(1969, 12, 31, 23, 59, 59, 999999 - i, tzinfo=utc),
        "day": datetime.date(2000, 2, 29) + datetime.timedelta(days=i * 400),
        "uid": str(uuid.UUID(int=i * 0x1234567890abcdef)),
        "opt": None if i % 3 == 0 else f"o{i}",
        "choice": [i, f"s{i}", struct.pack('>q', i)][i % 3] if i % 3 != 2 else decimal.Decimal(i) / 10000,
        "raw": bytes(range(i % 5, i % 5 + 6)) + b"\x00\xff",
        "fx": struct.pack('>I', i * 2654435761 % (1 << 32)),
        "color": ["RED", "GREEN", "BLUE"][i % 3],
        "tags": [f"t{j}" for j in range(i % 4)],
        "attrs": {f"k{j}": j * 1000000007 for j in range(i % 3)},
        "ratio": i / 3.0, "f": 0.5 + i, "ok": i % 2 == 0,
        "text": "caf\u00e9 \"q\" \\ \n\t \u2603 \U0001F600",
    }

def encode(schema, datum):
    buf = io.BytesIO()
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(buf))
    return buf.getvalue()

def decode(schema, b):
    return avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(b)))

# The JSON evt shows for a python3-avro decoded value (unions unwrapped, logical types
# rendered, bytes/fixed in base64).
def natural(v, field):
    name = field
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, datetime.datetime):
        us = name == "tsu"
        return v.astimezone(utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[: None if us else -3] + "Z"
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    if isinstance(v, dict):
        return {k: natural(x, k if name is None else name) for k, x in v.items()}
    if isinstance(v, list):
        return [natural(x, name) for x in v]
    return v

def frame(schema_id, payload):
    return b"\x00" + struct.pack(">i", schema_id) + payload

s1 = avro.schema.parse(json.dumps(V1))
s2 = avro.schema.parse(json.dumps(V2))
events, expected, unframed = [], [], []
def add(value, key=None, want=None):
    off = len(events)
    r = {"topic": "orders", "partition": 0, "offset": off, "timestamp": 1700000000000 + off, "headers": []}
    if key is None: r["key"] = f"k{off}"
    else: r["key_base64"] = base64.b64encode(key).decode()
    r["value_base64"] = base64.b64encode(value).decode()
    events.append(json.dumps(r))
    expected.append(json.dumps({"offset": off, "value": want}))

for i in range(12):
    b = encode(s1, event(i))
    back = decode(s1, b)
    want = {k: natural(v, k) for k, v in back.items()}
    add(frame(1, b), want=want)
    unframed.append(json.dumps({"topic": "plain", "partition": 0, "offset": i, "value_base64": base64.b64encode(b).decode()}))
# Written with v2 (has region): readable by v1 and v3 readers, and by v2.
v2ev = dict(event(20), region="us")
b2 = encode(s2, v2ev)
add(frame(2, b2), want={k: natural(v, k) for k, v in decode(s2, b2).items()})
# A JSON Schema value (framed; the JSON itself), spread over lines.
add(frame(10, b'{"name":\n "json-1"}'), want={"name": "json-1"})
# An Avro key.
kschema = avro.schema.parse('"string"')
add(frame(1, encode(s1, event(3))), key=frame(3, encode(kschema, "key-3")),
    want={k: natural(v, k) for k, v in decode(s1, encode(s1, event(3))).items()})
# Bad values: unknown id, truncated, not framed (with --decode avro), trailing bytes.
bad_start = len(events)
add(frame(99, encode(s1, event(1))))
add(frame(1, encode(s1, event(1))[:-3]))
add(b"plain text, no framing")
add(frame(1, encode(s1, event(1)) + b"\x00"))

open(out + "/events.jsonl", "w").write("\n".join(events) + "\n")
open(out + "/expected.jsonl", "w").write("\n".join(expected) + "\n")
open(out + "/unframed.jsonl", "w").write("\n".join(unframed) + "\n")
open(out + "/bad_start", "w").write(str(bad_start))

import os
os.makedirs(out + "/schemas", exist_ok=True)
for sid, sc in [(1, V1), (2, V2), (3, "string")]:
    open(f"{out}/schemas/{sid}.avsc", "w").write(json.dumps(sc, indent=1))
open(f"{out}/schemas/10.json", "w").write(json.dumps(JSON_SCHEMA))
open(f"{out}/v1.avsc", "w").write(json.dumps(V1))
open(f"{out}/v2.avsc", "w").write(json.dumps(V2))
open(f"{out}/v3.avsc", "w").write(json.dumps(V3))

# The registry's REST answers as static files (paths as the REST API's).
reg = out + "/registry"
subjects = {"orders-value": [(1, 1, V1), (2, 2, V2)], "orders-key": [(1, 3, "string")], "names-value": [(1, 10, JSON_SCHEMA)]}
for subj, versions in subjects.items():
    os.makedirs(f"{reg}/subjects/{subj}/versions", exist_ok=True)
    open(f"{reg}/subjects/{subj}/versions/index.html", "w").write(json.dumps([v for v, _, _ in versions]))
    for v, sid, sc in versions:
        typ = "JSON" if sid == 10 else None
        body = {"subject": subj, "version": v, "id": sid, "schema": json.dumps(sc)}
        if typ: body["schemaType"] = typ
        open(f"{reg}/subjects/{subj}/versions/{v}", "w").write(json.dumps(body))
        if v == versions[-1][0]:
            open(f"{reg}/subjects/{subj}/versions/latest", "w").write(json.dumps(body))
        os.makedirs(f"{reg}/schemas/ids", exist_ok=True)
        ans = {"schema": json.dumps(sc)}
        if typ: ans["schemaType"] = typ
        open(f"{reg}/schemas/ids/{sid}", "w").write(json.dumps(ans))
open(f"{reg}/subjects/index.html", "w").write(json.dumps(sorted(subjects)))

# The _schemas log: v1, v2, the key schema and the JSON schema; a schema registered and
# hard-deleted (tombstone) and one soft-deleted; NOOP and CONFIG records.
log = []
def logrec(key, value):
    r = {"topic": "_schemas", "partition": 0, "offset": len(log), "key": key, "value": value, "headers": []}
    log.append(json.dumps(r))
logrec({"keytype": "NOOP", "magic": 0}, None)
logrec({"keytype": "CONFIG", "subject": None, "magic": 0}, {"compatibilityLevel": "BACKWARD"})
for subj, versions in subjects.items():
    for v, sid, sc in versions:
        val = {"subject": subj, "version": v, "id": sid, "schema": json.dumps(sc), "deleted": False}
        if sid == 10: val["schemaType"] = "JSON"
        logrec({"keytype": "SCHEMA", "subject": subj, "version": v, "magic": 1}, val)
logrec({"keytype": "SCHEMA", "subject": "gone-value", "version": 1, "magic": 1},
       {"subject": "gone-value", "version": 1, "id": 50, "schema": '"int"', "deleted": False})
logrec({"keytype": "SCHEMA", "subject": "gone-value", "version": 1, "magic": 1}, None)
logrec({"keytype": "SCHEMA", "subject": "soft-value", "version": 1, "magic": 1},
       {"subject": "soft-value", "version": 1, "id": 51, "schema": '"long"', "deleted": True})
open(out + "/_schemas.jsonl", "w").write("\n".join(log) + "\n")
