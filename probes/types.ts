/**
 * The contract between the probe engine (ranking, fitting, metrics: probes/rank, probes/fit,
 * probes/metrics.ts) and the sweep/classification layer (probes/sweep.ts, probes/classify.ts).
 * Matrices are row-major Float32Array [nRows x nNeurons]; labels are Uint8Array of 0/1.
 */

export interface Matrix {
  data: Float32Array;
  nRows: number;
  nCols: number;
}

export interface RankResult {
  /** Neuron indices, best first (for 'adaptive' and 'osp' the order depends on k: see supportFor). */
  order: Int32Array;
  /** Score per neuron (higher = more informative), same indexing as the columns. */
  scores: Float64Array;
  /** For methods whose support is not nested (adaptive, osp): the chosen neurons for a given k. */
  supportFor?: (k: number) => { neurons: number[]; optimalityGap?: number };
}

export interface ProbeFit {
  neurons: number[];
  coef: Float64Array;
  intercept: number;
  iterations: number;
  converged: boolean;
}

export interface FitOptions {
  /** Inverse L2 strength as in scikit-learn (C = 1 by default). */
  C?: number;
  classWeight?: 'balanced' | 'none';
  fitter?: 'newton' | 'ml';
  maxIter?: number;
  /**
   * Newton stops when max |gradient| <= tol on the scale scikit-learn's solvers test (its newton-cholesky
   * and lbfgs: the objective C * sum_i w_i logloss_i + 0.5 ||beta||^2 divided by C * sum(w), so the
   * figure does not grow with the rows), i.e. max |gradient of the sum| <= tol * C * sum(w). Default 1e-8,
   * 10^4 times tighter than scikit-learn's default 1e-4. The ridge term keeps the Hessian >= I, so the
   * coefficients are within ||gradient||_2 of the optimum (on 14,000 rows, 1.4e-4 per coordinate at
   * most). Until 2026-12-01 the default was an absolute 1e-6 (7e-11 on this scale at 14,000 rows), which
   * cost the probe bench's sweep 15-20% more time for the same F1.
   */
  tol?: number;
}

export interface Metrics {
  f1: number;
  mcc: number;
  precision: number;
  recall: number;
  accuracy: number;
  roc_auc: number;
  pr_auc: number;
}
