import { describe, expect, it } from 'vitest';
import { lrAt, scheduleProgress } from './schedule.ts';

describe('learning-rate schedule', () => {
  const s = { lr: 1e-3, warmup: 10, minLr: 1e-4 };
  it('warms up linearly, then decays along a cosine from lr to minLr', () => {
    expect(lrAt(s, 0, 0)).toBeCloseTo(1e-4, 15);
    expect(lrAt(s, 4, 0)).toBeCloseTo(5e-4, 15);
    expect(lrAt(s, 9, 0)).toBeCloseTo(1e-3, 15);
    expect(lrAt(s, 50, 0.5)).toBeCloseTo((1e-3 + 1e-4) / 2, 15);
    expect(lrAt(s, 100, 1)).toBeCloseTo(1e-4, 15);
    expect(lrAt(s, 200, 3)).toBeCloseTo(1e-4, 15);
    for (let p = 0; p < 1; p += 0.1) expect(lrAt(s, 20, p + 0.1)).toBeLessThanOrEqual(lrAt(s, 20, p));
  });

  it('follows the steps unless the time budget is at least a step ahead, so timing noise cannot move it', () => {
    expect(scheduleProgress(0, 1e-4, 1 / 60)).toBe(0);
    expect(scheduleProgress(0.5, 0.5 + 1 / 120, 1 / 60)).toBe(0.5);
    expect(scheduleProgress(0.5, 0.9, 1 / 60)).toBe(0.9);
    expect(scheduleProgress(0.5, 0.5 + 1 / 60, 1 / 60)).toBeCloseTo(0.5 + 1 / 60, 15);
  });
});
