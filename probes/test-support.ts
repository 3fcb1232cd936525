/**
 * Helpers shared by the probes tests: an in-memory ProbeSource over synthetic ProbeData, and a
 * nearest-centroid engine double that counts its calls (for bookkeeping tests that must not depend on
 * the real solver's speed or exact figures).
 */
import type { ProbeData } from '../activations/index.ts';
import type { ProbeEngine, ProbeSource } from './sweep.ts';
import type { Matrix, Metrics, ProbeFit } from './types.ts';

export function memorySource(datas: ProbeData[], dir = 'memory:'): ProbeSource {
  const byHook = new Map(datas.map((d) => [d.hook, d]));
  return {
    dir,
    hooks: () => [...byHook.keys()],
    features: (h) => Object.keys(byHook.get(h)!.labels),
    width: (h) => byHook.get(h)!.nNeurons,
    read: (h) => byHook.get(h)!,
  };
}

function colMeans(X: Matrix, y: Uint8Array): { m1: Float64Array; m0: Float64Array } {
  const m1 = new Float64Array(X.nCols);
  const m0 = new Float64Array(X.nCols);
  let n1 = 0;
  for (let r = 0; r < X.nRows; r++) {
    const t = y[r] ? m1 : m0;
    n1 += y[r]!;
    for (let c = 0; c < X.nCols; c++) t[c]! += X.data[r * X.nCols + c]!;
  }
  const n0 = X.nRows - n1;
  for (let c = 0; c < X.nCols; c++) {
    m1[c]! /= Math.max(1, n1);
    m0[c]! /= Math.max(1, n0);
  }
  return { m1, m0 };
}

/** Ranks by |mean difference|; "fits" the nearest-centroid rule on the support; exact confusion metrics. */
export function centroidEngine(): ProbeEngine & { calls: { rank: number; fit: number } } {
  const calls = { rank: 0, fit: 0 };
  return {
    calls,
    rank(X, y) {
      calls.rank++;
      const { m1, m0 } = colMeans(X, y);
      const scores = new Float64Array(X.nCols);
      for (let c = 0; c < X.nCols; c++) scores[c] = Math.abs(m1[c]! - m0[c]!);
      const order = Int32Array.from([...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b));
      return { order, scores };
    },
    fit(X, y, supports): ProbeFit[] {
      calls.fit += supports.length;
      const { m1, m0 } = colMeans(X, y);
      return supports.map((neurons) => {
        const coef = Float64Array.from(neurons, (c) => m1[c]! - m0[c]!);
        let mid = 0;
        neurons.forEach((c, i) => (mid += (coef[i]! * (m1[c]! + m0[c]!)) / 2));
        return { neurons: neurons.slice(), coef, intercept: -mid, iterations: 0, converged: true };
      });
    },
    scores(X, fit) {
      const out = new Float64Array(X.nRows);
      for (let r = 0; r < X.nRows; r++) {
        let z = fit.intercept;
        fit.neurons.forEach((c, i) => (z += fit.coef[i]! * X.data[r * X.nCols + c]!));
        out[r] = 1 / (1 + Math.exp(-z));
      }
      return out;
    },
    metrics(y, s): Metrics {
      let tp = 0, fp = 0, fn = 0, tn = 0;
      for (let i = 0; i < y.length; i++) {
        const p = s[i]! > 0.5;
        if (y[i]) p ? tp++ : fn++;
        else p ? fp++ : tn++;
      }
      const precision = tp + fp ? tp / (tp + fp) : 0;
      const recall = tp + fn ? tp / (tp + fn) : 0;
      const f1 = 2 * tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : 0;
      const den = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
      return { f1, mcc: den ? (tp * tn - fp * fn) / den : 0, precision, recall, accuracy: (tp + tn) / y.length, roc_auc: NaN, pr_auc: NaN };
    },
  };
}
