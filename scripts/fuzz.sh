#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cc, clang, ASan+UBSan) in build-fuzz and
# runs each from its seed corpus (tests/fuzz/corpus/<target>), FUZZ_JOBS (default 2)
# targets at a time. New inputs go to the run's corpus directory (below), never into the
# checked-in seeds; a crash, leak or hang leaves its input in build-fuzz/artifacts/
# and fails the run (exit 1), naming the target and the reproducer.
# A CI run must be reproducible, or a submission fails on whatever a random exploration
# happens to reach that day. So every target runs a fixed number of inputs (its budget in
# RUNS below, about half of what a quiet 2-core machine runs in 60 s) from a fixed seed
# (FUZZ_SEED, default 1) into a fresh corpus directory: the same code gives the same inputs
# on any machine, however loaded, and FUZZ_SECONDS (default 60) only caps a slow machine,
# where the run is then a prefix of the full one. To check what CI will see, run
#   FUZZ_SECONDS=900 scripts/fuzz.sh             # every budget runs to its end
# Exploring (new inputs, not for CI): FUZZ_RUNS=0 (no budget), FUZZ_SEED=0 (random seed),
# FUZZ_CORPUS=DIR keeps what it finds (default: a fresh directory under build-fuzz/run).
#   FUZZ_RUNS=0 FUZZ_SEED=0 FUZZ_SECONDS=600 FUZZ_CORPUS=build-fuzz/corpus scripts/fuzz.sh filter_parse_fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
SEED=${FUZZ_SEED:-1}
# Inputs per target (FUZZ_RUNS overrides them all; 0 = none, the time cap alone).
declare -A RUNS=([avro_schema_fuzz]=1000000 [avro_fuzz]=300000 [avro_encode_fuzz]=200000 [checkpoint_fuzz]=150000 [batch_fuzz]=600000
  [config_fuzz]=150000 [codec_fuzz]=300000 [envelope_fuzz]=800000 [filter_eval_fuzz]=400000
  [filter_parse_fuzz]=400000 [index_fuzz]=20000 [internal_fuzz]=400000 [template_fuzz]=350000
  [time_fuzz]=1000000 [ledger_fuzz]=20000 [rules_fuzz]=150000 [jsonschema_fuzz]=30000 [protobuf_fuzz]=200000)
DEFAULT_RUNS=200000
JOBS=${FUZZ_JOBS:-2}
B=build-fuzz
if ! command -v clang++ >/dev/null; then echo "fuzz: clang++ is not installed (scripts/deps.sh installs it)" >&2; exit 2; fi
cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DEVT_FUZZ=ON \
  -DEVT_TESTS=OFF >/dev/null
if [ $# -gt 0 ]; then targets=("$@"); else
  targets=(); for f in tests/fuzz/*_fuzz.cc; do n=$(basename "$f" .cc); targets+=("$n"); done
fi
ninja -C "$B" -j"${BUILD_JOBS:-2}" "${targets[@]}"
mkdir -p "$B/artifacts" "$B/logs"
CORPUS=${FUZZ_CORPUS:-$B/run/$(date +%s)-$$}
run_one() {
  local t=$1
  local runs=${FUZZ_RUNS:-${RUNS[$t]:-$DEFAULT_RUNS}}
  [ "$runs" = 0 ] && runs=-1
  mkdir -p "$CORPUS/$t"
  local seeds=tests/fuzz/corpus/$t
  [ -d "$seeds" ] || seeds=
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb bounds memory (bombs).
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$B/$t" -runs="$runs" -max_total_time="$SECONDS_EACH" -seed="$SEED" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" "$CORPUS/$t" $seeds >"$B/logs/$t.log" 2>&1; then
    echo "fuzz: $t: ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$B/logs/$t.log" | grep -o '[0-9]*$')" \
         "of $([ "$runs" = -1 ] && echo "unbounded" || echo "$runs") runs," \
         "$(grep -o 'cov: [0-9]*' "$B/logs/$t.log" | tail -1))"
  else
    echo "fuzz: $t: FAILED (log $B/logs/$t.log; reproducer: $(ls -t "$B/artifacts/$t-"* 2>/dev/null | head -1))" >&2
    tail -40 "$B/logs/$t.log" >&2
    return 1
  fi
}
fail=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$JOBS" ]; then wait "${pids[0]}" || fail=1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
exit $fail
