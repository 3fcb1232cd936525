/**
 * `lab harvest --sae DIR`: SAE latents as a harvest source, end to end on a tiny random GPT-2 and a toy.
 * The store must equal `lab sae encode` of a neuron harvest of the same rows (same hook name, rows,
 * labels, row ids, and bit-identical latent values), and the probe, classify and neuron commands must
 * run on it as on neurons.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harvestToy, openActivationStore, readSae, writeRandomCheckpoint, writeSae, type ActivationStore } from '../../activations/index.ts';
import { trainToy, writeToyRun } from '../../activations/toy/index.ts';
import { runLab } from '../cli-test-support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'harvest-sae-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const model = join(tmp, 'gpt2'), neurons = join(tmp, 'neurons'), sae = join(tmp, 'sae');
const HOOK = 'blocks.0.mlp.hook_post';
const SOURCE = ['--model', model, '--dataset', 'compound-words', '--max-tokens', '400', '--context', '16', '--batch', '4', '--threads', '1', '--quiet'];

beforeAll(async () => {
  writeRandomCheckpoint(model, { architecture: 'gpt2', nLayers: 1, dModel: 16, nHeads: 2, vocabSize: 300, contextLength: 32, seed: 5 });
  expect((await runLab('harvest', ...SOURCE, '--hooks', HOOK, '--out', neurons)).code).toBe(0);
  const t = await runLab('sae', 'train', '--activations', neurons, '--hook', HOOK, '--latents', '24', '--k', '4', '--steps', '60', '--batch', '64', '--lr', '3e-3', '--out', sae, '--quiet');
  expect(t.code).toBe(0);
}, 60_000);

/** Everything a store holds per row, read back: hooks, ids, labels, values. */
function contents(s: ActivationStore) {
  const hook = s.hooks[0]!;
  const pd = s.readProbeData(hook);
  const t = s.labelsTable();
  return {
    hooks: s.manifest.hooks.map((h) => ({ name: h.name, n_neurons: h.n_neurons })),
    rows: s.manifest.total_rows, sequences: s.manifest.total_sequences, tokens: s.manifest.total_tokens,
    columns: t.columnNames(),
    table: Object.fromEntries(t.columnNames().map((c) => [c, Array.from(t.array(c) as ArrayLike<number>)])),
    seqIds: Array.from(pd.seqIds), X: Buffer.from(pd.X.buffer, pd.X.byteOffset, pd.X.byteLength).toString('base64'),
  };
}

describe('lab harvest --sae', () => {
  it('stores the latents that lab sae encode makes of a neuron harvest of the same rows, and the pipeline reads them', async () => {
    const viaEncode = join(tmp, 'encoded'), viaHarvest = join(tmp, 'harvested');
    expect((await runLab('sae', 'encode', '--sae', sae, '--activations', neurons, '--out', viaEncode)).code).toBe(0);
    const h = await runLab('harvest', ...SOURCE, '--sae', sae, '--out', viaHarvest, '--json');
    expect(h.code).toBe(0);
    expect(JSON.parse(h.out).hooks).toEqual([`${HOOK}.hook_sae_acts_post`]);
    const a = openActivationStore(viaEncode), b = openActivationStore(viaHarvest);
    const ca = contents(a), cb = contents(b);
    expect(cb.hooks).toEqual([{ name: `${HOOK}.hook_sae_acts_post`, n_neurons: 24 }]);
    expect(cb.rows).toBeGreaterThan(300);
    expect(cb).toEqual(ca);
    // The latents are sparse codes (at most k = 4 per row), not a copy of the neurons.
    const pd = b.readProbeData(b.hooks[0]!);
    let maxActive = 0;
    for (let r = 0; r < pd.nRows; r++) {
      let n = 0;
      for (let j = 0; j < 24; j++) if (pd.X[r * 24 + j]! !== 0) n++;
      maxActive = Math.max(maxActive, n);
    }
    expect(maxActive).toBeGreaterThan(0);
    expect(maxActive).toBeLessThanOrEqual(4);
    expect(b.manifest.model).toMatchObject({ source: 'model', sae: { arch: 'topk', d_in: 64, d_sae: 24, hook: HOOK } });
    // A rerun finds it complete; the probe, classify and neuron commands read latents as neurons.
    expect((await runLab('harvest', ...SOURCE, '--sae', sae, '--out', viaHarvest)).out).toMatch(/already complete/);
    const probe = join(tmp, 'probe'), classify = join(tmp, 'classify');
    expect((await runLab('probe', '--activations', viaHarvest, '--k', '1,2', '--threads', '1', '--min-pos-train', '3', '--out', probe, '--quiet')).code).toBe(0);
    expect((await runLab('classify', '--probes', probe, '--rotations', '0', '--out', classify, '--quiet')).code).toBe(0);
    const n = await runLab('neurons', '--activations', viaHarvest, '--hook', `${HOOK}.hook_sae_acts_post`, '--neurons', '0,1', '--top', '3', '--quantiles', '2', '--json');
    expect(n.code).toBe(0);
    expect(JSON.parse(n.out).map((p: { hook: string; neuron: number }) => [p.hook, p.neuron])).toEqual([[`${HOOK}.hook_sae_acts_post`, 0], [`${HOOK}.hook_sae_acts_post`, 1]]);
  }, 60_000);

  it('on a toy run: the same rows as encoding a harvest of that instance', async () => {
    const toy = join(tmp, 'toy'), store = join(tmp, 'toy-store'), toySae = join(tmp, 'toy-sae');
    writeToyRun(toy, await trainToy({ model: 'relu-out', features: 6, hidden: 3, instances: 2, feature_prob: 0.1, steps: 100, batch: 128, engine: 'js' }));
    await harvestToy(toy, { out: store, maxTokens: 1500, seed: 1, instance: 1, silent: true, batch: 500 });
    const hook = 'instance.1.hook_hidden';
    expect((await runLab('sae', 'train', '--activations', store, '--hook', hook, '--latents', '8', '--k', '2', '--steps', '30', '--batch', '64', '--out', toySae, '--quiet')).code).toBe(0);
    expect((await runLab('sae', 'encode', '--sae', toySae, '--activations', store, '--out', join(tmp, 'toy-enc'))).code).toBe(0);
    const h = await runLab('harvest', '--model', `toy:${toy}`, '--sae', toySae, '--max-tokens', '1500', '--seed', '1', '--batch', '500', '--out', join(tmp, 'toy-harv'), '--quiet');
    expect(h.code).toBe(0);
    const a = openActivationStore(join(tmp, 'toy-enc')), b = openActivationStore(join(tmp, 'toy-harv'));
    expect(b.manifest.hooks[0]).toMatchObject({ name: `${hook}.hook_sae_acts_post`, n_neurons: 8, instance: 1, label_prefix: 'instance_1_' });
    // Everything but the sequence count: a toy harvest appends a batch of samples as one "sequence", which
    // lab sae encode, reading rows back, can only split by row id (one per sample).
    expect({ ...contents(b), sequences: 0 }).toEqual({ ...contents(a), sequences: 0 });
    expect(contents(b).sequences).toBe(3);
  }, 60_000);

  it('bad input: another hook in --hooks (exit 2), a d_in that differs from the hook (1), a hook the model lacks (1); nothing written', async () => {
    const other = await runLab('harvest', ...SOURCE, '--sae', sae, '--hooks', 'blocks.0.hook_resid_post', '--out', join(tmp, 'x1'));
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/--hooks blocks\.0\.hook_resid_post: with an encoder \(--sae\) the store holds only its hook 'blocks\.0\.mlp\.hook_post'/);
    // An SAE that claims the MLP hook but is as wide as the residual stream.
    const l = readSae(sae);
    const narrow = join(tmp, 'narrow');
    const d = 16, m = 24;
    writeSae(narrow, { ...l.sae, dIn: d, W_enc: new Float32Array(d * m), W_dec: new Float32Array(m * d), b_dec: new Float32Array(d) }, l.meta);
    const w = await runLab('harvest', ...SOURCE, '--sae', narrow, '--out', join(tmp, 'x2'));
    expect(w.code).toBe(1);
    expect(w.err).toMatch(/narrow\/cfg\.json: d_in 16 differs from the width of 'blocks\.0\.mlp\.hook_post' \(64\)/);
    const toyHook = join(tmp, 'toyhook');
    writeSae(toyHook, l.sae, { ...l.meta, hookName: 'instance.0.hook_hidden' });
    const t = await runLab('harvest', ...SOURCE, '--sae', toyHook, '--out', join(tmp, 'x3'));
    expect(t.code).toBe(1);
    expect(t.err).toMatch(/toyhook\/cfg\.json encodes hook 'instance\.0\.hook_hidden', which this source does not have/);
    for (const x of ['x1', 'x2', 'x3']) expect(() => openActivationStore(join(tmp, x))).toThrow();
  });
});
