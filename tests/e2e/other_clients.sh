# Segments written by an independent encoder (Debian's python3-kafka record builders: v2
# batches with every codec, xerial-framed snappy, legacy magic 0/1 message sets) decode to
# the records that were put in.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
require python3-kafka $PY -c 'import kafka.record'
require_cmd jq
$PY - "$TMP" <<'PYEOF'
import json, os, sys
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.legacy_records import LegacyRecordBatchBuilder
out = sys.argv[1]
codecs = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
try:
    import zstandard  # noqa
except ImportError:
    codecs.pop("zstd")
def records(n, base_ts):
    for i in range(n):
        key = None if i % 4 == 0 else ("key-%d" % i).encode()
        if i % 5 == 0:
            value = None
        elif i % 3 == 0:
            value = json.dumps({"i": i, "s": "x" * (i % 50)}, separators=(",", ":")).encode()
        else:
            value = ("value %d " % i + "y" * i).encode()
        headers = [("trace", ("t%d" % i).encode()), ("empty", b""), ("nul", None)] if i % 2 else []
        yield i, base_ts + i, key, value, headers
def env(topic, off, ts, key, value, headers, with_headers=True):
    d = {"topic": topic, "partition": 0, "offset": off, "timestamp": ts,
         "key": None if key is None else key.decode(),
         "value": None if value is None else (json.loads(value) if value.startswith(b"{") else value.decode()),
         "headers": [{"key": k, "value": None if v is None else v.decode()} for k, v in headers] if with_headers else []}
    return json.dumps(d)
for name, c in codecs.items():
    for magic in (0, 1, 2):
        if magic < 2 and name == "zstd":
            continue  # zstd needs magic 2 (KIP-110)
        topic = "py-m%d-%s" % (magic, name)
        d = os.path.join(out, topic + "-0")
        os.makedirs(d)
        exp = []
        blob = b""
        off = 0
        for batch in range(3):
            if magic == 2:
                b = DefaultRecordBatchBuilder(2, c, False, -1, -1, -1, 1 << 20)
            else:
                b = LegacyRecordBatchBuilder(magic, c, 1 << 20)
            recs = list(records(40, 1700000000000 + batch * 1000))
            for i, ts, k, v, h in recs:
                if magic == 2:
                    b.append(i, ts, k, v, h)
                else:
                    b.append(i, ts if magic == 1 else None, k, v)
            data = bytes(b.build())
            # Builders number offsets from 0 within a batch; set the base offset in the log.
            if magic == 2:
                data = off.to_bytes(8, "big") + data[8:]
                for i, ts, k, v, h in recs:
                    exp.append(env(topic, off + i, ts, k, v, h))
            else:
                # Legacy: uncompressed messages carry absolute offsets; a compressed wrapper
                # carries the last inner offset (inner offsets are relative for magic 1).
                pos, fixed = 0, b""
                while pos < len(data):
                    size = int.from_bytes(data[pos + 8:pos + 12], "big")
                    m = bytearray(data[pos:pos + 12 + size])
                    inner = int.from_bytes(m[0:8], "big", signed=True)
                    # python writes wrappers with offset 0; a broker stores the last inner offset
                    m[0:8] = (off + (len(recs) - 1 if c else inner)).to_bytes(8, "big")
                    fixed += bytes(m)
                    pos += 12 + size
                data = fixed
                for i, ts, k, v, h in recs:
                    exp.append(env(topic, off + i, ts if magic == 1 else -1, k, v, h, with_headers=False))
            blob += data
            off += len(recs)
        if magic == 0 and c != 0:
            # Inner offsets of magic 0 wrappers are absolute; python writes them from 0 in every
            # batch, so only the first batch is a valid log.
            first_size = int.from_bytes(blob[8:12], "big") + 12
            blob = blob[:first_size]
            exp = exp[:40]
        with open(os.path.join(d, "00000000000000000000.log"), "wb") as f:
            f.write(blob)
        with open(os.path.join(out, topic + ".expected.jsonl"), "w") as f:
            f.write("\n".join(exp) + "\n")
PYEOF
for exp in "$TMP"/*.expected.jsonl; do
  topic=$(basename "$exp" .expected.jsonl)
  if ! "$EVT" cat "$TMP/$topic-0" >"$TMP/got" 2>"$TMP/err"; then fail "$topic: $(head -1 "$TMP/err")"; continue; fi
  if diff <(jq -cS . "$exp") <(jq -cS . "$TMP/got") >"$TMP/diff"; then pass; else fail "$topic decodes differently"; head -4 "$TMP/diff" >&2; fi
  expect_exit 0 "$EVT" verify "$TMP/$topic-0"
done
finish
