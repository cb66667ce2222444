# bash completion for evt.                       -*- shell-script -*-
# Install: evt completion bash > /etc/bash_completion.d/evt   (or: source <(evt completion bash))
# To add a subcommand: add it to `cmds`, give it a `case` entry with its flags below, and add
# value completion for flags that take fixed choices.

_evt() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null 2>&1; then
    _init_completion || return
  else
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi

  local cmds="cat write inspect schema verify dump filter gen replay backfill project lag offsets dlq compact retain sandbox completion"
  local read_flags="--from --until --where -w --strict --on-corruption --max-batch-bytes"
  local kafka_flags="--brokers -b -X --config --timeout"
  local cmd="" i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      -*) ;;
      *) cmd="${words[i]}"; break ;;
    esac
  done

  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "$cmds --help -h --version" -- "$cur"))
    return
  fi

  # Values of flags with fixed choices or files.
  case "$prev" in
    --compression) COMPREPLY=($(compgen -W "none gzip snappy lz4 zstd" -- "$cur")); return ;;
    --input) COMPREPLY=($(compgen -W "envelope lines values" -- "$cur")); return ;;
    --fsync) COMPREPLY=($(compgen -W "never batch end" -- "$cur")); return ;;
    --on-invalid) COMPREPLY=($(compgen -W "error skip dead-letter:" -- "$cur")); [[ ${COMPREPLY[0]} == *: ]] && compopt -o nospace 2>/dev/null; return ;;
    --keep-header|--drop-header) return ;;
    --merge) COMPREPLY=($(compgen -W "time none" -- "$cur")); return ;;
    --profile) COMPREPLY=($(compgen -W "auto connect spring streams evt custom" -- "$cur")); return ;;
    --by) COMPREPLY=($(compgen -W "topic partition class cause fingerprint stage connector group profile dlq_topic" -- "$cur")); return ;;
    --ledger) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --header-map|--fingerprint|--to|--max|--max-redrives|--commit-group|--message) return ;;
    --decode) COMPREPLY=($(compgen -W "auto avro protobuf json offsets transactions none" -- "$cur")); return ;;
    --decode-key) COMPREPLY=($(compgen -W "auto avro protobuf json none" -- "$cur")); return ;;
    --avro-json) COMPREPLY=($(compgen -W "natural spec" -- "$cur")); return ;;
    --encode) COMPREPLY=($(compgen -W "none auto avro json protobuf" -- "$cur")); return ;;
    --schema-id) return ;;
    --mode) COMPREPLY=($(compgen -W "backward forward full" -- "$cur")); return ;;
    --schema|--reader) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --schemas) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --reader-id) return ;;
    -f|--format)
      if [[ "$cmd" == lag ]]; then COMPREPLY=($(compgen -W "table json prometheus csv" -- "$cur"))
      elif [[ "$cmd" == offsets ]]; then COMPREPLY=($(compgen -W "table json csv" -- "$cur"))
      elif [[ "$cmd" == dlq && " ${words[*]} " == *" summary "* ]]; then COMPREPLY=($(compgen -W "auto table json" -- "$cur"))
      else COMPREPLY=($(compgen -W "envelope value cloudevents" -- "$cur")); fi
      return ;;
    --no-commit-as) COMPREPLY=($(compgen -W "earliest latest skip" -- "$cur")); return ;;
    --fail-on) COMPREPLY=($(compgen -W "warn stall stop rewind err warn,stall,stop,rewind,err" -- "$cur")); return ;;
    --history|--checkpoint|--from-file|--export) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --samples|--watch|--max-lag|--max-time-lag|--cluster-name|--to-offset|--shift-by|--to-datetime|--by-duration) return ;;
    --from|--until) COMPREPLY=($(compgen -W "beginning end" -- "$cur")); return ;;
    --isolation) COMPREPLY=($(compgen -W "read_committed read_uncommitted" -- "$cur")); return ;;
    --config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -X) COMPREPLY=($(compgen -W "list" -- "$cur")); return ;;
    -b|-t|-G|--group|--timeout|--fault|--max-age|--max-bytes|--before|--now) return ;;
    --stats-json) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -i|--in) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --load) return ;;
    -o|--output) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --where|-w|--key-field|--topic|--partition|--compression-level|--producers|--segment-bytes|--batch-records|\
    --batch-bytes|-n|--limit|-c|--count|--keys|--seed|--types|--value-size|--partitions|--start|--step|\
    -j|--threads|--brokers|--topics)
      [[ "$cmd" == filter && ( "$prev" == -c || "$prev" == --count ) ]] || return ;;
  esac

  local flags=""
  case "$cmd" in
    cat) flags="$read_flags $kafka_flags -t --isolation --follow --group -G --merge --include-control --format -f --limit -n --decode --decode-key --schemas --schema --message --avro-json" ;;
    write) flags="$kafka_flags --in -i --input --key-field --topic -t --partition --create-topic --producers --compression --compression-level --segment-bytes --batch-records --batch-bytes --keep-offsets --fsync --wait --keep-header --drop-header --on-invalid --on-corruption --encode --schema-id --schemas --schema --avro-json --message" ;;
    inspect) flags="$read_flags $kafka_flags -t --isolation --json --table --buckets --decode --decode-key --schemas --schema --message --avro-json" ;;
    schema)
      if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W "list show ids check compat" -- "$cur")); return; fi
      flags="--from --until --on-corruption $kafka_flags -t --isolation --schemas --json --reader --reader-id --mode" ;;
    verify) flags="--repair --wait --no-index --json" ;;
    dump) flags="$read_flags $kafka_flags -t --isolation --json --batches-only --decode --decode-key --schemas --schema --message --avro-json" ;;
    filter) flags="--count -c --invert -v --limit -n --strict --threads -j --decode --decode-key --schemas --schema --message --avro-json $kafka_flags" ;;
    gen) flags="--count -c --keys --seed --types --value-size --topic --partitions --start --step --output -o --format -f --compression --compression-level --segment-bytes --batch-records --batch-bytes" ;;
    project) flags="--from --until --merge --where -w --strict --on-corruption --max-batch-bytes --time-field --keys --partitions $kafka_flags --isolation --into --format --key --reduce --init --rules --pipe --exec --keep-null --at --columns --index --incremental --rebuild --max-memory --commit-records --on-error --dead-letter --create-topic --snapshots --snapshot-every --keep-snapshots --dry-run --stats-json --keep-header --drop-header --decode --decode-key --schemas --schema --message --avro-json" ;;
    replay) flags="--from --until --merge --where -w --strict --on-corruption --max-batch-bytes --time-field --keys --partitions $kafka_flags --isolation --to-topic --partition --keep-timestamps --now-timestamps --provenance --rate --speed --max-gap --dry-run --checkpoint --checkpoint-interval --dedupe --compression --producers --create-topic --stats-json --group --new-run --instance-id --status --json --keep-header --drop-header --decode --decode-key --schemas --schema --message --avro-json --encode --schema-id" ;;
    backfill) flags="--from --until --merge --where -w --strict --on-corruption --max-batch-bytes --time-field --keys --partitions $kafka_flags --isolation --exec --pipe --input --workers --pipeline --retries --backoff --dead-letter --create-topic --max-failures --drain-timeout --dry-run --checkpoint --checkpoint-interval --stats-json --group --new-run --instance-id --status --json --keep-header --drop-header --decode --decode-key --schemas --schema --message --avro-json" ;;
    lag) flags="--group -G --all-groups $kafka_flags --isolation --no-commit-as --now --history --samples --watch --max-lag --max-time-lag --fail-on --json --format --cluster-name --checkpoint" ;;
    offsets) flags="--group -G $kafka_flags --topic --all-topics --to-earliest --to-latest --to-offset --shift-by --to-datetime --by-duration --from-file --execute --export --force --json --format" ;;
    dlq)
      local sub="" j
      for ((j = i + 1; j < cword; j++)); do
        case "${words[j]}" in summary|show|redrive) sub="${words[j]}"; break ;; esac
      done
      if [[ -z "$sub" ]]; then COMPREPLY=($(compgen -W "summary show redrive --help -h" -- "$cur")); return; fi
      flags="$read_flags $kafka_flags -t --isolation --keys --partitions --profile --header-map --fingerprint"
      case "$sub" in
        summary) flags="$flags --by --format --decode --decode-key --schemas --schema --message --avro-json" ;;
        show) flags="$flags --limit -n --format -f --with-original --decode --decode-key --schemas --schema --message --avro-json" ;;
        redrive) flags="$flags --to --partition --dry-run --max --all --keep-headers --max-redrives --rate --ledger --status --commit-group --compression --producers --stats-json --encode --schema-id --schemas --schema --avro-json --message" ;;
      esac ;;
    compact) flags="--include-active --min-compaction-lag --delete-retention --now --null-keys --min-cleanable-ratio --force --segment-bytes --compression --compression-level --max-memory --dry-run --wait --stats-json" ;;
    retain) flags="--max-age --max-bytes --before --now --dry-run --wait --stats-json" ;;
    sandbox) flags="--brokers --topics --load --fault" ;;
    completion)
      COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"))
      return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags --help -h" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _evt evt
