# Docs stay true: every subcommand and flag that `evt <cmd> --help` shows appears in its man
# page, in evt(1), and in all three completion scripts; `evt completion SHELL` prints the
# scripts kept in completions/; scripts parse; man pages render without warnings.
source "$(dirname "$0")/lib.sh"
SRC=${EVT_SOURCE_DIR:?}
E=$EVT

subcommands() { "$E" --help | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1}'; }
# Flags of one subcommand from its --help (long and short forms), without -h/--help.
flags_of() {
  "$E" "$1" --help | awk '/^Options:/{on=1; next} on && /^  -/{print $1}' | tr ',' '\n' |
    grep -vxE -- '-h|--help' | sort -u
}
# check MAN BASH ZSH FISH: prints one line per missing item.
check() {
  local man_dir=$1 bash_f=$2 zsh_f=$3 fish_f=$4 c fl
  for c in $(subcommands); do
    [ -f "$man_dir/evt-$c.1" ] || { echo "no man page man/evt-$c.1"; continue; }
    grep -q "evt\\\\-$c" "$man_dir/evt.1" || echo "evt.1 does not mention $c"
    grep -qw -- "$c" "$bash_f" || echo "bash completion lacks $c"
    grep -qE "^ *'$c:" "$zsh_f" || echo "zsh completion lacks $c"
    grep -qE -- "-a $c " "$fish_f" || echo "fish completion lacks $c"
    for fl in $(flags_of "$c"); do
      local man_form=${fl//-/\\\\-}
      grep -qE -- "(^|[^a-zA-Z0-9-])${man_form}([^a-zA-Z0-9-]|\$)" "$man_dir/evt-$c.1" || echo "man/evt-$c.1 lacks $fl"
      grep -qE -- "(^|[ \"])${fl}([ \"]|\$)" "$bash_f" || echo "bash completion lacks $c $fl"
      if [[ $fl == --* ]]; then
        grep -qE -- "(^|[^a-zA-Z0-9-])${fl}\[" "$zsh_f" || grep -qE -- "\{[^}]*${fl}\}" "$zsh_f" || echo "zsh completion lacks $c $fl"
        grep -qE -- "-l ${fl#--}( |\$)" "$fish_f" || echo "fish completion lacks $c $fl"
      else
        grep -qE -- "\{${fl},|'\*?${fl}\[" "$zsh_f" || echo "zsh completion lacks $c $fl"
        grep -qE -- "-s ${fl#-}( |\$)" "$fish_f" || echo "fish completion lacks $c $fl"
      fi
    done
  done
}

# 1. The real docs are complete.
check "$SRC/man" "$SRC/completions/evt.bash" "$SRC/completions/_evt" "$SRC/completions/evt.fish" >"$TMP/missing"
if [ -s "$TMP/missing" ]; then fail "docs are missing items:"; sed 's/^/  /' "$TMP/missing" >&2; else pass; fi
[ "$(subcommands | wc -l)" -ge 8 ] && pass || fail "could not read the subcommand list from evt --help"

# 2. The checker catches omissions (run it on damaged copies).
cp -r "$SRC/man" "$TMP/man"; cp "$SRC/completions/"* "$TMP/"
sed -i 's/keep\\-offsets/kept/g' "$TMP/man/evt-write.1"
check "$TMP/man" "$SRC/completions/evt.bash" "$SRC/completions/_evt" "$SRC/completions/evt.fish" | grep -q "evt-write.1 lacks --keep-offsets" && pass || fail "checker misses a flag absent from a man page"
sed -i 's/--batches-only//' "$TMP/evt.bash"
check "$SRC/man" "$TMP/evt.bash" "$SRC/completions/_evt" "$SRC/completions/evt.fish" | grep -q "bash completion lacks dump --batches-only" && pass || fail "checker misses a flag absent from bash"
sed -i "s/'--no-index\[/'--no-idx[/" "$TMP/_evt"
check "$SRC/man" "$SRC/completions/evt.bash" "$TMP/_evt" "$SRC/completions/evt.fish" | grep -q "zsh completion lacks verify --no-index" && pass || fail "checker misses a flag absent from zsh"
sed -i 's/-s j -l threads/-l threads/' "$TMP/evt.fish"
check "$SRC/man" "$SRC/completions/evt.bash" "$SRC/completions/_evt" "$TMP/evt.fish" | grep -q "fish completion lacks filter -j" && pass || fail "checker misses a short flag absent from fish"
rm "$TMP/man/evt-gen.1"
check "$TMP/man" "$SRC/completions/evt.bash" "$SRC/completions/_evt" "$SRC/completions/evt.fish" | grep -q "no man page man/evt-gen.1" && pass || fail "checker misses a missing man page"

# 3. `evt completion` prints exactly the files.
cmp -s <("$E" completion bash) "$SRC/completions/evt.bash" && pass || fail "evt completion bash differs from completions/evt.bash"
cmp -s <("$E" completion zsh) "$SRC/completions/_evt" && pass || fail "evt completion zsh differs from completions/_evt"
cmp -s <("$E" completion fish) "$SRC/completions/evt.fish" && pass || fail "evt completion fish differs from completions/evt.fish"
expect_exit 2 "$E" completion tcsh

# 4. Scripts parse; bash completes for real.
bash -n "$SRC/completions/evt.bash" && pass || fail "bash completion has a syntax error"
if command -v zsh >/dev/null; then zsh -n "$SRC/completions/_evt" && pass || fail "zsh completion has a syntax error"; fi
if command -v fish >/dev/null; then
  fish -n "$SRC/completions/evt.fish" && pass || fail "fish completion has a syntax error"
else  # without fish: at least every line's quotes must close (a stray ' breaks the whole file)
  python3 -c 'import shlex, sys
bad = []
for n, l in enumerate(open(sys.argv[1]), 1):
    try:
        shlex.split(l, comments=True)
    except ValueError:
        bad.append(n)
sys.exit("unbalanced quotes on lines %s" % bad if bad else 0)' "$SRC/completions/evt.fish" && pass || fail "fish completion: unbalanced quotes"
fi
complete_words() {  # complete_words WORD...: COMPREPLY for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
           _init_completion() { return 1; }; unset -f _init_completion; _evt; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$SRC/completions/evt.bash" "$@"
}
complete_words evt fi | grep -qx filter && pass || fail "bash does not complete 'evt fi' to filter"
complete_words evt write --compression z | grep -qx zstd && pass || fail "bash does not complete --compression values"
complete_words evt cat --inc | grep -qx -- --include-control && pass || fail "bash does not complete cat flags"
complete_words evt completion "" | grep -qx fish && pass || fail "bash does not complete completion shells"

# 5. Man pages render without warnings.
if have_cmd groff; then
  for m in "$SRC"/man/*.1; do
    w=$(groff -man -ww -z "$m" 2>&1)
    [ -z "$w" ] && pass || fail "$(basename "$m") renders with warnings: $w"
  done
fi
finish
