#!/usr/bin/env bash
# evt filter vs a plain simdjson On-Demand filter of the same predicate (bench/simdjson_filter.cc:
# iterate_many, mmap'd input, matching lines written unchanged), vs jq 1.6, and vs a bare
# simdjson iterate_many count, on `evt gen` events (CloudEvents-like).
# Usage: bench/filter.sh [MiB, default 1024] [runs, default 3]
# The target is CPU time (user + sys): evt filter <= 1.25x the reference filter's. Wall-clock
# ratios are printed too but swing with the load on the other core. jq is timed on a 100 MB
# sample and scaled to the full size (it runs at ~50 MB/s).
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
COUNT_BIN=${COUNT_BIN:-build/bench/simdjson_count}
REF_BIN=${REF_BIN:-build/bench/simdjson_filter}
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
while IFS='|' read -r name ref expr; do
  # Interleaved runs (reference, evt, reference, ...) so both see the same load.
  ref_cpu=(); evt_cpu=(); ref_wall=(); evt_wall=(); rss_evt=0
  for _ in $(seq "$RUNS"); do
    read -r w _ c < <($M --cpu 1 "$REF_BIN $ref $F >/dev/null"); ref_wall+=("$w"); ref_cpu+=("$c")
    read -r w r c < <($M --cpu 1 "$EVT filter '$expr' $F >/dev/null"); evt_wall+=("$w"); evt_cpu+=("$c")
    [ "$r" -gt "$rss_evt" ] && rss_evt=$r
  done
  read -r t_jq _ < <($M 1 "jq -c 'select($expr)' $S >/dev/null")
  n_evt=$("$EVT" filter -c "$expr" "$S")
  n_jq=$(jq -c "select($expr)" "$S" | wc -l)
  n_ref=$("$REF_BIN" "$ref" "$S" | wc -l)
  [ "$n_evt" = "$n_jq" ] || echo "MISMATCH on the sample: evt $n_evt, jq $n_jq" >&2
  [ "$n_evt" = "$n_ref" ] || echo "MISMATCH on the sample: evt $n_evt, reference filter $n_ref" >&2
  python3 - "$name" "$t_jq" "$t_count" "$fbytes" "$sbytes" "$rss_evt" "${ref_cpu[*]}" "${evt_cpu[*]}" \
    "${ref_wall[*]}" "${evt_wall[*]}" <<'PY'
import statistics, sys
name, tj, tc, fb, sb, rss = sys.argv[1:7]
med = lambda s: statistics.median(float(x) for x in s.split())
rc, ec, rw, ew = (med(x) for x in sys.argv[7:11])
tj, tc, fb, sb = float(tj), float(tc), int(fb), int(sb)
jq_full = tj * fb / sb
print(f"{name:<28} CPU evt {ec:5.2f} s / reference {rc:5.2f} s = {ec/rc:4.2f}x (target <= 1.25)  "
      f"wall evt {ew:5.2f} s / reference {rw:5.2f} s = {ew/rw:4.2f}x  evt {fb/ew/1e6:5.0f} MB/s  "
      f"evt/jq {jq_full/ew:5.1f}x  evt vs simdjson count {tc/ew:4.2f}  peak RSS {int(rss)/1024:.0f} MiB")
PY
done <<'EXPRS'
string equality + nested number|paid|.type == "order.paid" and .data.amount > 500
regex test()|regex|.subject | test("^key-1[0-9]*7$")
missing field|missing|.nothing.here == 1
EXPRS
