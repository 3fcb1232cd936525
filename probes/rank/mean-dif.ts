/** |mean over positives - mean over negatives| per neuron: the reference work's default ranking. */
import type { Matrix } from '../types.ts';
import { classStats } from './class-stats.ts';
import { defineRankMethod, nestedRanking } from './registry.ts';

export function meanDifScores(X: Matrix, y: Uint8Array): Float64Array {
  const { nPos, nNeg, sumPos, sumNeg } = classStats(X, y);
  const out = new Float64Array(X.nCols);
  for (let j = 0; j < X.nCols; j++) out[j] = Math.abs(sumPos[j]! / nPos - sumNeg[j]! / nNeg);
  return out;
}

export const meanDif = defineRankMethod({
  name: 'mean_dif',
  summary: '|mean over positives - mean over negatives| (the reference work\'s default)',
  rank: (X, y) => nestedRanking(meanDifScores(X, y)),
});
