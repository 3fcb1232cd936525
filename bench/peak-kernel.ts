/**
 * The peak f32 multiply-add rate WebAssembly SIMD reaches on this machine (issue 16's physical limit),
 * from a kernel assembled with lab/core's emitter like the lab's own kernels:
 *   (func $peak (param $ptr i32) (param $iters i32) (result f32)
 *     loop: acc_j = f32x4.add(acc_j, f32x4.mul(v128.load($ptr + 16 j), $w))  for j < K;  $iters -= 1)
 * K independent accumulators hide the add latency; the loads (one 16-byte line per accumulator, always the
 * same, in L1) fold into the multiply on x86, as a GEMM's operand loads would. Wasm SIMD has no fused
 * multiply-add (relaxed SIMD's f32x4.relaxed_madd is behind a flag in Node 20), so each lane-pair is two
 * instructions: a multiply and an add, counted as 2 flops.
 */
import { localGet as get, localSet as set, OP, section, SIMD, simd, str, T, uleb, WasmArena } from '../lab/core/index.ts';

function peakModule(K: number): Uint8Array<ArrayBuffer> {
  const [ptr, iters, w] = [0, 1, 2];
  const acc = (j: number) => 3 + j;
  const code: number[] = [
    OP.f32Const, ...new Uint8Array(new Float32Array([0.999]).buffer), ...simd(SIMD.f32x4Splat), ...set(w),
    OP.loop, T.void,
  ];
  for (let j = 0; j < K; j++) {
    code.push(...get(acc(j)), ...get(ptr), ...simd(SIMD.load), 4, ...uleb(16 * j), ...get(w), ...simd(SIMD.f32x4Mul), ...simd(SIMD.f32x4Add), ...set(acc(j)));
  }
  code.push(...get(iters), OP.i32Const, 1, OP.i32Sub, OP.localTee, iters, OP.brIf, 0, OP.end);
  // Sum every accumulator's lanes into the result, so that no accumulator is dead code.
  code.push(OP.f32Const, 0, 0, 0, 0);
  for (let j = 0; j < K; j++) for (let l = 0; l < 4; l++) code.push(...get(acc(j)), ...simd(SIMD.extractLane), l, OP.f32Add);
  code.push(OP.end);
  const body = [2, 1, T.v128, K, T.v128, ...code]; // locals: w, then K accumulators (v128)
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 1, 0x7d]),
    ...section(2, [1, ...str('env'), ...str('mem'), 0x02, 0x00, 0x01]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str('peak'), 0x00, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

class PeakArena extends WasmArena {
  readonly peak: (ptr: number, iters: number) => number;
  constructor(K: number) {
    super(new WebAssembly.Module(peakModule(K)), 4 * K + 16, 'PeakArena');
    this.f32.fill(1e-7);
    this.peak = this.exports.peak as (ptr: number, iters: number) => number;
  }
}

/** GFLOP/s of the K-accumulator loop on this thread: the best of `repeats` timed runs of `seconds` each. */
export function peakGflops(K: number, seconds = 0.5, repeats = 3): number {
  const a = new PeakArena(K);
  a.peak(0, 1e5); // compile (Liftoff, then TurboFan) and warm up
  let iters = 1e6;
  let best = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    a.peak(0, iters);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (iters * K * 8) / s / 1e9);
    iters = Math.max(1e5, Math.round((iters * seconds) / Math.max(s, 1e-3)));
  }
  return best;
}
