/**
 * The onnx engine against the same float64 PyTorch goldens as the tfjs forward (parity-golden.json: GPT-2
 * and GPT-NeoX variants; families-golden.json: Llama, Mistral, Qwen2, GPT-Neo, GPT-J, OPT, Gemma, Gemma 2),
 * every per-token hook the cases check, on the checkpoints those tests write; plus what a harvest relies
 * on: batches of any padded length from one session, and the same floats on one thread and two.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../lab/core/backend.ts';
import { FAMILY_CASES } from '../../peers/family-specs.ts';
import { PARITY_CASES } from '../../peers/parity-specs.ts';
import { loadModel } from '../load.ts';
import { writeRandomCheckpoint } from '../random-checkpoint.ts';
import { checkGraphConfig, hookRowShape } from './graph.ts';
import { harvestModel } from '../../harvest.ts';
import { makeDataset } from '../../datasets/index.ts';
import { halfToFloatTable as halfToFloat, openActivationStore, toHalf } from '../../store/index.ts';
import { OnnxForward } from './engine.ts';
import type { TransformerConfig } from '../config.ts';

const here = dirname(fileURLToPath(import.meta.url));
type Golden = { cases: Record<string, { hooks: Record<string, unknown> }> };
const goldens = {
  parity: JSON.parse(readFileSync(join(here, '../../testdata/parity-golden.json'), 'utf8')) as Golden,
  families: JSON.parse(readFileSync(join(here, '../../testdata/families-golden.json'), 'utf8')) as Golden,
};
const tmp = mkdtempSync(join(tmpdir(), 'onnx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
});

const perToken = (names: readonly string[]) => names.filter((n) => !/hook_(pattern|attn_scores)$/.test(n));

function maxAbsDiff(a: Float32Array, b: number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const cases = [
  ...PARITY_CASES.map((c) => ({ ...c, golden: goldens.parity })),
  ...FAMILY_CASES.map((c) => ({ ...c, golden: goldens.families })),
];

describe('onnx engine: parity with PyTorch (float64 goldens)', () => {
  for (const c of cases) {
    it(`${c.name}: every per-token hook within 1e-4 of the reference`, async () => {
      const dir = join(tmp, c.name);
      writeRandomCheckpoint(dir, c.spec);
      const model = await loadModel(dir);
      const names = perToken(c.hooks);
      expect(names.length).toBeGreaterThan(3);
      const onnx = await OnnxForward.open(model, names);
      try {
        const B = c.ids.length;
        const T = c.ids[0]!.length;
        const got = await onnx.forward(Int32Array.from(c.ids.flat()), B, T);
        const g = c.golden.cases[c.name]!;
        names.forEach((n, i) => {
          const want = (g.hooks[n] as number[]).flat(4) as number[];
          expect(maxAbsDiff(got[i] as Float32Array, want), `${c.name} ${n}`).toBeLessThanOrEqual(1e-4);
          expect(got[i]!.length, `${n}: hookRowShape`).toBe((n === 'hook_pos_embed' ? 1 : B) * T * hookRowShape(model.config as TransformerConfig, n).reduce((a, b) => a * b, 1));
        });
        // Not vacuous: the last hook varies by far more than the tolerance.
        const last = (g.hooks[names.at(-1)!] as number[]).flat(4) as number[];
        expect(Math.max(...last) - Math.min(...last)).toBeGreaterThan(0.1);
      } finally {
        await onnx.close();
        model.dispose();
      }
    });
  }
});

describe('onnx engine: what a harvest relies on', () => {
  it('one session forwards any batch and length; rows equal the tfjs forward and do not depend on padding or threads', async () => {
    const c = PARITY_CASES.find((x) => x.spec.architecture === 'gpt2')!;
    const dir = join(tmp, 'batches');
    writeRandomCheckpoint(dir, c.spec);
    const model = await loadModel(dir);
    const names = ['blocks.0.mlp.hook_post', `blocks.${model.config.nLayers - 1}.hook_resid_post`];
    const one = await OnnxForward.open(model, names, { threads: 1 });
    const two = await OnnxForward.open(model, names, { threads: 2 });
    try {
      const V = model.config.vocabSize;
      const T = Math.min(12, model.config.contextLength);
      const ids = Int32Array.from({ length: 3 * T }, (_, i) => (i * 37 + 11) % V);
      const tfOut = tf.tidy(() => {
        const r = model.forward(tf.tensor2d(ids, [3, T], 'int32'), { names, logits: false });
        return names.map((n) => r.cache.get(n)!.dataSync() as Float32Array);
      });
      const a = (await one.forward(ids, 3, T)) as Float32Array[];
      const b = (await two.forward(ids, 3, T)) as Float32Array[];
      const again = (await one.forward(ids, 3, T)) as Float32Array[];
      expect(Buffer.from(again[0]!.buffer).equals(Buffer.from(a[0]!.buffer)), 'the same batch twice').toBe(true);
      names.forEach((n, i) => {
        expect(a[i]!.length).toBe(tfOut[i]!.length);
        let m = 0;
        for (let j = 0; j < a[i]!.length; j++) m = Math.max(m, Math.abs(a[i]![j]! - tfOut[i]![j]!));
        expect(m, n).toBeLessThanOrEqual(1e-4);
        expect(Buffer.from(b[i]!.buffer).equals(Buffer.from(a[i]!.buffer)), `${n}: 1 vs 2 threads`).toBe(true);
      });
      // A shorter batch (another T, another B) from the same session: its rows are the first rows of the
      // longer one's (causal attention), to rounding.
      const S = 5;
      const short = Int32Array.from({ length: S }, (_, i) => ids[T + i]!);
      const s = (await one.forward(short, 1, S)) as Float32Array[];
      const d = a[0]!.length / (3 * T);
      let m = 0;
      for (let j = 0; j < S * d; j++) m = Math.max(m, Math.abs(s[0]![j]! - a[0]![T * d + j]!));
      expect(m).toBeLessThanOrEqual(1e-5);
      // With lengths, only the real rows are computed: they match the full batch's, padding comes back 0.
      const lengths = [T, 5, 2];
      const part = (await two.forward(ids, 3, T, lengths)) as Float32Array[];
      for (const [k, full] of a.entries()) {
        const w = full.length / (3 * T);
        let worstReal = 0;
        let worstPad = 0;
        for (let b = 0; b < 3; b++) {
          for (let t = 0; t < T; t++) {
            for (let j = 0; j < w; j++) {
              const i = (b * T + t) * w + j;
              if (t < lengths[b]!) worstReal = Math.max(worstReal, Math.abs(part[k]![i]! - full[i]!));
              else worstPad = Math.max(worstPad, Math.abs(part[k]![i]!));
            }
          }
        }
        expect(worstReal, names[k]).toBeLessThanOrEqual(1e-5);
        expect(worstPad, names[k]).toBe(0);
      }
      await expect(two.forward(ids, 3, T, [T, 0, 2])).rejects.toThrow(/lengths must be 3 integers in 1\.\./);
    } finally {
      await one.close();
      await two.close();
      model.dispose();
    }
  });

  it('refuses a config field it does not implement, and attention patterns', async () => {
    const cfg = { architecture: 'gpt2', nLayers: 1, dModel: 4, nHeads: 1, dMlp: 8, vocabSize: 5, contextLength: 4, dHead: 4, layerNormEps: 1e-5, activation: 'gelu', tiedEmbeddings: true, rotaryDims: 0, rotaryBase: 0, parallelResidual: false };
    expect(() => checkGraphConfig(cfg as TransformerConfig)).not.toThrow();
    expect(() => checkGraphConfig({ ...cfg, alibi: true } as unknown as TransformerConfig)).toThrow(/does not implement config field\(s\) alibi/);
    const c = PARITY_CASES[0]!;
    const dir = join(tmp, 'refuse');
    writeRandomCheckpoint(dir, c.spec);
    const model = await loadModel(dir);
    try {
      await expect(OnnxForward.open(model, ['blocks.0.attn.hook_pattern'])).rejects.toThrow(/per-token hooks/);
      await expect(OnnxForward.open(model, ['blocks.0.nope'])).rejects.toThrow(/not a hook of this model/);
    } finally {
      model.dispose();
    }
  });

  it('harvests: an f16 store from the graph\'s cast is toHalf of its f32 store, both near the tfjs engine\'s; the engine is part of the config', async () => {
    const c = PARITY_CASES.find((x) => x.spec.architecture === 'gpt2')!;
    const dir = join(tmp, 'harvest');
    writeRandomCheckpoint(dir, c.spec);
    const model = await loadModel(dir);
    try {
      const ds = () => makeDataset('text-props', model.tokenizer, { context: Math.min(12, model.config.contextLength), seed: 0 });
      const base = { seed: 0, maxTokens: 150, batch: 4, silent: true, chunkMb: 0.01 };
      const hook = 'blocks.0.mlp.hook_post';
      const run = async (name: string, extra: object) => {
        const out = join(tmp, name);
        const r = await harvestModel(model, ds(), [hook], { ...base, out, ...extra });
        return { r, data: openActivationStore(out).readProbeData(hook) };
      };
      const f32 = await run('onnx-f32', { engine: 'onnx', threads: 2 });
      const f16 = await run('onnx-f16', { engine: 'onnx', threads: 2, dtype: 'f16' });
      const tfjs = await run('tfjs-f32', {});
      expect(f32.r.manifest.config.engine).toBe('onnx');
      expect(tfjs.r.manifest.config.engine).toBeUndefined();
      expect(f32.r.manifest.chunks.length).toBeGreaterThan(1);
      expect(f16.data.nRows).toBe(150);
      const half = halfToFloat();
      let diff = 0;
      let worst = 0;
      for (let i = 0; i < f32.data.X.length; i++) {
        if (f16.data.X[i] !== half[toHalf(f32.data.X[i]!)]) diff++;
        worst = Math.max(worst, Math.abs(f32.data.X[i]! - tfjs.data.X[i]!));
      }
      expect(diff).toBe(0);
      expect(worst).toBeLessThanOrEqual(1e-4);
      expect(f32.data.seqIds).toEqual(tfjs.data.seqIds);
      expect(f32.data.labels).toEqual(tfjs.data.labels);
      // The same --out with the other engine is another store: refused, not mixed.
      await expect(harvestModel(model, ds(), [hook], { ...base, out: join(tmp, 'onnx-f32') })).rejects.toThrow(/different config \(engine/);
    } finally {
      model.dispose();
    }
  });
});
