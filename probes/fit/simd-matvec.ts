/**
 * The two matrix-vector products of a Newton step on WebAssembly SIMD, in double precision:
 *
 *   dEta = Z s     (Z: n x k, column-major float32, s: k float64)
 *   g    = Z^T r   (r: n float64)
 *
 * Each f32x4 load of a column is widened to two f64x2 (f64x2.promote_low_f32x4), so every product and
 * sum is in double, as in the JS loops they replace (the gradient decides convergence, so it must stay
 * in double; only the Hessian-vector product, in simd-hvp.ts, uses single-precision products).
 * Assembled here from the opcodes:
 *
 *   (func $axpy (param $z $stride $k $s $out $len i32)     ;; out[i] += sum_j s[j] * z[j][i], i < len
 *     for j < k: sv = splat(s[j]); for p < len step 4: out[p..p+3] += sv * widen(z[j][p..p+3]))
 *   (func $dots (param $z $stride $k $r $g $len i32)       ;; g[j] = sum_i r[i] * z[j][i]
 *     for j < k: a0 = a1 = 0; for p < len step 4: a0 += widen_lo * r[p..p+1]; a1 += widen_hi * r[p+2..p+3]
 *                g[j] = lanes(a0 + a1))
 *
 * `len` is a multiple of 4; columns are padded with zeros to it. SimdColumns keeps a fit's Z and its row
 * state (eta, residuals, weights: simd-rows.ts's kernel computes them) in the kernels' memory, so a Newton
 * step copies nothing but its k coefficients in and its gradient out.
 */

import { i32Const as i32c, localGet as get, localSet as set, section, simd, str as name, uleb } from '../../lab/core/index.ts';
import { hvpModule } from './simd-hvp.ts';
import { rowsModule } from './simd-rows.ts';

const I32 = 0x7f;
const V128 = 0x7b;
const vload = (offset = 0) => [...simd(0x00), 4, ...uleb(offset)];
const vstore = (offset = 0) => [...simd(0x0b), 4, ...uleb(offset)];
const F64X2_SPLAT = 0x14;
const F64X2_EXTRACT = 0x21;
const F64X2_PROMOTE_LOW = 0x5f;
const F64X2_ADD = 0xf0;
const F64X2_MUL = 0xf2;
const I8X16_SHUFFLE = [0xfd, 0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_GE_U = 0x4f;
const F64_LOAD = [0x2b, 3, 0];
const F64_STORE = [0x39, 3, 0];
const F64_ADD = 0xa0;

// Params 0..5: z stride k vec out len. Locals: 6 j, 7 p, 8 zc, 9 q (i32); 10, 11, 12, 13 (v128).
const [Z, STRIDE, K, VEC, OUT, LEN, J, P, ZC, Q] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const [V1, V2, V3] = [11, 12, 13];
/** v128.const 0. */
const V128_ZERO = [...simd(0x0c), ...new Array(16).fill(0)];

/** for j < k { prologue; for p < len step 4 { inner }; epilogue } */
function columnsLoop(prologue: number[], inner: number[], epilogue: number[]): number[] {
  return [
    ...i32c(0), ...set(J),
    0x02, 0x40, 0x03, 0x40, // block, loop (columns)
    ...get(J), ...get(K), I32_GE_U, 0x0d, 1,
    ...get(Z), ...get(J), ...get(STRIDE), I32_MUL, I32_ADD, ...set(ZC),
    ...prologue,
    ...i32c(0), ...set(P),
    0x02, 0x40, 0x03, 0x40, // block, loop (rows)
    ...get(P), ...get(LEN), I32_GE_U, 0x0d, 1,
    ...inner,
    ...get(P), ...i32c(4), I32_ADD, ...set(P),
    0x0c, 0, 0x0b, 0x0b, // br 0, end loop, end block
    ...epilogue,
    ...get(J), ...i32c(1), I32_ADD, ...set(J),
    0x0c, 0, 0x0b, 0x0b,
  ]; // prettier-ignore
}

/** z column value at row p (4 floats) into V1; its low and high halves widened: pushes them on demand. */
const loadZ = [...get(ZC), ...get(P), ...i32c(4), I32_MUL, I32_ADD, ...vload(), ...set(V1)];
const lo = [...get(V1), ...simd(F64X2_PROMOTE_LOW)];
const hi = [...get(V1), ...get(V1), ...I8X16_SHUFFLE, ...simd(F64X2_PROMOTE_LOW)];
/** Q = base + p * 8 (a float64 vector at row p). */
const rowPtr = (base: number) => [...get(base), ...get(P), ...i32c(8), I32_MUL, I32_ADD, ...set(Q)];

// The four-column kernels (axpy and dots): k a multiple of 4 (kp; the padded columns are zero, and
// axpy's coefficients past k must be zero too). Locals: 6 j, 7 p, 8 zc0, 9 q, 10-12 zc1-zc3 (i32);
// 13-16 coefficient splats or accumulators, 17 lo, 18 hi, 19 x, 20 r lo, 21 r hi (v128).
const ZC4 = [8, 10, 11, 12];
const [A4, LO, HI, X4, RLO, RHI] = [13, 17, 18, 19, 20, 21];

/** for j < k step 4 { zc0..zc3 = columns j..j+3; prologue; for p < len step 4 { inner }; epilogue } */
function columns4Loop(prologue: number[], inner: number[], epilogue: number[]): number[] {
  const zs: number[] = [...get(Z), ...get(J), ...get(STRIDE), I32_MUL, I32_ADD, ...set(ZC4[0]!)];
  for (let q = 1; q < 4; q++) zs.push(...get(ZC4[q - 1]!), ...get(STRIDE), I32_ADD, ...set(ZC4[q]!));
  return [
    ...i32c(0), ...set(J),
    0x02, 0x40, 0x03, 0x40,
    ...get(J), ...get(K), I32_GE_U, 0x0d, 1,
    ...zs, ...prologue,
    ...i32c(0), ...set(P),
    0x02, 0x40, 0x03, 0x40,
    ...get(P), ...get(LEN), I32_GE_U, 0x0d, 1,
    ...inner,
    ...get(P), ...i32c(4), I32_ADD, ...set(P),
    0x0c, 0, 0x0b, 0x0b,
    ...epilogue,
    ...get(J), ...i32c(4), I32_ADD, ...set(J),
    0x0c, 0, 0x0b, 0x0b,
  ]; // prettier-ignore
}

/** Column q's 4 floats at row p into X4 (the widening below reads them). */
const loadZq = (q: number) => [...get(ZC4[q]!), ...get(P), ...i32c(4), I32_MUL, I32_ADD, ...vload(), ...set(X4)];
const lo4 = [...get(X4), ...simd(F64X2_PROMOTE_LOW)];
const hi4 = [...get(X4), ...get(X4), ...I8X16_SHUFFLE, ...simd(F64X2_PROMOTE_LOW)];

/**
 * out[i] += sum_j s[j] z[j][i], four columns per pass over out: out's 4 rows are loaded and stored once
 * for 4 columns (one column per pass, the loop was bound by those loads and stores).
 */
function axpyBody(): number[] {
  const prologue: number[] = [];
  for (let q = 0; q < 4; q++) prologue.push(...get(VEC), ...get(J), ...i32c(q), I32_ADD, ...i32c(8), I32_MUL, I32_ADD, ...F64_LOAD, ...simd(F64X2_SPLAT), ...set(A4 + q));
  const inner: number[] = [...rowPtr(OUT), ...get(Q), ...vload(0), ...set(LO), ...get(Q), ...vload(16), ...set(HI)];
  for (let q = 0; q < 4; q++) {
    inner.push(...loadZq(q));
    inner.push(...get(LO), ...get(A4 + q), ...lo4, ...simd(F64X2_MUL), ...simd(F64X2_ADD), ...set(LO));
    inner.push(...get(HI), ...get(A4 + q), ...hi4, ...simd(F64X2_MUL), ...simd(F64X2_ADD), ...set(HI));
  }
  inner.push(...get(Q), ...get(LO), ...vstore(0), ...get(Q), ...get(HI), ...vstore(16));
  return [...columns4Loop(prologue, inner, []), 0x0b];
}

/** g[j] = sum_i r[i] z[j][i], four columns per pass over r (r's rows loaded once for 4 columns). */
function dotsBody(): number[] {
  const prologue: number[] = [];
  for (let q = 0; q < 4; q++) prologue.push(...V128_ZERO, ...set(A4 + q));
  const inner: number[] = [...rowPtr(VEC), ...get(Q), ...vload(0), ...set(RLO), ...get(Q), ...vload(16), ...set(RHI)];
  for (let q = 0; q < 4; q++) {
    inner.push(...loadZq(q));
    inner.push(...get(A4 + q), ...lo4, ...get(RLO), ...simd(F64X2_MUL), ...simd(F64X2_ADD));
    inner.push(...hi4, ...get(RHI), ...simd(F64X2_MUL), ...simd(F64X2_ADD), ...set(A4 + q));
  }
  const epilogue: number[] = [];
  for (let q = 0; q < 4; q++) {
    epilogue.push(
      ...get(OUT), ...get(J), ...i32c(q), I32_ADD, ...i32c(8), I32_MUL, I32_ADD,
      ...get(A4 + q), ...simd(F64X2_EXTRACT), 0, ...get(A4 + q), ...simd(F64X2_EXTRACT), 1, F64_ADD,
      ...F64_STORE,
    ); // prettier-ignore
  }
  return [...columns4Loop(prologue, inner, epilogue), 0x0b];
}

/** g[j] = sum_i r[i] z[j][i]^2 (the weighted squared column norms: the Hessian's diagonal), in double. */
function sqDotsBody(): number[] {
  const prologue = [...V128_ZERO, ...set(V2), ...V128_ZERO, ...set(V3)];
  const inner = [
    ...loadZ, ...rowPtr(VEC),
    ...get(V2), ...lo, ...lo, ...simd(F64X2_MUL), ...get(Q), ...vload(0), ...simd(F64X2_MUL), ...simd(F64X2_ADD), ...set(V2),
    ...get(V3), ...hi, ...hi, ...simd(F64X2_MUL), ...get(Q), ...vload(16), ...simd(F64X2_MUL), ...simd(F64X2_ADD), ...set(V3),
  ]; // prettier-ignore
  const epilogue = [
    ...get(OUT), ...get(J), ...i32c(8), I32_MUL, I32_ADD,
    ...get(V2), ...get(V3), ...simd(F64X2_ADD), ...set(V2),
    ...get(V2), ...simd(F64X2_EXTRACT), 0, ...get(V2), ...simd(F64X2_EXTRACT), 1, F64_ADD,
    ...F64_STORE,
  ]; // prettier-ignore
  return [...columnsLoop(prologue, inner, epilogue), 0x0b];
}

function matvecModule(): Uint8Array<ArrayBuffer> {
  const locals = [2, 4, I32, 4, V128];
  const locals4 = [2, 7, I32, 9, V128];
  const f1 = [...locals4, ...axpyBody()];
  const f2 = [...locals4, ...dotsBody()];
  const f3 = [...locals, ...sqDotsBody()];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 6, I32, I32, I32, I32, I32, I32, 0]),
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]),
    ...section(3, [3, 0, 0, 0]),
    ...section(7, [3, ...name('axpy'), 0x00, 0, ...name('dots'), 0x00, 1, ...name('sqdots'), 0x00, 2]),
    ...section(10, [3, ...uleb(f1.length), ...f1, ...uleb(f2.length), ...f2, ...uleb(f3.length), ...f3]),
  ]; // prettier-ignore
  return Uint8Array.from(bytes);
}

type Fn = (z: number, stride: number, k: number, vec: number, out: number, len: number) => void;


interface Kernel {
  memory: WebAssembly.Memory;
  axpy: Fn;
  dots: Fn;
  sqdots: Fn;
  /** simd-hvp.ts's Hessian-vector product of one row block, on this memory. */
  hvp: (z: number, col: number, kp: number, v: number, d: number, t: number, g: number, nbytes: number) => void;
  /** simd-rows.ts's row terms (sigmoid, residuals, weights, log-loss) of a run of rows, on this memory. */
  rows: (eta: number, dEta: number, etaTry: number, y: number, w: number, cw: number, r: number, d: number, d32: number, nbytes: number, acc: number) => void;
}

let kernel: Kernel | null | undefined;

function getKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const bytes = matvecModule();
    if (!WebAssembly.validate(bytes) || !WebAssembly.validate(hvpModule()) || !WebAssembly.validate(rowsModule())) return (kernel = null);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const on = (b: Uint8Array<ArrayBuffer>) => new WebAssembly.Instance(new WebAssembly.Module(b), { env: { mem: memory } }).exports;
    const inst = on(bytes);
    kernel = {
      hvp: on(hvpModule()).hvp as Kernel['hvp'], rows: on(rowsModule()).rows as Kernel['rows'],
      memory, axpy: inst.axpy as Fn, dots: inst.dots as Fn, sqdots: inst.sqdots as Fn,
    };
  } catch {
    kernel = null;
  }
  return kernel;
}

/**
 * Z (n x k, column-major float32) copied once into the kernel's memory, then both products as often
 * as a Newton solve needs them. One instance at a time: a new one reuses the memory.
 */
export class SimdColumns {
  private readonly n4: number;
  /** Columns rounded up to 4 (the Hessian-vector product reads 4 at a time; the extra ones are zero). */
  private readonly kp: number;
  private readonly zOff = 0;
  /** Row blocks of ZB rows (the last may be shorter). */
  private readonly blocks: number;
  private readonly vecOff: number;
  private readonly dOff: number;
  /** hvp's vector (kp + 1 f32), row-block scratch (ZB f32) and outputs (kp + 1 f64). */
  private readonly hvOff: number;
  private readonly htOff: number;
  private readonly hgOff: number;
  private readonly rowsOff: number;
  private readonly accOff: number;
  /** One row block's Z^T r (kp f64) in the fused step. */
  private readonly gBlkOff: number;

  private constructor(private readonly K: Kernel, z: Float32Array, readonly n: number, readonly k: number) {
    this.n4 = (n + 3) & ~3;
    this.kp = (k + 3) & ~3;
    // Z by row blocks: block b holds rows [b ZB, (b + 1) ZB) of all kp columns, each column's run of
    // them contiguous (CS floats apart). Every pass over Z then streams one contiguous block at a time;
    // column-major, a block was kp separate runs 4 n bytes apart, too many streams for the prefetchers
    // (the k = 256 product ran at a third of its in-cache rate).
    this.blocks = Math.ceil(this.n4 / ZB);
    const zBytes = this.blocks * CS * this.kp * 4;
    this.vecOff = (zBytes + 15) & ~15;
    this.dOff = (this.vecOff + this.kp * 8 + 15) & ~15; // vec holds a step's coefficients (k)
    this.hvOff = (this.dOff + this.n4 * 4 + 15) & ~15;
    this.htOff = (this.hvOff + (this.kp + 1) * 4 + 15) & ~15;
    this.hgOff = this.htOff + ZB * 4;
    // The row state of a fit (setRows): ROW_VECTORS f64 vectors of n4, then the row kernel's 4 sums.
    this.rowsOff = (this.hgOff + (this.kp + 1) * 8 + 15) & ~15;
    this.accOff = this.rowsOff + ROW_VECTORS * this.n4 * 8;
    this.gBlkOff = this.accOff + 4 * 8;
    const need = this.gBlkOff + this.kp * 8;
    const have = K.memory.buffer.byteLength;
    if (have < need) K.memory.grow(Math.ceil((need - have) / 65536));
    const f32 = new Float32Array(K.memory.buffer, 0, zBytes / 4);
    f32.fill(0);
    for (let b = 0; b < this.blocks; b++) {
      const i0 = b * ZB;
      const len = Math.min(ZB, n - i0);
      if (len <= 0) break;
      for (let j = 0; j < k; j++) f32.set(z.subarray(j * n + i0, j * n + i0 + len), (b * this.kp + j) * CS);
    }
  }

  /** Calls fn for each row block: its first column's byte offset, its first row and its rows (a multiple of 4). */
  private forBlocks(fn: (zb: number, i0: number, len: number) => void): void {
    for (let b = 0; b < this.blocks; b++) fn(this.zOff + b * CS * this.kp * 4, b * ZB, Math.min(ZB, this.n4 - b * ZB));
  }

  /** out[j] = sum over blocks of kernel's per-column result (dots or sqdots) with the row vector at byte `vec`. */
  private blockDots(kernel: Fn, vec: number, out: Float64Array, offset = 0): void {
    const { k } = this;
    // dots takes columns four at a time (kp of them: the padded ones are zero), sqdots one at a time.
    const cols = kernel === this.K.dots ? this.kp : k;
    const gBlk = new Float64Array(this.K.memory.buffer, this.gBlkOff, k);
    out.fill(0, offset, offset + k);
    this.forBlocks((zb, i0, len) => {
      kernel(zb, CS * 4, cols, vec + i0 * 8, this.gBlkOff, len);
      for (let j = 0; j < k; j++) out[offset + j] += gBlk[j]!;
    });
  }

  /** The kernel on these columns, or null where WebAssembly SIMD is unavailable. */
  static of(z: Float32Array, n: number, k: number): SimdColumns | null {
    const K = getKernel();
    return K ? new SimdColumns(K, z, n, k) : null;
  }

  /**
   * out ~= H v for H = [1 Z]^T D [1 Z] + diag(0, 1, ..., 1) with the weights of the last weightsAt
   * (v, out: k + 1, the intercept first): simd-hvp.ts's single-precision kernel, one pass over Z in
   * row blocks, block totals in double. No Hessian is formed.
   */
  hvp(v: Float64Array, out: Float64Array): void {
    const { k, kp, K } = this;
    const buf = K.memory.buffer;
    const v32 = new Float32Array(buf, this.hvOff, kp + 1);
    for (let j = 0; j < k; j++) v32[j] = v[j + 1]!;
    v32.fill(0, k, kp);
    v32[kp] = v[0]!;
    const g = new Float64Array(buf, this.hgOff, kp + 1);
    g.fill(0);
    // One call per layout block: its columns' runs are then read front to back (in halves, the
    // prefetchers fetched the half not yet wanted, and the product ran at a third of this rate at k = 128).
    this.forBlocks((zb, i0, len) => K.hvp(zb, CS * 4, kp, this.hvOff, this.dOff + i0 * 4, this.htOff, this.hgOff, len * 4));
    out[0] = g[kp]!;
    for (let j = 0; j < k; j++) out[j + 1] = g[j]! + v[j + 1]!;
  }

  /** Byte offset of row vector `q` (ETA0 + slot, ...). */
  private row(q: number): number {
    return this.rowsOff + q * this.n4 * 8;
  }

  private view(q: number): Float64Array {
    return new Float64Array(this.K.memory.buffer, this.row(q), this.n4);
  }

  /**
   * The rows of a fit: labels, weights w and C w, into the kernel's memory (zero past n, so the padded
   * rows add nothing). Needed before affineTo, evaluate, step and weightsAt.
   */
  setRows(y: Uint8Array, w: Float64Array, C: number): void {
    const { n } = this;
    const yv = this.view(Y);
    const wv = this.view(W);
    const cw = this.view(CW);
    for (let i = 0; i < n; i++) {
      yv[i] = y[i]!;
      wv[i] = w[i]!;
      cw[i] = C * w[i]!;
    }
    for (const v of [yv, wv, cw, this.view(ZERO), this.view(ETA0), this.view(ETA0 + 1), this.view(DETA)]) v.fill(0, n);
    this.view(ZERO).fill(0);
  }

  /** eta at point `slot` (0 or 1) = c + Z s. */
  affineTo(c: number, s: Float64Array, slot: number): void {
    const buf = this.K.memory.buffer;
    const v = new Float64Array(buf, this.vecOff, this.kp);
    v.set(s.subarray(0, this.k));
    v.fill(0, this.k);
    new Float64Array(buf, this.row(ETA0 + slot), this.n).fill(c);
    const eta = this.row(ETA0 + slot);
    this.forBlocks((zb, i0, len) => this.K.axpy(zb, CS * 4, this.kp, this.vecOff, eta + i0 * 8, len));
  }

  /** eta at `to` = eta at `from` + t dEta (a line-search trial along the last step). */
  trialAlong(from: number, to: number, t: number): void {
    const a = this.view(ETA0 + from);
    const b = this.view(ETA0 + to);
    const dv = this.view(DETA);
    for (let i = 0; i < this.n; i++) b[i] = a[i]! + t * dv[i]!;
  }

  /** The row terms at `slot`'s eta (residuals and weights kept there); g[0] = the intercept's gradient, g[1..k] = Z^T r. Returns the loss. */
  evaluate(slot: number, g: Float64Array): number {
    const { K } = this;
    const e = this.row(ETA0 + slot);
    K.rows(e, this.row(ZERO), e, this.row(Y), this.row(W), this.row(CW), this.row(R0 + slot), this.row(D0 + slot), this.dOff, this.n4 * 8, this.accOff);
    const acc = new Float64Array(K.memory.buffer, this.accOff, 4);
    g[0] = acc[2]! + acc[3]!;
    const loss = acc[0]! + acc[1]!;
    this.blockDots(K.dots, this.row(R0 + slot), g, 1);
    return loss;
  }

  /**
   * The full Newton step from `from` to `to` in one pass over Z, block by block (each block of Z is read
   * twice while in cache): dEta = -(step_0 + Z step_1..k), eta_to = eta_from + dEta, the row terms there,
   * and g = their gradient (without the ridge term). Returns the loss at `to`.
   */
  step(step: Float64Array, from: number, to: number, g: Float64Array): number {
    const { k, K } = this;
    const buf = K.memory.buffer;
    const neg = new Float64Array(buf, this.vecOff, this.kp);
    for (let j = 0; j < k; j++) neg[j] = -step[j + 1]!;
    neg.fill(0, k);
    const dEta = this.view(DETA);
    dEta.fill(-step[0]!, 0, this.n);
    const acc = new Float64Array(buf, this.accOff, 4);
    const gBlk = new Float64Array(buf, this.gBlkOff, k);
    g.fill(0);
    let loss = 0;
    let gb = 0;
    this.forBlocks((zb, i0, len) => {
      const o8 = i0 * 8;
      K.axpy(zb, CS * 4, this.kp, this.vecOff, this.row(DETA) + o8, len);
      K.rows(
        this.row(ETA0 + from) + o8, this.row(DETA) + o8, this.row(ETA0 + to) + o8, this.row(Y) + o8, this.row(W) + o8,
        this.row(CW) + o8, this.row(R0 + to) + o8, this.row(D0 + to) + o8, this.dOff + i0 * 4, len * 8, this.accOff,
      ); // prettier-ignore
      loss += acc[0]! + acc[1]!;
      gb += acc[2]! + acc[3]!;
      K.dots(zb, CS * 4, this.kp, this.row(R0 + to) + o8, this.gBlkOff, len);
      for (let j = 0; j < k; j++) g[j + 1] += gBlk[j]!;
    });
    g[0] = gb;
    return loss;
  }

  /** eta at `slot` (n values; a view, valid until the next SimdColumns grows the memory). */
  etaAt(slot: number): Float64Array {
    return this.view(ETA0 + slot).subarray(0, this.n);
  }

  /**
   * The IRLS weights at `slot` as hvp's weights (float32); with `diagonal`, also what a preconditioner
   * needs of H = [1 Z]^T D [1 Z] + diag(0, 1, ..., 1), in double: its intercept row (h0[j] = sum_i d_i
   * z_ij, hd = sum d) and its diagonal (diag[j] = sum_i d_i z_ij^2 + 1).
   */
  weightsAt(slot: number, diagonal: true): { hd: number; h0: Float64Array; diag: Float64Array };
  weightsAt(slot: number, diagonal?: false): undefined;
  weightsAt(slot: number, diagonal = false): { hd: number; h0: Float64Array; diag: Float64Array } | undefined {
    const { n, n4, k, K } = this;
    const dv = this.view(D0 + slot);
    const d32 = new Float32Array(K.memory.buffer, this.dOff, n4);
    for (let i = 0; i < n4; i++) d32[i] = dv[i]!;
    if (!diagonal) return undefined;
    let hd = 0;
    for (let i = 0; i < n; i++) hd += dv[i]!;
    const h0 = new Float64Array(k);
    this.blockDots(K.dots, this.row(D0 + slot), h0);
    const diag = new Float64Array(k);
    this.blockDots(K.sqdots, this.row(D0 + slot), diag);
    for (let j = 0; j < k; j++) diag[j]! += 1;
    return { hd, h0, diag };
  }
}


/**
 * The f64 row vectors a fit keeps in the kernel's memory: eta at two points (the current one and a
 * trial, swapped by index when a step is accepted), their residuals and weights, the step's dEta, y, w,
 * C w and zeros.
 */
const ROW_VECTORS = 11;
const [ETA0, R0, D0, DETA, Y, W, CW, ZERO] = [0, 2, 4, 6, 7, 8, 9, 10];

/**
 * Rows per block of Z's layout, and of the fused step (Z s, the row terms, then Z^T r while the block is
 * in cache: 512 rows x 256 columns is 512 KiB, within the 1 MiB L2 here), and of the Hessian-vector
 * product's single-precision block sums (simd-hvp.ts).
 */
const ZB = 2048;
/**
 * Floats from one column's run to the next within a block: ZB plus a cache line, since a power-of-two
 * stride (2 KiB) maps every column of a block to the same few cache sets.
 */
const CS = ZB + 4;

