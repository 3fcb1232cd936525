import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../core/backend.ts';
import { loadModel, openActivationStore, writeRandomCheckpoint } from '../../activations/index.ts';
import { trainToy, writeToyRun } from '../../activations/toy/index.ts';
import { harvestCommand } from './harvest.ts';

const tmp = mkdtempSync(join(tmpdir(), 'harvest-cli-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
  // A toy run for the toy-source flag checks.
  writeToyRun(join(tmp, 'toy'), await trainToy({ model: 'relu-hidden', features: 5, hidden: 3, instances: 2, feature_prob: [0.4, 0.05], steps: 20, batch: 64 }));
});

describe('lab harvest', () => {
  it('harvests a tiny random GPT-2 checkpoint end to end, equal to its own forward pass', async () => {
    const modelDir = join(tmp, 'gpt2');
    writeRandomCheckpoint(modelDir, { architecture: 'gpt2', nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 300, contextLength: 32, seed: 3 });
    const out = join(tmp, 'cli');
    const code = await harvestCommand(['--model', modelDir, '--dataset', 'compound-words', '--hooks', 'blocks.*.mlp.hook_post', '--max-tokens', '200',
      '--context', '16', '--batch', '4', '--dtype', 'f16', '--out', out, '--quiet']);
    expect(code).toBe(0);
    const store = openActivationStore(out);
    expect(store.hooks).toEqual(['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post']);
    expect(store.manifest.model).toMatchObject({ architecture: 'gpt2', nLayers: 2, dMlp: 64 });
    const pd = store.readProbeData('blocks.1.mlp.hook_post');
    const t = store.labelsTable();
    const tokenIds = t.array('token_id') as Int32Array;
    // Rebuild the first sequence from its rows, run the model on it, compare every stored value.
    const model = await loadModel(modelDir);
    const first = pd.seqIds[0]!;
    const rows = [...pd.seqIds.keys()].filter((r) => pd.seqIds[r] === first);
    const ids = [model.tokenizer.bosId!, ...rows.map((r) => tokenIds[r]!)];
    const res = model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), { names: ['blocks.1.mlp.hook_post'] });
    const ref = res.cache.get('blocks.1.mlp.hook_post')!.dataSync();
    let worst = 0;
    rows.forEach((r, k) => {
      for (let j = 0; j < 64; j++) {
        const want = ref[(k + 1) * 64 + j]!;
        worst = Math.max(worst, Math.abs(pd.X[r * 64 + j]! - want) / Math.max(1, Math.abs(want)));
      }
    });
    tf.dispose([res.logits, ...res.cache.values()]);
    model.dispose();
    expect(worst).toBeLessThan(2e-3); // f16 rounding
    await expect(harvestCommand(['--model', join(tmp, 'nope'), '--dataset', 'brown-pos', '--out', out])).rejects.toThrow(/--model .*nope does not exist/);
    await expect(harvestCommand(['--model', modelDir, '--dataset', 'imdb', '--out', out])).rejects.toThrow(/--dataset must be one of brown-pos/);
    await expect(harvestCommand(['--model', modelDir, '--dataset', 'brown-pos', '--out', out, '--max-tokens', '0'])).rejects.toThrow(/--max-tokens must be >= 1/);
    await expect(harvestCommand(['--model', `toy:${modelDir}`, '--out', out])).rejects.toThrow(/not a run directory: .*manifest\.json is missing/);
    await expect(harvestCommand(['--model', join(tmp, 'toy'), '--dataset', 'brown-pos', '--out', out])).rejects.toThrow(/is a toy run: use --model toy:/);
    await expect(harvestCommand(['--model', `toy:${join(tmp, 'toy')}`, '--dataset', 'brown-pos', '--out', out])).rejects.toThrow(/--dataset does not apply to toy/);
    await expect(harvestCommand(['--model', `toy:${join(tmp, 'toy')}`, '--threads', '2', '--out', out])).rejects.toThrow(/--threads applies to model sources/);
    await expect(harvestCommand(['--model', `toy:${join(tmp, 'toy')}`, '--out', out, '--queue', 'redis://127.0.0.1:1'])).rejects.toThrow(/--queue applies to model sources/);
    await expect(harvestCommand(['--model', modelDir, '--dataset', 'brown-pos', '--out', out, '--clear-queue'])).rejects.toThrow(/--clear-queue needs --queue/);
    await expect(harvestCommand(['--model', `toy:${join(tmp, 'toy')}`, '--engine', 'onnx', '--out', out])).rejects.toThrow(/--engine applies to model sources/);
    await expect(harvestCommand(['--model', modelDir, '--dataset', 'brown-pos', '--out', out, '--engine', 'onnx', '--queue', 'redis://127.0.0.1:1'])).rejects.toThrow(/--engine onnx runs locally/);
    await expect(harvestCommand(['--model', modelDir, '--dataset', 'brown-pos', '--out', out, '--engine', 'gpu'])).rejects.toThrow(/--engine must be one of onnx, tfjs/);
    // The default engine for a local harvest is onnx, and the store says so.
    expect(store.manifest.config.engine).toBe('onnx');
  });

  it('stores the same values whether the forward runs in-process or on 2 worker threads', async () => {
    const modelDir = join(tmp, 'gpt2-pool');
    writeRandomCheckpoint(modelDir, { architecture: 'gpt2', nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 300, contextLength: 32, seed: 4 });
    const X: Float32Array[] = [];
    for (const threads of ['1', '2']) {
      const out = join(tmp, `pool-${threads}`);
      expect(await harvestCommand(['--model', modelDir, '--dataset', 'text-props', '--max-tokens', '150', '--context', '16', '--batch', '5',
        '--threads', threads, '--out', out, '--quiet'])).toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(manifest.forward_threads).toBe(Number(threads));
      const store = openActivationStore(out);
      X.push(store.readProbeData('blocks.0.mlp.hook_post').X);
    }
    expect(X[0]!.length).toBe(150 * 64);
    let worst = 0;
    for (let i = 0; i < X[0]!.length; i++) worst = Math.max(worst, Math.abs(X[0]![i]! - X[1]![i]!));
    expect(worst).toBeLessThan(1e-5);
  });
});
