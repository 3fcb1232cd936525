import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxReachLabels, sparseLimitLabels, SMALL, validateOnToy } from './validate.ts';

describe('earlier weight-side rules kept for comparison', () => {
  it('max reach ignores the bias: a weak second weight makes it poly, a bias beyond reach dead', () => {
    const W1 = [[1, 0.3, 0], [0.5, 0.5, -1], [1, 1, 0]];
    expect(maxReachLabels('relu-hidden', W1, [-0.35, 0, -3])).toEqual(['poly', 'poly', 'dead']);
    expect(maxReachLabels('relu-hidden', [[2, 0.1, -3]], [0])).toEqual(['mono']);
  });

  it('sparse limit counts only what a feature can do on its own, bias included', () => {
    // Neuron 0: feature 1 cannot beat the bias alone -> mono on feature 0 (the plain reach rule says poly).
    // Neuron 1: no feature alone can fire it -> dead. Neuron 2: positive bias, two equal weights -> poly.
    const W1 = [[1, 0.3, 0], [0.1, 0.1, -1], [0.5, 0.5, 0]];
    const b1 = [-0.35, -0.2, 0.1];
    expect(sparseLimitLabels('relu-hidden', W1, b1)).toEqual(['mono', 'dead', 'poly']);
  });
});

describe('validation on toy ground truth', () => {
  it('activation-based neuron labels agree with the weight-based ones (balanced accuracy >= 0.9)', async () => {
    const r = await validateOnToy(SMALL, mkdtempSync(join(tmpdir(), 'validate-')));
    // Three sparsity levels, every neuron of every instance labelled both ways.
    expect(r.per_instance.length).toBe(3);
    expect(r.per_instance.reduce((s, p) => s + p.n, 0)).toBe(SMALL.instances * SMALL.hidden);
    expect(Object.keys(r.alternatives)).toEqual(['max_reach', 'sparse_limit']);
    expect(r.balanced_accuracy).toBeGreaterThanOrEqual(0.9);
  });
});
