# Golden files for every output format: deterministic input (evt gen with a fixed seed and
# start time, plus hand-made records covering null keys, binary values, LogAppendTime and
# header edge cases), compared byte for byte with tests/golden/.
# To accept new output after an intended change: EVT_UPDATE_GOLDEN=1 ctest -R e2e.golden
source "$(dirname "$0")/lib.sh"
E=$EVT
G="${EVT_SOURCE_DIR:?}/tests/golden"
D="$TMP/events-0"
"$E" gen --count 20 --keys 5 --seed 42 --start 2024-01-01T00:00:00Z --value-size 120 >"$TMP/gen.jsonl"
{
  cat "$TMP/gen.jsonl"
  printf '%s\n' \
    '{"topic":"events","partition":0,"offset":20,"timestamp":1704067300000,"key":null,"value":null,"headers":[]}' \
    '{"topic":"events","partition":0,"offset":21,"timestamp":1704067301000,"timestamp_type":"LogAppendTime","key":"k","value_base64":"AP8Q","headers":[{"key":"n","value":null},{"key":"b","value_base64":"/w=="},{"key":"ce_type","value":"x.y"}]}' \
    '{"topic":"events","partition":0,"offset":22,"timestamp":1704067302000,"key":{"id":1},"value":"line\nbreak \"q\" \u0001 é","headers":[{"key":"content-type","value":"text/plain"}]}'
} >"$TMP/all.jsonl"
"$E" write --keep-offsets --compression none --batch-records 8 "$D" <"$TMP/all.jsonl"

norm() { sed "s#$TMP#TMP#g"; }
check() {  # check NAME CMD...
  local name=$1; shift
  "$@" 2>&1 | norm >"$TMP/got.$name" || true
  if [ "${EVT_UPDATE_GOLDEN:-0}" = 1 ]; then
    cp "$TMP/got.$name" "$G/$name"; pass
  elif cmp -s "$G/$name" "$TMP/got.$name"; then
    pass
  else
    fail "golden $name differs"; diff "$G/$name" "$TMP/got.$name" | head -8 >&2
  fi
}
check cat.envelope.jsonl "$E" cat "$D"
check cat.value.txt "$E" cat -f value "$D"
check cat.cloudevents.jsonl "$E" cat -f cloudevents "$D"
check cat.template.txt "$E" cat -f '%t %p %o %T %k %K %S %h\n' "$D"
check dump.txt "$E" dump "$D"
check dump.json "$E" dump --json "$D"
check inspect.json "$E" inspect --json "$D"
check inspect.table.txt "$E" inspect --table "$D"
check verify.json "$E" verify --json "$D"
check gen.jsonl cat "$TMP/gen.jsonl"
# The envelope is also the input format: writing it back and reading it is the identity.
cmp -s "$TMP/all.jsonl" <("$E" cat "$D") && pass || fail "envelope round trip differs from the input"
finish
