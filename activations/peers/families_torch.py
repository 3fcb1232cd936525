"""
Independent float64 reference for the lab's Llama / Mistral / Qwen2 / Gemma / Gemma 2 / GPT-Neo /
GPT-J / OPT forward passes, written from the semantics of Hugging Face's modeling_llama.py,
modeling_mistral.py, modeling_qwen2.py, modeling_gemma.py, modeling_gemma2.py, modeling_gpt_neo.py,
modeling_gptj.py and modeling_opt.py (transformers is not installed here), reading the checkpoints'
own Hugging Face key layout with parity_torch.py's safetensors parser. Prints one JSON object: per
case, the sha256 of the checkpoint, the logits and the requested hook values (TransformerLens names,
as the lab defines them).

    npx tsx activations/peers/make-family-checkpoints.ts /tmp/families
    /usr/bin/python3 activations/peers/families_torch.py /tmp/families > activations/testdata/families-golden.json
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity_torch import Hooks, read_safetensors, rounded  # noqa: E402

torch.set_num_threads(2)

ACT = {
    "silu": F.silu,
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu": F.gelu,
    "relu": F.relu,
}


def rms_norm(x, w, eps, offset=0.0):
    # LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * w; GemmaRMSNorm: ... * (1 + w)
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (offset + w)


def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def rope_inv_freq(cfg, dim):
    """ROPE_INIT_FUNCTIONS: default, linear, llama3 (rope_scaling or rope_parameters)."""
    sc = cfg.get("rope_parameters") or cfg.get("rope_scaling") or {}
    base = sc.get("rope_theta", cfg.get("rope_theta", 10000.0))
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    kind = sc.get("rope_type", sc.get("type", "default"))
    if kind == "linear":
        return inv_freq / sc["factor"]
    if kind == "llama3":
        factor, low, high = sc["factor"], sc["low_freq_factor"], sc["high_freq_factor"]
        old = sc["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv_freq
        out = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * out / factor + smooth * out
        medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
        return torch.where(medium, smoothed, out)
    assert kind == "default", kind
    return inv_freq


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rotate_every_two(x):
    # GPT-J: (x0, x1, x2, x3) -> (-x1, x0, -x3, x2)
    return torch.stack((-x[..., 1::2], x[..., ::2]), dim=-1).flatten(-2)


def mask_for(s, window):
    """Bool [S, S], True = attend: causal, and with a window w only keys j > i - w."""
    i = torch.arange(s)[:, None]
    j = torch.arange(s)[None, :]
    ok = j <= i
    if window:
        ok = ok & (j > i - window)
    return ok


def attend(q, k, v, scale, window, softcap=None):
    """q [B, H, S, dh]; k, v [B, Hkv, S, dh] repeated per group (repeat_kv). Returns z [B, S, H, dh], pattern."""
    groups = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(groups, dim=1)
    v = v.repeat_interleave(groups, dim=1)
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    if softcap:
        scores = torch.tanh(scores / softcap) * softcap
    scores = scores.masked_fill(~mask_for(q.shape[2], window), float("-inf"))
    pattern = torch.softmax(scores, dim=-1)
    return torch.matmul(pattern, v).permute(0, 2, 1, 3), pattern


def lin(W, name, x):
    """nn.Linear: weight [out, in], optional bias."""
    y = x @ W[name + ".weight"].T
    return y + W[name + ".bias"] if name + ".bias" in W else y


def heads(t, B, S, n, dh):
    return t.view(B, S, n, dh)


def llama_like(cfg, W, ids, hooks):
    """Llama, Mistral, Qwen2, Gemma, Gemma 2 (the decoder layer of each modeling file)."""
    mt = cfg["model_type"]
    gemma = mt in ("gemma", "gemma2")
    g2 = mt == "gemma2"
    d, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    Hkv = cfg.get("num_key_value_heads", H)
    dh = cfg.get("head_dim") or d // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    off = 1.0 if gemma else 0.0
    act = ACT[cfg.get("hidden_activation") or "gelu_pytorch_tanh"] if gemma else ACT[cfg.get("hidden_act", "silu")]
    scale = cfg["query_pre_attn_scalar"] ** -0.5 if g2 else dh ** -0.5
    # Per-layer windows: Mistral every layer; Qwen2 layers >= max_window_layers when use_sliding_window; Gemma 2 even layers.
    if mt == "mistral":
        windows = [cfg.get("sliding_window") or 0] * L
    elif mt == "qwen2" and cfg.get("use_sliding_window"):
        windows = [cfg["sliding_window"] if l >= cfg["max_window_layers"] else 0 for l in range(L)]
    elif g2:
        windows = [cfg["sliding_window"] if l % 2 == 0 else 0 for l in range(L)]
    else:
        windows = [0] * L
    B, S = ids.shape
    inv = rope_inv_freq(cfg, dh).float().double()  # HF holds inv_freq in float32
    emb = torch.outer(torch.arange(S, dtype=torch.float64), inv)
    emb = torch.cat((emb, emb), dim=-1)
    cos, sin = emb.cos()[None, :, None, :], emb.sin()[None, :, None, :]
    x = W["model.embed_tokens.weight"][ids]
    if gemma:
        x = x * torch.tensor(d ** 0.5, dtype=torch.float32).double()
    hooks.put("hook_embed", x)
    for l in range(L):
        p = f"model.layers.{l}."
        hooks.put(f"blocks.{l}.hook_resid_pre", x)
        h = hooks.put(f"blocks.{l}.ln1.hook_normalized", rms_norm(x, W[p + "input_layernorm.weight"], eps, off))
        q = hooks.put(f"blocks.{l}.attn.hook_q", heads(lin(W, p + "self_attn.q_proj", h), B, S, H, dh))
        k = hooks.put(f"blocks.{l}.attn.hook_k", heads(lin(W, p + "self_attn.k_proj", h), B, S, Hkv, dh))
        v = hooks.put(f"blocks.{l}.attn.hook_v", heads(lin(W, p + "self_attn.v_proj", h), B, S, Hkv, dh))
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        z, pattern = attend(q.permute(0, 2, 1, 3), k.permute(0, 2, 1, 3), v.permute(0, 2, 1, 3), scale, windows[l], cfg.get("attn_logit_softcapping") if g2 else None)
        hooks.put(f"blocks.{l}.attn.hook_pattern", pattern)
        hooks.put(f"blocks.{l}.attn.hook_z", z)
        attn_out = lin(W, p + "self_attn.o_proj", z.reshape(B, S, H * dh))
        if g2:
            attn_out = hooks.put(f"blocks.{l}.ln1_post.hook_normalized", rms_norm(attn_out, W[p + "post_attention_layernorm.weight"], eps, off))
        hooks.put(f"blocks.{l}.hook_attn_out", attn_out)
        x = hooks.put(f"blocks.{l}.hook_resid_mid", x + attn_out)
        ln2 = "pre_feedforward_layernorm" if g2 else "post_attention_layernorm"
        h = hooks.put(f"blocks.{l}.ln2.hook_normalized", rms_norm(x, W[p + ln2 + ".weight"], eps, off))
        gate = hooks.put(f"blocks.{l}.mlp.hook_pre", lin(W, p + "mlp.gate_proj", h))
        up = hooks.put(f"blocks.{l}.mlp.hook_pre_linear", lin(W, p + "mlp.up_proj", h))
        post = hooks.put(f"blocks.{l}.mlp.hook_post", act(gate) * up)
        mlp_out = lin(W, p + "mlp.down_proj", post)
        if g2:
            mlp_out = hooks.put(f"blocks.{l}.ln2_post.hook_normalized", rms_norm(mlp_out, W[p + "post_feedforward_layernorm.weight"], eps, off))
        hooks.put(f"blocks.{l}.hook_mlp_out", mlp_out)
        x = hooks.put(f"blocks.{l}.hook_resid_post", x + mlp_out)
    x = hooks.put("ln_final.hook_normalized", rms_norm(x, W["model.norm.weight"], eps, off))
    head = W["lm_head.weight"] if "lm_head.weight" in W else W["model.embed_tokens.weight"]
    logits = x @ head.T
    cap = cfg.get("final_logit_softcapping") if g2 else None
    return torch.tanh(logits / cap) * cap if cap else logits


def gpt_neo(cfg, W, ids, hooks):
    d, H, L = cfg["hidden_size"], cfg["num_heads"], cfg["num_layers"]
    dh = d // H
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = ACT[cfg.get("activation_function", "gelu_new")]
    kinds = [k for kinds, n in cfg["attention_types"] for _ in range(n) for k in kinds]
    B, S = ids.shape
    tok = hooks.put("hook_embed", W["transformer.wte.weight"][ids])
    pos = hooks.put("hook_pos_embed", W["transformer.wpe.weight"][torch.arange(S)][None])
    x = tok + pos
    for l in range(L):
        p = f"transformer.h.{l}."
        a = p + "attn.attention."
        hooks.put(f"blocks.{l}.hook_resid_pre", x)
        h = hooks.put(f"blocks.{l}.ln1.hook_normalized", layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps))
        q = hooks.put(f"blocks.{l}.attn.hook_q", heads(lin(W, a + "q_proj", h), B, S, H, dh))
        k = hooks.put(f"blocks.{l}.attn.hook_k", heads(lin(W, a + "k_proj", h), B, S, H, dh))
        v = hooks.put(f"blocks.{l}.attn.hook_v", heads(lin(W, a + "v_proj", h), B, S, H, dh))
        window = cfg.get("window_size", 256) if kinds[l] == "local" else 0
        # GPTNeoSelfAttention: no 1/sqrt(dh) scaling.
        z, pattern = attend(q.permute(0, 2, 1, 3), k.permute(0, 2, 1, 3), v.permute(0, 2, 1, 3), 1.0, window)
        hooks.put(f"blocks.{l}.attn.hook_pattern", pattern)
        hooks.put(f"blocks.{l}.attn.hook_z", z)
        attn_out = hooks.put(f"blocks.{l}.hook_attn_out", lin(W, a + "out_proj", z.reshape(B, S, d)))
        x = hooks.put(f"blocks.{l}.hook_resid_mid", x + attn_out)
        h = hooks.put(f"blocks.{l}.ln2.hook_normalized", layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps))
        pre = hooks.put(f"blocks.{l}.mlp.hook_pre", lin(W, p + "mlp.c_fc", h))
        post = hooks.put(f"blocks.{l}.mlp.hook_post", act(pre))
        mlp_out = hooks.put(f"blocks.{l}.hook_mlp_out", lin(W, p + "mlp.c_proj", post))
        x = hooks.put(f"blocks.{l}.hook_resid_post", x + mlp_out)
    x = hooks.put("ln_final.hook_normalized", layer_norm(x, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"], eps))
    return x @ W["transformer.wte.weight"].T


def gptj(cfg, W, ids, hooks):
    d, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    dh = d // H
    rot = cfg["rotary_dim"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = ACT[cfg.get("activation_function", "gelu_new")]
    B, S = ids.shape
    # create_sinusoidal_positions: sin | cos of pos * inv_freq, each repeat_interleave'd by 2.
    inv = 1.0 / (10000 ** (torch.arange(0, rot, 2, dtype=torch.int64) / rot))
    ang = torch.einsum("i,j->ij", torch.arange(S, dtype=torch.float), inv.float()).double()
    sin = torch.repeat_interleave(ang.sin(), 2, dim=-1)[None, :, None, :]
    cos = torch.repeat_interleave(ang.cos(), 2, dim=-1)[None, :, None, :]

    def rope(t):
        r = t[..., :rot]
        return torch.cat((r * cos + rotate_every_two(r) * sin, t[..., rot:]), dim=-1)

    x = hooks.put("hook_embed", W["transformer.wte.weight"][ids])
    for l in range(L):
        p = f"transformer.h.{l}."
        hooks.put(f"blocks.{l}.hook_resid_pre", x)
        h = hooks.put(f"blocks.{l}.ln1.hook_normalized", layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps))
        q = hooks.put(f"blocks.{l}.attn.hook_q", heads(lin(W, p + "attn.q_proj", h), B, S, H, dh))
        k = hooks.put(f"blocks.{l}.attn.hook_k", heads(lin(W, p + "attn.k_proj", h), B, S, H, dh))
        v = hooks.put(f"blocks.{l}.attn.hook_v", heads(lin(W, p + "attn.v_proj", h), B, S, H, dh))
        z, pattern = attend(rope(q).permute(0, 2, 1, 3), rope(k).permute(0, 2, 1, 3), v.permute(0, 2, 1, 3), dh ** -0.5, 0)
        hooks.put(f"blocks.{l}.attn.hook_pattern", pattern)
        hooks.put(f"blocks.{l}.attn.hook_z", z)
        attn_out = hooks.put(f"blocks.{l}.hook_attn_out", lin(W, p + "attn.out_proj", z.reshape(B, S, d)))
        hooks.put(f"blocks.{l}.hook_resid_mid", x + attn_out)
        # GPTJBlock: the MLP reads the same ln_1 output as attention (parallel residual).
        hooks.put(f"blocks.{l}.ln2.hook_normalized", h)
        pre = hooks.put(f"blocks.{l}.mlp.hook_pre", lin(W, p + "mlp.fc_in", h))
        post = hooks.put(f"blocks.{l}.mlp.hook_post", act(pre))
        mlp_out = hooks.put(f"blocks.{l}.hook_mlp_out", lin(W, p + "mlp.fc_out", post))
        x = hooks.put(f"blocks.{l}.hook_resid_post", x + attn_out + mlp_out)
    x = hooks.put("ln_final.hook_normalized", layer_norm(x, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"], eps))
    return lin(W, "lm_head", x)


def opt(cfg, W, ids, hooks):
    d, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    dh = d // H
    act = ACT[cfg.get("activation_function", "relu")]
    B, S = ids.shape
    pre_ = "model.decoder." if "model.decoder.embed_tokens.weight" in W else "decoder."
    tok = hooks.put("hook_embed", W[pre_ + "embed_tokens.weight"][ids])
    # OPTLearnedPositionalEmbedding: positions = cumsum(mask) - 1, looked up at + 2.
    pos = hooks.put("hook_pos_embed", W[pre_ + "embed_positions.weight"][torch.arange(S) + 2][None])
    x = tok + pos
    for l in range(L):
        p = f"{pre_}layers.{l}."
        hooks.put(f"blocks.{l}.hook_resid_pre", x)
        h = hooks.put(f"blocks.{l}.ln1.hook_normalized", layer_norm(x, W[p + "self_attn_layer_norm.weight"], W[p + "self_attn_layer_norm.bias"], 1e-5))
        # OPTAttention scales the projected queries (bias included) by dh^-0.5.
        q = hooks.put(f"blocks.{l}.attn.hook_q", heads(lin(W, p + "self_attn.q_proj", h), B, S, H, dh))
        k = hooks.put(f"blocks.{l}.attn.hook_k", heads(lin(W, p + "self_attn.k_proj", h), B, S, H, dh))
        v = hooks.put(f"blocks.{l}.attn.hook_v", heads(lin(W, p + "self_attn.v_proj", h), B, S, H, dh))
        z, pattern = attend((q * dh ** -0.5).permute(0, 2, 1, 3), k.permute(0, 2, 1, 3), v.permute(0, 2, 1, 3), 1.0, 0)
        hooks.put(f"blocks.{l}.attn.hook_pattern", pattern)
        hooks.put(f"blocks.{l}.attn.hook_z", z)
        attn_out = hooks.put(f"blocks.{l}.hook_attn_out", lin(W, p + "self_attn.out_proj", z.reshape(B, S, d)))
        x = hooks.put(f"blocks.{l}.hook_resid_mid", x + attn_out)
        h = hooks.put(f"blocks.{l}.ln2.hook_normalized", layer_norm(x, W[p + "final_layer_norm.weight"], W[p + "final_layer_norm.bias"], 1e-5))
        pre = hooks.put(f"blocks.{l}.mlp.hook_pre", lin(W, p + "fc1", h))
        post = hooks.put(f"blocks.{l}.mlp.hook_post", act(pre))
        mlp_out = hooks.put(f"blocks.{l}.hook_mlp_out", lin(W, p + "fc2", post))
        x = hooks.put(f"blocks.{l}.hook_resid_post", x + mlp_out)
    x = hooks.put("ln_final.hook_normalized", layer_norm(x, W[pre_ + "final_layer_norm.weight"], W[pre_ + "final_layer_norm.bias"], 1e-5))
    return x @ W[pre_ + "embed_tokens.weight"].T


FORWARDS = {"llama": llama_like, "mistral": llama_like, "qwen2": llama_like, "gemma": llama_like, "gemma2": llama_like, "gpt_neo": gpt_neo, "gptj": gptj, "opt": opt}


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "cases.json")) as f:
        cases = json.load(f)
    out = {"generator": "activations/peers/families_torch.py", "torch": torch.__version__, "precision": "float64", "cases": {}}
    for c in cases:
        folder = os.path.join(root, c["name"])
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        W, sha = read_safetensors(os.path.join(folder, "model.safetensors"))
        ids = torch.tensor(c["ids"], dtype=torch.long)
        hooks = Hooks(c["hooks"])
        with torch.no_grad():
            logits = FORWARDS[cfg["model_type"]](cfg, W, ids, hooks)
        missing = set(c["hooks"]) - set(hooks.values)
        assert not missing, f"{c['name']}: the reference has no value for {sorted(missing)}"
        out["cases"][c["name"]] = {
            "safetensors_sha256": sha,
            "ids": c["ids"],
            "logits": rounded(logits),
            "hooks": {k: rounded(v) for k, v in hooks.values.items()},
        }
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
