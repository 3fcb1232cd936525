/**
 * How much of a layer a feature takes, read from activations. Each live neuron is one dimension to share;
 * it gives feature f the fraction share_nf of its positive response (probes/neurons.ts), and dead neurons
 * give nothing. The feature's capacity is the sum over neurons:
 *
 *   capacity_f = sum_n share_nf,   0 <= capacity_f <= width,   sum_f capacity_f = live neurons <= width.
 *
 * It reads like Scherlis et al.'s C_i on the archetypes: a feature with a neuron of its own gets 1 from
 * it, two features sharing one neuron evenly get 1/2 each (C = 1/2 for an antipodal or identical pair),
 * a feature no neuron responds to gets 0. Unlike C_i (at most 1), a feature copied into several neurons
 * gets more than 1: it occupies them all.
 */
import type { NeuronRow } from './neurons.ts';

export function responseCapacity(neurons: NeuronRow[], nFeatures: number): number[] {
  const cap = new Array<number>(nFeatures).fill(0);
  for (const n of neurons) {
    if (n.label === 'dead') continue;
    for (let f = 0; f < nFeatures; f++) cap[f]! += n.shares[f] ?? 0;
  }
  return cap;
}

export interface CapacityAgreement {
  pearson: number;
  spearman: number;
  mean_abs_diff: number;
  total_estimated: number;
  total_truth: number;
}

/** Agreement of the estimate with a reference capacity (e.g. the toy's Scherlis C_i), feature by feature. */
export function capacityAgreement(est: number[], truth: number[]): CapacityAgreement {
  const n = Math.min(est.length, truth.length);
  const a = est.slice(0, n);
  const b = truth.slice(0, n);
  return {
    pearson: pearson(a, b),
    spearman: pearson(ranks(a), ranks(b)),
    mean_abs_diff: n ? a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / n : NaN,
    total_estimated: a.reduce((s, v) => s + v, 0),
    total_truth: b.reduce((s, v) => s + v, 0),
  };
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  if (n < 2) return NaN;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** Mid-ranks (ties share the mean rank). */
function ranks(a: number[]): number[] {
  const idx = a.map((_, i) => i).sort((x, y) => a[x]! - a[y]!);
  const r = new Array<number>(a.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && a[idx[j + 1]!] === a[idx[i]!]) j++;
    for (let t = i; t <= j; t++) r[idx[t]!] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}
