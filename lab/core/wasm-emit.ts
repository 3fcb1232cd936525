/**
 * The few encoders every hand-assembled WebAssembly module in the lab needs (activations/toy/simd.ts and
 * gemm.ts, probes/fit/simd-gram.ts and simd-matvec.ts): each assembles its functions from opcodes, so
 * no wasm toolchain is needed at install or build time.
 */

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
