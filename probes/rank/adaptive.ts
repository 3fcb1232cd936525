/**
 * Adaptive thresholding (the reference work's telescopic sweep): start from the top maxK neurons by
 * mean difference, then for k going down the grid fit the L2 probe on the current top k and re-rank
 * those k by |coefficient| times the neuron's standard deviation (the reference work fits on
 * activations divided by their standard deviation, where the plain |coefficient| is this product).
 * The support for a k on the grid is the top k after the fit at the previous, larger k; a k between
 * grid points takes the top k of the nearest larger grid point's re-ranking.
 */
import { UsageError } from '../../lab/core/index.ts';
import type { Matrix, RankResult } from '../types.ts';
import { gatherColumns, subColumns } from '../fit/gather.ts';
import { fitGathered, resolveFitOptions } from '../fit/fit-probe.ts';
import { classWeights } from '../fit/newton.ts';
import type { ProbeFit } from '../types.ts';
import { orderByScore } from './class-stats.ts';
import { chainKs, orderFromSupports } from './k-list.ts';
import { meanDifScores } from './mean-dif.ts';
import { defineRankMethod } from './registry.ts';

export function adaptiveRanking(X: Matrix, y: Uint8Array, maxK: number): RankResult {
  const md = meanDifScores(X, y);
  const mdOrder = orderByScore(md);
  const top = Array.from(mdOrder.subarray(0, maxK));
  const cols = gatherColumns(X, top);
  const { n } = cols;
  const sd = new Float64Array(maxK);
  for (let p = 0; p < maxK; p++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = cols.z[p * n + i]!;
      s += v;
      s2 += v * v;
    }
    sd[p] = Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2));
  }
  const o = resolveFitOptions();
  const w = classWeights(y, o.classWeight);
  // ranking holds positions into `top`, best first; it shrinks to the re-ranked support at each k.
  let ranking = Array.from({ length: maxK }, (_, p) => p);
  const grid = chainKs(maxK);
  const supportAt = new Map<number, number[]>();
  const rankingAfter = new Map<number, number[]>();
  let prev: ProbeFit | undefined;
  for (const k of grid) {
    const support = ranking.slice(0, k);
    supportAt.set(k, support.map((p) => top[p]!));
    const fit = fitGathered(subColumns(cols, support), y, w, o, prev);
    prev = fit;
    const strength = support.map((p, q) => Math.abs(fit.coef[q]!) * sd[p]!);
    ranking = support
      .map((p, q) => ({ p, s: strength[q]! }))
      .sort((a, b) => b.s - a.s || a.p - b.p)
      .map((e) => e.p);
    rankingAfter.set(k, ranking);
  }
  const supportFor = (k: number): { neurons: number[] } => {
    if (!Number.isInteger(k) || k < 1 || k > maxK) throw new UsageError(`adaptive: k = ${k} outside [1, maxK = ${maxK}]`, 'k');
    const exact = supportAt.get(k);
    if (exact) return { neurons: [...exact] };
    const larger = grid.filter((g) => g > k).pop()!;
    return { neurons: rankingAfter.get(larger)!.slice(0, k).map((p) => top[p]!) };
  };
  const order = orderFromSupports((k) => supportFor(k).neurons, maxK, mdOrder);
  const scores = new Float64Array(X.nCols);
  order.forEach((j, pos) => (scores[j] = X.nCols - pos));
  return { order, scores, supportFor };
}

export const adaptive = defineRankMethod({
  name: 'adaptive',
  summary: 'adaptive thresholding: refit and re-rank by |coefficient| down the k grid (a support per k)',
  rank: (X, y, ctx) => adaptiveRanking(X, y, ctx.maxK),
});
