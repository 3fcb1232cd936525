/**
 * Issue 19 end to end through the `lab` command: what a second process, a kill between two writes or a
 * wrong --out gets. Each case here failed before its fix (exit 0 with clobbered or mixed output).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openActivationStore } from '../../activations/index.ts';
import { trainToy, writeToyRun } from '../../activations/toy/index.ts';
import { runLab } from '../cli-test-support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'reliability-'));
const toy = join(tmp, 'toy');
const acts = join(tmp, 'acts');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  writeToyRun(toy, await trainToy({ model: 'relu-hidden', features: 4, hidden: 3, instances: 1, feature_prob: 0.3, steps: 200, batch: 64, seed: 0, engine: 'js' }));
  const h = await runLab('harvest', '--model', `toy:${toy}`, '--max-tokens', '1500', '--out', acts, '--quiet');
  expect(h.code).toBe(0);
});

describe('no command clobbers a run of another kind (case 2)', () => {
  it('toy train and toy sweep refuse a harvest in --out; --overwrite replaces it', async () => {
    const store = readFileSync(join(acts, 'store.json'), 'utf8');
    for (const args of [
      ['toy', 'train', '--steps', '5', '--quiet', '--out', acts],
      ['toy', 'sweep', '--steps', '5', '--restarts', '1', '--probs', '0.5', '--relative-importance', '1', '--quiet', '--out', acts],
    ]) {
      const r = await runLab(...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/holds a 'harvest' run, not a '(toy|toy-sweep)' one: pass --overwrite/);
    }
    expect(readFileSync(join(acts, 'store.json'), 'utf8')).toBe(store);
    expect(openActivationStore(acts).manifest.total_rows).toBe(1500);
    const copy = join(tmp, 'victim');
    expect((await runLab('harvest', '--model', `toy:${toy}`, '--max-tokens', '300', '--out', copy, '--quiet')).code).toBe(0);
    const r = await runLab('toy', 'train', '--steps', '5', '--quiet', '--out', copy, '--overwrite');
    expect(r.code).toBe(0);
    expect(readdirSync(copy).sort()).toEqual(['instances.csv', 'instances.json', 'manifest.json']);
  });
});

describe('a harvest killed between store.json and manifest.json (case 4)', () => {
  it('is repaired by the rerun: readable, and the rerun after that has nothing to do', async () => {
    const out = join(tmp, 'repair');
    expect((await runLab('harvest', '--model', `toy:${toy}`, '--max-tokens', '400', '--out', out, '--quiet')).code).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    writeFileSync(join(out, 'manifest.json'), JSON.stringify({ ...m, status: 'running' }));
    expect(() => openActivationStore(out)).toThrow(/partial run/);
    const r = await runLab('harvest', '--model', `toy:${toy}`, '--max-tokens', '400', '--out', out, '--quiet');
    expect(r.code).toBe(0);
    expect(openActivationStore(out).manifest.total_rows).toBe(400);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toMatchObject({ status: 'complete', repaired: true, rows: 400 });
    expect((await runLab('harvest', '--model', `toy:${toy}`, '--max-tokens', '400', '--out', out, '--quiet')).out).toMatch(/already complete/);
  });
});

describe('one writer per run directory (case 5)', () => {
  it('a second harvest or probe into a locked --out is refused and changes nothing', async () => {
    const lock = join(acts, '.lock');
    writeFileSync(lock, JSON.stringify({ pid: 1, host: hostname(), started: 'now', command: 'lab harvest ...' }));
    try {
      const before = readdirSync(acts, { recursive: true }).sort();
      const r = await runLab('harvest', '--model', `toy:${toy}`, '--max-tokens', '1500', '--out', acts, '--quiet');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/is in use by process 1 /);
      expect(readdirSync(acts, { recursive: true }).sort()).toEqual(before);
    } finally {
      rmSync(lock);
    }
    const p = join(tmp, 'probe');
    const first = await runLab('probe', '--activations', acts, '--out', p, '--quiet', '--threads', '1', '--json');
    expect(first.code).toBe(0);
    writeFileSync(join(p, '.lock'), JSON.stringify({ pid: 1, host: hostname(), started: 'now' }));
    const second = await runLab('probe', '--activations', acts, '--out', p, '--quiet', '--threads', '1', '--restart', '--k', '1');
    expect(second.code).toBe(2);
    rmSync(join(p, '.lock'));
    expect(JSON.parse(readFileSync(join(p, 'manifest.json'), 'utf8')).status).toBe('complete');
  });

  it('a probe resume ignores unit files of another config (a concurrent --restart wrote them)', async () => {
    const p = join(tmp, 'probe-mixed');
    const a = await runLab('probe', '--activations', acts, '--out', p, '--quiet', '--threads', '1', '--json', '--k', '1,2');
    expect(a.code).toBe(0);
    const rowsA = JSON.parse(a.out).rows;
    const csvA = readFileSync(join(p, 'sweep.csv'), 'utf8');
    // The same sweep with --k 1 writes its units; their files replace half of the first sweep's.
    const q = join(tmp, 'probe-k1');
    expect((await runLab('probe', '--activations', acts, '--out', q, '--quiet', '--threads', '1', '--k', '1')).code).toBe(0);
    const units = readdirSync(join(q, 'units')).sort();
    for (const f of units.slice(0, 2)) writeFileSync(join(p, 'units', f), readFileSync(join(q, 'units', f)));
    const m = JSON.parse(readFileSync(join(p, 'manifest.json'), 'utf8'));
    writeFileSync(join(p, 'manifest.json'), JSON.stringify({ ...m, status: 'running' }));
    const b = await runLab('probe', '--activations', acts, '--out', p, '--quiet', '--threads', '1', '--json', '--k', '1,2');
    expect(b.code).toBe(0);
    expect(JSON.parse(b.out)).toMatchObject({ rows: rowsA, computed_units: 2 });
    expect(readFileSync(join(p, 'sweep.csv'), 'utf8')).toBe(csvA);
    expect(existsSync(join(p, '.lock'))).toBe(false);
  });
});

describe('probe flags that used to pass or dump a stack (cases 15, 20)', () => {
  it("--features '' and --features a,a are usage errors that leave no run behind", async () => {
    for (const [feats, msg] of [['', /--features needs at least one feature/], ['feature_0,feature_0', /--features lists 'feature_0' more than once/]] as const) {
      const p = join(tmp, `feat-${feats.length}`);
      const r = await runLab('probe', '--activations', acts, '--out', p, '--quiet', '--threads', '1', '--features', feats);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      expect(existsSync(join(p, 'manifest.json'))).toBe(false);
    }
  });
});

describe('lab store verify (case 6)', () => {
  it('passes a whole store and names the chunk file a flipped label breaks', async () => {
    const ok = await runLab('store', 'verify', acts);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/ok: 1 chunks, 3 files, \d+ bytes, every sha256 matches/);
    const d = join(tmp, 'flipped');
    expect((await runLab('harvest', '--model', `toy:${toy}`, '--max-tokens', '300', '--out', d, '--quiet')).code).toBe(0);
    const p = join(d, 'labels', '00000.u8');
    const x = readFileSync(p);
    x[x.indexOf(0)] = 1;
    writeFileSync(p, x);
    const bad = await runLab('store', 'verify', d);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`${p} does not match its sha256`);
    const probe = await runLab('probe', '--activations', d, '--out', join(tmp, 'probe-flipped'), '--quiet', '--threads', '1');
    expect(probe.code).toBe(1);
  });
});

describe('harvest flags and paths that used to pass or dump a stack (cases 15, 17)', () => {
  it("--hooks '' is a usage error; --out naming a file is a named error", async () => {
    const r = await runLab('harvest', '--model', `toy:${toy}`, '--max-tokens', '100', '--out', join(tmp, 'nohooks'), '--hooks', '', '--quiet');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--hooks needs at least one hook name or glob/);
    writeFileSync(join(tmp, 'a-file'), 'x');
    const f = await runLab('harvest', '--model', `toy:${toy}`, '--max-tokens', '100', '--out', join(tmp, 'a-file'), '--quiet');
    expect(f.code).toBe(1);
    expect(f.err).toMatch(/a-file exists and is not a directory/);
  });
});
