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
    [1001, 37],
    [257, 64],
  ])('give H v (the single-precision Hessian-vector product) to single-precision accuracy (n=%i, k=%i)', (n, k) => {
    const rng = new Rng(3 * n + k);
    const z = new Float32Array(n * k);
    for (let i = 0; i < z.length; i++) z[i] = rng.normal() + 1;
    const d = Float64Array.from({ length: n }, () => rng.next() * 0.25);
    const v = Float64Array.from({ length: k + 1 }, () => rng.normal());
    const m = k + 1;
    const H = new Float64Array(m * m);
    weightedGram(z, n, k, d, H);
    const cols = SimdColumns.of(z, n, k)!;
    const pre = cols.setWeightsWithDiagonal(d);
    const out = new Float64Array(m);
    cols.hvp(v, out);
    let scale = 0;
    const want = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) want[i] += H[i * m + j]! * v[j]!;
      scale = Math.max(scale, Math.abs(want[i]!));
    }
    for (let i = 0; i < m; i++) expect(Math.abs(out[i]! - want[i]!)).toBeLessThan(1e-5 * scale);
    // The preconditioner's pieces: H's intercept row and diagonal, in double.
    expect(Math.abs(pre.hd - H[0]!)).toBeLessThan(1e-12 * H[0]!);
    for (let j = 0; j < k; j++) {
      expect(Math.abs(pre.h0[j]! - H[j + 1]!)).toBeLessThan(1e-9 * (1 + Math.abs(H[j + 1]!)));
      expect(Math.abs(pre.diag[j]! - H[(j + 1) * m + j + 1]!)).toBeLessThan(1e-9 * H[(j + 1) * m + j + 1]!);
    }
  });
});
