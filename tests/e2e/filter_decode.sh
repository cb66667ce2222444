# evt filter --decode: lines are envelopes (evt cat's output, values in Confluent's framing
# written by python3-avro) whose values the expression sees decoded; the selected lines are
# printed unchanged; the same records as `evt cat --decode --where` selects, with any number
# of threads; values that do not decode are evaluated as stored and counted; --strict.
source "$(dirname "$0")/lib.sh"
require_cmd jq
require "python3-avro" /usr/bin/python3 -c "import avro.io"
E=$EVT
PY=/usr/bin/python3

"$PY" "$(dirname "$0")/schemas/gen.py" "$TMP"
"$E" write "$TMP/data/orders-0" <"$TMP/events.jsonl"
BAD=$(cat "$TMP/bad_start")
"$E" cat "$TMP/data/orders-0" >"$TMP/raw.jsonl"   # stored bytes: values in base64
N=$(wc -l <"$TMP/raw.jsonl")

# ---- the expression sees decoded values; the selected lines are the stored ones
"$E" cat "$TMP/data/orders-0" --schemas "$TMP/schemas" -w '.color == "BLUE"' -f '%o\n' 2>/dev/null >"$TMP/want"
[ -s "$TMP/want" ] && pass || fail "the fixture has BLUE records"
for j in 1 3; do
  expect_exit 0 "$E" filter --schemas "$TMP/schemas" -j $j '.value.color == "BLUE"' "$TMP/raw.jsonl"
  expect_eq "$(tr '\n' ' ' <"$TMP/want")" "$(jq -r .offset "$TMP/out" | tr '\n' ' ')" "filter --decode -j $j: the records cat --decode --where selects"
  grep -Fxf "$TMP/out" "$TMP/raw.jsonl" | cmp -s - "$TMP/out" && pass || fail "the selected lines are printed unchanged (-j $j)"
done
expect_exit 0 "$E" filter '.value.color == "BLUE"' "$TMP/raw.jsonl"
expect_eq "0" "$(wc -l <"$TMP/out" | tr -d ' ')" "without --decode/--schemas the value is base64: nothing matches"
# Piped, counted, inverted, limited; the decoded fields beside the value.
expect_eq "$(wc -l <"$TMP/want" | tr -d ' ')" "$("$E" filter --schemas "$TMP/schemas" -c '.value.color == "BLUE"' <"$TMP/raw.jsonl" 2>/dev/null)" "--count from stdin"
# (the unframed value at BAD + 2 is a string: .value.color is an error there, selected by neither)
expect_eq "$((N - $(wc -l <"$TMP/want") - 1))" "$("$E" filter --schemas "$TMP/schemas" -c -v '.value.color == "BLUE"' "$TMP/raw.jsonl" 2>/dev/null)" "--invert"
expect_eq "1" "$("$E" filter --schemas "$TMP/schemas" -n 1 '.value.color == "BLUE"' "$TMP/raw.jsonl" 2>/dev/null | wc -l | tr -d ' ')" "--limit"
expect_eq "1" "$("$E" filter --schemas "$TMP/schemas" -c '.schema_id == 10 and .value_format == "json"' "$TMP/raw.jsonl" 2>/dev/null)" "schema_id and value_format"
# The lines printed decode again to what cat shows.
"$E" filter --schemas "$TMP/schemas" '.value.color == "BLUE"' "$TMP/raw.jsonl" 2>/dev/null | "$E" cat - --schemas "$TMP/schemas" -f '%o\n' >"$TMP/again" 2>/dev/null
cmp -s "$TMP/want" "$TMP/again" && pass || fail "evt filter --decode | evt cat - --decode"

# ---- values that do not decode: evaluated as stored, counted; --strict stops with exit 1
expect_exit 0 "$E" filter --schemas "$TMP/schemas" '.decode_error != null' "$TMP/raw.jsonl"
expect_eq "$((N - BAD - 1))" "$(wc -l <"$TMP/out" | tr -d ' ')" "the records that do not decode carry decode_error (not the unframed one)"
expect_contains "$TMP/err" "could not be decoded and were evaluated as stored"
expect_exit 1 "$E" filter --schemas "$TMP/schemas" --strict 'true' "$TMP/raw.jsonl"
expect_eq "$BAD" "$(wc -l <"$TMP/out" | tr -d ' ')" "--strict: the lines before the first undecodable record"
expect_contains "$TMP/err" "raw.jsonl:$((BAD + 1)): orders/0@$BAD"

# ---- lines that are not envelopes
printf '{"topic":"orders","partition":0,"offset":1,"value":"x"}\n[1,2]\nnot json\n' >"$TMP/mixed.jsonl"
expect_exit 0 "$E" filter --decode auto --schemas "$TMP/schemas" 'true' "$TMP/mixed.jsonl"
expect_eq "1" "$(wc -l <"$TMP/out" | tr -d ' ')" "only envelopes are evaluated"
expect_contains "$TMP/err" "2 lines were not an envelope (--decode)"
expect_exit 1 "$E" filter --decode auto --schemas "$TMP/schemas" --strict 'true' "$TMP/mixed.jsonl"
expect_contains "$TMP/err" "mixed.jsonl:2: not an envelope"

# ---- usage
expect_exit 2 "$E" filter --decode avro 'true' "$TMP/raw.jsonl"
expect_contains "$TMP/err" "needs --schemas"

finish
