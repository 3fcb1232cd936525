/**
 * Per-neuron selectivity read from activations alone, and mono / poly / dead labels built on it.
 *
 * For neuron n and feature f, the response is the mean difference
 *   r_nf = E[h_n | f present] - E[h_n | f absent]
 * with its Welch z = r_nf / sqrt(var_pos / n_pos + var_neg / n_neg). A neuron responds to f when r_nf > 0
 * and z >= MIN_Z (a positive, significant response: a feature that only ever lowers a neuron does not
 * make it fire). Responses below that count as 0. Then, as in the weight-based definition of
 * activations/toy/neurons.ts, which computes the same r_nf and firing probability exactly from a toy's weights,
 * bias and feature distribution (this is their estimate from rows, plus a significance test):
 *  - share_nf = r+_nf / sum_g r+_ng: the fraction of the neuron's positive response on feature f;
 *  - dead: the neuron is (almost) never active (above DEAD_ACT on fewer than DEAD_FRAC of the rows, or
 *          never above DEAD_ACT at all), or no feature moves it significantly (it carries none of the
 *          probed features: a neuron firing at random is dead for probing). Whether a response counts
 *          is the z-test's call, not its size: a neuron that fires rarely and weakly but only ever
 *          for one feature is that feature's (the toy's weights say so too);
 *  - features: the fewest features, by share descending, whose shares add up to >= COVER_SHARE;
 *  - mono: one feature; poly: two or more.
 * DEAD_ACT, DEAD_FRAC and COVER_SHARE are the toy's thresholds, in the same units (activations and
 * fractions of rows), so on a toy model the two definitions measure one quantity two ways.
 */
import type { ProbeData } from '../activations/index.ts';
// The toy's thresholds themselves, not copies: the two definitions must move together.
import { COVER_SHARE, DEAD_ACT, DEAD_FRAC, MIN_Z } from './thresholds.ts';

export { COVER_SHARE, DEAD_ACT, DEAD_FRAC, MIN_Z };
/** Welch z a response needs to count (the toy has no sampling noise, so it has no such threshold). */

export type NeuronLabel = 'mono' | 'poly' | 'dead';

export interface NeuronThresholds {
  coverShare: number;
  deadAct: number;
  deadFrac: number;
  minZ: number;
}

export const DEFAULT_NEURON_THRESHOLDS: NeuronThresholds = { coverShare: COVER_SHARE, deadAct: DEAD_ACT, deadFrac: DEAD_FRAC, minZ: MIN_Z };

export interface NeuronResponses {
  features: string[];
  nNeurons: number;
  /** Fraction of rows with activation > DEAD_ACT, per neuron. */
  activeFrac: Float64Array;
  maxAct: Float64Array;
  /** [nNeurons x nFeatures] mean differences and their Welch z. */
  diff: Float64Array;
  z: Float64Array;
}

/**
 * One pass over the rows: per-feature sums of present rows, and totals, give every mean difference.
 * `within[f]`, where given, is the only rows feature f is compared on (a contrast probe run's rows of
 * f and its hard negatives, probes/contrast.ts): then r_nf = E[h | f] - E[h | in within, not f].
 * Activity and the maximum are still over every row: whether a neuron is dead is about the neuron.
 */
export function neuronResponses(data: ProbeData, features: string[], deadAct = DEAD_ACT, within?: ReadonlyArray<Uint8Array | undefined>): NeuronResponses {
  const { X, nRows, nNeurons: d } = data;
  const F = features.length;
  const ys = features.map((f) => data.labels[f]!);
  const nPos = new Float64Array(F);
  const sumPos = new Float64Array(F * d);
  const sqPos = new Float64Array(F * d);
  const sumAll = new Float64Array(d);
  const sqAll = new Float64Array(d);
  const active = new Float64Array(d);
  const maxAct = new Float64Array(d).fill(-Infinity);
  const masked = features.map((_, f) => f).filter((f) => within?.[f] !== undefined);
  const nIn = new Float64Array(F);
  const sumIn = new Float64Array(F * d);
  const sqIn = new Float64Array(F * d);
  const present: number[] = [];
  for (let r = 0; r < nRows; r++) {
    const base = r * d;
    present.length = 0;
    for (let f = 0; f < F; f++) if (ys[f]![r]) present.push(f);
    for (let n = 0; n < d; n++) {
      const v = X[base + n]!;
      sumAll[n] += v;
      sqAll[n] += v * v;
      if (v > deadAct) active[n]++;
      if (v > maxAct[n]!) maxAct[n] = v;
    }
    for (const f of masked) {
      if (!within![f]![r]) continue;
      nIn[f]++;
      const o = f * d;
      for (let n = 0; n < d; n++) {
        const v = X[base + n]!;
        sumIn[o + n] += v;
        sqIn[o + n] += v * v;
      }
    }
    for (const f of present) {
      nPos[f]++;
      const o = f * d;
      for (let n = 0; n < d; n++) {
        const v = X[base + n]!;
        sumPos[o + n] += v;
        sqPos[o + n] += v * v;
      }
    }
  }
  const diff = new Float64Array(d * F);
  const z = new Float64Array(d * F);
  for (let f = 0; f < F; f++) {
    const inside = within?.[f] !== undefined;
    const p = nPos[f]!;
    const q = (inside ? nIn[f]! : nRows) - p;
    for (let n = 0; n < d; n++) {
      const sp = sumPos[f * d + n]!;
      const sn = (inside ? sumIn[f * d + n]! : sumAll[n]!) - sp;
      if (p === 0 || q === 0) continue;
      const mp = sp / p;
      const mn = sn / q;
      const vp = Math.max(0, sqPos[f * d + n]! / p - mp * mp);
      const vn = Math.max(0, ((inside ? sqIn[f * d + n]! : sqAll[n]!) - sqPos[f * d + n]!) / q - mn * mn);
      const se = Math.sqrt(vp / p + vn / q);
      diff[n * F + f] = mp - mn;
      z[n * F + f] = se > 0 ? (mp - mn) / se : mp - mn > 0 ? Infinity : mp - mn < 0 ? -Infinity : 0;
    }
  }
  for (let n = 0; n < d; n++) active[n]! /= Math.max(1, nRows);
  return { features: features.slice(), nNeurons: d, activeFrac: active, maxAct, diff, z };
}

export interface NeuronRow {
  hook: string;
  neuron: number;
  label: NeuronLabel;
  /** Features it carries (the cover set), largest share first. */
  features: string[];
  /** Share of the positive response per feature (same order as NeuronResponses.features). */
  shares: number[];
  /** Mean difference r_nf and its Welch z per feature (same order). */
  responses: number[];
  z: number[];
  max_share: number;
  /** Positive response mass sum_f r+_nf (activation units). */
  response_mass: number;
  active_frac: number;
  max_activation: number;
  /** Largest mean difference and its z, with the feature it belongs to. */
  top_feature: string;
  top_diff: number;
  top_z: number;
}

export function labelNeurons(hook: string, resp: NeuronResponses, t: NeuronThresholds = DEFAULT_NEURON_THRESHOLDS): NeuronRow[] {
  const F = resp.features.length;
  const rows: NeuronRow[] = [];
  for (let n = 0; n < resp.nNeurons; n++) {
    const pos = new Array<number>(F).fill(0);
    let top = -1;
    for (let f = 0; f < F; f++) {
      const r = resp.diff[n * F + f]!;
      if (r > 0 && resp.z[n * F + f]! >= t.minZ) pos[f] = r;
      if (top < 0 || r > resp.diff[n * F + top]!) top = f;
    }
    const mass = pos.reduce((a, b) => a + b, 0);
    const shares = pos.map((r) => (mass > 0 ? r / mass : 0));
    const maxShare = Math.max(0, ...shares);
    const base = {
      hook, neuron: n, shares,
      responses: Array.from(resp.diff.subarray(n * F, (n + 1) * F)),
      z: Array.from(resp.z.subarray(n * F, (n + 1) * F), (v) => (Number.isFinite(v) ? v : v > 0 ? 1e308 : -1e308)), max_share: maxShare, response_mass: mass,
      active_frac: resp.activeFrac[n]!, max_activation: resp.maxAct[n]!,
      top_feature: top >= 0 ? resp.features[top]! : '', top_diff: top >= 0 ? resp.diff[n * F + top]! : 0,
      top_z: top >= 0 ? resp.z[n * F + top]! : 0,
    };
    if (resp.activeFrac[n]! < t.deadFrac || resp.maxAct[n]! <= t.deadAct || mass === 0) {
      rows.push({ ...base, label: 'dead', features: [] });
      continue;
    }
    const order = shares.map((_, i) => i).sort((a, b) => shares[b]! - shares[a]! || a - b);
    const carried: string[] = [];
    let covered = 0;
    for (const i of order) {
      if (covered >= t.coverShare || pos[i]! <= 0) break;
      carried.push(resp.features[i]!);
      covered += shares[i]!;
    }
    rows.push({ ...base, label: carried.length === 1 ? 'mono' : 'poly', features: carried });
  }
  return rows;
}
