"""
Independent reading of an activation store with numpy, for probes/neuron-evidence.test.ts: the store
is read as activations/README.md documents (u8: value = offset + scale * q, evaluated in float64 and
rounded to float32 as the TypeScript reader stores it), then per neuron the top rows (ties to the lower
row), their context token ids, numpy.histogram counts over all rows and per feature, the active share,
moments, and Pearson correlations (numpy.corrcoef) with every neuron of every hook.

    /usr/bin/python3 probes/peers/neuron_evidence_numpy.py STORE HOOK NEURONS TOP BINS BEFORE AFTER
"""
import json
import sys

import numpy as np


def read(run, m, hook):
    dt = {"f32": "<f4", "f16": "<f2", "u8": "u1"}[m["dtype"]]
    n = hook["n_neurons"]
    parts = []
    for c in m["chunks"]:
        f = c["files"]["hooks"][hook["name"]]
        x = np.fromfile(f"{run}/{f['data']}", dtype=dt).reshape(c["rows"], n)
        if m["dtype"] == "u8":
            qp = np.fromfile(f"{run}/{f['qparams']}", dtype="<f4").astype(np.float64).reshape(2, -1)
            x = (qp[1] + qp[0] * x.astype(np.float64)).astype(np.float32)
        parts.append(x.astype(np.float32))
    return np.concatenate(parts)


def main():
    run, hook_name, neurons, top, bins, before, after = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")], *map(int, sys.argv[4:8])
    m = json.load(open(f"{run}/store.json"))
    hooks = {h["name"]: h for h in m["hooks"]}
    X = read(run, m, hooks[hook_name])
    rows = np.concatenate([np.fromfile(f"{run}/{c['files']['rows']}", "<i4").reshape(-1, 3) for c in m["chunks"]])
    Y = np.concatenate([np.fromfile(f"{run}/{c['files']['labels']}", "u1").reshape(c["rows"], -1) for c in m["chunks"]])
    seq, tok = rows[:, 0], rows[:, 2]
    cols = m["dataset"]["label_columns"]
    prefix = hooks[hook_name].get("label_prefix", "")
    feats = [f for f in m["dataset"]["features"] if prefix + f in cols]
    all_x = {h: read(run, m, hooks[h]).astype(np.float64) for h in hooks}
    out = {}
    for n in neurons:
        a = X[:, n].astype(np.float64)
        order = np.lexsort((np.arange(len(a)), -a))[:top]
        ctx = []
        for r in order:
            lo, hi = r, r
            while lo > 0 and r - lo < before and seq[lo - 1] == seq[r]:
                lo -= 1
            while hi + 1 < len(a) and hi - r < after and seq[hi + 1] == seq[r]:
                hi += 1
            ctx.append({"tokens": tok[lo : hi + 1].tolist(), "index": int(r - lo)})
        counts, edges = np.histogram(a, bins=bins, range=(a.min(), a.max()))
        by = {f: np.histogram(a[Y[:, cols.index(prefix + f)] == 1], bins=edges)[0].tolist() for f in feats}
        corr = []
        for h, x in all_x.items():
            xs = np.concatenate([a[:, None], x], axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):  # a constant neuron has no correlation
                r = np.corrcoef(xs, rowvar=False)[0, 1:]
            for j, v in enumerate(r):
                if not (h == hook_name and j == n) and np.isfinite(v):
                    corr.append([h, j, float(v)])
        corr.sort(key=lambda t: -t[2])
        out[str(n)] = {
            "top_rows": order.tolist(), "top_values": a[order].tolist(), "contexts": ctx,
            "edges": edges.tolist(), "counts": counts.tolist(), "by_feature": by,
            "active_frac": float((a > 1e-3).mean()), "mean": float(a.mean()), "std": float(a.std()), "max": float(a.max()), "min": float(a.min()),
            "n_active": int((a > 1e-3).sum()), "corr": corr,
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
