/**
 * Attention knockout against the float64 PyTorch peer (activations/peers/knockout_torch.py) on tiny
 * random 4-layer checkpoints rewritten from their seeds; the golden is committed (regenerate with the
 * command in activations/testdata/README.md).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { KNOCKOUT_CASES } from '../peers/knockout-specs.ts';
import { attentionKnockoutHooks, knockoutWindow } from './knockout.ts';
import { loadModel } from './load.ts';
import { writeRandomCheckpoint } from './random-checkpoint.ts';

const here = dirname(fileURLToPath(import.meta.url));
interface GoldenCase {
  safetensors_sha256: string;
  unblocked_logits: number[][][];
  edge_logits: Record<string, number[][][]>;
}
const golden = JSON.parse(readFileSync(join(here, '../testdata/knockout-golden.json'), 'utf8')) as { cases: Record<string, GoldenCase> };

const tmp = mkdtempSync(join(tmpdir(), 'knockout-'));
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

describe('attention knockout matches PyTorch', () => {
  for (const c of KNOCKOUT_CASES) {
    it(`${c.name}: logits under each edge block within 1e-4, and the blocks change them`, async () => {
      const g = golden.cases[c.name]!;
      const dir = join(tmp, c.name);
      writeRandomCheckpoint(dir, c.spec);
      const sha = createHash('sha256').update(readFileSync(join(dir, 'model.safetensors'))).digest('hex');
      expect(sha, 'checkpoint bytes drifted from the golden: regenerate it').toBe(g.safetensors_sha256);
      const model = await loadModel(dir);
      const ids = tf.tensor2d(c.ids, [c.ids.length, c.ids[0]!.length], 'int32');
      const plain = model.forward(ids).logits;
      expect(maxAbsDiff(plain.dataSync() as Float32Array, g.unblocked_logits.flat(2))).toBeLessThanOrEqual(1e-4);
      for (const e of c.edgeConfigs) {
        const { logits } = model.forward(ids, { hooks: attentionKnockoutHooks(e.blocks, c.spec.nLayers) });
        const want = g.edge_logits[e.name]!.flat(2);
        expect(maxAbsDiff(logits.dataSync() as Float32Array, want), e.name).toBeLessThanOrEqual(1e-4);
        // Not vacuous: the knockout moves the logits by far more than the tolerance.
        expect(maxAbsDiff(plain.dataSync() as Float32Array, want), e.name).toBeGreaterThan(1e-2);
        logits.dispose();
      }
      tf.dispose([ids, plain]);
      model.dispose();
    });
  }
});

describe('knockout edges', () => {
  it('blocking rows leaves other rows and other batch items untouched; a fully blocked row is refused', async () => {
    const c = KNOCKOUT_CASES[0]!;
    const dir = join(tmp, 'rows');
    writeRandomCheckpoint(dir, c.spec);
    const model = await loadModel(dir);
    const ids = tf.tensor2d(c.ids, [2, 8], 'int32');
    const plain = model.forward(ids).logits.arraySync() as number[][][];
    const hooks = attentionKnockoutHooks([{ layers: [0, 1, 2, 3], from: [7], to: [0, 1, 2], batch: [0] }], 4);
    const cut = model.forward(ids, { hooks }).logits.arraySync() as number[][][];
    for (let p = 0; p < 7; p++) expect(cut[0]![p]).toEqual(plain[0]![p]); // earlier queries unaffected
    expect(cut[1]).toEqual(plain[1]);
    expect(Math.max(...cut[0]![7]!.map((v, i) => Math.abs(v - plain[0]![7]![i]!)))).toBeGreaterThan(1e-3);
    const all = attentionKnockoutHooks([{ layers: [2], from: [3], to: [0, 1, 2, 3] }], 4);
    expect(() => model.forward(ids, { hooks: all })).toThrow(/blocks every key of query position 3 \(layer 2/);
    expect(() => attentionKnockoutHooks([{ layers: [4], from: [0], to: [0] }], 4)).toThrow(/layer 4 is outside 0\.\.3/);
    tf.dispose(ids);
    model.dispose();
  });

  it('windows follow the reference: K layers centred on l, clipped to the model', () => {
    expect(knockoutWindow(5, 9, 48)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(knockoutWindow(0, 9, 48)).toEqual([0, 1, 2, 3, 4]);
    expect(knockoutWindow(47, 9, 48)).toEqual([43, 44, 45, 46, 47]);
    expect(knockoutWindow(5, 10, 48)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(knockoutWindow(2, 1, 4)).toEqual([2]);
  });
});
