import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../lab/core/backend.ts';
import { writeCheckpoint } from './checkpoint.ts';
import { createGpt2 } from './gpt2.ts';
import { loadModel } from './load.ts';
import { byteLevelBpeJson } from './tokenizer.ts';
import { writeRandomCheckpoint } from './random-checkpoint.ts';

const tmp = mkdtempSync(join(tmpdir(), 'gpt2-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('wasm');
});

const shape = { nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 40, contextLength: 12 };

function loss(model: ReturnType<typeof createGpt2>, ids: tf.Tensor2D, w: tf.Tensor3D): tf.Scalar {
  return tf.sum(tf.mul(model.forwardLogits(ids), w));
}

describe('createGpt2', () => {
  it('trains under tf.variableGrads on wasm: gradients match finite differences, including the embedding', () => {
    expect(tf.getBackend()).toBe('wasm');
    const model = createGpt2(shape, undefined, { seed: 3 });
    const ids = tf.tensor2d([[1, 5, 5, 9, 2, 7], [0, 3, 39, 3, 8, 1]], [2, 6], 'int32');
    const w = tf.randomNormal([2, 6, shape.vocabSize], 0, 1, 'float32', 11) as tf.Tensor3D;
    const { value, grads } = tf.variableGrads(() => loss(model, ids, w), [...model.variables.values()]);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    const checks: [string, number][] = [
      ['transformer.wte.weight', 5 * 16 + 3], // token 5 occurs twice: the scatter-add must sum both
      ['transformer.wte.weight', 39 * 16 + 0],
      ['transformer.wte.weight', 20 * 16 + 1], // an unused token: zero gradient from the lookup, nonzero from the tied unembedding
      ['transformer.wpe.weight', 2 * 16 + 4],
      ['transformer.h.0.attn.c_attn.weight', 17],
      ['transformer.h.1.mlp.c_fc.weight', 100],
      ['transformer.ln_f.weight', 3],
    ];
    const eps = 1e-2;
    for (const [name, idx] of checks) {
      const v = model.variables.get(name)!;
      const orig = v.dataSync().slice() as Float32Array;
      const at = (delta: number) => {
        const x = orig.slice();
        x[idx]! += delta;
        v.assign(tf.tensor(x, v.shape));
        return tf.tidy(() => loss(model, ids, w).dataSync()[0]!);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(tf.tensor(orig, v.shape));
      const analytic = grads[v.name]!.dataSync()[idx]!;
      expect(Math.abs(analytic - numeric), `${name}[${idx}]: ${analytic} vs ${numeric}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(numeric)));
    }
    // The differentiable pass and the inference pass (host-assisted attention) agree.
    const a = model.forwardLogits(ids);
    const b = model.forward(ids).logits;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([value, ...Object.values(grads), ids, w, a, b]);
    model.dispose();
  });

  it('saves through writeCheckpoint and loads back with identical logits', async () => {
    const model = createGpt2(shape, undefined, { seed: 5 });
    const dir = join(tmp, 'saved');
    writeCheckpoint(dir, { config: model.hfConfig(), tensors: model.toTensors(), tokenizerJson: byteLevelBpeJson([]) });
    // The tokenizer has 257 tokens but the model 40: loading must refuse that mismatch.
    await expect(loadModel(dir)).rejects.toThrow(/tokenizer\.json has 257 tokens but config\.json vocab_size is 40/);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, vocab_size: 257 }));
    await expect(loadModel(dir)).rejects.toThrow(/model\.safetensors: tensor 'transformer\.wte\.weight' has shape \[40,16\] but config\.json implies \[257,16\]/);
    const big = createGpt2({ ...shape, vocabSize: 257 }, undefined, { seed: 5 });
    writeCheckpoint(dir, { config: big.hfConfig(), tensors: big.toTensors(), tokenizerJson: byteLevelBpeJson([]) });
    const loaded = await loadModel(dir);
    const ids = tf.tensor2d([[10, 200, 33, 4]], [1, 4], 'int32');
    const a = big.forwardLogits(ids).arraySync();
    const b = loaded.forward(ids).logits.arraySync();
    expect(b).toEqual(a);
    expect(loaded.source.checksum).toMatch(/^[0-9a-f]{64}$/);
    // The original GPT-2 uploads name tensors without the `transformer.` prefix: same model, same logits.
    const bare = new Map([...big.toTensors()].map(([k, t]) => [k.replace(/^transformer\./, ''), t]));
    writeCheckpoint(join(tmp, 'bare'), { config: big.hfConfig(), tensors: bare, tokenizerJson: byteLevelBpeJson([]) });
    const loadedBare = await loadModel(join(tmp, 'bare'));
    expect(loadedBare.forward(ids).logits.arraySync()).toEqual(a);
    loadedBare.dispose();
    loaded.dispose();
    big.dispose();
    model.dispose();
  });

  it('rejects an unknown architecture and a dtype that contradicts config.json', async () => {
    const dir = join(tmp, 'bad');
    writeRandomCheckpoint(dir, { architecture: 'gpt2', ...shape, vocabSize: 300, seed: 1 });
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, torch_dtype: 'float16' }));
    await expect(loadModel(dir)).rejects.toThrow(/model\.safetensors: tensor 'transformer\.wte\.weight' is F32 but config\.json says torch_dtype float16/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, model_type: 'mamba' }));
    await expect(loadModel(dir)).rejects.toThrow(/config\.json: unknown architecture model_type="mamba"; supported: gpt2, gpt_neox/);
    rmSync(join(dir, 'config.json'));
    await expect(loadModel(dir)).rejects.toThrow(/config\.json is missing/);
  });
});
