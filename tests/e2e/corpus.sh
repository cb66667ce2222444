# Real broker-written segments (../shared/corpus): decode, verify and index rebuilds.
source "$(dirname "$0")/lib.sh"
CORPUS=${EVT_CORPUS_DIR:-}
if [ -z "$CORPUS" ] || [ ! -d "$CORPUS/real" ]; then
  echo "SKIP: corpus not found at '${CORPUS}' (expected ../shared/corpus beside the project)"
  exit 77
fi
require_cmd jq

# 1. Every segment decodes to exactly the expected records (compared as parsed JSON). The
# expected files hold the stored bytes, so internal topics are read with --decode none
# (their decoded form is checked by offsets_corpus.sh).
while IFS= read -r exp; do
  rel=${exp#"$CORPUS/expected/"}
  log="$CORPUS/real/${rel%.jsonl}.log"
  [ -f "$log" ] || { fail "no segment for $rel"; continue; }
  if ! "$EVT" cat --decode none "$log" >"$TMP/got.jsonl" 2>"$TMP/err"; then
    fail "evt cat $rel failed: $(head -2 "$TMP/err")"; continue
  fi
  if diff <(jq -cS . "$exp") <(jq -cS . "$TMP/got.jsonl") >"$TMP/diff"; then pass; else
    fail "records differ for $rel"; head -6 "$TMP/diff" >&2
  fi
  # Batch-level fields agree with the expected listing.
  bexp="${exp%.jsonl}.batches.jsonl"
  if [ -f "$bexp" ]; then
    "$EVT" dump --json --batches-only "$log" | jq -c 'del(.file, .uncompressed_bytes, .record_count, .crc)' >"$TMP/b.got"
    jq -c 'del(.record_count, .crc)' "$bexp" >"$TMP/b.exp"
    if diff "$TMP/b.exp" "$TMP/b.got" >"$TMP/diff"; then pass; else fail "batches differ for $rel"; head -4 "$TMP/diff" >&2; fi
  fi
done < <(find "$CORPUS/expected" -name '*.jsonl' ! -name '*.batches.jsonl' ! -name '*.index.jsonl' ! -name '*.timeindex.jsonl' | sort)

# 2. verify passes on the whole corpus (exit 0).
expect_exit 0 "$EVT" verify "$CORPUS/real"

# 3. Indexes rebuilt for segments that have real (trimmed) index files are byte-identical.
while IFS= read -r idx; do
  dir=$(dirname "$idx")
  stem=$(basename "$idx" .index)
  rm -rf "$TMP/rb" && mkdir -p "$TMP/rb" && cp -r "$dir" "$TMP/rb/"
  part="$TMP/rb/$(basename "$dir")"
  rm -f "$part/$stem.index" "$part/$stem.timeindex"
  expect_exit 0 "$EVT" verify --repair "$part"
  if cmp -s "$idx" "$part/$stem.index" && cmp -s "$dir/$stem.timeindex" "$part/$stem.timeindex"; then pass; else
    fail "rebuilt index differs for $dir/$stem"
  fi
done < <(find "$CORPUS/real" -name '*.index' | sort)

# 4. cat | write | cat round trip on every corpus partition (records identical, offsets kept);
# decoded internal topics are for reading, not for writing back: --decode none.
while IFS= read -r d; do
  name=$(basename "$d")
  rm -rf "$TMP/rt" && mkdir -p "$TMP/rt"
  "$EVT" cat --decode none "$d" >"$TMP/a.jsonl"
  "$EVT" write --keep-offsets "$TMP/rt/$name" <"$TMP/a.jsonl" 2>"$TMP/err" || { fail "write $name: $(head -1 "$TMP/err")"; continue; }
  "$EVT" cat --decode none "$TMP/rt/$name" >"$TMP/b.jsonl"
  if cmp -s "$TMP/a.jsonl" "$TMP/b.jsonl"; then pass; else fail "round trip differs for $d"; fi
done < <(find "$CORPUS/real" -name '*.log' -exec dirname {} \; | sort -u)
finish
