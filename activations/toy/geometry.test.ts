import { describe, expect, it } from 'vitest';
import { featureGeometry, geometrySummary, symmetricEigenvalues } from './geometry.ts';

const ring = (k: number, rot = 0) => Array.from({ length: k }, (_, i) => [Math.cos(rot + (2 * Math.PI * i) / k), Math.sin(rot + (2 * Math.PI * i) / k)]);

describe('featureGeometry', () => {
  it('names a regular pentagon, and a dropped feature is left out', () => {
    const W = [...ring(5, 0.3), [0.01, 0.02]];
    const g = featureGeometry(W);
    expect(g).toHaveLength(1);
    expect(g[0]).toMatchObject({ shape: 'pentagon', features: [0, 1, 2, 3, 4], dims: 2, regular: true });
  });

  it('names two dedicated dimensions and drops the rest (the dense n=5, m=2 solution)', () => {
    const g = featureGeometry([[1, 0], [0, 1], [0, 0], [0.001, 0], [0, 0]]);
    expect(g.map((x) => x.shape)).toEqual(['dedicated', 'dedicated']);
    expect(geometrySummary(g)).toBe('2x dedicated');
  });

  it('names antipodal pairs in orthogonal planes, a triangle and a tetrahedron', () => {
    const pairs = featureGeometry([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]]);
    expect(pairs.map((x) => x.shape)).toEqual(['antipodal pair', 'antipodal pair']);
    const tri = featureGeometry(ring(3).map((r) => [...r, 0]));
    expect(tri[0]!.shape).toBe('triangle');
    const s = 1 / Math.sqrt(3);
    const tet = featureGeometry([[s, s, s], [s, -s, -s], [-s, s, -s], [-s, -s, s]]);
    expect(tet[0]).toMatchObject({ shape: 'tetrahedron', dims: 3 });
  });

  it('names a square antiprism (8 points in 3D, D = 3/8)', () => {
    // Height 1/sqrt(2) of the in-plane radius makes the 8 directions a tight frame: every D_i = 3/8.
    const h = Math.SQRT1_2;
    const pts = Array.from({ length: 8 }, (_, i) => {
      const a = (Math.PI / 4) * i;
      const v = [Math.cos(a), Math.sin(a), i % 2 ? h : -h];
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    });
    const g = featureGeometry(pts);
    expect(g).toHaveLength(1);
    expect(g[0]!.dims).toBe(3);
    expect(g[0]!.shape).toBe('square antiprism');
  });

  it('reports an irregular group by its size and rank', () => {
    const g = featureGeometry([[1, 0], [0.9, 0.435889894], [0, 1]]);
    expect(g[0]!.shape).toBe('3 in 2 dims');
    expect(g[0]!.regular).toBe(false);
  });

  it('Jacobi eigenvalues match a known spectrum', () => {
    const ev = symmetricEigenvalues([
      [2, 1, 0],
      [1, 2, 0],
      [0, 0, 5],
    ]).sort((a, b) => a - b);
    expect(ev[0]).toBeCloseTo(1, 10);
    expect(ev[1]).toBeCloseTo(3, 10);
    expect(ev[2]).toBeCloseTo(5, 10);
  });
});
