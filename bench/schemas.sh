#!/usr/bin/env bash
# evt cat of Avro values (Confluent-framed, decoded with --schemas) vs evt cat of the same
# events stored as JSON, --where on each, and evt write --encode avro of the decoded JSON Lines vs
# evt write of the JSON copy: ratios measured in the same run.
# Usage: bench/schemas.sh [records, default 1000000] [runs, default 3]
# The events are `evt gen`'s CloudEvents-like shape; the Avro copy is encoded here (a
# record with a nested data record, time as timestamp-millis, id as uuid).
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
N=${1:-1000000}
RUNS=${2:-3}
OUT=${BENCH_DIR:-bench/out}/schemas
M="python3 bench/measure.py"
mkdir -p "$OUT"
if [ ! -s "$OUT/n" ] || [ "$(cat "$OUT/n")" != "$N" ]; then
  rm -rf "$OUT/json" "$OUT/avro" "$OUT/schemas"
  echo "generating $N events" >&2
  "$EVT" gen --count "$N" --value-size 0 --keys 100000 -o "$OUT/json/events-0" 2>/dev/null
  mkdir -p "$OUT/schemas"
  "$EVT" cat "$OUT/json/events-0" | /usr/bin/python3 -c '
import base64, json, struct, sys
from datetime import datetime
schema = {"type": "record", "name": "CloudEvent", "namespace": "bench", "fields": [
  {"name": "specversion", "type": "string"}, {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
  {"name": "source", "type": "string"}, {"name": "type", "type": "string"},
  {"name": "time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "subject", "type": ["null", "string"]}, {"name": "datacontenttype", "type": "string"},
  {"name": "data", "type": {"type": "record", "name": "Order", "fields": [
    {"name": "customer", "type": "string"}, {"name": "amount", "type": "long"}, {"name": "currency", "type": "string"},
    {"name": "seq", "type": "long"}, {"name": "payload", "type": "string"}]}}]}
open(sys.argv[1] + "/1.avsc", "w").write(json.dumps(schema))
def zz(v):
    u = (v << 1) ^ (v >> 63); o = bytearray()
    while u >= 0x80: o.append((u & 0x7f) | 0x80); u >>= 7
    o.append(u); return bytes(o)
def s(x): b = x.encode(); return zz(len(b)) + b
def ms(t): return int(datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000 + 0.5)
out = sys.stdout
for line in sys.stdin:
    r = json.loads(line); v = r["value"]; d = v["data"]
    b = (b"\0" + struct.pack(">i", 1) + s(v["specversion"]) + s(v["id"]) + s(v["source"]) + s(v["type"]) + zz(ms(v["time"]))
         + (zz(1) + s(v["subject"]) if v.get("subject") is not None else zz(0)) + s(v["datacontenttype"])
         + s(d["customer"]) + zz(d["amount"]) + s(d["currency"]) + zz(d["seq"]) + s(d["payload"]))
    del r["value"]; r["value_base64"] = base64.b64encode(b).decode()
    out.write(json.dumps(r) + "\n")
' "$OUT/schemas" | "$EVT" write "$OUT/avro/events-0" 2>/dev/null
  echo "$N" >"$OUT/n"
fi
# The same records either way (spot check).
a=$("$EVT" cat "$OUT/avro/events-0" --schemas "$OUT/schemas" -n 1 -f value | jq -c '.data.amount')
j=$("$EVT" cat "$OUT/json/events-0" -n 1 -f value | jq -c '.data.amount')
[ "$a" = "$j" ] || echo "MISMATCH: avro $a json $j" >&2
W='.data.amount > 9000 and .type == "order.shipped"'
read -r t_json _ < <($M "$RUNS" "$EVT cat $OUT/json/events-0 >/dev/null")
read -r t_avro rss_avro < <($M "$RUNS" "$EVT cat $OUT/avro/events-0 --decode avro --schemas $OUT/schemas >/dev/null")
read -r tw_json _ < <($M "$RUNS" "$EVT cat $OUT/json/events-0 -w '$W' >/dev/null")
read -r tw_avro _ < <($M "$RUNS" "$EVT cat $OUT/avro/events-0 --decode avro --schemas $OUT/schemas -w '$W' >/dev/null")
# evt write --encode avro of the decoded JSON Lines vs evt write of the JSON copy's envelopes.
[ -s "$OUT/decoded.jsonl" ] || "$EVT" cat "$OUT/avro/events-0" --decode avro --schemas "$OUT/schemas" >"$OUT/decoded.jsonl"
[ -s "$OUT/json.jsonl" ] || "$EVT" cat "$OUT/json/events-0" >"$OUT/json.jsonl"
read -r te_json _ < <($M "$RUNS" "rm -rf $OUT/w; $EVT write $OUT/w/events-0 --in $OUT/json.jsonl 2>/dev/null")
read -r te_avro _ < <($M "$RUNS" "rm -rf $OUT/w; $EVT write --encode avro --schemas $OUT/schemas $OUT/w/events-0 --in $OUT/decoded.jsonl 2>/dev/null")
rm -rf "$OUT/w"
python3 - "$N" "$t_json" "$t_avro" "$tw_json" "$tw_avro" "$rss_avro" "$te_json" "$te_avro" <<'PY'
import sys
n, tj, ta, twj, twa, rss, tej, tea = sys.argv[1:]
n, tj, ta, twj, twa, tej, tea = int(n), float(tj), float(ta), float(twj), float(twa), float(tej), float(tea)
print(f"records: {n}")
print(f"cat:     json {n/tj/1e3:7.0f} k rec/s   avro --decode avro {n/ta/1e3:7.0f} k rec/s   avro/json {tj/ta:4.2f}x  (target >= 0.5x)  peak RSS {int(rss)/1024:.0f} MiB")
print(f"--where: json {n/twj/1e3:7.0f} k rec/s   avro --decode avro {n/twa/1e3:7.0f} k rec/s   avro/json {twj/twa:4.2f}x  (target >= 0.5x)")
print(f"write:   json {n/tej/1e3:7.0f} k rec/s   --encode avro      {n/tea/1e3:7.0f} k rec/s   avro/json {tej/tea:4.2f}x  (no target)")
PY
