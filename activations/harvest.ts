/**
 * Harvesting: run a source over its inputs and write every asked-for hook into an activation store.
 * Two sources: a language model over a feature dataset (batches of sequences, one forward each,
 * tensors freed per batch), and a toy model from activations/toy over samples of its own data generator
 * (labels = which features are active; every instance kept apart). Memory stays at one chunk plus
 * one batch; a rerun resumes after the last whole chunk or refuses a different config.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { activeBackend, tf } from '../lab/core/backend.ts';
import { InputError, UsageError } from '../lab/core/index.ts';
import { Progress } from '../lab/core/index.ts';
import { Rng } from '../lab/core/index.ts';
import { RunDir, lockRunDir, prepareRunDir, readManifest, unlockRunDir } from '../lab/core/index.ts';
import { loadToyRun, sampleToyBatch, toyHidden, type ToyRun } from './toy/index.ts';
import { expandHookGlobs } from './models/index.ts';
import { ForwardPool } from './models/forward-pool.ts';
import { OnnxForward } from './models/onnx/engine.ts';
import { hookRowShape } from './models/onnx/graph.ts';
import { TransformerModel } from './models/load.ts';
import { sequenceLevelDatasets, type TextDataset } from './datasets/index.ts';
import { STORE_MANIFEST, StoreWriter, type Aggregation, type StoreHook, type StoreInit, type StoreManifest } from './store/index.ts';
import type { Quantisation, StoreDtype } from './store/quantize.ts';
import type { FeatureDataset, HookName, LabelledSequence, LanguageModel } from './types.ts';

export interface HarvestOptions {
  out: string;
  seed: number;
  /** Tokens to read (BOS excluded; the last sequence is cut to fit); toy sources: samples. */
  maxTokens: number;
  dtype?: StoreDtype;
  quantisation?: Exclude<Quantisation, 'none'>;
  /** Default: 'none' for token-level datasets, 'mean' for sequence-level ones. */
  aggregation?: Aggregation;
  /** Sequences (toy: samples) per forward pass. */
  batch?: number;
  /** Chunk size budget in MiB of f32 values over all hooks. */
  chunkMb?: number;
  overwrite?: boolean;
  silent?: boolean;
  command?: string;
  /**
   * Threads that run the forward passes (activations/models/forward-pool.ts), a batch split between them:
   * this thread, on the model passed in, and threads - 1 worker threads, each with its own backend and copy
   * of the model loaded from the model's folder (one copy of the weights per forward thread); default 1
   * (this thread alone).
   */
  threads?: number;
  /**
   * Model sources: what computes the forward. 'tfjs' (default): the model's own tfjs forward, on this
   * thread and threads - 1 workers. 'onnx': the same forward as one graph on ONNX Runtime's native CPU
   * kernels (activations/models/onnx), one session with `threads` native threads and one copy of the
   * weights; its floats differ from tfjs' by rounding, so the engine is part of the store's config.
   */
  engine?: HarvestEngine;
  /** Model sources: make the chunks elsewhere (lab/queue's workers); the store is the same bytes. */
  remote?: RemoteChunks;
  /**
   * Store an encoding of one hook instead of its values (activations/sae's saeHookEncoder: SAE latents).
   * The source runs only that hook; each batch's token rows are encoded together, before any aggregation.
   */
  encoder?: HookEncoder;
}

export type HarvestEngine = 'tfjs' | 'onnx';

/** A map from one hook's rows to other rows (an SAE's latent activations), applied while harvesting. */
export interface HookEncoder {
  /** The source hook read. */
  hook: HookName;
  /** Width the hook must have. */
  inputWidth: number;
  /** The stored hook's name and width. */
  name: string;
  width: number;
  /** Recorded under this key in the store's config and model (a different encoder is another store). */
  kind: string;
  info: Record<string, unknown>;
  /** The file that defines it, named in errors (an SAE's cfg.json). */
  file: string;
  /** rows x width codes from rows x inputWidth values. */
  encode(x: Float32Array, rows: number): Float32Array;
}

/** The source hooks to run for an encoder (only its own; --hooks may name it, nothing else). */
function encoderHooks(enc: HookEncoder, patterns: string[] | undefined, available: HookName[]): HookName[] {
  if (!available.includes(enc.hook)) {
    throw new InputError(`${enc.file} encodes hook '${enc.hook}', which this source does not have (hooks look like: ${[...new Set(available.map((n) => n.replace(/\.\d+\./, '.*.')))].join(', ')})`, enc.file);
  }
  if (patterns !== undefined) {
    const asked = matchHooks(patterns, available);
    if (asked.length !== 1 || asked[0] !== enc.hook) {
      throw new UsageError(`--hooks ${patterns.join(',')}: with an encoder (--sae) the store holds only its hook '${enc.hook}'; drop --hooks or name that hook`, 'hooks');
    }
  }
  return [enc.hook];
}

/** Refuses an encoder whose input width differs from its hook's, naming the encoder's file. */
function checkEncoderWidth(enc: HookEncoder, width: number): void {
  if (width !== enc.inputWidth) throw new InputError(`${enc.file}: d_in ${enc.inputWidth} differs from the width of '${enc.hook}' (${width})`, enc.file);
}

export interface HarvestResult {
  dir: string;
  manifest: StoreManifest;
  /** True when the store was already complete and nothing ran. */
  alreadyComplete: boolean;
  resumedFromChunk: number;
  seconds: number;
  /** Tokens (samples) harvested by this call per second. */
  tokensPerSecond: number;
}

const ROW_HOOKS_ONLY = /(hook_pattern|hook_attn_scores)$/;

/** Expands hook patterns against the names a source offers; unknown ones list the valid names. */
export function matchHooks(patterns: string[], available: HookName[], flag = 'hooks'): HookName[] {
  if (patterns.length === 0 || patterns.some((p) => p.trim() === '')) {
    throw new UsageError(`--${flag} needs at least one hook name or glob (got '${patterns.join(',')}')`, flag);
  }
  return expandHookGlobs(patterns, available, (p) => {
    const shapes = [...new Set(available.map((n) => n.replace(/\.\d+\./, '.*.')))];
    return new UsageError(`--${flag} '${p}' matches no hook; valid: ${shapes.join(', ')} (* matches anything)`, flag);
  });
}

function chunkRows(hooks: StoreHook[], chunkMb: number, minRows: number): number {
  const perRow = hooks.reduce((s, h) => s + h.n_neurons, 0) * 4;
  return Math.max(minRows, Math.floor((chunkMb * 1024 * 1024) / Math.max(1, perRow)));
}

/**
 * Opens the store under the run directory's lock. A complete store whose run manifest is not complete
 * (killed between the two writes) gets its manifest finished here, so the run reads and reruns cleanly.
 */
/**
 * Opens a store run in `out` the way every store writer must (the harvester, and activations/sae's latent
 * encoder): lock the folder, refuse a folder of another kind or config unless asked, resume or refuse the
 * store, repair a complete store whose manifest a kill left running. No `run` means the store is complete
 * (and unlocked); otherwise the caller writes, then finishes the run and unlocks `out`.
 */
export function beginStoreRun(out: string, init: StoreInit, rows: number, opts: Pick<HarvestOptions, 'seed' | 'command' | 'overwrite' | 'engine'>): { writer: StoreWriter; run?: RunDir } {
  lockRunDir(out, opts.command);
  try {
    // A store.json is checked by the writer (same config resumes, another is refused); without one the
    // folder must be empty, a harvest, or replaced with --overwrite.
    if (!existsSync(join(out, STORE_MANIFEST))) prepareRunDir(out, { kind: 'harvest', config: init.config, overwrite: opts.overwrite });
    const writer = StoreWriter.open(out, init, { chunkRows: rows, overwrite: opts.overwrite });
    const runOpts = {
      kind: 'harvest', seed: opts.seed, config: init.config, command: opts.command, backend: activeBackend(), prepared: true,
      extraVersions: opts.engine === 'onnx' ? ['onnxruntime-node'] : [],
    };
    if (writer.complete) {
      const m = existsSync(join(out, 'manifest.json')) ? readManifest(out, { allowPartial: true }) : undefined;
      if (m?.status !== 'complete') finishRun(RunDir.begin(out, runOpts), writer.manifest, 0, writer.manifest.chunks.length, 1, { repaired: true });
      unlockRunDir(out);
      return { writer };
    }
    return { writer, run: RunDir.begin(out, runOpts) };
  } catch (err) {
    unlockRunDir(out);
    throw err;
  }
}

function finishRun(run: RunDir, manifest: StoreManifest, seconds: number, resumedFromChunk: number, forwardThreads: number, extra: Record<string, unknown> = {}): void {
  run.manifest.files = ['store.json', 'acts/', 'rows/', 'labels/'];
  run.timing('harvest_s', seconds);
  run.finish({ rows: manifest.total_rows, tokens: manifest.total_tokens, sequences: manifest.total_sequences, resumed_from_chunk: resumedFromChunk, forward_threads: forwardThreads, ...extra });
}

function end(writer: StoreWriter, run: RunDir | undefined, t0: number, done: number, resumedFromChunk: number, forwardThreads = 1, extra: Record<string, unknown> = {}): HarvestResult {
  const seconds = (performance.now() - t0) / 1000;
  if (!run) return { dir: writer.dir, manifest: writer.manifest, alreadyComplete: true, resumedFromChunk, seconds, tokensPerSecond: 0 };
  const manifest = writer.finish();
  finishRun(run, manifest, seconds, resumedFromChunk, forwardThreads, extra);
  unlockRunDir(writer.dir);
  return { dir: writer.dir, manifest, alreadyComplete: false, resumedFromChunk, seconds, tokensPerSecond: done / Math.max(seconds, 1e-9) };
}

/**
 * Everything that fixes a model harvest's store, derived from the model, the dataset and the options alone:
 * the local run, the queue's coordinator and every queue worker derive it the same way, and the store
 * config (hashed in store.json) says whether two of them agree.
 */
export interface ModelHarvestPlan {
  names: HookName[];
  hooks: StoreHook[];
  init: StoreInit;
  aggregation: Aggregation;
  bos: boolean;
  bosId?: number;
  padId: number;
  features: string[];
  maxTokens: number;
  /** Sequences per forward pass; batches are fixed groups of this many sequences counted from the start. */
  batchSize: number;
  /** The writer's chunk size: a chunk closes at the first sequence boundary at or past it. */
  chunkRows: number;
  contextLength: number;
  /** Stores this encoding of the one source hook (`names`) instead of its values (lab harvest --sae). */
  encoder?: HookEncoder;
}

export function planModelHarvest(model: LanguageModel, dataset: FeatureDataset, hookPatterns: string[] | undefined, opts: HarvestOptions): ModelHarvestPlan {
  if (!(opts.maxTokens >= 1)) throw new UsageError(`--max-tokens must be >= 1, got ${opts.maxTokens}`, 'max-tokens');
  const aggregation = opts.aggregation ?? (dataset.level === 'sequence' ? 'mean' : 'none');
  if (aggregation !== 'none' && dataset.level !== 'sequence') {
    throw new UsageError(`--aggregation ${aggregation} needs a sequence-level dataset (${sequenceLevelDatasets().join(', ')}); ${dataset.name} labels tokens`, 'aggregation');
  }
  const enc = opts.encoder;
  const names = enc ? encoderHooks(enc, hookPatterns, model.hookNames()) : matchHooks(hookPatterns ?? [], model.hookNames());
  const bad = names.filter((n) => ROW_HOOKS_ONLY.test(n));
  if (bad.length) throw new UsageError(`--hooks: ${bad.join(', ')} are [batch, head, query, key], not one row per token; the store keeps per-token rows`, 'hooks');
  const bos = (dataset as Partial<TextDataset>).bos === true && model.tokenizer.bosId !== undefined;
  const bosId = model.tokenizer.bosId;
  const padId = bosId ?? 0;

  // Each hook's per-token shape: the onnx engine's graph says it (a tfjs forward here would only pack
  // weights the harvest never uses on tfjs: 0.8-1.5 s for GPT-2 small); else one 1-token forward.
  const shapes = opts.engine === 'onnx' && model instanceof TransformerModel ? names.map((n) => hookRowShape(model.config, n)) : probeShapes(model, names, padId);
  const sourceHooks: StoreHook[] = names.map((name, i) => {
    const shape = shapes[i]!;
    return { name, n_neurons: shape.reduce((a, b) => a * b, 1), row_shape: shape };
  });
  if (enc) checkEncoderWidth(enc, sourceHooks[0]!.n_neurons);
  const hooks: StoreHook[] = enc ? [{ name: enc.name, n_neurons: enc.width, row_shape: [enc.width] }] : sourceHooks;

  const level = dataset.level;
  const features = dataset.features;
  const dcfg = (dataset as Partial<TextDataset>).config ?? { name: dataset.name };
  const context = typeof dcfg.context === 'number' ? dcfg.context : undefined;
  if (context !== undefined && context > model.config.contextLength) {
    throw new UsageError(`--context ${context} exceeds the model's context length ${model.config.contextLength}`, 'context');
  }
  const dtype = opts.dtype ?? 'f32';
  const quantisation: Quantisation = dtype === 'u8' ? (opts.quantisation ?? 'per_neuron') : 'none';
  const config = {
    source: 'model', model_dir: resolve(model.source.dir), model_checksum: model.source.checksum, dataset: dcfg,
    hooks: names, aggregation, dtype, quantisation, max_tokens: opts.maxTokens, seed: opts.seed, ...(enc ? { [enc.kind]: enc.info } : {}),
    // Only when not the default, so a tfjs store's config (and hash) is what it was before engines existed.
    ...(opts.engine === 'onnx' ? { engine: 'onnx' } : {}),
  };
  const init: StoreInit = {
    config,
    model: { source: 'model', dir: resolve(model.source.dir), checksum: model.source.checksum, ...model.config, ...(enc ? { [enc.kind]: enc.info } : {}) },
    dataset: { name: dataset.name, level, features, label_columns: features },
    seed: opts.seed, aggregation, dtype, quantisation, hooks,
  };
  return {
    names, hooks, init, aggregation, bos, bosId, padId, features, maxTokens: opts.maxTokens, batchSize: opts.batch ?? 8,
    chunkRows: chunkRows(hooks, opts.chunkMb ?? 64, 1), contextLength: model.config.contextLength, encoder: enc,
  };
}

/** Each hook's per-token shape, from one 1-token forward. */
function probeShapes(model: LanguageModel, names: HookName[], padId: number): number[][] {
  const probe = tf.tidy(() => {
    const r = model.forward(tf.tensor2d([[padId]], [1, 1], 'int32'), { names, logits: false });
    return names.map((n) => {
      const t = r.cache.get(n);
      if (!t) throw new UsageError(`--hooks: the model did not produce '${n}'`, 'hooks');
      return t;
    });
  });
  const shapes = probe.map((t) => t.shape.slice(2));
  tf.dispose(probe);
  return shapes;
}

/** One sequence's rows as StoreWriter.appendSequence takes them. */
export interface SequenceRows {
  rows: number;
  seqIds: ArrayLike<number> | number;
  positions: ArrayLike<number>;
  tokenIds?: ArrayLike<number>;
  labels: Uint8Array;
  /** Float32, or f16 bits for an f16 store (the onnx engine's cast outputs). */
  values: (Float32Array | Uint16Array)[];
  tokens: number;
}

/**
 * The tokens a sequence adds (BOS excluded; the last one is cut to --max-tokens), after `tokens` so far;
 * shared by the harvest loop and the queue's chunk plan, so both cut the same sequences the same way.
 */
export function sequenceTake(plan: ModelHarvestPlan, seq: LabelledSequence, tokens: number, replay: boolean): { first: number; keep: number } {
  const first = plan.bos && seq.ids[0] === plan.bosId ? 1 : 0;
  const keep = replay ? seq.ids.length - first : Math.min(seq.ids.length - first, plan.maxTokens - tokens);
  if (keep > 0 && seq.ids.length > plan.contextLength) {
    throw new UsageError(`sequence ${seq.seqId} has ${seq.ids.length} tokens, more than the model's context ${plan.contextLength}: lower --context`, 'context');
  }
  return { first, keep };
}

/** One padded batch [B, T] in (`lengths`: each row's tokens, padding after), each hook's values [B, T, ...] out (f16 bits only where the plan stores them as they are). */
export type BatchForward = (flat: Int32Array, B: number, T: number, lengths: readonly number[]) => Promise<(Float32Array | Uint16Array)[]>;

/**
 * Which sequences to harvest, by ordinal (their place among the stored sequences): from `start`, with
 * `tokens` read before it, up to `end` (default: until --max-tokens or the dataset ends).
 */
export interface SequenceSpan {
  start: number;
  tokens: number;
  end?: number;
}

/**
 * The harvest loop: forwards the batches that hold the span's sequences and hands each sequence's rows to
 * `sink`, in order. Batches are fixed groups of --batch sequences counted from the start, whatever span is
 * asked for: a span starting inside a group forwards the group's earlier sequences again (and drops their
 * rows), one ending inside a group forwards the group's later ones (and drops theirs), so every batch has
 * the same members and padded length, and so the same floats, as in an uninterrupted local run. That is
 * what makes a resumed run, and a queue worker's chunk, byte-identical to a run from the start.
 * Returns the tokens read up to the span's end.
 */
export async function forwardSequences(
  dataset: FeatureDataset, plan: ModelHarvestPlan, forward: BatchForward, span: SequenceSpan,
  sink: (seq: SequenceRows) => void, onTokens?: (tokens: number) => void,
  /**
   * Hand the next batch to `forward` before the last one's rows go to `sink` (a forward that runs on
   * another thread, the onnx engine's, computes while this thread writes). The same rows, in the same
   * order, reach `sink` either way; a failure loses only batches not yet written, as without it.
   */
  lookahead = false,
): Promise<number> {
  const it = dataset.sequences()[Symbol.iterator]();
  const B = plan.batchSize;
  const groupStart = span.start - (span.start % B);
  for (let s = 0; s < groupStart; s++) if (it.next().done) break;
  let ord = groupStart;
  let tokens = span.tokens;
  const { hooks, features, aggregation, maxTokens } = plan;
  const F = features.length;
  const more = () => tokens < maxTokens || ord < span.start;
  let exhausted = false;
  let pending: Promise<void> | undefined;
  while (more() && !exhausted && (span.end === undefined || ord < span.end)) {
    const batch: { seqId: number; ids: number[]; first: number; seq: LabelledSequence; skip: boolean }[] = [];
    while (batch.length < B && more()) {
      const n = it.next();
      if (n.done) {
        exhausted = true;
        break;
      }
      const seq = n.value;
      const again = ord < span.start;
      const past = span.end !== undefined && ord >= span.end;
      const { first, keep } = sequenceTake(plan, seq, tokens, again);
      if (again) ord++;
      if (keep <= 0) continue;
      if (!again) ord++;
      batch.push({ seqId: seq.seqId, ids: seq.ids.slice(0, first + keep), first, seq, skip: again || past });
      if (!again) tokens += keep;
    }
    if (batch.length === 0) break;
    const T = Math.max(...batch.map((b) => b.ids.length));
    const flat = new Int32Array(batch.length * T).fill(plan.padId);
    batch.forEach((b, i) => flat.set(b.ids, i * T));
    const started = forward(flat, batch.length, T, batch.map((b) => b.ids.length));
    const tokensNow = tokens;
    if (!lookahead) {
      sinkBatch(batch, await started, T, tokensNow);
      continue;
    }
    if (pending) {
      try {
        await pending;
      } catch (err) {
        started.catch(() => undefined);
        throw err;
      }
    }
    pending = started.then((arrays) => sinkBatch(batch, arrays, T, tokensNow));
  }
  await pending;
  return tokens;

  function sinkBatch(batch: { seqId: number; ids: number[]; first: number; seq: LabelledSequence; skip: boolean }[], arrays: (Float32Array | Uint16Array)[], T: number, tokensNow: number): void {
    // With an encoder: the batch's kept token rows (no padding, no replayed sequence), encoded at once.
    const encoded = plan.encoder ? encodeBatch(plan.encoder, arrays[0] as Float32Array, batch, T) : undefined;
    for (let bi = 0, at = 0; bi < batch.length; bi++) {
      const b = batch[bi]!;
      if (b.skip) continue;
      const n = b.ids.length - b.first;
      const values = hooks.map((h, k) => {
        const d = h.n_neurons;
        const src = encoded ? encoded.subarray(at * d, (at + n) * d) : arrays[k]!.subarray((bi * T + b.first) * d, (bi * T + b.ids.length) * d);
        return aggregation === 'none' ? src : aggregate(src as Float32Array, n, d, aggregation);
      });
      at += n;
      const rows = aggregation === 'none' ? n : 1;
      const labels = new Uint8Array(rows * F);
      for (let j = 0; j < F; j++) {
        const tl = b.seq.tokenLabels?.[features[j]!];
        const sl = b.seq.seqLabels?.[features[j]!];
        for (let r = 0; r < rows; r++) labels[r * F + j] = tl && aggregation === 'none' ? tl[b.first + r]! : (sl ?? 0);
      }
      const positions = aggregation === 'none' ? Int32Array.from({ length: n }, (_, r) => b.first + r) : Int32Array.of(-1);
      const tokenIds = aggregation === 'none' ? b.ids.slice(b.first) : undefined;
      sink({ rows, seqIds: b.seqId, positions, tokenIds, labels, values, tokens: n });
    }
    onTokens?.(tokensNow);
  }
}

/**
 * Where a model harvest's chunks are made when not on this machine (lab/queue): called once the store is
 * open, with the chunks already in it; it hands every later chunk's sequences, in order, to `append`, and
 * calls `chunkDone` after each chunk's last one (which lists the chunk in store.json).
 */
export interface RemoteChunks {
  run(req: {
    plan: ModelHarvestPlan; store: StoreManifest; dir: string; forwardThreads: number;
    append: (seq: SequenceRows) => void; chunkDone: (index: number) => void; progress: (tokens: number) => void;
  }): Promise<void>;
  manifest(): Record<string, unknown>;
}

/** Harvests `hooks` (names or globs) of a language model over a dataset built with its tokenizer. */
/** With `opts.encoder`, only the encoder's hook, stored encoded (`hookPatterns` may be undefined then). */
export async function harvestModel(model: LanguageModel, dataset: FeatureDataset, hookPatterns: string[] | undefined, opts: HarvestOptions): Promise<HarvestResult> {
  const t0 = performance.now();
  if (opts.remote && opts.engine === 'onnx') throw new UsageError("--engine onnx runs locally; the queue's workers run the tfjs engine (drop --engine, or --queue)", 'engine');
  const plan = planModelHarvest(model, dataset, hookPatterns, opts);
  const { writer, run } = beginStoreRun(opts.out, plan.init, plan.chunkRows, opts);
  const resumedFromChunk = writer.manifest.chunks.length;
  if (!run) return end(writer, run, t0, 0, resumedFromChunk);
  const startTokens = writer.manifest.total_tokens;
  const progress = new Progress({ label: 'harvest', total: opts.maxTokens - startTokens, unit: 'tok', silent: opts.silent });
  const onTokens = (tokens: number) => tokens < opts.maxTokens && progress.update(tokens - startTokens);

  if (opts.remote) {
    const threads = opts.threads ?? 1;
    await opts.remote.run({
      plan, store: writer.manifest, dir: writer.dir, forwardThreads: threads, progress: onTokens,
      append: (seq) => writer.appendSequence(seq),
      chunkDone: (index) => {
        // A no-op but for the last chunk (the writer closes the others itself, at the same rows).
        writer.flush();
        if (writer.manifest.chunks.length !== index + 1) throw new Error(`remote harvest: chunk ${index} closed as chunk ${writer.manifest.chunks.length - 1}`);
      },
    });
    progress.finish();
    return end(writer, run, t0, writer.manifest.total_tokens - startTokens, resumedFromChunk, threads, { queue: opts.remote.manifest() });
  }

  const threads = opts.threads ?? 1;
  if (opts.engine === 'onnx') {
    // An f16 store of per-token rows takes the graph's own f16 cast (the same bits as toHalf, tested):
    // no f32 -> f16 pass in JS, half the bytes back from the session.
    const float16 = plan.init.dtype === 'f16' && plan.aggregation === 'none' && !plan.encoder;
    const onnx = await OnnxForward.open(model, plan.names, { threads, float16 });
    try {
      const span = { start: writer.resumedSequences, tokens: startTokens };
      const tokens = await forwardSequences(dataset, plan, (flat, B, T, lengths) => onnx.forward(flat, B, T, lengths), span, (seq) => writer.appendSequence(seq), onTokens, true);
      progress.finish();
      return end(writer, run, t0, tokens - startTokens, resumedFromChunk, threads, { engine: 'onnx' });
    } finally {
      await onnx.close();
    }
  }
  // The workers start only once there is work (a complete store returns above without loading them).
  // This thread is forward thread 0: it holds the model (loaded to plan) anyway, so a second copy here
  // would be one the forward never uses (issue 16: one copy of the weights per forward thread).
  const pool = threads > 1 ? await ForwardPool.open(model.source.dir, threads, activeBackend() ?? 'wasm', { local: model }) : undefined;
  try {
    const forward = batchForward(model, pool, plan.names);
    const span = { start: writer.resumedSequences, tokens: startTokens };
    const tokens = await forwardSequences(dataset, plan, forward, span, (seq) => writer.appendSequence(seq), onTokens);
    progress.finish();
    return end(writer, run, t0, tokens - startTokens, resumedFromChunk, pool?.threads ?? 1);
  } finally {
    await pool?.close();
  }
}

/**
 * The forward a harvest runs: in-process (no pool), or on the pool's threads split into `parts` sub-batches
 * (default one per thread; a queue worker's one-thread pool splits as the coordinator's local run would).
 */
export function batchForward(model: LanguageModel | undefined, pool: ForwardPool | undefined, names: HookName[], parts?: number): BatchForward {
  if (!pool && !model) throw new Error('batchForward needs a model or a pool');
  return (flat, B, T) => forwardHooks(model, pool, flat, B, T, names, parts);
}

/** The hooks' values for one padded batch [B, T], on this thread or split over the pool's workers. */
async function forwardHooks(model: LanguageModel | undefined, pool: ForwardPool | undefined, flat: Int32Array, B: number, T: number, names: HookName[], parts?: number): Promise<Float32Array[]> {
  const check = (name: string, shape: number[]) => {
    if (shape[0] !== B || shape[1] !== T) throw new UsageError(`hook ${name} has shape [${shape}], expected [${B}, ${T}, ...]`, 'hooks');
  };
  if (pool) {
    const rows = Array.from({ length: B }, (_, i) => Array.from(flat.subarray(i * T, (i + 1) * T)));
    const r = await pool.forward({ ids: rows, names }, parts);
    return names.map((n) => {
      const t = r.hooks.get(n);
      if (!t) throw new UsageError(`--hooks: the forward workers did not produce '${n}'`, 'hooks');
      check(n, t.shape);
      return t.data;
    });
  }
  const outs = tf.tidy(() => {
    const r = model!.forward(tf.tensor2d(flat, [B, T], 'int32'), { names, logits: false });
    return names.map((n) => r.cache.get(n)!);
  });
  try {
    const arrays: Float32Array[] = [];
    for (const t of outs) {
      check(names[arrays.length]!, t.shape);
      arrays.push((await t.data()) as Float32Array);
    }
    return arrays;
  } finally {
    tf.dispose(outs);
  }
}

function encodeBatch(enc: HookEncoder, values: Float32Array, batch: { ids: number[]; first: number; skip: boolean }[], T: number): Float32Array {
  const d = enc.inputWidth;
  const rows = batch.reduce((s, b) => s + (b.skip ? 0 : b.ids.length - b.first), 0);
  const x = new Float32Array(rows * d);
  let at = 0;
  batch.forEach((b, bi) => {
    if (b.skip) return;
    x.set(values.subarray((bi * T + b.first) * d, (bi * T + b.ids.length) * d), at * d);
    at += b.ids.length - b.first;
  });
  return enc.encode(x, rows);
}

function aggregate(src: Float32Array, n: number, d: number, how: 'mean' | 'max'): Float32Array {
  const out = new Float32Array(d).fill(how === 'max' ? -Infinity : 0);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    if (how === 'max') for (let j = 0; j < d; j++) out[j] = Math.max(out[j]!, src[o + j]!);
    else for (let j = 0; j < d; j++) out[j] += src[o + j]!;
  }
  if (how === 'mean') for (let j = 0; j < d; j++) out[j] /= n;
  return out;
}

export interface ToyHarvestOptions extends HarvestOptions {
  /** Harvest only this instance (default: every instance, each under its own hook names). */
  instance?: number;
  /** Hook patterns over 'instance.{i}.hook_hidden' / 'instance.{i}.hook_neurons' (default all). */
  hooks?: string[];
}

/**
 * Harvests a toy run: each instance samples its own batches (its own feature probability) from a
 * stream seeded by (seed, batch index, instance), so a resumed run regenerates exactly the same rows.
 * Row r of instance i is sample r of instance i; its labels are the columns instance_{i}_feature_{j}.
 */
export async function harvestToy(runOrDir: ToyRun | string, opts: ToyHarvestOptions): Promise<HarvestResult> {
  const t0 = performance.now();
  if (!(opts.maxTokens >= 1)) throw new UsageError(`--max-tokens must be >= 1, got ${opts.maxTokens}`, 'max-tokens');
  if (opts.aggregation && opts.aggregation !== 'none') throw new UsageError(`--aggregation ${opts.aggregation}: toy samples are single rows; use none`, 'aggregation');
  const toy = typeof runOrDir === 'string' ? loadToyRun(runOrDir) : runOrDir;
  const nInst = toy.instances.length;
  if (opts.instance !== undefined && !(Number.isInteger(opts.instance) && opts.instance >= 0 && opts.instance < nInst)) {
    throw new UsageError(`--instance must be in 0..${nInst - 1} for ${toy.dir}; got ${opts.instance}`, 'instance');
  }
  const n = toy.config.features;
  const probeHook = toyHidden(toy, 0, new Float32Array(n), 1);
  const all = (opts.instance !== undefined ? [opts.instance] : [...Array(nInst).keys()]).map((i) => `instance.${i}.${probeHook.hook}`);
  const enc = opts.encoder;
  const names = enc ? encoderHooks(enc, opts.hooks, all) : opts.hooks !== undefined ? matchHooks(opts.hooks, all) : all;
  if (enc) checkEncoderWidth(enc, probeHook.width);
  const instances = names.map((h) => Number(h.split('.')[1]));
  const features = Array.from({ length: n }, (_, j) => `feature_${j}`);
  const width = enc ? enc.width : probeHook.width;
  const hooks: StoreHook[] = instances.map((i, k) => ({
    name: enc ? enc.name : names[k]!, n_neurons: width, row_shape: [width], instance: i, label_prefix: `instance_${i}_`,
  }));
  const labelColumns = instances.flatMap((i) => features.map((f) => `instance_${i}_${f}`));
  const dtype = opts.dtype ?? 'f32';
  const quantisation: Quantisation = dtype === 'u8' ? (opts.quantisation ?? 'per_neuron') : 'none';
  const batch = opts.batch ?? 1024;
  const runDir = resolve(toy.dir);
  const config = { source: 'toy', toy_run: runDir, toy_config: toy.config, hooks: names, dtype, quantisation, max_tokens: opts.maxTokens, seed: opts.seed, batch, ...(enc ? { [enc.kind]: enc.info } : {}) };
  const init: StoreInit = {
    config,
    model: { source: 'toy', run_dir: runDir, model: toy.config.model, features: n, hidden: toy.config.hidden, instances: nInst, ...(enc ? { [enc.kind]: enc.info } : {}) },
    dataset: { name: 'toy', level: 'token', features, label_columns: labelColumns },
    seed: opts.seed, aggregation: 'none', dtype, quantisation, hooks, toy: { run_dir: runDir },
  };
  const { writer, run } = beginStoreRun(opts.out, init, chunkRows(hooks, opts.chunkMb ?? 64, batch), opts);
  const resumedFromChunk = writer.manifest.chunks.length;
  if (!run) return end(writer, run, t0, 0, resumedFromChunk);

  const startRows = writer.manifest.total_tokens;
  const progress = new Progress({ label: 'harvest', total: opts.maxTokens - startRows, unit: 'samples', silent: opts.silent });
  const C = labelColumns.length;
  for (let bIdx = writer.resumedSequences, done = startRows; done < opts.maxTokens; bIdx++) {
    const rows = Math.min(batch, opts.maxTokens - done);
    const labels = new Uint8Array(rows * C);
    const values = instances.map((inst, k) => {
      const rng = new Rng(opts.seed).fork(bIdx).fork(inst);
      const { x, active } = sampleToyBatch(toy, inst, rows, rng);
      for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) labels[r * C + k * n + j] = active[r * n + j]!;
      const h = toyHidden(toy, inst, x, rows).values;
      return enc ? enc.encode(h, rows) : h;
    });
    const seqIds = Int32Array.from({ length: rows }, (_, r) => done + r);
    writer.appendSequence({ rows, seqIds, positions: new Int32Array(rows), labels, values, tokens: rows });
    done += rows;
    if (done < opts.maxTokens) progress.update(done - startRows);
  }
  progress.finish();
  return end(writer, run, t0, opts.maxTokens - startRows, resumedFromChunk);
}
