/**
 * The attention-knockout cases shared by activations/models/knockout.test.ts, lab/recall's knockout test
 * and the PyTorch peer (activations/peers/knockout_torch.py): tiny random 4-layer checkpoints, explicit
 * edge blocks, and one query whose knockout table (Geva et al. 2023: subject / non_subject / last,
 * window K) the peer computes independently. Changing anything here changes the golden: rerun the command
 * in activations/testdata/README.md.
 */
import { Rng } from '../../lab/core/index.ts';
import type { EdgeBlock } from '../models/knockout.ts';
import type { RandomCheckpointSpec } from '../models/random-checkpoint.ts';

export interface KnockoutCase {
  name: string;
  spec: RandomCheckpointSpec;
  /** [batch][seq] token ids for the explicit edge blocks. */
  ids: number[][];
  edgeConfigs: { name: string; blocks: EdgeBlock[] }[];
  /** One prompt as token ids, its subject tokens [start, end), and the knockout window. */
  query: { ids: number[]; subject: [number, number]; window: number };
}

function ids(seed: number, vocab: number, batch: number, seq: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: batch }, () => Array.from({ length: seq }, () => rng.int(vocab)));
}

const base = { nLayers: 4, dModel: 32, nHeads: 4, vocabSize: 270, contextLength: 16, std: 0.3 };

const EDGE_CONFIGS: KnockoutCase['edgeConfigs'] = [
  // The last position cut off from positions 2..4 in layers 1 and 2, every head, both items.
  { name: 'last-to-span', blocks: [{ layers: [1, 2], from: [7], to: [2, 3, 4] }] },
  // Partial: some heads, one batch item, several query rows, plus a second overlapping block.
  {
    name: 'heads-and-item',
    blocks: [
      { layers: [0], from: [5, 6, 7], to: [0], heads: [1, 3], batch: [1] },
      { layers: [0, 3], from: [6], to: [0, 1, 5], heads: [0] },
    ],
  },
];

export const KNOCKOUT_CASES: KnockoutCase[] = [
  {
    name: 'gpt2',
    spec: { ...base, architecture: 'gpt2', seed: 201 },
    ids: ids(11, 270, 2, 8),
    edgeConfigs: EDGE_CONFIGS,
    query: { ids: ids(21, 270, 1, 9)[0]!, subject: [2, 5], window: 3 },
  },
  {
    name: 'neox-parallel',
    spec: { ...base, architecture: 'gpt-neox', rotaryPct: 0.5, parallelResidual: true, seed: 202 },
    ids: ids(12, 270, 2, 8),
    edgeConfigs: EDGE_CONFIGS,
    // Subject at the start of the prompt.
    query: { ids: ids(22, 270, 1, 9)[0]!, subject: [0, 3], window: 2 },
  },
];
