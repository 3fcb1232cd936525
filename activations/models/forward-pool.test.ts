import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { ForwardPool } from './forward-pool.ts';
import { loadModel } from './load.ts';
import { writeRandomCheckpoint } from './random-checkpoint.ts';

const tmp = mkdtempSync(join(tmpdir(), 'pool-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ForwardPool', () => {
  it('splits a batch across worker threads and returns what the in-process forward returns', async () => {
    await initBackend('wasm');
    const dir = join(tmp, 'neox');
    writeRandomCheckpoint(dir, { architecture: 'gpt-neox', nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 270, contextLength: 8, std: 0.2, seed: 2 });
    const ids = [[1, 2, 3, 4], [9, 8, 7, 6], [100, 0, 50, 3]];
    const pool = await ForwardPool.open(dir, 2);
    try {
      const r = await pool.forward({ ids, names: ['blocks.*.mlp.hook_post'], logits: true });
      const model = await loadModel(dir);
      const ref = model.forward(tf.tensor2d(ids, [3, 4], 'int32'), { names: ['blocks.*.mlp.hook_post'] });
      expect([...r.hooks.keys()]).toEqual(['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post']);
      for (const [name, v] of r.hooks) {
        expect(v.shape).toEqual([3, 4, 64]);
        expect([...v.data]).toEqual([...(ref.cache.get(name)!.dataSync() as Float32Array)]);
      }
      expect(r.logits!.shape).toEqual([3, 4, 270]);
      expect([...r.logits!.data]).toEqual([...(ref.logits.dataSync() as Float32Array)]);
      await expect(pool.forward({ ids: [[1, 2, 3, 4, 5, 6, 7, 8, 9]], names: [] })).rejects.toThrow(/9 tokens exceed the model's context window of 8/);
      model.dispose();
    } finally {
      await pool.close();
    }
  });

  it('counts this thread as thread 0 when given its model: one worker for 2 threads, the same floats', async () => {
    await initBackend('wasm');
    const dir = join(tmp, 'gpt2');
    writeRandomCheckpoint(dir, { architecture: 'gpt2', nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 270, contextLength: 8, std: 0.2, seed: 5 });
    const ids = [[1, 2, 3, 4], [9, 8, 7, 6], [100, 0, 50, 3], [5, 5, 5, 5], [7, 1, 7, 1]];
    const model = await loadModel(dir);
    const pool = await ForwardPool.open(dir, 2, 'wasm', { local: model });
    try {
      expect(pool.threads).toBe(2);
      const ref = model.forward(tf.tensor2d(ids, [5, 4], 'int32'), { names: ['blocks.*.mlp.hook_post'] });
      // 2 parts (one per thread) and 3 (this thread takes parts 0 and 2, the worker part 1), logits included.
      for (const parts of [2, 3]) {
        const r = await pool.forward({ ids, names: ['blocks.*.mlp.hook_post'], logits: true }, parts);
        expect([...r.hooks.keys()]).toEqual(['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post']);
        for (const [name, v] of r.hooks) {
          expect(v.shape).toEqual([5, 4, 64]);
          expect([...v.data]).toEqual([...(ref.cache.get(name)!.dataSync() as Float32Array)]);
        }
        expect([...r.logits!.data]).toEqual([...(ref.logits.dataSync() as Float32Array)]);
      }
      tf.dispose([ref.logits, ...ref.cache.values()]);
      // An error on this thread's part waits for the worker's, so the next batch gets its own replies.
      await expect(pool.forward({ ids: [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9]], names: [] })).rejects.toThrow(/9 tokens exceed the model's context window of 8/);
      const again = await pool.forward({ ids: ids.slice(0, 2), names: ['blocks.1.mlp.hook_post'] });
      expect(again.hooks.get('blocks.1.mlp.hook_post')!.shape).toEqual([2, 4, 64]);
    } finally {
      await pool.close();
      model.dispose();
    }
  });
});
