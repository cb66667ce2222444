#!/usr/bin/env bash
# Installs evt's build and test dependencies from Debian 12 packages (run as root).
set -euo pipefail
PKGS=(cmake ninja-build g++ pkg-config libcli11-dev libzstd-dev libsimdjson-dev libfmt-dev librdkafka-dev
      catch2 zlib1g-dev liblz4-dev libsnappy-dev libxxhash-dev libre2-dev kcat jq zstd python3-kafka python3-snappy python3-lz4 python3-zstandard python3-xxhash man-db groff-base
      libcurl4-openssl-dev python3-avro python3-jsonschema libsqlite3-dev sqlite3 clang libclang-rt-14-dev
      libprotobuf-dev libprotoc-dev protobuf-compiler python3-protobuf)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
