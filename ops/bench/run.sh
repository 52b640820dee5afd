#!/usr/bin/env bash
# End-to-end load on loopback: the Spillway daemon between the load generator and a downstream
# stub, in three scenarios — healthy downstream, downstream down (everything spills), recovery
# (drain rate once the downstream returns) — sampling the daemon's RSS against its configured
# memory limit. Writes a markdown report. Every loop is bounded; the script stops by itself.
#
#   mvn -B -q -pl buffer-server,benchmarks -am package -DskipTests
#   ops/bench/run.sh                       # report in ops/bench/out/<time>/report.md
#
# Knobs (environment): DURATION (s per load phase, 20), CONNECTIONS (4), BATCH (spans/request,
# 512), RATE (spans/s, 0 = flat out), MEM_MIB (daemon buffer memory limit, 16: small, so the
# down scenario spills within seconds), DISK_MIB (4096),
# RECOVER_MAX (s to wait for the drain, 180), OUT (output dir), JAVA (java),
# DAEMON_JAVA_OPTS (the daemon's JVM options, "-Xms32m -Xmx128m -XX:MaxDirectMemorySize=128m": capped,
# so its RSS is compared with a bound, as in docs/RELIABILITY.md's soak),
# BASE_PORT (24317; uses BASE_PORT..BASE_PORT+3), OTELCOL=0 to skip a collector found on PATH.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
. "$ROOT/ops/bench/lib.sh"
JAVA=${JAVA:-java}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-4}
BATCH=${BATCH:-512}
RATE=${RATE:-0}
MEM_MIB=${MEM_MIB:-16}
DAEMON_JAVA_OPTS=${DAEMON_JAVA_OPTS:--Xms32m -Xmx128m -XX:MaxDirectMemorySize=128m}
DISK_MIB=${DISK_MIB:-4096}
RECOVER_MAX=${RECOVER_MAX:-180}
BASE_PORT=${BASE_PORT:-24317}
OUT=${OUT:-$ROOT/ops/bench/out/$(date -u +%Y%m%dT%H%M%SZ)}
SPILLWAY_JAR=$ROOT/buffer-server/target/spillway.jar
BENCH_JAR=$ROOT/benchmarks/target/benchmarks.jar
RPORT=$BASE_PORT; DPORT=$((BASE_PORT + 1)); MPORT=$((BASE_PORT + 2)); CPORT=$((BASE_PORT + 3))

for j in "$SPILLWAY_JAR" "$BENCH_JAR"; do
  [[ -f $j ]] || { echo "missing $j: mvn -B -q -pl buffer-server,benchmarks -am package -DskipTests" >&2; exit 2; }
done
mkdir -p "$OUT"
W=$OUT/work
mkdir -p "$W"
LOG=$OUT/run.log
: >"$LOG"

PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do
    if [[ -n $p ]]; then kill "$p" 2>/dev/null || true; fi
  done
}
trap cleanup EXIT

stop_pid() { # pid, bounded wait for exit
  local p=$1
  kill "$p" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$p" 2>/dev/null || true
}

# ---------------------------------------------------------------- material
"$JAVA" -jar "$SPILLWAY_JAR" certs dev --out "$W/certs" >>"$LOG" 2>&1
"$JAVA" -jar "$SPILLWAY_JAR" keys init --out "$W/keys" >>"$LOG" 2>&1
cat >"$W/spillway.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$RPORT
        max_recv_msg_size_mib: 15
        tls:
          cert_file: certs/server.crt
          key_file: certs/server.key
          client_ca_file: certs/ca.crt
buffer:
  durability: memory-first
  memory: {limit_mib: $MEM_MIB}
  spill:
    directory: $W/spill
    max_disk_mib: $DISK_MIB
    fsync: 1s
    compression: lz4
    keys:
      provider: local
      writer_keyset: keys/writer.json
      reader_keyset: keys/reader.json
exporters:
  otlp:
    endpoint: https://127.0.0.1:$DPORT
    compression: none
    tls:
      ca_file: certs/ca.crt
    retry_on_failure: {initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 2s}
telemetry:
  metrics:
    endpoint: 127.0.0.1:$MPORT
YAML

# ---------------------------------------------------------------- helpers
STUB_PID=""
start_stub() {
  "$JAVA" -jar "$BENCH_JAR" loadgen receive --port "$DPORT" --cert "$W/certs/server.crt" \
    --key "$W/certs/server.key" --stats "$W/stub.stats" --max-seconds 1800 >>"$LOG" 2>&1 &
  STUB_PID=$!; PIDS+=("$STUB_PID")
  for _ in $(seq 1 60); do [[ -s $W/stub.stats ]] && return 0; sleep 0.5; done
  say "downstream stub did not start"; exit 1
}
stub_spans() { [[ -s $W/stub.stats ]] && awk '{print $2}' "$W/stub.stats" || echo 0; }

metric() { # name -> value (sum over label sets), 0 if absent
  curl -s --max-time 2 "http://127.0.0.1:$MPORT/metrics" 2>/dev/null |
    awk -v n="$1" '$1==n || index($1, n"{")==1 {s+=$2; f=1} END {printf "%.0f", f ? s : 0}'
}

RSS_PID=""
start_rss() { # pid file
  ( for _ in $(seq 1 7200); do
      kill -0 "$1" 2>/dev/null || break
      awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null >>"$2" || true
      sleep 0.5
    done ) &
  RSS_PID=$!; PIDS+=("$RSS_PID")
}
rss_max_mib() { sort -n "$1" 2>/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'; }

load() { # label -> RESULT line
  "$JAVA" -jar "$BENCH_JAR" loadgen send --target "127.0.0.1:$RPORT" --ca "$W/certs/ca.crt" \
    --cert "$W/certs/client.crt" --key "$W/certs/client.key" --connections "$CONNECTIONS" \
    --batch "$BATCH" --rate "$RATE" --duration "$DURATION" --out "$W/$1.result" >>"$LOG" 2>&1 || true
  cat "$W/$1.result" 2>/dev/null || echo "RESULT failed=1"
}

wait_drained() { # -> seconds to drain; bounded by RECOVER_MAX; done when the stub stops growing
  local last same=0 t0 now
  t0=$(date +%s.%N); last=$(stub_spans)
  for _ in $(seq 1 $((RECOVER_MAX * 2))); do
    sleep 0.5
    now=$(stub_spans)
    if [[ $now == "$last" ]]; then same=$((same + 1)); else same=0; last=$now; fi
    if (( same >= 6 )) && [[ ${1:-} != daemon || $(metric spillway_buffer_disk_batches_pending) == 0 ]]; then
      break
    fi
  done
  echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2 - 3}'
}

# ---------------------------------------------------------------- Spillway
say "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
start_stub
say "starting the daemon"
# shellcheck disable=SC2086 # DAEMON_JAVA_OPTS is a list of options
"$JAVA" $DAEMON_JAVA_OPTS -jar "$SPILLWAY_JAR" serve --config "$W/spillway.yaml" >>"$OUT/daemon.log" 2>&1 &
DAEMON=$!; PIDS+=("$DAEMON")
for _ in $(seq 1 120); do
  curl -s --max-time 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz" 2>/dev/null | grep -q 200 && break
  kill -0 "$DAEMON" 2>/dev/null || { say "daemon exited; see $OUT/daemon.log"; exit 1; }
  sleep 0.5
done
start_rss "$DAEMON" "$W/rss.healthy"

say "scenario 1: healthy downstream, $DURATION s"
S0=$(stub_spans)
H=$(load healthy)
sleep 2
H_STUB=$(( $(stub_spans) - S0 ))
say "$H (downstream got $H_STUB spans)"
kill "$RSS_PID" 2>/dev/null || true

say "scenario 2: downstream down, $DURATION s"
stop_pid "$STUB_PID"
start_rss "$DAEMON" "$W/rss.down"
SPILLED0=$(metric spillway_spans_spilled_total)
D=$(load down)
sleep 1
D_SPILLED=$(( $(metric spillway_spans_spilled_total) - SPILLED0 ))
D_DISK=$(metric spillway_buffer_disk_bytes)
D_PENDING=$(metric spillway_buffer_disk_batches_pending)
D_MEM=$(metric spillway_buffer_memory_bytes)
say "$D (spilled $D_SPILLED spans, disk $D_DISK bytes, $D_PENDING batches pending, memory $D_MEM bytes)"

say "scenario 3: recovery"
EXP0=$(metric spillway_spans_exported_total)
rm -f "$W/stub.stats"
start_stub
R_SECONDS=$(wait_drained daemon)
R_SPANS=$(( $(metric spillway_spans_exported_total) - EXP0 ))
R_LEFT=$(metric spillway_buffer_disk_batches_pending)
kill "$RSS_PID" 2>/dev/null || true
say "drained $R_SPANS spans in $R_SECONDS s, $R_LEFT batches left on disk"
stop_pid "$DAEMON"
stop_pid "$STUB_PID"

H_RSS=$(rss_max_mib "$W/rss.healthy"); D_RSS=$(rss_max_mib "$W/rss.down")
drain_rate=$(awk -v n="$R_SPANS" -v s="$R_SECONDS" 'BEGIN {printf "%.0f", (s > 0) ? n / s : 0}')

# ---------------------------------------------------------------- a collector, when there is one
OTELCOL_BIN=""
if [[ ${OTELCOL:-1} != 0 ]]; then
  OTELCOL_BIN=$(command -v otelcol-contrib || command -v otelcol || true)
fi
C_ROWS=""
if [[ -n $OTELCOL_BIN ]]; then
  say "collector found: $OTELCOL_BIN; same scenarios with file_storage and a persistent sending queue"
  mkdir -p "$W/otelcol-storage"
  cat >"$W/otelcol.yaml" <<YAML
extensions:
  file_storage:
    directory: $W/otelcol-storage
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$CPORT
        max_recv_msg_size_mib: 15
        tls:
          cert_file: $W/certs/server.crt
          key_file: $W/certs/server.key
          client_ca_file: $W/certs/ca.crt
exporters:
  otlp:
    endpoint: 127.0.0.1:$DPORT
    compression: none
    tls:
      ca_file: $W/certs/ca.crt
    retry_on_failure: {enabled: true, initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 0s}
    sending_queue:
      enabled: true
      storage: file_storage
      queue_size: 100000
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
YAML
  rm -f "$W/stub.stats"; start_stub
  "$OTELCOL_BIN" --config "$W/otelcol.yaml" >>"$OUT/otelcol.log" 2>&1 &
  COL=$!; PIDS+=("$COL")
  sleep 5
  start_rss "$COL" "$W/rss.col"
  RPORT_SAVE=$RPORT; RPORT=$CPORT
  CH=$(load col-healthy); say "collector healthy: $CH"
  stop_pid "$STUB_PID"
  CD=$(load col-down); say "collector down: $CD"
  rm -f "$W/stub.stats"; start_stub
  C0=$(stub_spans); CR_SECONDS=$(wait_drained); CR_SPANS=$(( $(stub_spans) - C0 ))
  say "collector drained $CR_SPANS spans in $CR_SECONDS s"
  RPORT=$RPORT_SAVE
  stop_pid "$COL"; stop_pid "$STUB_PID"; kill "$RSS_PID" 2>/dev/null || true
  C_RSS=$(rss_max_mib "$W/rss.col")
  C_DRAIN=$(awk -v n="$CR_SPANS" -v s="$CR_SECONDS" 'BEGIN {printf "%.0f", (s > 0) ? n / s : 0}')
  C_ROWS="| otelcol healthy | $(field "$CH" accepted_spans_per_s) | $(field "$CH" p50_ms) | $(field "$CH" p99_ms) | $(field "$CH" refused_requests) | $(field "$CH" errors) | $C_RSS |
| otelcol downstream down | $(field "$CD" accepted_spans_per_s) | $(field "$CD" p50_ms) | $(field "$CD" p99_ms) | $(field "$CD" refused_requests) | $(field "$CD" errors) | $C_RSS |
| otelcol recovery: drained $CR_SPANS spans in $CR_SECONDS s | **$C_DRAIN spans/s** | | | | | |"
fi

# ---------------------------------------------------------------- report
REPORT=$OUT/report.md
{
  echo "# End-to-end load: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) memory, disk $(df -h "$W" | awk 'NR==2 {print $1 " (" $2 ", " $4 " free)"}'), load average at the end $(cut -d' ' -f1-3 /proc/loadavg), $("$JAVA" -version 2>&1 | head -1)."
  echo
  echo "Load: \`loadgen send\`, OTLP/gRPC over mTLS, $CONNECTIONS connections, $BATCH spans per request ($(awk -v b="$BATCH" 'BEGIN{print b}') generated spans of ~980 B), rate $([[ $RATE == 0 ]] && echo "flat out" || echo "$RATE spans/s"), $DURATION s per phase. Daemon: memory limit $MEM_MIB MiB, disk budget $DISK_MIB MiB, LZ4, fsync 1s, local keys; downstream: \`loadgen receive\` over TLS."
  echo
  echo "| scenario | accepted spans/s | p50 ms | p99 ms | refused requests | errors | daemon max RSS MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  echo "| Spillway healthy downstream | $(field "$H" accepted_spans_per_s) | $(field "$H" p50_ms) | $(field "$H" p99_ms) | $(field "$H" refused_requests) | $(field "$H" errors) | $H_RSS |"
  echo "| Spillway downstream down (spills) | $(field "$D" accepted_spans_per_s) | $(field "$D" p50_ms) | $(field "$D" p99_ms) | $(field "$D" refused_requests) | $(field "$D" errors) | $D_RSS |"
  echo "| Spillway recovery: drained $R_SPANS spans in $R_SECONDS s ($R_LEFT batches left) | **$drain_rate spans/s** | | | | | |"
  [[ -n $C_ROWS ]] && echo "$C_ROWS"
  echo
  echo "Downstream down: $D_SPILLED spans spilled, spill directory $D_DISK bytes on the device, $D_PENDING batches pending, $D_MEM bytes in memory at the end."
  echo "RSS is the whole JVM (heap, Netty buffers, mapped spill pages that are resident) against the buffer's configured payload limit of $MEM_MIB MiB; daemon JVM options \`$DAEMON_JAVA_OPTS\` (heap and direct memory capped; metaspace, code cache, thread stacks and resident mapped pages are not)."
  [[ -z $C_ROWS ]] && echo && echo "No \`otelcol\`/\`otelcol-contrib\` on PATH: collector comparison skipped."
  echo
  echo "Raw: \`run.log\`, \`daemon.log\`, \`work/*.result\`, \`work/rss.*\` (KiB, every 0.5 s)."
} >"$REPORT"
say "report: $REPORT"
cat "$REPORT"
