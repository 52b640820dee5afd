#!/usr/bin/env bash
# Coalescing of small requests (buffer.coalesce) on against off, side by side in one run: three
# daemons, identical but for buffer.coalesce (on with the default wait: busy; on with wait:
# window; off), each loaded in turn by the same loadgen, rotating which goes first, for small batches (BATCH_SMALL spans per request) and large (BATCH_LARGE).
# By default the downstream is down, so everything accepted is sealed and spilled (durable); with
# SINK=1 each daemon drains to its own loadgen receive stub (healthy downstream: the daemon's CPU
# then includes the drain's exports). Reports, per mode and batch: spans/s accepted, daemon CPU
# seconds per 100k spans, bytes on disk per span, requests per stored record, p50/p99 latency,
# and the on/off ratios of the medians, with the spread (min–max). Every loop bounded.
#
#   mvn -B -q -pl buffer-server,benchmarks -am package -DskipTests
#   ops/bench/coalesce.sh                  # report in ops/bench/out/coalesce-<time>/report.md
#
# Knobs (environment): DURATION (s per phase, 10), WARMUP (s per daemon, 8), REPS (3),
# CONNECTIONS (16), BATCH_SMALL (10), BATCH_LARGE (512), DURABILITY (durable), COMPRESSION (lz4),
# WINDOW (2ms), SINK (0), FSYNC (1s; every-batch makes each record wait for the disk), JAVA (java), DAEMON_JAVA_OPTS ("-Xmx256m -XX:MaxDirectMemorySize=128m"),
# BASE_PORT (25417; uses 9 ports), PIN (e.g. "taskset -c 0"), OUT.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
. "$ROOT/ops/bench/lib.sh"
JAVA=${JAVA:-java}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-8}
REPS=${REPS:-3}
CONNECTIONS=${CONNECTIONS:-16}
BATCH_SMALL=${BATCH_SMALL:-10}
BATCH_LARGE=${BATCH_LARGE:-512}
DURABILITY=${DURABILITY:-durable}
COMPRESSION=${COMPRESSION:-lz4}
WINDOW=${WINDOW:-2ms}
SINK=${SINK:-0}
FSYNC=${FSYNC:-1s}
DAEMON_JAVA_OPTS=${DAEMON_JAVA_OPTS:--Xmx256m -XX:MaxDirectMemorySize=128m}
BASE_PORT=${BASE_PORT:-25417}
PIN=${PIN:-}
OUT=${OUT:-$ROOT/ops/bench/out/coalesce-$(date -u +%Y%m%dT%H%M%SZ)}
SPILLWAY_JAR=$ROOT/buffer-server/target/spillway.jar
BENCH_JAR=$ROOT/benchmarks/target/benchmarks.jar
MODES=(on window off)

for j in "$SPILLWAY_JAR" "$BENCH_JAR"; do
  [[ -f $j ]] || { echo "missing $j: mvn -B -q -pl buffer-server,benchmarks -am package -DskipTests" >&2; exit 2; }
done
W=$OUT/work
mkdir -p "$W"
LOG=$OUT/run.log
: >"$LOG"
declare -A PID RPORT MPORT DPORTS SINKPID
trap 'for m in "${MODES[@]}"; do for p in "${PID[$m]:-}" "${SINKPID[$m]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null; done; done; true' EXIT

"$JAVA" -jar "$SPILLWAY_JAR" certs dev --out "$W/certs" >>"$LOG" 2>&1
"$JAVA" -jar "$SPILLWAY_JAR" keys init --out "$W/keys" >>"$LOG" 2>&1

# One configuration per mode; they differ only in buffer.coalesce (and their ports and directory).
i=0
for m in "${MODES[@]}"; do
  RPORT[$m]=$((BASE_PORT + 3 * i)); DPORT=$((BASE_PORT + 3 * i + 1)); MPORT[$m]=$((BASE_PORT + 3 * i + 2))
  DPORTS[$m]=$DPORT
  case $m in
    on) coalesce="{window: $WINDOW}" ;;                # wait: busy, the default
    window) coalesce="{window: $WINDOW, wait: window}" ;;
    *) coalesce="{max_request_bytes: 0}" ;;
  esac
  cat >"$W/spillway-$m.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${RPORT[$m]}
        max_recv_msg_size_mib: 15
        tls: {cert_file: certs/server.crt, key_file: certs/server.key, client_ca_file: certs/ca.crt}
buffer:
  durability: $DURABILITY
  memory: {limit_mib: 16}
  coalesce: $coalesce
  spill:
    directory: $W/spill-$m
    max_disk_mib: 8192
    fsync: $FSYNC
    compression: $COMPRESSION
    keys: {provider: local, writer_keyset: keys/writer.json, reader_keyset: keys/reader.json}
exporters:
  otlp:
    endpoint: https://127.0.0.1:$DPORT
    tls: {ca_file: certs/ca.crt}
    retry_on_failure: {initial_interval: 1s, max_interval: 5s, max_elapsed_time: 10s}
telemetry:
  metrics:
    endpoint: 127.0.0.1:${MPORT[$m]}
YAML
  i=$((i + 1))
done

metric() { # port name
  curl -s --max-time 2 "http://127.0.0.1:$1/metrics" 2>/dev/null |
    awk -v k="$2" '$1 == k {printf "%.0f", $2; f = 1} END {if (!f) print 0}'
}
disk_bytes() { metric "$1" spillway_storage_written_bytes_total; }
records() { metric "$1" spillway_buffer_batches_offered_total; }
load() { # mode batch seconds [out]
  "$JAVA" -jar "$BENCH_JAR" loadgen send --target "127.0.0.1:${RPORT[$1]}" \
    --ca "$W/certs/ca.crt" --cert "$W/certs/client.crt" --key "$W/certs/client.key" \
    --connections "$CONNECTIONS" --batch "$2" --duration "$3" ${4:+--out "$4"} >>"$LOG" 2>&1 || true
}

say "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); daemons: $DURABILITY, $COMPRESSION, fsync $FSYNC, window $WINDOW, sink: $SINK, pinned: ${PIN:-no}"
if [[ $SINK == 1 ]]; then
  for m in "${MODES[@]}"; do
    "$JAVA" -jar "$BENCH_JAR" loadgen receive --port "${DPORTS[$m]}" --cert "$W/certs/server.crt" \
      --key "$W/certs/server.key" --stats "$W/sink-$m.stats" --max-seconds 3600 >>"$OUT/sink-$m.log" 2>&1 &
    SINKPID[$m]=$!
  done
fi
for m in "${MODES[@]}"; do
  # shellcheck disable=SC2086 # PIN and DAEMON_JAVA_OPTS are lists of words
  (cd "$W" && exec $PIN "$JAVA" $DAEMON_JAVA_OPTS -jar "$SPILLWAY_JAR" serve --config "$W/spillway-$m.yaml") \
    >>"$OUT/daemon-$m.log" 2>&1 &
  PID[$m]=$!
done
for m in "${MODES[@]}"; do
  for _ in $(seq 1 120); do
    curl -s --max-time 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:${MPORT[$m]}/readyz" 2>/dev/null | grep -q 200 && break
    kill -0 "${PID[$m]}" 2>/dev/null || { say "daemon $m exited; see $OUT/daemon-$m.log"; exit 1; }
    sleep 0.5
  done
done
# Warm-up, not recorded: both batch sizes on both daemons (the JIT compiles both paths).
for m in "${MODES[@]}"; do
  load "$m" "$BATCH_SMALL" "$WARMUP"
  load "$m" "$BATCH_LARGE" "$((WARMUP / 2))"
done

RESULTS=$OUT/results.tsv
printf 'rep\tbatch\tmode\tspans_per_s\tcpu_s_per_100k\tdisk_bytes_per_span\tp50_ms\tp99_ms\trefused\terrors\trequests_per_record\n' >"$RESULTS"
for rep in $(seq 1 "$REPS"); do
  for batch in "$BATCH_SMALL" "$BATCH_LARGE"; do
    k=$(( (rep - 1) % 3 )); order=("${MODES[@]:k}" "${MODES[@]:0:k}") # rotating which goes first
    for m in "${order[@]}"; do
      if [[ $SINK == 1 ]]; then # a phase starts with nothing left to drain, so its CPU is its own
        for _ in $(seq 1 120); do
          (( $(metric "${MPORT[$m]}" spillway_buffer_disk_batches_pending) + $(metric "${MPORT[$m]}" spillway_buffer_memory_batches) == 0 )) && break
          sleep 0.5
        done
      fi
      cpu0=$(cpu_seconds "${PID[$m]}"); disk0=$(disk_bytes "${MPORT[$m]}"); rec0=$(records "${MPORT[$m]}")
      load "$m" "$batch" "$DURATION" "$W/$rep-$batch-$m.result"
      sleep 2 # the last fsync lands before the disk is measured
      if [[ $SINK == 1 ]]; then # and what the phase accepted is delivered, on the phase's CPU
        for _ in $(seq 1 120); do
          (( $(metric "${MPORT[$m]}" spillway_buffer_disk_batches_pending) + $(metric "${MPORT[$m]}" spillway_buffer_memory_batches) == 0 )) && break
          sleep 0.5
        done
      fi
      r=$(cat "$W/$rep-$batch-$m.result" 2>/dev/null || echo "RESULT failed=1")
      n=$(field "$r" accepted_spans); rate=$(field "$r" accepted_spans_per_s)
      cpu=$(awk -v a="$cpu0" -v b="$(cpu_seconds "${PID[$m]}")" -v n="${n:-0}" 'BEGIN {printf "%.3f", (n > 0 ? (b - a) * 1e5 / n : 0)}')
      disk=$(awk -v a="$disk0" -v b="$(disk_bytes "${MPORT[$m]}")" -v n="${n:-0}" 'BEGIN {printf "%.0f", (n > 0 ? (b - a) / n : 0)}')
      rpr=$(awk -v a="$rec0" -v b="$(records "${MPORT[$m]}")" -v n="$(field "$r" requests_ok)" 'BEGIN {printf "%.2f", (b > a ? n / (b - a) : 0)}')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$batch" "$m" "${rate:-0}" "$cpu" "$disk" \
        "$(field "$r" p50_ms)" "$(field "$r" p99_ms)" "$(field "$r" refused_requests)" "$(field "$r" errors)" "$rpr" >>"$RESULTS"
      say "rep $rep batch $batch coalesce $m: $r"
    done
  done
done
for m in "${MODES[@]}"; do
  for p in "${PID[$m]}" "${SINKPID[$m]:-}"; do
    [[ -n $p ]] || continue
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  PID[$m]=""; SINKPID[$m]=""
done

spread() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "–" hi}'; }
col() { awk -F'\t' -v b="$1" -v m="$2" -v c="$3" 'NR > 1 && $2 == b && $3 == m {print $c}' "$RESULTS"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
{
  echo "# Coalescing small requests on vs off ($(date -u +%Y-%m-%d))"
  echo
  if [[ $SINK == 1 ]]; then downstream="healthy downstream (loadgen receive)"; else downstream="downstream down (everything spilled)"; fi
  echo "$(nproc) CPUs shared with other work, $DURABILITY, $COMPRESSION, fsync $FSYNC, $downstream,"
  echo "$CONNECTIONS loadgen connections, $DURATION s per phase, $REPS repetitions alternating which daemon goes first;"
  echo "window $WINDOW; daemons pinned: ${PIN:-no}. Medians, with min–max over the repetitions. Raw rows: results.tsv."
  echo
  echo "| batch (spans) | coalesce | spans/s | daemon CPU s / 100k spans | disk bytes / span | requests / record | p50 ms | p99 ms |"
  echo "|---|---|---|---|---|---|---|---|"
  for batch in "$BATCH_SMALL" "$BATCH_LARGE"; do
    for m in "${MODES[@]}"; do
      echo "| $batch | $m | $(col "$batch" "$m" 4 | median) ($(col "$batch" "$m" 4 | spread)) | $(col "$batch" "$m" 5 | median) ($(col "$batch" "$m" 5 | spread)) | $(col "$batch" "$m" 6 | median) | $(col "$batch" "$m" 11 | median) | $(col "$batch" "$m" 7 | median) | $(col "$batch" "$m" 8 | median) |"
    done
  done
  echo
  echo "| batch (spans) | coalesce | spans/s ÷ off | CPU per span ÷ off | disk per span ÷ off |"
  echo "|---|---|---|---|---|"
  for batch in "$BATCH_SMALL" "$BATCH_LARGE"; do
    for m in on window; do
      echo "| $batch | $m | $(ratio "$(col "$batch" "$m" 4 | median)" "$(col "$batch" off 4 | median)") | $(ratio "$(col "$batch" "$m" 5 | median)" "$(col "$batch" off 5 | median)") | $(ratio "$(col "$batch" "$m" 6 | median)" "$(col "$batch" off 6 | median)") |"
    done
  done
} >"$OUT/report.md"
cat "$OUT/report.md"
