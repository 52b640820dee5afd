# shellcheck shell=bash
# Helpers shared by the benchmark scripts in ops/bench (sourced, not run).

# A timestamped line on stdout and in $LOG.
say() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$LOG"; }

# CPU seconds (user + system) a process has used so far: fields 14 and 15 of /proc/PID/stat.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

# The value of key $2 in a "key=value key=value" line $1 (loadgen's RESULT lines).
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k {print $2}'; }

# The median of the numbers on stdin (0 if none).
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print 0; else print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
