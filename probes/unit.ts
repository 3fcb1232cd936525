/**
 * One sweep unit (a feature x hook x ranking method: rank on train, fit every k, score on test) and the
 * engine it runs on. Kept apart from sweep.ts so the worker threads of probes/unit-pool.ts load only the
 * numerical engine, not the sweep's tables and run directories.
 */
import { LabError } from '../lab/core/index.ts';
import { computeMetrics, fitProbes, predictScores, predictScoresMany, rankNeurons } from './engine.ts';
import type { FitOptions, Matrix, Metrics, ProbeFit, RankResult } from './types.ts';
import type { RankMethod } from './rank/index.ts';
import { takeRows } from './split.ts';
import { withColumnMajor, type ColumnMajor } from './fit/gather.ts';

/** What a worker's engine is built from (probes/sweep.ts labEngine options). */
export interface EngineSpec {
  timeLimitS?: number;
}

export const METRIC_NAMES = ['f1', 'mcc', 'precision', 'recall', 'accuracy', 'roc_auc', 'pr_auc'] as const;

/** What the sweep needs from the numerical engine (probes/engine.ts in production, a double in tests). */
export interface ProbeEngine {
  rank(X: Matrix, y: Uint8Array, method: RankMethod, opts: { ks: number[]; seed: number }): RankResult;
  /** Fits one probe per support on the same rows (an engine may batch them). */
  fit(X: Matrix, y: Uint8Array, supports: number[][], opts: FitOptions): ProbeFit[];
  scores(X: Matrix, fit: ProbeFit): Float64Array;
  /** The same as scores for each fit, batched (optional: the lab's gathers the fits' columns once). */
  scoresMany?(X: Matrix, fits: readonly ProbeFit[]): Float64Array[];
  metrics(y: Uint8Array, scores: Float64Array): Metrics;
  /** Set by labEngine: how a worker thread builds the same engine (sweeps on several threads need it). */
  workerSpec?: EngineSpec;
}

/** The lab's engine (probes/engine.ts). `timeLimitS` bounds the iterative rankers (l1, osp) per unit. */
export function labEngine(opts: { timeLimitS?: number } = {}): ProbeEngine {
  return {
    rank: (X, y, method, o) => rankNeurons(method, X, y, { maxK: Math.max(...o.ks), seed: o.seed, timeLimitS: opts.timeLimitS }),
    fit: (X, y, supports, fit) => fitProbes(X, y, supports, fit),
    scores: (X, fit) => predictScores(X, fit),
    scoresMany: (X, fits) => predictScoresMany(X, fits),
    metrics: (y, s) => computeMetrics(y, s),
    workerSpec: { timeLimitS: opts.timeLimitS },
  };
}

export type RowStatus = 'ok' | 'skipped' | 'failed';

export interface SweepRow {
  feature: string;
  hook: string;
  method: RankMethod;
  k: number | null;
  f1: number | null;
  mcc: number | null;
  precision: number | null;
  recall: number | null;
  accuracy: number | null;
  roc_auc: number | null;
  pr_auc: number | null;
  neurons: number[];
  coefs: number[];
  intercept: number | null;
  n_train: number;
  n_test: number;
  n_pos_train: number;
  n_pos_test: number;
  converged: boolean | null;
  optimality_gap: number | null;
  status: RowStatus;
  skip_reason: string;
}

export function emptyRow(feature: string, hook: string, method: RankMethod, counts: Counts, status: RowStatus, reason: string): SweepRow {
  return {
    feature, hook, method, k: null,
    f1: null, mcc: null, precision: null, recall: null, accuracy: null, roc_auc: null, pr_auc: null,
    neurons: [], coefs: [], intercept: null, ...counts, converged: null, optimality_gap: null,
    status, skip_reason: reason,
  };
}

export interface Counts {
  n_train: number;
  n_test: number;
  n_pos_train: number;
  n_pos_test: number;
}

/** What one unit reads of its hook: the name and the train and test rows. */
export interface UnitHook {
  hook: string;
  Xtr: Matrix;
  Xte: Matrix;
}

/**
 * The hook restricted to some of its train and test rows (positions in Xtr and Xte): a contrast unit
 * (probes/contrast.ts) ranks, fits and scores on its feature's rows only.
 */
export function restrictHook(h: UnitHook, tr: Int32Array, te: Int32Array): UnitHook {
  const d = h.Xtr.nCols;
  return {
    hook: h.hook,
    Xtr: { data: takeRows(h.Xtr.data, d, tr), nRows: tr.length, nCols: d },
    Xte: { data: takeRows(h.Xte.data, d, te), nRows: te.length, nCols: d },
  };
}

/**
 * The largest matrix (a hook's train or test rows, in bytes) given a column-major copy while its units
 * run (probes/fit/gather.ts withColumnMajor): the copy doubles the hook's memory and saves each unit a
 * pass over the rows in every gather.
 */
export const COLUMN_MAJOR_MAX_BYTES = 2 ** 30;

/**
 * Column-major copies of a hook's train and test rows when `units` units will read them (with one unit
 * the copy costs what it saves) and each fits COLUMN_MAJOR_MAX_BYTES; undefined otherwise. Contrast units
 * read their own row subsets (restrictHook), so they gain nothing from it.
 */
export function columnMajorHook(h: UnitHook, units: number, shared = false): { tr: ColumnMajor; te: ColumnMajor } | undefined {
  if (!columnMajorFits(h, units)) return undefined;
  return { tr: withColumnMajor(h.Xtr, shared), te: withColumnMajor(h.Xte, shared) };
}

/** Whether columnMajorHook makes the copies (the pool has its workers make them: probes/unit-pool.ts). */
export function columnMajorFits(h: UnitHook, units: number): boolean {
  const fits = (X: Matrix) => X.nRows * X.nCols * 4 <= COLUMN_MAJOR_MAX_BYTES;
  return units >= 2 && fits(h.Xtr) && fits(h.Xte);
}

/** One unit: rank on train, fit every k, score on test (in this thread or a probes/unit-pool.ts worker). */
export function runUnit(
  engine: ProbeEngine, h: UnitHook, feature: string, method: RankMethod, ks: number[], config: { seed: number; fit: FitOptions },
  ytr: Uint8Array, yte: Uint8Array, counts: Counts,
): SweepRow[] {
  const hook = h.hook;
  let rank: RankResult;
  try {
    rank = engine.rank(h.Xtr, ytr, method, { ks, seed: config.seed });
  } catch (err) {
    if (err instanceof LabError) return [emptyRow(feature, hook, method, counts, 'failed', err.message)];
    throw err;
  }
  const supports = ks.map((k) => (rank.supportFor ? rank.supportFor(k) : { neurons: Array.from(rank.order.subarray(0, k)) }));
  const fits = engine.fit(h.Xtr, ytr, supports.map((s) => s.neurons), config.fit);
  const scores = engine.scoresMany ? engine.scoresMany(h.Xte, fits) : fits.map((fit) => engine.scores(h.Xte, fit));
  return ks.map((k, i) => {
    const fit = fits[i]!;
    const m = engine.metrics(yte, scores[i]!);
    // Undefined metrics (NaN) are stored as null, which is what JSON would turn them into anyway.
    const metrics = Object.fromEntries(METRIC_NAMES.map((n) => [n, Number.isFinite(m[n]) ? m[n] : null]));
    return {
      feature, hook, method, k, ...(metrics as Record<(typeof METRIC_NAMES)[number], number | null>),
      neurons: fit.neurons.slice(), coefs: Array.from(fit.coef), intercept: fit.intercept,
      ...counts, converged: fit.converged, optimality_gap: supports[i]!.optimalityGap ?? null,
      status: 'ok' as const, skip_reason: '',
    };
  });
}
