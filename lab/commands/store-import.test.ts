import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../core/index.ts';
import { runLab } from '../cli-test-support.ts';

// Arrays written by numpy itself (activations/peers/write_arrays_numpy.py), as another lab would save them.
const hasNumpy = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const tmp = mkdtempSync(join(tmpdir(), 'store-import-cli-'));
const arr = join(tmp, 'arrays');
const a = (name: string) => join(arr, name);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => {
  if (hasNumpy) execFileSync('/usr/bin/python3', [packagePath('activations', 'peers', 'write_arrays_numpy.py'), arr]);
});

describe.skipIf(!hasNumpy)('lab store import (command)', () => {
  it('end to end: lab store import, then lab probe finds the neuron that carries the feature', async () => {
    const store = join(tmp, 'e2e-store');
    const imp = await runLab('store', 'import', '--activations', a('tokens.npy'), '--hook', 'blocks.0.mlp.hook_post', '--labels', a('labels_tokens.csv'), '--out', store, '--quiet');
    expect(imp.code).toBe(0);
    expect(imp.out).toMatch(/96 rows \(token level\) x 1 hooks, 12 sequences, 2 features/);
    const verify = await runLab('store', 'verify', store);
    expect(verify.out).toMatch(/ok: .*every sha256 matches/);
    const probe = join(tmp, 'e2e-probe');
    const res = await runLab('probe', '--activations', store, '--features', 'n2_positive', '--k', '1', '--threads', '1', '--out', probe, '--quiet', '--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.out)).toMatchObject({ probes: 1, failed_units: 0 });
    const csv = readFileSync(join(probe, 'sweep.csv'), 'utf8').trim().split('\n');
    const head = csv[0]!.split(',');
    const row = csv[1]!.split(',');
    expect(row[head.indexOf('neurons')]).toBe('2');
    // lab classify and lab neurons read the imported store like a harvest.
    const cls = join(tmp, 'e2e-classify');
    expect((await runLab('classify', '--probes', probe, '--out', cls, '--quiet')).code).toBe(0);
    expect(readFileSync(join(cls, 'features.csv'), 'utf8')).toMatch(/n2_positive/);
    const nr = await runLab('neurons', '--activations', store, '--hook', 'blocks.0.mlp.hook_post', '--neurons', '2', '--classify', cls, '--json');
    expect(nr.code).toBe(0);
    expect(JSON.parse(nr.out)[0]).toMatchObject({ hook: 'blocks.0.mlp.hook_post', neuron: 2 });
    const again = await runLab('store', 'import', '--activations', a('tokens.npy'), '--hook', 'blocks.0.mlp.hook_post', '--labels', a('labels_tokens.csv'), '--out', store, '--quiet');
    expect(again.out).toMatch(/already complete/);
  });

  it('usage errors name the flag', async () => {
    const r = await runLab('store', 'import', '--labels', a('labels_tokens.csv'), '--out', join(tmp, 'x'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--activations/);
    const bad = await runLab('store', 'import', '--activations', a('labels_tokens.csv'), '--labels', a('labels_tokens.csv'), '--out', join(tmp, 'x'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--activations must be a \.npy or \.safetensors file/);
  });
});
