/**
 * One WebAssembly SIMD kernel, y += a * x over f32x4 lanes, assembled here from its opcodes so the lab
 * needs no wasm toolchain. V8 does not vectorise JS loops; on this machine the kernel runs the gram
 * path's inner loops several times faster than the same loop in JS (see bench/README.md).
 *
 * The function is
 *   (func $axpy (param $y i32) (param $x i32) (param $a f32) (param $n4 i32) (local $av v128)
 *     $av = f32x4.splat($a)
 *     while ($n4 != 0) { v128.store($y, f32x4.add(v128.load($y), f32x4.mul(v128.load($x), $av)));
 *                         $y += 16; $x += 16; $n4 -= 1 })
 * where $y and $x are byte offsets into the imported memory and $n4 counts groups of four floats.
 */

const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  simd: 0xfd,
} as const;
const SIMD = { load: 0x00, store: 0x0b, f32x4Splat: 0x13, f32x4Add: 0xe4, f32x4Mul: 0xe6 } as const;
const T = { i32: 0x7f, f32: 0x7d, v128: 0x7b, func: 0x60, void: 0x40 } as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const simd = (op: number) => [OP.simd, ...uleb(op)];
const memarg16 = [4, 0]; // align 2^4 bytes, offset 0
const str = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

function axpyBody(): number[] {
  const [y, x, a, n4, av] = [0, 1, 2, 3, 4];
  const code = [
    OP.localGet, a, ...simd(SIMD.f32x4Splat), OP.localSet, av,
    OP.block, T.void,
    OP.localGet, n4, OP.i32Eqz, OP.brIf, 0,
    OP.loop, T.void,
    OP.localGet, y,
    OP.localGet, y, ...simd(SIMD.load), ...memarg16,
    OP.localGet, x, ...simd(SIMD.load), ...memarg16,
    OP.localGet, av, ...simd(SIMD.f32x4Mul),
    ...simd(SIMD.f32x4Add),
    ...simd(SIMD.store), ...memarg16,
    OP.localGet, y, OP.i32Const, 16, OP.i32Add, OP.localSet, y,
    OP.localGet, x, OP.i32Const, 16, OP.i32Add, OP.localSet, x,
    OP.localGet, n4, OP.i32Const, 1, OP.i32Sub, OP.localTee, n4,
    OP.brIf, 0,
    OP.end,
    OP.end,
    OP.end,
  ];
  const locals = [1, 1, T.v128]; // one group: 1 local of type v128
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, T.func, 4, T.i32, T.i32, T.f32, T.i32, 0]),
    ...section(2, [1, ...str('env'), ...str('mem'), 0x02, 0x00, 0x01]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str('axpy'), 0x00, 0]),
    ...section(10, [1, ...axpyBody()]),
  ];
  return Uint8Array.from(bytes);
}

let compiled: WebAssembly.Module | undefined;

export type AxpyFn = (y: number, x: number, a: number, n4: number) => void;

/** A private wasm memory of `floats` f32 slots (16-byte aligned regions via `alloc`) and the kernel. */
export class SimdArena {
  readonly f32: Float32Array;
  readonly axpy: AxpyFn;
  private next = 0;

  constructor(floats: number) {
    compiled ??= new WebAssembly.Module(moduleBytes());
    const pages = Math.max(1, Math.ceil((floats * 4 + 64) / 65536));
    const mem = new WebAssembly.Memory({ initial: pages });
    const inst = new WebAssembly.Instance(compiled, { env: { mem } });
    this.axpy = inst.exports.axpy as AxpyFn;
    this.f32 = new Float32Array(mem.buffer);
  }

  /** A region of `floats` slots, rounded up to whole f32x4 groups; returns its index into f32. */
  alloc(floats: number): number {
    const at = this.next;
    this.next += Math.ceil(floats / 4) * 4;
    if (this.next > this.f32.length) throw new Error(`SimdArena: out of room (${this.next} > ${this.f32.length})`);
    return at;
  }
}

/** Floats rounded up to a multiple of 4 (one f32x4 lane group). */
export function pad4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
