/**
 * The Newton fitter's weighted Gram two ways, interleaved in one process (median of 7 each): simd-gram.ts
 * (packs each 256-row block into its kernel's memory) against SimdColumns.gram (columns resident in
 * wasm memory, U = D Z in one SIMD pass). `node --import tsx bench/gram-ab.ts`
 */
import { gatherColumns } from '../probes/fit/gather.ts';
import { weightedGramSimd } from '../probes/fit/simd-gram.ts';
import { SimdColumns } from '../probes/fit/simd-matvec.ts';
const n = 14000, D = 2048;
const X = { data: Float32Array.from({ length: n * D }, () => Math.random()), nRows: n, nCols: D };
for (const k of [64, 256]) {
  const cols = gatherColumns(X, Array.from({ length: k }, (_, j) => j * 3));
  const d = Float64Array.from({ length: n }, () => Math.random() * 0.25);
  const H = new Float64Array((k + 1) * (k + 1));
  const sc = SimdColumns.of(cols.z, n, k)!;
  const a: number[] = [], b: number[] = [];
  for (let r = 0; r < 7; r++) {
    let t = performance.now(); weightedGramSimd(cols.z, n, k, d, H); a.push(performance.now() - t);
    t = performance.now(); sc.gram(d, H); b.push(performance.now() - t);
  }
  const med = (x: number[]) => x.sort((p, q) => p - q)[3]!.toFixed(1);
  console.log(`k=${k}: simd-gram (packing) ${med(a)} ms, resident ${med(b)} ms`);
}
