/**
 * Two WebAssembly SIMD kernels over f32x4 lanes, assembled here from their opcodes so the lab needs no
 * wasm toolchain. V8 does not vectorise JS loops; on this machine they run the gram path's inner loops
 * several times faster than the same loops in JS (see bench/README.md).
 *
 * The first is
 *   (func $axpy (param $y i32) (param $x i32) (param $a f32) (param $n4 i32) (local $av v128)
 *     $av = f32x4.splat($a)
 *     while ($n4 != 0) { v128.store($y, f32x4.add(v128.load($y), f32x4.mul(v128.load($x), $av)));
 *                         $y += 16; $x += 16; $n4 -= 1 })   (unrolled by two groups)
 * where $y and $x are byte offsets into the imported memory and $n4 counts groups of four floats.
 *
 * The second, lossgrad(pre, x, imp, g, db, scale, floor, n4) -> f32, is one output row of the
 * ReLU-output (floor = 0) or linear (floor = -inf) model: o = max(pre, floor), d = o - x,
 * loss = sum imp d^2, g = scale imp d where pre > floor (else 0), db += g.
 *
 * The third, gramrows(rowPtr, idx, val, rows, pre, G, dGt, xs, g, imp, db, bias, stride, n4, scale,
 * floor) -> f64, is the gram path's whole row loop (kernels.ts gramLinear) over a CSR batch held in the
 * same memory: per row pre = bias + sum_active x_i G[i,:] (axpy), the loss and g (lossgrad), then
 * dGt[i,:] += x_i g for each active i. At n = 20 the row loop in JS spent more time crossing into wasm
 * (three calls per row, each of five f32x4 groups) than in the kernels; one call per batch removes that
 * (issue 16). The order of every floating-point operation is the JS loop's, so the weights are the same.
 *
 * The fourth, rank(Y, X, A, rows, k, lda, strideY, strideX, n4), is Y[a,:] += sum_j A[a,j] X[j,:] as
 * axpy calls in the order a, then j (skipping A[a,j] = 0): the gram path's G = W W^T and dW^T = W^T S,
 * which from JS took n m calls across the boundary per batch.
 */

import { OP, SIMD, T, section, simd, str, uleb, WasmArena } from '../../lab/core/index.ts';

export { section, simd, str, uleb };

/** Opcodes and assembler helpers (lab/core's tables), shared with gemm.ts's kernels. */
export { OP, SIMD, T };

const memarg16 = [4, 0]; // align 2^4 bytes, offset 0

function axpyBody(): number[] {
  const [y, x, a, n4, av] = [0, 1, 2, 3, 4];
  // y[q] += x[q] * av for the group at byte offset `off` from the current pointers.
  const group = (off: number) => [
    OP.localGet, y,
    OP.localGet, y, ...simd(SIMD.load), 4, off,
    OP.localGet, x, ...simd(SIMD.load), 4, off,
    OP.localGet, av, ...simd(SIMD.f32x4Mul),
    ...simd(SIMD.f32x4Add),
    ...simd(SIMD.store), 4, off,
  ];
  const code = [
    OP.localGet, a, ...simd(SIMD.f32x4Splat), OP.localSet, av,
    // Two groups per iteration while at least two remain (halves the loop overhead), then the odd one.
    OP.block, T.void,
    OP.loop, T.void,
    OP.localGet, n4, OP.i32Const, 2, OP.i32LtU, OP.brIf, 1,
    ...group(0),
    ...group(16),
    OP.localGet, y, OP.i32Const, 32, OP.i32Add, OP.localSet, y,
    OP.localGet, x, OP.i32Const, 32, OP.i32Add, OP.localSet, x,
    OP.localGet, n4, OP.i32Const, 2, OP.i32Sub, OP.localSet, n4,
    OP.br, 0,
    OP.end,
    OP.end,
    OP.block, T.void,
    OP.localGet, n4, OP.i32Eqz, OP.brIf, 0,
    ...group(0),
    OP.end,
    OP.end,
  ];
  const locals = [1, 1, T.v128]; // one group: 1 local of type v128
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function lossgradBody(): number[] {
  const [pre, x, imp, g, db, scale, floor, n4] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [acc, sv, fv, s, e, gv] = [8, 9, 10, 11, 12, 13];
  const get = (i: number) => [OP.localGet, i];
  const set = (i: number) => [OP.localSet, i];
  const load = (ptr: number) => [...get(ptr), ...simd(SIMD.load), ...memarg16];
  const bump = (ptr: number) => [...get(ptr), OP.i32Const, 16, OP.i32Add, ...set(ptr)];
  const code = [
    ...get(scale), ...simd(SIMD.f32x4Splat), ...set(sv),
    ...get(floor), ...simd(SIMD.f32x4Splat), ...set(fv),
    OP.f32Const, 0, 0, 0, 0, ...simd(SIMD.f32x4Splat), ...set(acc),
    OP.block, T.void,
    ...get(n4), OP.i32Eqz, OP.brIf, 0,
    OP.loop, T.void,
    ...load(pre), ...set(s),
    // e = imp * (max(s, floor) - x); acc += e * d, with d recomputed as e's factor
    ...get(s), ...get(fv), ...simd(SIMD.f32x4Max), ...load(x), ...simd(SIMD.f32x4Sub), ...set(e),
    ...get(acc), ...get(e), ...get(e), ...simd(SIMD.f32x4Mul), ...load(imp), ...simd(SIMD.f32x4Mul), ...simd(SIMD.f32x4Add), ...set(acc),
    // g = (scale * imp * d) & (s > floor)
    ...get(e), ...load(imp), ...simd(SIMD.f32x4Mul), ...get(sv), ...simd(SIMD.f32x4Mul),
    ...get(s), ...get(fv), ...simd(SIMD.f32x4Gt), ...simd(SIMD.and), ...set(gv),
    ...get(g), ...get(gv), ...simd(SIMD.store), ...memarg16,
    ...get(db), ...load(db), ...get(gv), ...simd(SIMD.f32x4Add), ...simd(SIMD.store), ...memarg16,
    ...bump(pre), ...bump(x), ...bump(imp), ...bump(g), ...bump(db),
    ...get(n4), OP.i32Const, 1, OP.i32Sub, OP.localTee, n4,
    OP.brIf, 0,
    OP.end,
    OP.end,
    ...get(acc), ...simd(SIMD.extractLane), 0,
    ...get(acc), ...simd(SIMD.extractLane), 1, OP.f32Add,
    ...get(acc), ...simd(SIMD.extractLane), 2, OP.f32Add,
    ...get(acc), ...simd(SIMD.extractLane), 3, OP.f32Add,
    OP.end,
  ];
  const body = [1, 6, T.v128, ...code];
  return [...uleb(body.length), ...body];
}

function gramrowsBody(): number[] {
  const [rp, idxp, valp, rows, pre, G, dGt, xs, g, imp, db, bias, stride, n4, scale, floor] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const [e, e1, i, src, dst, k, v, loss] = [16, 17, 18, 19, 20, 21, 22, 23];
  const get = (x: number) => [OP.localGet, x];
  const set = (x: number) => [OP.localSet, x];
  const add = (x: number, c: number) => [...get(x), OP.i32Const, c, OP.i32Add, ...set(x)];
  const word = [2, 0]; // memarg: align 4 bytes, offset 0
  // e = rowPtr[r] (as a byte offset into idx / val), i = idx[e] (a feature index)
  const rowStart = [...get(rp), OP.i32Load, ...word, OP.i32Const, 2, OP.i32Shl, ...set(e)];
  const loadI = [...get(idxp), ...get(e), OP.i32Add, OP.i32Load, ...word, ...set(i)];
  const loadV = [...get(valp), ...get(e), OP.i32Add, OP.f32Load, ...word];
  const xsAt = [...get(xs), ...get(i), OP.i32Const, 2, OP.i32Shl, OP.i32Add];
  const rowOf = (base: number) => [...get(base), ...get(i), ...get(stride), OP.i32Mul, OP.i32Add];
  // for (; e < e1; e += 4) body
  const overActive = (body: number[]) => [
    OP.block, T.void, OP.loop, T.void,
    ...get(e), ...get(e1), OP.i32GeU, OP.brIf, 1,
    ...body,
    ...add(e, 4),
    OP.br, 0,
    OP.end, OP.end,
  ];
  const code = [
    OP.block, T.void,
    OP.loop, T.void,
    ...get(rows), OP.i32Eqz, OP.brIf, 1,
    // pre = bias (n4 >= 1 groups)
    ...get(bias), ...set(src), ...get(pre), ...set(dst), ...get(n4), ...set(k),
    OP.loop, T.void,
    ...get(dst), ...get(src), ...simd(SIMD.load), ...memarg16, ...simd(SIMD.store), ...memarg16,
    ...add(src, 16), ...add(dst, 16),
    ...get(k), OP.i32Const, 1, OP.i32Sub, OP.localTee, k, OP.brIf, 0,
    OP.end,
    ...rowStart,
    ...get(rp), OP.i32Load, 2, 4, OP.i32Const, 2, OP.i32Shl, ...set(e1),
    // forward: xs[i] = v; pre += v G[i,:]
    ...overActive([
      ...loadI, ...loadV, ...set(v),
      ...xsAt, ...get(v), OP.f32Store, ...word,
      ...get(pre), ...rowOf(G), ...get(v), ...get(n4), OP.call, 0,
    ]),
    ...get(loss),
    ...get(pre), ...get(xs), ...get(imp), ...get(g), ...get(db), ...get(scale), ...get(floor), ...get(n4), OP.call, 1,
    OP.f64PromoteF32, OP.f64Add, ...set(loss),
    // backward: xs[i] = 0; dGt[i,:] += v g
    ...rowStart,
    ...overActive([
      ...loadI,
      ...xsAt, OP.f32Const, 0, 0, 0, 0, OP.f32Store, ...word,
      ...rowOf(dGt), ...get(g), ...loadV, ...get(n4), OP.call, 0,
    ]),
    ...add(rp, 4),
    ...get(rows), OP.i32Const, 1, OP.i32Sub, ...set(rows),
    OP.br, 0,
    OP.end,
    OP.end,
    ...get(loss),
    OP.end,
  ];
  const body = [3, 6, T.i32, 1, T.f32, 1, T.f64, ...code];
  return [...uleb(body.length), ...body];
}

function rankBody(): number[] {
  const [Y, X, A, rows, k, lda, strideY, strideX, n4] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [j, x, ap, w] = [9, 10, 11, 12];
  const get = (q: number) => [OP.localGet, q];
  const set = (q: number) => [OP.localSet, q];
  const bump = (q: number, by: number[]) => [...get(q), ...by, OP.i32Add, ...set(q)];
  const code = [
    OP.block, T.void, OP.loop, T.void,
    ...get(rows), OP.i32Eqz, OP.brIf, 1,
    // j = k, x = X, ap = A (this row of A)
    ...get(k), ...set(j), ...get(X), ...set(x), ...get(A), ...set(ap),
    OP.block, T.void, OP.loop, T.void,
    ...get(j), OP.i32Eqz, OP.brIf, 1,
    ...get(ap), OP.f32Load, 2, 0, OP.localTee, w,
    OP.f32Const, 0, 0, 0, 0, OP.f32Ne,
    OP.if, T.void,
    ...get(Y), ...get(x), ...get(w), ...get(n4), OP.call, 0,
    OP.end,
    ...bump(ap, [OP.i32Const, 4]), ...bump(x, get(strideX)),
    ...get(j), OP.i32Const, 1, OP.i32Sub, ...set(j),
    OP.br, 0,
    OP.end, OP.end,
    ...bump(Y, get(strideY)),
    ...bump(A, [...get(lda), OP.i32Const, 2, OP.i32Shl]),
    ...get(rows), OP.i32Const, 1, OP.i32Sub, ...set(rows),
    OP.br, 0,
    OP.end, OP.end,
    OP.end,
  ];
  const body = [2, 3, T.i32, 1, T.f32, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [
      4,
      T.func, 4, T.i32, T.i32, T.f32, T.i32, 0,
      T.func, 8, T.i32, T.i32, T.i32, T.i32, T.i32, T.f32, T.f32, T.i32, 1, T.f32,
      T.func, 16, ...new Array<number>(14).fill(T.i32), T.f32, T.f32, 1, T.f64,
      T.func, 9, ...new Array<number>(9).fill(T.i32), 0,
    ]),
    ...section(2, [1, ...str('env'), ...str('mem'), 0x02, 0x00, 0x01]),
    ...section(3, [4, 0, 1, 2, 3]),
    ...section(7, [4, ...str('axpy'), 0x00, 0, ...str('lossgrad'), 0x00, 1, ...str('gramrows'), 0x00, 2, ...str('rank'), 0x00, 3]),
    ...section(10, [4, ...axpyBody(), ...lossgradBody(), ...gramrowsBody(), ...rankBody()]),
  ];
  return new Uint8Array(bytes);
}

let compiled: WebAssembly.Module | undefined;

export type AxpyFn = (y: number, x: number, a: number, n4: number) => void;
export type LossGradFn = (pre: number, x: number, imp: number, g: number, db: number, scale: number, floor: number, n4: number) => number;
export type RankFn = (Y: number, X: number, A: number, rows: number, k: number, lda: number, strideY: number, strideX: number, n4: number) => void;
export type GramRowsFn = (
  rowPtr: number, idx: number, val: number, rows: number, pre: number, G: number, dGt: number, xs: number,
  g: number, imp: number, db: number, bias: number, stride: number, n4: number, scale: number, floor: number,
) => number;

/** A private wasm memory of `floats` f32 slots (16-byte aligned regions via `alloc`) and the kernel. */
export class SimdArena extends WasmArena {
  readonly axpy: AxpyFn;
  readonly lossgrad: LossGradFn;
  readonly gramrows: GramRowsFn;
  readonly rank: RankFn;
  /** The same memory as 32-bit integers (a CSR batch's rowPtr and idx). */
  readonly i32: Int32Array;

  constructor(floats: number) {
    super((compiled ??= new WebAssembly.Module(moduleBytes())), floats, 'SimdArena');
    this.axpy = this.exports.axpy as AxpyFn;
    this.lossgrad = this.exports.lossgrad as LossGradFn;
    this.gramrows = this.exports.gramrows as GramRowsFn;
    this.rank = this.exports.rank as RankFn;
    this.i32 = new Int32Array(this.f32.buffer);
  }
}

/** Floats rounded up to a multiple of 4 (one f32x4 lane group). */
export function pad4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
