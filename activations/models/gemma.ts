/**
 * Gemma and Gemma 2 in the Hugging Face layout (GemmaForCausalLM, Gemma2ForCausalLM): the Llama
 * tensor layout (llama.ts) with Gemma's own numerics, as TransformerLens' weight_conversions/gemma.py.
 *
 * The traps, said plainly:
 *  - the token embedding is multiplied by sqrt(hidden_size) before the first block (HF casts the
 *    factor to the hidden dtype: float32 here), and the unembedding is the raw, unscaled embedding;
 *  - GemmaRMSNorm scales by (1 + w), not w: a stored norm weight near 0 is a gain near 1. The loader
 *    adds the 1 (so the lab's gain is 1 + w, what TransformerLens folds in too);
 *  - the MLP is GeGLU with the tanh gelu (hidden_activation, default gelu_pytorch_tanh); HF Gemma
 *    ignores hidden_act (older configs say "gelu" there), so does the lab;
 *  - head_dim is its own key (256), not hidden_size / num_attention_heads (gemma-7b: 3072 / 16 = 192);
 *  - Gemma 2: the attention and MLP outputs are normalized before joining the residual
 *    (post_attention_layernorm is that output norm and pre_feedforward_layernorm the MLP's input
 *    norm: the names shift meaning from Llama's), scores are scaled by query_pre_attn_scalar^-0.5, not
 *    head_dim^-0.5, soft-capped by attn_logit_softcapping (cap * tanh(s / cap)) before the mask, final
 *    logits by final_logit_softcapping, and even layers (0, 2, ...) attend within sliding_window.
 */
import { defineArchitecture, type ArchitectureShape } from './architecture.ts';
import type { HfConfigReader } from './config.ts';
import { bool, checkAttentionShape, readRope, refuseUnknownFields, slidingWindows } from './family-support.ts';
import { llamaTensorShapes, loadLlamaParams, type LlamaLikeConfig } from './llama.ts';

type Variant = 'gemma' | 'gemma2';

const KEYS = [
  'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads',
  'head_dim', 'hidden_act', 'hidden_activation', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta', 'rope_scaling',
  'rope_parameters', 'attention_bias', 'tie_word_embeddings',
];
const GEMMA2_KEYS = ['query_pre_attn_scalar', 'sliding_window', 'layer_types', 'attn_logit_softcapping', 'final_logit_softcapping'];

/** A soft cap: a positive number, or null / absent for none (the Gemma2Config defaults are 50 and 30). */
function cap(r: HfConfigReader, key: string, fallback: number): number | undefined {
  if (r.hf[key] === null) return undefined;
  return r.num(key, fallback) > 0 ? r.num(key, fallback) : undefined;
}

function parseGemma(r: HfConfigReader, variant: Variant): LlamaLikeConfig {
  const { hf, path } = r;
  refuseUnknownFields(r, variant === 'gemma2' ? [...KEYS, ...GEMMA2_KEYS] : KEYS);
  const g2 = variant === 'gemma2';
  const dModel = r.int('hidden_size');
  const nLayers = r.int('num_hidden_layers');
  const dHead = r.int('head_dim', 256);
  const nHeads = r.int('num_attention_heads');
  const cfg: LlamaLikeConfig = {
    architecture: variant,
    nLayers,
    dModel,
    nHeads,
    nKVHeads: r.int('num_key_value_heads', g2 ? 4 : 16),
    dHead,
    dMlp: r.int('intermediate_size'),
    vocabSize: r.int('vocab_size', 256000),
    contextLength: r.int('max_position_embeddings', 8192),
    layerNormEps: r.num('rms_norm_eps', 1e-6),
    activation: r.act('hidden_activation', 'gelu_pytorch_tanh'),
    tiedEmbeddings: bool(r, 'tie_word_embeddings', true),
    rotaryDims: dHead,
    ...readRope(r, 10000),
    parallelResidual: false,
    weightDtype: r.weightDtype,
    norm: 'rmsnorm',
    gatedMlp: true,
    embedScale: Math.sqrt(dModel),
    attnBias: bool(r, 'attention_bias', false) ? 'all' : 'none',
    mlpBias: false,
    normOffset: 1,
  };
  if (g2) {
    cfg.postNorms = true;
    cfg.attnScale = 1 / Math.sqrt(r.num('query_pre_attn_scalar', 256));
    cfg.attnSoftcap = cap(r, 'attn_logit_softcapping', 50);
    cfg.finalSoftcap = cap(r, 'final_logit_softcapping', 30);
    const window = hf.sliding_window == null ? 4096 : r.int('sliding_window');
    cfg.slidingWindows = slidingWindows(r, nLayers, window, (l) => l % 2 === 0);
  }
  return checkAttentionShape(cfg, path) as LlamaLikeConfig;
}

/** A config.json for a shape, as GemmaConfig / Gemma2Config.to_dict() writes it. */
function gemmaHfConfig(variant: Variant, s: ArchitectureShape): Record<string, unknown> {
  return {
    architectures: [variant === 'gemma' ? 'GemmaForCausalLM' : 'Gemma2ForCausalLM'],
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
    hidden_act: 'gelu_pytorch_tanh',
    hidden_activation: 'gelu_pytorch_tanh',
    rope_theta: s.rotaryBase ?? 10000,
    attention_bias: false,
    tie_word_embeddings: true,
    ...(variant === 'gemma2'
      ? { query_pre_attn_scalar: s.dHead ?? s.dModel / s.nHeads, sliding_window: 4096, attn_logit_softcapping: 50, final_logit_softcapping: 30 }
      : {}),
  };
}

function gemmaVariant(variant: Variant, summary: string) {
  return defineArchitecture({
    name: variant,
    modelTypes: [variant],
    summary,
    positional: false,
    tokenizer: 'neox',
    // Stored norm weights are w in (1 + w): random checkpoints draw them around 0, like other weights.
    normGain: /(?!)/,
    parseConfig: (r) => parseGemma(r, variant),
    hfConfig: (s) => gemmaHfConfig(variant, s),
    tensorShapes: llamaTensorShapes,
    loadParams: loadLlamaParams,
  });
}

export const gemmaArchitecture = gemmaVariant('gemma', 'Gemma (GemmaForCausalLM): embedding scaled by sqrt(d), RMSNorm (1 + w), GeGLU, head_dim 256');
export const gemma2Architecture = gemmaVariant(
  'gemma2',
  'Gemma 2 (Gemma2ForCausalLM): Gemma plus output norms, soft-capped scores and logits, alternating sliding window',
);
