#!/usr/bin/env bash
# The layers, as the build enforces them (CMakeLists.txt runs this before compiling),
# lowest first; each includes only what is below it:
#   lib/base      the vocabulary: Status, records, the Source/Sink interfaces, files, time
#   formats/      codecs (bytes <-> records): formats/ and lib/base
#   lib/log       Kafka's log on disk; lib/kafka topics through librdkafka; lib/filter the
#                 --where language: each of them, lib/base and formats/, not one another
#   lib/pipeline  sources, sinks, selection, checkpoints: all of the above
#   lib/jobs      the commands' work: all of lib/ and formats/
#   lib/          never cmd/
# Prints each include that crosses a layer and exits 1 if there is one.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
bad=0
check() {  # check DIR ALLOWED_REGEX WHAT
  local dir=$1 allowed=$2 what=$3 line
  [ -d "$dir" ] || return 0
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    echo "layer violation: $line ($what)" >&2
    bad=1
  done < <(grep -rnE '^#include "[^"]+"' "$dir" --include='*.h' --include='*.cc' | grep -vE "#include \"($allowed)" || true)
}
check lib/base 'lib/base/' 'lib/base includes only lib/base'
check formats 'formats/|lib/base/' 'formats/ includes only formats/ and lib/base'
check lib/log 'lib/log/|lib/base/|formats/' 'lib/log includes only lib/log, lib/base and formats/'
check lib/kafka 'lib/kafka/|lib/base/|formats/' 'lib/kafka includes only lib/kafka, lib/base and formats/'
check lib/filter 'lib/filter/|lib/base/|formats/' 'lib/filter includes only lib/filter, lib/base and formats/'
check lib/pipeline 'lib/(pipeline|log|kafka|filter|base)/|formats/' 'lib/pipeline includes no job above it'
check lib 'lib/|formats/' 'lib/ never includes cmd/'
# Every lib/ file lives in a layer folder.
for f in lib/*.h lib/*.cc; do
  [ -e "$f" ] || continue
  echo "layer violation: $f is outside the layer folders (base, log, kafka, filter, pipeline, jobs)" >&2
  bad=1
done
exit $bad
