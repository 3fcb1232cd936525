/**
 * Names the geometry of the represented features, as in Elhage et al. (2022), section "Feature
 * dimensionality": features tile the hidden space in groups that are orthogonal to each other, and a
 * group of k features spanning r dimensions with every D_i = r/k is a regular shape.
 *
 * How it is read from W (features x hidden):
 *  1. Represented features: ||W_i|| >= REPRESENTED_NORM (the data live in [0, 1], so a represented
 *     feature's norm is near 1 and a dropped one's near 0).
 *  2. Groups: connected components of the graph linking represented features whose directions overlap,
 *     |cos(W_i, W_j)| > OVERLAP_COS.
 *  3. Rank r of a group: eigenvalues of sum_i W^_i W^_i^T above RANK_REL x the largest.
 *  4. Name by (k, r), and only when every member's D_i is within D_TOL of r/k (regular):
 *     (1,1) dedicated dimension, (2,1) antipodal pair, (3,2) triangle, (4,3) tetrahedron,
 *     (5,2) pentagon, (8,3) square antiprism. Anything else is reported as 'k in r dims'.
 */
import { featureMetrics } from './metrics.ts';

export const REPRESENTED_NORM = 0.5;
export const OVERLAP_COS = 0.1;
export const RANK_REL = 0.1;
export const D_TOL = 0.08;

const NAMES: Record<string, string> = {
  '1,1': 'dedicated',
  '2,1': 'antipodal pair',
  '3,2': 'triangle',
  '4,3': 'tetrahedron',
  '5,2': 'pentagon',
  '8,3': 'square antiprism',
};

export interface FeatureGroup {
  /** A named shape, or 'k in r dims' when the group is not one of the regular shapes. */
  shape: string;
  features: number[];
  dims: number;
  regular: boolean;
}

export function featureGeometry(W: number[][]): FeatureGroup[] {
  const n = W.length;
  const met = featureMetrics(W);
  const rep = Array.from({ length: n }, (_, i) => i).filter((i) => met.norms[i]! >= REPRESENTED_NORM);
  const unit = W.map((row, i) => row.map((v) => v / (met.norms[i]! || 1)));
  const seen = new Set<number>();
  const groups: FeatureGroup[] = [];
  for (const start of rep) {
    if (seen.has(start)) continue;
    const members: number[] = [];
    const stack = [start];
    seen.add(start);
    while (stack.length) {
      const i = stack.pop()!;
      members.push(i);
      for (const j of rep) {
        if (seen.has(j)) continue;
        if (Math.abs(dot(unit[i]!, unit[j]!)) > OVERLAP_COS) {
          seen.add(j);
          stack.push(j);
        }
      }
    }
    members.sort((a, b) => a - b);
    const dims = rankOf(members.map((i) => unit[i]!));
    const k = members.length;
    const regular = members.every((i) => Math.abs(met.dimensionality[i]! - dims / k) <= D_TOL);
    const name = NAMES[`${k},${dims}`];
    groups.push({ shape: name && regular ? name : `${k} in ${dims} dims`, features: members, dims, regular });
  }
  return groups;
}

/** One line for tables: shapes with their counts, largest groups first, e.g. 'pentagon' or '2x dedicated'. */
export function geometrySummary(groups: FeatureGroup[]): string {
  if (groups.length === 0) return 'none';
  const counts = new Map<string, { count: number; size: number }>();
  for (const g of groups) {
    const c = counts.get(g.shape) ?? { count: 0, size: g.features.length };
    c.count++;
    counts.set(g.shape, c);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1].size - a[1].size || b[1].count - a[1].count)
    .map(([s, c]) => (c.count > 1 ? `${c.count}x ${s}` : s))
    .join(' + ');
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
}

function rankOf(vectors: number[][]): number {
  const m = vectors[0]!.length;
  const M: number[][] = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  for (const v of vectors) for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) M[a]![b] += v[a]! * v[b]!;
  const ev = symmetricEigenvalues(M);
  const top = Math.max(...ev);
  return ev.filter((e) => e > RANK_REL * top).length;
}

/** Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations. */
export function symmetricEigenvalues(input: number[][]): number[] {
  const n = input.length;
  const A = input.map((r) => [...r]);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p]![q]! * A[p]![q]!;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p]![q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q]![q]! - A[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k]![p]!;
          const akq = A[k]![q]!;
          A[k]![p] = c * akp - s * akq;
          A[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p]![k]!;
          const aqk = A[q]![k]!;
          A[p]![k] = c * apk - s * aqk;
          A[q]![k] = s * apk + c * aqk;
        }
      }
    }
  }
  return A.map((r, i) => r[i]!);
}
