/**
 * The tile kernel of the weighted Gram Z^T D Z on WebAssembly SIMD (f32x4), the Newton fitter's hot
 * spot; SimdColumns.gram (simd-matvec.ts) runs it on the columns it keeps in wasm memory. V8 does not
 * vectorise JS loops; this kernel, assembled here from its opcodes (no wasm toolchain needed), computes
 * a 4 x 2 tile of dot products over a block of rows in four lanes at once:
 *
 *   (func $tile (param $u0 $u1 $u2 $u3 $z0 $z1 $out $nbytes i32) (local $p i32) (local $acc0..7 $x0 $x1 $v v128)
 *     loop while $p < $nbytes:
 *       $x0 = load($z0 + $p); $x1 = load($z1 + $p)
 *       for a in 0..3: $v = load($ua + $p); $acc[2a] += $v * $x0; $acc[2a+1] += $v * $x1
 *       $p += 16
 *     store $acc0..7 at $out (8 x 16 bytes; the JS side sums the lanes in double precision))
 *
 * Products and per-block lane sums are single precision, block totals are accumulated in double. The
 * result is the Hessian, which only steers Newton/BFGS steps: the gradient (and so the solution and
 * its KKT check) stays in double precision. The intercept row (sums of d and d z) is computed in
 * double.
 */
import { localGet as get, localSet as set, section, simd, str as name, uleb } from '../../lab/core/index.ts';

const I32 = 0x7f;
const V128 = 0x7b;
const load = (align = 4, offset = 0) => [...simd(0x00), ...uleb(align), ...uleb(offset)];
const store = (offset: number) => [...simd(0x0b), 4, ...uleb(offset)];
const F32X4_ADD = 0xe4;
const F32X4_MUL = 0xe6;

export function tileModule(): Uint8Array<ArrayBuffer> {
  // Params 0..7: u0 u1 u2 u3 z0 z1 out nbytes. Locals: 8 p, 9..16 acc, 17 x0, 18 x1, 19 v.
  const P = 8;
  const ACC = 9;
  const X0 = 17;
  const X1 = 18;
  const V = 19;
  const body: number[] = [];
  body.push(0x02, 0x40); // block
  body.push(0x03, 0x40); // loop
  body.push(...get(P), ...get(7), 0x4f, 0x0d, 1); // if p >= nbytes: br 1
  body.push(...get(4), ...get(P), 0x6a, ...load(), ...set(X0));
  body.push(...get(5), ...get(P), 0x6a, ...load(), ...set(X1));
  for (let a = 0; a < 4; a++) {
    body.push(...get(a), ...get(P), 0x6a, ...load(), ...set(V));
    body.push(...get(ACC + 2 * a), ...get(V), ...get(X0), ...simd(F32X4_MUL), ...simd(F32X4_ADD), ...set(ACC + 2 * a));
    body.push(...get(ACC + 2 * a + 1), ...get(V), ...get(X1), ...simd(F32X4_MUL), ...simd(F32X4_ADD), ...set(ACC + 2 * a + 1));
  }
  body.push(...get(P), 0x41, 16, 0x6a, ...set(P)); // p += 16
  body.push(0x0c, 0); // br 0
  body.push(0x0b, 0x0b); // end loop, end block
  for (let q = 0; q < 8; q++) body.push(...get(6), ...get(ACC + q), ...store(16 * q));
  body.push(0x0b); // end func
  const locals = [2, 1, I32, 11, V128];
  const func = [...locals, ...body];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 8, I32, I32, I32, I32, I32, I32, I32, I32, 0]),
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('tile'), 0x00, 0]),
    ...section(10, [1, ...uleb(func.length), ...func]),
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
