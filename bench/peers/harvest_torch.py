"""
Peer for `npm run bench -- harvest`: the harvest forward pass of a GPT-2 or GPT-NeoX (Pythia) checkpoint
in PyTorch (CPU, 2 threads, float32, no_grad), keeping every blocks.*.mlp.hook_post, as tokens per second.
The models follow Hugging Face's modeling_gpt2.py / modeling_gpt_neox.py (as activations/peers/parity_torch.py
does in float64, the lab's tested reference), written for speed: fused addmm / F.linear, no hook dict.

    /usr/bin/python3 bench/peers/harvest_torch.py MODEL_DIR BATCH SEQ REPEATS [WARMUP] [MODES]

MODES (default "full") is a comma list: "full" runs the whole forward with the logits, "harvest" stops
after the last block (a harvest of hook values needs no final layer norm and no unembedding).
Prints one JSON line: {"tokens_per_s": [...per repeat, full...], "harvest_tokens_per_s": [...], "threads": 2}.
"""
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(2)


def read_safetensors(path, strip="transformer."):
    """Tensor by tensor, as float32 torch tensors (names without `strip`)."""
    out = {}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        for name, e in header.items():
            if name == "__metadata__":
                continue
            b, en = e["data_offsets"]
            f.seek(8 + n + b)
            dt = {"F32": np.float32, "F16": np.float16}[e["dtype"]]
            arr = np.frombuffer(f.read(en - b), dtype=dt).astype(np.float32).reshape(e["shape"])
            out[name.replace(strip, "") if strip else name] = torch.from_numpy(arr.copy())
    return out


class Gpt2:
    def __init__(self, cfg, W):
        self.cfg, self.W = cfg, W
        self.d, self.H = cfg["n_embd"], cfg["n_head"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)

    def forward(self, ids, logits=True):
        W, d, H = self.W, self.d, self.H
        dh = d // H
        B, S = ids.shape
        x = F.embedding(ids, W["wte.weight"]) + W["wpe.weight"][:S]
        causal = torch.ones(S, S, dtype=torch.bool).tril()
        kept = []
        for l in range(self.cfg["n_layer"]):
            p = f"h.{l}."
            h = F.layer_norm(x, (d,), W[p + "ln_1.weight"], W[p + "ln_1.bias"], self.eps)
            qkv = torch.addmm(W[p + "attn.c_attn.bias"], h.view(-1, d), W[p + "attn.c_attn.weight"]).view(B, S, 3, H, dh)
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
            scores = scores.masked_fill(~causal, torch.finfo(scores.dtype).min)
            z = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(B * S, d)
            x = x + torch.addmm(W[p + "attn.c_proj.bias"], z, W[p + "attn.c_proj.weight"]).view(B, S, d)
            h = F.layer_norm(x, (d,), W[p + "ln_2.weight"], W[p + "ln_2.bias"], self.eps)
            post = F.gelu(torch.addmm(W[p + "mlp.c_fc.bias"], h.view(-1, d), W[p + "mlp.c_fc.weight"]), approximate="tanh")
            kept.append(post)  # blocks.{l}.mlp.hook_post
            x = x + torch.addmm(W[p + "mlp.c_proj.bias"], post, W[p + "mlp.c_proj.weight"]).view(B, S, d)
        if not logits:
            return None, kept
        x = F.layer_norm(x, (d,), W["ln_f.weight"], W["ln_f.bias"], self.eps)
        return x @ W["wte.weight"].T, kept


class Neox:
    """GPTNeoXForCausalLM: partial rotary (rotate-half), fused per-head qkv, parallel residual by default."""

    def __init__(self, cfg, W):
        self.cfg, self.W = cfg, W
        self.d, self.H = cfg["hidden_size"], cfg["num_attention_heads"]
        self.eps = cfg.get("layer_norm_eps", 1e-5)
        dh = self.d // self.H
        self.rot = int(dh * cfg.get("rotary_pct", cfg.get("partial_rotary_factor", 0.25)))
        self.base = cfg.get("rotary_emb_base", cfg.get("rope_theta", 10000))
        self.parallel = cfg.get("use_parallel_residual", True)
        self.act = (lambda x: F.gelu(x)) if cfg.get("hidden_act", "gelu") == "gelu" else (lambda x: F.gelu(x, approximate="tanh"))

    def forward(self, ids, logits=True):
        W, d, H, rot = self.W, self.d, self.H, self.rot
        dh = d // H
        B, S = ids.shape
        inv_freq = 1.0 / (self.base ** (torch.arange(0, rot, 2).float() / rot))
        emb = torch.outer(torch.arange(S).float(), inv_freq)
        emb = torch.cat((emb, emb), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        half = rot // 2

        def rope(t):
            r, rest = t[..., :rot], t[..., rot:]
            rotated = torch.cat((-r[..., half:], r[..., :half]), dim=-1)
            return torch.cat((r * cos + rotated * sin, rest), dim=-1)

        x = F.embedding(ids, W["gpt_neox.embed_in.weight"])
        causal = torch.ones(S, S, dtype=torch.bool).tril()
        kept = []
        for l in range(self.cfg["num_hidden_layers"]):
            p = f"gpt_neox.layers.{l}."
            h = F.layer_norm(x, (d,), W[p + "input_layernorm.weight"], W[p + "input_layernorm.bias"], self.eps)
            qkv = F.linear(h, W[p + "attention.query_key_value.weight"], W[p + "attention.query_key_value.bias"]).view(B, S, H, 3 * dh)
            q, k, v = qkv.permute(0, 2, 1, 3).split(dh, dim=-1)
            q, k = rope(q), rope(k)
            scores = torch.matmul(q, k.transpose(-1, -2)) * dh ** -0.5
            scores = scores.masked_fill(~causal, torch.finfo(scores.dtype).min)
            z = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(B, S, d)
            attn_out = F.linear(z, W[p + "attention.dense.weight"], W[p + "attention.dense.bias"])
            mlp_in = x if self.parallel else x + attn_out
            h2 = F.layer_norm(mlp_in, (d,), W[p + "post_attention_layernorm.weight"], W[p + "post_attention_layernorm.bias"], self.eps)
            post = self.act(F.linear(h2, W[p + "mlp.dense_h_to_4h.weight"], W[p + "mlp.dense_h_to_4h.bias"]))
            kept.append(post.view(B * S, -1))  # blocks.{l}.mlp.hook_post
            x = x + attn_out + F.linear(post, W[p + "mlp.dense_4h_to_h.weight"], W[p + "mlp.dense_4h_to_h.bias"])
        if not logits:
            return None, kept
        x = F.layer_norm(x, (d,), W["gpt_neox.final_layer_norm.weight"], W["gpt_neox.final_layer_norm.bias"], self.eps)
        head = W["gpt_neox.embed_in.weight"] if self.cfg.get("tie_word_embeddings", False) else W["embed_out.weight"]
        return x @ head.T, kept


def load_model(folder):
    """The checkpoint in `folder` (config.json's model_type gpt2 or gpt_neox) as a peer model."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    path = os.path.join(folder, "model.safetensors")
    if cfg["model_type"] == "gpt2":
        return cfg, Gpt2(cfg, read_safetensors(path))
    if cfg["model_type"] == "gpt_neox":
        return cfg, Neox(cfg, read_safetensors(path, strip=None))
    raise SystemExit(f"{folder}: model_type {cfg['model_type']!r}: this peer runs gpt2 and gpt_neox")


def main():
    folder, batch, seq, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    warmup = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    cfg, model = load_model(folder)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, cfg["vocab_size"], (batch, seq), generator=g)
    modes = (sys.argv[6] if len(sys.argv) > 6 else "full").split(",")
    out = {"threads": torch.get_num_threads()}
    with torch.no_grad():
        for mode in modes:
            rates = []
            for i in range(warmup + repeats):
                t0 = time.perf_counter()
                logits, kept = model.forward(ids, logits=(mode == "full"))
                # Hand the kept activations over as host arrays, as a harvest writing them to disk would.
                arrays = [k.numpy() for k in kept]
                dt = time.perf_counter() - t0
                if i >= warmup:
                    rates.append(batch * seq / dt)
            out["tokens_per_s" if mode == "full" else "harvest_tokens_per_s"] = rates
            out["checksum"] = float(arrays[-1].sum())
    print(json.dumps(out))

if __name__ == "__main__":
    main()
