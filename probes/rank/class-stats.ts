/**
 * Per-neuron class sums, row-major (the store is row-major, so summing rows into accumulators streams
 * memory): the column totals once per activation array, then per label only its positive rows.
 * Double accumulators; a non-finite sum means a NaN or infinity in that column, reported with its row.
 */
import type { Matrix } from '../types.ts';
import { throwNonFinite } from '../fit/validate.ts';
import { cachedColumnMajor } from '../fit/gather.ts';

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
  const t = columnTotals(X, squares);
  const sumPos = new Float64Array(nCols);
  // Only the positive rows are read (5-30% of them for a typical feature); the negatives' sums are
  // the column totals minus the positives'. Two rows per pass over the accumulators, which halves
  // their loads and stores (the loop is bound by them, not by the adds).
  let nPos = 0;
  for (let i = 0; i < nRows; i++) nPos += y[i] ? 1 : 0;
  const rows = new Int32Array(nPos);
  for (let i = 0, q = 0; i < nRows; i++) if (y[i]) rows[q++] = i * nCols;
  let q = 0;
  for (; q + 1 < nPos; q += 2) {
    const a = rows[q]!;
    const b = rows[q + 1]!;
    for (let j = 0; j < nCols; j++) sumPos[j] += data[a + j]! + data[b + j]!;
  }
  if (q < nPos) {
    const a = rows[q]!;
    for (let j = 0; j < nCols; j++) sumPos[j] += data[a + j]!;
  }
  const sumNeg = new Float64Array(nCols);
  for (let j = 0; j < nCols; j++) sumNeg[j] = t.sum[j]! - sumPos[j]!;
  return { nPos, nNeg: nRows - nPos, sumPos, sumNeg, sumSq: t.sumSq };
}

interface Totals {
  nRows: number;
  nCols: number;
  sum: Float64Array;
  sumSq?: Float64Array;
}

/**
 * Column sums (and sums of squares) over all rows of X, computed once per activation array: a sweep
 * ranks every feature of a hook on the same training rows, so the full pass over them is shared and
 * each feature reads only its positive rows. Keyed by the array, so activations must not be modified
 * in place once ranked (the lab never does: a hook's rows are read from the store into a new array).
 * A non-finite total means a NaN or infinity in that column, reported with its row.
 */
const totalsCache = new WeakMap<Float32Array, Totals>();

function columnTotals(X: Matrix, squares: boolean): Totals {
  const { data, nRows, nCols } = X;
  const hit = totalsCache.get(data);
  if (hit && (hit.sumSq || !squares) && hit.nRows === nRows && hit.nCols === nCols) return hit;
  // The column-major copy's sums are these (same order, in double), made once for all worker threads.
  const cm = squares ? undefined : cachedColumnMajor(X);
  if (cm) {
    for (let j = 0; j < nCols; j++) if (!Number.isFinite(cm.sum[j]!)) throwNonFinite(X, j);
    return { nRows, nCols, sum: cm.sum };
  }
  const sum = new Float64Array(nCols);
  const sumSq = squares ? new Float64Array(nCols) : undefined;
  for (let i = 0; i < nRows; i++) {
    const base = i * nCols;
    for (let j = 0; j < nCols; j++) sum[j] += data[base + j]!;
    if (sumSq) {
      for (let j = 0; j < nCols; j++) {
        const v = data[base + j]!;
        sumSq[j] += v * v;
      }
    }
  }
  for (let j = 0; j < nCols; j++) {
    if (!Number.isFinite(sum[j]!) || (sumSq && !Number.isFinite(sumSq[j]!))) throwNonFinite(X, j);
  }
  const t = { nRows, nCols, sum, sumSq };
  totalsCache.set(data, t);
  return t;
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
