/**
 * L2-regularised logistic regression with an unpenalised intercept and per-row weights, solved by
 * damped Newton (IRLS) to a gradient tolerance. The objective is scikit-learn's:
 *
 *   f(b, beta) = C * sum_i w_i * [log(1 + exp(eta_i)) - y_i * eta_i] + 0.5 * ||beta||^2,  eta = b + Z beta
 *
 * so with w = balanced class weights and C = 1 its minimiser is LogisticRegression(class_weight=
 * 'balanced', C=1)'s. k is at most a few hundred, so the (k+1)^2 Hessian and its Cholesky are cheap;
 * the cost is Z^T D Z (n k^2 / 2 multiply-adds), so one exact Hessian is followed by BFGS updates for
 * as long as they keep halving the gradient (a quasi-Newton method started from the true Hessian).
 */
import type { Columns } from './gather.ts';
import { solveSpd } from './linalg.ts';

export interface NewtonOptions {
  C: number;
  maxIter: number;
  /** Stop when max |grad f| <= tol (absolute, on the objective above). */
  tol: number;
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

/** Balanced class weights n / (2 n_c), as sklearn's class_weight='balanced'. */
export function classWeights(y: Uint8Array, mode: 'balanced' | 'none'): Float64Array {
  const n = y.length;
  const w = new Float64Array(n);
  let pos = 0;
  for (let i = 0; i < n; i++) pos += y[i]!;
  const wPos = mode === 'balanced' ? n / (2 * pos) : 1;
  const wNeg = mode === 'balanced' ? n / (2 * (n - pos)) : 1;
  for (let i = 0; i < n; i++) w[i] = y[i] ? wPos : wNeg;
  return w;
}

/** log(1 + exp(x)) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export function newtonLogistic(
  cols: Columns,
  y: Uint8Array,
  w: Float64Array,
  opts: NewtonOptions,
  init?: { coef: Float64Array; intercept: number },
): NewtonResult {
  const { z, n, k } = cols;
  const m = k + 1;
  const C = opts.C;
  const beta = new Float64Array(k);
  let b = 0;
  if (init) {
    beta.set(init.coef);
    b = init.intercept;
  } else {
    // Start at the intercept-only optimum: logit of the weighted positive rate.
    let sp = 0;
    let sw = 0;
    for (let i = 0; i < n; i++) {
      sw += w[i]!;
      if (y[i]) sp += w[i]!;
    }
    b = Math.log(sp / (sw - sp));
  }
  const eta = new Float64Array(n);
  const r = new Float64Array(n);
  const d = new Float64Array(n);
  const dEta = new Float64Array(n);
  const etaTry = new Float64Array(n);
  const g = new Float64Array(m);
  const H = new Float64Array(m * m);
  const sPrev = new Float64Array(m);
  const gPrev = new Float64Array(m);

  linearPredictor(z, n, k, beta, b, eta);
  let f = objective(eta, y, w, C, beta);
  let iterations = 0;
  let hessians = 0;
  let converged = false;
  let gradMax = Infinity;
  let haveH = false;
  let prevGradMax = Infinity;

  for (;;) {
    // Gradient (and the IRLS weights, kept for a fresh Hessian).
    for (let i = 0; i < n; i++) {
      const e = eta[i]!;
      const p = e >= 0 ? 1 / (1 + Math.exp(-e)) : Math.exp(e) / (1 + Math.exp(e));
      const cw = C * w[i]!;
      r[i] = cw * (p - y[i]!);
      d[i] = cw * p * (1 - p);
    }
    let gb = 0;
    for (let i = 0; i < n; i++) gb += r[i]!;
    g[0] = gb;
    for (let j = 0; j < k; j++) g[j + 1] = dot(r, z, j * n, n) + beta[j]!;
    gradMax = 0;
    for (let j = 0; j < m; j++) gradMax = Math.max(gradMax, Math.abs(g[j]!));
    if (gradMax <= opts.tol) {
      converged = true;
      break;
    }
    if (iterations >= opts.maxIter) break;
    // The exact Hessian costs n k^2 / 2; after one, BFGS updates (O(k^2)) keep it current and
    // converge superlinearly. It is rebuilt only when a step fails to halve the gradient.
    const builtNow = !haveH || gradMax > 0.5 * prevGradMax;
    if (builtNow) {
      weightedGram(z, n, k, d, H);
      hessians++;
      haveH = true;
    } else {
      bfgsUpdate(H, m, sPrev, g, gPrev);
    }
    prevGradMax = gradMax;
    gPrev.set(g);
    const step = solveSpd(H, g, m);
    if (!step) break;
    // Descent direction is -step.
    let slope = 0;
    for (let j = 0; j < m; j++) slope -= g[j]! * step[j]!;
    for (let i = 0; i < n; i++) dEta[i] = -step[0]!;
    for (let j = 0; j < k; j++) {
      const s = -step[j + 1]!;
      if (s === 0) continue;
      const off = j * n;
      for (let i = 0; i < n; i++) dEta[i] += s * z[off + i]!;
    }
    let t = 1;
    let accepted = false;
    const betaTry = new Float64Array(k);
    // Once the predicted decrease is below what f can resolve in double precision, the Armijo test
    // is noise; the full Newton step is then taken (the iterate is deep in the quadratic region).
    const belowResolution = -slope < 1e-11 * (1 + Math.abs(f));
    for (let ls = 0; ls < 40; ls++) {
      for (let j = 0; j < k; j++) betaTry[j] = beta[j]! - t * step[j + 1]!;
      for (let i = 0; i < n; i++) etaTry[i] = eta[i]! + t * dEta[i]!;
      const fTry = objective(etaTry, y, w, C, betaTry);
      if (belowResolution || fTry <= f + 1e-4 * t * slope) {
        accepted = true;
        f = fTry;
        for (let j = 0; j < m; j++) sPrev[j] = -t * step[j]!;
        b -= t * step[0]!;
        beta.set(betaTry);
        eta.set(etaTry);
        break;
      }
      t *= 0.5;
    }
    iterations++;
    if (!accepted) {
      if (!builtNow) {
        // Retry with a fresh Hessian before giving up: a stale one can give a poor direction.
        haveH = false;
        prevGradMax = Infinity;
        continue;
      }
      break; // round-off floor: no representable decrease left
    }
  }
  return { coef: beta, intercept: b, iterations, converged, gradMax, objective: f, hessians };
}

/** B <- B + y y^T / (y^T s) - (B s)(B s)^T / (s^T B s), with y = g - gPrev; skipped unless y^T s > 0. */
function bfgsUpdate(B: Float64Array, m: number, s: Float64Array, g: Float64Array, gPrev: Float64Array): void {
  const yv = new Float64Array(m);
  for (let j = 0; j < m; j++) yv[j] = g[j]! - gPrev[j]!;
  const Bs = new Float64Array(m);
  let sBs = 0;
  let ys = 0;
  for (let i = 0; i < m; i++) {
    let acc = 0;
    const row = i * m;
    for (let j = 0; j < m; j++) acc += B[row + j]! * s[j]!;
    Bs[i] = acc;
    sBs += s[i]! * acc;
    ys += yv[i]! * s[i]!;
  }
  if (!(ys > 0) || !(sBs > 0)) return;
  for (let i = 0; i < m; i++) {
    const row = i * m;
    const a = yv[i]! / ys;
    const c = Bs[i]! / sBs;
    for (let j = 0; j < m; j++) B[row + j] += a * yv[j]! - c * Bs[j]!;
  }
}

function objective(eta: Float64Array, y: Uint8Array, w: Float64Array, C: number, beta: Float64Array): number {
  let loss = 0;
  for (let i = 0; i < eta.length; i++) {
    const e = eta[i]!;
    loss += w[i]! * (softplus(e) - (y[i] ? e : 0));
  }
  let reg = 0;
  for (let j = 0; j < beta.length; j++) reg += beta[j]! * beta[j]!;
  return C * loss + 0.5 * reg;
}

export function linearPredictor(z: Float64Array, n: number, k: number, beta: Float64Array, b: number, out: Float64Array): void {
  out.fill(b);
  for (let j = 0; j < k; j++) {
    const c = beta[j]!;
    if (c === 0) continue;
    const off = j * n;
    for (let i = 0; i < n; i++) out[i] += c * z[off + i]!;
  }
}

function dot(a: Float64Array, z: Float64Array, off: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i]! * z[off + i]!;
    s1 += a[i + 1]! * z[off + i + 1]!;
    s2 += a[i + 2]! * z[off + i + 2]!;
    s3 += a[i + 3]! * z[off + i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * z[off + i]!;
  return s0 + s1 + s2 + s3;
}

const BLOCK = 256;

/**
 * H = [1 Z]^T diag(d) [1 Z] + diag(0, 1, ..., 1), row-major (k+1)^2. Rows go in blocks whose
 * columns are first copied side by side (z) and weighted (u = d z), so the inner loop streams two
 * small contiguous buffers; a 4 x 2 register tile shares each load among several products (measured
 * 1.4x over a 2 x 2 tile here). Columns are padded to a multiple of 4 with zeros.
 */
export function weightedGram(z: Float64Array, n: number, k: number, d: Float64Array, H: Float64Array): void {
  const m = k + 1;
  const kp = (k + 3) & ~3;
  H.fill(0);
  const G = new Float64Array(kp * kp);
  const zb = new Float64Array(kp * BLOCK);
  const u = new Float64Array(kp * BLOCK);
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const len = Math.min(BLOCK, n - i0);
    let sd = 0;
    for (let i = 0; i < len; i++) sd += d[i0 + i]!;
    H[0] += sd;
    for (let j = 0; j < k; j++) {
      const zo = j * n + i0;
      const bo = j * BLOCK;
      let s = 0;
      for (let i = 0; i < len; i++) {
        const v = z[zo + i]!;
        const dv = d[i0 + i]! * v;
        zb[bo + i] = v;
        u[bo + i] = dv;
        s += dv;
      }
      H[j + 1] += s;
    }
    for (let j = 0; j < kp; j += 4) {
      const u0 = j * BLOCK;
      const u1 = u0 + BLOCK;
      const u2 = u1 + BLOCK;
      const u3 = u2 + BLOCK;
      for (let l = 0; l <= j + 2; l += 2) {
        const za = l * BLOCK;
        const zc = za + BLOCK;
        let a0 = 0;
        let a1 = 0;
        let b0 = 0;
        let b1 = 0;
        let c0 = 0;
        let c1 = 0;
        let e0 = 0;
        let e1 = 0;
        for (let i = 0; i < len; i++) {
          const x0 = zb[za + i]!;
          const x1 = zb[zc + i]!;
          const v0 = u[u0 + i]!;
          const v1 = u[u1 + i]!;
          const v2 = u[u2 + i]!;
          const v3 = u[u3 + i]!;
          a0 += v0 * x0;
          a1 += v0 * x1;
          b0 += v1 * x0;
          b1 += v1 * x1;
          c0 += v2 * x0;
          c1 += v2 * x1;
          e0 += v3 * x0;
          e1 += v3 * x1;
        }
        const r0 = j * kp + l;
        G[r0] += a0;
        G[r0 + 1] += a1;
        G[r0 + kp] += b0;
        G[r0 + kp + 1] += b1;
        G[r0 + 2 * kp] += c0;
        G[r0 + 2 * kp + 1] += c1;
        G[r0 + 3 * kp] += e0;
        G[r0 + 3 * kp + 1] += e1;
      }
    }
  }
  // Lower triangle of G into H (shifted by the intercept row/column), mirror, add the ridge.
  for (let j = 0; j < k; j++) {
    for (let l = 0; l <= j; l++) {
      const v = G[j * kp + l]!;
      H[(j + 1) * m + l + 1] = v;
      H[(l + 1) * m + j + 1] = v;
    }
    H[(j + 1) * m] = H[j + 1]!;
    H[(j + 1) * m + j + 1] += 1;
  }
}

