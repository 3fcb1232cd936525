/**
 * Synthetic toy data. Each feature is active with probability p, and an active feature is uniform on
 * [0, 1] ([-1, 1] for the abs model). At p = 0.05 about 95% of x is zero, so batches are drawn and
 * stored sparsely (CSR): only the active features cost random numbers and arithmetic.
 */
import type { Rng } from '../../lab/core/index.ts';

/** A batch in compressed sparse rows: row r's active features are idx[rowPtr[r] .. rowPtr[r+1]). */
export interface SparseBatch {
  rows: number;
  n: number;
  rowPtr: Int32Array;
  idx: Int32Array;
  val: Float32Array;
}

export function allocBatch(rows: number, n: number, p: number): SparseBatch {
  // Room for the expected count plus a wide margin; sampleInto grows it on the rare overflow.
  const cap = Math.min(rows * n, Math.ceil(rows * n * p + 8 * Math.sqrt(rows * n * p + 1) + 64));
  return { rows, n, rowPtr: new Int32Array(rows + 1), idx: new Int32Array(cap), val: new Float32Array(cap) };
}

/**
 * Draws a batch into `b`. For small p it jumps between active features with geometric gaps
 * (one random number per active feature) instead of testing all n.
 */
export function sampleInto(b: SparseBatch, p: number, symmetric: boolean, rng: Rng): void {
  const { rows, n } = b;
  let nnz = 0;
  const skip = p > 0 && p < 0.25;
  const logq = skip ? Math.log1p(-p) : 0;
  for (let r = 0; r < rows; r++) {
    b.rowPtr[r] = nnz;
    if (p <= 0) continue;
    if (nnz + n > b.idx.length) grow(b, nnz + n);
    if (skip) {
      let j = -1;
      for (;;) {
        let u = rng.next();
        while (u === 0) u = rng.next();
        j += 1 + Math.floor(Math.log(u) / logq);
        if (j >= n) break;
        b.idx[nnz] = j;
        b.val[nnz++] = symmetric ? 2 * rng.next() - 1 : rng.next();
      }
    } else {
      for (let j = 0; j < n; j++) {
        if (p >= 1 || rng.next() < p) {
          b.idx[nnz] = j;
          b.val[nnz++] = symmetric ? 2 * rng.next() - 1 : rng.next();
        }
      }
    }
  }
  b.rowPtr[rows] = nnz;
}

function grow(b: SparseBatch, need: number): void {
  const cap = Math.min(b.rows * b.n, Math.max(need, b.idx.length * 2));
  const idx = new Int32Array(cap);
  idx.set(b.idx);
  const val = new Float32Array(cap);
  val.set(b.val);
  b.idx = idx;
  b.val = val;
}

/** Dense [rows x n] copy of a sparse batch, and the 0/1 mask of active features. */
export function densify(b: SparseBatch): { x: Float32Array; active: Uint8Array } {
  const x = new Float32Array(b.rows * b.n);
  const active = new Uint8Array(b.rows * b.n);
  for (let r = 0; r < b.rows; r++) {
    for (let e = b.rowPtr[r]!; e < b.rowPtr[r + 1]!; e++) {
      x[r * b.n + b.idx[e]!] = b.val[e]!;
      active[r * b.n + b.idx[e]!] = 1;
    }
  }
  return { x, active };
}

/** Sparse copy of a dense [rows x n] batch (for tests and for callers holding dense x). */
export function sparsify(x: Float32Array, rows: number, n: number): SparseBatch {
  const b = allocBatch(rows, n, 1);
  let nnz = 0;
  for (let r = 0; r < rows; r++) {
    b.rowPtr[r] = nnz;
    for (let j = 0; j < n; j++) {
      const v = x[r * n + j]!;
      if (v !== 0) {
        b.idx[nnz] = j;
        b.val[nnz++] = v;
      }
    }
  }
  b.rowPtr[rows] = nnz;
  return b;
}
