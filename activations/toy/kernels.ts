/**
 * Loss and hand-derived gradients of the toy models on Float32Arrays, one instance at a time.
 *
 * Loss per instance: mean over the batch of sum_j I_j (x'_j - y_j)^2, with y = x (|x| for abs).
 *
 * Why hand-written: per-op overhead dominates small tfjs graphs, and a sparse input makes most of the
 * dense arithmetic multiply zeros. Three paths for linear / relu-out:
 *  - rows: h = W^T x over the active features, x' = W h + b per row, backward by rows, skipping
 *    outputs whose gradient is exactly zero (a ReLU that is off, or a perfect output).
 *  - gram: with G = W W^T (n x n), x' = G x + b costs (active features) x n per row instead of n x m,
 *    and dL/dW = (dG + dG^T) W once per batch. Its row updates run in WebAssembly SIMD kernels
 *    (simd.ts) on a per-instance wasm memory. The faster path for sparse data.
 *  - dense: the whole batch as GEMMs (dense.ts, kernels in gemm.ts), n x m per row; the faster path for
 *    dense data (choosePath has the switch).
 * relu-hidden / abs use rows: h = ReLU(A^T x + b1), x' = ReLU(W2 h + b2).
 */
import type { SparseBatch } from './data.ts';
import { hasNeurons } from './config.ts';
import { layout, type Layout, type ModelSpec } from './layout.ts';
import { pad4, SimdArena } from './simd.ts';
import type { Rng } from '../../lab/core/index.ts';
import { denseLinear, denseWork, fillX, sampleX, type DenseWork } from './dense.ts';

export type KernelPath = 'auto' | 'rows' | 'gram' | 'dense';

export interface Workspace {
  spec: ModelSpec;
  L: Layout;
  xd: Float32Array; // dense targets of one row (n), cleared after use
  h: Float32Array; // hidden (m)
  hp: Float32Array; // hidden pre-activation (m)
  dh: Float32Array; // gradient at the hidden layer (m)
  pre: Float32Array; // output pre-activation (n)
  g: Float32Array; // output gradient (n)
  nz: Int32Array; // indices of non-zero output gradients (n)
  /** Gram path only: wasm memory and the float offsets of its regions (rows padded to np floats). */
  arena?: SimdArena;
  off?: {
    np: number; G: number; dGt: number; pre: number; g: number; Wt: number; Wc: number; dWt: number; xs: number; impw: number; db: number; bias: number;
    /** The CSR batch copied into wasm memory: rowPtr (room for `rows` rows) and idx / val (room for `nnz`). */
    rp: number; idx: number; val: number; rows: number; nnz: number;
  };
  /** Dense path only: its GEMM arena, made on first use for the batch size it sees. */
  dense?: DenseWork;
}

export function workspace(spec: ModelSpec, withGram: boolean): Workspace {
  const { n, m } = spec;
  return {
    spec,
    L: layout(spec),
    xd: new Float32Array(n),
    h: new Float32Array(m),
    hp: new Float32Array(m),
    dh: new Float32Array(m),
    pre: new Float32Array(n),
    g: new Float32Array(n),
    nz: new Int32Array(n),
    ...(withGram ? gramArena(n, m) : {}),
  };
}

/** The gram path's wasm memory, with room for a batch of `rows` rows and `nnz` active entries (made again,
 * larger, when a batch does not fit: every region but xs is rewritten per batch, and xs is left zero). */
function gramArena(n: number, m: number, rows = 0, nnz = 0): Pick<Workspace, 'arena' | 'off'> {
  const np = pad4(n);
  const arena = new SimdArena(2 * n * np + 6 * np + 2 * m * np + n * m + rows + 1 + 2 * nnz + 64);
  const off = {
    rows,
    nnz,
    rp: arena.alloc(rows + 1),
    idx: arena.alloc(nnz),
    val: arena.alloc(nnz),
    np,
    G: arena.alloc(n * np),
    dGt: arena.alloc(n * np),
    pre: arena.alloc(np),
    g: arena.alloc(np),
    xs: arena.alloc(np),
    impw: arena.alloc(np),
    db: arena.alloc(np),
    bias: arena.alloc(np),
    Wt: arena.alloc(m * np),
    Wc: arena.alloc(n * m),
    dWt: arena.alloc(m * np),
  };
  return { arena, off };
}

/**
 * The faster path for an instance: rows for relu-hidden / abs; for linear / relu-out, gram for sparse
 * data and dense (GEMMs, dense.ts) from a feature probability on. Per batch row the gram path costs
 * about p n (n + 32) + 16 (two SIMD row updates of length n per active feature, ~32 of call overhead
 * each) and the dense path about 1.75 n m, in the same units. The constants are fitted to crossovers
 * measured in CPU time on this (loaded) machine, 2026-11-29: p ~ 0.15 at n=200 m=20 (gram 1.3x faster
 * at p = 0.05, dense 1.1x at 0.2 and 6-9x at 1) and p between 0.05 and 0.15 at n=20 m=5 (runs
 * disagreed; dense 1.7x at 0.2 and 3-5x at 1), so both p = 0.05 benchmark rows stay on gram; for n <= 5
 * dense wins at every p measured (1.9x at n=5 m=2, p=0.05). The rule depends only on (model, n, m, p),
 * so worker splits still agree.
 */
export function choosePath(spec: ModelSpec, p: number, _batch: number): 'rows' | 'gram' | 'dense' {
  if (hasNeurons(spec.model)) return 'rows';
  const { n, m } = spec;
  return p * n * (n + 32) + 16 >= 1.75 * n * m ? 'dense' : 'gram';
}

/**
 * Writes dLoss/dparams into `grad` (overwritten) and returns the batch's loss. `imp` holds the feature
 * importances. Gradients are of the mean over the batch.
 */
export function lossAndGrad(
  ws: Workspace,
  params: Float32Array,
  grad: Float32Array,
  batch: SparseBatch,
  imp: Float32Array,
  path: 'rows' | 'gram' | 'dense',
): number {
  grad.fill(0);
  const model = ws.spec.model;
  if (model === 'linear' || model === 'relu-out') {
    if (path === 'dense') {
      if (ws.dense?.rows !== batch.rows) ws.dense = denseWork(ws.spec, batch.rows);
      fillX(ws.dense, ws.spec.n, batch);
      return denseLinear(ws.dense, ws.spec.n, ws.spec.m, ws.L.bOut, params, grad, imp, model === 'relu-out');
    }
    return path === 'gram' ? gramLinear(ws, params, grad, batch, imp, model === 'relu-out') : rowsLinear(ws, params, grad, batch, imp, model === 'relu-out');
  }
  return rowsHidden(ws, params, grad, batch, imp, model === 'abs');
}

/**
 * The dense path (linear / relu-out) with its batch of `rows` drawn straight into the GEMM workspace:
 * the same data as sampleInto then lossAndGrad(..., 'dense'), without the sparse copy.
 */
export function sampleDenseLossAndGrad(ws: Workspace, params: Float32Array, grad: Float32Array, rows: number, p: number, rng: Rng, imp: Float32Array): number {
  const { spec } = ws;
  if (hasNeurons(spec.model)) throw new Error(`the dense path covers linear and relu-out, not ${spec.model}`);
  grad.fill(0);
  if (ws.dense?.rows !== rows) ws.dense = denseWork(spec, rows);
  sampleX(ws.dense, spec.n, p, false, rng);
  return denseLinear(ws.dense, spec.n, spec.m, ws.L.bOut, params, grad, imp, spec.model === 'relu-out');
}

function rowsLinear(ws: Workspace, P: Float32Array, D: Float32Array, B: SparseBatch, imp: Float32Array, relu: boolean): number {
  const { n, m } = ws.spec;
  const bo = ws.L.bOut;
  const { xd, h, dh } = ws;
  const { rowPtr, idx, val } = B;
  const scale = 2 / B.rows;
  let loss = 0;
  for (let r = 0; r < B.rows; r++) {
    const e0 = rowPtr[r]!;
    const e1 = rowPtr[r + 1]!;
    h.fill(0);
    for (let e = e0; e < e1; e++) {
      const i = idx[e]!;
      const xv = val[e]!;
      xd[i] = xv;
      const off = i * m;
      for (let k = 0; k < m; k++) h[k] += xv * P[off + k]!;
    }
    dh.fill(0);
    for (let j = 0; j < n; j++) {
      const off = j * m;
      let s = P[bo + j]!;
      for (let k = 0; k < m; k++) s += P[off + k]! * h[k]!;
      const o = relu && s < 0 ? 0 : s;
      const d = o - xd[j]!;
      loss += imp[j]! * d * d;
      if ((relu && s <= 0) || d === 0) continue;
      const gj = scale * imp[j]! * d;
      D[bo + j] += gj;
      for (let k = 0; k < m; k++) {
        dh[k] += gj * P[off + k]!;
        D[off + k] += gj * h[k]!;
      }
    }
    for (let e = e0; e < e1; e++) {
      const i = idx[e]!;
      const xv = val[e]!;
      xd[i] = 0;
      const off = i * m;
      for (let k = 0; k < m; k++) D[off + k] += xv * dh[k]!;
    }
  }
  return loss / B.rows;
}

function gramLinear(ws: Workspace, P: Float32Array, D: Float32Array, B: SparseBatch, imp: Float32Array, relu: boolean): number {
  const { n, m } = ws.spec;
  const bo = ws.L.bOut;
  const nnz = B.rowPtr[B.rows]!;
  if (ws.off!.rows < B.rows || ws.off!.nnz < nnz) Object.assign(ws, gramArena(n, m, B.rows, Math.max(nnz, B.idx.length)));
  const A = ws.arena!;
  const { f32, i32, rank, gramrows } = A;
  const { np, G, dGt, pre, g, Wt, Wc, dWt, xs, impw, db, bias, rp, idx, val } = ws.off!;
  const floor = relu ? 0 : -Infinity;
  const n4 = np >> 2;
  // G = W W^T, built as G[a,:] = sum_k W[a,k] Wt[k,:] with whole-row SIMD updates (simd.ts rank; Wc: W).
  for (let c = 0; c < n; c++) for (let k = 0; k < m; k++) f32[Wt + k * np + c] = P[c * m + k]!;
  f32.set(P.subarray(0, n * m), Wc);
  f32.fill(0, G, G + n * np);
  rank(G << 2, Wt << 2, Wc << 2, n, m, m, np << 2, np << 2, n4);
  f32.fill(0, dGt, dGt + n * np);
  f32.fill(0, db, db + np);
  f32.set(imp, impw);
  // The bias as a padded row, which the row loop copies into pre in whole f32x4 groups (padding stays 0).
  f32.set(P.subarray(bo, bo + n), bias);
  i32.set(B.rowPtr.subarray(0, B.rows + 1), rp);
  i32.set(B.idx.subarray(0, nnz), idx);
  f32.set(B.val.subarray(0, nnz), val);
  // Per row (in wasm, simd.ts gramrows): pre = b + G x over the active features, the loss and the output
  // gradient g, then dL/dG[j][i] = sum_rows g_j x_i, kept transposed (dGt) so each active i updates one
  // contiguous row.
  const loss = gramrows(rp << 2, idx << 2, val << 2, B.rows, pre << 2, G << 2, dGt << 2, xs << 2, g << 2, impw << 2, db << 2, bias << 2, np << 2, n4, 2 / B.rows, floor);
  for (let j = 0; j < n; j++) D[bo + j] += f32[db + j]!;
  // dL/dW = S W with S = dG + dG^T (symmetric), computed as dW^T[k,:] = sum_c W[c,k] S[c,:].
  for (let a = 0; a < n; a++) {
    f32[dGt + a * np + a] *= 2;
    for (let c = a + 1; c < n; c++) {
      const v = f32[dGt + a * np + c]! + f32[dGt + c * np + a]!;
      f32[dGt + a * np + c] = v;
      f32[dGt + c * np + a] = v;
    }
  }
  f32.fill(0, dWt, dWt + m * np);
  // dW^T[k,:] = sum_c W[c,k] S[c,:]: row k of Wt holds W[:,k].
  rank(dWt << 2, dGt << 2, Wt << 2, m, n, np, np << 2, np << 2, n4);
  for (let a = 0; a < n; a++) for (let k = 0; k < m; k++) D[a * m + k] += f32[dWt + k * np + a]!;
  return loss / B.rows;
}

function rowsHidden(ws: Workspace, P: Float32Array, D: Float32Array, B: SparseBatch, imp: Float32Array, absTarget: boolean): number {
  const { n, m } = ws.spec;
  const { w2, b1, bOut: bo } = ws.L;
  const { xd, h, hp, dh } = ws;
  const { rowPtr, idx, val } = B;
  const scale = 2 / B.rows;
  let loss = 0;
  for (let r = 0; r < B.rows; r++) {
    const e0 = rowPtr[r]!;
    const e1 = rowPtr[r + 1]!;
    for (let k = 0; k < m; k++) hp[k] = P[b1 + k]!;
    for (let e = e0; e < e1; e++) {
      const i = idx[e]!;
      const xv = val[e]!;
      xd[i] = absTarget && xv < 0 ? -xv : xv;
      const off = i * m;
      for (let k = 0; k < m; k++) hp[k] += xv * P[off + k]!;
    }
    for (let k = 0; k < m; k++) h[k] = hp[k]! > 0 ? hp[k]! : 0;
    dh.fill(0);
    for (let j = 0; j < n; j++) {
      const off = w2 + j * m;
      let s = P[bo + j]!;
      for (let k = 0; k < m; k++) s += P[off + k]! * h[k]!;
      const o = s < 0 ? 0 : s;
      const d = o - xd[j]!;
      loss += imp[j]! * d * d;
      if (s <= 0 || d === 0) continue;
      const gj = scale * imp[j]! * d;
      D[bo + j] += gj;
      for (let k = 0; k < m; k++) {
        dh[k] += gj * P[off + k]!;
        D[off + k] += gj * h[k]!;
      }
    }
    for (let k = 0; k < m; k++) {
      if (!(hp[k]! > 0)) dh[k] = 0;
      D[b1 + k] += dh[k]!;
    }
    for (let e = e0; e < e1; e++) {
      const i = idx[e]!;
      const xv = val[e]!;
      xd[i] = 0;
      const off = i * m;
      for (let k = 0; k < m; k++) D[off + k] += xv * dh[k]!;
    }
  }
  return loss / B.rows;
}

/** Forward pass only, for evaluation and hooks: writes x' (rows x n) and, for neuron models, h (rows x m). */
export function forward(spec: ModelSpec, P: Float32Array, x: Float32Array, rows: number, out?: Float32Array, hidden?: Float32Array): void {
  const { n, m } = spec;
  const L = layout(spec);
  const neurons = hasNeurons(spec.model);
  const h = new Float32Array(m);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < m; k++) h[k] = neurons ? P[L.b1 + k]! : 0;
    for (let i = 0; i < n; i++) {
      const xv = x[r * n + i]!;
      if (xv === 0) continue;
      const off = L.w + i * m;
      for (let k = 0; k < m; k++) h[k] += xv * P[off + k]!;
    }
    if (neurons) for (let k = 0; k < m; k++) if (!(h[k]! > 0)) h[k] = 0;
    if (hidden) hidden.set(h, r * m);
    if (!out) continue;
    const wo = neurons ? L.w2 : L.w;
    for (let j = 0; j < n; j++) {
      let s = P[L.bOut + j]!;
      for (let k = 0; k < m; k++) s += P[wo + j * m + k]! * h[k]!;
      out[r * n + j] = spec.model === 'linear' || s > 0 ? s : 0;
    }
  }
}
