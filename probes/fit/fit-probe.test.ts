import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { InputError, UsageError } from '../../lab/core/index.ts';
import type { Matrix, ProbeFit } from '../types.ts';
import { computeMetrics } from '../metrics.ts';
import { fitProbe, fitProbes, predictScores, predictScoresMany } from './fit-probe.ts';
import { gatherColumns, withColumnMajor } from './gather.ts';
import { classWeights, newtonLogistic } from './newton.ts';
import { loadSklearnRef } from '../testdata/load.ts';

function synthetic(n: number, d: number, seed: number, beta: number[], b: number): { X: Matrix; y: Uint8Array } {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let p = 0; p < data.length; p++) data[p] = rng.normal();
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let eta = b;
    for (let j = 0; j < beta.length; j++) eta += beta[j]! * data[i * d + j]!;
    y[i] = rng.next() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
  }
  return { X: { data, nRows: n, nCols: d }, y };
}

/** Gradient of C * sum_i w_i logloss_i + 0.5 ||coef||^2, computed from scratch in the test. */
function gradient(X: Matrix, y: Uint8Array, fit: ProbeFit, C: number, w: Float64Array): number[] {
  const g = new Array<number>(fit.neurons.length + 1).fill(0);
  for (let i = 0; i < X.nRows; i++) {
    let eta = fit.intercept;
    fit.neurons.forEach((j, p) => (eta += fit.coef[p]! * X.data[i * X.nCols + j]!));
    const r = C * w[i]! * (1 / (1 + Math.exp(-eta)) - y[i]!);
    g[0]! += r;
    fit.neurons.forEach((j, p) => (g[p + 1]! += r * X.data[i * X.nCols + j]!));
  }
  fit.neurons.forEach((_, p) => (g[p + 1]! += fit.coef[p]!));
  return g;
}

describe('fitProbe (Newton)', () => {
  it('satisfies the KKT condition (gradient = 0) to the requested tolerance, on scikit-learn\'s scale (default 1e-8)', () => {
    const { X, y } = synthetic(600, 12, 1, [1.5, -1, 0.5, 0, 0.3], -1);
    const w = classWeights(y, 'balanced');
    const sw = w.reduce((a, b) => a + b, 0);
    for (const C of [1, 0.05, 20]) {
      for (const tol of [1e-11, undefined]) {
        const fit = fitProbe(X, y, [0, 1, 2, 3, 4, 7, 11], { C, tol });
        expect(fit.converged).toBe(true);
        const g = gradient(X, y, fit, C, w);
        // The gradient of the sum, divided by C sum(w): scikit-learn's objective.
        for (const v of g) expect(Math.abs(v) / (C * sw)).toBeLessThan(tol ?? 1e-8);
      }
    }
  });

  it('satisfies the KKT condition on Newton-CG (k >= 8: Hessian-vector products, no Hessian) too', () => {
    const { X, y } = synthetic(700, 48, 3, [1.5, -1, 0.5, 0, 0.3, 0.8, -0.6], -0.5);
    // Uncentred, correlated columns (shared offsets, as activations have), which the preconditioner is for.
    for (let i = 0; i < X.nRows; i++) for (let j = 0; j < X.nCols; j++) X.data[i * X.nCols + j] = X.data[i * X.nCols + j]! + 2 + 0.5 * X.data[i * X.nCols]!;
    const neurons = Array.from({ length: 40 }, (_, j) => j + 3);
    const w = classWeights(y, 'balanced');
    const sw = w.reduce((a, b) => a + b, 0);
    for (const C of [1, 0.05, 20]) {
      for (const tol of [1e-11, undefined]) {
        const fit = fitProbe(X, y, neurons, { C, tol });
        expect(fit.converged).toBe(true);
        const g = gradient(X, y, fit, C, w);
        for (const v of g) expect(Math.abs(v) / (C * sw)).toBeLessThan(tol ?? 1e-8);
      }
    }
  });

  it('recovers the closed-form MLE for one binary neuron (weak penalty, no class weights)', () => {
    // With x in {0,1}: intercept = logit P(y|x=0), coef = logit P(y|x=1) - intercept.
    const rng = new Rng(7);
    const n = 3000;
    const data = new Float32Array(n);
    const y = new Uint8Array(n);
    const c = [[0, 0], [0, 0]];
    for (let i = 0; i < n; i++) {
      data[i] = rng.next() < 0.4 ? 1 : 0;
      y[i] = rng.next() < (data[i] ? 0.7 : 0.2) ? 1 : 0;
      c[data[i]!]![y[i]!]!++;
    }
    const fit = fitProbe({ data, nRows: n, nCols: 1 }, y, [0], { C: 1e9, classWeight: 'none' });
    const b = Math.log(c[0]![1]! / c[0]![0]!);
    expect(fit.intercept).toBeCloseTo(b, 6);
    expect(fit.coef[0]!).toBeCloseTo(Math.log(c[1]![1]! / c[1]![0]!) - b, 6);
  });

  it('recovers planted coefficients from a large logistic sample', () => {
    const beta = [1.2, -0.8, 0.4];
    const { X, y } = synthetic(40000, 3, 3, beta, 0.5);
    const fit = fitProbe(X, y, [0, 1, 2], { classWeight: 'none' });
    beta.forEach((v, j) => expect(Math.abs(fit.coef[j]! - v)).toBeLessThan(0.05));
    expect(Math.abs(fit.intercept - 0.5)).toBeLessThan(0.05);
  });

  it('converges on separable data, where the L2 penalty keeps the solution finite', () => {
    const n = 200;
    const data = new Float32Array(n);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 5 === 0 ? 1 : 0;
      data[i] = y[i] ? 1 + (i % 7) * 0.1 : -1 - (i % 3) * 0.1;
    }
    const X = { data, nRows: n, nCols: 1 };
    const fit = fitProbe(X, y, [0]);
    expect(fit.converged).toBe(true);
    expect(Number.isFinite(fit.coef[0]!)).toBe(true);
    expect(computeMetrics(y, predictScores(X, fit)).f1).toBe(1);
  });

  it('splits the weight evenly between two identical neurons (a singular design)', () => {
    const { X, y } = synthetic(500, 2, 5, [1], 0);
    for (let i = 0; i < X.nRows; i++) X.data[i * 2 + 1] = X.data[i * 2]!;
    const fit = fitProbe(X, y, [0, 1]);
    expect(fit.converged).toBe(true);
    expect(fit.coef[0]!).toBeCloseTo(fit.coef[1]!, 9);
  });

  it('gives the same probes warm-started in a batch as one at a time', () => {
    const { X, y } = synthetic(800, 20, 9, [1, 0.5, -0.5, 0.2], -1.5);
    const supports = [[0], [0, 1], [0, 1, 2], [0, 1, 2, 3, 4, 5, 6, 7], [3, 9, 1]];
    // A tight tolerance, so the two agree to 8 digits (both are within ||gradient|| of the optimum).
    const batch = fitProbes(X, y, supports, { tol: 1e-11 });
    supports.forEach((s, q) => {
      const one = fitProbe(X, y, s, { tol: 1e-11 });
      expect(batch[q]!.neurons).toEqual(s);
      one.coef.forEach((v, j) => expect(batch[q]!.coef[j]!).toBeCloseTo(v, 8));
      expect(batch[q]!.intercept).toBeCloseTo(one.intercept, 8);
    });
  });

  it("with fitter 'ml' (gradient ascent) decides like Newton on an easy feature", () => {
    const { X, y } = synthetic(400, 4, 11, [3, -2], 0);
    const newton = computeMetrics(y, predictScores(X, fitProbe(X, y, [0, 1])));
    const ml = computeMetrics(y, predictScores(X, fitProbe(X, y, [0, 1], { fitter: 'ml', maxIter: 3000 })));
    expect(Math.abs(ml.f1 - newton.f1)).toBeLessThan(0.03);
  });
});

describe('fitProbe agrees with scikit-learn', () => {
  const { ref, train, test } = loadSklearnRef();
  it.each(ref.fits.map((f, q) => [q, f.neurons.join(',')] as const))('fit %i (neurons %s): test F1 within 0.01, coefficients close', (q) => {
    const sk = ref.fits[q]!;
    const fit = fitProbe(train.X, train.y, sk.neurons);
    const m = computeMetrics(test.y, predictScores(test.X, fit));
    expect(Math.abs(m.f1 - sk.test.f1)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(m.roc_auc - sk.test.roc_auc)).toBeLessThan(1e-4);
    // lbfgs at tol 1e-12 is converged: the two solutions agree far past what F1 needs.
    sk.coef.forEach((v, j) => expect(Math.abs(fit.coef[j]! - v)).toBeLessThan(1e-4 * (1 + Math.abs(v))));
    expect(Math.abs(fit.intercept - sk.intercept)).toBeLessThan(1e-4 * (1 + Math.abs(sk.intercept)));
  });
});

describe('the two Newton solvers', () => {
  it('Newton-CG (WebAssembly SIMD) and the JS Hessian + BFGS path reach the same optimum for small and large k', () => {
    const { X, y } = synthetic(800, 40, 8, [1.2, -0.7, 0.4, 0, 0.9, -0.3], -0.5);
    const w = classWeights(y, 'balanced');
    for (const k of [1, 3, 7, 40]) {
      const cols = gatherColumns(X, Array.from({ length: k }, (_, j) => j));
      const a = newtonLogistic(cols, y, w, { C: 1, maxIter: 100, tol: 1e-8 });
      const b = newtonLogistic(cols, y, w, { C: 1, maxIter: 100, tol: 1e-8, simd: false });
      expect(a.converged && b.converged, `k ${k}`).toBe(true);
      expect(a.hessians, 'Newton-CG forms no Hessian').toBe(0);
      expect(b.hessians).toBeGreaterThan(0);
      // Both gradients are within 1e-8 of zero and the Hessian is >= I, so the solutions agree to ~1e-8.
      a.coef.forEach((v, j) => expect(Math.abs(v - b.coef[j]!), `k ${k} coef ${j}`).toBeLessThan(1e-7));
      expect(Math.abs(a.intercept - b.intercept)).toBeLessThan(1e-7);
    }
  });
});

describe('column-major copy (withColumnMajor)', () => {
  it('gives the same gathered block, fits and scores as the row-major matrix (bit for bit; predictScores to rounding)', () => {
    const { X, y } = synthetic(300, 9, 5, [1, -0.5, 0, 0.8], 0.2);
    const rowMajor = { data: new Float32Array(X.data), nRows: X.nRows, nCols: X.nCols };
    const { cm, finite, sum } = withColumnMajor(X);
    expect(Array.from(finite)).toEqual(new Array(X.nCols).fill(1));
    // Column sums in double, rows in order (what the rankers' column totals are, bit for bit).
    for (let j = 0; j < X.nCols; j++) {
      let t = 0;
      for (let i = 0; i < X.nRows; i++) t += X.data[i * X.nCols + j]!;
      expect(sum[j]).toBe(t);
    }
    // The copy is the transpose.
    for (let i = 0; i < X.nRows; i++) for (let j = 0; j < X.nCols; j++) expect(cm[j * X.nRows + i]).toBe(X.data[i * X.nCols + j]);
    const neurons = [7, 0, 3, 8];
    expect(gatherColumns(X, neurons).z).toEqual(gatherColumns(rowMajor, neurons).z);
    const supports = [[3], [3, 0], [7, 0, 3, 8]];
    const a = fitProbes(X, y, supports);
    const b = fitProbes(rowMajor, y, supports);
    a.forEach((f, q) => expect(Array.from(f.coef)).toEqual(Array.from(b[q]!.coef)));
    const sa = predictScoresMany(X, a);
    const sb = predictScoresMany(rowMajor, a);
    sa.forEach((s, q) => {
      expect(Array.from(s)).toEqual(Array.from(sb[q]!));
      const one = predictScores(rowMajor, a[q]!);
      s.forEach((v, i) => expect(Math.abs(v - one[i]!)).toBeLessThan(1e-15));
    });
  });
  it('still names the row and neuron of a NaN when scoring from the copy', () => {
    const { X, y } = synthetic(60, 4, 6, [1], 0);
    const fit = fitProbe(X, y, [1, 2]);
    const bad = { ...X, data: new Float32Array(X.data) };
    bad.data[11 * 4 + 2] = NaN;
    withColumnMajor(bad);
    expect(() => predictScoresMany(bad, [fit])).toThrow(/NaN at row 11, column \(neuron\) 2/);
    expect(() => fitProbe(bad, y, [2])).toThrow(/NaN at row 11, column \(neuron\) 2/);
  });
});

describe('input checks', () => {
  const { X, y } = synthetic(50, 4, 2, [1], 0);
  it('rejects a label with one class only', () => {
    expect(() => fitProbe(X, new Uint8Array(50), [0])).toThrow(InputError);
    expect(() => fitProbe(X, new Uint8Array(50), [0])).toThrow(/only one class/);
  });
  it('rejects k larger than the number of neurons', () => {
    expect(() => fitProbe(X, y, [0, 1, 2, 3, 0])).toThrow(UsageError);
    expect(() => fitProbe(X, y, [0, 1, 2, 3, 0])).toThrow(/k = 5 is larger than the number of neurons \(4\)/);
  });
  it('rejects NaN or infinite activations, naming row and column', () => {
    const bad = { ...X, data: new Float32Array(X.data) };
    bad.data[17 * 4 + 2] = NaN;
    expect(() => fitProbe(bad, y, [2])).toThrow(/NaN at row 17, column \(neuron\) 2/);
    bad.data[17 * 4 + 2] = Infinity;
    expect(() => fitProbe(bad, y, [1, 2])).toThrow(/Infinity at row 17, column \(neuron\) 2/);
  });
  it('rejects labels and activations of different lengths', () => {
    expect(() => fitProbe(X, y.subarray(0, 49), [0])).toThrow(/49 labels for 50 rows/);
  });
  it('rejects out-of-range neurons and labels other than 0/1', () => {
    expect(() => fitProbe(X, y, [4])).toThrow(/out of range/);
    const y2 = new Uint8Array(y);
    y2[3] = 2;
    expect(() => fitProbe(X, y2, [0])).toThrow(/row 3 holds 2/);
  });
});
