/**
 * The few encoders every hand-assembled WebAssembly module in the lab needs (activations/toy/simd.ts and
 * gemm.ts, probes/fit/simd-hvp.ts and simd-matvec.ts, probes/simd-comoments.ts): each assembles its
 * functions from opcodes, so no wasm toolchain is needed at install or build time.
 */

/** Core opcodes (WebAssembly 1.0) used by the kernels. */
export const OP = {
  f32Const: 0x43,
  f32Add: 0x92,
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  if: 0x04,
  call: 0x10,
  i32Load: 0x28,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32GeU: 0x4f,
  f32Ne: 0x5c,
  f64Add: 0xa0,
  f64PromoteF32: 0xbb,
  simd: 0xfd,
} as const;

/** SIMD opcodes (the 0xfd prefix's second byte, as `simd(op)` encodes it). */
export const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  v128Const: 0x0c,
  shuffle: 0x0d,
  f32x4Splat: 0x13,
  extractLane: 0x1f,
  i32x4Eq: 0x37,
  f32x4Gt: 0x44,
  and: 0x4e,
  or: 0x50,
  bitselect: 0x52,
  load32Zero: 0x5c,
  f32x4DemoteF64x2Zero: 0x5e,
  f64x2PromoteLowF32x4: 0x5f,
  load16x4U: 0x04,
  i16x8ExtendLowI8x16U: 0x89,
  i32x4ExtendLowI16x8U: 0xa9,
  i32x4Shl: 0xab,
  i32x4Add: 0xae,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Max: 0xe9,
  f64x2Add: 0xf0,
  f64x2Mul: 0xf2,
  f64x2ConvertLowI32x4U: 0xff,
  f64x2Splat: 0x14,
  f64x2ExtractLane: 0x21,
  f64x2Ge: 0x4c,
  store64Lane: 0x5b,
  f64x2Nearest: 0x94,
  i64x2ExtendLowI32x4S: 0xc7,
  i64x2Shl: 0xcb,
  i64x2Add: 0xce,
  f64x2Abs: 0xec,
  f64x2Neg: 0xed,
  f64x2Sub: 0xf1,
  f64x2Div: 0xf3,
  f64x2Max: 0xf5,
  i32x4TruncSatF64x2SZero: 0xfc,
} as const;

/** Value and block types. */
export const T = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b, func: 0x60, void: 0x40 } as const;

/** Unsigned LEB128 (sizes, indices, alignments, offsets; also i32 constants below 64). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const immediates). */
export function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** local.get, local.set and i32.const with their immediates. */
export const localGet = (i: number): number[] => [0x20, ...uleb(i)];
export const localSet = (i: number): number[] => [0x21, ...uleb(i)];
export const i32Const = (v: number): number[] => [0x41, ...sleb(v)];

/** A module section: id, byte length, body. */
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** A name (import/export): length-prefixed UTF-8. */
export const str = (s: string): number[] => [...uleb(Buffer.byteLength(s, 'utf8')), ...Buffer.from(s, 'utf8')];

/** A SIMD instruction: the 0xfd prefix and its opcode. */
export const simd = (op: number): number[] => [0xfd, ...uleb(op)];

/**
 * A private wasm memory of `floats` f32 slots for one instance of a compiled kernel module (importing it
 * as env.mem), with a bump allocator of 16-byte aligned regions (float indices into `f32`).
 */
export class WasmArena {
  readonly f32: Float32Array;
  protected readonly exports: WebAssembly.Exports;
  private next = 0;

  constructor(module: WebAssembly.Module, floats: number, private readonly label: string) {
    const mem = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((floats * 4 + 64) / 65536)) });
    this.exports = new WebAssembly.Instance(module, { env: { mem } }).exports;
    this.f32 = new Float32Array(mem.buffer);
  }

  /** A region of `floats` slots, rounded up to whole f32x4 groups; returns its index into f32. */
  alloc(floats: number): number {
    const at = this.next;
    this.next += Math.ceil(floats / 4) * 4;
    if (this.next > this.f32.length) throw new Error(`${this.label}: out of room (${this.next} > ${this.f32.length})`);
    return at;
  }
}
