/**
 * Column gathering: probes read a few of thousands of neurons, so the chosen columns are copied once
 * from the row-major store into one column-major block (column j at [j*n, (j+1)*n)). Every Newton step
 * then streams contiguous memory. The block stays Float32, exactly the stored activations, which halves
 * the memory traffic of the passes over it (they are bandwidth-bound); all sums are in double.
 */
import type { Matrix } from '../types.ts';
import { throwNonFinite } from './validate.ts';

export interface Columns {
  /** Column-major, k columns of n rows. */
  z: Float32Array;
  n: number;
  k: number;
  neurons: number[];
}

export function gatherColumns(X: Matrix, neurons: readonly number[], what = 'activations', into?: Float32Array): Columns {
  const n = X.nRows;
  const k = neurons.length;
  const d = X.nCols;
  const z = into && into.length >= n * k ? into.subarray(0, n * k) : new Float32Array(n * k);
  const cm = cachedColumnMajor(X);
  if (cm) {
    // A contiguous copy per column from the hook's column-major copy (no pass over the rows); its
    // columns were checked for NaN and infinity once, when it was made.
    checkFiniteFlags(X, cm, neurons, what);
    for (let p = 0; p < k; p++) z.set(cm.cm.subarray(neurons[p]! * n, (neurons[p]! + 1) * n), p * n);
    return { z, n, k, neurons: [...neurons] };
  }
  const src = X.data;
  // Row-outer, and within a row in ascending column order, so each row is read front to back.
  const byCol = Array.from({ length: k }, (_, p) => p).sort((a, b) => neurons[a]! - neurons[b]!);
  const srcCol = Int32Array.from(byCol, (p) => neurons[p]!);
  const dstOff = Int32Array.from(byCol, (p) => p * n);
  for (let i = 0; i < n; i++) {
    const base = i * d;
    for (let q = 0; q < k; q++) z[dstOff[q]! + i] = src[base + srcCol[q]!]!;
  }
  for (let p = 0; p < k; p++) {
    if (!Number.isFinite(columnSum(z, p * n, n))) throwNonFinite(X, neurons[p]!, what);
  }
  return { z, n, k, neurons: [...neurons] };
}

/** The sum of z[off .. off + n) in double, in order (not finite iff a value is NaN or infinite, or it overflows). */
function columnSum(z: Float32Array, off: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += z[off + i]!;
  return s;
}

/** Throws (naming the neuron and row) if one of `neurons` of X holds a NaN or infinity, by cm's flags. */
export function checkFiniteFlags(X: Matrix, cm: ColumnMajor, neurons: readonly number[], what = 'activations'): void {
  for (let p = 0; p < neurons.length; p++) {
    if (!cm.finite[neurons[p]!]) throwNonFinite(X, neurons[p]!, what);
  }
}

/**
 * A column-major copy of a whole activation matrix (column j at [j * nRows, (j + 1) * nRows)), kept
 * beside the row-major one for as long as the row-major array lives. A sweep ranks, fits and scores every
 * feature of a hook on the same rows, and each feature reads up to 256 scattered columns of each row:
 * from row-major memory that touches nearly every cache line of the matrix (a full pass per feature, and
 * memory-bound, so a second thread gains little); from the copy it is a contiguous read of those columns.
 * Keyed by the row-major array (activations are never modified in place once probed, as for
 * rank/class-stats.ts's column totals).
 */
const columnMajorCache = new WeakMap<Float32Array, { nRows: number; nCols: number; c: ColumnMajor }>();

export interface ColumnMajor {
  /** Column j at [j * nRows, (j + 1) * nRows). */
  cm: Float32Array;
  /** 1 where column j holds no NaN or infinity (checked once, so gathers need not scan again). */
  finite: Uint8Array;
  /**
   * Column j's sum in double, rows in order: the same operations as rank/class-stats.ts's column totals,
   * which read it from here (each worker thread would otherwise make its own pass over the rows).
   */
  sum: Float64Array;
}

/** The copy registered for X (by withColumnMajor or registerColumnMajor), if any. */
export function cachedColumnMajor(X: Matrix): ColumnMajor | undefined {
  const hit = columnMajorCache.get(X.data);
  return hit && hit.nRows === X.nRows && hit.nCols === X.nCols ? hit.c : undefined;
}

/** Makes (or finds) X's column-major copy; in shared memory when worker threads will read it. */
export function withColumnMajor(X: Matrix, shared = false): ColumnMajor {
  const hit = cachedColumnMajor(X);
  if (hit && (!shared || hit.cm.buffer instanceof SharedArrayBuffer)) return hit;
  const c = emptyColumnMajor(X, shared);
  transposeColumns(X, c, 0, X.nCols);
  registerColumnMajor(X, c);
  return c;
}

/** Room for X's column-major copy (zeros; filled by transposeColumns). */
export function emptyColumnMajor(X: Matrix, shared = false): ColumnMajor {
  const bytes = X.nRows * X.nCols * 4;
  return {
    cm: new Float32Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes)),
    finite: new Uint8Array(shared ? new SharedArrayBuffer(X.nCols) : new ArrayBuffer(X.nCols)),
    sum: new Float64Array(shared ? new SharedArrayBuffer(X.nCols * 8) : new ArrayBuffer(X.nCols * 8)),
  };
}

/**
 * Columns j0 .. j1 of X into c (and their sums and NaN/infinity flags): worker threads each fill a range of the
 * same shared copy (probes/unit-pool.ts), which also spreads the first touch of its fresh pages.
 */
export function transposeColumns(X: Matrix, c: ColumnMajor, j0: number, j1: number): void {
  const { data, nRows: n, nCols: d } = X;
  const { cm, finite, sum } = c;
  // Blocks of rows that stay in cache while each column's run of them is written.
  const RB = 64;
  for (let i0 = 0; i0 < n; i0 += RB) {
    const end = Math.min(n, i0 + RB);
    for (let j = j0; j < j1; j++) {
      const o = j * n;
      for (let i = i0; i < end; i++) cm[o + i] = data[i * d + j]!;
    }
  }
  for (let j = j0; j < j1; j++) {
    sum[j] = columnSum(cm, j * n, n);
    // A sum of finite values is finite unless it overflows (then throwNonFinite says so).
    finite[j] = Number.isFinite(sum[j]!) ? 1 : 0;
  }
}

/** Registers a copy made elsewhere (a worker thread receives the main thread's with the hook). */
export function registerColumnMajor(X: Matrix, c: ColumnMajor): void {
  if (c.cm.length !== X.nRows * X.nCols || c.finite.length !== X.nCols || c.sum.length !== X.nCols) {
    throw new Error(`column-major copy has ${c.cm.length} values, ${c.finite.length} flags and ${c.sum.length} sums, the matrix ${X.nRows} x ${X.nCols}`);
  }
  columnMajorCache.set(X.data, { nRows: X.nRows, nCols: X.nCols, c });
}

/**
 * A block for a gather whose columns are not kept past the call that made them (fitProbes: the fits keep
 * only coefficients), reused from one call to the next. Fresh memory costs a page fault per 4 KiB on first
 * touch (measured here: a fresh 14 MB array filled in 11-17 ms, the same array refilled in 2 ms), which
 * at k = 256 was most of a gather; the block is held between sweeps (n x 256 float32 at most).
 */
const scratch: (Float32Array | undefined)[] = [];

/** Reused block `slot` (0: fitProbes' union of columns, 1: one fit's subset of it) of at least `values`. */
export function scratchBlock(values: number, slot = 0): Float32Array {
  const have = scratch[slot];
  if (have && have.length >= values) return have;
  return (scratch[slot] = new Float32Array(values));
}

/** A view on a subset of an already gathered block (no copy when the subset is a prefix; else into `into` if given and large enough). */
export function subColumns(cols: Columns, positions: readonly number[], into?: Float32Array): Columns {
  const { n } = cols;
  const k = positions.length;
  let prefix = true;
  for (let j = 0; j < k; j++) if (positions[j] !== j) prefix = false;
  const neurons = positions.map((p) => cols.neurons[p]!);
  if (prefix) return { z: cols.z.subarray(0, n * k), n, k, neurons };
  const z = into && into.length >= n * k ? into.subarray(0, n * k) : new Float32Array(n * k);
  for (let j = 0; j < k; j++) z.set(cols.z.subarray(positions[j]! * n, (positions[j]! + 1) * n), j * n);
  return { z, n, k, neurons };
}
