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
import { checkGraphConfig } from './graph.ts';
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
          expect(maxAbsDiff(got[i]!, want), `${c.name} ${n}`).toBeLessThanOrEqual(1e-4);
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
      const a = await one.forward(ids, 3, T);
      const b = await two.forward(ids, 3, T);
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
      const s = await one.forward(short, 1, S);
      const d = a[0]!.length / (3 * T);
      let m = 0;
      for (let j = 0; j < S * d; j++) m = Math.max(m, Math.abs(s[0]![j]! - a[0]![T * d + j]!));
      expect(m).toBeLessThanOrEqual(1e-5);
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
});
