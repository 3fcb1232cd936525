/**
 * Tiny random checkpoints of the Llama, Mistral, Qwen2, GPT-Neo, GPT-J, OPT, Gemma and Gemma 2
 * families, shared by activations/models/families-parity.test.ts and the PyTorch peer
 * activations/peers/families_torch.py. Each case sets the config fields that change the numbers to
 * values where they do at 8 tokens (windows of 3, soft caps near the score scale, a llama3 band
 * split inside the head's frequencies). Changing anything here changes the checkpoints' bytes:
 * rerun the command in activations/testdata/README.md to regenerate the golden file.
 */
import { Rng } from '../../lab/core/index.ts';
import type { ParityCase } from './parity-specs.ts';

function ids(seed: number, vocab: number, batch: number, seq: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: batch }, () => Array.from({ length: seq }, () => rng.int(vocab)));
}

const base = { nLayers: 2, dModel: 32, nHeads: 4, vocabSize: 270, contextLength: 16, std: 0.2 };

const COMMON = [
  'hook_embed',
  'blocks.0.ln1.hook_normalized',
  'blocks.0.attn.hook_q',
  'blocks.0.attn.hook_k',
  'blocks.0.attn.hook_pattern',
  'blocks.0.attn.hook_z',
  'blocks.0.hook_attn_out',
  'blocks.0.mlp.hook_pre',
  'blocks.0.mlp.hook_post',
  'blocks.1.attn.hook_pattern',
  'blocks.1.hook_resid_mid',
  'blocks.1.hook_mlp_out',
  'blocks.1.hook_resid_post',
  'ln_final.hook_normalized',
];
const GATED = [...COMMON, 'blocks.0.mlp.hook_pre_linear', 'blocks.1.mlp.hook_pre_linear'];
const POST_NORMS = [...GATED, 'blocks.0.ln1_post.hook_normalized', 'blocks.1.ln2_post.hook_normalized'];

const llama3 = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };

export const FAMILY_CASES: ParityCase[] = [
  {
    // Grouped-query attention (2 kv heads for 4), head_dim 16 != 32 / 4, llama3 rope scaling, rope_theta 500000.
    name: 'llama-gqa-llama3',
    spec: { ...base, architecture: 'llama', nKVHeads: 2, dHead: 16, dMlp: 48, seed: 301, config: { rope_theta: 500000, rope_scaling: llama3 } },
    ids: ids(31, 270, 1, 8),
    hooks: GATED,
  },
  {
    // attention_bias and mlp_bias, tied embeddings, linear rope scaling, stored f16.
    name: 'llama-bias-tied-f16',
    spec: {
      ...base, architecture: 'llama', dtype: 'f16', seed: 302,
      config: { attention_bias: true, mlp_bias: true, tie_word_embeddings: true, rope_scaling: { type: 'linear', factor: 2 } },
    },
    ids: ids(32, 270, 1, 8),
    hooks: GATED,
  },
  {
    name: 'mistral-window3',
    spec: { ...base, architecture: 'mistral', nKVHeads: 1, seed: 303, config: { sliding_window: 3 } },
    ids: ids(33, 270, 1, 8),
    hooks: GATED,
  },
  {
    // q, k, v biases; tied; sliding window on layers >= max_window_layers (layer 1 only).
    name: 'qwen2-bias-window',
    spec: { ...base, architecture: 'qwen2', nKVHeads: 2, seed: 304, config: { tie_word_embeddings: true, use_sliding_window: true, sliding_window: 3, max_window_layers: 1 } },
    ids: ids(34, 270, 1, 8),
    hooks: GATED,
  },
  {
    // Layer 0 global, layer 1 local with a window of 3; unscaled attention.
    name: 'gpt-neo-local3',
    spec: { ...base, architecture: 'gpt-neo', seed: 305, config: { window_size: 3 } },
    ids: ids(35, 270, 1, 8),
    hooks: [...COMMON, 'hook_pos_embed'],
  },
  {
    // rotary_dim 4 of 8 head dims, interleaved pairs.
    name: 'gptj-rot4',
    spec: { ...base, architecture: 'gptj', rotaryPct: 0.5, seed: 306 },
    ids: ids(36, 270, 1, 8),
    hooks: COMMON,
  },
  {
    name: 'opt',
    spec: { ...base, architecture: 'opt', seed: 307 },
    ids: ids(37, 270, 1, 8),
    hooks: [...COMMON, 'hook_pos_embed'],
  },
  {
    // Multi-query (1 kv head), head_dim 16.
    name: 'gemma-mqa',
    spec: { ...base, architecture: 'gemma', nKVHeads: 1, dHead: 16, seed: 308 },
    ids: ids(38, 270, 1, 8),
    hooks: GATED,
  },
  {
    // Soft caps near the scale of the scores and logits, window 3 on layer 0, query_pre_attn_scalar 10.
    name: 'gemma2-softcap-window',
    spec: {
      ...base, architecture: 'gemma2', nKVHeads: 2, seed: 309,
      config: { sliding_window: 3, attn_logit_softcapping: 0.5, final_logit_softcapping: 1.5, query_pre_attn_scalar: 10 },
    },
    ids: ids(39, 270, 1, 8),
    hooks: POST_NORMS,
  },
];
