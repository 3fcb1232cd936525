import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harvestToy, openActivationStore } from '../../activations/index.ts';
import { trainToy, writeToyRun } from '../../activations/toy/index.ts';
import { runLab } from '../cli-test-support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sae-cli-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const store = join(tmp, 'store'), sae = join(tmp, 'sae');
const hook = 'instance.0.hook_hidden';

beforeAll(async () => {
  writeToyRun(join(tmp, 'toy'), await trainToy({ model: 'relu-out', features: 6, hidden: 3, instances: 1, feature_prob: 0.1, steps: 800, batch: 256, engine: 'js' }));
  await harvestToy(join(tmp, 'toy'), { out: store, maxTokens: 2000, seed: 0, silent: true });
});

describe('lab sae', () => {
  it('train, load, eval with the toy truth, encode into a store the probes read', async () => {
    const t = await runLab('sae', 'train', '--activations', store, '--hook', hook, '--latents', '12', '--k', '1', '--steps', '200', '--batch', '64', '--lr', '3e-3', '--out', sae, '--quiet', '--json');
    expect(t.code).toBe(0);
    expect(JSON.parse(t.out)).toMatchObject({ steps: 200, l0: expect.any(Number) });
    const l = await runLab('sae', 'load', sae);
    expect(l.code).toBe(0);
    expect(l.out).toMatch(/topk SAE, d_in 3, d_sae 12, k 1, hook instance.0.hook_hidden/);
    expect(l.out).toMatch(/W_enc \[3, 12\], b_enc \[12\], W_dec \[12, 3\], b_dec \[3\]/);
    const e = await runLab('sae', 'eval', '--sae', sae, '--activations', store, '--json');
    expect(e.code).toBe(0);
    const r = JSON.parse(e.out);
    expect(r.truth.features).toBe(6);
    expect(r.truth.mmcs).toBeGreaterThan(0);
    expect(r.recon.rows).toBe(2000);
    const enc = await runLab('sae', 'encode', '--sae', sae, '--activations', store, '--out', join(tmp, 'latents'));
    expect(enc.code).toBe(0);
    const ls = openActivationStore(join(tmp, 'latents'));
    expect(ls.hooks).toEqual([`${hook}.hook_sae_acts_post`]);
    expect(ls.manifest.total_rows).toBe(2000);
    const pd = ls.readProbeData(ls.hooks[0]!);
    expect(pd.nNeurons).toBe(12);
    expect(Object.keys(pd.labels)).toHaveLength(6);
  });

  it('bad input: k > latents (exit 2), a --truth without toy: (2), a missing SAE folder (1), a hook mismatch (1)', async () => {
    const k = await runLab('sae', 'train', '--activations', store, '--hook', hook, '--latents', '4', '--k', '5', '--out', join(tmp, 'k'), '--quiet');
    expect(k.code).toBe(2);
    expect(k.err).toMatch(/--k 5 must be in 1\.\.--latents \(4\)/);
    expect((await runLab('sae', 'eval', '--sae', sae, '--activations', store, '--truth', join(tmp, 'toy'))).code).toBe(2);
    const miss = await runLab('sae', 'load', join(tmp, 'nope'));
    expect(miss.code).toBe(1);
    expect(miss.err).toMatch(/is not an SAE folder/);
    const h = await runLab('sae', 'eval', '--sae', sae, '--activations', store, '--hook', 'instance.1.hook_hidden');
    expect(h.code).toBe(1);
    expect(h.err).toMatch(/is an SAE for hook 'instance.0.hook_hidden', not --hook 'instance.1.hook_hidden'/);
  });
});
