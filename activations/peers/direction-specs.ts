/**
 * Directional ablation cases for the PyTorch peer (activations/peers/direction_torch.py), on the neuron
 * cases' tiny random checkpoints, hooks and text (neuron-specs.ts). Each case removes one fixed
 * direction: a dense one (every neuron) and a sparse one shaped like a k-sparse probe's coefficients.
 * Changing anything here changes the golden: rerun the command in activations/testdata/README.md.
 */
import { NEURON_CASES, type NeuronCase } from './neuron-specs.ts';

export interface DirectionCase {
  name: string;
  /** The neuron case whose checkpoint, hook and text it uses. */
  checkpoint: NeuronCase;
  /** Not normalised: the lab and the peer both normalise it. */
  direction: number[];
}

/** The MLP width of the random checkpoints (4 x d_model). */
const width = (c: NeuronCase) => 4 * c.spec.dModel;

/** A dense direction with no structure the model could know about (a fixed trigonometric pattern). */
const dense = (m: number) => Array.from({ length: m }, (_, j) => Math.sin(1.7 * j + 0.3) + 0.25 * Math.cos(0.37 * j));

/** Weight on a few neurons only, like a probe's coefficients mapped back to the layer. */
function sparse(m: number, at: number[], coefs: number[]): number[] {
  const v = new Array<number>(m).fill(0);
  at.forEach((n, i) => (v[n] = coefs[i]!));
  return v;
}

export const DIRECTION_CASES: DirectionCase[] = NEURON_CASES.flatMap((c) => [
  { name: `${c.name}-dense`, checkpoint: c, direction: dense(width(c)) },
  { name: `${c.name}-sparse`, checkpoint: c, direction: sparse(width(c), c.neurons, [2.5, -1.25, 0.75]) },
]);
