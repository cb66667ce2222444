#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cc, clang, ASan+UBSan) in build-fuzz and
# runs each for FUZZ_SECONDS (default 60) from its seed corpus (tests/fuzz/corpus/<target>),
# FUZZ_JOBS (default 2) targets at a time. New inputs go to build-fuzz/corpus/<target>, never
# into the checked-in seeds; a crash, leak or hang leaves its input in build-fuzz/artifacts/
# and fails the run (exit 1), naming the target and the reproducer.
# Runs use a fixed seed (FUZZ_SEED, default 1), so a run is the same sequence of inputs for
# the same code and seeds: CI explores a prefix of what a longer local run with a fresh
# build-fuzz/corpus explored, and a green local run predicts a green CI run. FUZZ_SEED=0
# lets libFuzzer pick (for exploring, not for CI).
#   scripts/fuzz.sh                    # every target, 60 s each (CI)
#   FUZZ_SECONDS=600 scripts/fuzz.sh codec_fuzz index_fuzz
#   FUZZ_SEED=0 FUZZ_SECONDS=600 scripts/fuzz.sh filter_parse_fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
SEED=${FUZZ_SEED:-1}
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
run_one() {
  local t=$1
  mkdir -p "$B/corpus/$t"
  local seeds=tests/fuzz/corpus/$t
  [ -d "$seeds" ] || seeds=
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb bounds memory (bombs).
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$B/$t" -max_total_time="$SECONDS_EACH" -seed="$SEED" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$B/artifacts/$t-" "$B/corpus/$t" $seeds >"$B/logs/$t.log" 2>&1; then
    echo "fuzz: $t: ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$B/logs/$t.log" | grep -o '[0-9]*$') runs," \
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
