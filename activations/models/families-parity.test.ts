/**
 * Parity of the Llama, Mistral, Qwen2, GPT-Neo, GPT-J, OPT, Gemma and Gemma 2 families with an
 * independent float64 PyTorch implementation (activations/peers/families_torch.py) on tiny random
 * checkpoints in each family's real Hugging Face key layout, rewritten here from fixed seeds
 * (activations/peers/family-specs.ts); the golden values are committed (regenerate with the command
 * in activations/testdata/README.md).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { FAMILY_CASES } from '../peers/family-specs.ts';
import { loadModel } from './load.ts';
import { writeRandomCheckpoint } from './random-checkpoint.ts';

const here = dirname(fileURLToPath(import.meta.url));
interface GoldenCase {
  safetensors_sha256: string;
  logits: number[][][];
  hooks: Record<string, unknown>;
}
const golden = JSON.parse(readFileSync(join(here, '../testdata/families-golden.json'), 'utf8')) as { cases: Record<string, GoldenCase> };

const tmp = mkdtempSync(join(tmpdir(), 'families-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
});

function maxAbsDiff(a: Float32Array, b: number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('model families: parity with PyTorch', () => {
  for (const c of FAMILY_CASES) {
    it(`${c.name}: logits and hooks within 1e-4 of the reference`, async () => {
      const g = golden.cases[c.name]!;
      const dir = join(tmp, c.name);
      writeRandomCheckpoint(dir, c.spec);
      const sha = createHash('sha256').update(readFileSync(join(dir, 'model.safetensors'))).digest('hex');
      expect(sha, 'checkpoint bytes drifted from the golden: regenerate it').toBe(g.safetensors_sha256);
      const model = await loadModel(dir);
      expect(model.config.architecture).toBe(c.spec.architecture);
      for (const name of c.hooks) expect(model.hookNames(), name).toContain(name);
      const ids = tf.tensor2d(c.ids, [c.ids.length, c.ids[0]!.length], 'int32');
      const { logits, cache } = model.forward(ids, { names: c.hooks });
      const want = g.logits.flat(2);
      expect(maxAbsDiff(logits.dataSync() as Float32Array, want)).toBeLessThanOrEqual(1e-4);
      // Not vacuous: the logits vary by far more than the tolerance.
      expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(1);
      expect([...cache.keys()].sort()).toEqual([...c.hooks].sort());
      for (const name of c.hooks) {
        const got = cache.get(name)!;
        expect(maxAbsDiff(got.dataSync() as Float32Array, (g.hooks[name] as number[]).flat(4) as number[]), name).toBeLessThanOrEqual(1e-4);
      }
      tf.dispose([ids, logits, ...cache.values()]);
      model.dispose();
    });
  }
});

/** Not vacuous: each case's distinguishing config field, undone, moves the logits far past the tolerance. */
const UNDONE: Array<[string, Record<string, unknown>]> = [
  ['llama-gqa-llama3', { rope_scaling: null }],
  ['mistral-window3', { sliding_window: null }],
  ['qwen2-bias-window', { use_sliding_window: false }],
  ['gpt-neo-local3', { window_size: 256 }],
  ['gemma2-softcap-window', { attn_logit_softcapping: null }],
];

describe('model families: the golden values tell the variants apart', () => {
  it('undoing sliding windows, rope scaling or soft-capping moves the logits by more than 1e-2', async () => {
    for (const [name, change] of UNDONE) {
      const c = FAMILY_CASES.find((x) => x.name === name)!;
      const dir = join(tmp, `${name}-undone`);
      writeRandomCheckpoint(dir, c.spec);
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, ...change }));
      const model = await loadModel(dir);
      const ids = tf.tensor2d(c.ids, [c.ids.length, c.ids[0]!.length], 'int32');
      const { logits } = model.forward(ids);
      expect(maxAbsDiff(logits.dataSync() as Float32Array, golden.cases[name]!.logits.flat(2)), `${name} ${JSON.stringify(change)}`).toBeGreaterThan(1e-2);
      tf.dispose([ids, logits]);
      model.dispose();
    }
  }, 120_000);
});

describe('model families: key/value cache', () => {
  it('token-by-token decoding gives the full pass\'s logits (grouped kv heads, sliding windows, soft caps, interleaved rotary, offset positions)', async () => {
    for (const name of ['llama-gqa-llama3', 'mistral-window3', 'gemma2-softcap-window', 'gptj-rot4', 'opt']) {
      const c = FAMILY_CASES.find((x) => x.name === name)!;
      const dir = join(tmp, `${name}-cache`);
      writeRandomCheckpoint(dir, c.spec);
      const model = await loadModel(dir);
      const row = c.ids[0]!;
      const cache = model.newKVCache(1);
      let worst = 0;
      for (let t = 0; t < row.length; t++) {
        const ids = tf.tensor2d([[row[t]!]], [1, 1], 'int32');
        const { logits } = model.forward(ids, { kvCache: cache });
        const want = golden.cases[name]!.logits[0]![t]!;
        worst = Math.max(worst, maxAbsDiff(logits.dataSync() as Float32Array, want));
        tf.dispose([ids, logits]);
      }
      expect(worst, name).toBeLessThanOrEqual(1e-4);
      cache.dispose();
      model.dispose();
    }
  }, 120_000);
});
