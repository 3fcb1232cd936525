/**
 * The contracts between the activations room and its neighbours. Model adapters (activations/models),
 * datasets (activations/datasets) and the store (activations/store) implement these; probes, the LM
 * trainer and the compressor consume them. Change a contract only together with its users.
 */
import type { tf } from '../lab/core/backend.ts';

/** TransformerLens hook names: blocks.{L}.hook_resid_pre, blocks.{L}.mlp.hook_post, ... */
export type HookName = string;

/** Reads and optionally rewrites the activation at a hook (interventions: zero-/mean-ablation, patching). */
export type HookFn = (name: HookName, value: tf.Tensor) => tf.Tensor | void;

export interface ForwardOptions {
  /** Which hook values to cache (exact names or glob patterns like 'blocks.*.mlp.hook_post'); none by default. */
  names?: HookName[] | ((name: HookName) => boolean);
  /** Hooks that read or replace values in flight. */
  hooks?: Record<HookName, HookFn>;
  /** Key/value cache for incremental decoding; updated in place when given. */
  kvCache?: KVCache;
  /**
   * false skips the final layer norm and the unembedding (a large share of the work with a 50k vocab)
   * when only hook values are wanted; `logits` is then an empty [batch, seq, 0] tensor.
   */
  logits?: boolean;
}

export interface ForwardResult {
  /** [batch, seq, vocab] */
  logits: tf.Tensor3D;
  /** Cached hook values by name (the caller disposes them). */
  cache: Map<HookName, tf.Tensor>;
}

/** Opaque per-layer key/value state; `length` is the number of positions already processed. */
export interface KVCache {
  length: number;
  dispose(): void;
}

export interface ModelConfig {
  /** A registered architecture's name (activations/models/architectures.ts): 'gpt2', 'gpt-neox', ... */
  architecture: string;
  nLayers: number;
  dModel: number;
  nHeads: number;
  dMlp: number;
  vocabSize: number;
  contextLength: number;
  [extra: string]: unknown;
}

export interface Tokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** The string of each token id, as the tokenizer shows it (for tables and labels). */
  idToToken(id: number): string | undefined;
  vocabSize: number;
  /** Token ids that an empty context starts from (GPT-2: <|endoftext|>), if any. */
  bosId?: number;
}

export interface LanguageModel {
  config: ModelConfig;
  tokenizer: Tokenizer;
  /** Folder it was loaded from, and a checksum of its weights (for manifests and the compressor). */
  source: { dir: string; checksum: string };
  /** Every hook point this model exposes. */
  hookNames(): HookName[];
  /** ids: [batch, seq] int32 token ids. */
  forward(ids: tf.Tensor2D, opts?: ForwardOptions): ForwardResult;
  newKVCache(batch: number): KVCache;
  dispose(): void;
}

/** One labelled sequence. Token labels are per model token; sequence labels per whole sequence. */
export interface LabelledSequence {
  /** Unique within a dataset; train/test splits group by it. */
  seqId: number;
  ids: number[];
  /** feature name -> 0/1 per token (length = ids.length). */
  tokenLabels?: Record<string, Uint8Array>;
  /** feature name -> 0/1 for the whole sequence. */
  seqLabels?: Record<string, 0 | 1>;
}

export interface FeatureDataset {
  name: string;
  level: 'token' | 'sequence';
  features: string[];
  sequences(): Iterable<LabelledSequence>;
}

/**
 * What an activation store reads back as, for probing: one hook's activations as a dense row-major
 * matrix [rows x neurons] plus, per row, its sequence id, position and binary labels.
 */
export interface ProbeData {
  hook: HookName;
  nRows: number;
  nNeurons: number;
  /** Row-major [nRows * nNeurons], dequantised to f32. */
  X: Float32Array;
  seqIds: Int32Array;
  positions: Int32Array;
  /** feature name -> 0/1 per row. */
  labels: Record<string, Uint8Array>;
  /** When the source is a toy model: its run directory and instance, for ground-truth validation. */
  toy?: { runDir: string; instance: number };
}
