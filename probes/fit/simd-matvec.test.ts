import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/rng.ts';
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
});
