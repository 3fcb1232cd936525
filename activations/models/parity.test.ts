/**
 * Parity with an independent PyTorch implementation (activations/peers/parity_torch.py, float64) on
 * tiny random checkpoints that this test writes from fixed seeds; the golden values are committed
 * (regenerate with the command in activations/testdata/README.md).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { PARITY_CASES } from '../peers/parity-specs.ts';
import { loadModel } from './load.ts';
import { writeRandomCheckpoint } from './random-checkpoint.ts';

const here = dirname(fileURLToPath(import.meta.url));
interface GoldenCase {
  safetensors_sha256: string;
  ids: number[][];
  logits: number[][][];
  hooks: Record<string, unknown>;
}
const golden = JSON.parse(readFileSync(join(here, '../testdata/parity-golden.json'), 'utf8')) as { cases: Record<string, GoldenCase> };

const tmp = mkdtempSync(join(tmpdir(), 'parity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
});

function maxAbsDiff(a: Float32Array | number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('parity with PyTorch', () => {
  for (const c of PARITY_CASES) {
    it(`${c.name}: logits and hooks within 1e-4 of the reference`, async () => {
      const g = golden.cases[c.name]!;
      const dir = join(tmp, c.name);
      writeRandomCheckpoint(dir, c.spec);
      const sha = createHash('sha256').update(readFileSync(join(dir, 'model.safetensors'))).digest('hex');
      expect(sha, 'checkpoint bytes drifted from the golden: regenerate it').toBe(g.safetensors_sha256);
      const model = await loadModel(dir);
      const ids = tf.tensor2d(c.ids, [c.ids.length, c.ids[0]!.length], 'int32');
      const { logits, cache } = model.forward(ids, { names: c.hooks });
      const err = maxAbsDiff(logits.dataSync() as Float32Array, g.logits.flat(2));
      expect(err).toBeLessThanOrEqual(1e-4);
      // Not vacuous: the logits vary by far more than the tolerance.
      expect(Math.max(...g.logits.flat(2)) - Math.min(...g.logits.flat(2))).toBeGreaterThan(1);
      expect([...cache.keys()].sort()).toEqual([...c.hooks].sort());
      for (const name of c.hooks) {
        const want = (g.hooks[name] as number[]).flat(4) as number[];
        const got = cache.get(name)!;
        expect(maxAbsDiff(got.dataSync() as Float32Array, want), name).toBeLessThanOrEqual(1e-4);
      }
      tf.dispose([ids, logits, ...cache.values()]);
      model.dispose();
    });
  }
});
