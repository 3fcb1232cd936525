import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { rowTerms } from './logistic-rows.ts';
import { weightedGram } from './newton.ts';
import { SimdColumns } from './simd-matvec.ts';

/** Z (column-major), labels, weights and C for a fit of n rows and k columns. */
function problem(n: number, k: number, seed: number) {
  const rng = new Rng(seed);
  const z = Float32Array.from({ length: n * k }, () => rng.normal() + 0.5);
  const y = Uint8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
  const w = Float64Array.from(y, (v) => (v ? 1.7 : 0.6));
  return { rng, z, y, w, C: 0.8 };
}

/** c + Z s in plain double loops. */
function affine(z: Float32Array, n: number, k: number, c: number, s: ArrayLike<number>): Float64Array {
  const out = new Float64Array(n).fill(c);
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) out[i] += s[j]! * z[j * n + i]!;
  return out;
}

/** The JS row terms at eta + dEta and the gradient [sum r, Z^T r]: what the kernels must reproduce. */
function jsRows(z: Float32Array, n: number, k: number, y: Uint8Array, w: Float64Array, C: number, eta: Float64Array, dEta: Float64Array) {
  const etaTry = new Float64Array(n);
  const r = new Float64Array(n);
  const d = new Float64Array(n);
  const acc = new Float64Array(2);
  rowTerms(0, n, y, w, C, eta, dEta, etaTry, r, d, acc);
  const g = new Float64Array(k + 1);
  g[0] = acc[1]!;
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) g[j + 1] += r[i]! * z[j * n + i]!;
  return { etaTry, d, g, loss: acc[0]! };
}

const close = (a: number, b: number, rel: number, scale = 1) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * (scale + Math.abs(b)));

describe('SIMD row state of a Newton-CG fit (double precision)', () => {
  // n = 1100 and 1500 span several blocks of the fused step (512 rows), with a ragged last one.
  it.each([[1, 1], [5, 3], [37, 9], [1100, 33], [1500, 4]] as const)('affineTo, evaluate, step and trialAlong match the JS row terms and plain double loops (n=%i, k=%i)', (n, k) => {
    const { rng, z, y, w, C } = problem(n, k, 11 * n + k);
    const cols = SimdColumns.of(z, n, k);
    expect(cols, 'WebAssembly SIMD is available in Node >= 16').not.toBeNull();
    const sc = cols!;
    sc.setRows(y, w, C);
    const s = Float64Array.from({ length: k }, () => rng.normal() * 0.5);
    sc.affineTo(0.25, s, 0);
    const eta = affine(z, n, k, 0.25, s);
    sc.etaAt(0).forEach((v, i) => close(v, eta[i]!, 1e-12 * k));
    // At the point itself.
    const g = new Float64Array(k + 1);
    const loss = sc.evaluate(0, g);
    const at = jsRows(z, n, k, y, w, C, eta, new Float64Array(n));
    close(loss, at.loss, 1e-12 * n);
    at.g.forEach((v, j) => close(g[j]!, v, 1e-11 * n, 1));
    // A full step: dEta = -(step_0 + Z step_1..k).
    const step = Float64Array.from({ length: k + 1 }, () => rng.normal() * 0.3);
    const gs = new Float64Array(k + 1);
    const lossStep = sc.step(step, 0, 1, gs);
    const dEta = affine(z, n, k, -step[0]!, Array.from(step.subarray(1), (v) => -v));
    const want = jsRows(z, n, k, y, w, C, eta, dEta);
    sc.etaAt(1).forEach((v, i) => close(v, want.etaTry[i]!, 1e-12 * k));
    close(lossStep, want.loss, 1e-12 * n);
    want.g.forEach((v, j) => close(gs[j]!, v, 1e-11 * n, 1));
    // Half of it, from the current point, as the line search tries it.
    sc.trialAlong(0, 1, 0.5);
    const half = dEta.map((v) => 0.5 * v);
    const gh = new Float64Array(k + 1);
    const lossHalf = sc.evaluate(1, gh);
    const wantHalf = jsRows(z, n, k, y, w, C, eta, half);
    close(lossHalf, wantHalf.loss, 1e-12 * n);
    wantHalf.g.forEach((v, j) => close(gh[j]!, v, 1e-11 * n, 1));
  });

  it.each([
    [300, 9],
    [1001, 37],
    [257, 64],
  ])('give H v (the single-precision Hessian-vector product) to single-precision accuracy (n=%i, k=%i)', (n, k) => {
    const { rng, z, y, w, C } = problem(n, k, 3 * n + k);
    const sc = SimdColumns.of(z, n, k)!;
    sc.setRows(y, w, C);
    const s = Float64Array.from({ length: k }, () => rng.normal() * 0.2);
    sc.affineTo(-0.3, s, 1);
    sc.evaluate(1, new Float64Array(k + 1));
    const pre = sc.weightsAt(1, true);
    // H at the same point from the JS row terms' weights.
    const { d } = jsRows(z, n, k, y, w, C, affine(z, n, k, -0.3, s), new Float64Array(n));
    const v = Float64Array.from({ length: k + 1 }, () => rng.normal());
    const m = k + 1;
    const H = new Float64Array(m * m);
    weightedGram(z, n, k, d, H);
    const out = new Float64Array(m);
    sc.hvp(v, out);
    let scale = 0;
    const want = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) want[i] += H[i * m + j]! * v[j]!;
      scale = Math.max(scale, Math.abs(want[i]!));
    }
    for (let i = 0; i < m; i++) expect(Math.abs(out[i]! - want[i]!)).toBeLessThan(1e-5 * scale);
    // The preconditioner's pieces: H's intercept row and diagonal, in double.
    expect(Math.abs(pre.hd - H[0]!)).toBeLessThan(1e-12 * H[0]!);
    for (let j = 0; j < k; j++) {
      expect(Math.abs(pre.h0[j]! - H[j + 1]!)).toBeLessThan(1e-9 * (1 + Math.abs(H[j + 1]!)));
      expect(Math.abs(pre.diag[j]! - H[(j + 1) * m + j + 1]!)).toBeLessThan(1e-9 * H[(j + 1) * m + j + 1]!);
    }
  });
});
