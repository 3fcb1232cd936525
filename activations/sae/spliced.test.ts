import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../lab/core/backend.ts';
import { loadModel, writeRandomCheckpoint } from '../models/index.ts';
import type { LanguageModel } from '../types.ts';
import type { Sae } from './model.ts';
import { splicedLoss } from './spliced.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sae-spliced-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let model: LanguageModel;
const hook = 'blocks.0.mlp.hook_post';
const text = 'The quick brown fox jumps over the lazy dog. '.repeat(6);

beforeAll(async () => {
  await initBackend();
  writeRandomCheckpoint(join(tmp, 'm'), { architecture: 'gpt2', nLayers: 1, dModel: 8, nHeads: 2, vocabSize: 300, contextLength: 16, seed: 4 });
  model = await loadModel(join(tmp, 'm'));
});

/** relu([x, -x]) decoded by [I; -I] is x for any x: a perfect SAE of width 2 d. */
function perfectSae(d: number): Sae {
  const W_enc = new Float32Array(d * 2 * d), W_dec = new Float32Array(2 * d * d);
  for (let i = 0; i < d; i++) {
    W_enc[i * 2 * d + i] = 1; W_enc[i * 2 * d + d + i] = -1;
    W_dec[i * d + i] = 1; W_dec[(d + i) * d + i] = -1;
  }
  return { arch: 'relu-l1', dIn: d, dSae: 2 * d, k: 0, W_enc, b_enc: new Float32Array(2 * d), W_dec, b_dec: new Float32Array(d) };
}

describe('loss with the SAE spliced in', () => {
  it('a perfect SAE recovers 100% of the loss against both ablations', () => {
    const d = model.config.dMlp;
    const mean = Float32Array.from({ length: d }, (_, i) => 0.01 * i);
    const r = splicedLoss(model, perfectSae(d), hook, text, mean, { batch: 3 });
    expect(r.targets).toBeGreaterThan(30);
    expect(r.sae).toBeCloseTo(r.clean, 5);
    expect(r.loss_recovered_zero).toBeCloseTo(1, 3);
    expect(r.loss_recovered_mean).toBeCloseTo(1, 3);
    expect(r.zero_ablation).not.toBeCloseTo(r.clean, 4);
    expect(r.bits_per_byte.clean).toBeCloseTo((r.clean * r.targets) / Math.LN2 / r.bytes, 10);
  });

  it('an SAE that outputs zero is zero ablation: 0% recovered against it', () => {
    const d = model.config.dMlp;
    const s = { ...perfectSae(d), W_dec: new Float32Array(2 * d * d) };
    const r = splicedLoss(model, s, hook, text, new Float32Array(d), {});
    expect(r.sae).toBeCloseTo(r.zero_ablation, 5);
    expect(r.loss_recovered_zero).toBeCloseTo(0, 3);
    expect(r.mean_ablation).toBeCloseTo(r.zero_ablation, 6); // the mean given is zero
  });

  it('refuses an SAE whose width differs from the model hook, and a hook the model lacks', () => {
    expect(() => splicedLoss(model, perfectSae(5), hook, text, new Float32Array(5))).toThrow(/d_in 5 differs from the width of 'blocks.0.mlp.hook_post' in the model \(32\)/);
    expect(() => splicedLoss(model, perfectSae(5), 'blocks.3.mlp.hook_post', text, new Float32Array(5))).toThrow(/is not a hook of the model/);
  });
});
