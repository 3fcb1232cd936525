/**
 * Where each weight lives in an instance's flat parameter vector. One Float32Array per instance keeps
 * the fused AdamW a single loop and lets instances move between worker threads as plain buffers.
 *
 * linear / relu-out:   W [n x m] (row i = feature i's direction in the hidden space), b [n]
 * relu-hidden / abs:   A = W1^T [n x k], b1 [k], W2 [n x k] (absent when tied: W2 = A), b2 [n]
 * All matrices are row-major, features first, so a sparse input touches whole contiguous rows.
 */
import type { Rng } from '../../lab/core/index.ts';
import { hasNeurons, type ToyModel } from './config.ts';

export interface ModelSpec {
  model: ToyModel;
  n: number;
  m: number;
  tied: boolean;
}

export interface Layout {
  size: number;
  /** Offset of W (linear/relu-out) or A = W1^T (relu-hidden/abs). */
  w: number;
  /** Offset of b (linear/relu-out) or b2 (relu-hidden/abs): the output bias, length n. */
  bOut: number;
  /** relu-hidden/abs only: offsets of b1 and W2 (W2 === w when tied). */
  b1: number;
  w2: number;
}

export function layout(s: ModelSpec): Layout {
  const nm = s.n * s.m;
  if (!hasNeurons(s.model)) return { size: nm + s.n, w: 0, bOut: nm, b1: -1, w2: -1 };
  const w2 = s.tied ? 0 : nm + s.m;
  const bOut = s.tied ? nm + s.m : 2 * nm + s.m;
  return { size: bOut + s.n, w: 0, bOut, b1: nm, w2 };
}

/** Xavier-normal weights (std sqrt(2 / (n + m))), zero biases: the initialisation of Anthropic's notebook. */
export function initParams(s: ModelSpec, rng: Rng): Float32Array {
  const L = layout(s);
  const p = new Float32Array(L.size);
  const std = Math.sqrt(2 / (s.n + s.m));
  const nm = s.n * s.m;
  for (let i = 0; i < nm; i++) p[L.w + i] = std * rng.normal();
  if (hasNeurons(s.model) && !s.tied) for (let i = 0; i < nm; i++) p[L.w2 + i] = std * rng.normal();
  return p;
}

/** Row-major [rows x cols] slice of a flat vector as nested arrays (for JSON). */
export function toRows(a: Float32Array, off: number, rows: number, cols: number, transpose = false): number[][] {
  const out: number[][] = [];
  if (!transpose) {
    for (let r = 0; r < rows; r++) out.push(Array.from(a.subarray(off + r * cols, off + (r + 1) * cols)));
  } else {
    // Returns the transpose: cols x rows.
    for (let c = 0; c < cols; c++) {
      const row = new Array<number>(rows);
      for (let r = 0; r < rows; r++) row[r] = a[off + r * cols + c]!;
      out.push(row);
    }
  }
  return out;
}

export interface NamedWeights {
  /** features x hidden: W for linear/relu-out, W1^T for relu-hidden/abs. */
  W: number[][];
  b: number[];
  W1?: number[][];
  b1?: number[];
  W2?: number[][];
  b2?: number[];
}

export function namedWeights(s: ModelSpec, p: Float32Array): NamedWeights {
  const L = layout(s);
  const W = toRows(p, L.w, s.n, s.m);
  const bOut = Array.from(p.subarray(L.bOut, L.bOut + s.n));
  if (!hasNeurons(s.model)) return { W, b: bOut };
  return {
    W,
    b: bOut,
    W1: toRows(p, L.w, s.n, s.m, true),
    b1: Array.from(p.subarray(L.b1, L.b1 + s.m)),
    W2: toRows(p, L.w2, s.n, s.m),
    b2: bOut,
  };
}

/** Inverse of namedWeights: rebuilds the flat vector from a run's JSON. */
export function flatFromNamed(s: ModelSpec, w: NamedWeights): Float32Array {
  const L = layout(s);
  const p = new Float32Array(L.size);
  const put = (off: number, rows: number[][]) => rows.forEach((r, i) => p.set(r, off + i * r.length));
  put(L.w, w.W);
  if (!hasNeurons(s.model)) {
    p.set(w.b, L.bOut);
    return p;
  }
  p.set(w.b1!, L.b1);
  if (!s.tied) put(L.w2, w.W2!);
  p.set(w.b2 ?? w.b, L.bOut);
  return p;
}
