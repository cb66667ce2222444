# __consumer_offsets partitions written by real brokers (../shared/corpus: Kafka 2.8, 3.4, 3.7
# and older ZooKeeper-mode brokers) decode completely, and decode to the values read by hand
# from their bytes (xxd of the segments; the positions are in the comments).
source "$(dirname "$0")/lib.sh"
CORPUS=${EVT_CORPUS_DIR:-}
if [ -z "$CORPUS" ] || [ ! -d "$CORPUS/real" ]; then
  echo "SKIP: corpus not found at '${CORPUS}' (expected ../shared/corpus beside the project)"
  exit 77
fi
require_cmd jq
E=$EVT
R=$CORPUS/real

# 1. Every record of every __consumer_offsets partition decodes: the same records as the
# stored form, each key and value a JSON object (or a null tombstone), no fallback.
total=0
while IFS= read -r d; do
  rel=${d#"$R/"}
  "$E" cat --decode none "$d" >"$TMP/raw.jsonl"
  if ! "$E" cat "$d" >"$TMP/dec.jsonl" 2>"$TMP/err"; then fail "cat $rel: $(head -2 "$TMP/err")"; continue; fi
  [ -s "$TMP/err" ] && fail "cat $rel said: $(head -2 "$TMP/err")"
  n=$(wc -l <"$TMP/raw.jsonl")
  expect_eq "$n" "$(wc -l <"$TMP/dec.jsonl")" "$rel: records"
  expect_eq "$(jq -c '[.offset, .timestamp, (.value == null and (has("value_base64") | not))]' "$TMP/raw.jsonl")" \
    "$(jq -c '[.offset, .timestamp, (.value == null)]' "$TMP/dec.jsonl")" "$rel: offsets, timestamps, tombstones"
  bad=$(jq -c 'select((.key | type) != "object" or .key.type == "unknown" or .key.error != null
                      or (.value != null and ((.value | type) != "object" or .value.error != null)))' "$TMP/dec.jsonl" | wc -l)
  expect_eq 0 "$bad" "$rel: records not decoded"
  # Every member's subscription and assignment decoded as the consumer protocol.
  expect_eq 0 "$(jq -c '.value.members[]? | select(.subscription == null or .assignment == null)' "$TMP/dec.jsonl" | wc -l)" \
    "$rel: consumer protocol"
  echo "decoded $n records of $rel ($(jq -r '.key.type' "$TMP/dec.jsonl" | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//'))"
  total=$((total + n))
  # dump decodes the same records (text and JSON).
  expect_eq "$n" "$("$E" dump --json "$d" | jq -c '.records[]' | jq -r '.key.type' | grep -c '^[og]')" "$rel: dump --json"
done < <(find "$R" -maxdepth 3 -type d -name '__consumer_offsets-*' | sort)
expect_eq 1599 "$total" "records in all __consumer_offsets partitions of the corpus"

# 2. Values read by hand.
# ldi-poc (Kafka 3.7), __consumer_offsets-6, batch at position 13621, record at 13682:
#   key   00 01 | 00 0b "DEVSmileCDR" | 00 10 "TestTopicPatient" | 00 00 00 00
#   value 00 03 | 00 00 00 00 00 00 00 03 | ff ff ff ff | 00 00 | 00 00 01 9c 0f ea e4 c0
"$E" cat "$R/ldi-poc/__consumer_offsets-6" --from 12 -n 1 >"$TMP/l.jsonl"
expect_eq '{"type":"offset_commit","version":1,"group":"DEVSmileCDR","topic":"TestTopicPatient","partition":0}' \
  "$(jq -c .key "$TMP/l.jsonl")" "ldi-poc offset 12 key"
expect_eq '{"version":3,"offset":3,"leader_epoch":-1,"metadata":"","commit_timestamp":1769793578176}' \
  "$(jq -c .value "$TMP/l.jsonl")" "ldi-poc offset 12 value"
# kafkafun (ZooKeeper mode), __consumer_offsets-39, the batch at 107879 (offsets 1237-1239):
#   three commits of group "third" for topic "first": partitions 2, 1, 0 at offsets 7, 11, 7,
#   leader epoch 0, commit timestamp 00 00 01 74 7a 3d 58 59.
expect_eq '["third","first",2,7,0,1599778674777] ["third","first",1,11,0,1599778674777] ["third","first",0,7,0,1599778674777]' \
  "$("$E" cat "$R/kafkafun/__consumer_offsets-39" --from 1237 -n 3 |
     jq -c '[.key.group, .key.topic, .key.partition, .value.offset, .value.leader_epoch, .value.commit_timestamp]' |
     tr '\n' ' ' | sed 's/ $//')" "kafkafun __consumer_offsets-39 last commits"
# kafkafun __consumer_offsets-13, offset 222 (position 20673): key 00 02 | 00 16
# "console-consumer-24394", value length -1: the group's tombstone.
expect_eq '{"type":"group_metadata","version":2,"group":"console-consumer-24394"} null' \
  "$("$E" cat "$R/kafkafun/__consumer_offsets-13" --from 222 | jq -c '.key, .value' | tr '\n' ' ' | sed 's/ $//')" \
  "kafkafun tombstone"
"$E" dump "$R/kafkafun/__consumer_offsets-13" >"$TMP/d13.txt"
expect_contains "$TMP/d13.txt" '| offset: 222 CreateTime: 1599809475303 keySize: 26 valueSize: -1 headerKeys: \[\] key: {"type":"group_metadata","version":2,"group":"console-consumer-24394"} payload: <DELETE>'
# kafkafun __consumer_offsets-0, offset 0: GroupMetadataValue v3 (00 03 | 00 08 "consumer" |
# 00 00 00 01 | 00 05 "range" ...), one member whose assignment is 00 01 | 00 00 00 01 |
# 00 05 "first" | 00 00 00 03 | 0 1 2 | ff ff ff ff.
expect_eq 'console-consumer-51959 1 range /127.0.0.1 ["first"] [{"topic":"first","partitions":[0,1,2]}]' \
  "$("$E" cat "$R/kafkafun/__consumer_offsets-0" -n 1 |
     jq -r '"\(.key.group) \(.value.generation) \(.value.protocol) \(.value.members[0].client_host) \(.value.members[0].subscription.topics|tojson) \(.value.members[0].assignment.assigned_partitions|tojson)"')" \
  "kafkafun group metadata"

# 3. --where on decoded fields agrees with jq over the decoded output.
"$E" cat "$R/kafkafun" >"$TMP/all.jsonl"
expect_eq "$(jq -c 'select(.topic == "__consumer_offsets" and .key.group == "third" and .value.offset == 7)' "$TMP/all.jsonl" | wc -l)" \
  "$("$E" cat "$R/kafkafun" --where '$topic == "__consumer_offsets" and $key.group == "third" and .offset == 7' | wc -l)" \
  "--where on decoded fields"

# 4. inspect counts them (kafkafun: 1521 offset commits, 29 group records, 3 tombstones).
"$E" inspect --json "$R/kafkafun" >"$TMP/i.json"
expect_eq '{"offset_commits":1521,"group_metadata":29,"transactions":0,"tombstones":3,"not_decoded":0}' \
  "$(jq -c '.total.decoded | del(.groups, .transactional_ids)' "$TMP/i.json")" "inspect kafkafun"
expect_eq "$(jq -r 'select(.topic == "__consumer_offsets") | .key.group' "$TMP/all.jsonl" | sort -u | jq -Rsc 'split("\n") | map(select(. != ""))')" \
  "$(jq -c '.total.decoded.groups' "$TMP/i.json")" "inspect kafkafun groups"
finish
