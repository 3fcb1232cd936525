import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { ReconAccumulator, truthMetrics } from './eval.ts';
import type { Sae } from './model.ts';

/** A relu-l1 SAE that is the identity on nonnegative inputs: d_sae = d_in, W_enc = W_dec = I. */
function identitySae(d: number): Sae {
  const I = new Float32Array(d * d);
  for (let i = 0; i < d; i++) I[i * d + i] = 1;
  return { arch: 'relu-l1', dIn: d, dSae: d, k: 0, W_enc: I.slice(), b_enc: new Float32Array(d), W_dec: I.slice(), b_dec: new Float32Array(d) };
}

function sparseData(rows: number, d: number, p: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * d }, () => (rng.next() < p ? rng.next() : 0));
}

describe('reconstruction metrics', () => {
  it('a perfect SAE: explained variance 1, mse 0, cossim 1, no shrinkage, l0 = active inputs', () => {
    const d = 6, rows = 500;
    const x = sparseData(rows, d, 0.3, 1);
    const acc = new ReconAccumulator(identitySae(d));
    acc.add(x.subarray(0, 200 * d), 200);
    acc.add(x.subarray(200 * d), 300); // streamed in two batches
    const m = acc.result();
    let nnz = 0;
    for (const v of x) nnz += v > 0 ? 1 : 0;
    expect(m.rows).toBe(rows);
    expect(m.explained_variance).toBeCloseTo(1, 10);
    expect(m.mse).toBe(0);
    expect(m.cossim).toBeCloseTo(1, 6);
    expect(m.l2_ratio).toBeCloseTo(1, 6);
    expect(m.relative_reconstruction_bias).toBeCloseTo(1, 6);
    expect(m.l0).toBeCloseTo(nnz / rows, 12);
    expect(m.dead_latents).toBe(0);
  });

  it('an SAE that outputs the mean explains 0 of the variance; half the input explains 3/4', () => {
    const d = 4, rows = 400;
    const x = sparseData(rows, d, 0.5, 2);
    const mean = new Float32Array(d);
    for (let r = 0; r < rows; r++) for (let i = 0; i < d; i++) mean[i] += x[r * d + i]! / rows;
    // All latents dead (b_enc very negative): x_hat = b_dec = mean.
    const dead: Sae = { ...identitySae(d), b_enc: new Float32Array(d).fill(-100), b_dec: mean };
    const m0 = new ReconAccumulator(dead);
    m0.add(x, rows);
    const r0 = m0.result();
    expect(r0.explained_variance).toBeCloseTo(0, 5);
    expect(r0.dead_latents).toBe(d);
    expect(r0.dead_fraction).toBe(1);
    // W_dec = I/2: residual x/2, Var(x/2) = Var(x)/4 -> EV = 3/4; shrinkage l2_ratio = 1/2.
    const half: Sae = { ...identitySae(d), W_dec: identitySae(d).W_dec.map((v) => v / 2) };
    const mh = new ReconAccumulator(half);
    mh.add(x, rows);
    const rh = mh.result();
    expect(rh.explained_variance).toBeCloseTo(0.75, 5);
    expect(rh.l2_ratio).toBeCloseTo(0.5, 5);
    expect(rh.relative_reconstruction_bias).toBeCloseTo(0.5, 5);
  });
});

describe('ground-truth metrics', () => {
  it('decoder rows equal to the true directions (shuffled, scaled, plus extra latents) give 1 everywhere', () => {
    const rng = new Rng(3);
    const n = 8, d = 5;
    const T = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
    const perm = rng.shuffle([...Array(n + 3).keys()]);
    const W_dec = new Float32Array((n + 3) * d);
    perm.forEach((slot, src) => {
      for (let k = 0; k < d; k++) W_dec[slot * d + k] = src < n ? 2 * T[src]![k]! : rng.normal();
    });
    const sae: Sae = { ...identitySae(d), dSae: n + 3, W_dec, W_enc: new Float32Array(d * (n + 3)), b_enc: new Float32Array(n + 3) };
    const t = truthMetrics(T, n, sae, Array.from({ length: n }, (_, i) => 0.9 ** i), 0);
    expect(t.mmcs).toBeCloseTo(1, 6);
    expect(t.hungarian).toBeCloseTo(1, 6);
    expect(t.above_0_9).toBe(n);
    expect(t.above_median_features).toBe(4);
    t.per_feature.forEach((f, i) => expect(f.matched_latent).toBe(perm[i]));
  });

  it('Hungarian matching is one-to-one where the max is not', () => {
    // Two true features, both closest to latent 0; latent 1 is the second choice of feature 1.
    // cos(t0, d0) = 1, cos(t1, d0) = 0.8, cos(t1, d1) = 0.6 (unit vectors in 2D), cos(t0, d1) = 0.
    const T = [[1, 0], [0.8, 0.6]];
    const sae: Sae = { ...identitySae(2), W_dec: Float32Array.of(1, 0, 0, 1) };
    const t = truthMetrics(T, 2, sae, [1, 1], 0);
    expect(t.mmcs).toBeCloseTo((1 + 0.8) / 2, 6);
    expect(t.hungarian).toBeCloseTo((1 + 0.6) / 2, 6);
    expect(t.per_feature.map((f) => f.matched_latent)).toEqual([0, 1]);
    expect(t.above_0_9).toBe(1);
    // Equal importances: none is above the median, so the check is vacuous and reports 1.
    expect(t.above_median_features).toBe(0);
  });
});
