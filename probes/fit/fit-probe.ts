/**
 * Probe fitting: the public fitProbe / fitProbes / predictScores. Newton (default) solves sklearn's
 * LogisticRegression(class_weight='balanced', C=1) objective to a gradient tolerance; 'ml' is the slow
 * ml-logistic-regression reference (see ml-fitter.ts for what it does differently).
 */
import { UsageError } from '../../lab/core/index.ts';
import type { FitOptions, Matrix, ProbeFit } from '../types.ts';
import { cachedColumnMajor, checkFiniteFlags, gatherColumns, scratchBlock, subColumns, type Columns } from './gather.ts';
import { fitMl } from './ml-fitter.ts';
import { classWeights, linearPredictor, newtonLogistic } from './newton.ts';
import { checkNeurons, checkXy } from './validate.ts';

export interface ResolvedFitOptions {
  C: number;
  classWeight: 'balanced' | 'none';
  fitter: 'newton' | 'ml';
  maxIter: number;
  tol: number;
}

export function resolveFitOptions(opts: FitOptions = {}): ResolvedFitOptions {
  const C = opts.C ?? 1;
  if (!(C > 0) || !Number.isFinite(C)) throw new UsageError(`C must be a positive number, got ${C}`, 'C');
  const fitter = opts.fitter ?? 'newton';
  if (fitter !== 'newton' && fitter !== 'ml') throw new UsageError(`fitter must be newton or ml, got ${String(fitter)}`, 'fitter');
  const classWeight = opts.classWeight ?? 'balanced';
  if (classWeight !== 'balanced' && classWeight !== 'none') {
    throw new UsageError(`classWeight must be balanced or none, got ${String(classWeight)}`, 'classWeight');
  }
  return {
    C,
    classWeight,
    fitter,
    maxIter: opts.maxIter ?? (fitter === 'ml' ? 2000 : 100),
    tol: opts.tol ?? 1e-8,
  };
}

/** One probe on the given neurons. */
export function fitProbe(X: Matrix, y: Uint8Array, neurons: number[], opts: FitOptions = {}): ProbeFit {
  return fitProbes(X, y, [neurons], opts)[0]!;
}

/**
 * Several probes on one (X, y): the union of the supports is gathered once, and each fit starts from
 * the previous one's coefficients on the neurons they share (k-1 -> k in a nested sweep), which cuts
 * Newton to a few steps. Supports are fitted in the order given.
 */
export function fitProbes(X: Matrix, y: Uint8Array, supports: number[][], opts: FitOptions = {}): ProbeFit[] {
  const o = resolveFitOptions(opts);
  checkXy(X, y);
  if (supports.length === 0) return [];
  const union: number[] = [];
  const at = new Map<number, number>();
  for (const s of supports) {
    checkNeurons(s, X.nCols);
    for (const j of s) {
      if (!at.has(j)) {
        at.set(j, union.length);
        union.push(j);
      }
    }
  }
  // The block lives only for this call (the fits keep coefficients): a reused one, not fresh memory.
  const all = gatherColumns(X, union, 'activations', scratchBlock(X.nRows * union.length));
  const w = classWeights(y, o.classWeight);
  const fits: ProbeFit[] = [];
  let prev: ProbeFit | undefined;
  for (const s of supports) {
    const cols = subColumns(all, s.map((j) => at.get(j)!), scratchBlock(X.nRows * s.length, 1));
    const fit = fitGathered(cols, y, w, o, prev);
    fits.push(fit);
    prev = fit;
  }
  return fits;
}

/** Fits on already gathered columns; `warm` seeds coefficients of shared neurons. */
export function fitGathered(cols: Columns, y: Uint8Array, w: Float64Array, o: ResolvedFitOptions, warm?: ProbeFit): ProbeFit {
  if (cols.k === 0) {
    // Intercept-only probe: the weighted log-odds.
    let sp = 0;
    let sw = 0;
    for (let i = 0; i < cols.n; i++) {
      sw += w[i]!;
      if (y[i]) sp += w[i]!;
    }
    return { neurons: [], coef: new Float64Array(0), intercept: Math.log(sp / (sw - sp)), iterations: 0, converged: true };
  }
  if (o.fitter === 'ml') {
    const r = fitMl(cols, y, o.maxIter, o.classWeight === 'balanced');
    return { neurons: cols.neurons, coef: r.coef, intercept: r.intercept, iterations: r.iterations, converged: true };
  }
  let init: { coef: Float64Array; intercept: number } | undefined;
  if (warm && warm.neurons.length > 0) {
    const pos = new Map(warm.neurons.map((j, p) => [j, p] as const));
    const coef = new Float64Array(cols.k);
    let shared = 0;
    cols.neurons.forEach((j, p) => {
      const q = pos.get(j);
      if (q !== undefined) {
        coef[p] = warm.coef[q]!;
        shared++;
      }
    });
    if (shared > 0) init = { coef, intercept: warm.intercept };
  }
  // tol is on scikit-learn's scale (the objective divided by C sum(w)); Newton's is absolute.
  let sw = 0;
  for (let i = 0; i < cols.n; i++) sw += w[i]!;
  const r = newtonLogistic(cols, y, w, { C: o.C, maxIter: o.maxIter, tol: o.tol * o.C * sw }, init);
  return { neurons: cols.neurons, coef: r.coef, intercept: r.intercept, iterations: r.iterations, converged: r.converged };
}

/** P(y = 1) for every row of X under a fitted probe. */
export function predictScores(X: Matrix, fit: ProbeFit): Float64Array {
  const eta = decisionFunction(X, fit);
  for (let i = 0; i < eta.length; i++) {
    const e = eta[i]!;
    eta[i] = e >= 0 ? 1 / (1 + Math.exp(-e)) : Math.exp(e) / (1 + Math.exp(e));
  }
  return eta;
}

/**
 * predictScores for several fits on the same rows: read in place from X's column-major copy where the
 * sweep made one (probes/fit/gather.ts), else the union of their neurons gathered from the row-major X
 * once (a gather per fit read most of X's cache lines each time: the k = 128 and 256 fits alone touch
 * nearly every line of every row). Each fit's sum runs in its own neuron order, four columns per pass
 * over its scores, in double: the scores equal predictScores' to rounding (not bit for bit).
 */
export function predictScoresMany(X: Matrix, fits: readonly ProbeFit[]): Float64Array[] {
  const union: number[] = [];
  const at = new Map<number, number>();
  for (const fit of fits) {
    checkNeurons(fit.neurons, X.nCols, 'fit.neurons');
    for (const j of fit.neurons) {
      if (!at.has(j)) {
        at.set(j, union.length);
        union.push(j);
      }
    }
  }
  // With a column-major copy of X its columns are read in place; else the union is gathered once.
  const cm = cachedColumnMajor(X);
  if (cm) checkFiniteFlags(X, cm, union);
  const z = cm ? cm.cm : gatherColumns(X, union).z;
  const n = X.nRows;
  return fits.map((fit) => {
    const out = new Float64Array(n).fill(fit.intercept);
    const { neurons, coef } = fit;
    const col = (p: number) => (cm ? neurons[p]! : at.get(neurons[p]!)!) * n;
    // Four columns per pass over out (the loop is bound by out's loads and stores, not the products).
    let p = 0;
    for (; p + 3 < neurons.length; p += 4) {
      const [c0, c1, c2, c3] = [coef[p]!, coef[p + 1]!, coef[p + 2]!, coef[p + 3]!];
      const [o0, o1, o2, o3] = [col(p), col(p + 1), col(p + 2), col(p + 3)];
      for (let i = 0; i < n; i++) out[i] += c0 * z[o0 + i]! + c1 * z[o1 + i]! + (c2 * z[o2 + i]! + c3 * z[o3 + i]!);
    }
    for (; p < neurons.length; p++) {
      const c = coef[p]!;
      const off = col(p);
      for (let i = 0; i < n; i++) out[i] += c * z[off + i]!;
    }
    for (let i = 0; i < n; i++) {
      const e = out[i]!;
      out[i] = e >= 0 ? 1 / (1 + Math.exp(-e)) : Math.exp(e) / (1 + Math.exp(e));
    }
    return out;
  });
}

/** b + x . coef for every row (sklearn's decision_function). */
export function decisionFunction(X: Matrix, fit: ProbeFit): Float64Array {
  checkNeurons(fit.neurons, X.nCols, 'fit.neurons');
  const cols = gatherColumns(X, fit.neurons);
  const out = new Float64Array(X.nRows);
  linearPredictor(cols.z, cols.n, cols.k, fit.coef, fit.intercept, out);
  return out;
}
