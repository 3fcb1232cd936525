/**
 * What both Newton solvers (newton.ts: exact Hessians and BFGS; newton-cg.ts: Newton-CG) share: the
 * options and result, and the row terms of scikit-learn's objective C * sum_i w_i [log(1 + exp(eta_i))
 * - y_i eta_i] + 0.5 ||beta||^2 (log-loss, residuals, IRLS weights), in double precision.
 */
export interface NewtonOptions {
  C: number;
  maxIter: number;
  /** Stop when max |grad f| <= tol (absolute, on the objective above). */
  tol: number;
  /** false: the JS Hessian + BFGS solver even where WebAssembly SIMD is available (tests compare the two). */
  simd?: boolean;
}

export interface NewtonResult {
  coef: Float64Array;
  intercept: number;
  iterations: number;
  converged: boolean;
  /** max |grad f| at the returned point. */
  gradMax: number;
  /** f at the returned point. */
  objective: number;
  hessians: number;
}

/** log(1 + exp(x)) without overflow. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Adds the ridge term's gradient (beta) to g[1..k] and returns the objective C * loss + ||beta||^2 / 2. */
export function withRidge(g: Float64Array, beta: Float64Array, k: number, C: number, loss: number): number {
  let reg = 0;
  for (let j = 0; j < k; j++) {
    g[j + 1] += beta[j]!;
    reg += beta[j]! * beta[j]!;
  }
  return C * loss + 0.5 * reg;
}

/**
 * Rows i0..end of a step, given dEta: etaTry = eta + dEta, the residuals r and IRLS weights d there, and
 * into acc the weighted log-loss (acc[0]) and the intercept's gradient (acc[1]).
 */
export function rowTerms(
  i0: number, end: number, y: Uint8Array, w: Float64Array, C: number,
  eta: Float64Array, dEta: Float64Array, etaTry: Float64Array, r: Float64Array, d: Float64Array, acc: Float64Array,
): void {
  let loss = 0;
  let gb = 0;
  for (let i = i0; i < end; i++) {
    const e = eta[i]! + dEta[i]!;
    etaTry[i] = e;
    // One exp serves the probability and the log-loss: with t = exp(-|e|), p = 1 / (1 + t) or
    // t / (1 + t) and softplus(e) = max(e, 0) + log1p(t), the same values as sigmoid() and softplus().
    const t = Math.exp(e >= 0 ? -e : e);
    const p = e >= 0 ? 1 / (1 + t) : t / (1 + t);
    const cw = C * w[i]!;
    const ri = cw * (p - y[i]!);
    r[i] = ri;
    d[i] = cw * p * (1 - p);
    gb += ri;
    loss += w[i]! * ((e > 0 ? e + Math.log1p(t) : Math.log1p(t)) - (y[i] ? e : 0));
  }
  acc[0] += loss;
  acc[1] += gb;
}

export function objective(eta: Float64Array, y: Uint8Array, w: Float64Array, C: number, beta: Float64Array): number {
  let loss = 0;
  for (let i = 0; i < eta.length; i++) {
    const e = eta[i]!;
    loss += w[i]! * (softplus(e) - (y[i] ? e : 0));
  }
  let reg = 0;
  for (let j = 0; j < beta.length; j++) reg += beta[j]! * beta[j]!;
  return C * loss + 0.5 * reg;
}

