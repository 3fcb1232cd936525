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
];
