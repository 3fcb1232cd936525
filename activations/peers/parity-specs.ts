/**
 * The tiny random checkpoints and inputs shared by the parity test and the PyTorch peer
 * (activations/peers/parity_torch.py). Changing anything here changes the checkpoints' bytes: rerun
 * the command in activations/testdata/README.md to regenerate the golden file.
 */
import { Rng } from '../../lab/core/index.ts';
import type { RandomCheckpointSpec } from '../models/random-checkpoint.ts';

export interface ParityCase {
  name: string;
  spec: RandomCheckpointSpec;
  /** [batch][seq] token ids */
  ids: number[][];
  hooks: string[];
}

const HOOKS = [
  'blocks.0.attn.hook_pattern',
  'blocks.0.attn.hook_z',
  'blocks.0.mlp.hook_pre',
  'blocks.1.hook_resid_mid',
  'blocks.1.mlp.hook_post',
  'blocks.1.hook_resid_post',
];

function ids(seed: number, vocab: number, batch: number, seq: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: batch }, () => Array.from({ length: seq }, () => rng.int(vocab)));
}

const base = { nLayers: 2, dModel: 32, nHeads: 4, vocabSize: 270, contextLength: 16, std: 0.2 };

export const PARITY_CASES: ParityCase[] = [
  { name: 'gpt2', spec: { ...base, architecture: 'gpt2', seed: 101 }, ids: ids(1, 270, 2, 8), hooks: HOOKS },
  {
    name: 'neox-parallel',
    spec: { ...base, architecture: 'gpt-neox', rotaryPct: 0.5, parallelResidual: true, seed: 102 },
    ids: ids(2, 270, 2, 8),
    hooks: HOOKS,
  },
  {
    name: 'neox-sequential-f16',
    spec: { ...base, architecture: 'gpt-neox', rotaryPct: 0.25, parallelResidual: false, dtype: 'f16', seed: 103 },
    ids: ids(3, 270, 2, 8),
    hooks: HOOKS,
  },
  // Issue 15: config variants that once loaded silently wrong. A CRFM-style GPT-2 (layer-wise attention
  // scaling, upcast attention, an untied lm_head); 3 layers so the 1/(l+1) scale reaches 1/3.
  {
    name: 'gpt2-crfm-untied',
    spec: {
      ...base, nLayers: 3, architecture: 'gpt2', seed: 104,
      config: { scale_attn_by_inverse_layer_idx: true, reorder_and_upcast_attn: true, tie_word_embeddings: false },
    },
    ids: ids(4, 270, 2, 8),
    hooks: [...HOOKS, 'blocks.2.attn.hook_pattern', 'blocks.2.hook_resid_post'],
  },
  // A NeoX saved by transformers 5: rotary settings only under rope_parameters, tied embeddings, sequential.
  {
    name: 'neox-rope-parameters-tied',
    spec: {
      ...base, architecture: 'gpt-neox', parallelResidual: false, seed: 105,
      config: {
        rotary_pct: null, rotary_emb_base: null, tie_word_embeddings: true,
        rope_parameters: { rope_type: 'default', rope_theta: 500, partial_rotary_factor: 0.5 },
      },
    },
    ids: ids(5, 270, 2, 8),
    hooks: HOOKS,
  },
  // Linear RoPE scaling (rope_scaling {type: linear}) on fully rotated heads.
  {
    name: 'neox-rope-linear',
    spec: {
      ...base, architecture: 'gpt-neox', rotaryPct: 1, parallelResidual: true, seed: 106,
      config: { rope_scaling: { type: 'linear', factor: 4 } },
    },
    ids: ids(6, 270, 2, 8),
    hooks: HOOKS,
  },
];

/**
 * The checkpoint `lab verify`'s test certifies (activations/peers/verify_torch.py saves its reference):
 * a CRFM-style GPT-2 with a context long enough for the fixed prompt in byte-level tokens.
 */
export const VERIFY_SPEC: RandomCheckpointSpec = {
  ...base, contextLength: 64, architecture: 'gpt2', seed: 107, config: { scale_attn_by_inverse_layer_idx: true },
};
