import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../lab/core/backend.ts';
import { classifyProbeRun, summariseFeature } from './classify.ts';
import { labelNeurons, neuronResponses } from './neurons.ts';
import { plantedData, type PlantedNeuron } from './planted.ts';
import { labEngine, runSweep, type SweepConfig, type SweepRow } from './sweep.ts';
import { memorySource } from './test-support.ts';
import { randomRotation } from './privileged.ts';
import { Rng } from '../lab/core/index.ts';
import { capacityAgreement, responseCapacity } from './capacity.ts';

beforeAll(async () => {
  await initBackend('cpu');
});

const NEURONS: PlantedNeuron[] = [
  { kind: 'mono', features: ['a'] },
  { kind: 'poly', features: ['b', 'c'] },
  { kind: 'mono', features: ['d'] },
  { kind: 'dead', features: [] },
  { kind: 'noise', features: [] },
  { kind: 'poly', features: ['b', 'e'] },
  { kind: 'mono', features: ['a'] },
  { kind: 'noise', features: [] },
  { kind: 'poly', features: ['c', 'e'] },
];

function planted(seed = 3) {
  return plantedData({
    nSeqs: 150, seqLen: 8, seed, hook: 'planted.hook_post',
    features: { a: 0.15, b: 0.15, c: 0.15, d: 0.1, e: 0.15, rare: 0.003 },
    neurons: NEURONS,
  });
}

const CONFIG: SweepConfig = {
  activations: 'memory:', features: 'all', hooks: '*', methods: ['mean_dif', 'f_stat'], ks: [1, 2, 3, 4, 5, 6, 7, 8, 9],
  ksExplicit: true, testFrac: 0.3, seed: 0, minPosTrain: 10, minPosTest: 2, fit: { C: 1, classWeight: 'balanced' },
};

describe('neuron labels from activations', () => {
  it('recover the planted mono / poly / dead neurons and the features they carry', () => {
    const { data, truth } = planted();
    const resp = neuronResponses(data, ['a', 'b', 'c', 'd', 'e']);
    const rows = labelNeurons(data.hook, resp);
    const expected = truth.map((t) => (t.kind === 'noise' ? 'dead' : t.kind));
    expect(rows.map((r) => r.label)).toEqual(expected);
    rows.forEach((r, i) => expect(r.features.slice().sort()).toEqual(truth[i]!.features.slice().sort()));
    // A dedicated neuron puts (almost) all its response on its feature; a shared one about half on each.
    expect(rows[0]!.max_share).toBeGreaterThan(0.95);
    for (const s of [rows[5]!.shares[1]!, rows[5]!.shares[4]!]) expect(s).toBeCloseTo(1 / 2, 1);
  });

  it('capacity sums to the live neurons and splits shared neurons', () => {
    const { data } = planted();
    const rows = labelNeurons(data.hook, neuronResponses(data, ['a', 'b', 'c', 'd', 'e']));
    const cap = responseCapacity(rows, 5);
    expect(cap.reduce((s, v) => s + v, 0)).toBeCloseTo(rows.filter((r) => r.label !== 'dead').length, 9);
    expect(cap[0]).toBeCloseTo(2, 1); // two neurons of its own
    expect(cap[3]).toBeCloseTo(1, 1);
    for (const f of [1, 2, 4]) expect(cap[f]).toBeCloseTo(1, 1); // half of two neurons each
    const agree = capacityAgreement(cap, [2, 1, 1, 1, 1]);
    expect(agree.pearson).toBeGreaterThan(0.99);
    expect(agree.mean_abs_diff).toBeLessThan(0.05);
  });
});

describe('summariseFeature', () => {
  const row = (k: number, f1: number, method: SweepRow['method'] = 'mean_dif'): SweepRow => ({
    feature: 'f', hook: 'h', method, k, f1, mcc: 0, precision: 0, recall: 0, accuracy: 0, roc_auc: 0, pr_auc: 0,
    neurons: Array.from({ length: k }, (_, i) => i + 10), coefs: [], intercept: 0, n_train: 1, n_test: 1, n_pos_train: 1,
    n_pos_test: 1, converged: true, optimality_gap: null, status: 'ok', skip_reason: '',
  });
  it('finds k* as the smallest k reaching 95% of the best F1 over methods', () => {
    const rows = [row(1, 0.5), row(2, 0.7), row(4, 0.9), row(8, 0.93), row(1, 0.6, 'f_stat'), row(2, 0.89, 'f_stat')];
    const s = summariseFeature(rows, { dedicatedF1: 0.8, kStarFrac: 0.95, method: 'best' });
    expect(s.best_f1).toBe(0.93);
    expect(s.k_star).toBe(2); // 0.89 >= 0.95 * 0.93 = 0.8835
    expect(s.f1_k1).toBe(0.6);
    expect(s.f1_gain).toBeCloseTo(0.29, 12);
    expect(s.dedicated).toBe(false);
    const m = summariseFeature(rows, { dedicatedF1: 0.8, kStarFrac: 0.95, method: 'mean_dif' });
    expect([m.k_star, m.f1_k1, m.k1_neuron]).toEqual([4, 0.5, 10]);
  });
});

describe('randomRotation', () => {
  it('is orthogonal', () => {
    const d = 7;
    const Q = randomRotation(d, new Rng(1));
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += Q[t * d + i]! * Q[t * d + j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 5);
      }
    }
  });
});

describe('classifyProbeRun', () => {
  it('recovers planted dedicated neurons, superposed features and a privileged basis', async () => {
    const { data: d0, truth } = planted();
    const data = { ...d0, toy: { runDir: 'planted', instance: 0 } };
    const out = mkdtempSync(join(tmpdir(), 'classify-'));
    await runSweep(CONFIG, { outDir: out, source: memorySource([data]), engine: labEngine(), silent: true });
    const res = classifyProbeRun(out, {
      source: memorySource([data]), engine: labEngine(),
      truth: () => ({ labels: truth.map((t) => (t.kind === 'noise' ? 'dead' : t.kind)), capacity: {} }),
    }, { rotations: 3 });
    const f = Object.fromEntries(res.features.map((r) => [r.feature, r]));
    expect(f.rare!.status).toBe('skipped');
    expect(f.a!.dedicated && f.d!.dedicated).toBe(true);
    expect([0, 6]).toContain(f.a!.k1_neuron);
    expect(f.d!.k1_neuron).toBe(2);
    // b, c and e live only in shared neurons, each in a different pair: no dedicated neuron, and a
    // probe on two or more neurons separates them.
    for (const g of ['b', 'c', 'e']) {
      expect(f[g]!.dedicated).toBe(false);
      expect(f[g]!.k_star!).toBeGreaterThan(1);
      expect(f[g]!.f1_gain!).toBeGreaterThan(0.05);
    }
    // Planted features sit on neurons: rotating the basis loses the dedicated ones.
    // (a has two copies, so a rotation that mixes them keeps some of it.)
    expect(f.d!.privilege!).toBeGreaterThan(0.2);
    expect(f.a!.privilege!).toBeGreaterThan(0);
    expect(res.toy!.balanced_accuracy).toBe(1);
    expect(res.toy!.confusion.mono.mono).toBe(3);
    expect(res.toy!.confusion.dead.dead).toBe(3);
    expect(res.toy!.confusion.poly.poly).toBe(3);
  });
});
