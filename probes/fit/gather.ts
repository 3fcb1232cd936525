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
    // A contiguous copy per column from the hook's column-major copy (no pass over the rows).
    for (let p = 0; p < k; p++) z.set(cm.subarray(neurons[p]! * n, (neurons[p]! + 1) * n), p * n);
  } else {
    const src = X.data;
    // Row-outer, and within a row in ascending column order, so each row is read front to back.
    const byCol = Array.from({ length: k }, (_, p) => p).sort((a, b) => neurons[a]! - neurons[b]!);
    const srcCol = Int32Array.from(byCol, (p) => neurons[p]!);
    const dstOff = Int32Array.from(byCol, (p) => p * n);
    for (let i = 0; i < n; i++) {
      const base = i * d;
      for (let q = 0; q < k; q++) z[dstOff[q]! + i] = src[base + srcCol[q]!]!;
    }
  }
  checkFiniteColumns(X, z, Array.from({ length: k }, (_, p) => p), neurons, what);
  return { z, n, k, neurons: [...neurons] };
}

/** Throws (naming the neuron and row) if column positions[p] of the column-major z holds a NaN or infinity. */
export function checkFiniteColumns(X: Matrix, z: Float32Array, positions: readonly number[], neurons: readonly number[], what = 'activations'): void {
  const n = X.nRows;
  positions.forEach((c, p) => {
    let s = 0;
    const off = c * n;
    for (let i = 0; i < n; i++) s += z[off + i]!;
    if (!Number.isFinite(s)) throwNonFinite(X, neurons[p]!, what);
  });
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
const columnMajorCache = new WeakMap<Float32Array, { nRows: number; nCols: number; cm: Float32Array }>();

/** The copy registered for X (by withColumnMajor or registerColumnMajor), if any. */
export function cachedColumnMajor(X: Matrix): Float32Array | undefined {
  const hit = columnMajorCache.get(X.data);
  return hit && hit.nRows === X.nRows && hit.nCols === X.nCols ? hit.cm : undefined;
}

/** Makes (or finds) X's column-major copy; in shared memory when worker threads will read it. */
export function withColumnMajor(X: Matrix, shared = false): Float32Array {
  const hit = cachedColumnMajor(X);
  if (hit && (!shared || hit.buffer instanceof SharedArrayBuffer)) return hit;
  const { data, nRows: n, nCols: d } = X;
  const bytes = n * d * 4;
  const cm = new Float32Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  // Blocks of rows that stay in cache while each column's run of them is written.
  const RB = 64;
  for (let i0 = 0; i0 < n; i0 += RB) {
    const end = Math.min(n, i0 + RB);
    for (let j = 0; j < d; j++) {
      const o = j * n;
      for (let i = i0; i < end; i++) cm[o + i] = data[i * d + j]!;
    }
  }
  columnMajorCache.set(data, { nRows: n, nCols: d, cm });
  return cm;
}

/** Registers a copy made elsewhere (a worker thread receives the main thread's with the hook). */
export function registerColumnMajor(X: Matrix, cm: Float32Array): void {
  if (cm.length !== X.nRows * X.nCols) throw new Error(`column-major copy has ${cm.length} values, the matrix ${X.nRows} x ${X.nCols}`);
  columnMajorCache.set(X.data, { nRows: X.nRows, nCols: X.nCols, cm });
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
