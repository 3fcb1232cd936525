import { describe, expect, it } from 'vitest';
import { Rng } from './rng.ts';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(7), b = new Rng(7), c = new Rng(8);
    const xa = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xa);
  });

  it('has the moments of U[0,1) and N(0,1)', () => {
    const r = new Rng(1);
    const n = 200_000;
    let s = 0, s2 = 0, g = 0, g2 = 0, outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      if (!(u >= 0 && u < 1)) outside++;
      s += u; s2 += u * u;
      const z = r.normal();
      g += z; g2 += z * z;
    }
    expect(outside).toBe(0);
    // Standard errors: sqrt(1/12/n) ~ 6.5e-4 for the uniform mean, sqrt(1/n) ~ 2.2e-3 for the normal.
    expect(Math.abs(s / n - 0.5)).toBeLessThan(4e-3);
    expect(Math.abs(s2 / n - 1 / 3)).toBeLessThan(4e-3);
    expect(Math.abs(g / n)).toBeLessThan(1e-2);
    expect(Math.abs(g2 / n - 1)).toBeLessThan(2e-2);
  });
});
