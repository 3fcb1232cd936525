/**
 * Truncated Newton (Newton-CG) for every probe where WebAssembly SIMD is available: each Newton step
 * solves H p = g by preconditioned conjugate gradients on Hessian-vector products (SimdColumns.hvp: one
 * blocked pass over Z, 2 n k multiply-adds) instead of assembling H = [1 Z]^T D [1 Z] + diag(0, 1, ..., 1) (n k^2 / 2) and
 * inverting it (k^3). Same objective, same line search and same stopping rule (max |gradient| <= tol)
 * as newton.ts; only the direction is computed differently, so the solution is the same to tol.
 *
 * The preconditioner is exact for the part of H that makes it ill-conditioned: activations are not
 * centred, so the intercept couples to every column (H[0][j] = sum d z_j) and the columns share their
 * means. P = L blockdiag(hd, Dc) L^T with L = [[1, 0], [h0 / hd, I]] is H with the centred Gram
 * Zc^T D Zc replaced by its diagonal Dc (Dc_j = H_jj - h0_j^2 / hd): P^-1 costs O(k), and P^-1 H has
 * the spectrum of the weighted correlation matrix of the centred columns (plus the ridge), which for
 * weakly correlated neurons is close to 1, so CG needs few products.
 */
import { withRidge, type NewtonOptions, type NewtonResult } from './logistic-rows.ts';
import type { SimdColumns } from './simd-matvec.ts';

/** Counters for the bench's profile (bench/probe-profile.ts): Newton steps and products so far. */
export const cgStats = { products: 0, steps: 0 };

export function newtonCg(
  sc: SimdColumns, y: Uint8Array, w: Float64Array, opts: NewtonOptions, beta: Float64Array, b0: number,
): NewtonResult {
  const { k } = sc;
  const m = k + 1;
  const C = opts.C;
  let b = b0;
  // The rows' state (eta, residuals, IRLS weights at the current point and at a trial) lives in the
  // kernel's memory (SimdColumns.setRows): `cur` names the current point's slot, 1 - cur the trial's.
  sc.setRows(y, w, C);
  let cur = 0;
  const g = new Float64Array(m);
  const gTry = new Float64Array(m);
  sc.affineTo(b, beta, cur);
  let f = withRidge(g, beta, k, C, sc.evaluate(cur, g));
  let iterations = 0;
  let converged = false;
  let gradMax = Infinity;
  let g0norm = 0;
  const step = new Float64Array(m);
  let pre: ((rv: Float64Array, out: Float64Array) => void) | undefined;
  for (;;) {
    gradMax = 0;
    let gnorm = 0;
    for (let j = 0; j < m; j++) {
      gradMax = Math.max(gradMax, Math.abs(g[j]!));
      gnorm += g[j]! * g[j]!;
    }
    gnorm = Math.sqrt(gnorm);
    if (iterations === 0) g0norm = gnorm;
    if (gradMax <= opts.tol) {
      converged = true;
      break;
    }
    if (iterations >= opts.maxIter) break;
    // Forcing term (Eisenstat-Walker style): a loose solve far from the optimum, tighter as the gradient
    // falls, which keeps Newton's superlinear rate without solving early steps exactly.
    const forcing = Math.min(0.1, Math.sqrt(gnorm / g0norm));
    if (!pre) pre = preconditioner(sc.weightsAt(cur, true));
    else sc.weightsAt(cur);
    pcg(sc, pre, g, step, forcing * gnorm, 0.1 * opts.tol);
    let slope = 0;
    for (let j = 0; j < m; j++) slope -= g[j]! * step[j]!;
    const betaTry = new Float64Array(k);
    for (let j = 0; j < k; j++) betaTry[j] = beta[j]! - step[j + 1]!;
    const belowResolution = -slope < 1e-11 * (1 + Math.abs(f));
    const nxt = 1 - cur;
    // The full step, fused: one blocked pass over Z gives dEta, the objective and the next gradient.
    const fFull = withRidge(gTry, betaTry, k, C, sc.step(step, cur, nxt, gTry));
    let accepted = false;
    let t = 1;
    if (belowResolution || fFull <= f + 1e-4 * slope) {
      accepted = true;
      f = fFull;
      b -= step[0]!;
      beta.set(betaTry);
      cur = nxt;
      g.set(gTry);
    } else t = 0.5;
    for (let ls = 0; ls < 40 && !accepted; ls++) {
      for (let j = 0; j < k; j++) betaTry[j] = beta[j]! - t * step[j + 1]!;
      sc.trialAlong(cur, nxt, t);
      const fTry = withRidge(gTry, betaTry, k, C, sc.evaluate(nxt, gTry));
      if (belowResolution || fTry <= f + 1e-4 * t * slope) {
        accepted = true;
        b -= t * step[0]!;
        beta.set(betaTry);
        f = fTry;
        cur = nxt;
        g.set(gTry);
        break;
      }
      t *= 0.5;
    }
    iterations++;
    if (!accepted) break; // round-off floor: no representable decrease left
  }
  return { coef: beta, intercept: b, iterations, converged, gradMax, objective: f, hessians: 0 };
}

/**
 * Preconditioned CG for H p = g (H from sc's weights d), from p = 0, until ||residual||_2 <= target2 or
 * max |residual| <= targetMax, or m products. The result is a descent direction at every iterate.
 */
function preconditioner({ hd, h0, diag }: { hd: number; h0: Float64Array; diag: Float64Array }): (rv: Float64Array, out: Float64Array) => void {
  const k = h0.length;
  const dc = new Float64Array(k);
  for (let j = 0; j < k; j++) dc[j] = Math.max(diag[j]! - (h0[j]! * h0[j]!) / hd, 1);
  const precond = (rv: Float64Array, out: Float64Array) => {
    // P^-1 = L^-T blockdiag(hd, Dc)^-1 L^-1, L = [[1, 0], [h0 / hd, I]].
    const r0 = rv[0]!;
    let dot = 0;
    for (let j = 0; j < k; j++) {
      const t = (rv[j + 1]! - (h0[j]! * r0) / hd) / dc[j]!;
      out[j + 1] = t;
      dot += h0[j]! * t;
    }
    out[0] = (r0 - dot) / hd;
  };
  return precond;
}

function pcg(sc: SimdColumns, precond: (rv: Float64Array, out: Float64Array) => void, g: Float64Array, p: Float64Array, target2: number, targetMax: number): void {
  const m = g.length;
  p.fill(0);
  const res = Float64Array.from(g);
  const zv = new Float64Array(m);
  precond(res, zv);
  const dir = Float64Array.from(zv);
  const q = new Float64Array(m);
  let rz = 0;
  for (let j = 0; j < m; j++) rz += res[j]! * zv[j]!;
  for (let it = 0; it < m; it++) {
    sc.hvp(dir, q);
    cgStats.products++;
    let pq = 0;
    for (let j = 0; j < m; j++) pq += dir[j]! * q[j]!;
    const alpha = rz / pq;
    let rr = 0;
    let rmax = 0;
    for (let j = 0; j < m; j++) {
      p[j] += alpha * dir[j]!;
      res[j] -= alpha * q[j]!;
      rr += res[j]! * res[j]!;
      rmax = Math.max(rmax, Math.abs(res[j]!));
    }
    if (Math.sqrt(rr) <= target2 || rmax <= targetMax) break;
    precond(res, zv);
    let rzNew = 0;
    for (let j = 0; j < m; j++) rzNew += res[j]! * zv[j]!;
    const beta = rzNew / rz;
    rz = rzNew;
    for (let j = 0; j < m; j++) dir[j] = zv[j]! + beta * dir[j]!;
  }
  cgStats.steps++;
}
