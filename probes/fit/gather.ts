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

export function gatherColumns(X: Matrix, neurons: readonly number[], what = 'activations'): Columns {
  const n = X.nRows;
  const k = neurons.length;
  const d = X.nCols;
  const src = X.data;
  const z = new Float32Array(n * k);
  // Row-outer, and within a row in ascending column order, so each row is read front to back.
  const byCol = Array.from({ length: k }, (_, p) => p).sort((a, b) => neurons[a]! - neurons[b]!);
  const srcCol = Int32Array.from(byCol, (p) => neurons[p]!);
  const dstOff = Int32Array.from(byCol, (p) => p * n);
  for (let i = 0; i < n; i++) {
    const base = i * d;
    for (let q = 0; q < k; q++) z[dstOff[q]! + i] = src[base + srcCol[q]!]!;
  }
  for (let j = 0; j < k; j++) {
    let s = 0;
    const off = j * n;
    for (let i = 0; i < n; i++) s += z[off + i]!;
    if (!Number.isFinite(s)) throwNonFinite(X, neurons[j]!, what);
  }
  return { z, n, k, neurons: [...neurons] };
}

/** A view on a subset of an already gathered block (no copy when the subset is a prefix). */
export function subColumns(cols: Columns, positions: readonly number[]): Columns {
  const { n } = cols;
  const k = positions.length;
  let prefix = true;
  for (let j = 0; j < k; j++) if (positions[j] !== j) prefix = false;
  const neurons = positions.map((p) => cols.neurons[p]!);
  if (prefix) return { z: cols.z.subarray(0, n * k), n, k, neurons };
  const z = new Float32Array(n * k);
  for (let j = 0; j < k; j++) z.set(cols.z.subarray(positions[j]! * n, (positions[j]! + 1) * n), j * n);
  return { z, n, k, neurons };
}
