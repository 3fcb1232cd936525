/**
 * Mono / poly / dead labels of the hidden neurons of relu-hidden and abs models, read from the weights,
 * the bias and the instance's own feature distribution. They are the ground truth the probing tools are
 * validated against, so they say what a neuron does on the data the model sees, not what it could do on
 * some input: a weak feature that never beats a negative bias on its own, and a neuron that only fires
 * when two features coincide, are labelled by how often and how much that happens at the feature
 * probability p.
 *
 * Data (activations/toy/data.ts): feature i is active with probability p (independently), an active feature is
 * u ~ U[0, 1] (U[-1, 1] for abs), an inactive one 0. Neuron k: h = ReLU(b + sum_i w_i x_i), w_i = W1[k][i].
 *  - response r_i = E[h | feature i active] - E[h | feature i absent]: the expected increase of the
 *    activation when the feature is on, integrating over every other feature. Written as
 *    E_{x_-i}[ G_i(s_-i) - ReLU(s_-i) ] with s_-i = b + sum_{j != i} w_j x_j and G_i(c) = E_u ReLU(c + w_i u)
 *    in closed form; the term where no other feature is active (probability (1-p)^(n-1)) is exact, the
 *    rest a fixed-seed Monte Carlo over the generator conditioned on another feature being active.
 *  - fire_prob = P(h > DEAD_ACT) and mean_activation = E[h], stratified by the number K of active
 *    features: K = 0 and K = 1 exact, K >= 2 (coincidences) by fixed-seed Monte Carlo given K >= 2.
 *  - dead: fire_prob < DEAD_FRAC (active on under 0.1% of the data), or sum_i max(r_i, 0) <= RESP_EPS
 *    (no feature raises it: a constant neuron carries no feature).
 *  - shares_i = max(r_i, 0) / sum_j max(r_j, 0); features: the fewest, by share descending, whose shares
 *    add up to >= COVER_SHARE; mono: one feature; poly: two or more.
 * This is the population version of the activation-side definition (probes/neurons.ts), which
 * estimates the same r_i and active fraction from harvested rows. The sparse-limit rule (each feature
 * alone) is its p -> 0 limit, and the first max-reach rule (share max(w_i, 0) / sum, bias ignored) that
 * limit when b >= 0.
 *
 * Monte Carlo error: every term of r_i lies in [0, w_i / 2] (w_i > 0; r_i <= 0 exactly when w_i <= 0),
 * so with R rows (MC_ROWS, 16384) its standard error is at most w_i sqrt(1 - (1-p)^(n-1)) / (2 sqrt(R'))
 * with R' ~ R (n-1)/n the rows having another feature on: under 0.4% of w_i. The fire_prob error is at
 * most P(K >= 2) / (2 sqrt(R)) (under 0.4% of P(K >= 2)). The seed is fixed, so labels are a function
 * of (model, W1, b1, p).
 */
import { Rng } from '../../lab/core/index.ts';
import type { ToyModel } from './config.ts';

export const COVER_SHARE = 0.8;
export const DEAD_ACT = 1e-3;
export const DEAD_FRAC = 1e-3;
/** A response mass below float32 resolution of O(1) activations: no probe can see it. */
export const RESP_EPS = 1e-6;
export const MC_ROWS = 16384;
export const MC_SEED = 0x6e6575;

export type NeuronLabel = 'mono' | 'poly' | 'dead';

export interface NeuronInfo {
  label: NeuronLabel;
  /** Features the neuron carries (see above), by share, largest first; empty when dead. */
  features: number[];
  /** Share of the positive response on each feature (length n). */
  shares: number[];
  max_share: number;
  /** r_i = E[h | i active] - E[h | i absent] on the instance's data (length n). */
  responses: number[];
  /** P(h > DEAD_ACT) and E[h] on the instance's data. */
  fire_prob: number;
  mean_activation: number;
  /** Largest activation the neuron can reach on the data support (every feature at its extreme). */
  max_activation: number;
}

export interface NeuronLabelOptions {
  rows?: number;
  seed?: number;
}

/**
 * E_u ReLU(c + w u), u ~ U[lo, 1], written as c0 + w0 v with v ~ U[0, 1]; each case in a form free of
 * cancellation (a tiny weight gives the linear or zero branch, not a difference of squares over w).
 */
function meanRelu(c: number, w: number, lo: number): number {
  const c0 = c + w * lo;
  const c1 = c + w; // the other end of the segment
  if (c0 >= 0 && c1 >= 0) return (c0 + c1) / 2;
  if (c0 <= 0 && c1 <= 0) return 0;
  const span = Math.abs(c1 - c0);
  const hi = Math.max(c0, c1);
  return (hi * hi) / (2 * span);
}

/** P_u(c + w u > eps), u ~ U[lo, 1]. */
function fireSingle(c: number, w: number, lo: number, eps: number): number {
  const c0 = c + w * lo;
  const d = w * (1 - lo);
  if (d === 0) return c0 > eps ? 1 : 0;
  const t = (eps - c0) / d; // c0 + d v > eps  <=>  v > t (d > 0) or v < t (d < 0)
  return d > 0 ? Math.min(1, Math.max(0, 1 - t)) : Math.min(1, Math.max(0, t));
}

/**
 * Rows of the generator conditioned on at least minK active features: K from the truncated
 * Binomial(n, p), then a uniform K-subset (given K the active set is uniform), values uniform.
 * Calls visit(idx, val, K) with the active features in idx[0..K).
 */
function sampleConditioned(n: number, p: number, minK: number, rows: number, lo: number, rng: Rng, visit: (idx: Int32Array, val: Float64Array, K: number) => void): void {
  const cdf = new Float64Array(n + 1);
  if (p >= 1) {
    cdf[n] = 1; // every feature is active
  } else {
    // log pmf by the ratio recursion, normalised over k >= minK (no underflow for large n).
    const lr = Math.log(p) - Math.log1p(-p);
    const logPmf = new Float64Array(n + 1);
    logPmf[0] = n * Math.log1p(-p);
    for (let k = 0; k < n; k++) logPmf[k + 1] = logPmf[k]! + Math.log((n - k) / (k + 1)) + lr;
    let top = -Infinity;
    for (let k = minK; k <= n; k++) top = Math.max(top, logPmf[k]!);
    let acc = 0;
    for (let k = 0; k <= n; k++) {
      if (k >= minK) acc += Math.exp(logPmf[k]! - top);
      cdf[k] = acc;
    }
    for (let k = 0; k <= n; k++) cdf[k]! /= acc;
  }
  const perm = new Int32Array(n).map((_, i) => i);
  const idx = new Int32Array(n);
  const val = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const u = rng.next();
    let K = minK;
    while (K < n && cdf[K]! <= u) K++;
    for (let a = 0; a < K; a++) {
      // Partial Fisher-Yates: positions 0..K of any permutation, shuffled, are a uniform K-subset.
      const b = a + rng.int(n - a);
      const t = perm[a]!;
      perm[a] = perm[b]!;
      perm[b] = t;
      idx[a] = perm[a]!;
      val[a] = lo + (1 - lo) * rng.next();
    }
    visit(idx, val, K);
  }
}

/** W1: neurons x features, b1: neurons, p: the instance's feature probability. */
export function neuronLabels(model: ToyModel, W1: number[][], b1: number[], p: number, opts: NeuronLabelOptions = {}): NeuronInfo[] {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`neuronLabels: feature probability ${p} is outside [0, 1]`);
  const m = W1.length;
  const n = m > 0 ? W1[0]!.length : 0;
  const lo = model === 'abs' ? -1 : 0;
  const R = opts.rows ?? MC_ROWS;
  const rng = new Rng(opts.seed ?? MC_SEED);
  const relu = (v: number) => (v > 0 ? v : 0);
  const gain = (c: number, w: number) => meanRelu(c, w, lo) - relu(c);

  // Responses: exact term with no other feature active, Monte Carlo given at least one other is.
  const pNoOther = Math.pow(1 - p, n - 1);
  const pOther = n > 1 ? -Math.expm1((n - 1) * Math.log1p(-p)) : 0;
  const sumGain = new Float64Array(m * n);
  const cntGain = new Float64Array(n);
  const pre = new Float64Array(m);

  const isActive = new Uint8Array(n);
  const xAt = new Float64Array(n);
  const preOf = (idx: Int32Array, val: Float64Array, K: number) => {
    for (let k = 0; k < m; k++) {
      const w = W1[k]!;
      let s = b1[k]!;
      for (let a = 0; a < K; a++) s += w[idx[a]!]! * val[a]!;
      pre[k] = s;
    }
  };
  // Feature-major copy of W1: the inner loops run over neurons (n x m gains per row is the cost).
  const wT = new Float64Array(n * m);
  for (let k = 0; k < m; k++) for (let i = 0; i < n; i++) wT[i * m + k] = W1[k]![i]!;
  if (p > 0 && pOther > 0) {
    sampleConditioned(n, p, 1, R, lo, rng.fork(1), (idx, val, K) => {
      preOf(idx, val, K);
      for (let a = 0; a < K; a++) {
        isActive[idx[a]!] = 1;
        xAt[idx[a]!] = val[a]!;
      }
      for (let i = 0; i < n; i++) {
        // Rows with another feature on are draws of x_-i given K_-i >= 1 (that event implies K >= 1).
        if (K - isActive[i]! < 1) continue;
        cntGain[i]++;
        const xi = xAt[i]!;
        const o = i * m;
        for (let k = 0; k < m; k++) {
          const w = wT[o + k]!;
          const c = pre[k]! - w * xi;
          // gain(c, w) = meanRelu(c, w, lo) - ReLU(c), inlined (this loop is the whole cost).
          const c0 = c + w * lo;
          const c1 = c + w;
          let g: number;
          if (c0 >= 0 && c1 >= 0) g = (c0 + c1) / 2;
          else if (c0 <= 0 && c1 <= 0) g = 0;
          else {
            const hi = c0 > c1 ? c0 : c1;
            g = (hi * hi) / (2 * Math.abs(c1 - c0));
          }
          sumGain[o + k] += c > 0 ? g - c : g;
        }
      }
      for (let a = 0; a < K; a++) {
        isActive[idx[a]!] = 0;
        xAt[idx[a]!] = 0;
      }
    });
  }

  // Firing probability and mean activation: K = 0 and K = 1 exact, K >= 2 given K >= 2.
  const p0 = Math.pow(1 - p, n);
  const p1 = n * p * Math.pow(1 - p, n - 1);
  const p2 = Math.max(0, 1 - p0 - p1);
  const fire2 = new Float64Array(m);
  const act2 = new Float64Array(m);
  if (p > 0 && p2 > 0 && n >= 2) {
    sampleConditioned(n, p, 2, R, lo, rng.fork(2), (idx, val, K) => {
      preOf(idx, val, K);
      for (let k = 0; k < m; k++) {
        if (pre[k]! > DEAD_ACT) fire2[k]++;
        act2[k] += relu(pre[k]!);
      }
    });
  }

  return W1.map((w, k) => {
    const b = b1[k]!;
    const responses = w.map((wi, i) => {
      const other = cntGain[i]! > 0 ? (pOther * sumGain[i * m + k]!) / cntGain[i]! : 0;
      return p > 0 ? pNoOther * gain(b, wi) + other : 0;
    });
    let fire1 = 0;
    let act1 = 0;
    for (const wi of w) {
      fire1 += fireSingle(b, wi, lo, DEAD_ACT) / n;
      act1 += meanRelu(b, wi, lo) / n;
    }
    const fire_prob = p0 * (b > DEAD_ACT ? 1 : 0) + p1 * fire1 + (p2 * fire2[k]!) / R;
    const mean_activation = p0 * relu(b) + p1 * act1 + (p2 * act2[k]!) / R;
    const reach = w.map((v) => (model === 'abs' ? Math.abs(v) : Math.max(v, 0)));
    const max_activation = relu(b + reach.reduce((a, c) => a + c, 0));
    const pos = responses.map((r) => Math.max(r, 0));
    const mass = pos.reduce((a, c) => a + c, 0);
    const shares = pos.map((r) => (mass > 0 ? r / mass : 0));
    const max_share = Math.max(0, ...shares);
    const info = { shares, max_share, responses, fire_prob, mean_activation, max_activation };
    if (fire_prob < DEAD_FRAC || mass <= RESP_EPS) return { label: 'dead' as const, features: [], ...info };
    const order = shares.map((_, i) => i).sort((a, c) => shares[c]! - shares[a]! || a - c);
    const features: number[] = [];
    let covered = 0;
    for (const i of order) {
      if (covered >= COVER_SHARE || pos[i]! <= 0) break;
      features.push(i);
      covered += shares[i]!;
    }
    return { label: features.length === 1 ? ('mono' as const) : ('poly' as const), features, ...info };
  });
}
