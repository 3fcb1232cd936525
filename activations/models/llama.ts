/**
 * The Llama family in the Hugging Face layout: LlamaForCausalLM (Llama 2, 3.x), MistralForCausalLM,
 * Qwen2ForCausalLM (Qwen2, 2.5). Config keys, tensor names and shapes, and the conversion to the
 * canonical layout (as TransformerLens' weight_conversions/llama.py, mistral.py, qwen2.py do). Gemma
 * (gemma.ts) reuses this layout with its own norms and options.
 *
 * The traps, said plainly, because each gives a model that loads, runs and is wrong:
 *  - nn.Linear weights are [out, in]: every matrix is transposed (as in neox.ts, unlike gpt2.ts).
 *  - grouped-query attention: k_proj and v_proj have num_key_value_heads heads, fewer than q_proj;
 *    query head h reads kv head floor(h / (H / Hkv)) (HF repeat_kv), not h mod Hkv.
 *  - head_dim may differ from hidden_size / num_attention_heads (Llama 3.x configs, Mistral Nemo):
 *    q_proj is [H head_dim, d] and o_proj [d, H head_dim].
 *  - RMSNorm has no bias and no centring; the MLP is SwiGLU: down(silu(gate(x)) * up(x)). In
 *    TransformerLens' names hook_pre is gate(x) and hook_pre_linear is up(x).
 *  - RoPE is rotate-half over the whole head, base rope_theta, and Llama 3.1+ rescales the
 *    frequencies (rope_scaling rope_type llama3); newer transformers move both under rope_parameters.
 *  - Qwen2 always has q, k, v biases (no o bias) though its config says nothing; Llama has them only
 *    with attention_bias (then o_proj too), MLP biases only with mlp_bias. Mistral has none.
 *  - sliding_window: Mistral applies it to every layer (null: none); Qwen2 only with
 *    use_sliding_window, and then only to layers >= max_window_layers.
 *  - tie_word_embeddings defaults to false here (true for the small Qwen2.5s and Llama 3.2s, which
 *    then store no lm_head, or store a copy).
 */
import { InputError } from '../../lab/core/index.ts';
import { defineArchitecture, type ArchitectureShape } from './architecture.ts';
import type { CheckpointReader } from './checkpoint.ts';
import type { HfConfigReader, TransformerConfig } from './config.ts';
import { bool, checkAttentionShape, readRope, refuseUnknownFields, requireValue, slidingWindows, WeightReader } from './family-support.ts';
import type { LayerParams } from './transformer.ts';

/** TransformerConfig plus what the Llama layout needs to name its tensors. */
export interface LlamaLikeConfig extends TransformerConfig {
  /** Which attention projections carry biases. */
  attnBias: 'none' | 'qkv' | 'all';
  mlpBias: boolean;
  /** Gemma stores norm weights w and scales by 1 + w: added to every norm gain on load. */
  normOffset: number;
}

type Variant = 'llama' | 'mistral' | 'qwen2';

/** The HF config classes' defaults: saved config.json files omit keys equal to them (to_diff_dict). */
const DEFAULTS: Record<Variant, { maxPos: number; kvHeads?: number }> = {
  llama: { maxPos: 2048 },
  mistral: { maxPos: 4096 * 32, kvHeads: 8 },
  qwen2: { maxPos: 32768 },
};

const COMMON_KEYS = [
  'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads',
  'head_dim', 'hidden_act', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta', 'rope_scaling', 'rope_parameters',
  'tie_word_embeddings',
];
const VARIANT_KEYS: Record<Variant, string[]> = {
  llama: ['attention_bias', 'mlp_bias'],
  mistral: ['sliding_window'],
  qwen2: ['sliding_window', 'use_sliding_window', 'max_window_layers', 'layer_types', 'use_mrope'],
};

function parseLlamaLike(r: HfConfigReader, variant: Variant): LlamaLikeConfig {
  const { hf, path } = r;
  refuseUnknownFields(r, [...COMMON_KEYS, ...VARIANT_KEYS[variant]]);
  const dModel = r.int('hidden_size');
  const nHeads = r.int('num_attention_heads');
  const nLayers = r.int('num_hidden_layers');
  const dHead = hf.head_dim == null ? dModel / nHeads : r.int('head_dim');
  if (!Number.isInteger(dHead)) throw new InputError(`${path}: hidden_size ${dModel} is not divisible by ${nHeads} heads and there is no head_dim`, path);
  requireValue(r, 'use_mrope', false, 'multimodal rotary sections');
  let slide: number[] | undefined;
  const window = hf.sliding_window as number;
  if (variant === 'mistral' && hf.sliding_window !== null) {
    slide = slidingWindows(r, nLayers, window ?? 4096, () => true);
  } else if (variant === 'qwen2') {
    const use = bool(r, 'use_sliding_window', false);
    const full = hf.max_window_layers == null ? 28 : r.int('max_window_layers');
    slide = use ? slidingWindows(r, nLayers, window ?? 4096, (l) => l >= full) : undefined;
  }
  const cfg: LlamaLikeConfig = {
    architecture: variant,
    nLayers,
    dModel,
    nHeads,
    nKVHeads: hf.num_key_value_heads == null ? (DEFAULTS[variant].kvHeads ?? nHeads) : r.int('num_key_value_heads'),
    dHead,
    dMlp: r.int('intermediate_size'),
    vocabSize: r.int('vocab_size'),
    contextLength: r.int('max_position_embeddings', DEFAULTS[variant].maxPos),
    layerNormEps: r.num('rms_norm_eps', 1e-6),
    activation: r.act('hidden_act', 'silu'),
    tiedEmbeddings: bool(r, 'tie_word_embeddings', false),
    rotaryDims: dHead,
    ...readRope(r, 10000),
    parallelResidual: false,
    weightDtype: r.weightDtype,
    norm: 'rmsnorm',
    gatedMlp: true,
    slidingWindows: slide,
    attnBias: variant === 'qwen2' ? 'qkv' : bool(r, 'attention_bias', false) ? 'all' : 'none',
    mlpBias: bool(r, 'mlp_bias', false),
    normOffset: 0,
  };
  return checkAttentionShape(cfg, path) as LlamaLikeConfig;
}

/** Stored tensor names and shapes of the Llama layout (Gemma 2 adds its two output norms per layer). */
export function llamaTensorShapes(c: TransformerConfig): Map<string, number[]> {
  const cfg = c as LlamaLikeConfig;
  const { dModel: d, dMlp: m, vocabSize: V, nHeads: H, dHead: dh } = cfg;
  const kv = (cfg.nKVHeads ?? H) * dh;
  const s = new Map<string, number[]>();
  s.set('model.embed_tokens.weight', [V, d]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `model.layers.${l}.`;
    s.set(p + 'input_layernorm.weight', [d]);
    s.set(p + 'self_attn.q_proj.weight', [H * dh, d]);
    s.set(p + 'self_attn.k_proj.weight', [kv, d]);
    s.set(p + 'self_attn.v_proj.weight', [kv, d]);
    s.set(p + 'self_attn.o_proj.weight', [d, H * dh]);
    if (cfg.attnBias !== 'none') {
      s.set(p + 'self_attn.q_proj.bias', [H * dh]);
      s.set(p + 'self_attn.k_proj.bias', [kv]);
      s.set(p + 'self_attn.v_proj.bias', [kv]);
    }
    if (cfg.attnBias === 'all') s.set(p + 'self_attn.o_proj.bias', [d]);
    s.set(p + 'post_attention_layernorm.weight', [d]);
    if (cfg.postNorms) {
      s.set(p + 'pre_feedforward_layernorm.weight', [d]);
      s.set(p + 'post_feedforward_layernorm.weight', [d]);
    }
    s.set(p + 'mlp.gate_proj.weight', [m, d]);
    s.set(p + 'mlp.up_proj.weight', [m, d]);
    s.set(p + 'mlp.down_proj.weight', [d, m]);
    if (cfg.mlpBias) {
      s.set(p + 'mlp.gate_proj.bias', [m]);
      s.set(p + 'mlp.up_proj.bias', [m]);
      s.set(p + 'mlp.down_proj.bias', [d]);
    }
  }
  s.set('model.norm.weight', [d]);
  if (!cfg.tiedEmbeddings) s.set('lm_head.weight', [V, d]);
  return s;
}

export function loadLlamaParams(c: TransformerConfig, reader: CheckpointReader) {
  const cfg = c as LlamaLikeConfig;
  const { dModel: d, dMlp: m, vocabSize: V, nHeads: H, dHead: dh } = cfg;
  const kv = (cfg.nKVHeads ?? H) * dh;
  const w = new WeightReader(reader, cfg.weightDtype);
  const norm = (name: string) => w.vec(name, d, cfg.normOffset);
  const layers: LayerParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `model.layers.${l}.`;
    const a = p + 'self_attn.';
    const qkvBias = cfg.attnBias !== 'none';
    const mb = (n: string, size: number) => (cfg.mlpBias ? w.vec(p + `mlp.${n}.bias`, size) : w.zeros(size));
    layers.push({
      ln1g: norm(p + 'input_layernorm.weight'),
      ln1b: w.zeros(d),
      wqkv: w.qkv([a + 'q_proj.weight', a + 'k_proj.weight', a + 'v_proj.weight'], d, H * dh, kv),
      bqkv: qkvBias ? w.qkvBias([a + 'q_proj.bias', a + 'k_proj.bias', a + 'v_proj.bias'], H * dh, kv) : w.zeros(H * dh + 2 * kv),
      wo: w.linear(a + 'o_proj.weight', d, H * dh),
      bo: cfg.attnBias === 'all' ? w.vec(a + 'o_proj.bias', d) : w.zeros(d),
      // Gemma 2: post_attention_layernorm normalizes the attention output; pre_feedforward_layernorm is the MLP's input norm.
      ...(cfg.postNorms
        ? { ln1postg: norm(p + 'post_attention_layernorm.weight'), ln2g: norm(p + 'pre_feedforward_layernorm.weight'), ln2postg: norm(p + 'post_feedforward_layernorm.weight') }
        : { ln2g: norm(p + 'post_attention_layernorm.weight') }),
      ln2b: w.zeros(d),
      wgate: w.linear(p + 'mlp.gate_proj.weight', m, d),
      bgate: mb('gate_proj', m),
      win: w.linear(p + 'mlp.up_proj.weight', m, d),
      bin: mb('up_proj', m),
      wout: w.linear(p + 'mlp.down_proj.weight', d, m),
      bout: mb('down_proj', d),
    });
  }
  const embed = w.matrix('model.embed_tokens.weight', V, d);
  return w.done({
    embed,
    layers,
    lnfg: norm('model.norm.weight'),
    lnfb: w.zeros(d),
    unembed: cfg.tiedEmbeddings ? embed : w.matrix('lm_head.weight', V, d),
  });
}

/** A config.json for a shape, as LlamaConfig / MistralConfig / Qwen2Config.to_dict() writes it. */
function llamaHfConfig(variant: Variant, s: ArchitectureShape): Record<string, unknown> {
  const cls = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' }[variant];
  return {
    architectures: [cls],
    model_type: variant,
    hidden_size: s.dModel,
    intermediate_size: s.dMlp ?? 4 * s.dModel,
    num_hidden_layers: s.nLayers,
    num_attention_heads: s.nHeads,
    num_key_value_heads: s.nKVHeads ?? s.nHeads,
    head_dim: s.dHead ?? s.dModel / s.nHeads,
    vocab_size: s.vocabSize,
    max_position_embeddings: s.contextLength,
    rms_norm_eps: s.layerNormEps ?? 1e-6,
    hidden_act: 'silu',
    rope_theta: s.rotaryBase ?? 10000,
    rope_scaling: null,
    tie_word_embeddings: false,
    ...(variant === 'llama' ? { attention_bias: false, mlp_bias: false } : {}),
    ...(variant === 'mistral' ? { sliding_window: null } : {}),
    ...(variant === 'qwen2' ? { use_sliding_window: false, sliding_window: 4096, max_window_layers: s.nLayers } : {}),
  };
}

function llamaVariant(variant: Variant, summary: string) {
  return defineArchitecture({
    name: variant,
    modelTypes: [variant],
    summary,
    positional: false,
    tokenizer: 'neox',
    normGain: /(layernorm|norm)\.weight$/,
    parseConfig: (r) => parseLlamaLike(r, variant),
    hfConfig: (s) => llamaHfConfig(variant, s),
    tensorShapes: llamaTensorShapes,
    loadParams: loadLlamaParams,
  });
}

export const llamaArchitecture = llamaVariant('llama', 'Llama 2 / 3.x (LlamaForCausalLM): RMSNorm, SwiGLU, grouped-query attention, RoPE with llama3 scaling');
export const mistralArchitecture = llamaVariant('mistral', 'Mistral (MistralForCausalLM): the Llama layout with a sliding attention window');
export const qwen2Architecture = llamaVariant('qwen2', 'Qwen2 / 2.5 (Qwen2ForCausalLM): the Llama layout with q, k, v biases');
