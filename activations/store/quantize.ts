/**
 * Encodings of activation chunks: f32 as is, IEEE half floats, and u8 with an affine map
 * value = offset + scale * q (per neuron or per tensor, fitted to each chunk's min and max, so the
 * error is at most scale / 2). All multi-byte values are little-endian.
 */
import { NumericError } from '../../lab/core/index.ts';

export type StoreDtype = 'f32' | 'f16' | 'u8';
export type Quantisation = 'none' | 'per_neuron' | 'per_tensor';
export const DTYPE_BYTES: Record<StoreDtype, number> = { f32: 4, f16: 2, u8: 1 };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 -> f16 bits, rounding to nearest even; values beyond the f16 range become +-Infinity. */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflows to zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // may carry into the exponent: still correct
  return h;
}

let halfTable: Float32Array | undefined;

/** f16 bits -> f32, through a 65536-entry table built once. */
export function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) t[h] = mant ? NaN : sign * Infinity;
    else t[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  halfTable = t;
  return t;
}

/**
 * Writes src's values as f16 bits into dst from `at`, each as toHalf gives it; a value beyond the f16
 * range (or not finite) throws, naming `what`. toHalf is inlined for values whose f16 is normal, the bits
 * read in place (staging each value through a one-element array, with a branch on the rounding, cost
 * ~15 ns a value here: 2.3 s of a GPT-2-small harvest of 4,096 tokens); the rest (zeros, subnormals, too
 * large, NaN) go through toHalf itself. The same bits either way (tested).
 */
export function encodeHalfInto(src: Float32Array, dst: Uint16Array, at: number, what: string): void {
  const len = src.length;
  const bits = new Int32Array(src.buffer, src.byteOffset, len);
  for (let i = 0; i < len; i++) {
    const x = bits[i]!;
    const exp = (x >>> 23) & 0xff;
    let h: number;
    if (exp > 112 && exp < 143) {
      // Round to nearest even without a branch: adding 0xfff plus the kept mantissa's last bit carries
      // exactly when the dropped 13 bits are past half, or half with that bit set (a carry into the
      // exponent is still the right value).
      const m = x & 0x7fffff;
      h = ((x >>> 16) & 0x8000) | (((exp - 112) << 10) + ((m + 0xfff + ((m >>> 13) & 1)) >>> 13));
    } else h = toHalf(src[i]!);
    if ((h & 0x7c00) === 0x7c00) throw new NumericError(`${what}: value ${src[i]} does not fit f16 (max 65504); use --dtype f32`);
    dst[at + i] = h;
  }
}

/** Index of the first f16 value that is not finite (exponent all ones: Inf or NaN), or -1. */
export function firstNonFiniteHalf(h: Uint16Array): number {
  for (let i = 0; i < h.length; i++) if ((h[i]! & 0x7c00) === 0x7c00) return i;
  return -1;
}

export interface Encoded {
  data: Uint8Array;
  /** u8 only: f32 [scale..., offset...] (length 2 * nNeurons per neuron, 2 per tensor). */
  qparams?: Float32Array;
}

/** Encodes `rows` x `n` values (row-major); `what` names the hook in errors. */
export function encodeChunk(values: Float32Array, rows: number, n: number, dtype: StoreDtype, quant: Quantisation, what: string): Encoded {
  const len = rows * n;
  const v = values.subarray(0, len);
  if (dtype === 'f32') return { data: new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + len * 4)) };
  if (dtype === 'f16') {
    const out = new Uint16Array(len);
    encodeHalfInto(v, out, 0, what);
    return { data: new Uint8Array(out.buffer) };
  }
  const perNeuron = quant !== 'per_tensor';
  const groups = perNeuron ? n : 1;
  const lo = new Float32Array(groups).fill(Infinity);
  const hi = new Float32Array(groups).fill(-Infinity);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    for (let j = 0; j < n; j++) {
      const x = v[base + j]!;
      const g = perNeuron ? j : 0;
      if (x < lo[g]!) lo[g] = x;
      if (x > hi[g]!) hi[g] = x;
    }
  }
  const qparams = new Float32Array(2 * groups);
  const inv = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    if (rows === 0) lo[g] = hi[g] = 0;
    const scale = (hi[g]! - lo[g]!) / 255;
    qparams[g] = scale;
    qparams[groups + g] = lo[g]!;
    inv[g] = scale > 0 ? 1 / scale : 0;
  }
  const out = new Uint8Array(len);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    for (let j = 0; j < n; j++) {
      const g = perNeuron ? j : 0;
      const q = Math.round((v[base + j]! - lo[g]!) * inv[g]!);
      out[base + j] = q < 0 ? 0 : q > 255 ? 255 : q;
    }
  }
  return { data: out, qparams };
}

/**
 * One u8 value of neuron `j` as activations/README.md documents it: offset + scale * q, with `qparams`
 * the chunk's scales then offsets, one pair per neuron or one for the tensor (per_tensor).
 */
export function dequantU8(qparams: Float32Array, j: number, q: number): number {
  const groups = qparams.length / 2;
  const g = groups === 1 ? 0 : j;
  return qparams[groups + g]! + qparams[g]! * q;
}

/** Decodes a chunk into `out` (rows x n f32, row-major) starting at element `at`. */
export function decodeChunk(
  bytes: Uint8Array, rows: number, n: number, dtype: StoreDtype, qparams: Float32Array | undefined, out: Float32Array, at = 0,
): void {
  const len = rows * n;
  if (dtype === 'f32') {
    // Copy through a fresh aligned buffer: file buffers need not be 4-byte aligned.
    out.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + len * 4)), at);
  } else if (dtype === 'f16') {
    const t = halfToFloatTable();
    const h = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + len * 2));
    for (let i = 0; i < len; i++) out[at + i] = t[h[i]!]!;
  } else {
    const qp = qparams!;
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      for (let j = 0; j < n; j++) out[at + base + j] = dequantU8(qp, j, bytes[base + j]!);
    }
  }
}
