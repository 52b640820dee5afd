#!/bin/sh
# Entrypoint of the Spillway image: split roles by default.
# 'serve' must say which half this container runs: --role ingest (receivers; holds writer.json,
# can seal, never open the spill) or --role drain (holds reader.json, exports). Running both in one
# process puts the reader key in the process that faces the network, so it must be asked for by
# name: --role both. Every other command (version, keys, config validate, spill inspect, audit,
# --help) is passed through unchanged.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" = "serve" ]; then
  role=
  for arg in "$@"; do
    case "$arg" in
      --role|--role=*) role=yes ;;
      -h|--help) role=help ;;
    esac
  done
  if [ -z "$role" ]; then
    cat >&2 <<'MSG'
spillway image: 'serve' needs --role. Run two containers on one spill volume:
  serve --role ingest --config /etc/spillway/ingest.yaml   (receivers, writer.json only)
  serve --role drain  --config /etc/spillway/drain.yaml    (reader.json, the exporter)
as ops/docker/compose.yaml and ops/k8s/daemonset.yaml do. One process with both roles
(--role both) holds reader.json in the network-facing process: an explicit choice, see
docs/SERVER.md ("Split roles").
MSG
    exit 64
  fi
fi
exec "$here/bin/spillway" "$@"
