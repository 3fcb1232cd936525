/**
 * The correlation pass of `lab neurons` on WebAssembly SIMD: one kernel module that takes a chunk of a
 * hook as stored (f32, IEEE half bits, or u8 codes) and, slab by slab of rows, decodes it, shifts it,
 * and accumulates each column's sum and sum of squares and its cross products with the S selected
 * columns. Assembled from opcodes with lab/core's emitter, like probes/fit/simd-hvp.ts.
 *
 * Per slab of `slabRows` rows (row-major, `np` = n rounded up to 8 columns):
 *   decode16/32/8(src, dst, shift, qp, rows, rowBytes, np4): v[r][c] = f32(x[r][c] - shift[c]), where x is
 *     the value exactly as the store reader decodes it: f16 bits to f32 by integer arithmetic (exact for
 *     every one of the 65,536 patterns, subnormals included, with no denormal arithmetic), u8 as
 *     f32(offset + scale * q) evaluated in f64 as the reader does, f32 as is. Row r's vector loop runs
 *     to np, so it reads up to np - n values past the row (the next row's, or the region's slack):
 *     those land in the padding columns, whose lanes are never read back.
 *   moments(slab, rows, np8, stride, sum, sq): per column, sum v and sum v*v over the slab in f32
 *     lanes (4 columns a lane group, 8 a step), added into f64 totals at the end of the slab.
 *   cross(slab, rows, np8, stride, a, tiles, out): out[s][c] += sum_r a[r][s] v[r][c], in tiles of
 *     TILE selected x 8 columns (2 x TILE f32x4 accumulators over the slab's rows, each a[r][s] one
 *     load32_splat), added into f64 at the end of the slab.
 *
 * Precision, pinned: each value rounded once to f32 after the shift (the shift is the hook's first-chunk
 * mean, so the sums are of centred values); products rounded to f32 and summed in f32 over at most
 * `slabRows` (128) rows; every slab's sums added in f64. probes/simd-comoments.test.ts checks the decode
 * bit for bit and the sums against f64 sums of the same values; neuron-evidence.test.ts checks the
 * correlations against numpy.corrcoef in float64 within 1e-6.
 */
import { OP, SIMD, T, WasmArena, i32Const as i32c, localGet as get, localSet as set, section, simd, str, uleb } from '../lab/core/index.ts';
import type { StoreDtype } from '../activations/index.ts';

const DTYPE_BYTES: Record<StoreDtype, number> = { f32: 4, f16: 2, u8: 1 };

/** Selected columns per tile of the cross kernel (2 x TILE accumulators, 2 column vectors, 1 splat). */
export const TILE = 4;
/** Rows per slab: the f32 block over which sums run before they go to f64. */
export const SLAB_ROWS = 128;

const memarg = (off: number) => [0, ...uleb(off)]; // alignment hint 1 byte: every access may be unaligned
const vload = (ptr: number, off = 0) => [...get(ptr), ...simd(SIMD.load), ...memarg(off)];
const vstore = (ptr: number, off: number, value: number[]) => [...get(ptr), ...value, ...simd(SIMD.store), ...memarg(off)];
const op = (...codes: number[]) => codes.flatMap((c) => simd(c));
const splat = (v: number) => [...simd(SIMD.v128Const), ...new Array(4).fill(0).flatMap(() => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff])];
const bump = (p: number, by: number[]) => [...get(p), ...by, OP.i32Add, ...set(p)];
/** while (i != 0) { body; i-- } */
const repeat = (i: number, body: number[]) => [
  OP.block, T.void, ...get(i), OP.i32Eqz, OP.brIf, 0, OP.loop, T.void,
  ...body,
  ...get(i), ...i32c(1), OP.i32Sub, OP.localTee, i, OP.brIf, 0, OP.end, OP.end,
]; // prettier-ignore
/** The high two lanes of v moved to the low two. */
const high = (v: number[]) => [...v, ...v, ...simd(SIMD.shuffle), 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** f64 pairs at ptr + off, ptr + off + 16 += the f32x4 in local v, widened. */
const flush = (ptr: number, off: number, v: number) => [
  ...get(ptr), ...vload(ptr, off), ...get(v), ...op(SIMD.f64x2PromoteLowF32x4, SIMD.f64x2Add), ...simd(SIMD.store), ...memarg(off),
  ...get(ptr), ...vload(ptr, off + 16), ...high(get(v)), ...op(SIMD.f64x2PromoteLowF32x4, SIMD.f64x2Add), ...simd(SIMD.store), ...memarg(off + 16),
]; // prettier-ignore

function fnBody(locals: [number, number][], code: number[]): number[] {
  const body = [...uleb(locals.length), ...locals.flatMap(([count, type]) => [...uleb(count), type]), ...code, OP.end];
  return [...uleb(body.length), ...body];
}

// decode*: params 0 src, 1 dst, 2 shift, 3 qp, 4 rows, 5 rowBytes, 6 np4; locals 7 ps, 8 psh, 9 q, 10 pq (i32), 11.. v128.
const [SRC, DST, SHIFT, QP, ROWS, ROW_BYTES, NP4, PS, PSH, Q, PQ] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/** The decode loops around `value` (pushes the unshifted f32x4 at ps, may use locals from 11). */
function decodeBody(value: number[], step: number, extra: number[], v128Locals: number, qpStep = 0): number[] {
  const code = [
    ...repeat(ROWS, [
      ...get(SRC), ...set(PS), ...get(SHIFT), ...set(PSH), ...get(QP), ...set(PQ), ...get(NP4), ...set(Q),
      ...repeat(Q, [
        ...vstore(DST, 0, [...value, ...vload(PSH), ...simd(SIMD.f32x4Sub)]),
        ...bump(PS, i32c(step)), ...bump(DST, i32c(16)), ...bump(PSH, i32c(16)), ...(qpStep ? bump(PQ, i32c(qpStep)) : []),
      ]),
      ...bump(SRC, get(ROW_BYTES)),
    ]),
  ]; // prettier-ignore
  return fnBody([[4, T.i32], [v128Locals, T.v128]], [...extra, ...code]);
}

/**
 * f16 -> f32 on four lanes (F. Giesen's half_to_float_fast4, branch-free): o = (h & 0x7fff) << 13 plus
 * the exponent rebias; Inf/NaN get the rest of the exponent; zero/subnormal (exponent 0) are renormalised
 * by subtracting 2^-14 from 2^-14 (1 + m / 1024), which is exact; then the sign.
 */
function decode16(): number[] {
  const [X, O, E, MANT, EXP, ADJ, ONE, MAGIC, SIGN, ZERO] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
  const consts = [
    ...splat(0x7fff), ...set(MANT), ...splat(0x0f800000), ...set(EXP), ...splat(0x38000000), ...set(ADJ),
    ...splat(0x00800000), ...set(ONE), ...splat(0x38800000), ...set(MAGIC), ...splat(0x8000), ...set(SIGN), ...splat(0), ...set(ZERO),
  ]; // prettier-ignore
  const value = [
    ...get(PS), ...simd(SIMD.load16x4U), ...memarg(0), ...set(X),
    ...get(X), ...get(MANT), ...simd(SIMD.and), ...i32c(13), ...simd(SIMD.i32x4Shl), ...set(O),
    ...get(O), ...get(EXP), ...simd(SIMD.and), ...set(E),
    ...get(O), ...get(ADJ), ...simd(SIMD.i32x4Add), ...set(O),
    ...get(O), ...get(E), ...get(EXP), ...simd(SIMD.i32x4Eq), ...get(ADJ), ...simd(SIMD.and), ...simd(SIMD.i32x4Add), ...set(O),
    ...get(O), ...get(ONE), ...simd(SIMD.i32x4Add), ...get(MAGIC), ...simd(SIMD.f32x4Sub),
    ...get(O), ...get(E), ...get(ZERO), ...simd(SIMD.i32x4Eq), ...simd(SIMD.bitselect),
    ...get(X), ...get(SIGN), ...simd(SIMD.and), ...i32c(16), ...simd(SIMD.i32x4Shl), ...simd(SIMD.or),
  ]; // prettier-ignore
  return decodeBody(value, 8, consts, 10);
}

function decode32(): number[] {
  return decodeBody(vload(PS), 16, [], 1);
}

/**
 * u8: q widened to i32, then to f64 pairs, f64 scale * q + offset (exact product, one rounding, as the
 * reader's JS evaluates it), demoted to f32. qp holds, per 4 columns, 64 bytes: scale c0 c1 | scale c2 c3
 * | offset c0 c1 | offset c2 c3 (f64).
 */
function decode8(): number[] {
  const X = 11;
  const half = (lane: number[], off: number) => [...lane, ...simd(SIMD.f64x2ConvertLowI32x4U), ...vload(PQ, off), ...simd(SIMD.f64x2Mul), ...vload(PQ, off + 32), ...simd(SIMD.f64x2Add), ...simd(SIMD.f32x4DemoteF64x2Zero)];
  const value = [
    ...get(PS), ...simd(SIMD.load32Zero), ...memarg(0), ...op(SIMD.i16x8ExtendLowI8x16U, SIMD.i32x4ExtendLowI16x8U), ...set(X),
    ...half(get(X), 0), ...half(high(get(X)), 16),
    ...simd(SIMD.shuffle), 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23,
  ]; // prettier-ignore
  return decodeBody(value, 4, [], 1, 64);
}

/** moments(slab, rows, np8, stride, sum, sq): params 0..5; locals 6 px, 7 r (i32), 8 x0, 9 x1, 10..13 s0 s1 q0 q1. */
function moments(): number[] {
  const [SLAB, R, NP8, STRIDE, SUM, SQ, PX, RR, X0, X1, S0, S1, Q0, Q1] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const acc = (a: number, x: number, sq: boolean) => [...get(a), ...get(x), ...(sq ? [...get(x), ...simd(SIMD.f32x4Mul)] : []), ...simd(SIMD.f32x4Add), ...set(a)];
  const code = repeat(NP8, [
    ...[S0, S1, Q0, Q1].flatMap((a) => [...splat(0), ...set(a)]),
    ...get(SLAB), ...set(PX), ...get(R), ...set(RR),
    ...repeat(RR, [
      ...vload(PX, 0), ...set(X0), ...vload(PX, 16), ...set(X1),
      ...acc(S0, X0, false), ...acc(S1, X1, false), ...acc(Q0, X0, true), ...acc(Q1, X1, true),
      ...bump(PX, get(STRIDE)),
    ]),
    ...flush(SUM, 0, S0), ...flush(SUM, 32, S1), ...flush(SQ, 0, Q0), ...flush(SQ, 32, Q1),
    ...bump(SLAB, i32c(32)), ...bump(SUM, i32c(64)), ...bump(SQ, i32c(64)),
  ]); // prettier-ignore
  return fnBody([[2, T.i32], [6, T.v128]], code);
}

/**
 * cross(slab, rows, np8, stride, a, tiles, out): params 0..6; a is rows x (tiles * TILE) f32, row-major;
 * out is (tiles * TILE) x np f64. Locals 7 px, 8 pa, 9 r, 10 t, 11 po, 12 astep, 13 ostep, 14 ast (i32);
 * 15 x0, 16 x1, 17 s, 18.. acc (v128).
 */
function cross(): number[] {
  const [SLAB, R, NP8, STRIDE, A, TILES, OUT, PX, PA, RR, TT, PO, ASTEP, OSTEP, AST, X0, X1, S] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const acc = (t: number, q: number) => 18 + 2 * t + q;
  const tile: number[] = [];
  for (let t = 0; t < TILE; t++) for (let q = 0; q < 2; q++) tile.push(...splat(0), ...set(acc(t, q)));
  tile.push(...get(SLAB), ...set(PX), ...get(AST), ...set(PA), ...get(R), ...set(RR));
  const row: number[] = [...vload(PX, 0), ...set(X0), ...vload(PX, 16), ...set(X1)];
  for (let t = 0; t < TILE; t++) {
    row.push(...get(PA), ...simd(SIMD.load32Splat), ...memarg(4 * t), ...set(S));
    for (let q = 0; q < 2; q++) row.push(...get(acc(t, q)), ...get(S), ...get(q ? X1 : X0), ...op(SIMD.f32x4Mul, SIMD.f32x4Add), ...set(acc(t, q)));
  }
  row.push(...bump(PX, get(STRIDE)), ...bump(PA, get(ASTEP)));
  tile.push(...repeat(RR, row));
  for (let t = 0; t < TILE; t++) tile.push(...flush(PO, 0, acc(t, 0)), ...flush(PO, 32, acc(t, 1)), ...bump(PO, get(OSTEP)));
  tile.push(...bump(AST, i32c(4 * TILE)));
  const code = [
    ...get(TILES), ...i32c(4 * TILE), OP.i32Mul, ...set(ASTEP),
    ...get(STRIDE), ...i32c(1), OP.i32Shl, ...set(OSTEP),
    ...repeat(NP8, [
      ...get(OUT), ...set(PO), ...get(A), ...set(AST), ...get(TILES), ...set(TT),
      ...repeat(TT, tile),
      ...bump(SLAB, i32c(32)), ...bump(OUT, i32c(64)),
    ]),
  ]; // prettier-ignore
  return fnBody([[8, T.i32], [3 + 2 * TILE, T.v128]], code);
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const { i32 } = T;
  const names = ['decode16', 'decode32', 'decode8', 'moments', 'cross'];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [2, T.func, 7, i32, i32, i32, i32, i32, i32, i32, 0, T.func, 6, i32, i32, i32, i32, i32, i32, 0]),
    ...section(2, [1, ...str('env'), ...str('mem'), 0x02, 0x00, 0x01]),
    ...section(3, [5, 0, 0, 0, 1, 0]),
    ...section(7, [5, ...names.flatMap((n, i) => [...str(n), 0x00, i])]),
    ...section(10, [5, ...decode16(), ...decode32(), ...decode8(), ...moments(), ...cross()]),
  ]); // prettier-ignore
}

let compiled: WebAssembly.Module | undefined;

type Fn7 = (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => void;
type Fn6 = (a: number, b: number, c: number, d: number, e: number, f: number) => void;

/** Columns rounded up to the kernels' 8-column step. */
const pad8 = (n: number) => Math.ceil(n / 8) * 8;

export interface ComomentsInit {
  /** Neurons of each hook the pass covers. */
  widths: number[];
  /** Selected columns (the `a` side of the cross products). */
  selected: number;
  /** The most rows of any chunk. */
  maxRows: number;
  /** The store's encoding (sizes the region a chunk's file is read into). */
  dtype: StoreDtype;
  slabRows?: number;
}

/** Per hook: sum and sum of squares of each neuron's shifted values, cross[s * n + j] with selected s. */
export interface HookComoments {
  shift: Float32Array;
  sum: Float64Array;
  sq: Float64Array;
  cross: Float64Array;
}

/**
 * One private wasm memory: a region for one chunk of one hook as read from its file, a decoded slab,
 * the chunk's selected columns (shifted), and per hook its shift and f64 accumulators. Its size is fixed
 * by the largest chunk, so memory stays bounded by a chunk whatever the store's length.
 */
export class Comoments extends WasmArena {
  private readonly fns: { decode16: Fn7; decode32: Fn7; decode8: Fn7; moments: Fn6; cross: Fn7 };
  private readonly slabRows: number;
  private readonly sp: number;
  private readonly rawAt: number;
  private readonly rawBytes: number;
  private readonly slabAt: number;
  private readonly shiftAt: number;
  private readonly qpAt: number;
  private readonly aAt: number;
  private readonly hooks: Array<{ n: number; np: number; sumAt: number; sqAt: number; crossAt: number; shift?: Float32Array }>;

  constructor(init: ComomentsInit) {
    const slabRows = init.slabRows ?? SLAB_ROWS;
    const npMax = pad8(Math.max(...init.widths));
    const sp = Math.ceil(init.selected / TILE) * TILE;
    // Raw region: the largest chunk as stored, plus slack for the last row's overrun (at most 7 values).
    const rawFloats = Math.ceil((init.maxRows * Math.max(...init.widths) * DTYPE_BYTES[init.dtype]) / 4) + 16;
    const hookFloats = init.widths.reduce((t, n) => t + pad8(n) * 2 * (2 + sp), 0);
    const floats = rawFloats + slabRows * npMax + npMax + npMax * 4 + init.maxRows * sp + hookFloats + 64;
    super((compiled ??= new WebAssembly.Module(moduleBytes())), floats, 'Comoments');
    const e = this.exports;
    this.fns = { decode16: e.decode16 as Fn7, decode32: e.decode32 as Fn7, decode8: e.decode8 as Fn7, moments: e.moments as Fn6, cross: e.cross as Fn7 };
    this.slabRows = slabRows;
    this.sp = sp;
    this.rawAt = this.alloc(rawFloats) * 4;
    this.rawBytes = rawFloats * 4;
    this.slabAt = this.alloc(slabRows * npMax) * 4;
    this.shiftAt = this.alloc(npMax) * 4;
    this.qpAt = this.alloc(npMax * 4) * 4;
    this.aAt = this.alloc(init.maxRows * sp) * 4;
    this.hooks = init.widths.map((n) => {
      const np = pad8(n);
      return { n, np, sumAt: this.alloc(np * 2) * 4, sqAt: this.alloc(np * 2) * 4, crossAt: this.alloc(sp * np * 2) * 4 };
    });
  }

  /** The region the next chunk's file is read into (`bytes` long, 16-byte aligned). */
  raw(bytes: number): Uint8Array {
    if (bytes > this.rawBytes) throw new Error(`Comoments: a chunk of ${bytes} bytes exceeds the ${this.rawBytes} sized for`);
    return new Uint8Array(this.f32.buffer, this.rawAt, bytes);
  }

  /**
   * Accumulates the chunk now in `raw` (rows x n of hook h, as stored). `qparams`: u8's [scale..., offset...]
   * (one group or one per neuron). `gather`: for the hook the selected columns belong to, their indices;
   * their shifted values become the chunk's `a` rows, which the other hooks' calls of the same chunk then
   * use, so call it first in each chunk. The first chunk of a hook fixes its shift (its mean per neuron).
   */
  add(h: number, rows: number, dtype: StoreDtype, qparams?: Float32Array, gather?: number[]): void {
    const k = this.hooks[h]!;
    const { n, np } = k;
    const buf = this.f32.buffer;
    if (dtype === 'u8') {
      const groups = qparams!.length / 2;
      const qp = new Float64Array(buf, this.qpAt, np * 2);
      for (let c = 0; c < np; c++) {
        const g = groups === 1 ? 0 : c, at = (c >> 2) * 8 + (c & 3);
        qp[at] = c < n ? qparams![g]! : 0;
        qp[at + 4] = c < n ? qparams![groups + g]! : 0;
      }
    }
    const shiftView = new Float32Array(buf, this.shiftAt, np);
    if (!k.shift) {
      shiftView.fill(0);
      this.slabs(k, rows, dtype, () => {});
      const sum = new Float64Array(buf, k.sumAt, np);
      k.shift = new Float32Array(np);
      for (let c = 0; c < n; c++) k.shift[c] = rows > 0 ? sum[c]! / rows : 0;
      sum.fill(0);
      new Float64Array(buf, k.sqAt, np).fill(0);
    }
    shiftView.set(k.shift);
    const slab = new Float32Array(buf, this.slabAt, this.slabRows * np);
    const a = new Float32Array(buf, this.aAt, rows * this.sp);
    const sp = this.sp;
    this.slabs(k, rows, dtype, (r0, len) => {
      if (gather) {
        for (let r = 0; r < len; r++) {
          for (let s = 0; s < gather.length; s++) a[(r0 + r) * sp + s] = slab[r * np + gather[s]!]!;
        }
      }
      this.fns.cross(this.slabAt, len, np / 8, np * 4, this.aAt + r0 * sp * 4, sp / TILE, k.crossAt);
    });
  }

  /** Decodes each slab of the chunk and adds its moments; `then` runs the slab's cross products. */
  private slabs(k: Comoments['hooks'][number], rows: number, dtype: StoreDtype, then: (r0: number, len: number) => void): void {
    const bytes = DTYPE_BYTES[dtype];
    const decode = { f32: this.fns.decode32, f16: this.fns.decode16, u8: this.fns.decode8 }[dtype];
    for (let r0 = 0; r0 < rows; r0 += this.slabRows) {
      const len = Math.min(this.slabRows, rows - r0);
      decode(this.rawAt + r0 * k.n * bytes, this.slabAt, this.shiftAt, this.qpAt, len, k.n * bytes, k.np / 4);
      this.fns.moments(this.slabAt, len, k.np / 8, k.np * 4, k.sumAt, k.sqAt);
      then(r0, len);
    }
  }

  /** Fixes hook h's shift (instead of its first chunk's mean); tests use zero to see the decode itself. */
  setShift(h: number, shift: Float32Array): void {
    const k = this.hooks[h]!;
    k.shift = new Float32Array(k.np);
    k.shift.set(shift.subarray(0, k.n));
  }

  /** Hook h's totals so far (copies; the first `selected` rows of cross, n columns each). */
  result(h: number, selected: number): HookComoments {
    const k = this.hooks[h]!;
    const buf = this.f32.buffer;
    const cross = new Float64Array(selected * k.n);
    const all = new Float64Array(buf, k.crossAt, this.sp * k.np);
    for (let s = 0; s < selected; s++) cross.set(all.subarray(s * k.np, s * k.np + k.n), s * k.n);
    return {
      shift: (k.shift ?? new Float32Array(k.np)).slice(0, k.n),
      sum: new Float64Array(buf, k.sumAt, k.n).slice(),
      sq: new Float64Array(buf, k.sqAt, k.n).slice(),
      cross,
    };
  }

  /** Hook h's decoded, shifted slab after the last call (for tests): rows x n. */
  lastSlab(h: number, rows: number): Float32Array {
    const k = this.hooks[h]!;
    const slab = new Float32Array(this.f32.buffer, this.slabAt, rows * k.np);
    const out = new Float32Array(rows * k.n);
    for (let r = 0; r < rows; r++) out.set(slab.subarray(r * k.np, r * k.np + k.n), r * k.n);
    return out;
  }
}
