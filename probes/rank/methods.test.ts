import { describe, expect, it } from 'vitest';
import { prepareRanking, rankNeurons } from './rank-neurons.ts';
import { ospRanking } from './osp.ts';
import { loadSklearnRef } from '../testdata/load.ts';
import { fitProbe } from '../fit/fit-probe.ts';
import { classWeights } from '../fit/newton.ts';
import type { Matrix } from '../types.ts';

const { ref, train } = loadSklearnRef();
// Planted in sklearn_reference.py with strengths 1.0, 0.8, 0.6, 0.4, 0.3.
const PLANTED = [0, 5, 9, 17, 23];

describe('mi', () => {
  it("matches sklearn's mutual_info_classif within 0.005 and its top four", () => {
    const r = rankNeurons('mi', train.X, train.y);
    ref.mutual_info.forEach((v, j) => expect(Math.abs(r.scores[j]! - v), `neuron ${j}`).toBeLessThan(0.005));
    expect(Array.from(r.order.subarray(0, 4))).toEqual(ref.mutual_info_order.slice(0, 4));
  });
});

describe('l1 path', () => {
  it('enters the planted neurons first, strongest first', () => {
    const r = rankNeurons('l1', train.X, train.y, { maxK: 8 });
    expect(Array.from(r.order.subarray(0, 4))).toEqual(PLANTED.slice(0, 4));
    expect(new Set(r.order)).toEqual(new Set(Array.from({ length: train.X.nCols }, (_, j) => j)));
    // Scores fall along the order (entry lambda, then |gradient|).
    for (let p = 1; p < r.order.length; p++) expect(r.scores[r.order[p]!]!).toBeLessThanOrEqual(r.scores[r.order[p - 1]!]!);
  });
});

describe('adaptive', () => {
  it('telescopes: each grid support lies inside the next larger one and has k neurons', () => {
    const r = rankNeurons('adaptive', train.X, train.y, { maxK: 16 });
    const grid = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16];
    for (let q = 0; q + 1 < grid.length; q++) {
      const small = r.supportFor!(grid[q]!).neurons;
      const big = new Set(r.supportFor!(grid[q + 1]!).neurons);
      expect(small).toHaveLength(grid[q]!);
      for (const j of small) expect(big.has(j)).toBe(true);
    }
    expect(r.supportFor!(9).neurons).toHaveLength(9);
    expect(r.supportFor!(1).neurons).toEqual([0]);
    expect(() => r.supportFor!(17)).toThrow(/outside/);
  });
});

describe('osp', () => {
  it('asks for the solver to be loaded first', () => {
    expect(() => rankNeurons('osp', train.X, train.y)).toThrow(/prepareRanking/);
  });

  it('finds the globally best support (checked by enumerating every subset)', async () => {
    await prepareRanking(['osp']);
    const topN = 9;
    const r = ospRanking(train.X, train.y, { topN, maxK: 3, timeLimitS: 30 });
    // Brute force on the same objective: candidates = top 9 by mean difference, columns divided by
    // 10 * std, balanced weights, penalty 1/(2 gamma) ||beta||^2 with gamma = 1/sqrt(n).
    const cand = ref.mean_dif_order.slice(0, topN);
    const n = train.X.nRows;
    const data = new Float32Array(n * topN);
    cand.forEach((j, c) => {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const v = train.X.data[i * train.X.nCols + j]!;
        s += v;
        s2 += v * v;
      }
      const sd = Math.sqrt(s2 / n - (s / n) ** 2);
      for (let i = 0; i < n; i++) data[i * topN + c] = train.X.data[i * train.X.nCols + j]! / (10 * Math.max(sd, 1e-3));
    });
    const Xc: Matrix = { data, nRows: n, nCols: topN };
    const gamma = 1 / Math.sqrt(n);
    const w = classWeights(train.y, 'balanced');
    const cost = (s: number[]) => {
      const f = fitProbe(Xc, train.y, s, { C: gamma, tol: 1e-9 });
      let loss = 0;
      for (let i = 0; i < n; i++) {
        let e = f.intercept;
        s.forEach((c, q) => (e += f.coef[q]! * data[i * topN + c]!));
        loss += w[i]! * (Math.log1p(Math.exp(-Math.abs(e))) + Math.max(e, 0) - (train.y[i] ? e : 0));
      }
      let reg = 0;
      for (const b of f.coef) reg += b * b;
      return loss + reg / (2 * gamma);
    };
    const subsets = (k: number, from = 0): number[][] =>
      k === 0 ? [[]] : Array.from({ length: topN - from }, (_, q) => from + q).flatMap((c) => subsets(k - 1, c + 1).map((s) => [c, ...s]));
    for (const k of [1, 2, 3]) {
      let best = Infinity;
      let arg: number[] = [];
      for (const s of subsets(k)) {
        const c = cost(s);
        if (c < best) [best, arg] = [c, s];
      }
      const sol = r.solutions.get(k)!;
      expect(sol.optimalityGap).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(sol.objective - best) / best).toBeLessThan(1e-6);
      expect([...sol.neurons].sort((a, b) => a - b)).toEqual(arg.map((c) => cand[c]!).sort((a, b) => a - b));
      expect(r.supportFor!(k).optimalityGap).toBe(sol.optimalityGap);
    }
  });
});

describe('rankNeurons arguments', () => {
  it('rejects maxK above the number of neurons', () => {
    expect(() => rankNeurons('adaptive', train.X, train.y, { maxK: 33 })).toThrow(/k = 33 is larger than the number of neurons \(32\)/);
  });
});
