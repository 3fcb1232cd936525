/**
 * The tile kernel of the weighted Gram Z^T D Z on WebAssembly SIMD (f32x4), the Newton fitter's hot
 * spot; SimdColumns.gram (simd-matvec.ts) runs it on the columns it keeps in wasm memory. V8 does not
 * vectorise JS loops; this kernel, assembled here from its opcodes (no wasm toolchain needed), computes
 * a 4 x 2 tile of dot products over a block of rows in four lanes at once:
 *
 *   for each tile of a row block (tileModule's $gram, below), with $p over the block's rows:
 *       $x0 = load($z0 + $p); $x1 = load($z1 + $p)
 *       for a in 0..3: $v = load($ua + $p); $acc[2a] += $v * $x0; $acc[2a+1] += $v * $x1
 *       $p += 16
 *     then the eight accumulators' lanes summed in double precision into G
 *
 * Products and per-block lane sums are single precision, block totals are accumulated in double. The
 * result is the Hessian, which only steers Newton/BFGS steps: the gradient (and so the solution and
 * its KKT check) stays in double precision. The intercept row (sums of d and d z) is computed in
 * double.
 */
import { i32Const as i32c, localGet as get, localSet as set, section, simd, str as name, uleb } from '../../lab/core/index.ts';

const I32 = 0x7f;
const V128 = 0x7b;
const load = (align = 4, offset = 0) => [...simd(0x00), ...uleb(align), ...uleb(offset)];
const F32X4_ADD = 0xe4;
const F32X4_MUL = 0xe6;
const F32X4_EXTRACT = 0x1f;
const F64_PROMOTE = 0xbb;
const F64_ADD = 0xa0;
const F64_LOAD = [0x2b, 3, 0];
const F64_STORE = [0x39, 3, 0];

/** The 4 x 2 tile's loop over a block of rows: acc[2a + b] += u_a[p..p+3] * z_b[p..p+3] (f32x4). */
function tileLoop(u: number[], z0: number, z1: number, p: number, nbytes: number, acc: number, x0: number, x1: number, v: number): number[] {
  const body: number[] = [];
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  body.push(...get(p), ...get(nbytes), 0x4f, 0x0d, 1); // if p >= nbytes: br 1
  body.push(...get(z0), ...get(p), 0x6a, ...load(), ...set(x0));
  body.push(...get(z1), ...get(p), 0x6a, ...load(), ...set(x1));
  for (let a = 0; a < 4; a++) {
    body.push(...get(u[a]!), ...get(p), 0x6a, ...load(), ...set(v));
    body.push(...get(acc + 2 * a), ...get(v), ...get(x0), ...simd(F32X4_MUL), ...simd(F32X4_ADD), ...set(acc + 2 * a));
    body.push(...get(acc + 2 * a + 1), ...get(v), ...get(x1), ...simd(F32X4_MUL), ...simd(F32X4_ADD), ...set(acc + 2 * a + 1));
  }
  body.push(...get(p), 0x41, 16, 0x6a, ...set(p)); // p += 16
  body.push(0x0c, 0, 0x0b, 0x0b); // br 0, end loop, end block
  return body;
}

/**
 * (func $gram (param $u $z $col $kp $nbytes $g i32)): every 4 x 2 tile of one row block,
 * j = 0, 4, .., kp - 4 and l = 0, 2, .., j + 2, each tile's lanes summed in double, ((l0 + l1) + l2) + l3,
 * and added into the double matrix G (kp x kp, row-major) at $g. (The tiles were once called one by one
 * from JS, which summed their lanes: the same operations in the same order, so the same bits, but a call
 * and 32 float reads per tile cost a quarter of the Gram's time.)
 */
export function tileModule(): Uint8Array<ArrayBuffer> {
  // gram: params 0..5 u z col kp nbytes g. Locals: 6 j, 7 l, 8 p, 9..12 u0..u3, 13 z0, 14 z1, 15 gp (i32);
  // 16..23 acc, 24 x0, 25 x1, 26 v (v128).
  const [U, Z, COL, KP, NB, G, J, L, P, U0, Z0, Z1, GP, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16];
  const I32_ADD = 0x6a;
  const I32_MUL = 0x6c;
  const zero = [...simd(0x0c), ...new Array(16).fill(0)];
  const g: number[] = [];
  g.push(...i32c(0), ...set(J));
  g.push(0x02, 0x40, 0x03, 0x40); // columns j
  g.push(...get(J), ...get(KP), 0x4e, 0x0d, 1); // if j >= kp (signed) break
  g.push(...get(U), ...get(J), ...get(COL), I32_MUL, I32_ADD, ...set(U0));
  for (let a = 1; a < 4; a++) g.push(...get(U0 + a - 1), ...get(COL), I32_ADD, ...set(U0 + a));
  g.push(...i32c(0), ...set(L));
  g.push(0x02, 0x40, 0x03, 0x40); // columns l <= j + 2
  g.push(...get(L), ...get(J), ...i32c(2), I32_ADD, 0x4a, 0x0d, 1); // if l > j + 2 break
  g.push(...get(Z), ...get(L), ...get(COL), I32_MUL, I32_ADD, ...set(Z0));
  g.push(...get(Z0), ...get(COL), I32_ADD, ...set(Z1));
  for (let q = 0; q < 8; q++) g.push(...zero, ...set(ACC + q));
  g.push(...i32c(0), ...set(P));
  g.push(...tileLoop([U0, U0 + 1, U0 + 2, U0 + 3], Z0, Z1, P, NB, ACC, 24, 25, 26));
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 2; b++) {
      // gp = g + ((j + a) * kp + l + b) * 8
      g.push(...get(G), ...get(J), ...i32c(a), I32_ADD, ...get(KP), I32_MUL, ...get(L), I32_ADD, ...i32c(b), I32_ADD, ...i32c(8), I32_MUL, I32_ADD, ...set(GP));
      g.push(...get(GP), ...get(GP), ...F64_LOAD);
      const acc = ACC + 2 * a + b;
      g.push(...get(acc), ...simd(F32X4_EXTRACT), 0, F64_PROMOTE, ...get(acc), ...simd(F32X4_EXTRACT), 1, F64_PROMOTE, F64_ADD);
      g.push(...get(acc), ...simd(F32X4_EXTRACT), 2, F64_PROMOTE, F64_ADD, ...get(acc), ...simd(F32X4_EXTRACT), 3, F64_PROMOTE, F64_ADD);
      g.push(F64_ADD, ...F64_STORE);
    }
  }
  g.push(...get(L), ...i32c(2), I32_ADD, ...set(L), 0x0c, 0, 0x0b, 0x0b);
  g.push(...get(J), ...i32c(4), I32_ADD, ...set(J), 0x0c, 0, 0x0b, 0x0b);
  g.push(0x0b);
  const gramFn = [2, 10, I32, 11, V128, ...g];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 6, I32, I32, I32, I32, I32, I32, 0]),
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('gram'), 0x00, 0]),
    ...section(10, [1, ...uleb(gramFn.length), ...gramFn]),
  ]; // prettier-ignore
  return Uint8Array.from(bytes);
}

/**
 * H = [[sum d, h0^T], [h0, G + I]] from the tiles' lower-triangle sums G (kp x kp, row-major), the
 * intercept row h0 = Z^T d and hd = sum d; (k+1)^2 row-major, symmetric.
 */
export function assembleHessian(G: Float64Array, kp: number, h0: Float64Array, hd: number, k: number, H: Float64Array): void {
  const m = k + 1;
  H[0] = hd;
  for (let j = 0; j < k; j++) {
    H[j + 1] = h0[j]!;
    H[(j + 1) * m] = h0[j]!;
    for (let l = 0; l <= j; l++) {
      const v = G[j * kp + l]!;
      H[(j + 1) * m + l + 1] = v;
      H[(l + 1) * m + j + 1] = v;
    }
    H[(j + 1) * m + j + 1] += 1;
  }
}
