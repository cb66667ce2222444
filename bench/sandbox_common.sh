# Sourced by bench/kafka.sh and bench/replay.sh: what evt and kcat share when they produce
# to the sandbox, so that both benches compare the same settings.
# SETTINGS go to both tools; kcat also gets evt's producer defaults spelled out.
SETTINGS=(-X linger.ms=5 -X batch.num.messages=10000 -X batch.size=1000000)
KCAT_SETTINGS=("${SETTINGS[@]}" -X compression.codec=zstd -X acks=all -X enable.idempotence=true
               -X partitioner=murmur2_random -X queue.buffering.max.kbytes=32768)
# kcat's fixed headers, the sizes of evt gen's (content-type, trace-id)
TRACE=0123456789abcdef0123456789abcdef
KCAT_HEADERS=(-H content-type=application/json -H trace-id=$TRACE)

# start_sandbox TOPICS ADDRFILE: starts `evt sandbox --topics TOPICS`; sets SB (pid) and B (address).
start_sandbox() {
  rm -f "$2"
  "$EVT" sandbox --topics "$1" >"$2" 2>/dev/null &
  SB=$!
  for _ in $(seq 100); do [ -s "$2" ] && break; sleep 0.1; done
  B=$(head -1 "$2")
}

# stored TOPIC: records in the sandbox topic (sum of high watermarks).
stored() {
  "$EVT" inspect "kafka://$B/$1" --json | python3 -c 'import sys,json; print(sum(p["high"] for p in json.load(sys.stdin)["partitions"]))'
}
