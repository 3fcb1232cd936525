"""The best native f32 GEMM reachable on this machine (issue 16's physical limit): numpy's BLAS and
PyTorch 1.13's matmul at a few square sizes, on the threads given. Prints one JSON line with the best
GFLOP/s of each (2 n^3 flops per product) and every (size, library) figure."""
import argparse
import json
import time

import numpy as np
import torch


def best(fn, flops, seconds):
    fn()
    reps, rates, t_all = 1, [], time.perf_counter()
    while time.perf_counter() - t_all < seconds or len(rates) < 3:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        s = time.perf_counter() - t0
        rates.append(flops * reps / s / 1e9)
        if s < 0.05:
            reps *= 2
    return max(rates)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--sizes', default='256,512,1024,2048')
    ap.add_argument('--seconds', type=float, default=1.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for n in [int(s) for s in a.sizes.split(',')]:
        x = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
        y = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
        out = np.empty_like(x)
        rows.append({'lib': 'numpy', 'n': n, 'gflops': best(lambda: np.matmul(x, y, out=out), 2 * n ** 3, a.seconds)})
        tx, ty, to = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(out)
        rows.append({'lib': 'torch', 'n': n, 'gflops': best(lambda: torch.mm(tx, ty, out=to), 2 * n ** 3, a.seconds)})
    top = max(rows, key=lambda r: r['gflops'])
    print(json.dumps({'gflops': top['gflops'], 'best': top, 'rows': rows, 'threads': a.threads, 'torch_threads': torch.get_num_threads(),
                      'numpy': np.__version__, 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
