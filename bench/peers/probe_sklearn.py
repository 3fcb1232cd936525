"""Peer for `npm run bench -- probe`: the reference work's k-sparse probing sweep in scikit-learn.

Usage: /usr/bin/python3 bench/peers/probe_sklearn.py DIR KS [SOLVER] [FEATURES] [REFIT]
DIR holds meta.json (n_rows, n_cols, n_features, n_train), x.f32 (row-major float32 activations) and
y.u8 (labels, feature-major [n_features x n_rows]) written by bench/probe.bench.ts. Rows [0, n_train)
train, the rest test. For each feature: mean-difference ranking on train, then for every k
LogisticRegression(solver=SOLVER, class_weight='balanced', C=1) on the top k (as the reference work's
heuristic_sparsity_sweep), test F1 of predict(). SOLVER is 'saga' (default; max_iter=200, as the
reference work ran it), 'newton-cholesky' or 'lbfgs' (scikit-learn's defaults: tol=1e-4,
max_iter=100). Prints one JSON line: F1 per feature and k, the sweep's wall time and CPU time (ranking
+ fits + predictions, not the file load), and how many fits stopped at max_iter.
Every fit is then refitted, outside the timing, to convergence (solver='newton-cholesky', tol=1e-10,
max_iter=1000, float64): `f1_converged` holds those F1s for every feature and k, the reference the
bench holds the lab (and the timed solver) to. REFIT 0 skips that (the bench's later rounds).
"""
import json
import os
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

warnings.filterwarnings('ignore', category=ConvergenceWarning)


def main(d, ks, solver='saga', features=None, refit=True):
    meta = json.load(open(os.path.join(d, 'meta.json')))
    n, m, nf, nt = meta['n_rows'], meta['n_cols'], meta['n_features'], meta['n_train']
    x = np.fromfile(os.path.join(d, 'x.f32'), dtype=np.float32).reshape(n, m)
    ys = np.fromfile(os.path.join(d, 'y.u8'), dtype=np.uint8).reshape(nf, n)
    xtr, xte = x[:nt], x[nt:]
    feats = range(nf) if features is None else features
    max_iter = 200 if solver == 'saga' else 100
    f1 = {}
    supports = []
    not_converged = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    for f in feats:
        ytr, yte = ys[f, :nt], ys[f, nt:]
        pos = ytr == 1
        # Means accumulated in float64 (as the lab does), so near-ties among noise neurons rank alike.
        mean_dif = np.abs(xtr[pos].mean(axis=0, dtype=np.float64) - xtr[~pos].mean(axis=0, dtype=np.float64))
        ranking = np.argsort(mean_dif)
        row = []
        for k in ks:
            support = np.sort(ranking[-k:])
            lr = LogisticRegression(class_weight='balanced', penalty='l2', C=1.0, solver=solver, max_iter=max_iter)
            lr.fit(xtr[:, support], ytr)
            if lr.n_iter_[0] >= max_iter:
                not_converged += 1
            supports.append((f, ks.index(k), support))
            row.append(float(f1_score(yte, lr.predict(xte[:, support]), zero_division=0)))
        f1[str(f)] = row
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0
    f1_converged = {}
    for f, q, support in supports if refit else []:
        ytr, yte = ys[f, :nt], ys[f, nt:]
        lr = LogisticRegression(class_weight='balanced', C=1.0, solver='newton-cholesky', tol=1e-10, max_iter=1000)
        lr.fit(xtr[:, support].astype(np.float64), ytr)
        f1_converged.setdefault(str(f), {})[str(q)] = float(f1_score(yte, lr.predict(xte[:, support].astype(np.float64)), zero_division=0))
    print(json.dumps({'solver': solver, 'seconds': seconds, 'cpu_seconds': cpu_seconds, 'f1': f1, 'not_converged': not_converged, 'f1_converged': f1_converged}))


if __name__ == '__main__':
    ks = [int(k) for k in sys.argv[2].split(',')]
    solver = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else 'saga'
    if solver not in ('saga', 'newton-cholesky', 'lbfgs'):
        sys.exit(f'probe_sklearn.py: solver must be saga, newton-cholesky or lbfgs, got {solver!r}')
    feats = [int(f) for f in sys.argv[4].split(',')] if len(sys.argv) > 4 and sys.argv[4] else None
    refit = not (len(sys.argv) > 5 and sys.argv[5] == '0')
    main(sys.argv[1], ks, solver, feats, refit)
