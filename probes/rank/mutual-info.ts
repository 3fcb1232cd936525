/**
 * Mutual information between each neuron and the label, estimated like sklearn's mutual_info_classif
 * for a continuous variable and a discrete one (Ross 2014, a Kraskov-style nearest-neighbour
 * estimator, 3 neighbours):
 *
 *   I = psi(N) + <psi(k)> - <psi(N_c)> - <psi(m_i)>
 *
 * where, for row i of class c, d_i is the distance to its k-th nearest neighbour among rows of class c
 * and m_i counts all rows (itself included) strictly closer than d_i. In one dimension both come from
 * sorted arrays: the k-th neighbour by walking outwards from the row's place in its class, m_i by two
 * binary searches per class. As sklearn does, each column is scaled to unit variance and jittered by
 * 1e-10 * max(1, mean |x|) seeded noise (uniform here, Gaussian there), which breaks the ties ReLU zeros
 * would create.
 * All digamma arguments are integers, so psi(m) = -gamma + H(m-1) from a harmonic table.
 */
import type { Matrix } from '../types.ts';
import { Rng } from '../../lab/core/index.ts';
import { throwNonFinite } from '../fit/validate.ts';
import { defineRankMethod, nestedRanking } from './registry.ts';

export function mutualInfoScores(X: Matrix, y: Uint8Array, opts: { neighbors?: number; seed?: number } = {}): Float64Array {
  const K = opts.neighbors ?? 3;
  const { data, nRows: n, nCols: d } = X;
  const rng = new Rng(opts.seed ?? 0);
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += y[i]!;
  const nNeg = n - nPos;
  // Harmonic numbers: psi(m) = H[m - 1] - euler_gamma.
  const H = new Float64Array(n + 1);
  for (let m = 1; m <= n; m++) H[m] = H[m - 1]! + 1 / m;
  const psi = (m: number) => H[m - 1]! - 0.5772156649015329;
  const kPos = Math.min(K, nPos - 1);
  const kNeg = Math.min(K, nNeg - 1);
  const col = new Float64Array(n);
  const pos = new Float64Array(nPos);
  const neg = new Float64Array(nNeg);
  const out = new Float64Array(d);
  // Columns are copied out in blocks so the row-major store is read a cache line at a time.
  const BLOCK = 32;
  const block = new Float64Array(BLOCK * n);
  for (let j = 0; j < d; j++) {
    const jb = j % BLOCK;
    if (jb === 0) {
      const width = Math.min(BLOCK, d - j);
      for (let i = 0; i < n; i++) {
        const base = i * d + j;
        for (let c = 0; c < width; c++) block[c * n + i] = data[base + c]!;
      }
    }
    let s = 0;
    let s2 = 0;
    let sAbs = 0;
    for (let i = 0; i < n; i++) {
      const v = block[jb * n + i]!;
      col[i] = v;
      s += v;
      s2 += v * v;
    }
    if (!Number.isFinite(s + s2)) throwNonFinite(X, j);
    const mean = s / n;
    const sd = Math.sqrt(Math.max(0, s2 / n - mean * mean));
    const scale = sd > 0 ? 1 / sd : 1;
    for (let i = 0; i < n; i++) sAbs += Math.abs(col[i]! * scale);
    const jitter = 1e-10 * Math.max(1, sAbs / n);
    let p = 0;
    let q = 0;
    for (let i = 0; i < n; i++) {
      const v = col[i]! * scale + jitter * (rng.next() - 0.5);
      if (y[i]) pos[p++] = v;
      else neg[q++] = v;
    }
    pos.sort();
    neg.sort();
    // Rows of a class with a single member are left out, as sklearn does.
    let used = 0;
    let sumPsiM = 0;
    let sumPsiK = 0;
    let sumPsiNc = 0;
    for (const [own, k, nc] of [
      [pos, kPos, nPos],
      [neg, kNeg, nNeg],
    ] as const) {
      if (nc < 2) continue;
      for (let a = 0; a < nc; a++) {
        const v = own[a]!;
        const r = kthNeighbourDistance(own, a, k);
        const m = countWithin(pos, v, r) + countWithin(neg, v, r);
        sumPsiM += psi(m);
        sumPsiK += psi(k);
        sumPsiNc += psi(nc);
        used++;
      }
    }
    const mi = used > 0 ? psi(used) + (sumPsiK - sumPsiNc - sumPsiM) / used : 0;
    out[j] = Math.max(0, mi);
  }
  return out;
}

function kthNeighbourDistance(a: Float64Array, at: number, k: number): number {
  let l = at - 1;
  let r = at + 1;
  const v = a[at]!;
  let dist = 0;
  for (let step = 0; step < k; step++) {
    const dl = l >= 0 ? v - a[l]! : Infinity;
    const dr = r < a.length ? a[r]! - v : Infinity;
    if (dl <= dr) {
      dist = dl;
      l--;
    } else {
      dist = dr;
      r++;
    }
  }
  return dist;
}

/** Rows of sorted `a` with |a_i - v| strictly below r (sklearn counts <= nextafter(r, 0)). */
function countWithin(a: Float64Array, v: number, r: number): number {
  return lowerBound(a, v + r) - upperBound(a, v - r);
}

/** First index with a[i] >= x. */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with a[i] > x. */
function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const mutualInfo = defineRankMethod({
  name: 'mi',
  summary: 'mutual information with the label (sklearn mutual_info_classif, 3 neighbours)',
  rank: (X, y, ctx) => nestedRanking(mutualInfoScores(X, y, { seed: ctx.seed })),
});
