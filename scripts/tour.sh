#!/usr/bin/env bash
# A short tour on a sample log that evt generates itself: gen -> write -> inspect -> cat ->
# filter -> a Kafka-protocol sandbox cluster read back with kcat.
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
