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

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [
      2,
      T.func, 4, T.i32, T.i32, T.f32, T.i32, 0,
      T.func, 8, T.i32, T.i32, T.i32, T.i32, T.i32, T.f32, T.f32, T.i32, 1, T.f32,
    ]),
    ...section(2, [1, ...str('env'), ...str('mem'), 0x02, 0x00, 0x01]),
    ...section(3, [2, 0, 1]),
    ...section(7, [2, ...str('axpy'), 0x00, 0, ...str('lossgrad'), 0x00, 1]),
    ...section(10, [2, ...axpyBody(), ...lossgradBody()]),
  ];
  return new Uint8Array(bytes);
}

let compiled: WebAssembly.Module | undefined;

export type AxpyFn = (y: number, x: number, a: number, n4: number) => void;
export type LossGradFn = (pre: number, x: number, imp: number, g: number, db: number, scale: number, floor: number, n4: number) => number;

/** A private wasm memory of `floats` f32 slots (16-byte aligned regions via `alloc`) and the kernel. */
export class SimdArena extends WasmArena {
  readonly axpy: AxpyFn;
  readonly lossgrad: LossGradFn;

  constructor(floats: number) {
    super((compiled ??= new WebAssembly.Module(moduleBytes())), floats, 'SimdArena');
    this.axpy = this.exports.axpy as AxpyFn;
    this.lossgrad = this.exports.lossgrad as LossGradFn;
  }
}

/** Floats rounded up to a multiple of 4 (one f32x4 lane group). */
export function pad4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
