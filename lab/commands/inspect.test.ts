import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../core/backend.ts';
import { inspectText } from '../../activations/index.ts';
import { inspectCommand } from './inspect.ts';
import { loadModel } from '../../activations/index.ts';
import { writeRandomCheckpoint } from '../../activations/index.ts';
import type { LanguageModel } from '../../activations/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'inspect-'));
const dir = join(tmp, 'gpt2');
let model: LanguageModel;
beforeAll(async () => {
  writeRandomCheckpoint(dir, { architecture: 'gpt2', nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 270, contextLength: 12, std: 0.2, seed: 4 });
  model = await loadModel(dir);
});
afterAll(() => {
  model.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('lab inspect', () => {
  it('returns tokens, the hook values per position and the true top-5 logits', () => {
    const r = inspectText(model, 'the cat sat', 'blocks.1.attn.hook_pattern');
    expect(r.ids).toEqual(model.tokenizer.encode('the cat sat'));
    expect(r.tokens.join('')).toBe('the cat sat');
    const S = r.ids.length;
    expect(r.shape).toEqual([1, 2, S, S]);
    expect(r.values.length).toBe(S);
    // Row = [head][key] for that query position: each head's weights sum to 1.
    for (const row of r.values) {
      expect(row.length).toBe(2 * S);
      expect(row.slice(0, S).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    const logits = model.forward(tf.tensor2d([r.ids], [1, S], 'int32')).logits.arraySync()[0]!;
    r.logits_top5.forEach((top, i) => {
      const sorted = [...logits[i]!].sort((a, b) => b - a);
      expect(top.map(([, l]) => l)).toEqual(sorted.slice(0, 5).map((x) => Math.fround(x)));
      for (const [id, l] of top) expect(logits[i]![id]).toBe(l);
    });
  });

  it('names --text and --hook in its errors', async () => {
    expect(() => inspectText(model, 'x'.repeat(13), 'blocks.0.mlp.hook_post')).toThrow(/--text is 13 tokens long; the model's context window is 12 tokens/);
    expect(() => inspectText(model, 'hi', 'blocks.*.mlp.hook_post')).toThrow(/--hook 'blocks\.\*\.mlp\.hook_post' matches 2 hooks/);
    expect(() => inspectText(model, 'hi', 'mlp.neurons')).toThrow(/--hook 'mlp\.neurons' matches no hook of this model; valid hooks: .*blocks\.\{0\.\.1\}\.mlp\.hook_post/);
    await expect(inspectCommand(['--text', 'hi'])).rejects.toThrow(/--model is required/);
  });
});
