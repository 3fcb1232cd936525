/**
 * The Hessian-vector product of Newton-CG (newton-cg.ts) on WebAssembly SIMD in single precision, in
 * one pass over Z: for each block of rows (<= 512, in L2 while it is used twice)
 *
 *   t = v_0 + Z_blk v_1..k        (4 columns per sweep over t: one load and store of t per 4 columns)
 *   u = d_blk * t,  out_0 += sum u
 *   out_j += sum_i u_i z_ij       (4 columns per sweep over u: one load of u per 4 columns)
 *
 * Products and block sums are f32x4, each block's column totals are added into double-precision
 * outputs. The product only steers CG (the direction of a Newton step): the gradient, which decides
 * convergence, stays in double (simd-matvec.ts). Assembled from the opcodes, like simd-matvec.ts:
 *
 *   (func $hvp (param $z $col $kp $v $d $t $g $nbytes i32))
 *     z: the block's first row of column 0 (columns $col bytes apart, kp of them, a multiple of 4),
 *     v: kp + 1 f32 (the columns' coefficients, then the intercept's), d, t: the block's f32 weights and
 *     scratch, g: kp + 1 f64 accumulated (the columns', then the intercept's), nbytes: rows * 4 (% 16 = 0).
 */
import { i32Const as i32c, localGet as get, localSet as set, section, simd, str as name, uleb } from '../../lab/core/index.ts';

const I32 = 0x7f;
const V128 = 0x7b;
const vload = () => [...simd(0x00), 4, 0];
const vstore = () => [...simd(0x0b), 4, 0];
const F32X4_SPLAT = 0x13;
const F32X4_EXTRACT = 0x1f;
const F32X4_ADD = 0xe4;
const F32X4_MUL = 0xe6;
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_GE_U = 0x4f;
const F32_LOAD = (offset: number) => [0x2a, 2, ...uleb(offset)];
const F64_LOAD = [0x2b, 3, 0];
const F64_STORE = [0x39, 3, 0];
const F64_ADD = 0xa0;
const F64_PROMOTE = 0xbb;

const [Z, COL, KP, V, D, T, G, NB] = [0, 1, 2, 3, 4, 5, 6, 7];
const [J, P, Z0] = [8, 9, 10]; // Z0..Z3: 10..13
const [S0, A0, X, U] = [14, 18, 22, 23]; // S0..S3: 14..17, A0..A3: 18..21

const zero = [...simd(0x0c), ...new Array(16).fill(0)];

/** for p < nbytes step 16 { body } */
function rows(body: number[]): number[] {
  return [
    ...i32c(0), ...set(P),
    0x02, 0x40, 0x03, 0x40,
    ...get(P), ...get(NB), I32_GE_U, 0x0d, 1,
    ...body,
    ...get(P), ...i32c(16), I32_ADD, ...set(P),
    0x0c, 0, 0x0b, 0x0b,
  ]; // prettier-ignore
}

/** for j < kp step 4 { Z0..Z3 = columns j..j+3 of the block; body } */
function columns4(body: number[]): number[] {
  const zs: number[] = [...get(Z), ...get(J), ...get(COL), I32_MUL, I32_ADD, ...set(Z0)];
  for (let q = 1; q < 4; q++) zs.push(...get(Z0 + q - 1), ...get(COL), I32_ADD, ...set(Z0 + q));
  return [
    ...i32c(0), ...set(J),
    0x02, 0x40, 0x03, 0x40,
    ...get(J), ...get(KP), I32_GE_U, 0x0d, 1,
    ...zs, ...body,
    ...get(J), ...i32c(4), I32_ADD, ...set(J),
    0x0c, 0, 0x0b, 0x0b,
  ]; // prettier-ignore
}

const at = (base: number) => [...get(base), ...get(P), I32_ADD];

/** g[index] += the four lanes of acc, in double (index: instructions pushing an i32 element index). */
function addLanes(index: number[], acc: number): number[] {
  const out = [...get(G), ...index, ...i32c(8), I32_MUL, I32_ADD, ...get(G), ...index, ...i32c(8), I32_MUL, I32_ADD, ...F64_LOAD];
  out.push(...get(acc), ...simd(F32X4_EXTRACT), 0, F64_PROMOTE, ...get(acc), ...simd(F32X4_EXTRACT), 1, F64_PROMOTE, F64_ADD);
  out.push(...get(acc), ...simd(F32X4_EXTRACT), 2, F64_PROMOTE, F64_ADD, ...get(acc), ...simd(F32X4_EXTRACT), 3, F64_PROMOTE, F64_ADD);
  out.push(F64_ADD, ...F64_STORE);
  return out;
}

function hvpBody(): number[] {
  const b: number[] = [];
  // t = v_0 (the intercept's coefficient, v[kp]).
  b.push(...get(V), ...get(KP), ...i32c(4), I32_MUL, I32_ADD, ...F32_LOAD(0), ...simd(F32X4_SPLAT), ...set(S0));
  b.push(...rows([...at(T), ...get(S0), ...vstore()]));
  // t += Z v, four columns per sweep.
  const splats: number[] = [];
  for (let q = 0; q < 4; q++) splats.push(...get(V), ...get(J), ...i32c(4), I32_MUL, I32_ADD, ...F32_LOAD(4 * q), ...simd(F32X4_SPLAT), ...set(S0 + q));
  const axpy4: number[] = [...at(T), ...at(T), ...vload(), ...set(X)];
  for (let q = 0; q < 4; q++) axpy4.push(...get(X), ...get(S0 + q), ...at(Z0 + q), ...vload(), ...simd(F32X4_MUL), ...simd(F32X4_ADD), ...set(X));
  axpy4.push(...get(X), ...vstore());
  b.push(...columns4([...splats, ...rows(axpy4)]));
  // u = d t (in place), and its sum: the intercept's output.
  b.push(...zero, ...set(A0));
  b.push(...rows([
    ...at(T), ...at(T), ...vload(), ...at(D), ...vload(), ...simd(F32X4_MUL), ...set(U), ...get(U), ...vstore(),
    ...get(A0), ...get(U), ...simd(F32X4_ADD), ...set(A0),
  ])); // prettier-ignore
  b.push(...addLanes(get(KP), A0));
  // g_j += u . z_j, four columns per sweep over u.
  const init: number[] = [];
  for (let q = 0; q < 4; q++) init.push(...zero, ...set(A0 + q));
  const dots4: number[] = [...at(T), ...vload(), ...set(U)];
  for (let q = 0; q < 4; q++) dots4.push(...get(A0 + q), ...get(U), ...at(Z0 + q), ...vload(), ...simd(F32X4_MUL), ...simd(F32X4_ADD), ...set(A0 + q));
  const flush: number[] = [];
  for (let q = 0; q < 4; q++) flush.push(...addLanes([...get(J), ...i32c(q), I32_ADD], A0 + q));
  b.push(...columns4([...init, ...rows(dots4), ...flush]));
  b.push(0x0b);
  return b;
}

export function hvpModule(): Uint8Array<ArrayBuffer> {
  const fn = [2, 6, I32, 10, V128, ...hvpBody()];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 8, I32, I32, I32, I32, I32, I32, I32, I32, 0]),
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('hvp'), 0x00, 0]),
    ...section(10, [1, ...uleb(fn.length), ...fn]),
  ]; // prettier-ignore
  return Uint8Array.from(bytes);
}
