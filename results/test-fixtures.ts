/**
 * Small run directories of every kind, written through the same writers the lab uses (RunDir,
 * StoreWriter), for the tests of results/ and the notebooks. Not part of the public API.
 */
import { join } from 'node:path';
import * as aq from 'arquero';
import { RunDir } from '../lab/core/index.ts';
import { phaseCsv, type PhaseRow } from '../activations/toy/index.ts';
import { StoreWriter } from '../activations/index.ts';
import { writeClassifyRun } from '../probes/index.ts';
import type { ClassifyResult } from '../probes/index.ts';
import { tableToCsv, writeRunTable } from './table-io.ts';
import type { ToyInstance } from './toy-tables.ts';

export const pentagon = Array.from({ length: 5 }, (_, i) => [Math.cos((2 * Math.PI * i) / 5), Math.sin((2 * Math.PI * i) / 5)]);

/** Two instances of n=5, m=2: dense (two orthogonal features) and sparse (a pentagon). */
export function writeToyFixture(dir: string): ToyInstance[] {
  const instances: ToyInstance[] = [
    { feature_prob: 1, loss: 0.2, W: [[1, 0], [0, 1], [0, 0], [0, 0], [0, 0]], b: [0, 0, 0, 0, 0] },
    { feature_prob: 0.05, loss: 0.01, W: pentagon, b: [-0.2, -0.2, -0.2, -0.2, -0.2] },
  ];
  const run = RunDir.begin(dir, { kind: 'toy', seed: 3, config: { model: 'relu-out', features: 5, hidden: 2, instances: 2, importance_decay: 0.9, steps: 0 } });
  run.writeJson('instances.json', instances);
  run.finish();
  return instances;
}

/** relu-hidden, n=3 features, 4 neurons: mono on 0, mono on 1, poly on {1, 2}, dead. */
export function writeToyNeuronFixture(dir: string): void {
  const W1 = [[1, 0, 0], [0, 1, 0], [0, 0.6, 0.5], [-1, -1, -1]];
  const W = [0, 1, 2].map((f) => W1.map((row) => row[f]!));
  const neurons = [
    { label: 'mono', features: [0], shares: [1, 0, 0] },
    { label: 'mono', features: [1], shares: [0, 1, 0] },
    { label: 'poly', features: [1, 2], shares: [0, 0.6 / 1.1, 0.5 / 1.1] },
    { label: 'dead', features: [], shares: [0, 0, 0] },
  ];
  const run = RunDir.begin(dir, { kind: 'toy', seed: 1, config: { model: 'relu-hidden', features: 3, hidden: 4, instances: 1, importance_decay: 1 } });
  run.writeJson('instances.json', [{ feature_prob: 0.1, loss: 0.05, W, W1, b: [0, 0, 0], neurons }]);
  run.finish();
}

/** A 4 x 3 phase diagram, written with activations/toy's own phaseCsv. */
export function writeSweepFixture(dir: string): void {
  const rows: PhaseRow[] = [];
  for (const feature_prob of [1, 0.3, 0.1, 0.01]) {
    for (const relative_importance of [0.1, 1, 10]) {
      const phase = relative_importance >= 10 ? 'dedicated' : feature_prob <= 0.1 ? 'superposition' : 'not_represented';
      rows.push({
        feature_prob, relative_importance, phase, loss: 0.1, best_restart: 0, norm_last: phase === 'not_represented' ? 0 : 1,
        dimensionality_last: phase === 'dedicated' ? 1 : phase === 'superposition' ? 0.5 : 0, total_capacity: 1, dims_per_feature: 1, shape: '',
      });
    }
  }
  const run = RunDir.begin(dir, { kind: 'toy-sweep', seed: 0, config: { features: 2, hidden: 1 } });
  run.write('phase.csv', phaseCsv(rows));
  run.finish();
}

/** A sweep of 2 features x 2 methods x 4 k, plus one skipped feature. */
export function writeProbeFixture(dir: string): void {
  const rows = [];
  for (const feature of ['is_noun', 'is_verb']) {
    for (const method of ['mean_dif', 'l1']) {
      for (const k of [1, 2, 4, 8]) {
        const f1 = Math.min(1, 0.4 + 0.1 * Math.log2(k) + (method === 'l1' ? 0.05 : 0));
        rows.push({ feature, hook: 'blocks.0.mlp.hook_post', method, k, f1, mcc: f1 - 0.1, precision: f1, recall: f1, accuracy: 0.9, roc_auc: 0.95, pr_auc: 0.8, neurons: '1 2', coefs: '0.5 0.25', status: 'ok', skip_reason: '' });
      }
    }
  }
  rows.push({ feature: 'rare', hook: 'blocks.0.mlp.hook_post', method: 'mean_dif', k: null, f1: null, mcc: null, precision: null, recall: null, accuracy: null, roc_auc: null, pr_auc: null, neurons: '', coefs: '', status: 'skipped', skip_reason: 'too few positives' });
  const run = RunDir.begin(dir, { kind: 'probe', seed: 0, config: { features: 'all', hooks: 'blocks.*.mlp.hook_post' } });
  run.write('sweep.csv', tableToCsv(aq.from(rows)));
  run.finish();
}

/**
 * A classify run of two layers written by probes/cli.ts's own table writer (so a change in its format
 * shows up here): layer 0 has 3 mono, 2 poly, 1 dead neurons; layer 1 the same plus one dead. Its
 * classify.json carries a toy confusion matrix.
 */
export function writeClassifyFixture(dir: string): void {
  const labels = ['mono', 'mono', 'poly', 'dead', 'mono', 'poly'] as const;
  const hooks = ['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post'];
  const features = hooks.flatMap((hook) => [
    { feature: 'is_noun', hook, status: 'ok', skip_reason: '', best_f1: 0.9, best_method: 'mean_dif', best_k: 1, f1_k1: 0.9, k1_neuron: 0, dedicated: true, k_star: 1, f1_k_star: 0.9, f1_gain: 0, capacity: 0.8, toy_capacity: 0.95, neuron_f1: 0.9, rotated_f1_mean: 0.5, rotated_f1_max: 0.6, privilege: 0.4 },
    { feature: 'is_verb', hook, status: 'ok', skip_reason: '', best_f1: 0.8, best_method: 'l1', best_k: 4, f1_k1: 0.5, k1_neuron: 2, dedicated: false, k_star: 4, f1_k_star: 0.8, f1_gain: 0.3, capacity: 0.4, toy_capacity: 0.5, neuron_f1: 0.5, rotated_f1_mean: 0.4, rotated_f1_max: 0.45, privilege: 0.1 },
  ]);
  const neurons = hooks.flatMap((hook, h) =>
    [...labels, ...(h === 1 ? (['dead'] as const) : [])].map((label, neuron) => {
      const shares = label === 'dead' ? [0, 0] : label === 'poly' ? [0.5, 0.5] : neuron % 2 === 0 ? [0.9, 0.1] : [0.1, 0.9];
      return {
        hook, neuron, label, truth_label: null, features: label === 'dead' ? [] : label === 'poly' ? ['is_noun', 'is_verb'] : [shares[0]! > 0.5 ? 'is_noun' : 'is_verb'],
        shares, responses: shares.map((x) => 2 * x), z: shares.map((x) => 5 * x), max_share: Math.max(...shares), response_mass: label === 'dead' ? 0 : 1, active_frac: label === 'dead' ? 0 : 0.3,
        max_activation: label === 'dead' ? 0 : 2, top_feature: 'is_noun', top_diff: 0.5, top_z: 3,
      };
    }),
  );
  const res = {
    features, neurons, privileged: [],
    toy: {
      confusion: { mono: { mono: 5, poly: 1, dead: 0 }, poly: { mono: 0, poly: 3, dead: 0 }, dead: { mono: 0, poly: 0, dead: 4 } },
      balanced_accuracy: 0.9444, accuracy: 12 / 13, n_neurons: 13, per_hook: {}, capacity: { pearson: 0.9, mean_abs_diff: 0.05 },
    },
  } as unknown as ClassifyResult;
  writeClassifyRun(dir, res, { seed: 0, config: { probes: 'runs/probe' } });
}

/** A harvest of 3 sequences x 4 tokens, one hook of 6 neurons, two features. */
export function writeHarvestFixture(dir: string): void {
  const run = RunDir.begin(dir, { kind: 'harvest', seed: 0, config: { dataset: 'fixture', hooks: ['blocks.0.mlp.hook_post'] } });
  const w = StoreWriter.open(
    dir,
    {
      config: { dataset: 'fixture' },
      model: { name: 'fixture-model' },
      dataset: { name: 'fixture', level: 'token', features: ['is_noun', 'is_verb'], label_columns: ['is_noun', 'is_verb'] },
      seed: 0,
      aggregation: 'none',
      dtype: 'f32',
      quantisation: 'none',
      hooks: [{ name: 'blocks.0.mlp.hook_post', n_neurons: 6, row_shape: [6] }],
    },
    { chunkRows: 8 },
  );
  for (let s = 0; s < 3; s++) {
    const labels = new Uint8Array(8);
    labels[0] = 1; // token 0 is a noun
    labels[3] = s === 0 ? 1 : 0; // token 1 of sequence 0 is a verb
    const values = new Float32Array(24).map((_, i) => (i % 7) / 7);
    w.appendSequence({ rows: 4, seqIds: s, positions: [0, 1, 2, 3], labels, values: [values], tokens: 4 });
  }
  w.finish();
  run.finish();
}

export function writeAllFixtures(root: string): Record<string, string> {
  const dirs = {
    toy: join(root, 'toy'), toy_neurons: join(root, 'toy-neurons'), sweep: join(root, 'sweep'),
    probe: join(root, 'probe'), classify: join(root, 'classify'), harvest: join(root, 'harvest'),
  };
  writeToyFixture(dirs.toy);
  writeToyNeuronFixture(dirs.toy_neurons);
  writeSweepFixture(dirs.sweep);
  writeProbeFixture(dirs.probe);
  writeClassifyFixture(dirs.classify);
  writeHarvestFixture(dirs.harvest);
  return dirs;
}
