import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainToy, writeToyRun } from '../toy/index.ts';
import { harvestToy } from '../harvest.ts';
import { openActivationStore, type ActivationStore } from '../store/index.ts';
import type { StoreManifest } from '../store/format.ts';
import { sha256Hex, writeStoreManifest } from '../store/validate.ts';
import { defaultSaeConfig, SaeStopped, trainSae } from './train.ts';
import { readSae, writeSae } from './layout.ts';
import { encodeDecode } from './model.ts';
import { evaluateSae } from './evaluate.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sae-train-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let store: ActivationStore;
const hook = 'instance.0.hook_hidden';

beforeAll(async () => {
  writeToyRun(join(tmp, 'toy'), await trainToy({ model: 'relu-out', features: 8, hidden: 4, instances: 1, feature_prob: 0.1, steps: 1500, batch: 256, engine: 'js' }));
  await harvestToy(join(tmp, 'toy'), { out: join(tmp, 'store'), maxTokens: 3000, seed: 1, batch: 500, chunkMb: 0.01, silent: true });
  store = openActivationStore(join(tmp, 'store'));
  writeToyRun(join(tmp, 'toy5'), await trainToy({ model: 'relu-out', features: 8, hidden: 5, instances: 1, feature_prob: 0.1, steps: 10, batch: 64, engine: 'js' }));
  await harvestToy(join(tmp, 'toy5'), { out: join(tmp, 'store5'), maxTokens: 500, seed: 1, silent: true });
});

const cfg = (over: Partial<Parameters<typeof defaultSaeConfig>[0]> = {}) =>
  defaultSaeConfig({ hook, arch: 'topk', latents: 16, k: 2, steps: 120, batch: 64, lr: 3e-3, deadWindow: 20, ...over });

describe('trainSae', () => {
  it('streams several chunks, learns, and saves a SAELens folder that reads back to the same outputs', async () => {
    expect(store.manifest.chunks.length).toBeGreaterThan(1);
    const r = await trainSae(store, cfg({ steps: 300 }), { out: join(tmp, 'a'), silent: true });
    expect(r.final.l0).toBeLessThanOrEqual(2);
    const loaded = readSae(join(tmp, 'a'));
    expect(loaded.meta.hookName).toBe(hook);
    const x = store.chunks(hook).next().value!.values.subarray(0, 40 * 4);
    expect([...encodeDecode(loaded.sae, x, 40).recon]).toEqual([...encodeDecode(r.sae, x, 40).recon]);
    const e = evaluateSae(loaded, store);
    expect(e.recon.explained_variance).toBeGreaterThan(0.5);
    const history = readFileSync(join(tmp, 'a', 'history.csv'), 'utf8').trim().split('\n');
    expect(history[0]).toBe('step,loss,mse,l0,dead_fraction');
    expect(history).toHaveLength(1 + 6);
    // A rerun of a complete run does nothing.
    expect((await trainSae(store, cfg({ steps: 300 }), { out: join(tmp, 'a'), silent: true })).alreadyComplete).toBe(true);
  });

  for (const arch of ['topk', 'relu-l1', 'jumprelu'] as const) {
    it(`${arch}: killed and resumed from its checkpoint gives the same weights as one run`, async () => {
      const c = cfg({ arch, steps: 90, ...(arch === 'jumprelu' ? { initThreshold: 0.05, coefficients: { l0: 1e-3, l1: 0, bandwidth: 0.05, aux: 0 } } : {}) });
      const whole = await trainSae(store, c, { out: join(tmp, `whole-${arch}`), silent: true });
      await expect(trainSae(store, c, { out: join(tmp, `cut-${arch}`), silent: true, stopAfter: 37 })).rejects.toBeInstanceOf(SaeStopped);
      expect(existsSync(join(tmp, `cut-${arch}`, 'cfg.json'))).toBe(false);
      expect(() => readSae(join(tmp, `cut-${arch}`))).toThrow(/cfg\.json is missing/);
      const resumed = await trainSae(store, c, { out: join(tmp, `cut-${arch}`), silent: true });
      expect(resumed.resumedFromStep).toBe(37);
      expect([...resumed.sae.W_dec]).toEqual([...whole.sae.W_dec]);
      expect([...resumed.sae.b_enc]).toEqual([...whole.sae.b_enc]);
      expect(readFileSync(join(tmp, `cut-${arch}`, 'sae_weights.safetensors'))).toEqual(readFileSync(join(tmp, `whole-${arch}`, 'sae_weights.safetensors')));
      expect(existsSync(join(tmp, `cut-${arch}`, 'checkpoint.safetensors'))).toBe(false);
    });
  }

  it('refuses k > latents, a hook the store lacks, another run in --out', async () => {
    await expect(trainSae(store, cfg({ k: 17 }), { out: join(tmp, 'bad1'), silent: true })).rejects.toThrow(/--k 17 must be in 1\.\.--latents \(16\)/);
    await expect(trainSae(store, cfg({ hook: 'instance.3.hook_hidden' }), { out: join(tmp, 'bad2'), silent: true })).rejects.toThrow(/--hook 'instance.3.hook_hidden' is not in the store/);
    await expect(trainSae(store, cfg({ latents: 12 }), { out: join(tmp, 'a'), silent: true })).rejects.toThrow(/holds a different run/);
    expect(existsSync(join(tmp, 'bad1'))).toBe(false);
  });

  it('a diverging loss stops with a clear error and writes no SAE', async () => {
    const out = join(tmp, 'diverge');
    await expect(trainSae(store, cfg({ arch: 'relu-l1', lr: 1e9, steps: 200 }), { out, silent: true })).rejects.toThrow(/diverged at step \d+.*lower --lr/);
    expect(existsSync(join(out, 'cfg.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).status).toBe('running');
  });

  it('NaN in the activations is refused naming the chunk file', async () => {
    const dir = join(tmp, 'nan-store');
    cpSync(join(tmp, 'store'), dir, { recursive: true });
    const nan = openActivationStore(dir);
    const file = join(dir, nan.manifest.chunks[0]!.files.hooks[hook]!.data);
    const b = readFileSync(file);
    b.writeFloatLE(NaN, 4 * 7);
    writeFileSync(file, b);
    // Re-sign the chunk, as a store written by another tool would be: its checksums match, its values hold a NaN.
    const m = JSON.parse(readFileSync(join(dir, 'store.json'), 'utf8')) as StoreManifest;
    m.chunks[0]!.sha256![nan.manifest.chunks[0]!.files.hooks[hook]!.data] = sha256Hex(b);
    writeStoreManifest(dir, m);
    const resigned = openActivationStore(dir);
    await expect(trainSae(resigned, cfg(), { out: join(tmp, 'nan-out'), silent: true })).rejects.toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: row 1 holds a non-finite`));
    expect(existsSync(join(tmp, 'nan-out', 'cfg.json'))).toBe(false);
  });

  it('eval refuses an SAE whose d_in differs from the hook width, and one from another hook', () => {
    const loaded = readSae(join(tmp, 'a'));
    const s5 = openActivationStore(join(tmp, 'store5'));
    expect(() => evaluateSae(loaded, s5)).toThrow(/cfg\.json: d_in 4 differs from the width of 'instance.0.hook_hidden'.*\(5\)/);
    const other = join(tmp, 'other-hook');
    writeSae(other, loaded.sae, { hookName: 'blocks.0.mlp.hook_post' });
    expect(() => evaluateSae(readSae(other), store)).toThrow(/is an SAE for hook 'blocks.0.mlp.hook_post', which the store .* does not hold/);
  });
});
