#!/usr/bin/env bash
# The queue's overhead against a local `lab probe --threads 2`, on this machine (lab/queue/README.md).
# Usage: lab/queue/bench.sh WORKDIR [PORT]. Starts its own redis-server on 127.0.0.1:PORT (default 6393),
# a toy store in WORKDIR, then for --k 1 (overhead-bound units) and the default k list (compute-bound):
# a local run, a queued run on 2 workers x concurrency 1 and on 1 worker x concurrency 2.
set -euo pipefail
B=$(realpath -m "$1"); P=${2:-6393}; Q=redis://127.0.0.1:$P
mkdir -p "$B"
cd "$(dirname "$0")/../.."
lab() { node bin/lab.mjs "$@"; }
redis-server --port "$P" --bind 127.0.0.1 --save '' --appendonly no --dir "$B" --daemonize yes --pidfile "$B/redis.pid"
trap 'kill $(cat "$B/redis.pid")' EXIT
[ -d "$B/toy" ] || lab toy train --model relu-hidden --features 50 --hidden 24 --instances 4 --feature-prob 0.1:0.05 --steps 200 --engine js --out "$B/toy" --quiet --json >/dev/null
[ -d "$B/acts" ] || lab harvest --model "toy:$B/toy" --max-tokens 4000 --out "$B/acts" --quiet
secs() { python3 -c "import json; m=json.load(open('$1/manifest.json')); print(round(m['timings']['sweep_s'],2), 's,', m['units']['computed'], 'units')"; }
now() { date +%s.%N; }
for K in 1 default; do
  KA=(); [ "$K" = 1 ] && KA=(--k 1)
  echo "== k $K, $(uptime | sed 's/.*load/load/')"
  rm -rf "$B/local-$K"; t0=$(now)
  lab probe --activations "$B/acts" --methods mean_dif,f_stat "${KA[@]}" --out "$B/local-$K" --threads 2 --quiet >/dev/null
  t1=$(now); echo "local --threads 2: end to end $(python3 -c "print(round($t1-$t0,2))") s, units phase $(secs "$B/local-$K")"
  for W in 2x1 1x2; do
    n=${W%x*}; c=${W#*x}; pids=()
    for i in $(seq "$n"); do node bin/lab.mjs worker --queue "$Q" --concurrency "$c" --quiet & pids+=($!); done
    sleep 8 # the workers are up and waiting before the clock starts
    rm -rf "$B/q-$K-$W"; t0=$(now)
    lab probe --activations "$B/acts" --methods mean_dif,f_stat "${KA[@]}" --out "$B/q-$K-$W" --queue "$Q" --quiet >/dev/null
    t1=$(now); echo "queue, $n worker(s) x concurrency $c: end to end $(python3 -c "print(round($t1-$t0,2))") s, units phase $(secs "$B/q-$K-$W")"
    cmp "$B/q-$K-$W/sweep.csv" "$B/local-$K/sweep.csv" && cmp "$B/q-$K-$W/sweep.json" "$B/local-$K/sweep.json" && echo "  sweep.csv and sweep.json identical to the local run's"
    kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
  done
done
