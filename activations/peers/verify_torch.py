"""
Saves the references `lab verify` is tested against, as a user would from PyTorch: the float64 forward of
parity_torch.py on the verify checkpoint, stored float32 as np.savez writes it (input_ids, logits,
hidden_states.N as transformers' output_hidden_states orders them: the block inputs, then the final
norm's output, plus one TransformerLens hook name and one the lab lacks), and a bare logits.npy.

    npx tsx activations/peers/make-verify-case.ts /tmp/verify
    /usr/bin/python3 activations/peers/verify_torch.py /tmp/verify activations/testdata/verify
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from parity_torch import Hooks, gpt2_forward, layer_norm, read_safetensors  # noqa: E402


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(src, "case.json")) as f:
        case = json.load(f)
    with open(os.path.join(src, "model", "config.json")) as f:
        cfg = json.load(f)
    W, _ = read_safetensors(os.path.join(src, "model", "model.safetensors"))
    ids = torch.tensor([case["ids"]], dtype=torch.long)
    L = cfg["n_layer"]
    wanted = [f"blocks.{l}.hook_resid_pre" for l in range(L)] + ["blocks.0.mlp.hook_post", f"blocks.{L - 1}.hook_resid_post"]
    hooks = Hooks(wanted)
    with torch.no_grad():
        logits = gpt2_forward(cfg, W, ids, hooks)
        final = layer_norm(hooks.values[f"blocks.{L - 1}.hook_resid_post"], W["transformer.ln_f.weight"], W["transformer.ln_f.bias"], cfg["layer_norm_epsilon"])
    f32 = lambda t: t.numpy().astype(np.float32)
    arrays = {"input_ids": ids.numpy(), "logits": f32(logits)}
    for l in range(L):
        arrays[f"hidden_states.{l}"] = f32(hooks.values[f"blocks.{l}.hook_resid_pre"])
    arrays[f"hidden_states.{L}"] = f32(final)
    arrays["blocks.0.mlp.hook_post"] = f32(hooks.values["blocks.0.mlp.hook_post"])
    arrays["blocks.0.ln1.hook_scale"] = np.ones((1, ids.shape[1], 1), dtype=np.float32)  # a TransformerLens-only hook
    np.savez(os.path.join(out, "ref.npz"), **arrays)
    np.save(os.path.join(out, "logits.npy"), f32(logits)[0])
    print(json.dumps({"tokens": ids.shape[1], "arrays": sorted(arrays)}))


if __name__ == "__main__":
    main()
