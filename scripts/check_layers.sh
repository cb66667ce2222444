#!/usr/bin/env bash
# The layers, as the build enforces them (CMakeLists.txt runs this before compiling):
#   lib/base   includes only lib/base
#   formats/   includes only formats/ and lib/base
#   lib/       includes lib/ and formats/, never cmd/
#   lib/kafka  does not include the pipeline above it (lib/read.h, lib/replay.h, ...)
# Prints each include that crosses a layer and exits 1 if there is one.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
bad=0
check() {  # check DIR ALLOWED_REGEX WHAT
  local dir=$1 allowed=$2 what=$3 line
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    echo "layer violation: $line ($what)" >&2
    bad=1
  done < <(grep -rnE '^#include "[^"]+"' "$dir" --include='*.h' --include='*.cc' | grep -vE "#include \"($allowed)" || true)
}
check lib/base 'lib/base/' 'lib/base includes only lib/base'
check formats 'formats/|lib/base/' 'formats/ includes only formats/ and lib/base'
check lib 'lib/|formats/' 'lib/ never includes cmd/'
check lib/kafka 'lib/kafka/|lib/base/|lib/source\.h|lib/bound\.h|formats/' 'lib/kafka includes no pipeline stage above it'
exit $bad
