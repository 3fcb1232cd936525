/**
 * One-way ANOVA F statistic per neuron for two classes, as sklearn's f_classif:
 * F = (SS_between / 1) / (SS_within / (n - 2)). A constant neuron (0/0) scores 0; one that separates
 * the classes with zero within-class spread scores +Infinity.
 */
import type { Matrix } from '../types.ts';
import { classStats } from './class-stats.ts';
import { defineRankMethod, nestedRanking } from './registry.ts';

export function fStatScores(X: Matrix, y: Uint8Array): Float64Array {
  const { nPos, nNeg, sumPos, sumNeg, sumSq } = classStats(X, y, true);
  const n = nPos + nNeg;
  const out = new Float64Array(X.nCols);
  for (let j = 0; j < X.nCols; j++) {
    const s = sumPos[j]! + sumNeg[j]!;
    const c = (s * s) / n;
    const ssTot = sumSq![j]! - c;
    const ssBetween = (sumPos[j]! * sumPos[j]!) / nPos + (sumNeg[j]! * sumNeg[j]!) / nNeg - c;
    const ssWithin = ssTot - ssBetween;
    if (ssBetween <= 0 && ssWithin <= 0) out[j] = 0;
    else if (ssWithin <= 0) out[j] = Infinity;
    else out[j] = Math.max(0, ssBetween) / (ssWithin / (n - 2));
  }
  return out;
}

export const fStat = defineRankMethod({
  name: 'f_stat',
  summary: 'one-way ANOVA F statistic (sklearn f_classif)',
  rank: (X, y) => nestedRanking(fStatScores(X, y)),
});
