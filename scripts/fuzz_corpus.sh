#!/usr/bin/env bash
# Regenerates the fuzz targets' seed corpus, tests/fuzz/corpus/<target>/, from the tests'
# own builders (tests/fuzz/make_corpus.cc, built as build/tests/fuzz_corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
ninja -C "${BUILD:-build}" fuzz_corpus
"${BUILD:-build}/tests/fuzz_corpus" tests/fuzz/corpus
find tests/fuzz/corpus -type f | wc -l | xargs echo "fuzz corpus: files:"
