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
   * Newton stops when max |gradient| <= tol on scikit-learn's objective (a sum over rows, C times the
   * weighted log-loss plus 0.5 ||beta||^2). Default 1e-6: the ridge term keeps the Hessian >= I, so the
   * coefficients are then within 1e-6 of the optimum (scikit-learn's lbfgs stops at 1e-4).
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
