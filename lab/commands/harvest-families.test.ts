/**
 * `lab harvest --model DIR` end to end on a tiny random checkpoint of each new model family (Llama,
 * Mistral, Qwen2, GPT-Neo, GPT-J, OPT, Gemma, Gemma 2): the store holds the hooks asked for with
 * the family's widths, and every stored row equals the model's own forward pass over the sequence
 * rebuilt from the store (its BOS, then its token ids in position order).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../core/backend.ts';
import { loadModel, openActivationStore, writeRandomCheckpoint } from '../../activations/index.ts';
import { runLab } from '../cli-test-support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'harvest-families-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const shape = { nLayers: 2, dModel: 16, nHeads: 2, dMlp: 24, vocabSize: 270, contextLength: 16, std: 0.2 };
const FAMILIES: Array<{ architecture: string; hooks: string; extra?: Record<string, unknown> }> = [
  { architecture: 'llama', hooks: 'blocks.*.mlp.hook_post,blocks.0.mlp.hook_pre_linear', extra: { nKVHeads: 1 } },
  { architecture: 'mistral', hooks: 'blocks.*.mlp.hook_post', extra: { config: { sliding_window: 4 } } },
  { architecture: 'qwen2', hooks: 'blocks.*.mlp.hook_post' },
  { architecture: 'gpt-neo', hooks: 'blocks.*.mlp.hook_post', extra: { config: { window_size: 4 } } },
  { architecture: 'gptj', hooks: 'blocks.*.mlp.hook_post' },
  { architecture: 'opt', hooks: 'blocks.*.mlp.hook_post' },
  { architecture: 'gemma', hooks: 'blocks.*.mlp.hook_post' },
  { architecture: 'gemma2', hooks: 'blocks.*.mlp.hook_post,blocks.1.ln2_post.hook_normalized', extra: { config: { sliding_window: 4 } } },
];

describe('lab harvest on every new model family', () => {
  it('stores the forward pass of each family', async () => {
    for (const [i, f] of FAMILIES.entries()) {
      const model = join(tmp, f.architecture);
      const out = join(tmp, `${f.architecture}-acts`);
      writeRandomCheckpoint(model, { ...shape, architecture: f.architecture, seed: 40 + i, ...f.extra });
      const r = await runLab('harvest', '--model', model, '--dataset', 'brown-pos', '--hooks', f.hooks, '--max-tokens', '40', '--context', '10',
        '--batch', '3', '--threads', '1', '--out', out, '--quiet');
      expect(r.code, `${f.architecture}: ${r.err}`).toBe(0);
      const store = openActivationStore(out);
      const hooks = store.hooks;
      expect(hooks, f.architecture).toContain('blocks.1.mlp.hook_post');
      const m = await loadModel(model);
      const bos = m.tokenizer.bosId!;
      for (const hook of hooks) {
        const pd = store.readProbeData(hook);
        const width = pd.X.length / pd.nRows;
        expect(width, hook).toBe(hook.includes('mlp') ? shape.dMlp : shape.dModel);
        const tokenIds = store.labelsTable().array('token_id') as Int32Array;
        // Rebuild each sequence from its rows, run it, and compare every stored row.
        const bySeq = new Map<number, number[]>();
        for (let row = 0; row < pd.nRows; row++) bySeq.set(pd.seqIds[row]!, [...(bySeq.get(pd.seqIds[row]!) ?? []), row]);
        let worst = 0;
        for (const rows of bySeq.values()) {
          rows.sort((a, b) => pd.positions[a]! - pd.positions[b]!);
          expect(rows.map((row) => pd.positions[row]), 'positions 1.. without gaps').toEqual(rows.map((_, k) => k + 1));
          const ids = tf.tensor2d([[bos, ...rows.map((row) => tokenIds[row]!)]], undefined, 'int32');
          const { logits, cache } = m.forward(ids, { names: [hook] });
          const v = cache.get(hook)!.dataSync() as Float32Array;
          rows.forEach((row, k) => {
            for (let j = 0; j < width; j++) worst = Math.max(worst, Math.abs(pd.X[row * width + j]! - v[(k + 1) * width + j]!));
          });
          tf.dispose([ids, logits, ...cache.values()]);
        }
        expect(worst, `${f.architecture} ${hook}`).toBeLessThan(1e-5);
        expect(bySeq.size).toBeGreaterThan(1);
      }
      m.dispose();
    }
  }, 300_000);
});
