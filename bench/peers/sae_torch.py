"""PyTorch peer for bench/sae.bench.ts: the same TopK SAE training step as activations/sae (SAELens's
definitions): sae_in = x - b_dec, pre = sae_in @ W_enc + b_enc, ReLU(topk(pre, k)) scattered back,
x_hat = acts @ W_dec + b_dec, loss = sum-over-dims MSE meaned over rows + AuxK (top d_in/2 dead latents
reconstruct the detached residual, scaled by min(dead / k_aux, 1) and weighted 1/32), Adam lr 1e-3,
the decoder-row-parallel gradient removed before the step and rows renormalised after it. The batch is
a pool of 8 standard-normal batches drawn before timing and cycled; a quarter of the latents is marked
dead so the aux path runs, as in the lab's case. Prints one JSON line: median steps/s over the repeats."""
import argparse
import json
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--d-in', type=int, required=True)
    ap.add_argument('--d-sae', type=int, required=True)
    ap.add_argument('--k', type=int, required=True)
    ap.add_argument('--batch', type=int, required=True)
    ap.add_argument('--steps', type=int, required=True)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    d, m, B, k = a.d_in, a.d_sae, a.batch, a.k
    W_dec = torch.nn.Parameter(torch.nn.functional.normalize(torch.rand(m, d) * 2 - 1, dim=1))
    W_enc = torch.nn.Parameter(W_dec.detach().t().clone().contiguous())
    b_enc = torch.nn.Parameter(torch.zeros(m))
    b_dec = torch.nn.Parameter(torch.zeros(d))
    opt = torch.optim.Adam([W_enc, b_enc, W_dec, b_dec], lr=1e-3)
    dead = torch.zeros(m, dtype=torch.bool)
    dead[::4] = True
    xs = [torch.randn(B, d) for _ in range(8)]

    def step(x):
        sae_in = x - b_dec
        pre = sae_in @ W_enc + b_enc
        top = torch.topk(pre, k, dim=-1)
        acts = torch.zeros_like(pre).scatter(-1, top.indices, torch.relu(top.values))
        x_hat = acts @ W_dec + b_dec
        mse = (x_hat - x).pow(2).sum(-1).mean()
        n_dead = int(dead.sum())
        k_aux = d // 2
        scale = min(n_dead / k_aux, 1.0)
        residual = (x - x_hat).detach()
        aux_pre = torch.where(dead[None], pre, torch.tensor(-float('inf')))
        at = aux_pre.topk(min(k_aux, n_dead), dim=-1, sorted=False)
        aux_acts = torch.zeros_like(pre).scatter(-1, at.indices, at.values)
        aux = scale * ((aux_acts @ W_dec + b_dec) - residual).pow(2).sum(-1).mean()
        loss = mse + aux / 32
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            g = W_dec.grad
            g -= (g * W_dec).sum(-1, keepdim=True) * W_dec
        opt.step()
        with torch.no_grad():
            W_dec.div_(W_dec.norm(dim=-1, keepdim=True))

    for i in range(a.warmup):
        step(xs[i % len(xs)])
    rates = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for i in range(a.steps):
            step(xs[i % len(xs)])
        rates.append(a.steps / (time.perf_counter() - t0))
    rates_sorted = sorted(rates)
    print(json.dumps({'steps_per_s': rates_sorted[len(rates) // 2], 'rates': rates, 'torch': torch.__version__, 'threads': a.threads}))


if __name__ == '__main__':
    main()
