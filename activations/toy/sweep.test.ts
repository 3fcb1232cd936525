import { describe, expect, it } from 'vitest';
import { geomGrid, phaseCsv, phaseMap, phaseOf, sweepToy } from './sweep.ts';

describe('toy sweep', () => {
  it('classifies the last feature by norm and dimensionality', () => {
    expect(phaseOf(0.1, 0)).toBe('not_represented');
    expect(phaseOf(1, 1)).toBe('dedicated');
    expect(phaseOf(1, 0.5)).toBe('superposition');
    const g = geomGrid(1, 0.01, 3);
    expect(g[0]).toBe(1);
    expect(g[1]).toBeCloseTo(0.1, 12);
    expect(g[2]).toBe(0.01);
  });

  it('n=2, m=1: a much more important last feature takes the dimension when dense; sparse features go antipodal', async () => {
    const rows = await sweepToy({
      base: { model: 'relu-out', features: 2, hidden: 1, steps: 1500, batch: 256, lr: 1e-2, weight_decay: 0, seed: 0, tied: false, workers: 1 },
      probs: [1, 0.02],
      relative_importance: [5],
      restarts: 2,
    });
    const dense = rows.find((r) => r.feature_prob === 1)!;
    const sparse = rows.find((r) => r.feature_prob === 0.02)!;
    expect(dense.phase).toBe('dedicated');
    expect(sparse.phase).toBe('superposition');
    expect(sparse.shape).toBe('antipodal pair');
    expect(rows.every((r) => r.total_capacity <= 1 + 1e-9)).toBe(true);
    expect(phaseCsv(rows).split('\n')[0]).toBe('feature_prob,relative_importance,phase,loss,best_restart,norm_last,dimensionality_last,total_capacity,dims_per_feature,shape');
    expect(phaseMap(rows)).toMatch(/D\s+S/);
  });

  it('rejects bad grids naming the flag', async () => {
    const base = { model: 'relu-out' as const, features: 2, hidden: 1, steps: 1, batch: 8, lr: 1e-3, weight_decay: 0, seed: 0, tied: false, workers: 1 };
    await expect(sweepToy({ base, probs: [0], relative_importance: [1], restarts: 1 })).rejects.toThrow(/--probs/);
    await expect(sweepToy({ base, probs: [1], relative_importance: [-1], restarts: 1 })).rejects.toThrow(/--relative-importance/);
    await expect(sweepToy({ base: { ...base, features: 1 }, probs: [1], relative_importance: [1], restarts: 1 })).rejects.toThrow(/--features/);
  });
});
