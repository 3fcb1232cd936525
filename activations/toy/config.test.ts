import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lab/core/index.ts';
import { featureProbs, importances, parseFeatureProb, resolveConfig } from './config.ts';

describe('toy config', () => {
  it('spreads feature probability geometrically across instances', () => {
    const p = featureProbs({ feature_prob: [1, 0.05], instances: 10 });
    expect(p[0]).toBe(1);
    expect(p[9]).toBe(0.05);
    for (let k = 1; k < 10; k++) expect(p[k]! / p[k - 1]!).toBeCloseTo(Math.pow(0.05, 1 / 9), 12);
    expect(featureProbs({ feature_prob: 0.1, instances: 3 })).toEqual([0.1, 0.1, 0.1]);
  });

  it('importance decays as r^i or follows the list', () => {
    expect(Array.from(importances({ features: 3, importance_decay: 0.5 }))).toEqual([1, 0.5, 0.25]);
    expect(Array.from(importances({ features: 2, importance_decay: 1, importance: [3, 1] }))).toEqual([3, 1]);
  });

  it('rejects bad input with the flag named', () => {
    const base = { model: 'relu-out' as const, features: 5, hidden: 2 };
    const flagOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as UsageError).flag;
      }
      return 'no error';
    };
    expect(flagOf(() => resolveConfig({ ...base, features: 0 }))).toBe('features');
    expect(flagOf(() => resolveConfig({ ...base, feature_prob: 1.5 }))).toBe('feature-prob');
    expect(flagOf(() => resolveConfig({ ...base, feature_prob: [1, 0], instances: 3 }))).toBe('feature-prob');
    expect(flagOf(() => resolveConfig({ ...base, lr: -1 }))).toBe('lr');
    expect(flagOf(() => resolveConfig({ ...base, importance: [1, 2] }))).toBe('importance');
    expect(flagOf(() => parseFeatureProb('abc'))).toBe('feature-prob');
    expect(flagOf(() => parseFeatureProb('0.5:-1'))).toBe('feature-prob');
    expect(parseFeatureProb('1:0.05')).toEqual([1, 0.05]);
    expect(parseFeatureProb('0.2')).toBe(0.2);
  });
});
