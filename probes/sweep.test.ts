import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as aq from 'arquero';
import { hookMatcher, labEngine, readSweep, runSweep, SWEEP_COLUMNS, type SweepConfig } from './sweep.ts';
import { splitBySequence } from './split.ts';
import { plantedData } from './planted.ts';
import { centroidEngine, memorySource } from './test-support.ts';
import { InputError, UsageError } from '../lab/core/index.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'sweep-'));

function planted(seed = 1, hook = 'blocks.0.mlp.hook_post') {
  return plantedData({
    nSeqs: 60, seqLen: 10, seed, hook,
    features: { a: 0.2, b: 0.2, c: 0.3, rare: 0.004 },
    neurons: [
      { kind: 'mono', features: ['a'] },
      { kind: 'poly', features: ['b', 'c'] },
      { kind: 'mono', features: ['b'] },
      { kind: 'dead', features: [] },
      { kind: 'noise', features: [] },
      { kind: 'mono', features: ['c'] },
    ],
  });
}

function config(over: Partial<SweepConfig> = {}): SweepConfig {
  return {
    activations: 'memory:', features: 'all', hooks: '*', methods: ['mean_dif', 'f_stat'], ks: [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 32, 64, 128, 256],
    ksExplicit: false, testFrac: 0.3, seed: 0, minPosTrain: 10, minPosTest: 2, fit: { C: 1, classWeight: 'balanced' }, ...over,
  };
}

describe('hookMatcher', () => {
  it('matches comma-separated globs literally except for *', async () => {
    const m = hookMatcher('blocks.*.mlp.hook_post, toy.hook_hidden');
    expect(m('blocks.3.mlp.hook_post')).toBe(true);
    expect(m('blocks.3.hook_resid_post')).toBe(false);
    expect(m('toy.hook_hidden')).toBe(true);
    expect(m('toyxhook_hidden')).toBe(false); // '.' is literal
  });
});

describe('splitBySequence', () => {
  it('keeps every sequence on one side, is seeded, and sizes test near the fraction', async () => {
    const { data } = planted();
    const s = splitBySequence(data.seqIds, { testFrac: 0.3, seed: 4 });
    expect(s.testSeqs.length).toBe(18);
    expect(s.train.length + s.test.length).toBe(data.nRows);
    const testSet = new Set(s.testSeqs);
    for (const r of s.train) expect(testSet.has(data.seqIds[r]!)).toBe(false);
    for (const r of s.test) expect(testSet.has(data.seqIds[r]!)).toBe(true);
    expect(splitBySequence(data.seqIds, { testFrac: 0.3, seed: 4 }).testSeqs).toEqual(s.testSeqs);
    expect(splitBySequence(data.seqIds, { testFrac: 0.3, seed: 5 }).testSeqs).not.toEqual(s.testSeqs);
  });

  it('puts both classes of a rare sequence-level feature on both sides when two sequences hold it', async () => {
    const nSeqs = 40;
    const seqIds = Int32Array.from({ length: nSeqs * 3 }, (_, r) => Math.floor(r / 3));
    for (let seed = 0; seed < 20; seed++) {
      // Two positive sequences, chosen so that the plain shuffle often puts both on one side.
      const y = Uint8Array.from(seqIds, (s) => (s === seed % nSeqs || s === (seed + 7) % nSeqs ? 1 : 0));
      const s = splitBySequence(seqIds, { testFrac: 0.25, seed, labels: { f: y } });
      const posTest = [...s.test].some((r) => y[r]);
      const posTrain = [...s.train].some((r) => y[r]);
      expect(posTest && posTrain).toBe(true);
      expect(s.unbalanced).toEqual([]);
      expect(s.testSeqs.length).toBe(10);
    }
  });

  it('rejects a fraction outside (0, 1) and a single sequence, naming the flag', async () => {
    expect(() => splitBySequence(new Int32Array([0, 1]), { testFrac: 1, seed: 0 })).toThrow(/--test-frac/);
    expect(() => splitBySequence(new Int32Array([3, 3, 3]), { testFrac: 0.3, seed: 0 })).toThrow(UsageError);
  });
});

describe('runSweep', () => {
  it('writes one row per (feature, hook, method, k), clips the default k list and records skips', async () => {
    const out = tmp();
    const { data } = planted();
    const res = await runSweep(config(), { outDir: out, source: memorySource([data]), engine: centroidEngine(), silent: true });
    const ok = res.rows.filter((r) => r.status === 'ok');
    // 3 probe-able features x 2 methods x k in {1..6} (the default list clipped to 6 neurons).
    expect(ok.length).toBe(3 * 2 * 6);
    expect(new Set(ok.map((r) => r.k))).toEqual(new Set([1, 2, 3, 4, 5, 6]));
    const rare = res.rows.filter((r) => r.feature === 'rare');
    expect(rare.map((r) => r.status)).toEqual(['skipped', 'skipped']);
    expect(rare[0]!.skip_reason).toMatch(/too few positives/);
    // The split is by sequence and every row says how big it was.
    expect(ok.every((r) => r.n_train + r.n_test === data.nRows && r.n_test === 180)).toBe(true);
    // The planted dedicated neuron of 'a' is found at k = 1.
    const a1 = ok.find((r) => r.feature === 'a' && r.k === 1 && r.method === 'mean_dif')!;
    expect(a1.neurons).toEqual([0]);
    expect(a1.f1!).toBeGreaterThan(0.9);

    const csv = aq.fromCSV(readFileSync(join(out, 'sweep.csv'), 'utf8'));
    expect(csv.columnNames()).toEqual([...SWEEP_COLUMNS]);
    expect(csv.numRows()).toBe(res.rows.length);
    const back = readSweep(out);
    expect(back.rows.length).toBe(res.rows.length);
    expect(back.manifest.status).toBe('complete');
  });

  it('resumes a killed sweep without recomputing finished units and gives the same table', async () => {
    const { data } = planted();
    const cfg = config({ methods: ['mean_dif', 'f_stat', 'mi'] });
    const fullDir = tmp();
    const full = await runSweep(cfg, { outDir: fullDir, source: memorySource([data]), engine: centroidEngine(), silent: true });

    const out = tmp();
    const killed = centroidEngine();
    await expect(
      runSweep(cfg, {
        outDir: out, source: memorySource([data]), engine: killed, silent: true,
        onUnit: (done) => {
          if (done === 4) throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    expect(readdirSync(join(out, 'units')).length).toBe(4);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).status).toBe('running');

    const engine = centroidEngine();
    const res = await runSweep(cfg, { outDir: out, source: memorySource([data]), engine, silent: true });
    expect(res.resumed).toBe(4);
    expect(res.computed).toBe(4 * 3 - 4);
    expect(engine.calls.rank).toBe(3 * 3 - 4); // 'rare' is skipped without ranking; 4 of the 9 ranks were done
    expect(res.rows).toEqual(full.rows);
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8')).toBe(readFileSync(join(fullDir, 'sweep.csv'), 'utf8'));
  });

  it('gives the same rows on 2 worker threads as on this one (lab engine)', async () => {
    const { data } = planted();
    const cfg = config({ methods: ['mean_dif', 'f_stat'] });
    const one = await runSweep(cfg, { outDir: tmp(), source: memorySource([data]), engine: labEngine(), silent: true });
    const dir = tmp();
    const two = await runSweep(cfg, { outDir: dir, source: memorySource([data]), engine: labEngine(), silent: true, threads: 2 });
    expect(two.computed).toBe(one.computed);
    expect(two.rows).toEqual(one.rows);
    expect(readdirSync(join(dir, 'units')).length).toBe(4 * 2);
    await expect(runSweep(cfg, { outDir: tmp(), source: memorySource([data]), engine: centroidEngine(), silent: true, threads: 2 }))
      .rejects.toThrow(/needs the lab engine/);
  });

  it('refuses to mix configs in one directory, and starts clean on restart', async () => {
    const { data } = planted();
    const out = tmp();
    await runSweep(config(), { outDir: out, source: memorySource([data]), engine: centroidEngine(), silent: true });
    await expect(runSweep(config({ seed: 1 }), { outDir: out, source: memorySource([data]), engine: centroidEngine(), silent: true }))
      .rejects.toThrow(/different config \(seed\).*--restart/);
    const res = await runSweep(config({ seed: 1 }), { outDir: out, source: memorySource([data]), engine: centroidEngine(), silent: true, restart: true });
    expect(res.resumed).toBe(0);
    expect(readSweep(out).config.seed).toBe(1);
  });

  it('fails clearly on bad input', async () => {
    const { data } = planted();
    const src = () => memorySource([data]);
    const run = (cfg: SweepConfig, source = src()) => runSweep(cfg, { outDir: tmp(), source, engine: centroidEngine(), silent: true });
    await expect(run(config({ ks: [1, 7], ksExplicit: true }))).rejects.toThrow(/--k 7 exceeds the 6 neurons of hook 'blocks.0.mlp.hook_post'/);
    await expect(run(config({ features: ['a', 'zzz'] }))).rejects.toThrow(/--features: 'zzz' is not a label/);
    await expect(run(config({ hooks: 'blocks.9.*' }))).rejects.toThrow(/--hooks 'blocks.9.\*' matches none/);

    const nan = { ...data, X: data.X.slice() };
    nan.X[5 * 6 + 2] = NaN;
    await expect(run(config(), memorySource([nan]))).rejects.toThrow(/row 5, neuron 2 is NaN/);
    const short = { ...data, labels: { ...data.labels, a: data.labels.a!.subarray(1) } };
    await expect(run(config(), memorySource([short]))).rejects.toThrow(/label 'a' has 599 rows, activations have 600/);
    const one = { ...data, labels: { ...data.labels, a: new Uint8Array(data.nRows) } };
    await expect(run(config({ features: ['a'] }), memorySource([one]))).rejects.toThrow(InputError);
    await expect(run(config({ features: ['a'] }), memorySource([one]))).rejects.toThrow(/'a'.*one class only/);
    // With --features all, a one-class feature is skipped and recorded instead.
    const rows = (await run(config(), memorySource([one]))).rows.filter((r) => r.feature === 'a');
    expect(rows.every((r) => r.status === 'skipped' && /one class only/.test(r.skip_reason))).toBe(true);
  });
});
