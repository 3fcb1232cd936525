/**
 * Rank correlation with a bootstrap interval, as the capacity study reports it.
 *
 *  - averageRanks: 1-based ranks, ties sharing the mean of the ranks they span (scipy.stats.rankdata's
 *    'average', the ranking spearmanr uses).
 *  - spearman: Pearson's r of the two rank vectors (scipy.stats.spearmanr on 1-D input, ties included).
 *    NaN when fewer than 2 points or when either side is constant (scipy also returns nan there).
 *  - bootstrapSpearman: percentile bootstrap over the points (resample n of n with replacement, seeded),
 *    the 2.5th and 97.5th percentiles of the resampled rho with numpy's default linear interpolation.
 *    Resamples whose rho is undefined (a constant side) are left out and counted.
 */
import { Rng } from '../core/index.ts';

export function averageRanks(a: ArrayLike<number>): number[] {
  const n = a.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[x]! - a[y]!);
  const r = new Array<number>(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && a[idx[j + 1]!] === a[idx[i]!]) j++;
    // Positions i..j (0-based) hold ranks i+1..j+1; each gets their mean.
    for (let t = i; t <= j; t++) r[idx[t]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n < 2 || b.length !== n) return NaN;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma, db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (!(saa > 0 && sbb > 0)) return NaN;
  // Clamped: rounding can carry |r| a hair past 1 on perfectly ordered data.
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}

export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} x values, ${y.length} y values`);
  return pearson(averageRanks(x), averageRanks(y));
}

/** numpy.percentile's default ('linear'): sorted values, position q/100 * (n - 1), interpolated. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface RankCorrelation {
  /** Points used (pairs where both values are finite). */
  n: number;
  rho: number;
  /** 95% percentile bootstrap interval; NaN when rho is undefined. */
  lo: number;
  hi: number;
  reps: number;
  /** Resamples whose rho was undefined (a constant side), left out of the interval. */
  undefined_reps: number;
}

export interface BootstrapOptions {
  reps?: number;
  seed: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
}

export const BOOTSTRAP_REPS = 1000;

export function bootstrapSpearman(xIn: ArrayLike<number>, yIn: ArrayLike<number>, opts: BootstrapOptions): RankCorrelation {
  const x: number[] = [], y: number[] = [];
  for (let i = 0; i < xIn.length; i++) {
    if (Number.isFinite(xIn[i]) && Number.isFinite(yIn[i])) {
      x.push(xIn[i]!);
      y.push(yIn[i]!);
    }
  }
  const n = x.length;
  const reps = opts.reps ?? BOOTSTRAP_REPS;
  const rho = spearman(x, y);
  if (!Number.isFinite(rho)) return { n, rho, lo: NaN, hi: NaN, reps, undefined_reps: reps };
  const rng = new Rng(opts.seed);
  const xs = new Float64Array(n), ys = new Float64Array(n);
  const got: number[] = [];
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) {
      const k = rng.int(n);
      xs[i] = x[k]!;
      ys[i] = y[k]!;
    }
    const v = spearman(xs, ys);
    if (Number.isFinite(v)) got.push(v);
  }
  got.sort((a, b) => a - b);
  const tail = (1 - (opts.level ?? 0.95)) / 2 * 100;
  return { n, rho, lo: percentile(got, tail), hi: percentile(got, 100 - tail), reps, undefined_reps: reps - got.length };
}
