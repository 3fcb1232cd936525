import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/core/index.ts';
import { featureMetrics } from './metrics.ts';

function polygon(k: number, radius = 1): number[][] {
  return Array.from({ length: k }, (_, i) => [radius * Math.cos((2 * Math.PI * i) / k), radius * Math.sin((2 * Math.PI * i) / k)]);
}

describe('featureMetrics closed forms', () => {
  it('orthogonal features: D = C = 1, no interference, dims per feature 1', () => {
    const W = [
      [1, 0, 0],
      [0, 2, 0],
      [0, 0, 0.5],
    ];
    const m = featureMetrics(W);
    for (let i = 0; i < 3; i++) {
      expect(m.dimensionality[i]).toBeCloseTo(1, 12);
      expect(m.capacity[i]).toBeCloseTo(1, 12);
      expect(m.interference[i]).toBeCloseTo(0, 12);
    }
    expect(m.norms).toEqual([1, 2, 0.5]);
    expect(m.total_capacity).toBeCloseTo(3, 12);
    expect(m.dims_per_feature).toBeCloseTo(3 / (1 + 4 + 0.25), 12);
  });

  it('antipodal pair: D = C = 1/2, interference 1 for unit vectors', () => {
    const m = featureMetrics([[0.6, 0.8], [-0.6, -0.8]]);
    expect(m.dimensionality[0]).toBeCloseTo(0.5, 12);
    expect(m.capacity[1]).toBeCloseTo(0.5, 12);
    expect(m.interference[0]).toBeCloseTo(1, 12);
    expect(m.dims_per_feature).toBeCloseTo(1, 12);
  });

  it('regular pentagon in 2D: D = C = 2/5 for every feature, at any radius', () => {
    for (const r of [1, 0.7]) {
      const m = featureMetrics(polygon(5, r));
      for (const d of m.dimensionality) expect(d).toBeCloseTo(2 / 5, 10);
      for (const c of m.capacity) expect(c).toBeCloseTo(2 / 5, 10);
      expect(m.total_capacity).toBeCloseTo(2, 10);
    }
  });

  it('triangle gives 2/3 and a square antiprism-free check: k points of a regular polygon give 2/k', () => {
    for (const k of [3, 6, 7]) {
      const m = featureMetrics(polygon(k));
      for (const d of m.dimensionality) expect(d).toBeCloseTo(2 / k, 10);
    }
  });

  it('features with zero norm get D = C = 0 and no NaN; all-zero W has infinite dims per feature', () => {
    const m = featureMetrics([[1, 0], [0, 0], [0, 1]]);
    expect(m.dimensionality).toEqual([1, 0, 1]);
    expect(m.capacity).toEqual([1, 0, 1]);
    expect(m.interference).toEqual([0, 0, 0]);
    const z = featureMetrics([[0, 0], [0, 0]]);
    expect(z.capacity).toEqual([0, 0]);
    expect(z.total_capacity).toBe(0);
    expect(z.dims_per_feature).toBe(Infinity);
  });

  it('sum of C_i never exceeds m, and D_i equals C_i, on random matrices', () => {
    const rng = new Rng(7);
    for (let t = 0; t < 50; t++) {
      const n = 1 + rng.int(30);
      const mm = 1 + rng.int(8);
      const W = Array.from({ length: n }, () => Array.from({ length: mm }, () => (rng.next() < 0.3 ? 0 : rng.normal())));
      const met = featureMetrics(W);
      expect(met.total_capacity).toBeLessThanOrEqual(mm + 1e-9);
      met.capacity.forEach((c, i) => {
        expect(c).toBeGreaterThanOrEqual(0);
        expect(c).toBeLessThanOrEqual(1 + 1e-12);
        expect(met.dimensionality[i]).toBeCloseTo(c, 10);
      });
    }
  });
});
