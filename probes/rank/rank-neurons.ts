/**
 * rankNeurons: one entry point over the ranking methods. Nested methods (mean_dif, f_stat, mi, l1)
 * give one order whose top k is the support; adaptive and osp choose a support per k (supportFor),
 * and their `order` lists supportFor(1), then what supportFor(2) adds, and so on, and their `scores`
 * are that order's rank (nCols - position), since no single per-neuron statistic drives them.
 */
import { UsageError } from '../../lab/core/index.ts';
import type { Matrix, RankResult } from '../types.ts';
import { checkXy } from '../fit/validate.ts';
// Run for its effect: methods.ts registers the built-in methods (a type-only import would be erased).
import './methods.ts';
import type { RankMethod } from './methods.ts';
import { rankMethod, rankMethodNames } from './registry.ts';

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

/**
 * Checks method names given on the command line against the registry: an unknown one is a UsageError
 * for `flag` listing the registered methods. Returns the names, typed (run-time registrations included).
 */
export function checkRankMethods(names: readonly string[], flag = 'methods'): RankMethod[] {
  for (const m of names) {
    if (!rankMethodNames().includes(m)) throw new UsageError(`--${flag}: unknown method '${m}' (one of ${rankMethodNames().join(', ')})`, flag);
  }
  return names as RankMethod[];
}

/** Asynchronous set-up some methods need (osp loads the HiGHS wasm module). Call once before ranking. */
export async function prepareRanking(methods: readonly string[]): Promise<void> {
  for (const name of new Set(methods)) await rankMethod(name).prepare?.();
}

export function rankNeurons(method: RankMethod, X: Matrix, y: Uint8Array, opts: RankOptions = {}): RankResult {
  checkXy(X, y);
  const maxK = opts.maxK ?? Math.min(256, X.nCols);
  if (!Number.isInteger(maxK) || maxK < 1) throw new UsageError(`maxK must be a positive integer, got ${maxK}`, 'maxK');
  if (maxK > X.nCols) throw new UsageError(`k = ${maxK} is larger than the number of neurons (${X.nCols})`, 'k');
  if (opts.timeLimitS !== undefined && !(opts.timeLimitS > 0)) {
    throw new UsageError(`timeLimitS must be positive, got ${opts.timeLimitS}`, 'timeLimitS');
  }
  const spec = rankMethod(String(method));
  return spec.rank(X, y, { maxK, timeLimitS: opts.timeLimitS, seed: opts.seed ?? 0, ospTopN: opts.ospTopN, ospMaxK: opts.ospMaxK });
}
