#!/usr/bin/env bash
# Start-up of the `lab` bin as a user meets it (whole processes, no npx): --help, a usage error, a registry
# usage error, a command's help, and `lab backend` (which loads tfjs), each the median of N runs.
#   bash bench/startup.sh [N] [BIN]     (BIN defaults to bin/lab.mjs; pass another checkout's to compare)
set -euo pipefail
n=${1:-7}
bin=${2:-bin/lab.mjs}
median() {
  local label=$1; shift
  local ts=()
  for _ in $(seq "$n"); do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    ts+=("$(echo "$e - $s" | bc)")
  done
  printf '%s\n' "${ts[@]}" | sort -n | awk -v l="$label" '{a[NR]=$1} END {printf "%-34s median %.3f s (min %.3f, max %.3f, n=%d)\n", l, a[int((NR+1)/2)], a[1], a[NR], NR}'
}
median 'node -e 1' node -e 1
median 'lab --help' node "$bin" --help
median 'lab probe --bogus' node "$bin" probe --bogus
median 'lab harvest --dataset imdb' node "$bin" harvest --model x --dataset imdb --out /tmp/lab-startup-x
median 'lab probe --help' node "$bin" probe --help
median 'lab backend' node "$bin" backend
