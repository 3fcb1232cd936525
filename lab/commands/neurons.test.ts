/**
 * `lab neurons` end to end on a store this test writes beside a tiny random checkpoint: pages with
 * decoded contexts and logit effects, the run directory --out writes, and every bad input the issue
 * lists, each naming its flag or file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, RunDir } from '../core/index.ts';
import { StoreWriter, loadTokenizer, writeRandomCheckpoint } from '../../activations/index.ts';
import { runLab } from '../cli-test-support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'neurons-cli-'));
const model = join(tmp, 'model');
const store = join(tmp, 'store');
const alien = join(tmp, 'alien-store');
const toy = join(tmp, 'toy-store');

/** 12 sequences of 8 tokens at blocks.1.mlp.hook_post (128 neurons); token ids below `vocab`. */
function writeStore(dir: string, vocab: number, tokens: boolean): void {
  const run = RunDir.begin(dir, { kind: 'harvest', seed: 0, config: {} });
  const w = StoreWriter.open(dir, {
    config: { vocab }, model: tokens ? { source: 'model', dir: model } : { source: 'toy', run_dir: 'none' },
    dataset: { name: 'test', level: 'token', features: ['f'], label_columns: ['f'] }, seed: 0, aggregation: 'none', dtype: 'f16', quantisation: 'none',
    hooks: [{ name: 'blocks.1.mlp.hook_post', n_neurons: 128, row_shape: [128] }],
  }, { chunkRows: 32 });
  const rng = new Rng(1);
  for (let s = 0; s < 12; s++) {
    const v = new Float32Array(8 * 128).map(() => rng.normal());
    const labels = new Uint8Array(8).map(() => (rng.next() < 0.3 ? 1 : 0));
    w.appendSequence({ rows: 8, seqIds: s, positions: [1, 2, 3, 4, 5, 6, 7, 8], tokenIds: tokens ? Array.from({ length: 8 }, () => rng.int(vocab)) : undefined, labels, values: [v], tokens: 8 });
  }
  w.finish();
  run.finish();
}

beforeAll(() => {
  writeRandomCheckpoint(model, { architecture: 'gpt2', nLayers: 2, dModel: 32, nHeads: 4, vocabSize: 270, contextLength: 16, std: 0.3, seed: 3 });
  writeStore(store, 270, true);
  writeStore(alien, 600, true);
  writeStore(toy, 270, false);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lab neurons', () => {
  it('prints pages with decoded contexts and logit effects, and writes neurons.json and neurons.html with --out', async () => {
    const out = join(tmp, 'pages');
    const r = await runLab('neurons', '--activations', store, '--hook', 'blocks.1.mlp.hook_post', '--neurons', '4,99', '--top', '5', '--quantiles', '3', '--model', model, '--json', '--out', out);
    expect(r.code, r.err).toBe(0);
    const pages = JSON.parse(r.out);
    expect(pages.map((p: { neuron: number }) => p.neuron)).toEqual([4, 99]);
    const tok = loadTokenizer(model);
    for (const p of pages) {
      expect(p.top).toHaveLength(5);
      expect(p.quantiles).toHaveLength(3);
      expect(p.correlated).toHaveLength(5);
      for (const t of p.top) expect(t.tokens[t.index].text).toBe(tok.decode([t.token_id]));
      expect(p.logits.top).toHaveLength(10);
      expect(p.logits.bottom[0].value).toBeLessThan(p.logits.top[0].value);
    }
    expect(JSON.parse(readFileSync(join(out, 'neurons.json'), 'utf8'))).toEqual(pages);
    const html = readFileSync(join(out, 'neurons.html'), 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('id="neuron-p-blocks_1_mlp_hook_post-99"');
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toMatchObject({ kind: 'neurons', status: 'complete' });
    const text = await runLab('neurons', '--activations', store, '--hook', 'blocks.1.mlp.hook_post', '--neurons', '4', '--correlated', '0');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/blocks\.1\.mlp\.hook_post neuron 4: 96 rows/);
  }, 30_000);

  it('names the flag or file for each bad input', async () => {
    const base = ['neurons', '--activations', store, '--hook', 'blocks.1.mlp.hook_post'];
    const cases: Array<[string[], number, RegExp]> = [
      [[...base, '--neurons', '128'], 2, /--neurons: neuron 128 is past blocks\.1\.mlp\.hook_post's width 128/],
      [['neurons', '--activations', store, '--hook', 'blocks.0.mlp.hook_post', '--neurons', '1'], 2, /--hook 'blocks\.0\.mlp\.hook_post' is not in the store .*it holds: blocks\.1\.mlp\.hook_post/],
      [[...base, '--neurons', '1', '--top', '0'], 2, /--top must be >= 1, got 0/],
      [[...base, '--neurons', '1,x'], 2, /--neurons takes whole numbers >= 0, comma-separated; got 'x'/],
      [['neurons', '--activations', toy, '--hook', 'blocks.1.mlp.hook_post', '--neurons', '1', '--model', model], 2, /--model .*keeps no token ids .*drop --model/],
      [['neurons', '--activations', alien, '--hook', 'blocks.1.mlp.hook_post', '--neurons', '1', '--model', model], 2, /--model .*its vocabulary has 270 tokens but the store .* holds token id 5\d\d/],
      [['neurons', '--activations', join(tmp, 'nope'), '--hook', 'blocks.1.mlp.hook_post', '--neurons', '1'], 1, /nope/],
    ];
    for (const [argv, code, msg] of cases) {
      const r = await runLab(...argv);
      expect([r.code, r.err], argv.join(' ')).toEqual([code, expect.stringMatching(msg)]);
    }
    expect(existsSync(join(tmp, 'nope'))).toBe(false);
  }, 30_000);
});
