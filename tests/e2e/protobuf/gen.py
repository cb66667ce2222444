# Test records for tests/e2e/protobuf.sh: Protobuf messages encoded by python3-protobuf
# (classes from `protoc --python_out`, an independent encoder), framed with Confluent's
# 5-byte header and the message indexes in both encodings in use (zigzag varints as Java
# writes them, with 0x00 for [0]; plain unsigned varints as older Python clients did). The
# expected JSON is python's own json_format.MessageToJson of the same message. Usage:
#   gen.py DIR    (DIR/proto/*.proto must exist; protoc has written DIR/py/*_pb2.py)
# Writes into DIR:
#   schemas/1.proto, schemas/common.proto   a schema directory (an import beside the schema)
#   events.jsonl     envelopes (value_base64) of framed values
#   expected.jsonl   {"offset","value"} for each value that must decode
#   unframed.jsonl   Order messages without any framing (--schema FILE --message TYPE)
#   registry/        the registry's REST answers as static files (python3 -m http.server)
#   _schemas.jsonl   the registry's own log: common (id 2) and shop (id 1, with a reference)
#   bad_start        the offset of the first bad value
import base64, json, os, struct, sys

out = sys.argv[1]
sys.path.insert(0, out + "/py")
import shop_pb2, common_pb2  # noqa: E402
from google.protobuf import json_format  # noqa: E402

def zigzag_varints(path):
    if path == [0]:
        return b"\x00"
    b = bytearray()
    for v in [len(path)] + path:
        u = (v << 1) ^ (v >> 63)
        while u >= 0x80:
            b.append((u & 0x7F) | 0x80)
            u >>= 7
        b.append(u)
    return bytes(b)

def unsigned_varints(path):
    b = bytearray()
    for u in [len(path)] + path:
        while u >= 0x80:
            b.append((u & 0x7F) | 0x80)
            u >>= 7
        b.append(u)
    return bytes(b)

def index_path(desc):
    # Confluent's message indexes: the position of each enclosing type among its
    # parent's nested types (or the file's top-level messages), outermost first.
    path = []
    while desc.containing_type is not None:
        path.insert(0, list(desc.containing_type.nested_types).index(desc))
        desc = desc.containing_type
    path.insert(0, list(desc.file.message_types_by_name.values()).index(desc))
    return path

def frame(sid, msg, encoding):
    idx = (zigzag_varints if encoding == "zigzag" else unsigned_varints)(index_path(msg.DESCRIPTOR))
    return b"\x00" + struct.pack(">I", sid) + idx + msg.SerializeToString()

def order(i):
    o = shop_pb2.Order()
    o.id = f"o-{i}"
    o.i32 = -i * 7
    o.i64 = -(1 << 40) - i
    o.u32 = 4000000000 + i
    o.u64 = (1 << 64) - 1 - i
    o.s32 = -123 - i
    o.s64 = -(1 << 62) + i
    o.f32 = 3000000000 + i
    o.f64 = (1 << 63) + i
    o.sf32 = -5 - i
    o.sf64 = -(1 << 50) - i
    o.fl = 1.1 + i
    o.db = i / 3.0
    o.ok = i % 2 == 0
    o.raw = bytes(range(i % 5, i % 5 + 6)) + b"\x00\xff"
    o.text = "caf\u00e9 \"q\" \\ \n\t \u2603 \U0001F600"
    o.status = [shop_pb2.PAID, shop_pb2.SHIPPED, shop_pb2.UNKNOWN][i % 3]
    o.tags.extend([f"t{j}" for j in range(i % 4)])
    o.nums.extend([j * 1000000007 for j in range(i % 3)])
    for j in range(i % 3):
        o.attrs[f"k{j}"] = j * 10
        o.by_id[j + 100].units = j
    l = o.lines.add()
    l.sku = f"sku-{i}"
    l.qty = i
    l.level = shop_pb2.Order.Line.HIGH
    if i % 2:
        o.card = f"card-{i}"
    else:
        o.cash.units = 12 + i
        o.cash.currency = "EUR"
    o.at.seconds = 1700000000 + i * 86400
    o.at.nanos = [0, 5000000, 123456000, 1][i % 4]
    o.took.seconds = i
    o.took.nanos = 500000000
    o.maybe.value = i * 1000
    o.name.value = f"n{i}"
    return o

def other(i):
    m = shop_pb2.Other()
    m.name = f"other-{i}"
    m.money.units = i
    return m

def line(i):
    l = shop_pb2.Order.Line()
    l.sku = f"line-{i}"
    l.qty = i + 1
    return l

assert index_path(shop_pb2.Order.DESCRIPTOR) == [0]
assert index_path(shop_pb2.Other.DESCRIPTOR) == [1]
assert index_path(shop_pb2.Order.Line.DESCRIPTOR) == [0, 1], index_path(shop_pb2.Order.Line.DESCRIPTOR)

events, expected, unframed, notes = [], [], [], []
def add(value, msg=None, key=None, note=""):
    off = len(events)
    r = {"topic": "orders", "partition": 0, "offset": off, "timestamp": 1700000000000 + off, "headers": []}
    if key is None:
        r["key"] = f"k{off}"
    else:
        r["key_base64"] = base64.b64encode(key).decode()
    r["value_base64"] = base64.b64encode(value).decode()
    events.append(json.dumps(r))
    if msg is not None:
        expected.append(json.dumps({"offset": off, "value": json.loads(json_format.MessageToJson(msg))}))
    notes.append(f"{off} {note}")

for i in range(8):
    enc = "zigzag" if i % 2 == 0 else "unsigned"
    add(frame(1, order(i), enc), order(i), note=f"order {enc}")
    unframed.append(json.dumps({"topic": "plain", "partition": 0, "offset": i,
                                "value_base64": base64.b64encode(order(i).SerializeToString()).decode()}))
for i, enc in enumerate(["zigzag", "unsigned"]):
    add(frame(1, other(i), enc), other(i), note=f"other [1] {enc}")
    add(frame(1, line(i), enc), line(i), note=f"line [0,1] {enc}")
# An empty message (every field at its default): {}
add(frame(1, shop_pb2.Order(), "zigzag"), shop_pb2.Order(), note="empty order")
# A Protobuf key (Other, zigzag [1]) with an Order value.
add(frame(1, order(3), "zigzag"), order(3), key=frame(1, other(9), "zigzag"), note="protobuf key")
key_offset = len(events) - 1
# A message of the referenced file itself (schema id 2).
m = common_pb2.Money(units=-5, currency="USD")
add(frame(2, m, "zigzag"), m, note="common.Money, id 2")
bad_start = len(events)
good = frame(1, order(1), "zigzag")
add(good[:-4], note="truncated")
add(b"\x00\x00\x00\x00\x01" + b"\x00\xff\xff\xff\xff", note="garbage after [0]")
add(b"\x00\x00\x00\x00\x01" + zigzag_varints([7]) + b"\x0a\x01x", note="index [7]: no such message")
add(b"\x00\x00\x00\x00\x01", note="empty payload")

open(out + "/events.jsonl", "w").write("\n".join(events) + "\n")
open(out + "/expected.jsonl", "w").write("\n".join(expected) + "\n")
# A value that is not a message (a truncated varint).
unframed.append(json.dumps({"topic": "plain", "partition": 0, "offset": 8,
                            "value_base64": base64.b64encode(b"\x08\xff\xff").decode()}))
open(out + "/unframed.jsonl", "w").write("\n".join(unframed) + "\n")
open(out + "/unframed_expected.jsonl", "w").write(
    "\n".join(json.dumps(json.loads(json_format.MessageToJson(order(i)))) for i in range(8)) + "\n")
open(out + "/bad_start", "w").write(str(bad_start))
open(out + "/key_offset", "w").write(str(key_offset))
open(out + "/notes", "w").write("\n".join(notes) + "\n")

shop = open(out + "/proto/shop.proto").read()
common = open(out + "/proto/common.proto").read()
os.makedirs(out + "/schemas", exist_ok=True)
open(out + "/schemas/1.proto", "w").write(shop)
open(out + "/schemas/2.proto", "w").write(common)
open(out + "/schemas/common.proto", "w").write(common)

# The registry's REST answers (paths as the REST API's); shop references common.
reg = out + "/registry"
ref = [{"name": "common.proto", "subject": "common-value", "version": 1}]
os.makedirs(reg + "/schemas/ids", exist_ok=True)
open(reg + "/schemas/ids/1", "w").write(json.dumps({"schema": shop, "schemaType": "PROTOBUF", "references": ref}))
open(reg + "/schemas/ids/2", "w").write(json.dumps({"schema": common, "schemaType": "PROTOBUF"}))
for subj, sid, text, refs in [("orders-value", 1, shop, ref), ("common-value", 2, common, [])]:
    os.makedirs(f"{reg}/subjects/{subj}/versions", exist_ok=True)
    body = {"subject": subj, "version": 1, "id": sid, "schema": text, "schemaType": "PROTOBUF", "references": refs}
    for v in ["1", "latest"]:
        open(f"{reg}/subjects/{subj}/versions/{v}", "w").write(json.dumps(body))
    open(f"{reg}/subjects/{subj}/versions/index.html", "w").write("[1]")
open(reg + "/subjects/index.html", "w").write(json.dumps(["common-value", "orders-value"]))

# The _schemas log.
log = []
def logrec(key, value):
    log.append(json.dumps({"topic": "_schemas", "partition": 0, "offset": len(log), "key": key, "value": value,
                           "headers": []}))
logrec({"keytype": "NOOP", "magic": 0}, None)
logrec({"keytype": "SCHEMA", "subject": "common-value", "version": 1, "magic": 1},
       {"subject": "common-value", "version": 1, "id": 2, "schemaType": "PROTOBUF", "schema": common, "deleted": False})
logrec({"keytype": "SCHEMA", "subject": "orders-value", "version": 1, "magic": 1},
       {"subject": "orders-value", "version": 1, "id": 1, "schemaType": "PROTOBUF", "schema": shop,
        "references": ref, "deleted": False})
open(out + "/_schemas.jsonl", "w").write("\n".join(log) + "\n")
