/**
 * The tiny random checkpoints, text and neurons shared by the neuron-effect and ablation tests
 * (activations/neuron-effects.test.ts, lab/commands/ablate.test.ts) and their PyTorch peer
 * (activations/peers/neurons_torch.py). Changing anything here changes the golden: rerun the command in
 * activations/testdata/README.md.
 */
import type { RandomCheckpointSpec } from '../models/random-checkpoint.ts';

export interface NeuronCase {
  name: string;
  spec: RandomCheckpointSpec;
  hook: string;
  neurons: number[];
}

const base = { nLayers: 2, dModel: 32, nHeads: 4, vocabSize: 270, contextLength: 16, std: 0.3 };

export const NEURON_CASES: NeuronCase[] = [
  { name: 'gpt2', spec: { ...base, architecture: 'gpt2', seed: 201 }, hook: 'blocks.1.mlp.hook_post', neurons: [3, 40, 77] },
  {
    name: 'neox-sequential',
    spec: { ...base, architecture: 'gpt-neox', rotaryPct: 0.5, parallelResidual: false, seed: 202 },
    hook: 'blocks.0.mlp.hook_post',
    neurons: [0, 5, 127],
  },
];

/** About 400 bytes of plain English, so the windows (16 tokens) cut it many times. */
export const ABLATION_TEXT =
  'The committee met on a grey morning in the old hall. Nobody had read the report, and the chairman ' +
  'said so twice before the tea arrived. Then the treasurer stood up, counted the chairs, and announced ' +
  'that the society owned eleven of them, three fewer than last year. A long silence followed. ' +
  'In the end they voted to buy a kettle, adjourned at noon, and walked out into the rain together.\n';
