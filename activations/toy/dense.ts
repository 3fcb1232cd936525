/**
 * The dense path for linear / relu-out: the batch as GEMMs in WebAssembly SIMD (gemm.ts), n x m work
 * per row where the gram path does (active features) x n. Everything is stored batch-minor (one row
 * per feature or hidden unit, B_p = batch padded to 8 floats), so every product streams along the batch:
 *   H   [m x B] = W^T X            (nn, A = W read k-major)
 *   P   [n x B] = W H               (nn, A = W^T)
 *   G   [n x B] = dL/dP, row by row (lossrow; bias added there)
 *   dH  [m x B] = W^T G             (nn)
 *   dW  [n x m] = G H^T + X dH^T    (dot, one product: rows of GX = [G | X] against rows of HD = [H | dH])
 */
import type { Rng } from '../../lab/core/index.ts';
import { allocBatch, sampleInto, type SparseBatch } from './data.ts';
import { GemmArena, NN_COLS, padTo } from './gemm.ts';
import type { ModelSpec } from './layout.ts';

export interface DenseWork {
  arena: GemmArena;
  rows: number;
  /** Padded sizes: features, hidden, batch. */
  np: number;
  mp: number;
  bp: number;
  /** Float offsets: W (n x mp), Wt (m x np), GX (np x 2 bp), HD (mp x 2 bp), dW (np x mp), db scratch. */
  W: number;
  Wt: number;
  GX: number;
  HD: number;
  dW: number;
  dbOut: number;
  /** sampleX's row-major tile of TILE rows. */
  stage: Float32Array;
  /** sampleX's fallback batch. */
  csr?: SparseBatch;
}

const TILE = 16;

export function denseWork(spec: ModelSpec, rows: number): DenseWork {
  const { n, m } = spec;
  const np = padTo(n, 4);
  const mp = padTo(m, 4);
  const bp = padTo(rows, NN_COLS);
  const floats = n * mp + m * np + np * 2 * bp + mp * 2 * bp + np * mp + 64;
  const arena = new GemmArena(floats);
  return {
    arena, rows, np, mp, bp,
    W: arena.alloc(n * mp),
    Wt: arena.alloc(m * np),
    GX: arena.alloc(np * 2 * bp),
    HD: arena.alloc(mp * 2 * bp),
    dW: arena.alloc(np * mp),
    dbOut: arena.alloc(4),
    stage: new Float32Array(TILE * n),
  };
}

/** Writes a sparse batch into X (batch-minor). */
export function fillX(dw: DenseWork, n: number, B: SparseBatch): void {
  const { f32 } = dw.arena;
  const rows = B.rows;
  if (rows !== dw.rows) throw new Error(`fillX: batch of ${rows} rows in a workspace for ${dw.rows}`);
  const ld = 2 * dw.bp;
  const X = dw.GX + dw.bp;
  const { rowPtr, idx, val } = B;
  // A fully dense batch overwrites every entry, so only a sparser one needs clearing.
  if (rowPtr[rows] !== rows * n) for (let i = 0; i < n; i++) f32.fill(0, X + i * ld, X + i * ld + rows);
  for (let r = 0; r < rows; r++) {
    for (let e = rowPtr[r]!; e < rowPtr[r + 1]!; e++) f32[X + idx[e]! * ld + r] = val[e]!;
  }
}

/** The four state words of lab/core/rng.ts's xoshiro128** (fields of Rng; see sampleX). */
interface XoshiroState {
  s0: number;
  s1: number;
  s2: number;
  s3: number;
}

/**
 * Draws a batch straight into X: exactly the numbers data.ts's sampleInto draws from `rng` and fillX
 * writes (the tests check this), so the dense path trains on the same data as every other path and
 * engine. Rng keeps its state in object fields and costs ~4x this loop's locals per number, which at
 * p = 1 made drawing the batch slower than the GEMMs; so this runs Rng's xoshiro128** on local copies
 * of its state words and stores them back. Falls back to sampleInto + fillX if Rng's fields change.
 */
export function sampleX(dw: DenseWork, n: number, p: number, symmetric: boolean, rng: Rng): void {
  const st = rng as unknown as Partial<XoshiroState>;
  if (typeof st.s0 !== 'number' || typeof st.s1 !== 'number' || typeof st.s2 !== 'number' || typeof st.s3 !== 'number') {
    dw.csr ??= allocBatch(dw.rows, n, p);
    sampleInto(dw.csr, p, symmetric, rng);
    fillX(dw, n, dw.csr);
    return;
  }
  const { f32 } = dw.arena;
  const rows = dw.rows;
  const ld = 2 * dw.bp;
  const X = dw.GX + dw.bp;
  if (p <= 0) {
    for (let i = 0; i < n; i++) f32.fill(0, X + i * ld, X + i * ld + rows);
    return;
  }
  let s0 = st.s0 | 0;
  let s1 = st.s1 | 0;
  let s2 = st.s2 | 0;
  let s3 = st.s3 | 0;
  let x = 0;
  let t = 0;
  let u = 0;
  const skip = p < 0.25;
  const logq = skip ? Math.log1p(-p) : 0;
  // Rows are drawn into a small row-major tile, then written to X a tile at a time: writing each row
  // straight into X would touch n rows 8 KB apart per batch row. Each "draw" below is Rng.next().
  const stage = dw.stage;
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const t1 = Math.min(TILE, rows - r0);
    if (p < 1) stage.fill(0);
    for (let q = 0; q < t1; q++) {
      const sr = q * n;
      if (skip) {
        let j = -1;
        for (;;) {
          do {
            x = Math.imul(s1, 5); u = (Math.imul((x << 7) | (x >>> 25), 9) >>> 0) / 4294967296; // draw
            t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
          } while (u === 0);
          j += 1 + Math.floor(Math.log(u) / logq);
          if (j >= n) break;
          x = Math.imul(s1, 5); u = (Math.imul((x << 7) | (x >>> 25), 9) >>> 0) / 4294967296; // draw
          t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
          stage[sr + j] = symmetric ? 2 * u - 1 : u;
        }
        continue;
      }
      for (let j = 0; j < n; j++) {
        if (p < 1) {
          x = Math.imul(s1, 5); u = (Math.imul((x << 7) | (x >>> 25), 9) >>> 0) / 4294967296; // draw
          t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
          if (!(u < p)) continue;
        }
        x = Math.imul(s1, 5); u = (Math.imul((x << 7) | (x >>> 25), 9) >>> 0) / 4294967296; // draw
        t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
        stage[sr + j] = symmetric ? 2 * u - 1 : u;
      }
    }
    for (let j = 0; j < n; j++) {
      const xj = X + j * ld + r0;
      for (let q = 0; q < t1; q++) f32[xj + q] = stage[q * n + j]!;
    }
  }
  st.s0 = s0;
  st.s1 = s1;
  st.s2 = s2;
  st.s3 = s3;
}

/**
 * Loss of the batch in X (fillX or sampleX); adds dLoss/dW and dLoss/db (mean over the batch) into D.
 * W at P[0], b at P[bo].
 */
export function denseLinear(dw: DenseWork, n: number, m: number, bo: number, P: Float32Array, D: Float32Array, imp: Float32Array, relu: boolean): number {
  const { arena, np, mp, bp, W, Wt, GX, HD, dW, dbOut, rows } = dw;
  const { f32 } = arena;
  const ld = 2 * bp; // row stride of GX and HD
  const X = GX + bp;
  const dH = HD + bp;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < m; k++) {
      const w = P[i * m + k]!;
      f32[W + i * mp + k] = w;
      f32[Wt + k * np + i] = w;
    }
  }
  arena.matmulKMajor(HD, W, X, mp, bp, n, mp, ld, ld);
  arena.matmulKMajor(GX, Wt, HD, np, bp, m, np, ld, ld);
  const floor = relu ? 0 : -Infinity;
  const scale = 2 / rows;
  const full = rows & ~3;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const g = GX + i * ld;
    const x = X + i * ld;
    const si = scale * imp[i]!;
    const bias = P[bo + i]!;
    let dd = arena.lossrow(g << 2, x << 2, g << 2, full >> 2, si, bias, floor, dbOut << 2);
    let db = f32[dbOut]!;
    for (let r = full; r < rows; r++) {
      const s = f32[g + r]! + bias;
      const d = Math.max(s, floor) - f32[x + r]!;
      dd += d * d;
      const gv = s > floor ? si * d : 0;
      f32[g + r] = gv;
      db += gv;
    }
    // Padding columns carry bias-only outputs; their gradient must not reach dW.
    if (rows < bp) f32.fill(0, g + rows, g + bp);
    loss += imp[i]! * dd;
    D[bo + i] += db;
  }
  arena.matmulKMajor(dH, W, GX, mp, bp, n, mp, ld, ld);
  arena.matmulDot(dW, GX, HD, np, mp, ld, ld, ld, mp);
  for (let i = 0; i < n; i++) for (let k = 0; k < m; k++) D[i * m + k] += f32[dW + i * mp + k]!;
  return loss / rows;
}
