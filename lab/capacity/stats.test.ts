/**
 * Spearman and its bootstrap on cases with a known answer: monotone data gives 1, reversed -1, ties as
 * scipy.stats.spearmanr handles them (values computed once with scipy 1.10 under /usr/bin/python3 and
 * written here), the no-ties closed form 1 - 6 sum d^2 / (n (n^2 - 1)), numpy's percentile.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/index.ts';
import { averageRanks, bootstrapSpearman, percentile, spearman } from './stats.ts';

describe('spearman', () => {
  it('is 1 on monotone data and -1 on reversed data, whatever the scale', () => {
    const x = [0.1, 0.5, 2, 3, 10, 11];
    expect(spearman(x, x.map((v) => Math.exp(v)))).toBe(1);
    expect(spearman(x, x.map((v) => -v * v))).toBe(-1);
  });

  it('averages tied ranks as scipy.stats.rankdata does', () => {
    expect(averageRanks([10, 20, 20, 5, 20])).toEqual([2, 4, 4, 1, 4]);
  });

  it('matches scipy.stats.spearmanr on tied data', () => {
    // /usr/bin/python3 -c "from scipy.stats import spearmanr; print(repr(spearmanr(x, y).correlation))"
    expect(spearman([1, 2, 2, 3, 4, 4, 4, 5], [2, 1, 3, 3, 5, 4, 6, 6])).toBeCloseTo(0.9007775105401477, 14);
    expect(spearman([0.5, 0.5, 0.5, 1, 2, 3], [3, 1, 2, 2, 2, 7])).toBeCloseTo(0.48387096774193544, 14);
  });

  it('meets the closed form without ties', () => {
    const rng = new Rng(4);
    const n = 40;
    const x = Array.from({ length: n }, () => rng.next());
    const y = x.map((v) => v + 0.3 * rng.normal());
    const rx = averageRanks(x), ry = averageRanks(y);
    const d2 = rx.reduce((s, r, i) => s + (r - ry[i]!) ** 2, 0);
    expect(spearman(x, y)).toBeCloseTo(1 - (6 * d2) / (n * (n * n - 1)), 12);
  });

  it('is NaN when a side is constant or there are fewer than two points (as scipy)', () => {
    expect(spearman([1, 2, 3], [4, 4, 4])).toBeNaN();
    expect(spearman([1], [2])).toBeNaN();
  });
});

describe('bootstrapSpearman', () => {
  it('percentile interpolates as numpy.percentile', () => {
    // numpy.percentile([1, 2, 3, 4, 10], [2.5, 97.5]) -> [1.1, 9.4]
    expect(percentile([1, 2, 3, 4, 10], 2.5)).toBeCloseTo(1.1, 12);
    expect(percentile([1, 2, 3, 4, 10], 97.5)).toBeCloseTo(9.4, 12);
  });

  it('gives [1, 1] on monotone data and [-1, -1] reversed (every defined resample is exact)', () => {
    const x = Array.from({ length: 12 }, (_, i) => i * i);
    const up = bootstrapSpearman(x, x.map((v) => v + 1), { seed: 1, reps: 300 });
    expect([up.rho, up.lo, up.hi]).toEqual([1, 1, 1]);
    const down = bootstrapSpearman(x, x.map((v) => -v), { seed: 1, reps: 300 });
    expect([down.rho, down.lo, down.hi]).toEqual([-1, -1, -1]);
  });

  it('is seeded, brackets rho, and narrows with more points', () => {
    const rng = new Rng(9);
    const make = (n: number) => {
      const x = Array.from({ length: n }, () => rng.normal());
      return { x, y: x.map((v) => v + rng.normal()) };
    };
    const small = make(30), big = make(300);
    const a = bootstrapSpearman(small.x, small.y, { seed: 3, reps: 400 });
    expect(bootstrapSpearman(small.x, small.y, { seed: 3, reps: 400 })).toEqual(a);
    expect(a.lo).toBeLessThan(a.rho);
    expect(a.hi).toBeGreaterThan(a.rho);
    const b = bootstrapSpearman(big.x, big.y, { seed: 3, reps: 200 });
    expect(b.hi - b.lo).toBeLessThan((a.hi - a.lo) / 2);
    // The population rho of a bivariate normal with r = 1/sqrt(2): (6/pi) asin(r/2) = 0.6829, inside.
    expect(b.lo).toBeLessThan(0.6829);
    expect(b.hi).toBeGreaterThan(0.6829);
  });

  it('drops non-finite pairs and reports an undefined rho with a NaN interval', () => {
    const r = bootstrapSpearman([1, 2, NaN, 4], [5, 5, 1, 5], { seed: 0, reps: 10 });
    expect(r.n).toBe(3);
    expect(r.rho).toBeNaN();
    expect(r.lo).toBeNaN();
  });
});
