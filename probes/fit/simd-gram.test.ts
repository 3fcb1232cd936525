import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/rng.ts';
import { weightedGram } from './newton.ts';
import { simdAvailable, weightedGramSimd } from './simd-gram.ts';

describe('weightedGramSimd', () => {
  it('is available in this Node (WebAssembly SIMD)', () => {
    expect(simdAvailable()).toBe(true);
  });

  it.each([
    [300, 9],
    [1000, 37],
    [257, 64],
  ])('matches the double-precision JS Gram (n=%i, k=%i) to single-precision accuracy', (n, k) => {
    const rng = new Rng(n + k);
    const z = new Float32Array(n * k);
    for (let i = 0; i < z.length; i++) z[i] = rng.normal() * (1 + (i % 5));
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = rng.next() * 0.25;
    const m = k + 1;
    const a = new Float64Array(m * m);
    const b = new Float64Array(m * m);
    weightedGram(z, n, k, d, a);
    expect(weightedGramSimd(z, n, k, d, b)).toBe(true);
    let scale = 0;
    for (let i = 0; i < m * m; i++) scale = Math.max(scale, Math.abs(a[i]!));
    for (let i = 0; i < m * m; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-6 * scale);
    // Symmetric, with the ridge on the diagonal but not on the intercept.
    for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) expect(b[i * m + j]).toBe(b[j * m + i]);
  });
});
