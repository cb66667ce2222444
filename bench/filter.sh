#!/usr/bin/env bash
# evt filter vs jq 1.6 (and vs a plain simdjson iterate_many count) on `evt gen` events.
# Usage: bench/filter.sh [MiB, default 1024] [runs, default 3]
# jq is timed on a 100 MB sample and scaled to the full size (it runs at ~50 MB/s).
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
COUNT_BIN=${COUNT_BIN:-build/bench/simdjson_count}
MIB=${1:-1024}
RUNS=${2:-3}
OUT=${BENCH_DIR:-bench/out}
mkdir -p "$OUT"
M="python3 bench/measure.py"
F="$OUT/filter-events.jsonl"
S="$OUT/filter-sample.jsonl"
COUNT=$((MIB * 1024 * 1024 / 300))
if [ ! -s "$F" ] || [ "$(wc -l <"$F")" -ne "$COUNT" ]; then
  echo "generating ~${MIB} MiB: $COUNT events" >&2
  "$EVT" gen --count "$COUNT" --value-size 300 --keys 100000 -f value >"$F"
fi
head -c 100000000 "$F" | sed '$d' >"$S"
fbytes=$(stat -c %s "$F")
sbytes=$(stat -c %s "$S")
read -r t_count rss_count < <($M "$RUNS" "$COUNT_BIN $F >/dev/null")
echo "input: $((fbytes / 1048576)) MiB, $COUNT documents; simdjson iterate_many count: $(awk -v b="$fbytes" -v t="$t_count" 'BEGIN{printf "%.0f", b/t/1e6}') MB/s"
while IFS='|' read -r name expr; do
  read -r t_evt rss_evt < <($M "$RUNS" "$EVT filter '$expr' $F >/dev/null")
  read -r t_jq _ < <($M 1 "jq -c 'select($expr)' $S >/dev/null")
  n_evt=$("$EVT" filter -c "$expr" "$S")
  n_jq=$(jq -c "select($expr)" "$S" | wc -l)
  [ "$n_evt" = "$n_jq" ] || echo "MISMATCH on the sample: evt $n_evt, jq $n_jq" >&2
  python3 - "$name" "$t_evt" "$t_jq" "$t_count" "$fbytes" "$sbytes" "$rss_evt" <<'PY'
import sys
name, te, tj, tc, fb, sb, rss = sys.argv[1:]
te, tj, tc, fb, sb = float(te), float(tj), float(tc), int(fb), int(sb)
jq_full = tj * fb / sb
print(f"{name:<28} evt {fb/te/1e6:6.0f} MB/s  jq {sb/tj/1e6:4.0f} MB/s  evt/jq {jq_full/te:5.1f}x  "
      f"evt vs simdjson count {tc/te:4.2f}  peak RSS {int(rss)/1024:.0f} MiB")
PY
done <<'EXPRS'
string equality + nested number|.type == "order.paid" and .data.amount > 500
regex test()|.subject | test("^key-1[0-9]*7$")
missing field|.nothing.here == 1
EXPRS
