"""
Independent reference for the lab's GPT-2 and GPT-NeoX forward passes, written from the semantics of
Hugging Face's modeling_gpt2.py and modeling_gpt_neox.py (transformers is not installed here), on
PyTorch with its own safetensors parser. Prints one JSON object: per case, the sha256 of the
checkpoint, the logits and the requested hook values (TransformerLens names).

    npx tsx activations/peers/make-parity-checkpoints.ts /tmp/parity
    /usr/bin/python3 activations/peers/parity_torch.py /tmp/parity > activations/testdata/parity-golden.json
"""
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.set_num_threads(2)

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, en = e["data_offsets"]
        buf = data[b:en]
        if e["dtype"] == "BF16":
            u = np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=DTYPES[e["dtype"]]).astype(np.float32)
        out[name] = torch.from_numpy(arr.reshape(e["shape"]).copy()).double()
    return out, hashlib.sha256(raw).hexdigest()


def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def gelu_new(x):
    # transformers.activations.NewGELUActivation
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gelu_exact(x):
    return torch.nn.functional.gelu(x)


def attention(q, k, v, scale, blocked=None):
    """q, k, v: [B, H, S, dh]; causal softmax attention. Returns z [B, H, S, dh] and the pattern.
    blocked: optional bool [B, H, S, S]; those pre-softmax scores become -inf (attention knockout)."""
    s = q.shape[2]
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    causal = torch.tril(torch.ones(s, s, dtype=torch.bool))
    scores = torch.where(causal, scores, torch.tensor(torch.finfo(scores.dtype).min, dtype=scores.dtype))
    if blocked is not None:
        scores = scores.masked_fill(blocked, float("-inf"))
    pattern = torch.softmax(scores, dim=-1)
    return torch.matmul(pattern, v), pattern


def gpt2_forward(cfg, W, ids, hooks):
    pre = "transformer." if "transformer.wte.weight" in W else ""
    d, H = cfg["n_embd"], cfg["n_head"]
    dh = d // H
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = gelu_new if cfg.get("activation_function", "gelu_new") == "gelu_new" else gelu_exact
    # GPT2Attention: scores / sqrt(dh) if scale_attn_weights, then / (layer_idx + 1) if
    # scale_attn_by_inverse_layer_idx; reorder_and_upcast_attn computes the same in float32 (here float64).
    scale_weights = cfg.get("scale_attn_weights", True)
    by_layer = cfg.get("scale_attn_by_inverse_layer_idx", False)
    B, S = ids.shape
    # A tied checkpoint may carry the embedding only as lm_head.weight.
    wte = W[pre + "wte.weight"] if pre + "wte.weight" in W else W["lm_head.weight"]
    x = wte[ids] + W[pre + "wpe.weight"][torch.arange(S)]
    for l in range(cfg["n_layer"]):
        p = f"{pre}h.{l}."
        hooks.put(f"blocks.{l}.hook_resid_pre", x)
        h = layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
        # Conv1D: weight is [in, out], y = x @ W + b
        qkv = h @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]
        q, k, v = qkv.split(d, dim=-1)
        split = lambda t: t.view(B, S, H, dh).permute(0, 2, 1, 3)
        scale = (1.0 / math.sqrt(dh) if scale_weights else 1.0) / (l + 1 if by_layer else 1)
        z, pattern = attention(split(q), split(k), split(v), scale, hooks.blocked.get(l))
        hooks.put(f"blocks.{l}.attn.hook_pattern", pattern)
        z = z.permute(0, 2, 1, 3)
        hooks.put(f"blocks.{l}.attn.hook_z", z)
        attn_out = z.reshape(B, S, d) @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        x = x + attn_out
        hooks.put(f"blocks.{l}.hook_resid_mid", x)
        h = layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
        pre_act = h @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"]
        hooks.put(f"blocks.{l}.mlp.hook_pre", pre_act)
        post = hooks.put(f"blocks.{l}.mlp.hook_post", act(pre_act))
        x = x + post @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
        hooks.put(f"blocks.{l}.hook_resid_post", x)
    x = layer_norm(x, W[pre + "ln_f.weight"], W[pre + "ln_f.bias"], eps)
    head = wte if cfg.get("tie_word_embeddings", True) else W["lm_head.weight"]
    return x @ head.T


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def neox_rope(cfg):
    """(rotary fraction, base, linear factor) as transformers resolves them: GPTNeoXConfig 5.x
    (convert_rope_params_to_dict) takes rope_scaling, else rope_parameters, else {}, and fills rope_theta from
    rotary_emb_base and partial_rotary_factor from rotary_pct; 4.x wrote rotary_pct / rotary_emb_base (later
    also partial_rotary_factor / rope_theta). Linear scaling divides inv_freq by factor
    (_compute_linear_scaling_rope_parameters)."""
    rp = dict(cfg.get("rope_scaling") or cfg.get("rope_parameters") or {})
    rp.setdefault("rope_theta", cfg.get("rotary_emb_base", cfg.get("rope_theta", 10000)))
    rp.setdefault("partial_rotary_factor", cfg.get("rotary_pct", cfg.get("partial_rotary_factor", 0.25)))
    kind = rp.get("rope_type", rp.get("type", "default"))
    assert kind in ("default", "linear"), kind
    return rp["partial_rotary_factor"], rp["rope_theta"], rp["factor"] if kind == "linear" else 1.0


def neox_forward(cfg, W, ids, hooks):
    d, H = cfg["hidden_size"], cfg["num_attention_heads"]
    dh = d // H
    eps = cfg.get("layer_norm_eps", 1e-5)
    frac, base, factor = neox_rope(cfg)
    rot = int(dh * frac)
    parallel = cfg.get("use_parallel_residual", True)
    act = gelu_exact if cfg.get("hidden_act", "gelu") == "gelu" else gelu_new
    B, S = ids.shape
    # GPTNeoXRotaryEmbedding: inv_freq = 1 / base^(arange(0, dim, 2) / dim), emb = cat(freqs, freqs)
    inv_freq = 1.0 / (base ** (torch.arange(0, rot, 2).double() / rot)) / factor
    freqs = torch.outer(torch.arange(S).double(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    x = W["gpt_neox.embed_in.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}."
        hooks.put(f"blocks.{l}.hook_resid_pre", x)
        h = layer_norm(x, W[p + "input_layernorm.weight"], W[p + "input_layernorm.bias"], eps)
        # nn.Linear: weight [out, in]; fused qkv viewed as [B, S, H, 3*dh]
        qkv = (h @ W[p + "attention.query_key_value.weight"].T + W[p + "attention.query_key_value.bias"]).view(B, S, H, 3 * dh)
        q = qkv[..., :dh].permute(0, 2, 1, 3)
        k = qkv[..., dh : 2 * dh].permute(0, 2, 1, 3)
        v = qkv[..., 2 * dh :].permute(0, 2, 1, 3)
        q = torch.cat((q[..., :rot] * cos + rotate_half(q[..., :rot]) * sin, q[..., rot:]), dim=-1)
        k = torch.cat((k[..., :rot] * cos + rotate_half(k[..., :rot]) * sin, k[..., rot:]), dim=-1)
        z, pattern = attention(q, k, v, dh ** -0.5, hooks.blocked.get(l))
        hooks.put(f"blocks.{l}.attn.hook_pattern", pattern)
        z = z.permute(0, 2, 1, 3)
        hooks.put(f"blocks.{l}.attn.hook_z", z)
        attn_out = z.reshape(B, S, d) @ W[p + "attention.dense.weight"].T + W[p + "attention.dense.bias"]
        # The lab defines resid_mid = resid_pre + attn_out for both residual layouts.
        hooks.put(f"blocks.{l}.hook_resid_mid", x + attn_out)
        mlp_in = x if parallel else x + attn_out
        h2 = layer_norm(mlp_in, W[p + "post_attention_layernorm.weight"], W[p + "post_attention_layernorm.bias"], eps)
        pre_act = h2 @ W[p + "mlp.dense_h_to_4h.weight"].T + W[p + "mlp.dense_h_to_4h.bias"]
        hooks.put(f"blocks.{l}.mlp.hook_pre", pre_act)
        post = hooks.put(f"blocks.{l}.mlp.hook_post", act(pre_act))
        mlp_out = post @ W[p + "mlp.dense_4h_to_h.weight"].T + W[p + "mlp.dense_4h_to_h.bias"]
        # parallel: x + attn(ln1(x)) + mlp(ln2(x)); sequential: (x + attn) + mlp(ln2(x + attn))
        x = x + attn_out + mlp_out
        hooks.put(f"blocks.{l}.hook_resid_post", x)
    x = layer_norm(x, W["gpt_neox.final_layer_norm.weight"], W["gpt_neox.final_layer_norm.bias"], eps)
    head = W["gpt_neox.embed_in.weight"] if cfg.get("tie_word_embeddings", False) else W["embed_out.weight"]
    return x @ head.T


class Hooks:
    def __init__(self, wanted, blocked=None):
        self.wanted = set(wanted)
        self.values = {}
        # layer -> bool [B, H, S, S] of attention edges to knock out (knockout_torch.py)
        self.blocked = blocked or {}

    def put(self, name, value):
        """Records a wanted value; returns the value the forward pass continues with (a subclass may replace it)."""
        if name in self.wanted:
            self.values[name] = value
        return value


def rounded(t):
    return np.round(t.numpy().astype(np.float64), 6).tolist()


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "cases.json")) as f:
        cases = json.load(f)
    out = {"generator": "activations/peers/parity_torch.py", "torch": torch.__version__, "precision": "float64", "cases": {}}
    for c in cases:
        folder = os.path.join(root, c["name"])
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        W, sha = read_safetensors(os.path.join(folder, "model.safetensors"))
        ids = torch.tensor(c["ids"], dtype=torch.long)
        hooks = Hooks(c["hooks"])
        with torch.no_grad():
            fwd = gpt2_forward if cfg["model_type"] == "gpt2" else neox_forward
            logits = fwd(cfg, W, ids, hooks)
        out["cases"][c["name"]] = {
            "safetensors_sha256": sha,
            "ids": c["ids"],
            "logits": rounded(logits),
            "hooks": {k: rounded(v) for k, v in hooks.values.items()},
        }
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
