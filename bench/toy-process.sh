#!/usr/bin/env bash
# Toy training as whole processes from the shell, start-up included (issue 16): `lab toy train ... --json`
# against the same loop in PyTorch 1.13 (bench/peers/toy_torch.py with no warm-up and one timed repeat,
# so the process runs exactly STEPS steps after `import torch`). Interleaved, N rounds, medians. Beside
# the whole-process times, each side's marginal rate: the lab's steps / train_s from its run manifest
# (training only: worker start-up included, module loading, evaluation and writing excluded), the peer's
# steps/s inside its process after `import torch`.
#   bash bench/toy-process.sh [N] [BIN]    (BIN defaults to bin/lab.mjs, which runs dist/ when fresh: npm run build)
set -euo pipefail
n=${1:-5}
bin=${2:-bin/lab.mjs}
py=${LAB_PEER_PYTHON:-/usr/bin/python3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
now() { date +%s.%N; }
run_case() {
  local label=$1 inst=$2 feat=$3 hid=$4 steps=$5
  local lab=() peer=() rate=() lrate=()
  for r in $(seq "$n"); do
    local s e
    rm -rf "$out/run"
    s=$(now)
    node "$bin" toy train --model relu-out --features "$feat" --hidden "$hid" --instances "$inst" --feature-prob 0.05 \
      --importance-decay 0.9 --steps "$steps" --batch 1024 --lr 1e-3 --seed "$r" --out "$out/run" --json >/dev/null
    e=$(now); lab+=("$(echo "$e - $s" | bc)")
    lrate+=("$(sed -n 's/.*"train_s": \([0-9.e-]*\).*/\1/p' "$out/run/manifest.json" | awk -v s="$steps" '{printf "%.1f", s / $1}')")
    s=$(now)
    OMP_NUM_THREADS=2 "$py" bench/peers/toy_torch.py --instances "$inst" --features "$feat" --hidden "$hid" --feature-prob 0.05 \
      --steps "$steps" --repeats 1 --warmup 0 --threads 2 --seed "$r" >"$out/peer.json"
    e=$(now); peer+=("$(echo "$e - $s" | bc)")
    rate+=("$(sed -n 's/.*"steps_per_s": \([0-9.]*\).*/\1/p' "$out/peer.json")")
  done
  local ml mp
  ml=$(printf '%s\n' "${lab[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  mp=$(printf '%s\n' "${peer[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%s: lab %.2f s, peer %.2f s, ratio %.2fx (lab runs: %s; peer runs: %s)\n  marginal steps/s: lab %s (median %s), peer %s (median %s)\n' "$label" "$ml" "$mp" "$(echo "$mp / $ml" | bc -l)" "${lab[*]}" "${peer[*]}" \
    "${lrate[*]}" "$(printf '%s\n' "${lrate[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "${rate[*]}" "$(printf '%s\n' "${rate[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}')"
}
echo "load: $(uptime)"
run_case 'n=20 m=5 x10 instances, 1000 steps' 10 20 5 1000
run_case 'n=200 m=20 x20 instances, 100 steps' 20 200 20 100
echo "load: $(uptime)"
