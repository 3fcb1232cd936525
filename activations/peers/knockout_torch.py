"""
Independent reference for attention knockout (Geva et al. 2023), on the float64 forward passes of
parity_torch.py: blocked edges get -inf pre-softmax scores. For each case it prints the logits under
explicit edge blocks, and the knockout table of one query written from the reference notebook's loop
(google-research dissecting_factual_predictions): target = the unblocked top-1 at the last position,
blocks subject / non_subject (every position before the last outside the subject) / last, windows
range(max(0, l - K // 2), min(L, l - (-K // 2))), relative difference 100 (p_blocked - p_base) / p_base.

    npx tsx activations/peers/make-knockout-checkpoints.ts /tmp/knockout
    /usr/bin/python3 activations/peers/knockout_torch.py /tmp/knockout > activations/testdata/knockout-golden.json
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity_torch import Hooks, gpt2_forward, neox_forward, read_safetensors, rounded  # noqa: E402

torch.set_num_threads(2)


def n_layers(cfg):
    return cfg["n_layer"] if cfg["model_type"] == "gpt2" else cfg["num_hidden_layers"]


def n_heads(cfg):
    return cfg["n_head"] if cfg["model_type"] == "gpt2" else cfg["num_attention_heads"]


def mask_from_blocks(blocks, B, H, S):
    """layer -> bool [B, H, S, S], the union of the blocks (keys after the query are ignored)."""
    out = {}
    for blk in blocks:
        for l in blk["layers"]:
            m = out.setdefault(l, torch.zeros(B, H, S, S, dtype=torch.bool))
            for b in blk.get("batch", range(B)):
                for h in blk.get("heads", range(H)):
                    for q in blk["from"]:
                        for k in blk["to"]:
                            if k <= q:
                                m[b, h, q, k] = True
    return out


def run(cfg, W, ids, blocked):
    fwd = gpt2_forward if cfg["model_type"] == "gpt2" else neox_forward
    with torch.no_grad():
        return fwd(cfg, W, ids, Hooks([], blocked))


def knockout_table(cfg, W, query):
    ids = torch.tensor([query["ids"]], dtype=torch.long)
    L, H = n_layers(cfg), n_heads(cfg)
    S = ids.shape[1]
    last = S - 1
    s0, s1 = query["subject"]
    subject = list(range(s0, s1))
    window = query["window"]
    probs = torch.softmax(run(cfg, W, ids, {})[0, -1], dim=-1)
    target = int(torch.argmax(probs))
    base = float(probs[target])
    rows = []
    for desc, positions in [
        ("subject", subject),
        ("non_subject", [x for x in range(last) if x not in subject]),
        ("last", [last]),
    ]:
        for layer in range(L):
            layers = list(range(max(0, layer - window // 2), min(L, layer - (-window // 2))))
            blocked = {}
            for l in layers:
                m = torch.zeros(1, H, S, S, dtype=torch.bool)
                for p in positions:
                    m[0, :, last, p] = True
                blocked[l] = m
            p = float(torch.softmax(run(cfg, W, ids, blocked)[0, -1], dim=-1)[target])
            rows.append({"layer": layer, "block": desc, "p_blocked": round(p, 9),
                         "delta_p_pct": round((p - base) * 100.0 / base, 7)})
    return {"target": target, "p_base": round(base, 9), "rows": rows}


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "cases.json")) as f:
        cases = json.load(f)
    out = {"generator": "activations/peers/knockout_torch.py", "torch": torch.__version__, "precision": "float64", "cases": {}}
    for c in cases:
        folder = os.path.join(root, c["name"])
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        W, sha = read_safetensors(os.path.join(folder, "model.safetensors"))
        ids = torch.tensor(c["ids"], dtype=torch.long)
        B, S = ids.shape
        edges = {}
        for e in c["edge_configs"]:
            edges[e["name"]] = rounded(run(cfg, W, ids, mask_from_blocks(e["blocks"], B, n_heads(cfg), S)))
        out["cases"][c["name"]] = {
            "safetensors_sha256": sha,
            # The spec and query travel with the golden, so tests outside activations/ need no import of it.
            "spec": c["spec"],
            "query": c["query"],
            "unblocked_logits": rounded(run(cfg, W, ids, {})),
            "edge_logits": edges,
            "knockout": knockout_table(cfg, W, c["query"]),
        }
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
