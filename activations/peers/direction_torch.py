"""
Independent float64 reference for directional ablation, on the forward passes of parity_torch.py
(written from Hugging Face's modeling code, not from the lab's).

  u = d / ||d||; zero: v' = v - (v . u) u; mean: v' = v - (v . u - mu . u) u, with mu the hook's mean
  vector over the text positions of the unablated pass (BOS positions excluded when windows start with
  BOS). Loss: mean next-token NLL (nats) over the given windows, each run as its own batch of one.

    npx tsx activations/peers/make-direction-cases.ts /tmp/direction
    /usr/bin/python3 activations/peers/direction_torch.py /tmp/direction > activations/testdata/direction-golden.json
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from neurons_torch import nll  # noqa: E402
from parity_torch import Hooks, gpt2_forward, neox_forward, read_safetensors  # noqa: E402


class Direction(Hooks):
    """Records the hook (for the mean) and, when `fill` is set, replaces the component along u by fill."""

    def __init__(self, hook, u, fill=None):
        super().__init__([hook])
        self.hook, self.u, self.fill = hook, u, fill

    def put(self, name, value):
        if name != self.hook:
            return value
        self.values[name] = value
        if self.fill is None:
            return value
        proj = value @ self.u  # [B, S]
        return value - (proj - self.fill).unsqueeze(-1) * self.u


def run(fwd, cfg, W, c, u, fill=None):
    total, n, acc, count = 0.0, 0, None, 0
    for win in c["windows"]:
        hooks = Direction(c["hook"], u, fill)
        with torch.no_grad():
            logits = fwd(cfg, W, torch.tensor([win], dtype=torch.long), hooks)
        s, k = nll(logits, win)
        total, n = total + s, n + k
        h = hooks.values[c["hook"]][0]
        start = 1 if c["has_bos"] else 0
        part = h[start:].sum(dim=0)
        acc = part if acc is None else acc + part
        count += h.shape[0] - start
    return total / n, acc / count


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "cases.json")) as f:
        cases = json.load(f)
    out = {"generator": "activations/peers/direction_torch.py", "torch": torch.__version__, "precision": "float64", "cases": {}}
    for c in cases:
        folder = os.path.join(root, c["checkpoint"])
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        W, sha = read_safetensors(os.path.join(folder, "model.safetensors"))
        fwd = gpt2_forward if cfg["model_type"] == "gpt2" else neox_forward
        d = torch.tensor(c["direction"], dtype=torch.float64)
        u = d / d.norm()
        base, mu = run(fwd, cfg, W, c, u)
        fill = float(mu @ u)
        zero, _ = run(fwd, cfg, W, c, u, fill=0.0)
        mean, _ = run(fwd, cfg, W, c, u, fill=fill)
        out["cases"][c["name"]] = {
            "safetensors_sha256": sha,
            "hook": c["hook"],
            "windows": len(c["windows"]),
            "predicted": sum(len(w) - 1 for w in c["windows"]),
            "base_loss": base,
            "zero_loss": zero,
            "mean_loss": mean,
            "fill": fill,
        }
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
