/**
 * rankNeurons: one entry point over the ranking methods. Nested methods (mean_dif, f_stat, mi, l1)
 * give one order whose top k is the support; adaptive and osp choose a support per k (supportFor),
 * and their `order` lists supportFor(1), then what supportFor(2) adds, and so on, and their `scores`
 * are that order's rank (nCols - position), since no single per-neuron statistic drives them.
 */
import { UsageError } from '../../lab/core/index.ts';
import type { Matrix, RankMethod, RankResult } from '../types.ts';
import { checkXy } from '../fit/validate.ts';
import { adaptiveRanking } from './adaptive.ts';
import { orderByScore } from './class-stats.ts';
import { fStatScores } from './f-stat.ts';
import { l1PathRanking } from './l1-path.ts';
import { meanDifScores } from './mean-dif.ts';
import { mutualInfoScores } from './mutual-info.ts';
import { loadOspSolver, ospRanking } from './osp.ts';

export interface RankOptions {
  /** Largest k a caller will ask for (adaptive and the l1 path stop there). Default min(256, nCols). */
  maxK?: number;
  /** Seconds: the l1 path's budget (default 60), and osp's budget per k (default 10). */
  timeLimitS?: number;
  /** mi: seed of the tie-breaking jitter. */
  seed?: number;
  /** osp: candidate neurons, the top ones by mean_dif (default 50, as the reference work). */
  ospTopN?: number;
  /** osp: largest k solved as a MIP (default 8); above it supportFor gives the mean_dif top k. */
  ospMaxK?: number;
}

export const RANK_METHODS: readonly RankMethod[] = ['mean_dif', 'f_stat', 'mi', 'l1', 'adaptive', 'osp'];

/** Asynchronous set-up some methods need (osp loads the HiGHS wasm module). Call once before ranking. */
export async function prepareRanking(methods: readonly RankMethod[]): Promise<void> {
  if (methods.includes('osp')) await loadOspSolver();
}

export function rankNeurons(method: RankMethod, X: Matrix, y: Uint8Array, opts: RankOptions = {}): RankResult {
  checkXy(X, y);
  const maxK = opts.maxK ?? Math.min(256, X.nCols);
  if (!Number.isInteger(maxK) || maxK < 1) throw new UsageError(`maxK must be a positive integer, got ${maxK}`, 'maxK');
  if (maxK > X.nCols) throw new UsageError(`k = ${maxK} is larger than the number of neurons (${X.nCols})`, 'k');
  if (opts.timeLimitS !== undefined && !(opts.timeLimitS > 0)) {
    throw new UsageError(`timeLimitS must be positive, got ${opts.timeLimitS}`, 'timeLimitS');
  }
  switch (method) {
    case 'mean_dif':
      return nested(meanDifScores(X, y));
    case 'f_stat':
      return nested(fStatScores(X, y));
    case 'mi':
      return nested(mutualInfoScores(X, y, { seed: opts.seed ?? 0 }));
    case 'l1': {
      const r = l1PathRanking(X, y, { maxK, timeLimitS: opts.timeLimitS ?? 60 });
      return { order: r.order, scores: r.scores };
    }
    case 'adaptive':
      return adaptiveRanking(X, y, maxK);
    case 'osp': {
      const topN = opts.ospTopN ?? 50;
      if (!Number.isInteger(topN) || topN < 1) throw new UsageError(`ospTopN must be a positive integer, got ${topN}`, 'ospTopN');
      const r = ospRanking(X, y, { topN, maxK: Math.min(opts.ospMaxK ?? 8, maxK), timeLimitS: opts.timeLimitS ?? 10 });
      return { order: r.order, scores: r.scores, supportFor: r.supportFor };
    }
    default:
      throw new UsageError(`unknown ranking method '${String(method)}' (one of ${RANK_METHODS.join(', ')})`, 'methods');
  }
}

function nested(scores: Float64Array): RankResult {
  return { order: orderByScore(scores), scores };
}
