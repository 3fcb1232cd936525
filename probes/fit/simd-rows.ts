/**
 * The row terms of a Newton step (logistic-rows.ts rowTerms) on WebAssembly SIMD, two rows per f64x2, in
 * double precision: for each row, e = eta + dEta, t = exp(-|e|),
 *
 *   p = 1 / (1 + t) if e >= 0 else t / (1 + t)          (the sigmoid, from one exp)
 *   r = cw (p - y),  d = cw p (1 - p)                   (residual and IRLS weight; cw = C w)
 *   loss += w (max(e, 0) + log1p(t) - y e)              (the weighted log-loss, softplus(e) - y e)
 *
 * stored with etaTry = e, and d also as float32 for the Hessian-vector product (simd-hvp.ts). V8's
 * Math.exp and Math.log1p cost about 20-25 ns each here (calls into its C library), which made the JS loop
 * about 80 ns a row, the largest per-step cost of the small-k fits; wasm has no exp or log, so both are
 * written out as polynomials:
 *
 *   exp(a), a in [-708, 0]: a = k ln2 + s (Cody-Waite, ln2 in two parts, as fdlibm), |s| <= ln2 / 2,
 *     exp(s) by its Taylor series to s^13 (truncation < 1e-17 relative; Estrin's scheme), times 2^k built in the exponent
 *     bits. Below -708 (exp < 3.3e-308, where 2^k would be subnormal) a is clamped to -708: p, r, d and
 *     the loss then differ from the exact values by less than 3.3e-308.
 *   log1p(t), t in [0, 1]: 2 atanh(u), u = t / (2 + t) in [0, 1/3], by its series in u^2 (<= 1/9) to
 *     u^33 (truncation < 1e-17 relative); no cancellation for small t.
 *
 * Both within a few ulps of the library functions (tested against Math.exp / Math.log1p over the range).
 *
 *   (func $rows (param $eta $deta $etaTry $y $w $cw $r $d $d32 $nbytes $acc i32))
 *     f64 arrays (eta, deta, etaTry, y as 0/1, w, cw, r, d) and d32 (f32) at byte offsets, $nbytes = rows * 8
 *     (a multiple of 16); acc: 4 f64, the loss's two lanes then the residuals' two lanes (their sum is
 *     the intercept's gradient), overwritten.
 */
import { i32Const as i32c, localGet as get, localSet as set, OP, section, SIMD, simd, str as name, T, uleb } from '../../lab/core/index.ts';

const I32 = T.i32;
const V128 = T.v128;
const load = (ptr: number) => [...get(ptr), ...get(P), OP.i32Add, ...simd(SIMD.load), 4, 0];
/** Stores the value on the stack top after pushing the address first: address, value, then this. */
const STORE = [...simd(SIMD.store), 4, 0];
const F64X2 = { ge: SIMD.f64x2Ge, abs: SIMD.f64x2Abs, neg: SIMD.f64x2Neg, add: SIMD.f64x2Add, sub: SIMD.f64x2Sub, mul: SIMD.f64x2Mul, div: SIMD.f64x2Div, max: SIMD.f64x2Max, nearest: SIMD.f64x2Nearest };
const op = (o: number) => simd(o);

/** v128.const of two equal f64 lanes. */
function f64s(x: number): number[] {
  const b = Buffer.alloc(16);
  b.writeDoubleLE(x, 0);
  b.writeDoubleLE(x, 8);
  return [...simd(0x0c), ...b];
}

/** v128.const of two equal i64 lanes. */
function i64s(x: number): number[] {
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(BigInt(x), 0);
  b.writeBigInt64LE(BigInt(x), 8);
  return [...simd(0x0c), ...b];
}

// Params 0..10; locals: 11 p (i32); v128 from 12.
const [ETA, DETA, ETA_TRY, Y, W, CW, R, D, D32, NB, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const P = 11;
const [E, A, K, S, TT, Q, PR, RV, DV, U, U2, ACC_L, ACC_G, YV] = [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
/** s^2, s^4, s^8 (26-28) and u^4 .. u^32 (29-32): the powers Estrin's scheme multiplies by. */
const [S2, U4] = [26, 29];
const V128_LOCALS = 21;

const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;

/**
 * Estrin's scheme: sum_i c[i] x^i (c ascending) as a tree, c_low(x) + x^h c_high(x) with h the largest
 * power of two below c's length, so the products at each level are independent (depth log2 of the
 * degree, where Horner's rule is one long chain of dependent multiply-adds: that chain, not the
 * arithmetic, bounded the kernel). pow(h) pushes x^h.
 */
function estrin(c: number[], pow: (h: number) => number[]): number[] {
  if (c.length === 1) return f64s(c[0]!);
  let h = 1;
  while (2 * h < c.length) h *= 2;
  return [...estrin(c.slice(0, h), pow), ...estrin(c.slice(h), pow), ...pow(h), ...op(F64X2.mul), ...op(F64X2.add)];
}

/** Locals x^2, x^4, ... x^top from x (in local `x`), into locals from `first` on; returns pow(h). */
function powers(x: number, first: number, top: number): { code: number[]; pow: (h: number) => number[] } {
  const code: number[] = [];
  const at = new Map<number, number>([[1, x]]);
  let local = first;
  for (let h = 2; h <= top; h *= 2) {
    code.push(...get(at.get(h / 2)!), ...get(at.get(h / 2)!), ...op(F64X2.mul), ...set(local));
    at.set(h, local++);
  }
  return { code, pow: (h) => get(at.get(h)!) };
}

function rowsBody(): number[] {
  const b: number[] = [];
  const zero = f64s(0);
  b.push(...zero, ...set(ACC_L), ...zero, ...set(ACC_G));
  const body: number[] = [];
  // e = eta + dEta; etaTry = e.
  body.push(...load(ETA), ...load(DETA), ...op(F64X2.add), ...set(E));
  body.push(...get(ETA_TRY), ...get(P), OP.i32Add, ...get(E), ...STORE);
  // a = max(-|e|, -708)
  body.push(...get(E), ...op(F64X2.abs), ...op(F64X2.neg), ...f64s(-708), ...op(F64X2.max), ...set(A));
  // k = nearest(a / ln2); s = (a - k ln2_hi) - k ln2_lo
  body.push(...get(A), ...f64s(Math.LOG2E), ...op(F64X2.mul), ...op(F64X2.nearest), ...set(K));
  body.push(...get(A), ...get(K), ...f64s(LN2_HI), ...op(F64X2.mul), ...op(F64X2.sub));
  body.push(...get(K), ...f64s(LN2_LO), ...op(F64X2.mul), ...op(F64X2.sub), ...set(S));
  // exp(s) = sum_{i <= 13} s^i / i!, highest power first.
  const inv: number[] = [];
  let f = 1;
  for (let i = 0; i <= 13; i++) {
    if (i > 0) f *= i;
    inv.push(1 / f);
  }
  const sp = powers(S, S2, 8);
  body.push(...sp.code, ...estrin(inv, sp.pow));
  // times 2^k: ((int64) k + 1023) << 52 is 2^k's bit pattern (k in [-1022, 0]).
  body.push(
    ...get(K), ...op(SIMD.i32x4TruncSatF64x2SZero), ...op(SIMD.i64x2ExtendLowI32x4S), ...i64s(1023), ...op(SIMD.i64x2Add),
    ...i32c(52), ...op(SIMD.i64x2Shl), ...op(F64X2.mul), ...set(TT),
  ); // prettier-ignore
  // q = 1 / (1 + t); p = e >= 0 ? q : t q
  body.push(...f64s(1), ...f64s(1), ...get(TT), ...op(F64X2.add), ...op(F64X2.div), ...set(Q));
  body.push(...get(Q), ...get(TT), ...get(Q), ...op(F64X2.mul), ...get(E), ...f64s(0), ...op(F64X2.ge), ...op(SIMD.bitselect), ...set(PR));
  // r = cw (p - y); d = cw p (1 - p)
  body.push(...load(Y), ...set(YV));
  body.push(...load(CW), ...get(PR), ...get(YV), ...op(F64X2.sub), ...op(F64X2.mul), ...set(RV));
  body.push(...get(R), ...get(P), OP.i32Add, ...get(RV), ...STORE);
  body.push(...load(CW), ...get(PR), ...op(F64X2.mul), ...f64s(1), ...get(PR), ...op(F64X2.sub), ...op(F64X2.mul), ...set(DV));
  body.push(...get(D), ...get(P), OP.i32Add, ...get(DV), ...STORE);
  // d as float32: the low 8 bytes of demote(d) at d32 + p / 2.
  body.push(...get(D32), ...get(P), ...i32c(1), OP.i32ShrU, OP.i32Add, ...get(DV), ...op(SIMD.f32x4DemoteF64x2Zero), ...op(SIMD.store64Lane), 3, 0, 0);
  // log1p(t) = 2 u (1 + u^2 / 3 + u^4 / 5 + ... + u^32 / 33), u = t / (2 + t)
  body.push(...get(TT), ...f64s(2), ...get(TT), ...op(F64X2.add), ...op(F64X2.div), ...set(U));
  body.push(...get(U), ...get(U), ...op(F64X2.mul), ...set(U2));
  const series: number[] = [];
  for (let m = 0; m <= 16; m++) series.push(1 / (2 * m + 1));
  const up = powers(U2, U4, 16);
  body.push(...up.code, ...estrin(series, up.pow), ...get(U), ...op(F64X2.mul), ...f64s(2), ...op(F64X2.mul));
  // loss += w (max(e, 0) + log1p(t) - y e)
  body.push(...get(E), ...f64s(0), ...op(F64X2.max), ...op(F64X2.add), ...get(YV), ...get(E), ...op(F64X2.mul), ...op(F64X2.sub));
  body.push(...load(W), ...op(F64X2.mul), ...get(ACC_L), ...op(F64X2.add), ...set(ACC_L));
  body.push(...get(ACC_G), ...get(RV), ...op(F64X2.add), ...set(ACC_G));
  b.push(
    ...i32c(0), ...set(P),
    0x02, 0x40, 0x03, 0x40,
    ...get(P), ...get(NB), OP.i32GeU, 0x0d, 1,
    ...body,
    ...get(P), ...i32c(16), OP.i32Add, ...set(P),
    0x0c, 0, 0x0b, 0x0b,
  ); // prettier-ignore
  b.push(...get(ACC), ...get(ACC_L), ...STORE);
  b.push(...get(ACC), ...i32c(16), OP.i32Add, ...get(ACC_G), ...STORE);
  b.push(0x0b);
  return b;
}

export function rowsModule(): Uint8Array<ArrayBuffer> {
  const fn = [2, 1, I32, V128_LOCALS, V128, ...rowsBody()];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 11, ...new Array(11).fill(I32), 0]),
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('rows'), 0x00, 0]),
    ...section(10, [1, ...uleb(fn.length), ...fn]),
  ]; // prettier-ignore
  return Uint8Array.from(bytes);
}
