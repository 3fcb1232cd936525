/**
 * Per-neuron class sums in one row-major pass (the store is row-major, so summing rows into per-class
 * accumulators streams memory once). Double accumulators; a non-finite sum means a NaN or infinity in
 * that column, reported with its row.
 */
import type { Matrix } from '../types.ts';
import { throwNonFinite } from '../fit/validate.ts';

export interface ClassStats {
  nPos: number;
  nNeg: number;
  sumPos: Float64Array;
  sumNeg: Float64Array;
  /** Sums of squares over all rows (only when asked: f_stat needs them). */
  sumSq?: Float64Array;
}

export function classStats(X: Matrix, y: Uint8Array, squares = false): ClassStats {
  const { data, nRows, nCols } = X;
  const sumPos = new Float64Array(nCols);
  const sumNeg = new Float64Array(nCols);
  const sumSq = squares ? new Float64Array(nCols) : undefined;
  let nPos = 0;
  for (let i = 0; i < nRows; i++) {
    const base = i * nCols;
    const acc = y[i] ? sumPos : sumNeg;
    nPos += y[i]!;
    for (let j = 0; j < nCols; j++) acc[j] += data[base + j]!;
    if (sumSq) {
      for (let j = 0; j < nCols; j++) {
        const v = data[base + j]!;
        sumSq[j] += v * v;
      }
    }
  }
  for (let j = 0; j < nCols; j++) {
    if (!Number.isFinite(sumPos[j]! + sumNeg[j]!) || (sumSq && !Number.isFinite(sumSq[j]!))) throwNonFinite(X, j);
  }
  return { nPos, nNeg: nRows - nPos, sumPos, sumNeg, sumSq };
}

/** Indices sorted by score, best first; ties (and NaN, treated as -inf) by lower index. */
export function orderByScore(scores: Float64Array): Int32Array {
  const idx = new Int32Array(scores.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  const key = (i: number) => (Number.isNaN(scores[i]!) ? -Infinity : scores[i]!);
  return idx.sort((a, b) => {
    const d = key(b) - key(a);
    return d > 0 ? 1 : d < 0 ? -1 : a - b;
  });
}
