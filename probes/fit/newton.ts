/**
 * L2-regularised logistic regression with an unpenalised intercept and per-row weights, solved by
 * damped Newton (IRLS) to a gradient tolerance. The objective is scikit-learn's:
 *
 *   f(b, beta) = C * sum_i w_i * [log(1 + exp(eta_i)) - y_i * eta_i] + 0.5 * ||beta||^2,  eta = b + Z beta
 *
 * so with w = balanced class weights and C = 1 its minimiser is LogisticRegression(class_weight=
 * 'balanced', C=1)'s. k is at most a few hundred, so the (k+1)^2 Hessian and its Cholesky are cheap;
 * the cost is Z^T D Z (n k^2 / 2 multiply-adds), so one exact Hessian (inverted once) is followed by
 * BFGS updates of its inverse for as long as they keep halving the gradient (a quasi-Newton method
 * started from the true Hessian).
 */
import type { Columns } from './gather.ts';
import { objective, rowTerms, withRidge, type NewtonOptions, type NewtonResult } from './logistic-rows.ts';
export type { NewtonOptions, NewtonResult } from './logistic-rows.ts';
import { invertSpd } from './linalg.ts';
import { newtonCg } from './newton-cg.ts';
import { SimdColumns } from './simd-matvec.ts';

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
  // Newton-CG (newton-cg.ts) for every k wherever WebAssembly SIMD is available, before this path's
  // buffers are made (it keeps its own in the kernels' memory); the Hessian + BFGS path below runs
  // without it (and for `simd: false`, in tests). Measured per fit on the probe bench's data
  // (warm-started as in a sweep, under load 2.6): k = 1-7 took 21-33 ms each here against 8-15 ms on
  // Newton-CG; earlier, k = 256 140-190 ms against 259-295 ms for one SIMD Hessian + BFGS.
  const sc = opts.simd !== false ? SimdColumns.of(z, n, k) : null;
  if (sc) return newtonCg(sc, y, w, opts, beta, b);
  let eta = new Float64Array(n);
  let r = new Float64Array(n);
  let d = new Float64Array(n);
  const dEta = new Float64Array(n);
  let etaTry = new Float64Array(n);
  let rTry = new Float64Array(n);
  let dTry = new Float64Array(n);
  const g = new Float64Array(m);
  const gTry = new Float64Array(m);
  const H = new Float64Array(m * m);
  let Hinv: Float64Array = new Float64Array(0);
  const sPrev = new Float64Array(m);
  const gPrev = new Float64Array(m);

  linearPredictor(z, n, k, beta, b, eta);
  let f = objective(eta, y, w, C, beta);
  let iterations = 0;
  let hessians = 0;
  let converged = false;
  let gradMax = Infinity;
  let haveH = false;
  const history: number[] = [];
  // Set when the fused full-step pass already left the gradient at the current point in g.
  let gradReady = false;

  for (;;) {
    // Gradient (and the IRLS weights, kept for a fresh Hessian).
    if (!gradReady) for (let i = 0; i < n; i++) {
      const e = eta[i]!;
      const p = e >= 0 ? 1 / (1 + Math.exp(-e)) : Math.exp(e) / (1 + Math.exp(e));
      const cw = C * w[i]!;
      r[i] = cw * (p - y[i]!);
      d[i] = cw * p * (1 - p);
    }
    if (!gradReady) {
      let gb = 0;
      for (let i = 0; i < n; i++) gb += r[i]!;
      g[0] = gb;
      for (let j = 0; j < k; j++) g[j + 1] = dot(r, z, j * n, n) + beta[j]!;
    }
    gradReady = false;
    gradMax = 0;
    for (let j = 0; j < m; j++) gradMax = Math.max(gradMax, Math.abs(g[j]!));
    if (gradMax <= opts.tol) {
      converged = true;
      break;
    }
    if (iterations >= opts.maxIter) break;
    // The exact Hessian costs n k^2 / 2; after one, BFGS updates (O(k^2)) keep it current and
    // converge superlinearly. It is rebuilt when three quasi-Newton steps have not halved the gradient
    // between them (BFGS gradients are not monotone, so one slow step is no reason to pay for it), or
    // when, at the rate of the last two steps, BFGS would need more steps to reach tol than a Hessian
    // costs in steps (hessianSteps). The fixed rebuild after eight steps this replaced paid a k = 256
    // Hessian (and its inverse) to go from 1e-5 to 1e-13 where one more BFGS step reached 1e-6.
    // For small k a Hessian costs less than the iterations it saves (n k^2 / 2 against about
    // n (2k + 30) per iteration): plain Newton, rebuilt every step.
    const builtNow =
      !haveH || k <= 16 || (history.length >= 3 && gradMax > 0.5 * history[history.length - 3]!) ||
      (history.length >= 3 && bfgsStepsLeft(history, gradMax, opts.tol) > hessianSteps(k));
    if (builtNow) {
      weightedGram(z, n, k, d, H);
      hessians++;
      const inv = invertSpd(H, m);
      if (!inv) break;
      Hinv = inv;
      haveH = true;
    } else {
      inverseBfgsUpdate(Hinv, m, sPrev, g, gPrev);
    }
    if (builtNow) history.length = 0;
    history.push(gradMax);
    gPrev.set(g);
    const step = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let acc = 0;
      const row = i * m;
      for (let j = 0; j < m; j++) acc += Hinv[row + j]! * g[j]!;
      step[i] = acc;
    }
    // Descent direction is -step.
    let slope = 0;
    for (let j = 0; j < m; j++) slope -= g[j]! * step[j]!;
    const betaTry = new Float64Array(k);
    for (let j = 0; j < k; j++) betaTry[j] = beta[j]! - step[j + 1]!;
    // Once the predicted decrease is below what f can resolve in double precision, the Armijo test
    // is noise; the full Newton step is then taken (the iterate is deep in the quadratic region).
    const belowResolution = -slope < 1e-11 * (1 + Math.abs(f));
    // The full step, fused: one pass over Z (row block by row block, so each block is read twice
    // from cache) gives dEta, the objective and, in case the step is accepted, the next gradient.
    // The passes are memory-bound, so this is nearly twice as fast as separate passes.
    const fFull = fusedStep(z, n, k, y, w, C, step, betaTry, eta, dEta, etaTry, rTry, dTry, gTry);
    let t = 1;
    let accepted = false;
    if (belowResolution || fFull <= f + 1e-4 * slope) {
      accepted = true;
      f = fFull;
      for (let j = 0; j < m; j++) sPrev[j] = -step[j]!;
      b -= step[0]!;
      beta.set(betaTry);
      [eta, etaTry] = [etaTry, eta];
      [r, rTry] = [rTry, r];
      [d, dTry] = [dTry, d];
      g.set(gTry);
      gradReady = true;
    } else t = 0.5;
    for (let ls = 0; ls < 40 && !accepted; ls++) {
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
        continue;
      }
      break; // round-off floor: no representable decrease left
    }
  }
  return { coef: beta, intercept: b, iterations, converged, gradMax, objective: f, hessians };
}

/**
 * BFGS steps still needed to bring the gradient from gradMax to tol at the geometric-mean rate of the
 * last two steps (history ends with the gradient before the latest step); Infinity when not shrinking.
 */
function bfgsStepsLeft(history: number[], gradMax: number, tol: number): number {
  const rate = Math.sqrt(gradMax / history[history.length - 2]!);
  if (!(rate < 1)) return Infinity;
  return Math.log(tol / gradMax) / Math.log(rate);
}

/**
 * A Hessian's cost in BFGS steps: n k^2 / 2 single-precision products four to a SIMD lane group, and an
 * O(k^3) inverse, against a step's two double-precision products over Z (2 n k, two lanes) and its row
 * terms (an exp and a log per row, about 30 n); measured in the k = 128 and 256 fits of the probe bench.
 */
function hessianSteps(k: number): number {
  return (k * k) / 8 / (k + 30);
}


/**
 * The full step in one blocked pass: dEta = -(step_0 + Z step_1..k), etaTry = eta + dEta, and at
 * etaTry the residuals r, IRLS weights d, gradient g (with the ridge term of betaTry) and objective,
 * which it returns.
 */
function fusedStep(
  z: Float32Array,
  n: number,
  k: number,
  y: Uint8Array,
  w: Float64Array,
  C: number,
  step: Float64Array,
  betaTry: Float64Array,
  eta: Float64Array,
  dEta: Float64Array,
  etaTry: Float64Array,
  r: Float64Array,
  d: Float64Array,
  g: Float64Array,
): number {
  const RB = 512;
  g.fill(0);
  const acc = new Float64Array(2); // loss, gradient of the intercept
  for (let i0 = 0; i0 < n; i0 += RB) {
    const end = Math.min(n, i0 + RB);
    const s0 = -step[0]!;
    for (let i = i0; i < end; i++) dEta[i] = s0;
    for (let j = 0; j < k; j++) {
      const s = -step[j + 1]!;
      if (s === 0) continue;
      const off = j * n;
      for (let i = i0; i < end; i++) dEta[i] += s * z[off + i]!;
    }
    rowTerms(i0, end, y, w, C, eta, dEta, etaTry, r, d, acc);
    for (let j = 0; j < k; j++) {
      const off = j * n;
      let acc = 0;
      for (let i = i0; i < end; i++) acc += r[i]! * z[off + i]!;
      g[j + 1] += acc;
    }
  }
  g[0] = acc[1]!;
  return withRidge(g, betaTry, k, C, acc[0]!);
}

/**
 * BFGS update of the inverse Hessian estimate, with y = g - gPrev and rho = 1 / (y^T s):
 * Hi <- Hi - rho (s (Hi y)^T + (Hi y) s^T) + (rho^2 y^T Hi y + rho) s s^T. O(m^2); skipped unless
 * y^T s > 0 (always true for a strictly convex objective, barring round-off).
 */
function inverseBfgsUpdate(Hi: Float64Array, m: number, s: Float64Array, g: Float64Array, gPrev: Float64Array): void {
  const yv = new Float64Array(m);
  let ys = 0;
  for (let j = 0; j < m; j++) {
    yv[j] = g[j]! - gPrev[j]!;
    ys += yv[j]! * s[j]!;
  }
  if (!(ys > 0)) return;
  const rho = 1 / ys;
  const hy = new Float64Array(m);
  let yhy = 0;
  for (let i = 0; i < m; i++) {
    let acc = 0;
    const row = i * m;
    for (let j = 0; j < m; j++) acc += Hi[row + j]! * yv[j]!;
    hy[i] = acc;
    yhy += yv[i]! * acc;
  }
  const c = rho * rho * yhy + rho;
  for (let i = 0; i < m; i++) {
    const row = i * m;
    const si = s[i]!;
    const hi = hy[i]!;
    for (let j = 0; j < m; j++) Hi[row + j] += -rho * (si * hy[j]! + hi * s[j]!) + c * si * s[j]!;
  }
}

export function linearPredictor(z: Float32Array, n: number, k: number, beta: Float64Array, b: number, out: Float64Array): void {
  out.fill(b);
  for (let j = 0; j < k; j++) {
    const c = beta[j]!;
    if (c === 0) continue;
    const off = j * n;
    for (let i = 0; i < n; i++) out[i] += c * z[off + i]!;
  }
}

function dot(a: Float64Array, z: Float32Array, off: number, n: number): number {
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
 * small contiguous buffers; a 4 x 4 register tile shares each load among four products (measured
 * 1.6x over a 2 x 2 tile here). Columns are padded to a multiple of 4 with zeros.
 */
export function weightedGram(z: Float32Array, n: number, k: number, d: Float64Array, H: Float64Array): void {
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
      for (let l = 0; l <= j; l += 4) {
        const z0 = l * BLOCK;
        const z1 = z0 + BLOCK;
        const z2 = z1 + BLOCK;
        const z3 = z2 + BLOCK;
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0; // prettier-ignore
        let c0 = 0, c1 = 0, c2 = 0, c3 = 0, e0 = 0, e1 = 0, e2 = 0, e3 = 0; // prettier-ignore
        for (let i = 0; i < len; i++) {
          const x0 = zb[z0 + i]!;
          const x1 = zb[z1 + i]!;
          const x2 = zb[z2 + i]!;
          const x3 = zb[z3 + i]!;
          let v = u[u0 + i]!;
          a0 += v * x0;
          a1 += v * x1;
          a2 += v * x2;
          a3 += v * x3;
          v = u[u1 + i]!;
          b0 += v * x0;
          b1 += v * x1;
          b2 += v * x2;
          b3 += v * x3;
          v = u[u2 + i]!;
          c0 += v * x0;
          c1 += v * x1;
          c2 += v * x2;
          c3 += v * x3;
          v = u[u3 + i]!;
          e0 += v * x0;
          e1 += v * x1;
          e2 += v * x2;
          e3 += v * x3;
        }
        const r = j * kp + l;
        G[r] += a0;
        G[r + 1] += a1;
        G[r + 2] += a2;
        G[r + 3] += a3;
        G[r + kp] += b0;
        G[r + kp + 1] += b1;
        G[r + kp + 2] += b2;
        G[r + kp + 3] += b3;
        G[r + 2 * kp] += c0;
        G[r + 2 * kp + 1] += c1;
        G[r + 2 * kp + 2] += c2;
        G[r + 2 * kp + 3] += c3;
        G[r + 3 * kp] += e0;
        G[r + 3 * kp + 1] += e1;
        G[r + 3 * kp + 2] += e2;
        G[r + 3 * kp + 3] += e3;
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

