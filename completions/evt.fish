# fish completion for evt.
# Install: evt completion fish > ~/.config/fish/completions/evt.fish
# To add a subcommand: add it to the `complete ... -a` list of commands with a description,
# then one `complete` line per flag with `__fish_seen_subcommand_from <name>`.

set -l cmds cat write inspect schema verify dump filter gen replay backfill project lag offsets dlq compact retain sandbox completion
complete -c evt -f
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -l version -d 'Print the version'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a cat -d 'Print records as JSON Lines, values, CloudEvents or a template'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a write -d 'Write JSON Lines records into a segment directory'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a inspect -d 'Summarise partitions'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a schema -d 'Schema sources, schema ids of a log, compatibility checks'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a verify -d 'Check CRCs, offsets and indexes'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a dump -d 'List batches and records'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a filter -d 'Select JSON Lines with a jq expression'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a gen -d 'Generate deterministic synthetic events'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a replay -d 'Move a slice of history to a topic, a log or a file'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a project -d 'Fold events by key into a read model'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a backfill -d 'Hand each selected record to a program'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a offsets -d 'A consumer group'"'"'s committed offsets; reset them'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a lag -d 'How far consumer groups are behind, with Burrow'"'"'s status'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a dlq -d 'Dead-letter queues: summary, show, redrive'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a compact -d 'Keep the latest record per key, like the log cleaner'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a retain -d 'Delete old segments by age, size or position'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a sandbox -d 'Run a throwaway Kafka-protocol cluster'
complete -c evt -n "not __fish_seen_subcommand_from $cmds" -a completion -d 'Print the shell completion script'

# Flags shared by readers (cat, inspect, dump, dlq).
for c in cat inspect dump dlq
  complete -c evt -n "__fish_seen_subcommand_from $c" -F
  complete -c evt -n "__fish_seen_subcommand_from $c" -l from -x -a 'beginning end' -d 'Start position per partition'
  complete -c evt -n "__fish_seen_subcommand_from $c" -l until -x -a 'beginning end' -d 'Stop position (exclusive)'
  complete -c evt -n "__fish_seen_subcommand_from $c" -s w -l where -x -d 'Keep records for which this jq expression is true'
  complete -c evt -n "__fish_seen_subcommand_from $c" -l strict -d 'With --where: invalid JSON values are errors'
  complete -c evt -n "__fish_seen_subcommand_from $c" -l on-corruption -x -a 'stop skip' -d 'Stop at a corrupt batch, or skip it'
  complete -c evt -n "__fish_seen_subcommand_from $c" -l max-batch-bytes -x -d 'A batch decompressing to more bytes is corrupt'
end

# Kafka client flags (cat, inspect, dump, write, lag, offsets, dlq, schema, filter).
for c in cat inspect dump write lag offsets dlq schema filter
  complete -c evt -n "__fish_seen_subcommand_from $c" -s b -l brokers -x -d 'Kafka bootstrap brokers'
  complete -c evt -n "__fish_seen_subcommand_from $c" -s X -x -a list -d 'librdkafka property prop=value'
  complete -c evt -n "__fish_seen_subcommand_from $c" -l config -r -F -d 'librdkafka properties file'
  complete -c evt -n "__fish_seen_subcommand_from $c" -l timeout -x -d 'Bound for connecting and each Kafka request'
end
for c in cat inspect dump dlq
  complete -c evt -n "__fish_seen_subcommand_from $c" -s t -x -d 'Kafka topic'
  complete -c evt -n "__fish_seen_subcommand_from $c" -l isolation -x -a 'read_committed read_uncommitted' -d 'Kafka isolation level'
end

# cat
complete -c evt -n "__fish_seen_subcommand_from cat" -l follow -d 'Keep consuming past the end captured at start'
complete -c evt -n "__fish_seen_subcommand_from cat" -s G -l group -x -d 'Consume as a member of GROUP'
complete -c evt -n "__fish_seen_subcommand_from cat" -l merge -x -a 'time none' -d 'Interleave partitions'
complete -c evt -n "__fish_seen_subcommand_from cat" -l include-control -d 'Include control records'
complete -c evt -n "__fish_seen_subcommand_from cat" -s f -l format -x -a 'envelope value cloudevents' -d 'Output format'
complete -c evt -n "__fish_seen_subcommand_from cat" -s n -l limit -x -d 'Stop after N records'
complete -c evt -n "__fish_seen_subcommand_from cat dump inspect filter replay backfill project dlq" -l decode -x -a 'auto avro protobuf json offsets transactions none' -d 'Values as JSON'
complete -c evt -n "__fish_seen_subcommand_from cat dump inspect filter replay backfill project dlq" -l decode-key -x -a 'auto avro protobuf json none' -d 'Keys in Confluent framing'
complete -c evt -n "__fish_seen_subcommand_from cat dump inspect filter schema replay backfill project dlq" -l schemas -r -F -d 'Schema source: directory, _schemas log or registry URL'
complete -c evt -n "__fish_seen_subcommand_from cat dump inspect filter replay backfill project dlq" -l schema -r -F -d 'Unframed values written with this schema (.avsc, .proto)'
complete -c evt -n "__fish_seen_subcommand_from cat dump inspect filter replay backfill project dlq" -l message -x -d 'With --schema FILE.proto: the message type'
complete -c evt -n "__fish_seen_subcommand_from cat dump inspect filter replay backfill project dlq" -l avro-json -x -a 'natural spec' -d 'Avro as JSON'

# schema
complete -c evt -n "__fish_seen_subcommand_from schema; and not __fish_seen_subcommand_from list show ids check compat" -a 'list show ids check compat'
complete -c evt -n "__fish_seen_subcommand_from schema" -F
complete -c evt -n "__fish_seen_subcommand_from schema" -l from -x -a 'beginning end' -d 'Start position per partition'
complete -c evt -n "__fish_seen_subcommand_from schema" -l until -x -a 'beginning end' -d 'Stop position (exclusive)'
complete -c evt -n "__fish_seen_subcommand_from schema" -l on-corruption -x -a 'stop skip' -d 'Stop at a corrupt batch, or skip it'
complete -c evt -n "__fish_seen_subcommand_from schema" -s t -x -d 'Kafka topic'
complete -c evt -n "__fish_seen_subcommand_from schema" -l isolation -x -a 'read_committed read_uncommitted' -d 'Kafka isolation level'
complete -c evt -n "__fish_seen_subcommand_from schema" -l json -d 'JSON Lines output'
complete -c evt -n "__fish_seen_subcommand_from schema" -l reader -r -F -d 'check: the reader schema file'
complete -c evt -n "__fish_seen_subcommand_from schema" -l reader-id -x -d 'check: the reader schema id'
complete -c evt -n "__fish_seen_subcommand_from schema" -l mode -x -a 'backward forward full' -d 'compat mode'

# write
complete -c evt -n "__fish_seen_subcommand_from write" -F
complete -c evt -n "__fish_seen_subcommand_from write" -s i -l in -r -F -d 'Read from FILE instead of stdin'
complete -c evt -n "__fish_seen_subcommand_from write" -l input -x -a 'envelope lines values' -d 'Input format'
complete -c evt -n "__fish_seen_subcommand_from write" -l key-field -x -d 'Take the key from this JSON field'
complete -c evt -n "__fish_seen_subcommand_from write" -s t -l topic -x -d 'Topic for records, or the Kafka topic'
complete -c evt -n "__fish_seen_subcommand_from write" -l partition -x -a 'hash keep' -d 'N, keep or hash'
complete -c evt -n "__fish_seen_subcommand_from write" -l create-topic -d 'Let the cluster create a missing topic'
complete -c evt -n "__fish_seen_subcommand_from write" -l producers -x -d 'Kafka producer instances'
complete -c evt -n "__fish_seen_subcommand_from write" -l compression -x -a 'none gzip snappy lz4 zstd' -d 'Batch codec'
complete -c evt -n "__fish_seen_subcommand_from write" -l compression-level -x -d 'Codec level'
complete -c evt -n "__fish_seen_subcommand_from write" -l segment-bytes -x -d 'Segment size limit'
complete -c evt -n "__fish_seen_subcommand_from write" -l batch-records -x -d 'Records per batch at most'
complete -c evt -n "__fish_seen_subcommand_from write" -l batch-bytes -x -d 'Uncompressed bytes per batch'
complete -c evt -n "__fish_seen_subcommand_from write" -l keep-offsets -d 'Keep the offsets of the input records'
complete -c evt -n "__fish_seen_subcommand_from write" -l fsync -x -a 'never batch end' -d 'When to fsync'
complete -c evt -n "__fish_seen_subcommand_from write" -l wait -d 'Wait for another evt holding the partition lock'
complete -c evt -n "__fish_seen_subcommand_from write" -l on-invalid -x -a 'error skip dead-letter:' -d 'What to do with a line that is not a record'
complete -c evt -n "__fish_seen_subcommand_from write" -l on-corruption -x -a 'stop skip' -d 'Segment inputs: stop at a corrupt batch, or skip it'

# inspect
complete -c evt -n "__fish_seen_subcommand_from inspect" -l json -d 'JSON output'
complete -c evt -n "__fish_seen_subcommand_from inspect" -l buckets -x -d 'Records over time in N slices of the span'
complete -c evt -n "__fish_seen_subcommand_from inspect" -l table -d 'Table output'

# verify
complete -c evt -n "__fish_seen_subcommand_from verify" -F
complete -c evt -n "__fish_seen_subcommand_from verify" -l repair -d 'Truncate torn tails and rebuild indexes'
complete -c evt -n "__fish_seen_subcommand_from verify" -l wait -d 'With --repair: wait for a partition lock'
complete -c evt -n "__fish_seen_subcommand_from verify" -l no-index -d 'Skip the index checks'
complete -c evt -n "__fish_seen_subcommand_from verify" -l json -d 'One JSON object per partition'

# dump
complete -c evt -n "__fish_seen_subcommand_from dump" -l json -d 'One JSON object per batch'
complete -c evt -n "__fish_seen_subcommand_from dump" -l batches-only -d 'List batches without their records'

# filter
complete -c evt -n "__fish_seen_subcommand_from filter" -F
complete -c evt -n "__fish_seen_subcommand_from filter" -s c -l count -d 'Print the number of selected lines'
complete -c evt -n "__fish_seen_subcommand_from filter" -s v -l invert -d 'Select lines for which the expression is false'
complete -c evt -n "__fish_seen_subcommand_from filter" -s n -l limit -x -d 'Stop after N selected lines'
complete -c evt -n "__fish_seen_subcommand_from filter" -l strict -d 'A line that is not valid JSON is an error'
complete -c evt -n "__fish_seen_subcommand_from filter" -s j -l threads -x -d 'Worker threads'

# gen
complete -c evt -n "__fish_seen_subcommand_from gen" -s c -l count -x -d 'Number of events'
complete -c evt -n "__fish_seen_subcommand_from gen" -l keys -x -d 'Distinct keys'
complete -c evt -n "__fish_seen_subcommand_from gen" -l seed -x -d 'Random seed'
complete -c evt -n "__fish_seen_subcommand_from gen" -l types -x -d 'Comma-separated event types'
complete -c evt -n "__fish_seen_subcommand_from gen" -l value-size -x -d 'Approximate value size'
complete -c evt -n "__fish_seen_subcommand_from gen" -l topic -x -d 'Topic name'
complete -c evt -n "__fish_seen_subcommand_from gen" -l partitions -x -d 'Partitions'
complete -c evt -n "__fish_seen_subcommand_from gen" -l start -x -d 'Timestamp of the first event'
complete -c evt -n "__fish_seen_subcommand_from gen" -l step -x -d 'Average gap between events'
complete -c evt -n "__fish_seen_subcommand_from gen" -s o -l output -r -a '(__fish_complete_directories)' -d 'Write segments into this directory'
complete -c evt -n "__fish_seen_subcommand_from gen" -s f -l format -x -a 'envelope value cloudevents' -d 'Stdout format'
complete -c evt -n "__fish_seen_subcommand_from gen" -l compression -x -a 'none gzip snappy lz4 zstd' -d 'Batch codec'
complete -c evt -n "__fish_seen_subcommand_from gen" -l compression-level -x -d 'Codec level'
complete -c evt -n "__fish_seen_subcommand_from gen" -l segment-bytes -x -d 'Segment size limit'
complete -c evt -n "__fish_seen_subcommand_from gen" -l batch-records -x -d 'Records per batch at most'
complete -c evt -n "__fish_seen_subcommand_from gen" -l batch-bytes -x -d 'Uncompressed bytes per batch'

# replay and backfill: the selection and checkpoint flags they share (cmd/selection.h)
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -F
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l from -x -d 'Start position per partition'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l until -x -d 'Stop position per partition'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l merge -x -a 'time none' -d 'Interleave partitions by time'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l where -x -d 'Keep records matching this expression'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l strict -d 'Invalid JSON values are errors'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l on-corruption -x -a 'stop skip' -d 'Stop at a corrupt batch, or skip it'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l max-batch-bytes -x -d 'A batch decompressing to more bytes is corrupt'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l time-field -x -d 'Bound times by event time from this field'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l keys -r -F -d 'Only keys listed in FILE'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l partitions -x -d 'Only these source partitions'
# --keep-header/--drop-header: replay, backfill and write (cmd/common.h AddHeaderFlags)
complete -c evt -n "__fish_seen_subcommand_from replay backfill write project" -l keep-header -x -d 'Pass on only headers whose key matches GLOB'
complete -c evt -n "__fish_seen_subcommand_from replay backfill write project" -l drop-header -x -d 'Drop headers whose key matches GLOB'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l brokers -x -d 'Kafka bootstrap brokers'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l config -r -F -d 'librdkafka properties file'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l timeout -x -d 'Kafka request timeout'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l isolation -x -a 'read_committed read_uncommitted' -d 'Kafka isolation level'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l dry-run -d 'Print the plan'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l checkpoint -r -F -d 'Progress file to resume from'
complete -c evt -n "__fish_seen_subcommand_from replay backfill" -l checkpoint-interval -x -d 'How often to checkpoint'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -l stats-json -r -F -d 'Write the run figures as JSON'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -s w -x -d 'Keep records matching this expression'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -s b -x -d 'Kafka bootstrap brokers'
complete -c evt -n "__fish_seen_subcommand_from replay backfill project" -s X -x -d 'librdkafka property prop=value'

# replay
complete -c evt -n "__fish_seen_subcommand_from replay" -l to-topic -x -d 'Destination topic name'
complete -c evt -n "__fish_seen_subcommand_from replay" -l partition -x -a 'keep hash' -d 'Destination partition'
complete -c evt -n "__fish_seen_subcommand_from replay" -l keep-timestamps -d 'Keep record timestamps'
complete -c evt -n "__fish_seen_subcommand_from replay" -l now-timestamps -d 'Stamp the time of sending'
complete -c evt -n "__fish_seen_subcommand_from replay" -l provenance -d 'Add evt.source and evt.replay.id headers'
complete -c evt -n "__fish_seen_subcommand_from replay" -l rate -x -d 'Records per second'
complete -c evt -n "__fish_seen_subcommand_from replay" -l speed -x -d 'Original gaps divided by X'
complete -c evt -n "__fish_seen_subcommand_from replay" -l max-gap -x -d 'Longest wait with --speed'
complete -c evt -n "__fish_seen_subcommand_from replay" -l dedupe -d 'Exactly once into Kafka on resume'
complete -c evt -n "__fish_seen_subcommand_from replay" -l compression -x -a 'none gzip snappy lz4 zstd' -d 'Destination batch codec'
complete -c evt -n "__fish_seen_subcommand_from replay" -l producers -x -d 'Kafka producer instances'
complete -c evt -n "__fish_seen_subcommand_from replay backfill" -l create-topic -d 'Let the cluster create a missing topic'

# backfill
complete -c evt -n "__fish_seen_subcommand_from backfill" -l exec -x -d 'Run CMD once per record'
complete -c evt -n "__fish_seen_subcommand_from backfill" -l pipe -x -d 'Long-lived workers answering ok/retry/fail'
complete -c evt -n "__fish_seen_subcommand_from backfill" -l input -x -a 'envelope value' -d 'What --exec gets on stdin'
complete -c evt -n "__fish_seen_subcommand_from backfill" -l workers -x -d 'Workers in parallel'
complete -c evt -n "__fish_seen_subcommand_from backfill" -l pipeline -x -d 'Records in flight per --pipe worker'
complete -c evt -n "__fish_seen_subcommand_from backfill" -l retries -x -d 'Retries of a failed record'
complete -c evt -n "__fish_seen_subcommand_from backfill" -l backoff -x -d 'Backoff MIN..MAX'
complete -c evt -n "__fish_seen_subcommand_from backfill" -l dead-letter -r -F -d 'Where records go after the last retry'
complete -c evt -n "__fish_seen_subcommand_from backfill" -l max-failures -x -d 'Stop after N dead letters'
complete -c evt -n "__fish_seen_subcommand_from backfill" -l drain-timeout -x -d 'Wait for records in flight on Ctrl-C'

# offsets
complete -c evt -n "__fish_seen_subcommand_from offsets" -a 'show reset' -d 'Action'
complete -c evt -n "__fish_seen_subcommand_from offsets" -s G -l group -x -d 'The consumer group'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l topic -x -d 'reset: TOPIC or TOPIC:P,P,...'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l all-topics -d 'reset: every topic the group has commits for'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l to-earliest -d 'Reset to the log start'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l to-latest -d 'Reset to the log end'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l to-offset -x -d 'Reset to offset N'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l shift-by -x -d 'Move the committed offset by N'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l to-datetime -x -d 'Reset to the first record at or after a time'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l by-duration -x -d 'Reset to the first record of the last DURATION'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l from-file -r -F -d 'Reset to the offsets of a plan file'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l execute -d 'Apply the plan in one OffsetCommit'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l export -r -F -d 'Also write the plan to FILE'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l force -d 'Reset even when the group may have active members'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l json -d 'JSON Lines output'
complete -c evt -n "__fish_seen_subcommand_from offsets" -l format -x -a 'table json csv' -d 'Output format'

# lag
complete -c evt -n "__fish_seen_subcommand_from lag" -s G -l group -x -d 'Consumer group to look at'
complete -c evt -n "__fish_seen_subcommand_from lag" -l all-groups -d 'Every group the cluster lists (ListGroups)'
complete -c evt -n "__fish_seen_subcommand_from lag" -l isolation -x -a 'read_committed read_uncommitted' -d 'Kafka isolation level'
complete -c evt -n "__fish_seen_subcommand_from lag" -l no-commit-as -x -a 'earliest latest skip' -d 'What a partition without a commit counts as'
complete -c evt -n "__fish_seen_subcommand_from lag" -l now -x -d 'The time the time lag is measured against'
complete -c evt -n "__fish_seen_subcommand_from lag" -l history -r -F -d 'Samples file for trends and statuses'
complete -c evt -n "__fish_seen_subcommand_from lag" -l samples -x -d 'Samples kept and evaluated per partition'
complete -c evt -n "__fish_seen_subcommand_from lag" -l watch -x -d 'Sample every INTERVAL until Ctrl-C'
complete -c evt -n "__fish_seen_subcommand_from lag" -l max-lag -x -d 'Exit 1 above N records of lag'
complete -c evt -n "__fish_seen_subcommand_from lag" -l max-time-lag -x -d 'Exit 1 above this time lag'
complete -c evt -n "__fish_seen_subcommand_from lag" -l fail-on -x -a 'warn stall stop rewind err' -d 'Exit 1 on these statuses'
complete -c evt -n "__fish_seen_subcommand_from lag" -l json -d 'JSON Lines output'
complete -c evt -n "__fish_seen_subcommand_from lag" -l format -x -a 'table json prometheus csv' -d 'Output format'
complete -c evt -n "__fish_seen_subcommand_from lag" -l cluster-name -x -d 'cluster_name label of the Prometheus metrics'
complete -c evt -n "__fish_seen_subcommand_from lag" -l checkpoint -r -F -d 'The lag of a replay checkpoint FILE against SRC'

# compact
complete -c evt -n "__fish_seen_subcommand_from compact" -F
complete -c evt -n "__fish_seen_subcommand_from compact" -l include-active -d 'Also compact the active segment'
complete -c evt -n "__fish_seen_subcommand_from compact" -l min-compaction-lag -x -d 'Leave records newer than this alone'
complete -c evt -n "__fish_seen_subcommand_from compact" -l delete-retention -x -d 'How long tombstones stay'
complete -c evt -n "__fish_seen_subcommand_from compact" -l now -x -d 'The time horizons and lags are measured against'
complete -c evt -n "__fish_seen_subcommand_from compact" -l null-keys -x -a 'error keep drop' -d 'Records with a null key'
complete -c evt -n "__fish_seen_subcommand_from compact" -l min-cleanable-ratio -x -d 'Skip partitions with a smaller dirty share'
complete -c evt -n "__fish_seen_subcommand_from compact" -l force -d 'Compact even below the ratio'
complete -c evt -n "__fish_seen_subcommand_from compact" -l segment-bytes -x -d 'Largest cleaned segment'
complete -c evt -n "__fish_seen_subcommand_from compact" -l compression -x -a 'keep none gzip snappy lz4 zstd' -d 'Codec of rebuilt batches'
complete -c evt -n "__fish_seen_subcommand_from compact" -l compression-level -x -d 'Codec level'
complete -c evt -n "__fish_seen_subcommand_from compact" -l max-memory -x -d 'Bound on the key map'
complete -c evt -n "__fish_seen_subcommand_from compact" -l dry-run -d 'Print what compaction would do'
complete -c evt -n "__fish_seen_subcommand_from compact" -l wait -d 'Wait for a partition lock'
complete -c evt -n "__fish_seen_subcommand_from compact" -l stats-json -r -F -d 'Write results as JSON Lines'

# retain
complete -c evt -n "__fish_seen_subcommand_from retain" -F
complete -c evt -n "__fish_seen_subcommand_from retain" -l max-age -x -d 'Delete segments whose newest record is older'
complete -c evt -n "__fish_seen_subcommand_from retain" -l max-bytes -x -d 'Keep at least this many bytes per partition'
complete -c evt -n "__fish_seen_subcommand_from retain" -l before -x -d 'Delete segments that end before this offset or time'
complete -c evt -n "__fish_seen_subcommand_from retain" -l now -x -d 'The time --max-age is measured from'
complete -c evt -n "__fish_seen_subcommand_from retain" -l dry-run -d 'Print what would be deleted'
complete -c evt -n "__fish_seen_subcommand_from retain" -l wait -d 'Wait for a partition lock'
complete -c evt -n "__fish_seen_subcommand_from retain" -l stats-json -r -F -d 'Write results as JSON Lines'

# sandbox
complete -c evt -n "__fish_seen_subcommand_from sandbox" -l brokers -x -d 'Brokers in the mock cluster'
complete -c evt -n "__fish_seen_subcommand_from sandbox" -l topics -x -d 'Topics to create (name:partitions,...)'
complete -c evt -n "__fish_seen_subcommand_from sandbox" -l load -r -F -d 'Preload TOPIC=PATH'
complete -c evt -n "__fish_seen_subcommand_from sandbox" -l fault -x -a 'down-after= topic-error= request-error= rtt=' -d 'Inject a failure'

# completion
complete -c evt -n "__fish_seen_subcommand_from completion" -x -a 'bash zsh fish'

# dlq
set -l dlq_subs summary show redrive
complete -c evt -n "__fish_seen_subcommand_from dlq; and not __fish_seen_subcommand_from $dlq_subs" -a summary -d 'Group dead letters by cause'
complete -c evt -n "__fish_seen_subcommand_from dlq; and not __fish_seen_subcommand_from $dlq_subs" -a show -d 'Print dead letters with decoded headers'
complete -c evt -n "__fish_seen_subcommand_from dlq; and not __fish_seen_subcommand_from $dlq_subs" -a redrive -d 'Send dead letters back: capped, never twice'
complete -c evt -n "__fish_seen_subcommand_from dlq" -l keys -r -F -d 'Only records whose key is a line of FILE'
complete -c evt -n "__fish_seen_subcommand_from dlq" -l partitions -x -d 'Only these DLQ partitions'
complete -c evt -n "__fish_seen_subcommand_from dlq" -l profile -x -a 'auto connect spring streams evt custom' -d 'Dead-letter header convention'
complete -c evt -n "__fish_seen_subcommand_from dlq" -l header-map -x -d 'Headers of a home-made DLQ'
complete -c evt -n "__fish_seen_subcommand_from dlq" -l fingerprint -x -d 'Only the group with this fingerprint'
complete -c evt -n "__fish_seen_subcommand_from summary" -l by -x -a 'topic partition class cause fingerprint stage connector group profile dlq_topic' -d 'Group by these fields'
complete -c evt -n "__fish_seen_subcommand_from summary" -l format -x -a 'auto table json' -d 'Output format'
complete -c evt -n "__fish_seen_subcommand_from show" -s n -l limit -x -d 'Stop after N records'
complete -c evt -n "__fish_seen_subcommand_from show" -s f -l format -x -a 'envelope value cloudevents' -d 'Print the records as evt cat does'
complete -c evt -n "__fish_seen_subcommand_from show" -l with-original -d 'Fetch and compare the original record'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l to -x -d 'Send every record to this topic'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l partition -x -a 'keep hash' -d 'Destination partition'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l dry-run -d 'Count what would be sent'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l max -x -d 'Refuse to send more than N records'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l all -d 'No --max cap'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l keep-headers -d 'Keep the dead-letter headers'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l max-redrives -x -d 'Leave records redriven N times in the DLQ'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l rate -x -d 'Records per second'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l ledger -r -F -d 'The ledger file'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l status -d 'Print the ledger progress'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l commit-group -x -d 'Commit this DLQ group past the records handled'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l compression -x -a 'none gzip snappy lz4 zstd' -d 'Batch codec'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l producers -x -d 'Producer instances'
complete -c evt -n "__fish_seen_subcommand_from redrive" -l stats-json -r -F -d 'Write the run figures as JSON to FILE'
# project
complete -c evt -n "__fish_seen_subcommand_from project" -l into -r -F -d 'Output: FILE.db, FILE.jsonl, FILE.csv or -'
complete -c evt -n "__fish_seen_subcommand_from project" -l format -x -a 'sqlite jsonl csv' -d 'Output format'
complete -c evt -n "__fish_seen_subcommand_from project" -l key -x -d 'Expression giving the state key'
complete -c evt -n "__fish_seen_subcommand_from project" -l reduce -x -a 'last merge count sum( min( max(' -d 'How a record changes the state'
complete -c evt -n "__fish_seen_subcommand_from project" -l init -x -d 'State of a new key (JSON)'
complete -c evt -n "__fish_seen_subcommand_from project" -l rules -r -F -d 'Per-event-type rules (JSON file)'
complete -c evt -n "__fish_seen_subcommand_from project" -l pipe -x -a '(__fish_complete_command)' -d 'Fold with a long-lived program'
complete -c evt -n "__fish_seen_subcommand_from project" -l exec -x -a '(__fish_complete_command)' -d 'Fold with one process per record'
complete -c evt -n "__fish_seen_subcommand_from project" -l keep-null -d 'Keep keys whose state is null'
complete -c evt -n "__fish_seen_subcommand_from project" -l at -x -d 'State as of this time'
complete -c evt -n "__fish_seen_subcommand_from project" -l columns -x -d 'Typed columns name=EXPR[:type]'
complete -c evt -n "__fish_seen_subcommand_from project" -l index -x -d 'Index this column'
complete -c evt -n "__fish_seen_subcommand_from project" -l incremental -d 'Continue from the recorded positions'
complete -c evt -n "__fish_seen_subcommand_from project" -l rebuild -d 'Rebuild an output of another fold definition'
complete -c evt -n "__fish_seen_subcommand_from project" -l max-memory -x -d 'Bound on the in-memory state'
complete -c evt -n "__fish_seen_subcommand_from project" -l commit-records -x -d 'Records per transaction'
complete -c evt -n "__fish_seen_subcommand_from project" -l on-error -x -a 'stop skip dead-letter' -d 'A failing expression: stop, skip or dead-letter'
complete -c evt -n "__fish_seen_subcommand_from project" -l dead-letter -r -d 'Where failing records go (file, directory, kafka://)'
complete -c evt -n "__fish_seen_subcommand_from project" -l create-topic -d 'Let the cluster create a missing dead-letter topic'
complete -c evt -n "__fish_seen_subcommand_from project" -l snapshots -r -a '(__fish_complete_directories)' -d 'Snapshot directory'
complete -c evt -n "__fish_seen_subcommand_from project" -l snapshot-every -x -d 'Snapshot every N records or DURATION'
complete -c evt -n "__fish_seen_subcommand_from project" -l keep-snapshots -x -d 'Keep the newest N snapshots'
complete -c evt -n "__fish_seen_subcommand_from write replay redrive" -l encode -x -a 'none auto avro json protobuf' -d 'Encode decoded values back to bytes'
complete -c evt -n "__fish_seen_subcommand_from write replay redrive" -l schema-id -x -d 'With --encode: write every value with this schema id'
complete -c evt -n "__fish_seen_subcommand_from write redrive" -l schemas -r -F -d 'With --encode: schema source'
complete -c evt -n "__fish_seen_subcommand_from write redrive" -l schema -r -F -d 'With --encode avro: unframed Avro with this schema'
complete -c evt -n "__fish_seen_subcommand_from write redrive" -l avro-json -x -a 'natural spec' -d 'With --encode avro: the JSON style'
complete -c evt -n "__fish_seen_subcommand_from write redrive" -l message -x -d 'With --encode protobuf: the message type'
