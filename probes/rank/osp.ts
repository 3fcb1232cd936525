/**
 * Optimal sparse probing (OSP): the k-subset of candidate neurons whose probe has the smallest
 * regularised training loss, found by a mixed-integer program solved with HiGHS (the `highs` wasm
 * build; the reference work used Gurobi) under a time limit, with the optimality gap reported.
 *
 * Formulation (Bertsimas, Pauphilet & Van Parys 2021, as the reference work's
 * sparse_classification_oa, with the logistic loss in place of its hinge loss, so that c(s) is the
 * objective our probe fitter already solves):
 *
 *   min_{s in {0,1}^N, sum s = k} c(s),  c(s) = min_{b,beta} sum_i w_i logloss_i + (1/(2 gamma)) sum_j beta_j^2 / s_j
 *
 * c is convex on [0,1]^N (a partial minimum of a jointly convex function) with gradient
 * dc/ds_j = -(gamma/2) g_j^2, g_j = sum_i w_i (p_i - y_i) x_ij at the probe fitted on s. Outer
 * approximation: a master MILP min t s.t. sum s = k, t >= c(s') + grad c(s') . (s - s') for every
 * evaluated s'. Each round solves the master (lower bound), evaluates c at its solution (upper bound
 * candidate) and adds that cut; the reference work adds the same cuts lazily inside Gurobi's
 * branch-and-bound, HiGHS has no lazy constraints, so the master is re-solved (a small MILP).
 * Cuts are valid for every k, so they are shared across the k grid.
 *
 * As in the reference work: candidates are the top ospTopN (50) neurons by mean difference,
 * activations are divided by 10 * max(std, 1e-3), class weights are n / (2 n_c), gamma = 1/sqrt(n),
 * and ks are solved from largest to smallest. gap = (best c - lower bound) / best c.
 */
import type loadHighsFn from 'highs';
import { UsageError } from '../../lab/core/index.ts';
import type { Matrix, RankResult } from '../types.ts';
import { gatherColumns, subColumns, type Columns } from '../fit/gather.ts';
import { classWeights, linearPredictor, newtonLogistic } from '../fit/newton.ts';
import { orderByScore } from './class-stats.ts';
import { chainKs, orderFromSupports } from './k-list.ts';
import { meanDifScores } from './mean-dif.ts';
import { defineRankMethod } from './registry.ts';

type Highs = Awaited<ReturnType<typeof loadHighsFn>>;
let highs: Highs | undefined;

/** Loads the HiGHS wasm module; rankNeurons('osp') needs it loaded first (it is asynchronous). */
export async function loadOspSolver(): Promise<void> {
  // Imported here, not at the top: the ranking registry is read by `lab probe --help`, which needs no solver.
  highs ??= await (await import('highs')).default();
}

export function ospSolverLoaded(): boolean {
  return highs !== undefined;
}

export interface OspOptions {
  topN: number;
  /** Largest k solved as a MIP; above it supportFor returns the mean-difference top k. */
  maxK: number;
  /** Seconds per k. */
  timeLimitS: number;
  /** Relative gap at which a k counts as solved. */
  gapTol?: number;
}

export interface OspSolution {
  neurons: number[];
  optimalityGap: number;
  objective: number;
  lowerBound: number;
  rounds: number;
  seconds: number;
}

interface Cut {
  /** c(s') + sum_j a_j s'_j, the cut's constant once the s terms move to the left. */
  rhs: number;
  /** (gamma/2) g_j^2 >= 0: the cut reads t + sum_j a_j s_j >= rhs. */
  a: Float64Array;
}

export function ospRanking(X: Matrix, y: Uint8Array, opts: OspOptions): RankResult & { solutions: Map<number, OspSolution> } {
  if (!highs) throw new UsageError("osp needs the HiGHS solver loaded: await loadOspSolver() (or prepareRanking(['osp'])) before rankNeurons('osp')", 'methods');
  const solver = highs;
  const md = meanDifScores(X, y);
  const mdOrder = orderByScore(md);
  const N = Math.min(opts.topN, X.nCols);
  const candidates = Array.from(mdOrder.subarray(0, N));
  const raw = gatherColumns(X, candidates);
  const n = raw.n;
  // Reference preprocessing: divide by 10 * max(std, 1e-3).
  const z = new Float32Array(raw.z);
  for (let c = 0; c < N; c++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = z[c * n + i]!;
      s += v;
      s2 += v * v;
    }
    const sd = Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2));
    const f = 1 / (10 * Math.max(sd, 1e-3));
    for (let i = 0; i < n; i++) z[c * n + i] *= f;
  }
  const cols: Columns = { z, n, k: N, neurons: candidates };
  const gamma = 1 / Math.sqrt(n);
  const w = classWeights(y, 'balanced');
  const gapTol = opts.gapTol ?? 1e-4;
  const cuts: Cut[] = [];
  const evaluated = new Map<string, { c: number; coef: Float64Array }>();
  const eta = new Float64Array(n);

  // c(s) and its cut, for a support given as candidate positions.
  const evaluate = (support: number[]): { c: number; coef: Float64Array } => {
    const key = [...support].sort((a, b) => a - b).join(',');
    const hit = evaluated.get(key);
    if (hit) return hit;
    const sub = subColumns(cols, support);
    const fit = newtonLogistic(sub, y, w, { C: gamma, maxIter: 100, tol: 1e-9 });
    const c = fit.objective / gamma;
    linearPredictor(sub.z, n, sub.k, fit.coef, fit.intercept, eta);
    const a = new Float64Array(N);
    let rhs = c;
    const inS = new Uint8Array(N);
    for (const p of support) inS[p] = 1;
    for (let j = 0; j < N; j++) {
      let g = 0;
      const off = j * n;
      for (let i = 0; i < n; i++) {
        const e = eta[i]!;
        const p = e >= 0 ? 1 / (1 + Math.exp(-e)) : Math.exp(e) / (1 + Math.exp(e));
        g += w[i]! * (p - y[i]!) * z[off + i]!;
      }
      a[j] = 0.5 * gamma * g * g;
      if (inS[j]) rhs += a[j]!;
    }
    cuts.push({ rhs, a });
    const out = { c, coef: fit.coef };
    evaluated.set(key, out);
    return out;
  };

  const master = (k: number, timeLimit: number): { support: number[]; bound: number } | null => {
    const lines = ['Minimize', ' obj: t', 'Subject To', ' card: ' + candidatesSum(N) + ` = ${k}`];
    cuts.forEach((cut, q) => {
      let row = ` cut${q}: t`;
      for (let j = 0; j < N; j++) if (cut.a[j]! > 0) row += ` + ${num(cut.a[j]!)} s${j}`;
      lines.push(row + ` >= ${num(cut.rhs)}`);
    });
    lines.push('Bounds', ' t >= 0', 'Binary', ' ' + Array.from({ length: N }, (_, j) => `s${j}`).join(' '), 'End');
    const res = solver.solve(lines.join('\n'), { output_flag: false, time_limit: Math.max(0.1, timeLimit), mip_rel_gap: 1e-9 });
    if (res.Status !== 'Optimal') return null;
    const support: number[] = [];
    for (let j = 0; j < N; j++) if ((res.Columns[`s${j}`] as { Primal: number }).Primal > 0.5) support.push(j);
    return { support, bound: res.ObjectiveValue };
  };

  const solutions = new Map<number, OspSolution>();
  const kMax = Math.min(opts.maxK, N);
  evaluate([]); // the empty-support cut: cheap and informative for every k
  let prevBest: { support: number[]; coef: Float64Array } | undefined;
  for (const k of chainKs(kMax)) {
    const start = performance.now();
    const deadline = start + opts.timeLimitS * 1000;
    // Incumbents: the mean-difference top k, and the previous (larger) solution minus its weakest neurons.
    const heuristics: number[][] = [Array.from({ length: k }, (_, p) => p)];
    if (prevBest) {
      const byCoef = prevBest.support.map((p, q) => ({ p, s: Math.abs(prevBest!.coef[q]!) })).sort((a, b) => b.s - a.s || a.p - b.p);
      heuristics.push(byCoef.slice(0, k).map((e) => e.p));
    }
    let best: { support: number[]; c: number; coef: Float64Array } = { support: heuristics[0]!, c: Infinity, coef: new Float64Array(0) };
    for (const h of heuristics) {
      const r = evaluate(h);
      if (r.c < best.c) best = { support: h, c: r.c, coef: r.coef };
    }
    let lower = 0;
    let rounds = 0;
    while (performance.now() < deadline) {
      const m = master(k, (deadline - performance.now()) / 1000);
      if (!m) break;
      rounds++;
      lower = Math.max(lower, m.bound);
      if (best.c - lower <= gapTol * Math.abs(best.c)) break;
      const r = evaluate(m.support);
      if (r.c < best.c) best = { support: m.support, c: r.c, coef: r.coef };
      if (best.c - lower <= gapTol * Math.abs(best.c)) break;
    }
    const gap = Math.max(0, (best.c - lower) / Math.abs(best.c));
    // Neurons of the support, strongest first.
    const ordered = best.support.map((p, q) => ({ p, s: Math.abs(best.coef[q] ?? 0) })).sort((a, b) => b.s - a.s || a.p - b.p);
    solutions.set(k, {
      neurons: ordered.map((e) => candidates[e.p]!),
      optimalityGap: gap,
      objective: best.c,
      lowerBound: lower,
      rounds,
      seconds: (performance.now() - start) / 1000,
    });
    prevBest = { support: best.support, coef: best.coef };
  }
  const supportFor = (k: number): { neurons: number[]; optimalityGap?: number } => {
    if (!Number.isInteger(k) || k < 1 || k > X.nCols) throw new UsageError(`osp: k = ${k} outside [1, ${X.nCols}]`, 'k');
    const s = solutions.get(k);
    if (s) return { neurons: [...s.neurons], optimalityGap: s.optimalityGap };
    return { neurons: Array.from(mdOrder.subarray(0, k)) };
  };
  const order = orderFromSupports((k) => supportFor(k).neurons, kMax, mdOrder);
  const scores = new Float64Array(X.nCols);
  order.forEach((j, pos) => (scores[j] = X.nCols - pos));
  return { order, scores, supportFor, solutions };
}

function candidatesSum(N: number): string {
  return Array.from({ length: N }, (_, j) => `s${j}`).join(' + ');
}

/** A number for LP text: plain, finite, enough digits. */
function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(15).replace(/\.?0+(e|$)/, '$1');
}

export const osp = defineRankMethod({
  name: 'osp',
  summary: 'optimal sparse probing: best k-subset by a MIP in HiGHS (a support per k; --time-limit per k, default 10 s)',
  prepare: loadOspSolver,
  rank: (X, y, ctx) => {
    const topN = ctx.ospTopN ?? 50;
    if (!Number.isInteger(topN) || topN < 1) throw new UsageError(`ospTopN must be a positive integer, got ${topN}`, 'ospTopN');
    const r = ospRanking(X, y, { topN, maxK: Math.min(ctx.ospMaxK ?? 8, ctx.maxK), timeLimitS: ctx.timeLimitS ?? 10 });
    return { order: r.order, scores: r.scores, supportFor: r.supportFor };
  },
});
