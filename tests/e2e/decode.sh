# Kafka's internal topics decoded by cat, dump and inspect (--decode): a data directory built
# here with __consumer_offsets and __transaction_state records (bytes written by an
# independent encoder in Python, field by field from Kafka's schema files), tombstones,
# records evt does not know, and damaged ones.
source "$(dirname "$0")/lib.sh"
require_cmd jq
require_cmd python3
E=$EVT

python3 - "$TMP" <<'EOF'
import base64, json, struct, sys
tmp = sys.argv[1]
def s16(s): b = s.encode(); return struct.pack('>h', len(b)) + b
def rec(off, key, value, topic):
    r = {"topic": topic, "partition": 0, "offset": off, "timestamp": 1700000000000 + off,
         "key_base64": base64.b64encode(key).decode(), "headers": []}
    if value is None: r["value"] = None
    else: r["value_base64"] = base64.b64encode(value).decode()
    return json.dumps(r)
def commit_key(g, t, p, v=1): return struct.pack('>h', v) + s16(g) + s16(t) + struct.pack('>i', p)
def commit_v3(off, ts, epoch=0, meta=''): return struct.pack('>hqi', 3, off, epoch) + s16(meta) + struct.pack('>q', ts)
def commit_v1(off, ts, exp): return struct.pack('>hq', 1, off) + s16('') + struct.pack('>qq', ts, exp)
def sub_v0(topics): return struct.pack('>hi', 0, len(topics)) + b''.join(s16(t) for t in topics) + struct.pack('>i', -1)
def assign_v0(t, parts): return struct.pack('>hi', 0, 1) + s16(t) + struct.pack('>i', len(parts)) + b''.join(struct.pack('>i', p) for p in parts) + struct.pack('>i', -1)
def group_v3(gen, member):
    sub, asg = sub_v0(['orders']), assign_v0('orders', [0, 1])
    m = s16(member) + struct.pack('>h', -1) + s16('client-1') + s16('/10.0.0.9') + struct.pack('>ii', 300000, 45000) \
        + struct.pack('>i', len(sub)) + sub + struct.pack('>i', len(asg)) + asg
    return struct.pack('>h', 3) + s16('consumer') + struct.pack('>i', gen) + s16('range') + s16(member) \
        + struct.pack('>q', 1700000000500) + struct.pack('>i', 1) + m
lines = [
    rec(0, commit_key('billing', 'orders', 0), commit_v3(5, 1700000000100), '__consumer_offsets'),
    rec(1, commit_key('billing', 'orders', 1), commit_v3(3, 1700000000110), '__consumer_offsets'),
    rec(2, struct.pack('>h', 2) + s16('billing'), group_v3(4, 'm-1'), '__consumer_offsets'),
    rec(3, commit_key('billing', 'orders', 0), commit_v3(9, 1700000000200, 2, 'meta'), '__consumer_offsets'),
    rec(4, commit_key('billing', 'orders', 1), None, '__consumer_offsets'),  # tombstone
    rec(5, commit_key('audit', 'orders', 0, 0), commit_v1(12, 1600000000000, 1600086400000), '__consumer_offsets'),
    rec(6, struct.pack('>h', 7) + s16('x'), b'\x00\x01zz', '__consumer_offsets'),  # a record type evt does not know
    rec(7, commit_key('billing', 'orders', 2), struct.pack('>hq', 3, 1), '__consumer_offsets'),  # value cut short
    rec(8, struct.pack('>h', 2) + s16('billing'), None, '__consumer_offsets'),  # group deleted
]
open(tmp + '/offsets.jsonl', 'w').write('\n'.join(lines) + '\n')
open(tmp + '/copy.jsonl', 'w').write('\n'.join(l.replace('"__consumer_offsets"', '"offsets-copy"') for l in lines) + '\n')
def txn_v0(pid, state, parts, start):
    b = struct.pack('>qhib', pid, 1, 60000, state)
    if parts is None: b += struct.pack('>i', -1)
    else:
        b += struct.pack('>i', len(parts))
        for t, ps in parts: b += s16(t) + struct.pack('>i', len(ps)) + b''.join(struct.pack('>i', p) for p in ps)
    return struct.pack('>h', 0) + b + struct.pack('>qq', 1700000009000, start)
tx = [
    rec(0, struct.pack('>h', 0) + s16('payments-tx'), txn_v0(4001, 0, None, -1), '__transaction_state'),
    rec(1, struct.pack('>h', 0) + s16('payments-tx'), txn_v0(4001, 1, [('orders', [0, 2])], 1700000008000), '__transaction_state'),
]
open(tmp + '/txn.jsonl', 'w').write('\n'.join(tx) + '\n')
EOF
"$E" write "$TMP/data/__consumer_offsets-0" <"$TMP/offsets.jsonl"
"$E" write "$TMP/data/__transaction_state-0" <"$TMP/txn.jsonl"
"$E" write "$TMP/copy/offsets-copy-0" <"$TMP/copy.jsonl"
O="$TMP/data/__consumer_offsets-0"

# ---- cat decodes by topic name
"$E" cat "$O" >"$TMP/c.jsonl" 2>"$TMP/c.err" && pass || fail "cat exit $?"
expect_eq 9 "$(wc -l <"$TMP/c.jsonl")" "every record shown"
expect_eq '{"type":"offset_commit","version":1,"group":"billing","topic":"orders","partition":0}' \
  "$(jq -c 'select(.offset==3) | .key' "$TMP/c.jsonl")" "offset commit key"
expect_eq '{"version":3,"offset":9,"leader_epoch":2,"metadata":"meta","commit_timestamp":1700000000200}' \
  "$(jq -c 'select(.offset==3) | .value' "$TMP/c.jsonl")" "offset commit value v3"
expect_eq '{"version":1,"offset":12,"metadata":"","commit_timestamp":1600000000000,"expire_timestamp":1600086400000}' \
  "$(jq -c 'select(.offset==5) | .value' "$TMP/c.jsonl")" "offset commit value v1"
expect_eq 0 "$(jq -c 'select(.offset==5) | .key.version' "$TMP/c.jsonl")" "key version 0"
# Tombstones: the key decoded, the value null.
expect_eq 'offset_commit 1 null' "$(jq -r 'select(.offset==4) | "\(.key.type) \(.key.partition) \(.value)"' "$TMP/c.jsonl")" "commit tombstone"
expect_eq 'group_metadata billing null' "$(jq -r 'select(.offset==8) | "\(.key.type) \(.key.group) \(.value)"' "$TMP/c.jsonl")" "group tombstone"
# Group metadata with the consumer protocol decoded.
expect_eq '4 range m-1 /10.0.0.9 ["orders"] [{"topic":"orders","partitions":[0,1]}]' \
  "$(jq -r 'select(.offset==2) | .value | "\(.generation) \(.protocol) \(.leader) \(.members[0].client_host) \(.members[0].subscription.topics|tojson) \(.members[0].assignment.assigned_partitions|tojson)"' "$TMP/c.jsonl")" "group metadata"
# What evt does not know, or cannot decode: shown with its version and the stored bytes.
expect_eq '{"type":"unknown","version":7,"error":"unknown __consumer_offsets key version 7","base64":"AAcAAXg="}' \
  "$(jq -c 'select(.offset==6) | .key' "$TMP/c.jsonl")" "unknown key version"
expect_eq '{"version":1,"error":"the key was not decoded","base64":"AAF6eg=="}' \
  "$(jq -c 'select(.offset==6) | .value' "$TMP/c.jsonl")" "value of an unknown key"
expect_eq '{"version":3,"error":"truncated at byte 10 (leaderEpoch)","base64":"AAMAAAAAAAAAAQ=="}' \
  "$(jq -c 'select(.offset==7) | .value' "$TMP/c.jsonl")" "value cut short"
expect_contains "$TMP/c.err" "2 records of an internal topic could not be decoded"
expect_contains "$TMP/c.err" "__consumer_offsets/0@6: key: unknown __consumer_offsets key version 7"

# ---- --decode none shows the stored bytes; the copy under another name needs --decode offsets
expect_eq "$(jq -c '.key_base64 | @base64d' "$TMP/offsets.jsonl")" "$("$E" cat --decode none "$O" | jq -c '.key // (.key_base64 | @base64d)')" "--decode none"
expect_eq string "$("$E" cat "$TMP/copy/offsets-copy-0" -n 1 | jq -r '.key | type')" "auto leaves other topics alone"
"$E" cat --decode offsets "$TMP/copy/offsets-copy-0" 2>/dev/null | jq -c 'del(.topic)' >"$TMP/copy.dec"
jq -c 'del(.topic)' "$TMP/c.jsonl" >"$TMP/c.notopic"
if cmp -s "$TMP/copy.dec" "$TMP/c.notopic"; then pass; else fail "--decode offsets on a copy differs"; fi
expect_exit 2 "$E" cat --decode avro "$O"

# ---- decoded output read back as JSON Lines passes through unchanged
"$E" cat "$TMP/c.jsonl" >"$TMP/again.jsonl" 2>"$TMP/again.err"
if cmp -s "$TMP/c.jsonl" "$TMP/again.jsonl"; then pass; else fail "decoded JSON Lines read back changed"; fi

# ---- --where sees decoded keys and values; -f value and templates print the decoded JSON
expect_eq "0 3" "$("$E" cat "$O" --where '$key.group == "billing" and .offset > 4' 2>/dev/null | jq -r .offset | tr '\n' ' ' | sed 's/ $//')" "--where on decoded fields"
expect_eq '{"version":3,"offset":5,"leader_epoch":0,"metadata":"","commit_timestamp":1700000000100}' \
  "$("$E" cat "$O" -f value -n 1)" "-f value"
expect_eq 'billing/orders/0' "$("$E" cat "$O" -n 1 -f '%k\n' | jq -r '"\(.group)/\(.topic)/\(.partition)"')" "%k"

# ---- dump: decoded key and payload, stored sizes, <DELETE> for tombstones
"$E" dump "$O" >"$TMP/d.txt" 2>/dev/null
expect_contains "$TMP/d.txt" '| offset: 4 CreateTime: 1700000000004 keySize: 23 valueSize: -1 headerKeys: \[\] key: {"type":"offset_commit","version":1,"group":"billing","topic":"orders","partition":1} payload: <DELETE>'
expect_contains "$TMP/d.txt" '| offset: 0 CreateTime: 1700000000000 keySize: 23 valueSize: 24 headerKeys: \[\] key: {"type":"offset_commit"'
expect_eq 9 "$("$E" dump --json "$O" 2>/dev/null | jq -c '.records[]' | jq -r '.key.type' | grep -c .)" "dump --json decodes"
expect_eq 2 "$("$E" dump --json "$O" --where '$key.type == "group_metadata"' 2>/dev/null | jq -c '.records[]' | wc -l)" "dump --where on decoded keys"
"$E" dump --decode none "$O" >"$TMP/dn.txt" 2>/dev/null
expect_contains "$TMP/dn.txt" 'payload: null'

# ---- inspect counts records by type
"$E" inspect --json "$TMP/data" >"$TMP/i.json" 2>/dev/null
expect_eq '{"offset_commits":5,"group_metadata":2,"transactions":2,"tombstones":2,"not_decoded":2,"groups":["audit","billing"],"transactional_ids":["payments-tx"]}' \
  "$(jq -c .total.decoded "$TMP/i.json")" "inspect totals"
expect_eq '["__consumer_offsets",5,2]' "$(jq -c '.partitions[0] | [.topic, .decoded.offset_commits, .decoded.not_decoded]' "$TMP/i.json")" "inspect per partition"
"$E" inspect --table "$TMP/data" >"$TMP/i.txt" 2>/dev/null
expect_contains "$TMP/i.txt" "decoded: offset commits 5  group metadata 2  transactions 2  tombstones 2  not decoded 2"
expect_contains "$TMP/i.txt" "groups (2): audit, billing"
expect_eq null "$("$E" inspect --json --decode none "$TMP/data" | jq -c .total.decoded)" "inspect --decode none"

# ---- __transaction_state: states named, partitions listed
"$E" cat "$TMP/data/__transaction_state-0" >"$TMP/t.jsonl"
expect_eq '{"type":"transaction","version":0,"transactional_id":"payments-tx"}' "$(jq -c 'select(.offset==1) | .key' "$TMP/t.jsonl")" "transaction key"
expect_eq '{"version":0,"producer_id":4001,"producer_epoch":1,"transaction_timeout_ms":60000,"state":"Ongoing","partitions":[{"topic":"orders","partition_ids":[0,2]}],"last_update_timestamp":1700000009000,"start_timestamp":1700000008000}' \
  "$(jq -c 'select(.offset==1) | .value' "$TMP/t.jsonl")" "transaction value"
expect_eq 'Empty null' "$(jq -r 'select(.offset==0) | "\(.value.state) \(.value.partitions)"' "$TMP/t.jsonl")" "empty transaction"
expect_eq 'Ongoing' "$("$E" cat --decode transactions "$TMP/data/__transaction_state-0" -n 2 | jq -r '.value.state' | tail -1)" "--decode transactions"
finish
