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

/** The four state words of lab/core/rng.ts's xoshiro128** (fields of Rng; see sampleInto and dense.ts sampleX). */
export interface XoshiroState {
  s0: number;
  s1: number;
  s2: number;
  s3: number;
}

/** Whether `rng` keeps xoshiro128**'s state in the fields the inlined samplers read. */
export function xoshiroState(rng: Rng): XoshiroState | undefined {
  const st = rng as unknown as Partial<XoshiroState>;
  return typeof st.s0 === 'number' && typeof st.s1 === 'number' && typeof st.s2 === 'number' && typeof st.s3 === 'number' ? (st as XoshiroState) : undefined;
}

/**
 * Draws a batch into `b`. For small p it jumps between active features with geometric gaps
 * (one random number per active feature) instead of testing all n.
 *
 * Drawing was half of a sparse toy step once the gram row loop moved into wasm (issue 16), most of it
 * Rng.next()'s reads and writes of its four state fields; like dense.ts's sampleX this runs Rng's
 * xoshiro128** on local copies of the state and stores them back: the same numbers in the same order
 * (data.test.ts checks it against sampleWithRng), about 2x faster here.
 */
export function sampleInto(b: SparseBatch, p: number, symmetric: boolean, rng: Rng): void {
  const st = xoshiroState(rng);
  if (!st || p <= 0 || p >= 0.25) return sampleWithRng(b, p, symmetric, rng);
  const { rows, n } = b;
  let nnz = 0;
  const logq = Math.log1p(-p);
  let s0 = st.s0 | 0;
  let s1 = st.s1 | 0;
  let s2 = st.s2 | 0;
  let s3 = st.s3 | 0;
  let x = 0;
  let t = 0;
  let u = 0;
  let idx = b.idx;
  let val = b.val;
  const rowPtr = b.rowPtr;
  for (let r = 0; r < rows; r++) {
    rowPtr[r] = nnz;
    if (nnz + n > idx.length) {
      grow(b, nnz + n);
      idx = b.idx;
      val = b.val;
    }
    let j = -1;
    for (;;) {
      do {
        x = Math.imul(s1, 5); u = (Math.imul((x << 7) | (x >>> 25), 9) >>> 0) / 4294967296; // Rng.next()
        t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      } while (u === 0);
      j += 1 + Math.floor(Math.log(u) / logq);
      if (j >= n) break;
      x = Math.imul(s1, 5); u = (Math.imul((x << 7) | (x >>> 25), 9) >>> 0) / 4294967296; // Rng.next()
      t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      idx[nnz] = j;
      val[nnz++] = symmetric ? 2 * u - 1 : u;
    }
  }
  rowPtr[rows] = nnz;
  st.s0 = s0;
  st.s1 = s1;
  st.s2 = s2;
  st.s3 = s3;
}

/** sampleInto through Rng's methods: the reference the inlined sampler matches, and every p >= 0.25. */
export function sampleWithRng(b: SparseBatch, p: number, symmetric: boolean, rng: Rng): void {
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
