/**
 * L1 logistic regression path: neurons ranked by the order in which they enter the lasso path
 * (largest penalty first), as glmnet computes it. Columns are standardised, so the penalty does not
 * favour neurons with large activations; class weights are balanced; the intercept is free.
 *
 *   min_b,beta (1/W) sum_i w_i logloss_i(b + x~_i beta) + lambda * ||beta||_1
 *
 * lambda runs down a geometric grid from lambda_max (where the first neuron enters) by a factor 0.93
 * per step. At each step only the active neurons and the strong-rule candidates (|grad_j| >=
 * 2 lambda_t - lambda_{t-1}, Tibshirani et al. 2012) are optimised, by proximal Newton with
 * coordinate descent; then the full gradient is checked and KKT violators are added and re-solved.
 * The path stops when maxK neurons are active, at lambda_max * 1e-4, or at the time limit; neurons
 * that never entered follow, ordered by |grad_j| at the last solution (the next to enter).
 * Score: the lambda at which a neuron entered (relative to lambda_max), else its |grad_j| / lambda_max.
 */
import type { Matrix, RankResult } from '../types.ts';
import { throwNonFinite } from '../fit/validate.ts';
import { defineRankMethod } from './registry.ts';

export interface L1PathOptions {
  maxK: number;
  timeLimitS: number;
}

export function l1PathRanking(X: Matrix, y: Uint8Array, opts: L1PathOptions): RankResult & { entered: number; lambdaSteps: number } {
  const { data, nRows: n, nCols: d } = X;
  const deadline = performance.now() + opts.timeLimitS * 1000;
  // Column means and standard deviations, one row-major pass.
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const base = i * d;
    for (let j = 0; j < d; j++) {
      const v = data[base + j]!;
      mu[j] += v;
      sd[j] += v * v;
    }
  }
  for (let j = 0; j < d; j++) {
    if (!Number.isFinite(mu[j]! + sd[j]!)) throwNonFinite(X, j);
    mu[j] /= n;
    sd[j] = Math.sqrt(Math.max(0, sd[j]! / n - mu[j]! * mu[j]!));
  }
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i]!;
  // Balanced weights scaled to mean 1, divided by W = n so the loss is a weighted mean.
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = (y[i] ? n / (2 * nPos) : n / (2 * (n - nPos))) / n;

  const eta = new Float64Array(n);
  const r = new Float64Array(n);
  let b = 0; // balanced weights make the intercept-only optimum 0
  eta.fill(b);
  const grad = new Float64Array(d);
  const fullGradient = () => {
    let rs = 0;
    for (let i = 0; i < n; i++) {
      const e = eta[i]!;
      const p = e >= 0 ? 1 / (1 + Math.exp(-e)) : Math.exp(e) / (1 + Math.exp(e));
      r[i] = w[i]! * (p - y[i]!);
      rs += r[i]!;
    }
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const ri = r[i]!;
      if (ri === 0) continue;
      const base = i * d;
      for (let j = 0; j < d; j++) grad[j] += ri * data[base + j]!;
    }
    for (let j = 0; j < d; j++) grad[j] = sd[j]! > 0 ? (grad[j]! - mu[j]! * rs) / sd[j]! : 0;
  };
  fullGradient();
  let lambdaMax = 0;
  for (let j = 0; j < d; j++) lambdaMax = Math.max(lambdaMax, Math.abs(grad[j]!));

  // Gathered standardised columns of the candidates, column-major, grown on demand.
  const slot = new Int32Array(d).fill(-1);
  let cand: number[] = [];
  let zc = new Float64Array(0);
  const beta: number[] = [];
  const addCandidate = (j: number) => {
    if (slot[j]! >= 0 || sd[j]! === 0) return;
    slot[j] = cand.length;
    cand.push(j);
    beta.push(0);
    if (zc.length < cand.length * n) {
      const grown = new Float64Array(Math.max(cand.length * n, zc.length * 2));
      grown.set(zc);
      zc = grown;
    }
    const off = (cand.length - 1) * n;
    const m = mu[j]!;
    const s = 1 / sd[j]!;
    for (let i = 0; i < n; i++) zc[off + i] = (data[i * d + j]! - m) * s;
  };

  const entryLambda = new Float64Array(d).fill(NaN);
  const entryOrder: number[] = [];
  let prevLambda = lambdaMax;
  let steps = 0;
  const dw = new Float64Array(n);
  const q = new Float64Array(n);

  const solveRestricted = (lambda: number) => {
    const k = cand.length;
    for (let outer = 0; outer < 25; outer++) {
      for (let i = 0; i < n; i++) {
        const e = eta[i]!;
        const p = e >= 0 ? 1 / (1 + Math.exp(-e)) : Math.exp(e) / (1 + Math.exp(e));
        dw[i] = w[i]! * Math.max(p * (1 - p), 1e-5);
        q[i] = w[i]! * (p - y[i]!);
      }
      const h = new Float64Array(k);
      for (let c = 0; c < k; c++) {
        let s = 0;
        const off = c * n;
        for (let i = 0; i < n; i++) s += dw[i]! * zc[off + i]! * zc[off + i]!;
        h[c] = s;
      }
      let h0 = 0;
      for (let i = 0; i < n; i++) h0 += dw[i]!;
      let maxMove = 0;
      // Coordinate descent on the quadratic model; q is its gradient with respect to eta.
      for (let pass = 0; pass < 200; pass++) {
        let passMove = 0;
        for (let c = 0; c < k; c++) {
          const off = c * n;
          let g = 0;
          for (let i = 0; i < n; i++) g += q[i]! * zc[off + i]!;
          const old = beta[c]!;
          const u = h[c]! * old - g;
          const nb = u > lambda ? (u - lambda) / h[c]! : u < -lambda ? (u + lambda) / h[c]! : 0;
          const delta = nb - old;
          if (delta !== 0) {
            beta[c] = nb;
            for (let i = 0; i < n; i++) q[i] += dw[i]! * zc[off + i]! * delta;
            passMove = Math.max(passMove, Math.abs(delta) * Math.sqrt(h[c]!));
          }
        }
        let g0 = 0;
        for (let i = 0; i < n; i++) g0 += q[i]!;
        const db = -g0 / h0;
        b += db;
        for (let i = 0; i < n; i++) q[i] += dw[i]! * db;
        passMove = Math.max(passMove, Math.abs(db) * Math.sqrt(h0));
        maxMove = Math.max(maxMove, passMove);
        if (passMove < 1e-7) break;
      }
      eta.fill(b);
      for (let c = 0; c < k; c++) {
        const bc = beta[c]!;
        if (bc === 0) continue;
        const off = c * n;
        for (let i = 0; i < n; i++) eta[i] += bc * zc[off + i]!;
      }
      if (maxMove < 1e-6) break;
    }
  };

  let active = 0;
  while (active < opts.maxK && steps < 140 && performance.now() < deadline) {
    const lambda = lambdaMax * Math.pow(0.93, steps + 1);
    steps++;
    // Strong rule candidates from the gradient at the previous solution.
    const prevGrad = Float64Array.from(grad);
    for (let j = 0; j < d; j++) if (Math.abs(grad[j]!) >= 2 * lambda - prevLambda) addCandidate(j);
    for (let round = 0; round < 10; round++) {
      solveRestricted(lambda);
      fullGradient();
      let violated = false;
      for (let j = 0; j < d; j++) {
        if (slot[j]! < 0 && sd[j]! > 0 && Math.abs(grad[j]!) > lambda * (1 + 1e-6)) {
          addCandidate(j);
          violated = true;
        }
      }
      if (!violated) break;
    }
    const fresh: number[] = [];
    for (let c = 0; c < cand.length; c++) {
      const j = cand[c]!;
      if (beta[c] !== 0 && Number.isNaN(entryLambda[j]!)) fresh.push(j);
    }
    fresh.sort((a, c) => Math.abs(prevGrad[c]!) - Math.abs(prevGrad[a]!) || a - c);
    for (const j of fresh) {
      entryLambda[j] = lambda / lambdaMax;
      entryOrder.push(j);
    }
    active = 0;
    for (let c = 0; c < cand.length; c++) if (beta[c] !== 0) active++;
    prevLambda = lambda;
  }
  const scores = new Float64Array(d);
  const rest: number[] = [];
  for (let j = 0; j < d; j++) {
    if (!Number.isNaN(entryLambda[j]!)) scores[j] = entryLambda[j]!;
    else {
      scores[j] = lambdaMax > 0 ? Math.abs(grad[j]!) / lambdaMax : 0;
      rest.push(j);
    }
  }
  rest.sort((a, c) => scores[c]! - scores[a]! || a - c);
  return { order: Int32Array.from([...entryOrder, ...rest]), scores, entered: entryOrder.length, lambdaSteps: steps };
}

export const l1Path = defineRankMethod({
  name: 'l1',
  summary: 'order of entry on the L1 logistic path (glmnet-style; --time-limit, default 60 s)',
  rank: (X, y, ctx) => {
    const r = l1PathRanking(X, y, { maxK: ctx.maxK, timeLimitS: ctx.timeLimitS ?? 60 });
    return { order: r.order, scores: r.scores };
  },
});
