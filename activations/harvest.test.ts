import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../lab/core/backend.ts';
import { trainToy, writeToyRun } from './toy/index.ts';
import { gpt2Tokenizer, makeDataset } from './datasets/index.ts';
import { batchForward, harvestModel, harvestToy, type RemoteChunks, type SequenceRows } from './harvest.ts';
import { harvestChunk, planChunks } from './harvest-chunks.ts';
import { loadModel, writeRandomCheckpoint } from './models/index.ts';
import { openActivationStore } from './store/index.ts';
import type { ForwardOptions, ForwardResult, HookName, LanguageModel, LabelledSequence } from './types.ts';

const tmp = mkdtempSync(join(tmpdir(), 'harvest-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend();
});

const D = 5;
/** Closed form of the test double: hook value at (t, j) of layer L = (L + 1) * sum_{s<=t} sin(1e-4 * id_s * (j + 1)). */
function expected(ids: number[], t: number, j: number, layer: number): number {
  let s = 0;
  for (let k = 0; k <= t; k++) s += Math.sin(1e-4 * ids[k]! * (j + 1));
  return (layer + 1) * s;
}

/**
 * A deterministic, causal stand-in for a LanguageModel (tests only): real models come from
 * activations/models; this one makes every stored value checkable by a closed form.
 */
class FakeLM implements LanguageModel {
  readonly config = { architecture: 'gpt2' as const, nLayers: 2, dModel: D, nHeads: 1, dMlp: D, vocabSize: 50257, contextLength: 64 };
  readonly tokenizer = gpt2Tokenizer();
  readonly source = { dir: '/fake/model', checksum: 'fake-1' };
  forwards = 0;
  /** batchNoise: adds 1e-6 x (the batch's first token ids summed), a stand-in for a real kernel whose floats depend on the batch it runs in. */
  constructor(private readonly opts: { failAfter?: number; nan?: boolean; batchNoise?: boolean } = {}) {}
  hookNames(): HookName[] {
    return ['hook_embed', 'blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post', 'blocks.0.attn.hook_pattern'];
  }
  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): ForwardResult {
    if (this.opts.failAfter !== undefined && this.forwards >= this.opts.failAfter) throw new Error('killed');
    this.forwards++;
    const want = new Set(opts.names as string[]);
    // Everything returned is tf.keep()-ed, so tidy needs to see no tensors in the (Map-holding) result.
    let result: ForwardResult | undefined;
    tf.tidy(() => {
      const [b, t] = ids.shape;
      const freq = tf.reshape(tf.mul(tf.range(1, D + 1), 1e-4), [1, 1, D]);
      const emb = tf.sin(tf.mul(tf.expandDims(tf.cast(ids, 'float32'), 2), freq)) as tf.Tensor3D;
      const cum = tf.cumsum(emb, 1);
      const cache = new Map<HookName, tf.Tensor>();
      const put = (n: string, v: tf.Tensor) => want.has(n) && cache.set(n, tf.keep(v));
      const noise = this.opts.batchNoise ? 1e-6 * ids.arraySync().reduce((a, r) => a + r[0]!, 0) : 0;
      put('hook_embed', tf.add(emb, noise));
      put('blocks.0.mlp.hook_post', this.opts.nan ? tf.mul(tf.div(cum, 0), 0) : cum);
      put('blocks.1.mlp.hook_post', tf.mul(cum, 2));
      put('blocks.0.attn.hook_pattern', tf.ones([b, 1, t, t]));
      result = { logits: tf.keep(tf.zeros([b, t, 3])) as tf.Tensor3D, cache };
    });
    return result!;
  }
  newKVCache(): never {
    throw new Error('not used');
  }
  dispose(): void {}
}

function seqMap(name: string, context: number, n = 400): Map<number, LabelledSequence> {
  const m = new Map<number, LabelledSequence>();
  for (const s of makeDataset(name, gpt2Tokenizer(), { context, seed: 0 }).sequences()) {
    m.set(s.seqId, s);
    if (m.size >= n) break;
  }
  return m;
}

describe('harvestModel', () => {
  const base = { seed: 0, silent: true, batch: 3, chunkMb: 0.0005 };

  it('stores every non-BOS token of each sequence with its labels, equal to the forward pass', async () => {
    const ds = makeDataset('brown-pos', gpt2Tokenizer(), { context: 24, seed: 0 });
    const out = join(tmp, 'pos');
    const r = await harvestModel(new FakeLM(), ds, ['blocks.*.mlp.hook_post'], { ...base, out, maxTokens: 500 });
    expect(r.manifest.total_tokens).toBe(500);
    expect(r.manifest.total_rows).toBe(500);
    expect(r.manifest.chunks.length).toBeGreaterThan(5);
    const store = openActivationStore(out);
    expect(store.hooks).toEqual(['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post']);
    expect(store.run.kind).toBe('harvest');
    const seqs = seqMap('brown-pos', 24);
    const pd = store.readProbeData('blocks.1.mlp.hook_post');
    const table = store.labelsTable();
    const tokenIds = table.array('token_id') as Int32Array;
    let worst = 0, labelErrors = 0;
    for (let row = 0; row < pd.nRows; row++) {
      const s = seqs.get(pd.seqIds[row]!)!;
      const p = pd.positions[row]!;
      expect(p).toBeGreaterThanOrEqual(1);
      expect(tokenIds[row]).toBe(s.ids[p]);
      for (let j = 0; j < D; j++) worst = Math.max(worst, Math.abs(pd.X[row * D + j]! - expected(s.ids, p, j, 1)));
      for (const f of store.features) if (pd.labels[f]![row] !== s.tokenLabels![f]![p]) labelErrors++;
    }
    expect(worst).toBeLessThan(1e-4);
    expect(labelErrors).toBe(0);
    expect(new Set(pd.seqIds).size).toBeGreaterThan(10);
  });

  it('aggregates mean and max over each sequence for sequence-level features', async () => {
    const seqs = seqMap('brown-genre', 32);
    for (const how of ['mean', 'max'] as const) {
      const ds = makeDataset('brown-genre', gpt2Tokenizer(), { context: 32, seed: 0 });
      const out = join(tmp, `genre-${how}`);
      await harvestModel(new FakeLM(), ds, ['blocks.0.mlp.hook_post'], { ...base, out, maxTokens: 300, aggregation: how });
      const pd = openActivationStore(out).readProbeData('blocks.0.mlp.hook_post');
      expect(pd.nRows).toBe(openActivationStore(out).manifest.total_sequences);
      for (let row = 0; row < pd.nRows; row++) {
        const s = seqs.get(pd.seqIds[row]!)!;
        expect(pd.positions[row]).toBe(-1);
        for (const f of Object.keys(s.seqLabels!)) expect(pd.labels[f]![row]).toBe(s.seqLabels![f]);
        if (row === pd.nRows - 1) continue; // the last sequence is cut at --max-tokens
        for (let j = 0; j < D; j++) {
          const vals = s.ids.slice(1).map((_, k) => expected(s.ids, k + 1, j, 0));
          const want = how === 'mean' ? vals.reduce((a, b) => a + b) / vals.length : Math.max(...vals);
          expect(pd.X[row * D + j]).toBeCloseTo(want, 4);
        }
      }
    }
  });

  it('resumes a killed harvest to the same store as an uninterrupted one', async () => {
    const mk = () => makeDataset('text-props', gpt2Tokenizer(), { context: 20, seed: 0 });
    const out = join(tmp, 'killed');
    await expect(harvestModel(new FakeLM({ failAfter: 4 }), mk(), ['hook_embed'], { ...base, out, maxTokens: 400 })).rejects.toThrow('killed');
    expect(() => openActivationStore(out)).toThrow(/partial/);
    const done = openActivationStore(out, { allowPartial: true }).manifest.chunks.length;
    expect(done).toBeGreaterThan(0);
    const lm = new FakeLM();
    const r = await harvestModel(lm, mk(), ['hook_embed'], { ...base, out, maxTokens: 400 });
    expect(r.resumedFromChunk).toBe(done);
    const ref = join(tmp, 'unkilled');
    await harvestModel(new FakeLM(), mk(), ['hook_embed'], { ...base, out: ref, maxTokens: 400 });
    const a = openActivationStore(out).readProbeData('hook_embed');
    const b = openActivationStore(ref).readProbeData('hook_embed');
    expect(a.nRows).toBe(400);
    expect(a.X).toEqual(b.X);
    expect(a.seqIds).toEqual(b.seqIds);
    expect(a.labels).toEqual(b.labels);
    const again = await harvestModel(new FakeLM(), mk(), ['hook_embed'], { ...base, out, maxTokens: 400 });
    expect(again.alreadyComplete).toBe(true);
    await expect(harvestModel(new FakeLM(), mk(), ['hook_embed'], { ...base, out, maxTokens: 400, dtype: 'f16' }))
      .rejects.toThrow(/different config \(dtype: "f32" -> "f16".*--overwrite/);
    const over = await harvestModel(new FakeLM(), mk(), ['hook_embed'], { ...base, out, maxTokens: 400, dtype: 'u8', overwrite: true });
    expect(over.manifest.dtype).toBe('u8');
    expect(over.resumedFromChunk).toBe(0);
  });

  it('a resume inside a batch group is byte-identical to an uninterrupted run (issue 19 case 10)', async () => {
    const mk = () => makeDataset('text-props', gpt2Tokenizer(), { context: 20, seed: 0 });
    const o = { ...base, batch: 4, chunkMb: 0.0002, maxTokens: 300 };
    const ref = join(tmp, 'group-ref');
    await harvestModel(new FakeLM({ batchNoise: true }), mk(), ['hook_embed'], { ...o, out: ref });
    let resumedMidGroup = 0;
    for (const failAfter of [1, 2, 3, 5]) {
      const out = join(tmp, `group-${failAfter}`);
      await expect(harvestModel(new FakeLM({ batchNoise: true, failAfter }), mk(), ['hook_embed'], { ...o, out })).rejects.toThrow('killed');
      const seqs = openActivationStore(out, { allowPartial: true }).manifest.total_sequences;
      if (seqs % 4 !== 0) resumedMidGroup++;
      await harvestModel(new FakeLM({ batchNoise: true }), mk(), ['hook_embed'], { ...o, out });
      const a = openActivationStore(out).readProbeData('hook_embed');
      const b = openActivationStore(ref).readProbeData('hook_embed');
      expect(Buffer.from(a.X.buffer).equals(Buffer.from(b.X.buffer)), `killed after ${failAfter} forwards (${seqs} sequences stored)`).toBe(true);
      expect(a.seqIds).toEqual(b.seqIds);
    }
    expect(resumedMidGroup).toBeGreaterThan(0);
  });

  it('a store made chunk by chunk, each chunk on its own (the queue workers\' path), is the local store byte for byte', async () => {
    const mk = () => makeDataset('text-props', gpt2Tokenizer(), { context: 20, seed: 0 });
    // Batches of 4 sequences, chunks of 3 (41 rows and up): chunk boundaries fall inside batches; batchNoise makes a row's
    // floats depend on its batch's members, so a chunk forwarded in other batches would differ.
    const o = { ...base, batch: 4, chunkMb: 0.0016, maxTokens: 300, dtype: 'f16' as const };
    const ref = join(tmp, 'chunks-ref');
    await harvestModel(new FakeLM({ batchNoise: true }), mk(), ['hook_embed', 'blocks.1.mlp.hook_post'], { ...o, out: ref });
    const out = join(tmp, 'chunks-remote');
    // Killed after two forwards, then finished remotely: the plan skips the chunks already in the store.
    await expect(harvestModel(new FakeLM({ batchNoise: true, failAfter: 2 }), mk(), ['hook_embed', 'blocks.1.mlp.hook_post'], { ...o, out })).rejects.toThrow('killed');
    const had = openActivationStore(out, { allowPartial: true }).manifest.chunks.length;
    let made = 0;
    const remote: RemoteChunks = {
      run: async ({ plan, store, append, chunkDone }) => {
        const chunks = planChunks(mk(), plan, store);
        expect(chunks[0]!.index).toBe(had);
        // Made last to first, each by a fresh model and dataset, as independent workers would.
        const rows = new Map<number, SequenceRows[]>();
        for (const c of [...chunks].reverse()) {
          const lm = new FakeLM({ batchNoise: true });
          rows.set(c.index, await harvestChunk(mk(), plan, batchForward(lm, undefined, plan.names), c));
          made++;
        }
        for (const c of chunks) {
          for (const seq of rows.get(c.index)!) append(seq);
          chunkDone(c.index);
        }
      },
      manifest: () => ({ made }),
    };
    const r = await harvestModel(new FakeLM({ batchNoise: true }), mk(), ['hook_embed', 'blocks.1.mlp.hook_post'], { ...o, out, remote });
    expect(r.resumedFromChunk).toBe(had);
    const all = r.manifest.chunks.length;
    expect(made).toBe(all - had);
    expect(all).toBeGreaterThan(had + 3);
    // The run manifest differs (timings, the remote's record); the run lock is still held by this process
    // for `out` (the killed run above ran in-process, where a crash does not reach the exit hook).
    const files = (root: string) => (readdirSync(root, { recursive: true }) as string[])
      .filter((f) => f !== 'manifest.json' && f !== '.lock' && statSync(join(root, f)).isFile()).sort();
    expect(files(out)).toEqual(files(ref));
    for (const f of files(ref)) expect(readFileSync(join(out, f)).equals(readFileSync(join(ref, f))), f).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).queue).toEqual({ made: all - had });
  });

  it('rejects bad hooks, bad flags and non-finite activations with clear errors', async () => {
    const ds = () => makeDataset('brown-pos', gpt2Tokenizer(), { context: 16, seed: 0 });
    const o = { ...base, out: join(tmp, 'bad'), maxTokens: 50 };
    await expect(harvestModel(new FakeLM(), ds(), ['blocks.*.mlp.hook_pre'], o))
      .rejects.toThrow(/--hooks 'blocks\.\*\.mlp\.hook_pre' matches no hook; valid: hook_embed, blocks\.\*\.mlp\.hook_post, blocks\.\*\.attn\.hook_pattern/);
    await expect(harvestModel(new FakeLM(), ds(), ['blocks.0.attn.hook_pattern'], o)).rejects.toThrow(/not one row per token/);
    await expect(harvestModel(new FakeLM(), ds(), ['hook_embed'], { ...o, maxTokens: 0 })).rejects.toThrow(/--max-tokens must be >= 1/);
    await expect(harvestModel(new FakeLM(), ds(), ['hook_embed'], { ...o, aggregation: 'mean' })).rejects.toThrow(/--aggregation mean needs a sequence-level dataset/);
    const long = makeDataset('brown-pos', gpt2Tokenizer(), { context: 128, seed: 0 });
    await expect(harvestModel(new FakeLM(), long, ['hook_embed'], o)).rejects.toThrow(/--context 128 exceeds the model's context length 64/);
    await expect(harvestModel(new FakeLM({ nan: true }), ds(), ['blocks.0.mlp.hook_post'], { ...o, out: join(tmp, 'nan') }))
      .rejects.toThrow(/non-finite activation \(NaN\) at hook blocks\.0\.mlp\.hook_post, seq_id \d+, position 1/);
  });
});

describe('harvestToy', () => {
  it('keeps every instance apart with its own labels, and matches the toy weights where no feature is active', async () => {
    const toyDir = join(tmp, 'toy');
    const r = await trainToy({ model: 'relu-hidden', features: 5, hidden: 3, instances: 2, feature_prob: [0.4, 0.05], steps: 20, batch: 64 });
    writeToyRun(toyDir, r);
    const out = join(tmp, 'toy-harvest');
    await harvestToy(toyDir, { out, seed: 1, maxTokens: 3000, batch: 500, silent: true, chunkMb: 0.001 });
    const store = openActivationStore(out);
    expect(store.hooks).toEqual(['instance.0.hook_neurons', 'instance.1.hook_neurons']);
    expect(store.features).toEqual(['feature_0', 'feature_1', 'feature_2', 'feature_3', 'feature_4']);
    const insts = JSON.parse(readFileSync(join(toyDir, 'instances.json'), 'utf8')) as { feature_prob: number; b1: number[] }[];
    for (const i of [0, 1]) {
      const pd = store.readProbeData(`instance.${i}.hook_neurons`);
      expect(pd.toy).toEqual({ runDir: toyDir, instance: i });
      expect(pd.nRows).toBe(3000);
      let on = 0, quiet = 0, worst = 0;
      for (let row = 0; row < pd.nRows; row++) {
        const active = store.features.some((f) => pd.labels[f]![row]);
        on += store.features.filter((f) => pd.labels[f]![row]).length;
        if (!active) {
          quiet++;
          for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(pd.X[row * 3 + k]! - Math.max(0, insts[i]!.b1[k]!)));
        }
      }
      // x = 0 gives ReLU(b1); the active fraction matches the instance's feature probability (3 sigma).
      expect(quiet).toBeGreaterThan(0);
      expect(worst).toBeLessThan(1e-6);
      const p = insts[i]!.feature_prob;
      expect(Math.abs(on / (3000 * 5) - p)).toBeLessThan(3 * Math.sqrt((p * (1 - p)) / 15000) + 1e-3);
    }
    const one = await harvestToy(toyDir, { out: join(tmp, 'toy-one'), seed: 1, maxTokens: 100, instance: 1, silent: true });
    expect(one.manifest.hooks.map((h) => h.name)).toEqual(['instance.1.hook_neurons']);
    await expect(harvestToy(toyDir, { out: join(tmp, 'toy-bad'), seed: 1, maxTokens: 100, instance: 5 })).rejects.toThrow(/--instance must be in 0\.\.1/);
    await expect(harvestToy(toyDir, { out: join(tmp, 'toy-bad'), seed: 1, maxTokens: 100, hooks: ['instance.*.hook_hidden'] }))
      .rejects.toThrow(/valid: instance\.\*\.hook_neurons/);
  });
});
