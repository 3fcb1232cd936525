/**
 * Register-blocked f32x4 GEMM kernels in WebAssembly SIMD for the dense training path (dense.ts),
 * assembled from opcodes like simd.ts. All offsets and strides are in bytes into the imported memory.
 *
 * nn(c, a, b, K, N8, sak, sbk, sci): one block of 4 rows of C = A B, all N8 column blocks of 8 floats:
 *   C[r, j] = sum_k A(r, k) B[k, j]   (r < 4, j < 8 N8; overwrites C)
 *   A(r, k) at a + 4 r + k sak (A is stored k-major: the 4 rows' values for one k are adjacent, so each
 *   is one v128.load32_splat), B[k, j] at b + k sbk + 4 j, C[r, j] at c + r sci + 4 j.
 *   Micro-kernel: 4 rows x 8 columns = 8 f32x4 accumulators, K steps of 4 splats + 2 loads + 16 ops.
 *
 * dot(c, a, b, K4, sa, sb, sci): a 4 x 2 block of C = A B^T with both operands contracted along their
 * contiguous axis: C[r, q] = sum_{k < 4 K4} A[r, k] B[q, k], A[r, k] at a + r sa + 4 k, B[q, k] at
 * b + q sb + 4 k, C[r, q] at c + r sci + 4 q (overwrites C). 8 accumulators, summed across lanes once.
 *
 * lossrow(pre, x, g, n4, si, bias, floor, dbOut) -> sum d^2: one feature's outputs over the batch,
 *   s = pre + bias, d = max(s, floor) - x, g = si d where s > floor (else 0); stores sum g at dbOut.
 *   g may alias pre.
 */
import { i32Const as i32c, localGet as get, localSet as set, WasmArena } from '../../lab/core/index.ts';
import { OP, SIMD, T, section, simd, str, uleb } from './simd.ts';

const I32_MUL = 0x6c;
const F32_STORE = 0x38;
const LOAD32_SPLAT = 0x09;
const V128_CONST = 0x0c;

/** Rows of C per nn call and floats of C per column block. */
export const NN_ROWS = 4;
export const NN_COLS = 8;
/** Rows of A and of B per dot call. */
export const DOT_A = 4;
export const DOT_B = 2;

const addTo = (ptr: number, step: number[]) => [...get(ptr), ...step, OP.i32Add, ...set(ptr)];
const vzero = () => [...simd(V128_CONST), ...new Array<number>(16).fill(0)];
const vload = (ptr: number, off: number) => [...get(ptr), ...simd(SIMD.load), 4, ...uleb(off)];
const vstore = (ptr: number, off: number, value: number[]) => [...get(ptr), ...value, ...simd(SIMD.store), 4, ...uleb(off)];
const hsum = (v: number) => [
  ...get(v), ...simd(SIMD.extractLane), 0,
  ...get(v), ...simd(SIMD.extractLane), 1, 0x92,
  ...get(v), ...simd(SIMD.extractLane), 2, 0x92,
  ...get(v), ...simd(SIMD.extractLane), 3, 0x92,
];
/** Decrements local `i` and loops while it is non-zero (the loop body runs at least once). */
const countdown = (i: number) => [...get(i), ...i32c(1), OP.i32Sub, OP.localTee, i, OP.brIf, 0];


function fnBody(locals: [number, number][], code: number[]): number[] {
  const body = [...uleb(locals.length), ...locals.flatMap(([count, type]) => [...uleb(count), type]), ...code, OP.end];
  return [...uleb(body.length), ...body];
}

function nnBody(): number[] {
  const [c, a, b, K, N8, sak, sbk, sci] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [pa, pb, k, pc, j, cj, bj] = [8, 9, 10, 11, 12, 13, 14];
  const acc = (r: number, q: number) => 15 + r * 2 + q;
  const [b0, b1, s] = [23, 24, 25];
  const code: number[] = [
    ...get(c), ...set(cj), ...get(b), ...set(bj), ...get(N8), ...set(j),
    OP.block, T.void, ...get(j), OP.i32Eqz, OP.brIf, 0,
    OP.loop, T.void,
  ];
  for (let r = 0; r < NN_ROWS; r++) for (let q = 0; q < 2; q++) code.push(...vzero(), ...set(acc(r, q)));
  code.push(
    ...get(a), ...set(pa), ...get(bj), ...set(pb), ...get(K), ...set(k),
    OP.block, T.void, ...get(k), OP.i32Eqz, OP.brIf, 0,
    OP.loop, T.void,
    ...vload(pb, 0), ...set(b0), ...vload(pb, 16), ...set(b1),
  );
  for (let r = 0; r < NN_ROWS; r++) {
    code.push(...get(pa), ...simd(LOAD32_SPLAT), 2, ...uleb(4 * r), ...set(s));
    for (let q = 0; q < 2; q++) {
      code.push(...get(acc(r, q)), ...get(s), ...get(q === 0 ? b0 : b1), ...simd(SIMD.f32x4Mul), ...simd(SIMD.f32x4Add), ...set(acc(r, q)));
    }
  }
  code.push(...addTo(pa, get(sak)), ...addTo(pb, get(sbk)), ...countdown(k), OP.end, OP.end, ...get(cj), ...set(pc));
  for (let r = 0; r < NN_ROWS; r++) {
    code.push(...vstore(pc, 0, get(acc(r, 0))), ...vstore(pc, 16, get(acc(r, 1))));
    if (r < NN_ROWS - 1) code.push(...addTo(pc, get(sci)));
  }
  code.push(...addTo(cj, i32c(32)), ...addTo(bj, i32c(32)), ...countdown(j), OP.end, OP.end);
  return fnBody([[7, T.i32], [11, T.v128]], code);
}

function dotBody(): number[] {
  const [c, a, b, K4, sa, sb, sci] = [0, 1, 2, 3, 4, 5, 6];
  const pa = (r: number) => 7 + r; // 7..10
  const pb = (q: number) => 11 + q; // 11..12
  const k = 13;
  const acc = (r: number, q: number) => 14 + r * DOT_B + q; // 14..21
  const va = (r: number) => 22 + r; // 22..25
  const vb = (q: number) => 26 + q; // 26..27
  const code: number[] = [...get(a), ...set(pa(0)), ...get(b), ...set(pb(0))];
  for (let r = 1; r < DOT_A; r++) code.push(...get(pa(r - 1)), ...get(sa), OP.i32Add, ...set(pa(r)));
  for (let q = 1; q < DOT_B; q++) code.push(...get(pb(q - 1)), ...get(sb), OP.i32Add, ...set(pb(q)));
  for (let r = 0; r < DOT_A; r++) for (let q = 0; q < DOT_B; q++) code.push(...vzero(), ...set(acc(r, q)));
  code.push(...get(K4), ...set(k), OP.block, T.void, ...get(k), OP.i32Eqz, OP.brIf, 0, OP.loop, T.void);
  for (let r = 0; r < DOT_A; r++) code.push(...vload(pa(r), 0), ...set(va(r)));
  for (let q = 0; q < DOT_B; q++) code.push(...vload(pb(q), 0), ...set(vb(q)));
  for (let r = 0; r < DOT_A; r++) {
    for (let q = 0; q < DOT_B; q++) {
      code.push(...get(acc(r, q)), ...get(va(r)), ...get(vb(q)), ...simd(SIMD.f32x4Mul), ...simd(SIMD.f32x4Add), ...set(acc(r, q)));
    }
  }
  for (let r = 0; r < DOT_A; r++) code.push(...addTo(pa(r), i32c(16)));
  for (let q = 0; q < DOT_B; q++) code.push(...addTo(pb(q), i32c(16)));
  code.push(...countdown(k), OP.end, OP.end);
  for (let r = 0; r < DOT_A; r++) {
    for (let q = 0; q < DOT_B; q++) {
      // c + r sci + 4 q
      code.push(...get(c), ...get(sci), ...i32c(r), I32_MUL, OP.i32Add, ...hsum(acc(r, q)), F32_STORE, 2, ...uleb(4 * q));
    }
  }
  return fnBody([[7, T.i32], [14, T.v128]], code);
}

function lossrowBody(): number[] {
  const [pre, x, g, n4, si, bias, floor, dbOut] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [dd, gs, vsi, vb, vf, s, d, gv] = [8, 9, 10, 11, 12, 13, 14, 15];
  const code: number[] = [
    ...get(si), ...simd(SIMD.f32x4Splat), ...set(vsi),
    ...get(bias), ...simd(SIMD.f32x4Splat), ...set(vb),
    ...get(floor), ...simd(SIMD.f32x4Splat), ...set(vf),
    ...vzero(), ...set(dd), ...vzero(), ...set(gs),
    OP.block, T.void, ...get(n4), OP.i32Eqz, OP.brIf, 0, OP.loop, T.void,
    ...vload(pre, 0), ...get(vb), ...simd(SIMD.f32x4Add), ...set(s),
    ...get(s), ...get(vf), ...simd(SIMD.f32x4Max), ...vload(x, 0), ...simd(SIMD.f32x4Sub), ...set(d),
    ...get(dd), ...get(d), ...get(d), ...simd(SIMD.f32x4Mul), ...simd(SIMD.f32x4Add), ...set(dd),
    ...get(d), ...get(vsi), ...simd(SIMD.f32x4Mul), ...get(s), ...get(vf), ...simd(SIMD.f32x4Gt), ...simd(SIMD.and), ...set(gv),
    ...vstore(g, 0, get(gv)),
    ...get(gs), ...get(gv), ...simd(SIMD.f32x4Add), ...set(gs),
    ...addTo(pre, i32c(16)), ...addTo(x, i32c(16)), ...addTo(g, i32c(16)),
    ...countdown(n4), OP.end, OP.end,
    ...get(dbOut), ...hsum(gs), F32_STORE, 2, 0,
    ...hsum(dd),
  ];
  return fnBody([[8, T.v128]], code);
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const { i32, f32 } = T;
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [
      3,
      T.func, 8, i32, i32, i32, i32, i32, i32, i32, i32, 0,
      T.func, 7, i32, i32, i32, i32, i32, i32, i32, 0,
      T.func, 8, i32, i32, i32, i32, f32, f32, f32, i32, 1, f32,
    ]),
    ...section(2, [1, ...str('env'), ...str('mem'), 0x02, 0x00, 0x01]),
    ...section(3, [3, 0, 1, 2]),
    ...section(7, [3, ...str('nn'), 0x00, 0, ...str('dot'), 0x00, 1, ...str('lossrow'), 0x00, 2]),
    ...section(10, [3, ...nnBody(), ...dotBody(), ...lossrowBody()]),
  ]);
}

let compiled: WebAssembly.Module | undefined;

export type NnFn = (c: number, a: number, b: number, K: number, N8: number, sak: number, sbk: number, sci: number) => void;
export type DotFn = (c: number, a: number, b: number, K4: number, sa: number, sb: number, sci: number) => void;
export type LossRowFn = (pre: number, x: number, g: number, n4: number, si: number, bias: number, floor: number, dbOut: number) => number;

/** A private wasm memory with the three kernels; regions are float indices into `f32` (16-byte aligned). */
export class GemmArena extends WasmArena {
  readonly nn: NnFn;
  readonly dot: DotFn;
  readonly lossrow: LossRowFn;

  constructor(floats: number) {
    super((compiled ??= new WebAssembly.Module(moduleBytes())), floats, 'GemmArena');
    this.nn = this.exports.nn as NnFn;
    this.dot = this.exports.dot as DotFn;
    this.lossrow = this.exports.lossrow as LossRowFn;
  }

  /**
   * C[M x N] = A B with A stored k-major (A(i, k) at float a + i + k lda), B[k, j] at b + k ldb + j,
   * C[i, j] at c + i ldc + j. M must be a multiple of NN_ROWS and N of NN_COLS (pad with zeros).
   */
  matmulKMajor(c: number, a: number, b: number, M: number, N: number, K: number, lda: number, ldb: number, ldc: number): void {
    if (M % NN_ROWS !== 0 || N % NN_COLS !== 0) throw new Error(`matmulKMajor: M=${M}, N=${N} not padded to ${NN_ROWS}, ${NN_COLS}`);
    for (let i = 0; i < M; i += NN_ROWS) this.nn((c + i * ldc) << 2, (a + i) << 2, b << 2, K, N / NN_COLS, lda << 2, ldb << 2, ldc << 2);
  }

  /**
   * C[M x N] = A B^T contracted along the contiguous axis: C[i, j] = sum_{k < K} A[a + i lda + k] B[b + j ldb + k],
   * C[i, j] at c + i ldc + j. M must be a multiple of DOT_A, N of DOT_B and K of 4 (pad with zeros).
   */
  matmulDot(c: number, a: number, b: number, M: number, N: number, K: number, lda: number, ldb: number, ldc: number): void {
    if (M % DOT_A !== 0 || N % DOT_B !== 0 || K % 4 !== 0) throw new Error(`matmulDot: M=${M}, N=${N}, K=${K} not padded`);
    for (let i = 0; i < M; i += DOT_A) {
      for (let j = 0; j < N; j += DOT_B) this.dot((c + i * ldc + j) << 2, (a + i * lda) << 2, (b + j * ldb) << 2, K / 4, lda << 2, ldb << 2, ldc << 2);
    }
  }
}

/** `v` rounded up to a multiple of `q`. */
export function padTo(v: number, q: number): number {
  return Math.ceil(v / q) * q;
}
