import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { allocBatch, densify, sampleInto, sparsify } from './data.ts';

describe('toy data', () => {
  for (const p of [0.05, 0.3, 1]) {
    it(`feature probability ${p}: active fraction and value distribution match`, () => {
      const rows = 4000;
      const n = 20;
      const b = allocBatch(rows, n, p);
      sampleInto(b, p, false, new Rng(1));
      const nnz = b.rowPtr[rows]!;
      const frac = nnz / (rows * n);
      // Binomial standard error is sqrt(p(1-p)/N) <= 0.0025 here; 5 SE is a loose bound.
      expect(Math.abs(frac - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / (rows * n)) + 1e-9);
      let sum = 0;
      let lo = Infinity;
      let hi = -Infinity;
      const perFeature = new Array<number>(n).fill(0);
      for (let e = 0; e < nnz; e++) {
        const v = b.val[e]!;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
        sum += v;
        perFeature[b.idx[e]!]!++;
      }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThan(1);
      expect(sum / nnz).toBeCloseTo(0.5, 1);
      // No feature is favoured: each is active in about p * rows rows.
      for (const c of perFeature) expect(Math.abs(c / rows - p)).toBeLessThan(6 * Math.sqrt((p * (1 - p)) / rows) + 1e-9);
      // Indices within a row are strictly increasing.
      let ordered = true;
      for (let r = 0; r < rows; r++) for (let e = b.rowPtr[r]! + 1; e < b.rowPtr[r + 1]!; e++) ordered &&= b.idx[e]! > b.idx[e - 1]!;
      expect(ordered).toBe(true);
    });
  }

  it('abs data is symmetric on [-1, 1]; p = 0 gives no active features', () => {
    const b = allocBatch(2000, 10, 0.2);
    sampleInto(b, 0.2, true, new Rng(2));
    let neg = 0;
    let big = 0;
    for (let e = 0; e < b.rowPtr[2000]!; e++) {
      big = Math.max(big, Math.abs(b.val[e]!));
      if (b.val[e]! < 0) neg++;
    }
    expect(big).toBeLessThanOrEqual(1);
    expect(neg / b.rowPtr[2000]!).toBeCloseTo(0.5, 1);
    const z = allocBatch(10, 5, 0);
    sampleInto(z, 0, false, new Rng(3));
    expect(z.rowPtr[10]).toBe(0);
  });

  it('densify and sparsify are inverses, and the same seed gives the same batch', () => {
    const a = allocBatch(50, 8, 0.3);
    sampleInto(a, 0.3, false, new Rng(4));
    const { x, active } = densify(a);
    const back = densify(sparsify(x, 50, 8));
    expect(back.x).toEqual(x);
    expect(back.active).toEqual(active);
    const c = allocBatch(50, 8, 0.3);
    sampleInto(c, 0.3, false, new Rng(4));
    expect(densify(c).x).toEqual(x);
  });
});
