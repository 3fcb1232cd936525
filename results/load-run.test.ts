import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as aq from 'arquero';
import { InputError } from '../lab/core/index.ts';
import { RunDir } from '../lab/core/index.ts';
import { loadRun, stackTables } from './load-run.ts';
import { readRunTable, readTable, writeRunTable } from './table-io.ts';
import { writeAllFixtures } from './test-fixtures.ts';

let root: string;
let dirs: Record<string, string>;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'results-load-'));
  dirs = writeAllFixtures(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadRun', () => {
  it('toy: instances, features and 2D geometry tables with the closed-form metrics', () => {
    const run = loadRun(dirs.toy!);
    expect(run.kind).toBe('toy');
    expect(run.tables.toy_instances!.numRows()).toBe(2);
    expect(run.tables.toy_features!.numRows()).toBe(10);
    expect(run.tables.toy_geometry!.numRows()).toBe(10);
    const caps = run.tables.toy_instances!.array('total_capacity') as number[];
    expect(caps[0]).toBeCloseTo(2, 9);
    expect(caps[1]).toBeCloseTo(2, 9);
    expect(run.facts.model).toBe('relu-out');
  });
  it('toy with neurons: one row per (neuron, feature) with the stored shares', () => {
    const t = loadRun(dirs.toy_neurons!).tables.toy_neuron_features!;
    expect(t.numRows()).toBe(12);
    const poly = t.filter((d: { neuron: number }) => d.neuron === 2).array('share') as number[];
    expect(poly.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
  it('toy-sweep, probe, classify, harvest: their named tables', () => {
    expect(loadRun(dirs.sweep!).tables.phase!.numRows()).toBe(12);
    expect(loadRun(dirs.probe!).tables.sweep!.numRows()).toBe(17);
    const c = loadRun(dirs.classify!);
    expect(c.tables.classify_neurons!.numRows()).toBe(13);
    expect(c.tables.classify_features!.numRows()).toBe(4);
    expect(c.tables.toy_confusion!.numRows()).toBe(9);
    expect(c.facts.balanced_accuracy).toBeCloseTo(0.9444, 4);
    const h = loadRun(dirs.harvest!);
    expect(h.tables.harvest_hooks!.objects()).toMatchObject([{ hook: 'blocks.0.mlp.hook_post', rows: 12, neurons: 6 }]);
    // Three sequences, each with a noun at token 0; one verb at token 1 of sequence 0.
    expect(h.tables.harvest_features!.objects()).toMatchObject([
      { feature: 'is_noun', positives: 3, rows: 12 },
      { feature: 'is_verb', positives: 1, rows: 12 },
    ]);
    expect(h.facts).toMatchObject({ dataset: 'fixture', tokens: 12, sequences: 3, model: 'fixture-model' });
  });
  it('stacks one table across runs with a run column', () => {
    const t = stackTables([loadRun(dirs.toy!), loadRun(dirs.toy_neurons!)], 'toy_instances')!;
    expect(t.numRows()).toBe(3);
    expect(new Set(t.array('run') as string[])).toEqual(new Set(['toy', 'toy-neurons']));
  });
});

describe('bad run directories give an InputError naming the file', () => {
  it('a directory that does not exist', () => {
    expect(() => loadRun(join(root, 'nope'))).toThrow(/nope does not exist/);
  });
  it('no manifest', () => {
    const d = join(root, 'empty');
    mkdirSync(d, { recursive: true });
    expect(() => loadRun(d)).toThrow(new RegExp(`${join(d, 'manifest.json')} is missing`));
  });
  it('a partial run (manifest still running)', () => {
    const d = join(root, 'partial');
    RunDir.begin(d, { kind: 'probe', seed: 0, config: {} });
    expect(() => loadRun(d)).toThrow(/partial run/);
    expect(() => loadRun(d)).toThrow(InputError);
    // Asked for, a partial run loads with what it has (here: nothing but its manifest).
    const partial = loadRun(d, { allowPartial: true });
    expect(partial.manifest.status).toBe('running');
    expect(partial.tables.sweep).toBeUndefined();
  });
  it('a listed table that is gone', () => {
    const d = join(root, 'gone');
    const run = RunDir.begin(d, { kind: 'classify', seed: 0, config: {} });
    writeRunTable(run, 'neurons', aq.table({ neuron: [0], label: ['mono'] }));
    run.finish();
    unlinkSync(join(d, 'neurons.arrow'));
    expect(() => loadRun(d)).toThrow(new RegExp(`${join(d, 'neurons.arrow')} is listed in .*manifest.json but missing`));
  });
  it('a kind whose main table is missing', () => {
    const d = join(root, 'nosweep');
    RunDir.begin(d, { kind: 'probe', seed: 0, config: {} }).finish();
    expect(() => loadRun(d)).toThrow(new RegExp(`${join(d, 'sweep.csv')} is missing`));
  });
  it('a truncated CSV', () => {
    const d = join(root, 'trunc');
    const run = RunDir.begin(d, { kind: 'toy-sweep', seed: 0, config: {} });
    run.write('phase.csv', 'sparsity,relative_importance,phase\n0,1,ignored\n0.5,1');
    run.finish();
    expect(() => loadRun(d)).toThrow(new RegExp(`${join(d, 'phase.csv')} looks truncated`));
  });
  it('a malformed instances.json', () => {
    const d = join(root, 'badjson');
    const run = RunDir.begin(d, { kind: 'toy', seed: 0, config: {} });
    run.write('instances.json', '[{"feature_prob": 1, "W": [[1,');
    run.finish();
    expect(() => loadRun(d)).toThrow(new RegExp(`${join(d, 'instances.json')} is not valid JSON`));
  });
  it('an Arrow file that is not Arrow', () => {
    const p = join(root, 'x.arrow');
    writeFileSync(p, 'not arrow');
    expect(() => readTable(p)).toThrow(new RegExp(`${p} is not a readable Arrow IPC file`));
  });
});

describe('tables on disk', () => {
  it('writes CSV and Arrow that read back to the same values; Arrow keeps the types', () => {
    const d = join(root, 'roundtrip');
    const t = aq.table({ feature: ['a', 'b,c', 'd"e'], k: [1, 2, 3], f1: [0.5, 0.25, 1 / 3], ok: [true, false, true] });
    const run = RunDir.begin(d, { kind: 'probe', seed: 0, config: {} });
    writeRunTable(run, 'sweep', t);
    run.finish();
    const fromArrow = readRunTable(d, 'sweep')!;
    const fromCsv = readTable(join(d, 'sweep.csv'));
    expect(fromArrow.objects()).toEqual(t.objects());
    expect(fromCsv.objects()).toEqual(t.objects());
    const manifest = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
    expect(manifest.files).toEqual(['sweep.csv', 'sweep.arrow']);
  });
});
