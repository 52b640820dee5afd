#!/usr/bin/env bash
# Where a running Spillway daemon's resident memory goes, sampled while a benchmark drives it.
# Run beside ops/bench/side-by-side.sh (or run.sh) with -XX:NativeMemoryTracking=summary in
# DAEMON_JAVA_OPTS: every second it finds the daemons (java ... spillway.jar serve), reads
# /proc/PID/status (VmRSS, RssAnon, RssFile, VmHWM) and, each time RSS passes its previous
# maximum by STEP_MIB, saves `jcmd PID VM.native_memory summary`, `jcmd PID GC.heap_info`,
# /proc/PID/smaps_rollup and the resident size of every mapped spill file (*.cq4, *.cq4t).
# The last snapshot of each daemon is the one nearest its peak.
#
#   OUT=/tmp/rss ops/bench/rss-breakdown.sh &        # then the benchmark; stops after MAX_S s
#
# Knobs: OUT (directory, required), MAX_S (s, 900), STEP_MIB (16), CPUS (taskset list for itself
# and jcmd, 1: keep it off the daemon's core).
set -euo pipefail
: "${OUT:?set OUT}"
MAX_S=${MAX_S:-900}
STEP_MIB=${STEP_MIB:-16}
CPUS=${CPUS:-1}
mkdir -p "$OUT"
declare -A MAX
status() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
end=$((SECONDS + MAX_S))
while (( SECONDS < end )); do
  for pid in $(pgrep -f 'spillway\.jar serve' || true); do
    rss=$(status "$pid" VmRSS); [[ -n $rss ]] || continue
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%H:%M:%S)" "$pid" "$rss" "$(status "$pid" RssAnon)" \
      "$(status "$pid" RssFile)" "$(status "$pid" VmHWM)" >>"$OUT/samples.tsv"
    if (( rss > ${MAX[$pid]:-0} + STEP_MIB * 1024 )); then
      MAX[$pid]=$rss
      d=$OUT/pid-$pid; mkdir -p "$d"
      {
        echo "# $(date -u +%H:%M:%S) VmRSS ${rss} kB"
        cat "/proc/$pid/smaps_rollup" 2>/dev/null || true
        echo "# mapped spill files (Rss kB per mapping)"
        awk '/^[0-9a-f]+-[0-9a-f]+ / {f = $6} /^Rss:/ && f ~ /\.cq4t?$/ {print $2, f}' "/proc/$pid/smaps" 2>/dev/null || true
        echo "# GC.heap_info"
        taskset -c "$CPUS" jcmd "$pid" GC.heap_info 2>/dev/null || true
        echo "# VM.native_memory summary"
        taskset -c "$CPUS" jcmd "$pid" VM.native_memory summary 2>/dev/null || true
      } >"$d/peak.txt.tmp" && mv "$d/peak.txt.tmp" "$d/peak.txt"
      tr '\0' ' ' <"/proc/$pid/cmdline" >"$d/cmdline" 2>/dev/null || true
    fi
  done
  sleep 1
done
