import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { UsageError } from '../../lab/core/index.ts';
import type { LanguageModel } from '../types.ts';
import { createGpt2 } from './gpt2.ts';
import { resolveHooks } from './hooks.ts';
import { loadModel } from './load.ts';
import { writeRandomCheckpoint } from './random-checkpoint.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hooks-test-'));
const models: Record<string, LanguageModel> = {};
beforeAll(async () => {
  await initBackend();
  const base = { nLayers: 2, dModel: 32, nHeads: 4, vocabSize: 280, contextLength: 24, std: 0.2 };
  writeRandomCheckpoint(join(tmp, 'gpt2'), { ...base, architecture: 'gpt2', seed: 7 });
  writeRandomCheckpoint(join(tmp, 'neox'), { ...base, architecture: 'gpt-neox', rotaryPct: 0.5, seed: 8 });
  models.gpt2 = await loadModel(join(tmp, 'gpt2'));
  models.neox = await loadModel(join(tmp, 'neox'));
});
afterAll(() => {
  for (const m of Object.values(models)) m.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

const ids = [
  [5, 17, 200, 3, 99, 42, 8, 8, 150, 1, 260, 77],
  [0, 64, 64, 64, 12, 13, 14, 279, 2, 9, 31, 100],
];

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe('KV cache', () => {
  for (const arch of ['gpt2', 'neox']) {
    it(`${arch}: incremental decoding gives the full forward's logits`, () => {
      const m = models[arch]!;
      const full = m.forward(tf.tensor2d(ids, [2, 12], 'int32')).logits;
      const cache = m.newKVCache(2);
      const parts: tf.Tensor3D[] = [];
      // A 5-token prompt, then one token at a time, then a 3-token chunk.
      const chunks = [[0, 5], [5, 6], [6, 7], [7, 8], [8, 9], [9, 12]];
      for (const [a, b] of chunks) {
        const step = ids.map((row) => row.slice(a, b));
        parts.push(m.forward(tf.tensor2d(step, [2, b! - a!], 'int32'), { kvCache: cache }).logits);
        expect(cache.length).toBe(b);
      }
      const inc = tf.concat(parts, 1);
      expect(inc.shape).toEqual(full.shape);
      expect(maxAbs(inc, full)).toBeLessThanOrEqual(1e-4);
      // Past the context window (24) is an error that leaves the cache as it was.
      expect(() => m.forward(tf.zeros([2, 13], 'int32') as tf.Tensor2D, { kvCache: cache })).toThrow(/25 tokens exceed the model's context window of 24/);
      expect(cache.length).toBe(12);
      cache.dispose();
      tf.dispose([full, inc, ...parts]);
    });
  }
});

describe('hooks', () => {
  it('the names filter caches exactly the requested hooks, by glob or predicate', () => {
    const m = models.neox!;
    const x = tf.tensor2d(ids, [2, 12], 'int32');
    const r = m.forward(x, { names: ['blocks.*.mlp.hook_post', 'blocks.1.attn.hook_pattern'] });
    expect([...r.cache.keys()]).toEqual(['blocks.0.mlp.hook_post', 'blocks.1.attn.hook_pattern', 'blocks.1.mlp.hook_post']);
    expect(r.cache.get('blocks.0.mlp.hook_post')!.shape).toEqual([2, 12, 128]);
    expect(r.cache.get('blocks.1.attn.hook_pattern')!.shape).toEqual([2, 4, 12, 12]);
    // Causal softmax rows sum to 1 and put no weight on the future.
    const pat = r.cache.get('blocks.1.attn.hook_pattern')!.arraySync() as number[][][][];
    expect(pat[1]![2]![4]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(pat[1]![2]![4]![5]).toBe(0);
    const r2 = m.forward(x, { names: (n) => n.endsWith('hook_resid_post') });
    expect([...r2.cache.keys()]).toEqual(['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post']);
    // resid_post = resid_mid + mlp_out for the parallel layout too.
    const r3 = m.forward(x, { names: ['blocks.0.hook_resid_mid', 'blocks.0.hook_mlp_out', 'blocks.0.hook_resid_post'] });
    const sum = tf.add(r3.cache.get('blocks.0.hook_resid_mid')!, r3.cache.get('blocks.0.hook_mlp_out')!);
    expect(maxAbs(sum, r3.cache.get('blocks.0.hook_resid_post')!)).toBeLessThan(1e-5);
    tf.dispose([x, r.logits, r2.logits, r3.logits, sum, ...r.cache.values(), ...r2.cache.values(), ...r3.cache.values()]);
  });

  it('zero-ablating the last mlp.hook_post changes the logits exactly as the weights predict', () => {
    const model = createGpt2({ nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 50, contextLength: 8 }, undefined, { seed: 9 });
    const x = tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32');
    const clean = model.forward(x, { names: ['blocks.1.hook_resid_post', 'blocks.1.mlp.hook_post'] });
    const ablated = model.forward(x, { hooks: { 'blocks.1.mlp.hook_post': (_n, v) => tf.zerosLike(v) } });
    // Prediction from the weights alone: the MLP's output loses post @ W_out, keeps its bias.
    const v = (n: string) => model.variables.get(n)!;
    const predicted = tf.tidy(() => {
      const post = tf.reshape(clean.cache.get('blocks.1.mlp.hook_post')!, [5, 64]);
      const residPost = tf.reshape(clean.cache.get('blocks.1.hook_resid_post')!, [5, 16]);
      const resid = tf.sub(residPost, tf.matMul(post, v('transformer.h.1.mlp.c_proj.weight')));
      const xc = tf.sub(resid, tf.mean(resid, -1, true));
      const std = tf.sqrt(tf.add(tf.mean(tf.square(xc), -1, true), 1e-5));
      const ln = tf.add(tf.mul(tf.div(xc, std), v('transformer.ln_f.weight')), v('transformer.ln_f.bias'));
      return tf.reshape(tf.matMul(ln, v('transformer.wte.weight') as tf.Tensor2D, false, true), [1, 5, 50]);
    });
    expect(maxAbs(ablated.logits, predicted)).toBeLessThan(1e-4);
    expect(maxAbs(ablated.logits, clean.logits)).toBeGreaterThan(1e-3);
    // A hook that returns nothing only reads; a wrong shape is refused.
    const seen: number[][] = [];
    const read = model.forward(x, { hooks: { 'blocks.0.hook_resid_pre': (_n, t) => void seen.push(t.shape) } });
    expect(seen).toEqual([[1, 5, 16]]);
    expect(maxAbs(read.logits, clean.logits)).toBe(0);
    expect(() => model.forward(x, { hooks: { 'blocks.0.mlp.hook_pre': () => tf.zeros([1, 5, 3]) } })).toThrow(/hook 'blocks\.0\.mlp\.hook_pre' returned shape \[1,5,3\]; it must keep \[1,5,64\]/);
    tf.dispose([x, clean.logits, ablated.logits, predicted, read.logits, ...clean.cache.values()]);
    model.dispose();
  });

  it('resolves hook patterns and names the valid ones for an unknown hook', () => {
    const m = models.gpt2!;
    expect(m.hookNames()).toContain('blocks.1.attn.hook_z');
    expect(m.hookNames()).toContain('hook_pos_embed');
    expect(models.neox!.hookNames()).not.toContain('hook_pos_embed');
    expect(resolveHooks(['blocks.*.mlp.hook_post'], m.hookNames(), 2, true)).toEqual(['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post']);
    let err: unknown;
    try {
      resolveHooks(['blocks.2.mlp.hook_post'], m.hookNames(), 2, true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/--hook 'blocks\.2\.mlp\.hook_post' matches no hook of this model; valid hooks: .*blocks\.\{0\.\.1\}\.mlp\.hook_post/);
  });

  it('refuses token ids outside the vocabulary', () => {
    expect(() => models.gpt2!.forward(tf.tensor2d([[1, 280]], [1, 2], 'int32'))).toThrow(/token id 280 is outside the vocabulary \[0, 280\)/);
  });
});

describe('logits: false', () => {
  for (const arch of ['gpt2', 'neox']) {
    it(`${arch}: skips the unembedding and leaves every hook value as it was`, () => {
      const m = models[arch]!;
      const x = tf.tensor2d(ids, [2, 12], 'int32');
      const names = ['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post'];
      const full = m.forward(x, { names });
      const lean = m.forward(x, { names, logits: false });
      expect(full.logits.shape).toEqual([2, 12, m.config.vocabSize]);
      expect(lean.logits.shape).toEqual([2, 12, 0]);
      for (const n of names) expect(maxAbs(full.cache.get(n)!, lean.cache.get(n)!)).toBe(0);
      tf.dispose([x, full.logits, lean.logits, ...full.cache.values(), ...lean.cache.values()]);
    });
  }
});
