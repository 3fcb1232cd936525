import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProbeData } from '../activations/index.ts';
import { Rng, UsageError } from '../lab/core/index.ts';
import { classifyProbeRun } from './classify.ts';
import { contrastRows, stratifyColumns } from './contrast.ts';
import { neuronResponses } from './neurons.ts';
import { plantedData } from './planted.ts';
import { splitBySequence, takeLabels, takeRows } from './split.ts';
import { labEngine, runSweep, runUnit, splitFor, type SweepConfig, type SweepRow } from './sweep.ts';
import { memorySource } from './test-support.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'contrast-'));
const A = 0, B = 1, C = 2, D = 3; // word ids; 4.. are filler words

/**
 * A stream of words per sequence: after A comes B 99% of the time; B also comes alone (2%), so most
 * of B's hard negatives are 'B without A' and few are 'A without B'. C and D make a rare second pair.
 * Labels as the compound-bigrams dataset writes them, computed here from the words directly.
 */
function bigramData(seed = 0, nSeqs = 300, seqLen = 30): { hooks: ProbeData[]; words: Int32Array } {
  const rng = new Rng(seed);
  const n = nSeqs * seqLen;
  const words = new Int32Array(n);
  const seqIds = new Int32Array(n);
  const positions = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    seqIds[r] = Math.floor(r / seqLen);
    positions[r] = r % seqLen;
    const prev = positions[r]! > 0 ? words[r - 1]! : -1;
    const u = rng.next();
    if (prev === A) words[r] = u < 0.99 ? B : 4 + Math.floor(rng.next() * 20);
    else if (prev === C) words[r] = u < 0.5 ? D : 4;
    else words[r] = u < 0.06 ? A : u < 0.08 ? B : u < 0.0815 ? C : 4 + Math.floor(rng.next() * 20);
  }
  const labels: Record<string, Uint8Array> = {};
  for (const [name, a, b] of [['a_b', A, B], ['c_d', C, D]] as const) {
    const y = (labels[name] = new Uint8Array(n));
    const mf = (labels[`${name}_missing_first`] = new Uint8Array(n));
    const ms = (labels[`${name}_missing_second`] = new Uint8Array(n));
    for (let r = 0; r < n; r++) {
      const prev = positions[r]! > 0 ? words[r - 1]! : -1;
      if (words[r] === b) (prev === a ? y : mf)[r] = 1;
      else if (prev === a) ms[r] = 1;
    }
  }
  labels.filler_4 = Uint8Array.from(words, (w) => (w === 4 ? 1 : 0));
  const noise = () => 0.1 * rng.normal();
  // Hook 0: neuron 0 fires on every B (the second word alone); hook 1: neuron 0 fires on the bigram only.
  const hook = (name: string, fires: (r: number) => boolean): ProbeData => {
    const X = new Float32Array(n * 3);
    for (let r = 0; r < n; r++) {
      X[r * 3] = (fires(r) ? 1 : 0) + noise();
      X[r * 3 + 1] = noise();
      X[r * 3 + 2] = noise();
    }
    return { hook: name, nRows: n, nNeurons: 3, X, seqIds, positions, labels };
  };
  return {
    words,
    hooks: [hook('blocks.0.mlp.hook_post', (r) => words[r] === B), hook('blocks.1.mlp.hook_post', (r) => labels.a_b![r] === 1)],
  };
}

function config(over: Partial<SweepConfig> = {}): SweepConfig {
  return {
    activations: 'memory:', features: 'all', hooks: '*', methods: ['mean_dif'], ks: [1], ksExplicit: true,
    testFrac: 0.3, seed: 0, minPosTrain: 10, minPosTest: 2, fit: { C: 1, classWeight: 'balanced' }, ...over,
  };
}

const row = (rows: SweepRow[], hook: number, feature = 'a_b') => rows.find((r) => r.hook === `blocks.${hook}.mlp.hook_post` && r.feature === feature && r.k === 1)!;

describe('--contrast hard-negatives', () => {
  it('a second-word neuron scores high against all rows but at chance against the hard negatives; a bigram neuron scores high in both', async () => {
    const { hooks } = bigramData();
    const plain = (await runSweep(config({ features: ['a_b'] }), { outDir: tmp(), source: memorySource(hooks), engine: labEngine(), silent: true })).rows;
    const hard = (await runSweep(config({ contrast: 'hard-negatives' }), { outDir: tmp(), source: memorySource(hooks), engine: labEngine(), silent: true })).rows;
    // ROC AUC (0.5 = chance) and MCC (0 = chance): F1 is not chance-corrected, and among the contrast
    // rows the bigram is the majority class (B follows A 99% of the time), so F1 alone would not show it.
    const second = row(plain, 0);
    expect(second.neurons).toEqual([0]);
    expect(second.roc_auc!).toBeGreaterThan(0.95);
    expect(second.mcc!).toBeGreaterThan(0.7);
    const secondHard = row(hard, 0);
    expect(secondHard.roc_auc!).toBeLessThan(0.6);
    expect(Math.abs(secondHard.mcc!)).toBeLessThan(0.2);
    for (const r of [row(plain, 1), row(hard, 1)]) {
      expect(r.neurons).toEqual([0]);
      expect(r.roc_auc!).toBeGreaterThan(0.99);
      expect(r.mcc!).toBeGreaterThan(0.95);
      expect(r.f1!).toBeGreaterThan(0.95);
    }
    // The contrast probes the bigrams only, and skips the rare one with the reason.
    expect([...new Set(hard.map((r) => r.feature))].sort()).toEqual(['a_b', 'c_d']);
    const rare = hard.filter((r) => r.feature === 'c_d');
    expect(rare.every((r) => r.status === 'skipped')).toBe(true);
    expect(rare[0]!.skip_reason).toMatch(/^too few positives in train \(\d+ < 10\), among the \d+ rows of 'c_d' and its hard negatives$/);
  });

  it("restricts each feature's rows to its own and its hard negatives' on both sides of the plain sweep's split", async () => {
    const { hooks } = bigramData(1);
    const data = hooks[1]!;
    const L = data.labels;
    const cols = ['a_b', 'a_b_missing_first', 'a_b_missing_second', 'c_d', 'c_d_missing_first', 'c_d_missing_second'];
    const one = config({ hooks: 'blocks.1.*' });
    // A store of the pairs' columns only (as compound-bigrams is): its plain --features all sweep stratifies on them.
    const pairsOnly = hooks.map((h) => ({ ...h, labels: Object.fromEntries(cols.map((c) => [c, h.labels[c]!])) }));
    const plain = await runSweep(one, { outDir: tmp(), source: memorySource(pairsOnly), engine: labEngine(), silent: true });
    const hard = await runSweep({ ...one, contrast: 'hard-negatives' }, { outDir: tmp(), source: memorySource(hooks), engine: labEngine(), silent: true });
    // The split: a plain sweep of the pairs' columns and the contrast sweep put the same rows on each
    // side, the split stratified on the three columns of each pair, as splitBySequence makes it.
    const hookInfo = (m: typeof plain.manifest) => (m.hooks as Record<string, { n_train: number; n_test: number }>)[data.hook]!;
    expect(hookInfo(hard.manifest)).toMatchObject({ n_train: hookInfo(plain.manifest).n_train, n_test: hookInfo(plain.manifest).n_test });
    expect(stratifyColumns(['c_d', 'a_b'], 'hard-negatives')).toEqual(cols);
    const split = splitBySequence(data.seqIds, { testFrac: 0.3, seed: 0, labels: Object.fromEntries(cols.map((c) => [c, L[c]!])) });
    expect(splitFor(data, ['a_b', 'c_d'], 0.3, 0, 'hard-negatives')).toEqual(split);
    // The rows: filtered from the labels directly.
    const keep = (rows: Int32Array) => Int32Array.from([...rows].filter((r) => L.a_b![r] || L.a_b_missing_first![r] || L.a_b_missing_second![r]));
    const trainRows = keep(split.train);
    const testRows = keep(split.test);
    const cr = contrastRows(L, 'a_b', split);
    expect(cr.trainRows).toEqual(trainRows);
    expect(cr.testRows).toEqual(testRows);
    expect(Int32Array.from(cr.tr, (i) => split.train[i]!)).toEqual(trainRows);
    expect(Int32Array.from(cr.te, (i) => split.test[i]!)).toEqual(testRows);
    const sum = (y: Uint8Array) => y.reduce((a, b) => a + b, 0);
    const r = row(hard.rows, 1);
    expect(r).toMatchObject({
      n_train: trainRows.length, n_test: testRows.length,
      n_pos_train: sum(takeLabels(L.a_b!, trainRows)), n_pos_test: sum(takeLabels(L.a_b!, testRows)),
    });
    // The probe: the same unit run on matrices gathered from those store rows gives the same row.
    const d = data.nNeurons;
    const unit = {
      hook: data.hook,
      Xtr: { data: takeRows(data.X, d, trainRows), nRows: trainRows.length, nCols: d },
      Xte: { data: takeRows(data.X, d, testRows), nRows: testRows.length, nCols: d },
    };
    const counts = { n_train: r.n_train, n_test: r.n_test, n_pos_train: r.n_pos_train, n_pos_test: r.n_pos_test };
    const direct = runUnit(labEngine(), unit, 'a_b', 'mean_dif', [1], config(), takeLabels(L.a_b!, trainRows), takeLabels(L.a_b!, testRows), counts);
    expect(hard.rows.filter((x) => x.hook === data.hook && x.feature === 'a_b')).toEqual(direct);
    // On worker threads the rows are the same.
    const two = await runSweep({ ...one, contrast: 'hard-negatives' }, { outDir: tmp(), source: memorySource(hooks), engine: labEngine(), silent: true, threads: 2 });
    expect(two.rows).toEqual(hard.rows);
    expect(hard.manifest.contrast).toEqual({
      kind: 'hard-negatives',
      negatives: { a_b: ['a_b_missing_first', 'a_b_missing_second'], c_d: ['c_d_missing_first', 'c_d_missing_second'] },
    });
  });

  it('classify compares each feature with its hard negatives: the second-word neuron no longer carries the bigram', async () => {
    const { hooks } = bigramData(2);
    const source = memorySource(hooks);
    const dirs = { plain: tmp(), hard: tmp() };
    await runSweep(config({ features: ['a_b'] }), { outDir: dirs.plain, source, engine: labEngine(), silent: true });
    await runSweep(config({ contrast: 'hard-negatives' }), { outDir: dirs.hard, source, engine: labEngine(), silent: true });
    const plain = classifyProbeRun(dirs.plain, { source, engine: labEngine() }, { rotations: 0 });
    const hard = classifyProbeRun(dirs.hard, { source, engine: labEngine() }, { rotations: 0 });
    expect(plain.contrast).toBeUndefined();
    expect(hard.contrast).toBe('hard-negatives');
    const n0 = (res: typeof plain, h: number) => res.neurons.find((n) => n.hook === `blocks.${h}.mlp.hook_post` && n.neuron === 0)!;
    expect(n0(plain, 0).features).toEqual(['a_b']);
    expect(n0(hard, 0).features).toEqual([]);
    expect(n0(hard, 1).features).toEqual(['a_b']);
    const priv = (res: typeof plain, h: number) => res.privileged.find((p) => p.hook === `blocks.${h}.mlp.hook_post` && p.feature === 'a_b')!;
    expect(priv(hard, 1).neuron_f1).toBeGreaterThan(0.95);
    // The responses: bigram rows' mean minus the hard negatives' mean, computed here from the rows.
    const data = hooks[0]!;
    const L = data.labels;
    const resp = neuronResponses(data, ['a_b', 'filler_4'], undefined, [
      Uint8Array.from(L.a_b!, (v, r) => v | L.a_b_missing_first![r]! | L.a_b_missing_second![r]!), undefined,
    ]);
    for (let n = 0; n < 3; n++) {
      const mean = (keep: (r: number) => boolean) => {
        let s = 0, c = 0;
        for (let r = 0; r < data.nRows; r++) if (keep(r)) (s += data.X[r * 3 + n]!), c++;
        return s / c;
      };
      const want = mean((r) => L.a_b![r] === 1) - mean((r) => L.a_b_missing_first![r] === 1 || L.a_b_missing_second![r] === 1);
      expect(resp.diff[n * 2]).toBeCloseTo(want, 10);
      const plainWant = mean((r) => L.filler_4![r] === 1) - mean((r) => L.filler_4![r] === 0);
      expect(resp.diff[n * 2 + 1]).toBeCloseTo(plainWant, 10);
    }
  });

  it('is a usage error on a store without hard-negative columns, for a feature without them, and on a queue', async () => {
    const { data } = plantedData({ nSeqs: 20, seqLen: 5, seed: 0, hook: 'h', features: { a: 0.3 }, neurons: [{ kind: 'mono', features: ['a'] }] });
    const run = (cfg: SweepConfig, source = memorySource([data])) => runSweep(cfg, { outDir: tmp(), source, engine: labEngine(), silent: true });
    const err = await run(config({ contrast: 'hard-negatives' })).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.flag).toBe('contrast');
    expect(err.message).toMatch(/^--contrast hard-negatives: hook 'h' in memory: has no feature with hard-negative columns \(a feature f needs labels f_missing_first and f_missing_second/);
    const { hooks } = bigramData(3, 20, 10);
    await expect(run(config({ contrast: 'hard-negatives', features: ['filler_4'] }), memorySource(hooks)))
      .rejects.toThrow(/--contrast hard-negatives: --features 'filler_4' has no hard negatives \(no labels 'filler_4_missing_first' and 'filler_4_missing_second' on hook 'blocks.0.mlp.hook_post'\); features that have them: a_b, c_d/);
    const remote = { run: async () => [], manifest: () => ({}) };
    await expect(runSweep(config({ contrast: 'hard-negatives' }), { outDir: tmp(), source: memorySource(hooks), engine: labEngine(), silent: true, remote }))
      .rejects.toThrow(/--contrast hard-negatives does not run on --queue/);
  });
});
