/**
 * rankNeurons: one entry point over the ranking methods. Nested methods (mean_dif, f_stat, mi, l1)
 * give one order whose top k is the support; adaptive and osp choose a support per k (supportFor).
 */
import { UsageError } from '../../lab/errors.ts';
import type { Matrix, RankMethod, RankResult } from '../types.ts';
import { checkXy } from '../fit/validate.ts';
import { orderByScore } from './class-stats.ts';
import { fStatScores } from './f-stat.ts';
import { meanDifScores } from './mean-dif.ts';

export interface RankOptions {
  /** Largest k a caller will ask for (adaptive, osp, l1 stop there). Default min(256, nCols). */
  maxK?: number;
  /** Wall-clock budget in seconds for the iterative methods (l1 path, osp MIP per k). */
  timeLimitS?: number;
  seed?: number;
  /** osp: candidate neurons, the top ones by mean_dif (default 50, as the reference work). */
  ospTopN?: number;
}

export const RANK_METHODS: readonly RankMethod[] = ['mean_dif', 'f_stat', 'mi', 'l1', 'adaptive', 'osp'];

export function rankNeurons(method: RankMethod, X: Matrix, y: Uint8Array, opts: RankOptions = {}): RankResult {
  checkXy(X, y);
  switch (method) {
    case 'mean_dif':
      return nested(meanDifScores(X, y));
    case 'f_stat':
      return nested(fStatScores(X, y));
    default:
      throw new UsageError(`unknown ranking method '${String(method)}' (one of ${RANK_METHODS.join(', ')})`, 'methods');
  }
}

function nested(scores: Float64Array): RankResult {
  return { order: orderByScore(scores), scores };
}
