#!/usr/bin/env bash
# A short tour on a sample log that evt generates itself: gen -> write -> inspect -> cat ->
# filter -> a Kafka-protocol sandbox cluster, read back with kcat and with evt's own client.
set -euo pipefail
cd "$(dirname "$0")/.."
EVT=${EVT:-build/evt}
T=$(mktemp -d "${TMPDIR:-/tmp}/evt-tour-XXXXXX")
trap 'rm -rf "$T"' EXIT
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }; else say() { printf '\n$ %s\n' "$*"; }; fi
say "evt gen --count 5000 --keys 50 --topic orders | evt write $T/orders-0"
"$EVT" gen --count 5000 --keys 50 --topic orders | "$EVT" write "$T/orders-0"
say "ls $T/orders-0"
ls -l "$T/orders-0"
say "evt inspect --table $T/orders-0"
"$EVT" inspect --table "$T/orders-0"
say "evt cat $T/orders-0 --from -3 --format '%o %k %T\n'"
"$EVT" cat "$T/orders-0" --from -3 --format '%o %k %T\n'
say "evt cat $T/orders-0 -n 1"
"$EVT" cat "$T/orders-0" -n 1
say "evt verify $T/orders-0"
"$EVT" verify "$T/orders-0"
say "evt cat $T/orders-0 --where '.type == \"order.paid\" and .data.amount > 9000' -f '%o %k\n' -n 3"
"$EVT" cat "$T/orders-0" --where '.type == "order.paid" and .data.amount > 9000' -f '%o %k\n' -n 3
say "evt cat $T/orders-0 -f value | evt filter -c '.type == \"order.shipped\"'"
"$EVT" cat "$T/orders-0" -f value | "$EVT" filter -c '.type == "order.shipped"'
say "evt sandbox --load orders=$T/orders-0 -- sh -c 'kcat -C -b \$EVT_BROKERS -t orders -o -3 -e -q -f \"%p %o %k %T\n\"'"
"$EVT" sandbox --load orders="$T/orders-0" -- sh -c 'kcat -C -b "$EVT_BROKERS" -t orders -o -3 -e -q -f "%p %o %k %T\n"'
# The same through evt's own Kafka client: produce, look, consume back, filter.
export EVT
say "evt sandbox --topics orders:4 -- sh -c 'evt gen --count 2000 --keys 50 --topic orders | evt write kafka:///orders && evt inspect --table kafka:///orders && evt cat kafka:///orders --where \".type == \\\"order.paid\\\"\" -f \"%p %o %k\\n\" -n 3'"
"$EVT" sandbox --topics orders:4 -- sh -c '
  "$EVT" gen --count 2000 --keys 50 --topic orders | "$EVT" write kafka:///orders &&
  "$EVT" inspect --table kafka:///orders &&
  "$EVT" cat kafka:///orders --where ".type == \"order.paid\"" -f "%p %o %k\n" -n 3'
