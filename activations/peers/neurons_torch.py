"""
Independent float64 reference for a neuron's direct logit effect and for zero / mean ablation, on
the forward passes of parity_torch.py (written from Hugging Face's modeling code, not from the lab's).

  logits: TransformerLens's W_out[L, n] @ W_U with fold_ln, center_writing_weights, center_unembed:
          (W_out[n] - mean(W_out[n])) * ln_f.weight @ W_U, minus its mean over the vocabulary.
  ablate: mean next-token NLL (nats) over the given windows, plain and with the neurons set to 0 or
          to their mean over the text positions (BOS positions excluded when the windows start with BOS).

    npx tsx activations/peers/make-neuron-cases.ts /tmp/neurons
    /usr/bin/python3 activations/peers/neurons_torch.py /tmp/neurons > activations/testdata/neurons-golden.json
"""
import json
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity_torch import Hooks, gpt2_forward, neox_forward, read_safetensors  # noqa: E402


class Ablate(Hooks):
    """Records the hook (for the means) and, when `fill` is set, writes fill at the neurons."""

    def __init__(self, hook, neurons, fill=None):
        super().__init__([hook])
        self.hook, self.neurons, self.fill = hook, neurons, fill

    def put(self, name, value):
        if name != self.hook:
            return value
        self.values[name] = value
        if self.fill is None:
            return value
        v = value.clone()
        for n, f in zip(self.neurons, self.fill):
            v[..., n] = f
        return v


def logit_effects(cfg, W, layer, neurons):
    if cfg["model_type"] == "gpt2":
        pre = "transformer." if "transformer.wte.weight" in W else ""
        w_out = W[f"{pre}h.{layer}.mlp.c_proj.weight"]  # [m, d]
        gamma = W[pre + "ln_f.weight"]
        w_u = (W["lm_head.weight"] if "lm_head.weight" in W else W[pre + "wte.weight"]).T  # [d, V]
    else:
        w_out = W[f"gpt_neox.layers.{layer}.mlp.dense_4h_to_h.weight"].T  # [m, d]
        gamma = W["gpt_neox.final_layer_norm.weight"]
        w_u = W["embed_out.weight"].T
    out = {}
    for n in neurons:
        w = w_out[n] - w_out[n].mean()
        e = (w * gamma) @ w_u
        out[str(n)] = np.round((e - e.mean()).numpy(), 9).tolist()
    return out


def nll(logits, win):
    lp = torch.log_softmax(logits[0, :-1], dim=-1)
    t = torch.tensor(win[1:], dtype=torch.long)
    return -lp[torch.arange(len(win) - 1), t].sum().item(), len(win) - 1


def run(fwd, cfg, W, c, fill=None):
    total, n, sums, count = 0.0, 0, torch.zeros(len(c["neurons"]), dtype=torch.float64), 0
    for win in c["windows"]:
        hooks = Ablate(c["hook"], c["neurons"], fill)
        with torch.no_grad():
            logits = fwd(cfg, W, torch.tensor([win], dtype=torch.long), hooks)
        s, k = nll(logits, win)
        total, n = total + s, n + k
        h = hooks.values[c["hook"]][0]
        start = 1 if c["has_bos"] else 0
        sums += h[start:, c["neurons"]].sum(dim=0)
        count += h.shape[0] - start
    return total / n, (sums / count).tolist()


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "cases.json")) as f:
        cases = json.load(f)
    out = {"generator": "activations/peers/neurons_torch.py", "torch": torch.__version__, "precision": "float64", "cases": {}}
    for c in cases:
        folder = os.path.join(root, c["name"])
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        W, sha = read_safetensors(os.path.join(folder, "model.safetensors"))
        fwd = gpt2_forward if cfg["model_type"] == "gpt2" else neox_forward
        layer = int(re.match(r"blocks\.(\d+)\.", c["hook"]).group(1))
        base, means = run(fwd, cfg, W, c)
        zero, _ = run(fwd, cfg, W, c, fill=[0.0] * len(c["neurons"]))
        mean, _ = run(fwd, cfg, W, c, fill=means)
        out["cases"][c["name"]] = {
            "safetensors_sha256": sha,
            "hook": c["hook"],
            "neurons": c["neurons"],
            "windows": len(c["windows"]),
            "predicted": sum(len(w) - 1 for w in c["windows"]),
            "base_loss": base,
            "zero_loss": zero,
            "mean_loss": mean,
            "means": means,
            "logits": logit_effects(cfg, W, layer, c["neurons"]),
        }
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
