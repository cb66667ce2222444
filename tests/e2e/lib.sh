# Shared helpers for end-to-end tests (sourced, not run).
set -euo pipefail
: "${EVT:?EVT must point at the built evt binary}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/evt-e2e-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILS=0
PASSES=0
pass() { PASSES=$((PASSES + 1)); }
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
# expect_exit CODE CMD...: runs CMD, checks its exit code.
expect_exit() {
  local want=$1; shift
  local got=0
  "$@" >"$TMP/out" 2>"$TMP/err" || got=$?
  if [ "$got" != "$want" ]; then
    fail "expected exit $want, got $got: $*"; sed 's/^/  stderr: /' "$TMP/err" | head -5 >&2
  else
    pass
  fi
}
# expect_eq WANT GOT WHAT
expect_eq() { if [ "$1" == "$2" ]; then pass; else fail "$3: want [$1] got [$2]"; fi; }
expect_contains() { if grep -q -- "$2" "$1"; then pass; else fail "$1 does not contain '$2'"; sed 's/^/  /' "$1" | head -5 >&2; fi; }
# Tools beyond evt that tests use; scripts/deps.sh installs every one of them. Without one,
# a developer's run skips what needs it. Under CI (CI=true in the environment, as CI systems
# set it) a skip would pass without having tested anything, so it fails instead.
in_ci() { case "${CI:-}" in "" | false | 0) return 1 ;; *) return 0 ;; esac; }
# require WHAT CMD...: the whole script needs WHAT, present when CMD succeeds. Without it:
# exit 77 (ctest's skip), or under CI exit 1 with a message saying why.
require() {
  local what=$1; shift
  "$@" >/dev/null 2>&1 && return 0
  if in_ci; then
    echo "FAIL: $what is not installed, and CI=$CI does not allow skipping this test (scripts/deps.sh installs it)" >&2
    exit 1
  fi
  echo "SKIP: $what not installed (scripts/deps.sh installs it)"
  exit 77
}
require_cmd() { require "$1" command -v "$1"; }
# have WHAT CMD...: for the part of a script that needs WHAT: true when CMD succeeds;
# otherwise false after a note, or under CI false after a failure (the script then fails).
#   if have_cmd kcat; then ...; fi
have() {
  local what=$1; shift
  "$@" >/dev/null 2>&1 && return 0
  if in_ci; then
    fail "$what is not installed, and CI=$CI does not allow skipping the checks that need it (scripts/deps.sh installs it)"
  else
    echo "note: $what not installed: the checks that need it are skipped (scripts/deps.sh installs it)" >&2
  fi
  return 1
}
have_cmd() { have "$1" command -v "$1"; }
finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
# serve_dir DIR: DIR's files over HTTP on 127.0.0.1 (a free port; a schema registry's
# answers laid out as files), by python's http.server: sets URL, and HTTP (its pid) for the
# script's EXIT trap.
serve_dir() {
  cat >"$TMP/serve.py" <<'PYEOF'
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
h = functools.partial(Quiet, directory=sys.argv[1])
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()
PYEOF
  rm -f "$TMP/port"
  /usr/bin/python3 "$TMP/serve.py" "$1" "$TMP/port" &
  HTTP=$!
  for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.1; done
  URL="http://127.0.0.1:$(cat "$TMP/port")"
}
# The sandbox (evt sandbox ARGS..., a mock Kafka cluster) for a script: start_sandbox sets B
# (its address) and SB (its pid); stop_sandbox ends it. Scripts that start one add
# stop_sandbox to their EXIT trap.
SB=
start_sandbox() {
  # The old address goes first: the new sandbox's shell truncates the file only once it has
  # forked, so a check in between saw the stopped sandbox's address, then read it empty.
  rm -f "$TMP/addr"
  "$EVT" sandbox "$@" >"$TMP/addr" 2>"$TMP/sb.err" &
  SB=$!
  for _ in $(seq 300); do [ -s "$TMP/addr" ] && break; sleep 0.1; done
  B=$(head -1 "$TMP/addr")
}
stop_sandbox() { if [ -n "$SB" ]; then kill -INT "$SB" 2>/dev/null || true; wait "$SB" 2>/dev/null || true; SB=; fi; }
# kafka_commit BROKERS GROUP TOPIC:PARTITION:OFFSET[:METADATA]...: kafka-python (a client
# other than librdkafka) commits the offsets for GROUP without joining it.
kafka_commit() {
  /usr/bin/python3 - "$@" <<'PYEOF'
import sys
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
brokers, group = sys.argv[1], sys.argv[2]
c = KafkaConsumer(bootstrap_servers=brokers, group_id=group, enable_auto_commit=False, api_version=(2, 0, 0))
offsets = {}
for spec in sys.argv[3:]:
    t, p, o, *m = spec.split(":", 3)
    offsets[TopicPartition(t, int(p))] = OffsetAndMetadata(int(o), m[0] if m else None)
c.commit(offsets)
c.close()
PYEOF
}
