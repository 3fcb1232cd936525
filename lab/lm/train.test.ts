import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../activations/index.ts';
import { initBackend, tf } from '../core/backend.ts';
import { readManifest } from '../core/index.ts';
import { readBrown } from '../../activations/index.ts';
import { buildBrownCorpus, buildBrownFactsCorpus } from './corpus.ts';
import { kbQueries, makeKnowledgeBase, writeKb } from './facts.ts';
import { evaluateGpt2, evaluateLanguageModel } from './evaluate.ts';
import { finalHidden } from './hidden.ts';
import { headLogits } from './head.ts';
import { evaluateCheckpoint, runLmTraining } from './run.ts';
import { trainLm, type LmTrainConfig } from './train.ts';
import { flatten } from './windows.ts';
import { batchGrads } from './grads.ts';
import { createGpt2 } from '../../activations/index.ts';
import { splitDocuments } from './split.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lm-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('wasm');
});

// Forty short documents (every genre) keep the run to seconds while exercising the real pipeline.
const docs = readBrown()
  .filter((_, i) => i % 12 === 0)
  .map((d) => ({ ...d, text: d.text.slice(0, 1500) }));

const cfg: LmTrainConfig = {
  layers: 1,
  dModel: 32,
  heads: 2,
  context: 32,
  steps: 30,
  batch: 4,
  lr: 1e-2,
  minLrRatio: 0.1,
  warmup: 3,
  weightDecay: 0.1,
  clip: 1,
  seed: 3,
  minutes: 5,
  evalEvery: 10,
  evalWindows: 4,
  checkpointAt: [0, 0.5],
  dtype: 'f32',
};

describe('lab lm training', () => {
  const corpus = buildBrownCorpus({ seed: 0, minCount: 2, docs });

  it('every variable gets its gradient, equal to a central finite difference of the loss', () => {
    // float64 is not available on wasm, so the check uses a large step on a small model; the bug this
    // guards against (attention computed on host copies) gives exactly zero for ln_1 and c_attn.
    const model = createGpt2({ nLayers: 2, dModel: 16, nHeads: 2, vocabSize: 40, contextLength: 8 }, undefined, { seed: 5 });
    const rows = 3;
    const ctx = 8;
    const inputs = Int32Array.from({ length: rows * ctx }, (_, i) => (i * 7 + 3) % 40);
    const targets = Int32Array.from({ length: rows * ctx }, (_, i) => (i * 11 + 1) % 40);
    const lossAt = () => {
      const r = batchGrads(model, inputs, targets, rows, ctx);
      const v = r.loss.dataSync()[0]!;
      tf.dispose([r.loss, ...Object.values(r.grads)]);
      return v;
    };
    lossAt(); // the first call may create lasting tensors (e.g. the transposed-matMul setup)
    const before = tf.memory().numTensors;
    lossAt();
    lossAt();
    expect(tf.memory().numTensors, 'a training step must not leave tensors behind').toBe(before);
    const { loss, grads } = batchGrads(model, inputs, targets, rows, ctx);
    loss.dispose();
    expect(Object.keys(grads).sort()).toEqual([...model.variables.keys()].sort());
    const h = 1e-2;
    for (const [name, v] of model.variables) {
      const g = grads[name]!.dataSync() as Float32Array;
      // The entry with the largest gradient: it must be clearly nonzero and match the difference quotient.
      let j = 0;
      for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[j]!)) j = i;
      expect(Math.abs(g[j]!), name).toBeGreaterThan(1e-4);
      const base = v.dataSync().slice() as Float32Array;
      const at = (delta: number) => {
        const w = base.slice();
        w[j] += delta;
        v.assign(tf.tensor(w, v.shape));
        return lossAt();
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(base, v.shape));
      expect(Math.abs(fd - g[j]!), `${name}[${j}]: autodiff ${g[j]} vs finite difference ${fd}`).toBeLessThan(0.05 * Math.abs(g[j]!) + 2e-4);
    }
    tf.dispose(Object.values(grads));
    model.dispose();
  });

  it('lowers the loss within a few steps, and the saved checkpoint reloads with identical logits', async () => {
    const out = join(tmp, 'tiny');
    const r = await trainLm(corpus, cfg, out, { silent: true });
    expect(r.stepsDone).toBe(cfg.steps);
    const first = r.history.slice(0, 3).reduce((s, h) => s + h.train_loss, 0) / 3;
    const last = r.history.slice(-3).reduce((s, h) => s + h.train_loss, 0) / 3;
    expect(last).toBeLessThan(first - 0.5);
    expect(r.heldOut.nats_per_token).toBeLessThan(Math.log(corpus.vocabSize));
    expect(r.checkpoints.map((c) => c.step)).toEqual([0, 15]);

    const { saveCheckpoint } = await import('./train.ts');
    saveCheckpoint(out, r.model, corpus.tokenizerJson, 'f32');
    const loaded = await loadModel(out);
    const ids = tf.tensor2d([corpus.heldOutStreams[0]!.slice(0, cfg.context)], [1, cfg.context], 'int32');
    const mine = tf.tidy(() => headLogits(tf.reshape(finalHidden(r.model, ids), [cfg.context, cfg.dModel]) as tf.Tensor2D, r.model.variables.get('transformer.wte.weight')! as tf.Tensor as tf.Tensor2D));
    const theirs = loaded.forward(ids).logits;
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(mine, tf.reshape(theirs, mine.shape)))).dataSync()[0]!);
    expect(diff).toBeLessThan(1e-4);
    expect(loaded.tokenizer.encode(docs[0]!.text)).toEqual(corpus.tokenizer.encode(docs[0]!.text));

    // Both evaluation paths (training head, loaded forward) score the same targets the same way.
    const held = flatten(corpus.heldOutStreams);
    const a = evaluateGpt2(r.model, held);
    const b = evaluateLanguageModel(loaded, held);
    expect(a.targets).toBe(corpus.heldOutStreams.reduce((s, x) => s + x.length - 1, 0));
    expect(b.targets).toBe(a.targets);
    expect(Math.abs(a.nats - b.nats) / a.targets).toBeLessThan(1e-4);
    loaded.dispose();
    r.model.dispose();
  });

  it('brown+facts trains on Brown and the biographies, and is held out on Brown alone', async () => {
    const kb = makeKnowledgeBase({ subjects: 5, relations: 2, seed: 2 });
    const mixed = buildBrownFactsCorpus(kb, { seed: 0, minCount: 2, copies: 3, docs });
    const { train, heldOut } = splitDocuments(docs, 0.05, 0);
    expect(mixed.train.map((d) => d.id)).toEqual([...train.map((d) => d.id), ...Array.from({ length: 15 }, (_, i) => `bio-${i}`)]);
    // The same held-out documents and bytes as a Brown-only run, so bits per byte compare.
    expect(mixed.heldOut.map((d) => d.id)).toEqual(heldOut.map((d) => d.id));
    expect(mixed.heldOutBytes).toBe(corpus.heldOutBytes);
    expect(mixed.queries).toEqual(kbQueries(kb));
    for (const [i, d] of mixed.train.entries()) expect(mixed.tokenizer.decode(mixed.trainStreams[i]!.slice(1))).toBe(d.text);
    const kbFile = join(tmp, 'kb.jsonl');
    writeKb(kbFile, kb);
    const out = join(tmp, 'mixed');
    const s = await runLmTraining({ out, minCount: 2, corpus: 'brown+facts', kb: kbFile, copies: 3, train: { ...cfg, steps: 4, evalEvery: 0, checkpointAt: [] }, silent: true, docs });
    const m = readManifest(out, { kind: 'lm' });
    expect(m.config).toMatchObject({ corpus: 'brown+facts', kb: kbFile, copies: 3 });
    // The run splits with its own seed (cfg.seed).
    const runHeldOut = splitDocuments(docs, 0.05, cfg.seed).heldOut.map((d) => d.id);
    expect(m.held_out_documents).toEqual(runHeldOut);
    expect(JSON.parse(readFileSync(join(out, 'held-out-documents.json'), 'utf8')).documents).toEqual(runHeldOut);
    expect(s.facts_recall!.queries).toBe(kbQueries(kb).length);
    expect(s.held_out.model.bits_per_byte).toBeGreaterThan(0);
  });

  it('a whole run writes the checkpoint, the intermediate ones and a complete manifest with all three losses', async () => {
    const out = join(tmp, 'run');
    const s = await runLmTraining({ out, minCount: 2, train: { ...cfg, steps: 6, evalEvery: 0 }, silent: true, docs });
    const m = readManifest(out, { kind: 'lm' });
    const held = m.held_out as Record<string, { nats_per_token: number; bits_per_byte: number; targets: number }>;
    for (const k of ['model', 'unigram', 'bigram']) {
      expect(held[k]!.targets).toBe(s.held_out.model.targets);
      expect(held[k]!.bits_per_byte).toBeGreaterThan(0);
    }
    expect(m.files).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'history.csv', 'held-out-documents.json', 'checkpoints/step-0/model.safetensors']));
  });

  it('an existing model is refused without overwrite and stays whole until the new one is complete (issue 19 case 3)', async () => {
    const out = join(tmp, 'swap');
    const small = { ...cfg, steps: 2, evalEvery: 0, checkpointAt: [] };
    await runLmTraining({ out, minCount: 2, train: small, silent: true, docs });
    writeFileSync(join(out, 'MODEL.md'), 'notes the run did not write');
    const before = readFileSync(join(out, 'model.safetensors'));
    const manifest = readFileSync(join(out, 'manifest.json'), 'utf8');
    await expect(runLmTraining({ out, minCount: 2, train: { ...small, seed: 1 }, silent: true, docs })).rejects.toThrow(/different config \(seed: 3 -> 1\): pass --overwrite/);
    // A run that dies after it started (here: 3 heads cannot split a width of 32) leaves the old model as it was.
    await expect(runLmTraining({ out, minCount: 2, train: { ...small, seed: 1, heads: 3 }, silent: true, docs, overwrite: true })).rejects.toThrow();
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(manifest);
    expect(readFileSync(join(out, 'model.safetensors')).equals(before)).toBe(true);
    expect(readManifest(`${out}.partial`, { allowPartial: true }).status).toBe('running');
    const s = await runLmTraining({ out, minCount: 2, train: { ...small, seed: 1 }, silent: true, docs, overwrite: true });
    expect(s.out).toBe(out);
    expect(readManifest(out, { kind: 'lm' }).seed).toBe(1);
    expect(readFileSync(join(out, 'MODEL.md'), 'utf8')).toBe('notes the run did not write');
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(readdirSync(tmp).filter((n) => n.startsWith('swap'))).toEqual(['swap']);
    expect(existsSync(join(out, '.lock'))).toBe(false);
  });

  it('two gradient threads (half the batch each, row-weighted mean) train the same model as one', async () => {
    const short = { ...cfg, steps: 4, evalEvery: 0, checkpointAt: [] };
    const one = await trainLm(corpus, { ...short, threads: 1 }, join(tmp, 't1'), { silent: true });
    const two = await trainLm(corpus, { ...short, threads: 2, batch: 5 }, join(tmp, 't2'), { silent: true });
    const ref = await trainLm(corpus, { ...short, threads: 1, batch: 5 }, join(tmp, 't3'), { silent: true });
    expect(two.history.length).toBe(4);
    for (let i = 0; i < 4; i++) expect(Math.abs(two.history[i]!.train_loss - ref.history[i]!.train_loss)).toBeLessThan(1e-4);
    // Same data, different batch size: a different model, so the comparison above can fail.
    expect(Math.abs(one.history[3]!.train_loss - ref.history[3]!.train_loss)).toBeGreaterThan(1e-4);
    for (const [name, v] of two.model.variables) {
      const w = ref.model.variables.get(name)!;
      // Adam moves a weight by about lr * sign(g) where g is near zero, so float rounding in the two
      // threads' gradient sum can show up at a small fraction of lr (0.01 here) after a few steps.
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(v, w))).dataSync()[0]!)).toBeLessThan(1e-3);
    }
    for (const r of [one, two, ref]) r.model.dispose();
  });

  it('lab lm eval scores a checkpoint on the held-out split named by its run manifest', async () => {
    const out = join(tmp, 'run', 'checkpoints', 'step-0');
    const r = await evaluateCheckpoint(out, { docs });
    expect(r.seed).toBe(cfg.seed);
    const { heldOut } = splitDocuments(docs, 0.05, cfg.seed);
    expect(r.bytes).toBe(heldOut.reduce((s, d) => s + Buffer.byteLength(d.text), 0));
    // An untrained model is near-uniform over its vocabulary.
    const vocab = (await loadModel(out)).config.vocabSize;
    expect(Math.abs(r.nats_per_token - Math.log(vocab))).toBeLessThan(0.5);
  });
});
