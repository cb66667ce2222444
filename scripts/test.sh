#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds (release and ASan+UBSan), runs ctest,
# then every libFuzzer target for 60 s (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
JOBS=${JOBS:-2}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j"$JOBS"
(cd build && ctest --output-on-failure -j"$JOBS")
if [ "${EVT_SKIP_SANITIZE:-0}" != 1 ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEVT_SANITIZE=ON >/dev/null
  ninja -C build-asan -j"$JOBS"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j"$JOBS")
fi
# Every fuzz target for 60 s from its seed corpus, two at a time (about 6 minutes plus the
# clang build): a regression in a decoder shows up in the next run.
if [ "${EVT_SKIP_FUZZ:-0}" != 1 ]; then
  bash scripts/fuzz.sh
fi
