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
finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
