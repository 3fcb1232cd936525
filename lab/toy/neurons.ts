/**
 * Mono / poly / dead labels of the hidden neurons of relu-hidden and abs models, read from the weights.
 * They are the ground truth the probing tools are validated against, so they are defined by what can
 * make a neuron fire on the data distribution, not by any probe.
 *
 * Neuron k has input weights w_i = W1[k][i] and bias b1_k. Feature i can push the neuron up by its
 * reach: max over the feature's values of w_i x_i, i.e. max(w_i, 0) for relu-hidden (x_i in [0, 1])
 * and |w_i| for abs (x_i in [-1, 1]). Then
 *  - share_i = reach_i / sum_j reach_j: the fraction of the neuron's positive input mass on feature i;
 *  - max activation = b1_k + sum_j reach_j (all features at their extremes);
 *  - dead:  max activation <= DEAD_ACT, or sum_j reach_j <= DEAD_ACT (a constant neuron carries no
 *           feature). It never fires (beyond a negligible DEAD_ACT) on any input of the support.
 *  - features: the fewest features, by share descending, whose shares add up to >= COVER_SHARE;
 *  - mono: that set is a single feature (one feature carries >= COVER_SHARE of the input mass);
 *  - poly: it has two or more.
 */
import type { ToyModel } from './config.ts';

export const COVER_SHARE = 0.8;
export const DEAD_ACT = 1e-3;

export type NeuronLabel = 'mono' | 'poly' | 'dead';

export interface NeuronInfo {
  label: NeuronLabel;
  /** Features the neuron carries (see above), by share, largest first; empty when dead. */
  features: number[];
  /** Share of the positive input mass on each feature (length n). */
  shares: number[];
  max_share: number;
  /** Largest activation the neuron can reach on the data support. */
  max_activation: number;
}

/** W1: neurons x features, b1: neurons. */
export function neuronLabels(model: ToyModel, W1: number[][], b1: number[]): NeuronInfo[] {
  return W1.map((w, k) => {
    const reach = w.map((v) => (model === 'abs' ? Math.abs(v) : Math.max(v, 0)));
    const mass = reach.reduce((a, b) => a + b, 0);
    const maxAct = Math.max(0, b1[k]! + mass);
    const shares = reach.map((r) => (mass > 0 ? r / mass : 0));
    const maxShare = Math.max(0, ...shares);
    if (maxAct <= DEAD_ACT || mass <= DEAD_ACT) {
      return { label: 'dead', features: [], shares, max_share: maxShare, max_activation: maxAct };
    }
    const order = shares.map((s, i) => i).sort((a, b) => shares[b]! - shares[a]! || a - b);
    const features: number[] = [];
    let covered = 0;
    for (const i of order) {
      if (covered >= COVER_SHARE || reach[i]! <= 0) break;
      features.push(i);
      covered += shares[i]!;
    }
    return { label: features.length === 1 ? 'mono' : 'poly', features, shares, max_share: maxShare, max_activation: maxAct };
  });
}
