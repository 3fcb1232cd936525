"""PyTorch peer for bench/toy.bench.ts: the toy ReLU-output model of Elhage et al. (2022) trained the way
Anthropic's notebook trains it (a leading instances dimension, AdamW lr 1e-3, dense torch.rand data),
with batched matmuls (bmm). Prints one JSON line: the median steps/s over the timed repeats."""
import argparse
import json
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--instances', type=int, required=True)
    ap.add_argument('--features', type=int, required=True)
    ap.add_argument('--hidden', type=int, required=True)
    ap.add_argument('--feature-prob', type=float, required=True)
    ap.add_argument('--importance-decay', type=float, default=0.9)
    ap.add_argument('--steps', type=int, required=True)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=10)
    ap.add_argument('--batch', type=int, default=1024)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    I, n, m, B = a.instances, a.features, a.hidden, a.batch
    W = torch.nn.Parameter(torch.empty(I, n, m))
    torch.nn.init.xavier_normal_(W)
    b = torch.nn.Parameter(torch.zeros(I, 1, n))
    imp = a.importance_decay ** torch.arange(n, dtype=torch.float32)
    p = torch.full((I, 1, 1), a.feature_prob)
    opt = torch.optim.AdamW([W, b], lr=a.lr)

    def step():
        x = torch.where(torch.rand(I, B, n) <= p, torch.rand(I, B, n), torch.zeros(()))
        h = torch.bmm(x, W)
        out = torch.relu(torch.bmm(h, W.transpose(1, 2)) + b)
        loss = (imp * (out - x) ** 2).sum(-1).mean(-1).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    rates = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            loss = step()
        float(loss)
        rates.append(a.steps / (time.perf_counter() - t0))
    rates.sort()
    print(json.dumps({'steps_per_s': rates[len(rates) // 2], 'rates': rates, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                      'final_loss': float(loss)}))


if __name__ == '__main__':
    main()
