/**
 * The toy side of the capacity study, where the truth is known: a toy with importance 0.9^i and dense
 * features (m = 3 dimensions for n = 6 features) must come out with its three most important features
 * dedicated at C near 1 and the rest unrepresented, so importance and C_i rank alike; with sparser
 * features the toy packs the less important ones in beside them (Elhage et al. 2022; Scherlis et al. 2022).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainToy, writeToyRun } from '../../activations/toy/index.ts';
import { summarise, toyCapacityRows, type ToyCapacityRow } from './index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'capacity-toy-'));
let rows: ToyCapacityRow[];
beforeAll(async () => {
  const r = await trainToy({ model: 'relu-out', features: 6, hidden: 3, instances: 2, feature_prob: [1, 0.5], importance_decay: 0.9, steps: 600, seed: 0, batch: 128, lr: 2e-2 });
  writeToyRun(join(tmp, 'toy'), r, 'capacity test');
  rows = toyCapacityRows(join(tmp, 'toy'));
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('toy capacity against known importance', () => {
  it('reads importance 0.9^i and C_i per instance and feature', () => {
    expect(rows.length).toBe(12);
    for (const r of rows) expect(r.importance).toBeCloseTo(0.9 ** r.feature, 6);
  });

  it('recovers the ordering: the most important features are dedicated with C near 1', () => {
    const dense = rows.filter((r) => r.instance === 0);
    for (const r of dense.slice(0, 3)) {
      expect(r.dedicated, `feature ${r.feature}`).toBe(true);
      expect(r.capacity).toBeGreaterThan(0.95);
    }
    for (const r of dense.slice(3)) {
      expect(r.dedicated).toBe(false);
      expect(r.capacity).toBeLessThan(0.1);
    }
    const s = summarise([], rows, 0, 200);
    const inst0 = s.find((x) => x.source === 'toy' && x.scope === 'instance 0')!;
    expect(inst0.rho).toBeGreaterThan(0.8);
    expect(s.map((x) => x.scope)).toEqual(['instance 0', 'instance 1', 'pooled']);
    const pooled = s.find((x) => x.scope === 'pooled')!;
    expect(pooled.rho).toBeGreaterThan(0.5);
    expect(pooled.lo).toBeGreaterThan(0);
  });
});
