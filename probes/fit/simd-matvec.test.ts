import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { weightedGram } from './newton.ts';
import { SimdColumns } from './simd-matvec.ts';

describe('SIMD matrix-vector products (double precision)', () => {
  it('match the plain double loops for Z s and Z^T r, odd row counts included', () => {
    const rng = new Rng(7);
    for (const [n, k] of [[1, 1], [5, 3], [37, 9], [1000, 33]] as const) {
      const z = Float32Array.from({ length: n * k }, () => rng.normal());
      const s = Float64Array.from({ length: k }, () => rng.normal());
      const r = Float64Array.from({ length: n }, () => rng.normal());
      const cols = SimdColumns.of(z, n, k);
      expect(cols, 'WebAssembly SIMD is available in Node >= 16').not.toBeNull();
      const out = new Float64Array(n);
      cols!.affine(0.25, s, out);
      const g = new Float64Array(k + 1);
      cols!.dots(r, g, 1);
      for (let i = 0; i < n; i++) {
        let want = 0.25;
        for (let j = 0; j < k; j++) want += s[j]! * z[j * n + i]!;
        expect(Math.abs(out[i]! - want)).toBeLessThan(1e-12 * (1 + Math.abs(want)) * k);
      }
      expect(g[0]).toBe(0);
      for (let j = 0; j < k; j++) {
        let want = 0;
        for (let i = 0; i < n; i++) want += r[i]! * z[j * n + i]!;
        expect(Math.abs(g[j + 1]! - want)).toBeLessThan(1e-12 * (1 + Math.abs(want)) * n);
      }
    }
  });

  it.each([
    [300, 9],
    [1000, 37],
    [257, 64],
    [600, 8],
  ])('give the weighted Gram of the double-precision JS kernel (n=%i, k=%i) to single-precision accuracy', (n, k) => {
    const rng = new Rng(n + k);
    const z = new Float32Array(n * k);
    for (let i = 0; i < z.length; i++) z[i] = rng.normal() * (1 + (i % 5));
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = rng.next() * 0.25;
    const m = k + 1;
    const a = new Float64Array(m * m);
    const b = new Float64Array(m * m).fill(NaN);
    weightedGram(z, n, k, d, a);
    SimdColumns.of(z, n, k)!.gram(d, b);
    let scale = 0;
    for (let i = 0; i < m * m; i++) scale = Math.max(scale, Math.abs(a[i]!));
    for (let i = 0; i < m * m; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-6 * scale);
    for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) expect(b[i * m + j]).toBe(b[j * m + i]);
  });
});
