#!/usr/bin/env bash
# Side by side: the OpenTelemetry Collector (otlp receiver → otlp exporter with a persistent
# sending queue on file_storage) against the Spillway daemon, with the same mTLS certificates, the
# same load (loadgen, one span id per span), the same downstream sink (loadgen receive, which
# counts unique span ids), the daemon under test pinned to DAEMON_CPUS and load + sink pinned to
# LOAD_CPUS. Scenarios, each on a freshly started daemon with an empty storage directory:
#   healthy   load for DURATION s with the sink up; then until the sink has every accepted span
#   down      load for DURATION s with the sink down (everything queues on disk)
#   recovery  the same daemon, sink started: until the sink has every span accepted while down
#   idle      no load, sink up: the daemon's CPU over IDLE s
# Targets run in alternating order (as listed, then reversed, ...) for REPS repetitions; the
# report gives the median of each figure and the ratios Spillway/collector.
# Every loop is bounded; the script stops by itself and kills what it started.
#
#   mvn -B -ntp -q -pl buffer-server,benchmarks -am package -DskipTests    # never mvn install
#   ops/bench/side-by-side.sh               # report in ops/bench/out/side-by-side-<time>/report.md
#   DURATION=5 IDLE=5 REPS=1 ops/bench/side-by-side.sh                     # a short look (~5 min)
#
# Knobs (environment):
#   WARMUP (s of load with the sink up before a healthy or down phase is measured, 0: the daemons
#     start cold, and the JVM's JIT compilation is inside every Spillway figure; with WARMUP=20
#     each daemon has first served 20 s of the same load and delivered all of it, the state of a
#     daemon that has run for a while; the collector gets the same warm-up)
#   DURATION (s of load per phase, 30)   IDLE (s, 30, measured IDLE_SETTLE s after the daemon is
#   ready, 10)   REPS (5)   CONNECTIONS (4)
#   BATCH (spans per request, 512)   RATE (spans/s, 0 = flat out)
#   SPAN_SHAPE (rich: ~980 B spans with ~20 attributes and events, the default; telemetrygen:
#     ~150 B spans with 2 attributes, as the collector's telemetrygen sends)
#   TARGETS ("collector spillway:memory-first:lz4 spillway:durable:lz4 spillway:durable:zstd"; a
#     Spillway target is spillway:DURABILITY:COMPRESSION[:CONSUMERS], COMPRESSION one of none,
#     lz4, zstd; CONSUMERS its exporter's sending_queue.num_consumers, else NUM_CONSUMERS, so
#     "spillway:durable:lz4:1 spillway:durable:lz4:4" compares drains in one run)
#   NUM_CONSUMERS (Spillway's exporter sending_queue.num_consumers: exports in flight, 4, the
#     daemon's default)   COLLECTOR_CONSUMERS (the collector's, 10, its default)
#   SINK_LATENCY_MS (the sink answers each export after this many ms, 0: a downstream with the
#     round trip of a remote backend, where one export at a time cannot keep up)
#   SCENARIOS ("healthy down idle"; down is followed by recovery on the same daemon)
#   DAEMON_CPUS (0) and LOAD_CPUS (1): taskset core lists, e.g. 0-3 and 4-15 on a 16-core machine
#   MEM_MIB (Spillway memory tier, 16)   DISK_MIB (Spillway disk budget, 8192)
#   RECV_MIB (both daemons' max_recv_msg_size_mib, 4: the collector's and Spillway's default;
#     Spillway maps spill chunks of 4x its largest request, so 15 shows the 64 MiB chunks of old)
#   QUEUE_REQUESTS (collector sending_queue.queue_size, in requests, 100000)
#   DAEMON_JAVA_OPTS (Spillway's JVM options, "-Xms32m -Xmx128m -XX:MaxDirectMemorySize=128m":
#     docs/SERVER.md, "Peak memory with a 16 MiB memory tier")
#   DRAIN_MAX (s to wait for the sink to have everything, 300)   STALL (s without a new span id
#     after which a drain is given up as incomplete: 20, or 150 when DURATION >= 60: after a
#     long outage the collector's gRPC client waits out grpc-go's reconnect backoff, which grows
#     to 120 s (+-20 %) and which the collector does not reset; with 20 s a 120 s outage's
#     recovery was given up at 0 spans while the collector was still waiting to reconnect)
#   PROFILE (none | async | jfr: a CPU profile of each Spillway phase beside the report, started
#     and stopped with jcmd around the measured window;
#     async fetches tools.profiler:async-profiler:4.1 with mvn dependency:get if absent)
#   NICE (niceness of everything started, 0; raise it on a shared machine)
#   NOTE (a sentence quoted at the top of the report, e.g. what else ran on the machine)
#   BASE_PORT (25317; uses BASE_PORT..BASE_PORT+2)   JAVA (java)   OUT (output directory)
#   OTELCOL_BIN (a collector binary to use; else one is built with Go into OTELCOL_CACHE,
#     ~/.cache/spillway-bench, from ops/bench/otelcol-builder.yaml: ~10 min on 2 cores)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/ops/bench
JAVA=${JAVA:-java}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-0}
IDLE=${IDLE:-30}
IDLE_SETTLE=${IDLE_SETTLE:-10}
REPS=${REPS:-5}
CONNECTIONS=${CONNECTIONS:-4}
BATCH=${BATCH:-512}
SPAN_SHAPE=${SPAN_SHAPE:-rich}
RATE=${RATE:-0}
TARGETS=${TARGETS:-collector spillway:memory-first:lz4 spillway:durable:lz4 spillway:durable:zstd}
NUM_CONSUMERS=${NUM_CONSUMERS:-4}
COLLECTOR_CONSUMERS=${COLLECTOR_CONSUMERS:-10}
SINK_LATENCY_MS=${SINK_LATENCY_MS:-0}
SCENARIOS=${SCENARIOS:-healthy down idle}
DAEMON_CPUS=${DAEMON_CPUS:-0}
LOAD_CPUS=${LOAD_CPUS:-1}
MEM_MIB=${MEM_MIB:-16}
RECV_MIB=${RECV_MIB:-4}
DISK_MIB=${DISK_MIB:-8192}
QUEUE_REQUESTS=${QUEUE_REQUESTS:-100000}
DAEMON_JAVA_OPTS=${DAEMON_JAVA_OPTS:--Xms32m -Xmx128m -XX:MaxDirectMemorySize=128m}
DRAIN_MAX=${DRAIN_MAX:-300}
STALL=${STALL:-$(( DURATION >= 60 ? 150 : 20 ))}
PROFILE=${PROFILE:-none}
NICE=${NICE:-0}
NOTE=${NOTE:-}
BASE_PORT=${BASE_PORT:-25317}
OTELCOL_CACHE=${OTELCOL_CACHE:-$HOME/.cache/spillway-bench}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$HERE/out/side-by-side-$STAMP}
SPILLWAY_JAR=$ROOT/buffer-server/target/spillway.jar
BENCH_JAR=$ROOT/benchmarks/target/benchmarks.jar
RPORT=$BASE_PORT; DPORT=$((BASE_PORT + 1)); MPORT=$((BASE_PORT + 2))
CLK_TCK=$(getconf CLK_TCK)

for j in "$SPILLWAY_JAR" "$BENCH_JAR"; do
  [[ -f $j ]] || { echo "missing $j: mvn -B -ntp -q -pl buffer-server,benchmarks -am package -DskipTests" >&2; exit 2; }
done
for n in DURATION IDLE IDLE_SETTLE REPS CONNECTIONS BATCH RATE MEM_MIB RECV_MIB DISK_MIB QUEUE_REQUESTS DRAIN_MAX STALL NICE BASE_PORT NUM_CONSUMERS COLLECTOR_CONSUMERS SINK_LATENCY_MS; do
  [[ ${!n} =~ ^[0-9]+$ ]] || { echo "$n must be a whole number, got '${!n}'" >&2; exit 2; }
done
case $SPAN_SHAPE in rich) SPAN_DESC="~980 B each, ~20 attributes" ;; telemetrygen) SPAN_DESC="telemetrygen's shape, ~150 B each, 2 attributes" ;;
  *) echo "SPAN_SHAPE must be rich or telemetrygen, got '$SPAN_SHAPE'" >&2; exit 2 ;; esac
(( DURATION >= 1 && REPS >= 1 )) || { echo "DURATION and REPS must be at least 1" >&2; exit 2; }
(( NUM_CONSUMERS >= 1 && NUM_CONSUMERS <= 64 )) || { echo "NUM_CONSUMERS must be 1..64, got $NUM_CONSUMERS" >&2; exit 2; }
(( COLLECTOR_CONSUMERS >= 1 )) || { echo "COLLECTOR_CONSUMERS must be at least 1" >&2; exit 2; }
case $PROFILE in none | async | jfr) ;; *) echo "PROFILE must be none, async or jfr, got '$PROFILE'" >&2; exit 2 ;; esac
for sc in $SCENARIOS; do
  [[ $sc =~ ^(healthy|down|idle)$ ]] || { echo "unknown scenario '$sc' (healthy, down, idle; down includes recovery)" >&2; exit 2; }
done
for t in $TARGETS; do
  [[ $t == collector || $t =~ ^spillway:(memory-first|durable):(none|lz4|zstd)(:[0-9]+)?$ ]] ||
    { echo "unknown target '$t' (collector or spillway:DURABILITY:COMPRESSION[:CONSUMERS], none|lz4|zstd)" >&2; exit 2; }
done
for p in "$RPORT" "$DPORT" "$MPORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p is already in use on 127.0.0.1: set BASE_PORT" >&2; exit 2
  fi
done

mkdir -p "$OUT"
W=$OUT/work
mkdir -p "$W"
LOG=$OUT/run.log
: >"$LOG"
RESULTS=$OUT/results.tsv
printf 'rep\ttarget\tscenario\tmetric\tvalue\n' >"$RESULTS"
say() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$LOG" >&2; }

# ---------------------------------------------------------------- processes
PIDS=()
cleanup() { # SIGTERM to whatever is still running, up to 10 s, then SIGKILL
  local p alive
  for p in "${PIDS[@]:-}"; do
    if [[ -n $p ]]; then kill "$p" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 20); do
    alive=0
    for p in "${PIDS[@]:-}"; do
      if [[ -n $p ]] && kill -0 "$p" 2>/dev/null; then alive=1; fi
    done
    (( alive )) || return 0
    sleep 0.5
  done
  for p in "${PIDS[@]:-}"; do
    if [[ -n $p ]]; then kill -9 "$p" 2>/dev/null || true; fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() { # pid: SIGTERM, a bounded wait, then SIGKILL
  local p=$1
  kill "$p" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }; sleep 0.5; done
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cpu_ticks() { # pid -> utime + stime in clock ticks (the fields after "pid (comm) ")
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'
}
peak_rss_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
now_ms() { date +%s%3N; }
calc() { awk "BEGIN {v = $1; printf \"%.${2:-2}f\", v}"; }
record() { # rep target scenario metric value
  printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
}

# ---------------------------------------------------------------- the collector
build_collector() { # -> path of a collector binary, built once per builder config
  local hash dir builder
  hash=$(sha256sum "$HERE/otelcol-builder.yaml" | cut -c1-12)
  dir=$OTELCOL_CACHE/otelcol-$hash
  if [[ -x $dir/dist/otelcol-spillway-bench ]]; then
    echo "$dir/dist/otelcol-spillway-bench"; return 0
  fi
  command -v go >/dev/null || { say "no OTELCOL_BIN and no Go on PATH: cannot build the collector"; return 1; }
  mkdir -p "$dir/bin"
  builder=$dir/bin/builder
  if [[ ! -x $builder ]]; then
    say "installing the collector's builder v0.165.0 into $dir/bin"
    GOBIN=$dir/bin GOFLAGS=-p=2 nice -n 10 go install go.opentelemetry.io/collector/cmd/builder@v0.165.0 >>"$LOG" 2>&1
  fi
  cp "$HERE/otelcol-builder.yaml" "$dir/builder.yaml"
  say "building the collector into $dir/dist (log $dir/build.log; ~10 min on 2 cores)"
  if ! (cd "$dir" && GOFLAGS=-p=2 nice -n 10 timeout 3600 "$builder" --config builder.yaml >"$dir/build.log" 2>&1); then
    say "collector build failed: see $dir/build.log"; return 1
  fi
  echo "$dir/dist/otelcol-spillway-bench"
}

if [[ " $TARGETS " == *" collector "* ]]; then
  OTELCOL_BIN=${OTELCOL_BIN:-$(build_collector)}
  [[ -x $OTELCOL_BIN ]] || { say "collector binary $OTELCOL_BIN is not executable"; exit 2; }
  # builder-made binaries carry no version: name the receiver's and file_storage's modules instead
  OTELCOL_VERSION=$("$OTELCOL_BIN" components 2>/dev/null |
    awk '/module: .*(otlpreceiver|filestorage) / {printf "%s%s", sep, $2 " " $3; sep = ", "}' || true)
fi

# ---------------------------------------------------------------- profiler
ASYNC_LIB=""
if [[ $PROFILE == async ]]; then
  ap_jar=$HOME/.m2/repository/tools/profiler/async-profiler/4.1/async-profiler-4.1.jar
  if [[ ! -f $ap_jar ]]; then
    say "fetching tools.profiler:async-profiler:4.1 from Maven Central"
    mvn -B -ntp -q dependency:get -Dartifact=tools.profiler:async-profiler:4.1 >>"$LOG" 2>&1
  fi
  mkdir -p "$OTELCOL_CACHE/async-profiler-4.1"
  ASYNC_LIB=$(find "$OTELCOL_CACHE/async-profiler-4.1" -name libasyncProfiler.so -path '*linux-x64*' | head -1)
  if [[ -z $ASYNC_LIB ]]; then
    (cd "$OTELCOL_CACHE/async-profiler-4.1" && unzip -o -q "$ap_jar")
    ASYNC_LIB=$(find "$OTELCOL_CACHE/async-profiler-4.1" -name libasyncProfiler.so -path '*linux-x64*' | head -1)
  fi
  [[ -n $ASYNC_LIB ]] || { say "no linux-x64 libasyncProfiler.so in $ap_jar"; exit 2; }
fi

# ---------------------------------------------------------------- shared material
"$JAVA" -jar "$SPILLWAY_JAR" certs dev --out "$W/certs" >>"$LOG" 2>&1
"$JAVA" -jar "$SPILLWAY_JAR" keys init --out "$W/keys" >>"$LOG" 2>&1

spillway_config() { # run-dir durability compression consumers
  cat >"$1/daemon.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$RPORT
        max_recv_msg_size_mib: $RECV_MIB
        tls:
          cert_file: $W/certs/server.crt
          key_file: $W/certs/server.key
          client_ca_file: $W/certs/ca.crt
buffer:
  durability: $2
  memory: {limit_mib: $MEM_MIB}
  spill:
    directory: $1/storage
    max_disk_mib: $DISK_MIB
    fsync: 1s
    compression: $3
    keys:
      provider: local
      writer_keyset: $W/keys/writer.json
      reader_keyset: $W/keys/reader.json
exporters:
  otlp:
    endpoint: https://127.0.0.1:$DPORT
    compression: none
    tls:
      ca_file: $W/certs/ca.crt
    retry_on_failure: {initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 2s}
    sending_queue: {num_consumers: $4}
telemetry:
  metrics:
    endpoint: 127.0.0.1:$MPORT
YAML
}

collector_config() { # run-dir
  mkdir -p "$1/storage"
  cat >"$1/daemon.yaml" <<YAML
extensions:
  file_storage:
    directory: $1/storage
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$RPORT
        max_recv_msg_size_mib: $RECV_MIB
        tls:
          cert_file: $W/certs/server.crt
          key_file: $W/certs/server.key
          client_ca_file: $W/certs/ca.crt
exporters:
  otlp_grpc:
    endpoint: 127.0.0.1:$DPORT
    compression: none
    tls:
      ca_file: $W/certs/ca.crt
    retry_on_failure: {enabled: true, initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 0s}
    sending_queue:
      enabled: true
      storage: file_storage
      queue_size: $QUEUE_REQUESTS
      num_consumers: $COLLECTOR_CONSUMERS
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp_grpc]
YAML
}

# ---------------------------------------------------------------- sink and load
SINK_PID=""
SINK_STATS=""
start_sink() { # stats-file
  SINK_STATS=$1
  rm -f "$SINK_STATS"
  nice -n "$NICE" taskset -c "$LOAD_CPUS" "$JAVA" -jar "$BENCH_JAR" loadgen receive --port "$DPORT" \
    --cert "$W/certs/server.crt" --key "$W/certs/server.key" --stats "$SINK_STATS" --latency-ms "$SINK_LATENCY_MS" \
    --max-seconds $((DRAIN_MAX + 4 * DURATION + IDLE + 300)) >>"$LOG" 2>&1 &
  SINK_PID=$!; PIDS+=("$SINK_PID")
  for _ in $(seq 1 120); do [[ -s $SINK_STATS ]] && return 0; sleep 0.5; done
  say "the sink did not start (see $LOG)"; exit 1
}
stop_sink() { [[ -n $SINK_PID ]] && stop_pid "$SINK_PID"; SINK_PID=""; }
sink_field() { # 1-based field of the stats line: 2 spans, 4 unique, 5 duplicates, 6 foreign, 7 last_new_ms, 10 first_new_ms
  if [[ -s $SINK_STATS ]]; then awk -v f="$1" '{print ($f == "" ? 0 : $f)}' "$SINK_STATS"; else echo 0; fi
}

load() { # result-file [seconds [first-connection]]; loadgen on LOAD_CPUS with a span id per span
  nice -n "$NICE" taskset -c "$LOAD_CPUS" "$JAVA" -jar "$BENCH_JAR" loadgen send --target "127.0.0.1:$RPORT" \
    --ca "$W/certs/ca.crt" --cert "$W/certs/client.crt" --key "$W/certs/client.key" \
    --connections "$CONNECTIONS" --batch "$BATCH" --span-shape "$SPAN_SHAPE" --rate "$RATE" --duration "${2:-$DURATION}" \
    --unique-ids true --first-connection "${3:-0}" --out "$1" >>"$LOG" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait "$pid" || true # in the background so that Ctrl-C stops the run at once
  [[ -s $1 ]] || echo "RESULT failed=1" >"$1"
}
field() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k {print $2; f = 1} END {if (!f) print 0}'; }

wait_delivered() { # accepted -> waits until the sink has that many unique span ids, or no new one for STALL s
  local want=$1 last=-1 same=0 got
  for _ in $(seq 1 $((DRAIN_MAX * 4))); do
    got=$(sink_field 4)
    (( got >= want )) && return 0
    if [[ $got == "$last" ]]; then same=$((same + 1)); else same=0; last=$got; fi
    (( same >= STALL * 4 )) && { say "  the sink stopped at $got of $want spans"; return 0; }
    sleep 0.25
  done
  say "  gave up after DRAIN_MAX=$DRAIN_MAX s at $(sink_field 4) of $want spans"
}

# ---------------------------------------------------------------- one daemon
DAEMON_PID=""
start_daemon() { # target run-dir
  local target=$1 run=$2 opts
  mkdir -p "$run"
  if [[ $target == collector ]]; then
    collector_config "$run"
    nice -n "$NICE" taskset -c "$DAEMON_CPUS" "$OTELCOL_BIN" --config "$run/daemon.yaml" >"$run/daemon.log" 2>&1 &
  else
    IFS=: read -r _ durability compression consumers <<<"$target"
    spillway_config "$run" "$durability" "$compression" "${consumers:-$NUM_CONSUMERS}"
    opts=$DAEMON_JAVA_OPTS
    # shellcheck disable=SC2086 # opts is a list of JVM options
    nice -n "$NICE" taskset -c "$DAEMON_CPUS" "$JAVA" $opts -jar "$SPILLWAY_JAR" serve --config "$run/daemon.yaml" >"$run/daemon.log" 2>&1 &
  fi
  DAEMON_PID=$!; PIDS+=("$DAEMON_PID")
  for _ in $(seq 1 240); do
    if port_open "$RPORT"; then
      [[ $target == collector ]] && return 0
      curl -s --max-time 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz" 2>/dev/null | grep -q 200 && return 0
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || { say "$target exited at start; see $run/daemon.log"; exit 1; }
    sleep 0.25
  done
  say "$target not ready after 60 s; see $run/daemon.log"; exit 1
}
# A profile covers exactly a measured phase (not the JVM's start-up): the profiler is started and
# stopped in the running daemon through jcmd (async-profiler's agent loaded by JVMTI.agent_load,
# which runs the command it is given, quoted: unquoted, jcmd would read "event=cpu" as its own
# name=value argument; or JFR.start / JFR.stop).
JCMD=$(dirname "$(readlink -f "$(command -v "$JAVA")")")/jcmd
profile_start() { # target
  [[ $PROFILE == none || $1 == collector ]] && return 0
  case $PROFILE in
    async) nice -n "$NICE" taskset -c "$LOAD_CPUS" "$JCMD" "$DAEMON_PID" JVMTI.agent_load "$ASYNC_LIB" "\"start,event=cpu,interval=10ms\"" >>"$LOG" 2>&1 || say "  profiler did not start" ;;
    jfr) nice -n "$NICE" taskset -c "$LOAD_CPUS" "$JCMD" "$DAEMON_PID" JFR.start name=side-by-side settings=profile >>"$LOG" 2>&1 || say "  JFR did not start" ;;
  esac
}
profile_stop() { # target phase
  [[ $PROFILE == none || $1 == collector ]] && return 0
  local f=$OUT/profile-${1//:/-}-$2-r$REP
  case $PROFILE in
    async) nice -n "$NICE" taskset -c "$LOAD_CPUS" "$JCMD" "$DAEMON_PID" JVMTI.agent_load "$ASYNC_LIB" "\"stop,file=$f.collapsed,collapsed\"" >>"$LOG" 2>&1 || say "  profiler did not stop" ;;
    jfr) nice -n "$NICE" taskset -c "$LOAD_CPUS" "$JCMD" "$DAEMON_PID" JFR.stop name=side-by-side "filename=$f.jfr" >>"$LOG" 2>&1 || say "  JFR did not stop" ;;
  esac
  # jcmd succeeds whatever the agent answered: the file says whether there is a profile
  compgen -G "$f.*" >/dev/null || say "  no profile written for $1 $2 (the agent's messages are in the daemon's log)"
}

stop_daemon() { [[ -n $DAEMON_PID ]] && stop_pid "$DAEMON_PID"; DAEMON_PID=""; }
storage_bytes() { du -s --block-size=1 "$1/storage" 2>/dev/null | awk '{print $1}'; }

# ---------------------------------------------------------------- scenarios
warm_up() { # run-dir: WARMUP s of load into the started daemon, the sink up, until the sink has it all
  (( WARMUP > 0 )) || return 0
  load "$1-warmup.result" "$WARMUP" 1000 # span ids of their own: the measured phase's are not duplicates
  wait_delivered "$(field "$1-warmup.result" accepted_spans)"
  say "  warm-up: $(cat "$1-warmup.result"); sink unique=$(sink_field 4)"
}

scenario_healthy() { # target
  local t=$1 run=$W/r$REP-${1//:/-}-healthy c0 c1 acc start last uniq dup base
  start_sink "$run-sink.stats"
  start_daemon "$t" "$run"
  warm_up "$run"
  base=$(sink_field 4) # the warm-up's spans, already delivered
  profile_start "$t"
  c0=$(cpu_ticks "$DAEMON_PID")
  load "$run.result"
  acc=$(field "$run.result" accepted_spans); start=$(field "$run.result" start_ms)
  wait_delivered $((base + acc))
  c1=$(cpu_ticks "$DAEMON_PID")
  profile_stop "$t" healthy
  record "$REP" "$t" healthy peak_rss_mib "$(calc "$(peak_rss_kib "$DAEMON_PID") / 1024" 0)"
  stop_daemon; stop_sink
  uniq=$(($(sink_field 4) - base)); dup=$(sink_field 5); last=$(sink_field 7)
  record "$REP" "$t" healthy accepted_spans_per_s "$(field "$run.result" accepted_spans_per_s)"
  record "$REP" "$t" healthy delivered_spans_per_s "$(calc "($last > $start) ? $acc / (($last - $start) / 1000) : 0" 0)"
  record "$REP" "$t" healthy cpu_s_per_100k_spans "$(calc "($acc > 0) ? ($c1 - $c0) / $CLK_TCK / $acc * 100000 : 0" 3)"
  record "$REP" "$t" healthy p99_ms "$(field "$run.result" p99_ms)"
  record "$REP" "$t" healthy refused_requests "$(field "$run.result" refused_requests)"
  record "$REP" "$t" healthy lost_spans "$(calc "($acc > $uniq) ? $acc - $uniq : 0" 0)"
  record "$REP" "$t" healthy duplicate_spans "$dup"
  say "  $t healthy: $(cat "$run.result"); sink unique=$uniq dup=$dup"
}

scenario_down_recovery() { # target
  local t=$1 run=$W/r$REP-${1//:/-}-down c0 c1 c2 acc uniq dup last first t0 disk0 disk
  if (( WARMUP > 0 )); then # warm up with a sink, then take it away
    start_sink "$run-warmup-sink.stats"; start_daemon "$t" "$run"; warm_up "$run"; stop_sink
  else
    start_daemon "$t" "$run"
  fi
  disk0=$(storage_bytes "$run"); disk0=${disk0:-0}
  profile_start "$t"
  c0=$(cpu_ticks "$DAEMON_PID")
  load "$run.result"
  c1=$(cpu_ticks "$DAEMON_PID")
  profile_stop "$t" down
  acc=$(field "$run.result" accepted_spans)
  sleep 2 # the collector's and Spillway's 1 s fsync / flush timers
  disk=$(storage_bytes "$run"); disk=${disk:-0}
  record "$REP" "$t" down accepted_spans_per_s "$(field "$run.result" accepted_spans_per_s)"
  record "$REP" "$t" down cpu_s_per_100k_spans "$(calc "($acc > 0) ? ($c1 - $c0) / $CLK_TCK / $acc * 100000 : 0" 3)"
  # Not after a warm-up: the collector's bbolt file reuses the pages the warm-up freed, and
  # Spillway's spill deletes acknowledged segments, so the growth would not be the down phase's.
  if (( WARMUP == 0 && disk > disk0 && acc > 0 )); then # else all of it is in Spillway's memory tier
    record "$REP" "$t" down disk_bytes_per_span "$(calc "($disk - $disk0) / $acc" 0)"
  fi
  record "$REP" "$t" down peak_rss_mib "$(calc "$(peak_rss_kib "$DAEMON_PID") / 1024" 0)"
  record "$REP" "$t" down p99_ms "$(field "$run.result" p99_ms)"
  record "$REP" "$t" down refused_requests "$(field "$run.result" refused_requests)"
  say "  $t down: $(cat "$run.result"); storage $((disk - disk0)) bytes"

  start_sink "$run-sink.stats"
  c1=$(cpu_ticks "$DAEMON_PID") # from the moment the sink listens: its JVM's start-up is not the drain's
  t0=$(now_ms)
  profile_start "$t"
  wait_delivered "$acc"
  c2=$(cpu_ticks "$DAEMON_PID")
  profile_stop "$t" recovery
  record "$REP" "$t" recovery peak_rss_mib "$(calc "$(peak_rss_kib "$DAEMON_PID") / 1024" 0)"
  stop_daemon; stop_sink
  uniq=$(sink_field 4); dup=$(sink_field 5); last=$(sink_field 7); first=$(sink_field 10)
  record "$REP" "$t" recovery first_delivery_s "$(calc "($first > $t0) ? ($first - $t0) / 1000 : 0" 1)"
  record "$REP" "$t" recovery drain_s "$(calc "($last > $t0) ? ($last - $t0) / 1000 : 0" 1)"
  record "$REP" "$t" recovery drain_spans_per_s "$(calc "($last > $t0) ? $uniq / (($last - $t0) / 1000) : 0" 0)"
  record "$REP" "$t" recovery cpu_s_per_100k_spans "$(calc "($uniq > 0) ? ($c2 - $c1) / $CLK_TCK / $uniq * 100000 : 0" 3)"
  record "$REP" "$t" recovery lost_spans "$(calc "($acc > $uniq) ? $acc - $uniq : 0" 0)"
  record "$REP" "$t" recovery duplicate_spans "$dup"
  say "  $t recovery: $uniq unique spans (dup $dup) in $(calc "($last > $t0) ? ($last - $t0) / 1000 : 0" 1) s"
}

scenario_idle() { # target
  local t=$1 run=$W/r$REP-${1//:/-}-idle c0 c1
  start_sink "$run-sink.stats"
  start_daemon "$t" "$run"
  sleep "$IDLE_SETTLE" # past start-up work (JIT, first timers)
  profile_start "$t"
  c0=$(cpu_ticks "$DAEMON_PID")
  sleep "$IDLE"
  c1=$(cpu_ticks "$DAEMON_PID")
  profile_stop "$t" idle
  record "$REP" "$t" idle cpu_percent_of_a_core "$(calc "($c1 - $c0) / $CLK_TCK / $IDLE * 100" 2)"
  record "$REP" "$t" idle rss_mib "$(awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$DAEMON_PID/status")"
  stop_daemon; stop_sink
}

# ---------------------------------------------------------------- the runs
read -r -a ORDER <<<"$TARGETS"
say "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "targets: ${ORDER[*]}; daemon on CPUs $DAEMON_CPUS, load and sink on CPUs $LOAD_CPUS; $REPS repetitions of $DURATION s"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for REP in $(seq 1 "$REPS"); do
  if (( REP % 2 == 1 )); then list=("${ORDER[@]}"); else list=(); for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do list+=("${ORDER[i]}"); done; fi
  say "repetition $REP of $REPS: ${list[*]}"
  for t in "${list[@]}"; do
    [[ " $SCENARIOS " == *" healthy "* ]] && scenario_healthy "$t"
    [[ " $SCENARIOS " == *" down "* ]] && scenario_down_recovery "$t"
    [[ " $SCENARIOS " == *" idle "* ]] && scenario_idle "$t"
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
profile_shares() { # collapsed-stacks file -> "category share %" lines, largest first
  awk '
    { n = $NF; st = $0; sub(/ [0-9]+$/, "", st); total += n
      if (st ~ /GCTaskThread|G1[A-Z]|SerialHeap|CollectedHeap|CollectForAllocation|ParallelScavenge|VM_GC|Young|Tenured/) c = "GC"
      else if (st ~ /CompileBroker|C2Compiler|Compiler::|Compilation::|Compile::/) c = "JIT"
      else if (st ~ /com\/google\/crypto\/tink/) c = "AES-GCM seal/open (Tink)"
      else if (st ~ /[Ll][Zz]4/) c = "LZ4"
      else if (st ~ /[Zz][Ss][Tt][Dd]/) c = "zstd"
      else if (st ~ /com\/google\/protobuf|io\/opentelemetry\/proto/) c = "protobuf parse/serialise"
      else if (st ~ /SSL|ssl|Ssl|tcnative/) c = "TLS"
      else if (st ~ /net\/openhft/) c = "Chronicle"
      else if (st ~ /io\/grpc|io\/netty/) c = "gRPC/Netty"
      else if (st ~ /dev\/spillway/) c = "Spillway (own code)"
      else c = "other (JVM, kernel, unresolved)"
      share[c] += n }
    END { for (c in share) printf "%s\t%.1f\n", c, 100 * share[c] / (total ? total : 1) }' "$1" | sort -t$'\t' -k2,2 -gr
}

median() { # target scenario metric -> median over repetitions ("–" if none)
  awk -F'\t' -v t="$1" -v s="$2" -v m="$3" '$2 == t && $3 == s && $4 == m {print $5}' "$RESULTS" | sort -g |
    awk '{v[NR] = $1} END {if (NR == 0) print "–"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
ratio() { # value base -> "1.23×" or "–"
  awk -v a="$1" -v b="$2" 'BEGIN {if (a == "–" || b == "–" || b + 0 == 0) print "–"; else printf "%.2f×", a / b}'
}
rep_ratios() { # target scenario metric -> "r1 r2 … → median" of value ÷ the collector's in the same repetition
  awk -F'\t' -v t="$1" -v s="$2" -v m="$3" '
    $3 == s && $4 == m && $2 == t {v[$1] = $5}
    $3 == s && $4 == m && $2 == "collector" {c[$1] = $5}
    END {
      n = 0
      for (r = 1; r <= 1000; r++) if ((r in v) && (r in c) && c[r] + 0 != 0) { x[++n] = v[r] / c[r]; out = out sprintf("%.2f ", x[n]) }
      if (n == 0) { print "–"; exit }
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { y = x[i]; x[i] = x[j]; x[j] = y }
      printf "%s→ **%.2f**", out, (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
    }' "$RESULTS"
}
ROWS=(
  "healthy accepted_spans_per_s healthy: spans/s accepted"
  "healthy delivered_spans_per_s healthy: spans/s delivered end to end"
  "healthy cpu_s_per_100k_spans healthy: daemon CPU s per 100k spans"
  "healthy peak_rss_mib healthy: peak RSS MiB"
  "healthy p99_ms healthy: p99 request latency ms"
  "healthy lost_spans healthy: spans lost"
  "healthy duplicate_spans healthy: spans delivered twice"
  "down accepted_spans_per_s downstream down: spans/s accepted"
  "down cpu_s_per_100k_spans downstream down: daemon CPU s per 100k spans"
  "down disk_bytes_per_span downstream down: bytes on disk per span"
  "down peak_rss_mib downstream down: peak RSS MiB"
  "down refused_requests downstream down: refused requests"
  "recovery drain_spans_per_s recovery: spans/s drained"
  "recovery first_delivery_s recovery: s until the sink had its first span"
  "recovery drain_s recovery: s until the sink had all"
  "recovery cpu_s_per_100k_spans recovery: daemon CPU s per 100k spans"
  "recovery peak_rss_mib recovery: peak RSS MiB (down + drain)"
  "recovery lost_spans recovery: spans lost"
  "recovery duplicate_spans recovery: spans delivered twice"
  "idle cpu_percent_of_a_core idle: CPU % of a core"
  "idle rss_mib idle: RSS MiB"
)
REPORT=$OUT/report.md
{
  echo "# Side by side: Spillway and the OpenTelemetry Collector, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  [[ -n $NOTE ]] && echo "> $NOTE" && echo
  echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) memory, disk $(df -h "$W" | awk 'NR==2 {print $1 " (" $2 ", " $4 " free)"}'); load average $LOAD_START at the start, $LOAD_END at the end; $("$JAVA" -version 2>&1 | head -1)."
  echo
  echo "Daemon under test pinned to CPUs \`$DAEMON_CPUS\`, load generator and sink to \`$LOAD_CPUS\` (taskset). Load: \`loadgen send\`, OTLP/gRPC over mTLS, $CONNECTIONS connections, $BATCH spans per request ($SPAN_DESC), one span id per span, rate $([[ $RATE == 0 ]] && echo "flat out" || echo "$RATE spans/s"), $DURATION s per phase; idle over $IDLE s, from $IDLE_SETTLE s after the daemon was ready. $( (( WARMUP > 0 )) && echo "Each daemon first served $WARMUP s of the same load with the sink up and delivered all of it (a warm JIT, as in a daemon that has run a while); peak RSS includes that warm-up, and bytes on disk are not measured after it." || echo "Daemons start cold: JIT warm-up is inside the first seconds of every Spillway figure.") $REPS repetition(s) in alternating order (${ORDER[*]}, then reversed); each figure is the median. Each scenario starts a fresh daemon with empty storage."
  echo
  [[ " $TARGETS " == *" collector "* ]] && echo "Collector: \`$OTELCOL_BIN\` ($OTELCOL_VERSION): otlp receiver (mTLS) → \`otlp_grpc\` exporter, compression none, \`sending_queue\` on \`file_storage\` (queue_size $QUEUE_REQUESTS requests, $COLLECTOR_CONSUMERS consumers, no fsync), retry without a time limit." && echo
  echo "Spillway: \`$(basename "$SPILLWAY_JAR")\` from $(git -C "$ROOT" log -1 --format='%h %s' 2>/dev/null || echo "this tree"), JVM options \`$DAEMON_JAVA_OPTS\`, memory tier $MEM_MIB MiB, disk budget $DISK_MIB MiB, both daemons' \`max_recv_msg_size_mib\` $RECV_MIB, fsync 1s, local keys (AES-256-GCM), exporter compression none, $NUM_CONSUMERS exports in flight (\`sending_queue.num_consumers\`) unless the target names its own (\`spillway:…:N\`)."
  echo
  echo "Sink: \`loadgen receive\` over TLS, counting unique span ids, answering each export after $SINK_LATENCY_MS ms. *Delivered end to end* = spans accepted ÷ (time of the sink's last new span id − the load's start). *Lost* = accepted by the daemon but never at the sink (spans refused by a daemon are not counted: the client saw the refusal). CPU is the daemon's utime + stime from \`/proc/PID/stat\`; healthy CPU includes delivering the backlog after the load; peak RSS is \`VmHWM\`; disk is \`du\` of the storage directory after the down phase ÷ spans accepted (Spillway's memory tier holds up to $MEM_MIB MiB of them off disk; – when nothing reached the disk). – in a ratio: no figure on one side, or a zero collector figure."
  echo
  header="| figure (median) |"; rule="|---|"
  for t in "${ORDER[@]}"; do header="$header $t |"; rule="$rule---:|"; done
  for t in "${ORDER[@]}"; do [[ $t == collector ]] && continue; header="$header $t ÷ collector |"; rule="$rule---:|"; done
  echo "$header"; echo "$rule"
  for row in "${ROWS[@]}"; do
    read -r sc metric label <<<"$row"
    line="| $label |"
    for t in "${ORDER[@]}"; do line="$line $(median "$t" "$sc" "$metric") |"; done
    for t in "${ORDER[@]}"; do
      [[ $t == collector ]] && continue
      if [[ " $TARGETS " == *" collector "* ]]; then
        line="$line $(ratio "$(median "$t" "$sc" "$metric")" "$(median collector "$sc" "$metric")") |"
      else
        line="$line – |"
      fi
    done
    echo "$line"
  done
  echo
  if [[ " $TARGETS " == *" collector "* ]]; then
    # The host's speed can change between repetitions (another tenant, thermal limits): a ratio
    # within one repetition compares daemons under the same conditions; a ratio of medians may not.
    echo "The same ratios taken within each repetition (each Spillway figure ÷ the collector's in that repetition, r1 r2 … → their median):"
    echo
    header="| figure |"; rule="|---|"
    for t in "${ORDER[@]}"; do [[ $t == collector ]] && continue; header="$header $t ÷ collector |"; rule="$rule---|"; done
    echo "$header"; echo "$rule"
    for row in "${ROWS[@]}"; do
      read -r sc metric label <<<"$row"
      line="| $label |"
      for t in "${ORDER[@]}"; do [[ $t == collector ]] && continue; line="$line $(rep_ratios "$t" "$sc" "$metric") |"; done
      echo "$line"
    done
    echo
  fi
  if [[ $PROFILE != none ]]; then
    echo "Profiles ($PROFILE) of each Spillway scenario's measured phase (started and stopped through \`jcmd\`, so the JVM's start-up is not in them; the CPU figures include the profiler's small cost): \`profile-*\` beside this report (collapsed stacks for async-profiler: \`flamegraph.pl\` or async-profiler's \`jfrconv\` turn them into a flame graph; JFR files open in JDK Mission Control or \`jfr print\`). The Go collector is not profiled (its build has no pprof extension)."
    echo
    if [[ $PROFILE == async ]]; then
      echo "Where the daemon's CPU went (share of samples; a sample goes to the first of GC, JIT, Tink, LZ4, zstd, protobuf, TLS, Chronicle, gRPC/Netty, Spillway's own code found in its stack; repetition 1):"
      echo
      for f in "$OUT"/profile-*-r1.collapsed; do
        [[ -s $f ]] || continue
        echo "- \`$(basename "$f")\`: $(profile_shares "$f" | awk -F'\t' '$2 >= 0.5 {printf "%s%s %s %%", sep, $1, $2; sep = ", "}')"
      done
      echo
    fi
  fi
  echo "Raw: \`results.tsv\` (every figure of every repetition), \`run.log\`, \`work/r*/daemon.log\`, \`work/*.result\`, \`work/*-sink.stats\`."
} >"$REPORT"
say "report: $REPORT"
cat "$REPORT"
