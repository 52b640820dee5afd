#!/usr/bin/env bash
# Items/s per OTLP signal through the Spillway daemon with the downstream down (everything
# accepted is sealed and spilled), traces, metrics and logs in one run, in rotating order and
# repeated, so each signal is compared with traces measured minutes apart on the same machine.
# Reports, per signal: items/s accepted, daemon CPU seconds per 100k items, bytes on disk per item,
# request bytes per item, and the ratio of items/s to traces'. Every loop is bounded.
#
#   mvn -B -q -pl buffer-server,benchmarks -am package -DskipTests
#   ops/bench/signals.sh                   # report in ops/bench/out/signals-<time>/report.md
#
# Knobs (environment): DURATION (s per phase, 15), WARMUP (s per signal before measuring, 10), REPS (3), CONNECTIONS (4),
# BATCH_TRACES (512 spans), BATCH_METRICS (200 data points: metrics requests are small and
# frequent), BATCH_LOGS (512 records), DURABILITY (durable), COMPRESSION (lz4), JAVA (java),
# DAEMON_JAVA_OPTS ("-Xms32m -Xmx128m -XX:MaxDirectMemorySize=128m"), BASE_PORT (25317; uses 3 ports),
# PIN (e.g. "taskset -c 0": run the daemon on one core and the load elsewhere), OUT.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
. "$ROOT/ops/bench/lib.sh"
JAVA=${JAVA:-java}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-10}
REPS=${REPS:-3}
CONNECTIONS=${CONNECTIONS:-4}
BATCH_TRACES=${BATCH_TRACES:-512}
BATCH_METRICS=${BATCH_METRICS:-200}
BATCH_LOGS=${BATCH_LOGS:-512}
DURABILITY=${DURABILITY:-durable}
COMPRESSION=${COMPRESSION:-lz4}
DAEMON_JAVA_OPTS=${DAEMON_JAVA_OPTS:--Xms32m -Xmx128m -XX:MaxDirectMemorySize=128m}
BASE_PORT=${BASE_PORT:-25317}
PIN=${PIN:-}
OUT=${OUT:-$ROOT/ops/bench/out/signals-$(date -u +%Y%m%dT%H%M%SZ)}
SPILLWAY_JAR=$ROOT/buffer-server/target/spillway.jar
BENCH_JAR=$ROOT/benchmarks/target/benchmarks.jar
RPORT=$BASE_PORT; DPORT=$((BASE_PORT + 1)); MPORT=$((BASE_PORT + 2))
SIGNALS=(traces metrics logs)

for j in "$SPILLWAY_JAR" "$BENCH_JAR"; do
  [[ -f $j ]] || { echo "missing $j: mvn -B -q -pl buffer-server,benchmarks -am package -DskipTests" >&2; exit 2; }
done
W=$OUT/work
mkdir -p "$W"
LOG=$OUT/run.log
: >"$LOG"
DAEMON=""
trap '[[ -n $DAEMON ]] && kill "$DAEMON" 2>/dev/null || true' EXIT

"$JAVA" -jar "$SPILLWAY_JAR" certs dev --out "$W/certs" >>"$LOG" 2>&1
"$JAVA" -jar "$SPILLWAY_JAR" keys init --out "$W/keys" >>"$LOG" 2>&1
# The downstream port is never opened: the daemon spills everything it accepts.
cat >"$W/spillway.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$RPORT
        max_recv_msg_size_mib: 15
        tls: {cert_file: certs/server.crt, key_file: certs/server.key, client_ca_file: certs/ca.crt}
buffer:
  durability: $DURABILITY
  memory: {limit_mib: 16}
  spill:
    directory: $W/spill
    max_disk_mib: 8192
    fsync: 1s
    compression: $COMPRESSION
    keys: {provider: local, writer_keyset: keys/writer.json, reader_keyset: keys/reader.json}
exporters:
  otlp:
    endpoint: https://127.0.0.1:$DPORT
    tls: {ca_file: certs/ca.crt}
    retry_on_failure: {initial_interval: 1s, max_interval: 5s, max_elapsed_time: 10s}
telemetry:
  metrics:
    endpoint: 127.0.0.1:$MPORT
YAML

# What was appended (sealed batches and key records as stored), from the daemon's own counter:
# the spill's files are preallocated by Chronicle, so their size on disk moves in steps.
disk_bytes() {
  curl -s --max-time 2 "http://127.0.0.1:$MPORT/metrics" 2>/dev/null |
    awk '$1 == "spillway_storage_written_bytes_total" {printf "%.0f", $2; f = 1} END {if (!f) print 0}'
}

say "machine: $(nproc) CPUs; daemon: $DURABILITY, $COMPRESSION, pinned: ${PIN:-no}"
# shellcheck disable=SC2086 # PIN and DAEMON_JAVA_OPTS are lists of words
$PIN "$JAVA" $DAEMON_JAVA_OPTS -jar "$SPILLWAY_JAR" serve --config "$W/spillway.yaml" >>"$OUT/daemon.log" 2>&1 &
DAEMON=$!
for _ in $(seq 1 120); do
  curl -s --max-time 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz" 2>/dev/null | grep -q 200 && break
  kill -0 "$DAEMON" 2>/dev/null || { say "daemon exited; see $OUT/daemon.log"; exit 1; }
  sleep 0.5
done

# Warm-up: each signal once, not recorded (the JIT compiles the receivers' paths).
for signal in "${SIGNALS[@]}"; do
  "$JAVA" -jar "$BENCH_JAR" loadgen send --signal "$signal" --target "127.0.0.1:$RPORT" \
    --ca "$W/certs/ca.crt" --cert "$W/certs/client.crt" --key "$W/certs/client.key" \
    --connections "$CONNECTIONS" --batch 100 --duration "$WARMUP" >>"$LOG" 2>&1 || true
done

RESULTS=$OUT/results.tsv
printf 'rep\tsignal\titems_per_s\tcpu_s_per_100k\tdisk_bytes_per_item\trequest_bytes_per_item\trefused\terrors\n' >"$RESULTS"
for rep in $(seq 1 "$REPS"); do
  for k in 0 1 2; do
    signal=${SIGNALS[$(( (k + rep - 1) % 3 ))]}
    case $signal in traces) batch=$BATCH_TRACES ;; metrics) batch=$BATCH_METRICS ;; logs) batch=$BATCH_LOGS ;; esac
    cpu0=$(cpu_seconds "$DAEMON"); disk0=$(disk_bytes)
    "$JAVA" -jar "$BENCH_JAR" loadgen send --signal "$signal" --target "127.0.0.1:$RPORT" \
      --ca "$W/certs/ca.crt" --cert "$W/certs/client.crt" --key "$W/certs/client.key" \
      --connections "$CONNECTIONS" --batch "$batch" --duration "$DURATION" \
      --out "$W/$rep-$signal.result" >>"$LOG" 2>&1 || true
    sleep 2 # the last fsync and roll land before the disk is measured
    r=$(cat "$W/$rep-$signal.result" 2>/dev/null || echo "RESULT failed=1")
    key=accepted_items; [[ $signal == traces ]] && key=accepted_spans
    n=$(field "$r" "$key"); rate=$(field "$r" "${key}_per_s")
    cpu=$(awk -v a="$cpu0" -v b="$(cpu_seconds "$DAEMON")" -v n="${n:-0}" 'BEGIN {printf "%.3f", (n > 0 ? (b - a) * 1e5 / n : 0)}')
    disk=$(awk -v a="$disk0" -v b="$(disk_bytes)" -v n="${n:-0}" 'BEGIN {printf "%.0f", (n > 0 ? (b - a) / n : 0)}')
    reqb=$(awk -v b="$(field "$r" request_bytes)" -v n="$batch" 'BEGIN {printf "%.0f", b / n}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$signal" "${rate:-0}" "$cpu" "$disk" "$reqb" \
      "$(field "$r" refused_requests)" "$(field "$r" errors)" >>"$RESULTS"
    say "rep $rep $signal: $r"
  done
done
kill "$DAEMON" 2>/dev/null || true
wait "$DAEMON" 2>/dev/null || true
DAEMON=""

col() { awk -F'\t' -v s="$1" -v c="$2" 'NR > 1 && $2 == s {print $c}' "$RESULTS" | median; }
T_RATE=$(col traces 3)
{
  echo "# Items/s per signal through the daemon, downstream down ($(date -u +%Y-%m-%d))"
  echo
  echo "$(nproc) CPUs, $DURABILITY, $COMPRESSION, $CONNECTIONS connections, $DURATION s per phase, medians of $REPS rotating repetitions; daemon pinned: ${PIN:-no}."
  echo "Batches: $BATCH_TRACES spans, $BATCH_METRICS metric data points, $BATCH_LOGS log records per request. Raw rows: results.tsv."
  echo
  echo "| signal | items/s accepted | × traces | daemon CPU s per 100k items | bytes on disk per item | request bytes per item |"
  echo "|---|---|---|---|---|---|"
  for s in "${SIGNALS[@]}"; do
    rate=$(col "$s" 3)
    echo "| $s | $rate | $(awk -v a="$rate" -v b="$T_RATE" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}') | $(col "$s" 4) | $(col "$s" 5) | $(col "$s" 6) |"
  done
} >"$OUT/report.md"
cat "$OUT/report.md"
