import { describe, expect, it } from 'vitest';
import { computeMetrics } from './metrics.ts';
import { loadSklearnRef } from './testdata/load.ts';

const f64 = (a: number[]) => new Float64Array(a);
const u8 = (a: number[]) => new Uint8Array(a);

describe('computeMetrics', () => {
  it('matches hand-computed values on a 2x2 confusion', () => {
    const m = computeMetrics(u8([1, 1, 0, 0]), f64([0.9, 0.4, 0.6, 0.1]));
    expect(m.precision).toBe(0.5);
    expect(m.recall).toBe(0.5);
    expect(m.f1).toBe(0.5);
    expect(m.accuracy).toBe(0.5);
    expect(m.mcc).toBe(0);
    // Positive-negative pairs ordered correctly: (.9,.6) (.9,.1) (.4,.1) of 4.
    expect(m.roc_auc).toBe(0.75);
    // AP: recall 0.5 at precision 1, then recall 1 at precision 2/3.
    expect(m.pr_auc).toBeCloseTo(0.5 + 0.5 * (2 / 3), 15);
  });

  it('gives MCC by its closed form', () => {
    // tp=3 fn=2 fp=1 tn=4
    const y = u8([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    const s = f64([0.9, 0.8, 0.7, 0.2, 0.1, 0.6, 0.3, 0.2, 0.1, 0.0]);
    const m = computeMetrics(y, s);
    expect(m.mcc).toBeCloseTo((3 * 4 - 1 * 2) / Math.sqrt(4 * 5 * 5 * 6), 14);
    expect(m.f1).toBeCloseTo(6 / (6 + 1 + 2), 14);
  });

  it('averages tied ranks in ROC-AUC and groups ties in average precision', () => {
    const m = computeMetrics(u8([1, 0, 1, 0]), f64([0.5, 0.5, 0.7, 0.2]));
    expect(m.roc_auc).toBe(3.5 / 4);
    expect(m.pr_auc).toBeCloseTo(0.5 + 0.5 * (2 / 3), 15);
  });

  it('uses a strict threshold and zero for undefined ratios', () => {
    const m = computeMetrics(u8([1, 0]), f64([0.5, 0.5]));
    expect(m.precision).toBe(0);
    expect(m.recall).toBe(0);
    expect(m.f1).toBe(0);
    expect(m.mcc).toBe(0);
    expect(m.accuracy).toBe(0.5);
    expect(computeMetrics(u8([1, 0]), f64([0.5, 0.5]), 0.4).recall).toBe(1);
  });

  it('returns NaN AUCs when only one class is present', () => {
    const m = computeMetrics(u8([1, 1]), f64([0.2, 0.8]));
    expect(m.roc_auc).toBeNaN();
    expect(m.pr_auc).toBeNaN();
    expect(m.recall).toBe(0.5);
  });

  it("agrees with sklearn's metrics on heavily tied scores", () => {
    const { ref, test } = loadSklearnRef();
    const m = computeMetrics(test.y, f64(ref.tied_scores));
    for (const key of Object.keys(ref.tied_metrics) as (keyof typeof m)[]) {
      expect(m[key], key).toBeCloseTo(ref.tied_metrics[key], 12);
    }
  });

  it('rejects mismatched lengths', () => {
    expect(() => computeMetrics(u8([1, 0]), f64([0.5]))).toThrow(/1 scores for 2 labels/);
  });
});
