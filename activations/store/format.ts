/**
 * The activation store's on-disk format (described for users in activations/README.md). A harvest
 * run directory holds the run's manifest.json (kind 'harvest') and store.json, the store manifest,
 * which lists every complete chunk; a chunk's files are written before store.json names them, so a
 * killed run leaves a store whose listed chunks are all whole.
 */
import type { Quantisation, StoreDtype } from './quantize.ts';

export const STORE_FORMAT = 'neuronlab-activation-store';
/** 2: each chunk lists the sha256 of its files (version 1 stores read without that check). */
export const STORE_FORMAT_VERSION = 2;
export const STORE_MANIFEST = 'store.json';

export type Aggregation = 'none' | 'mean' | 'max';

export interface StoreHook {
  name: string;
  /** Values per row (the hook's trailing dimensions, flattened). */
  n_neurons: number;
  /** The hook's shape per row before flattening, e.g. [3072] or [12, 64] for attn.hook_z. */
  row_shape: number[];
  /** Toy sources: the instance this hook belongs to; its labels are the columns `label_prefix + feature`. */
  instance?: number;
  label_prefix?: string;
}

export interface ChunkFiles {
  /** int32 [rows, 3]: seq_id, position, token_id (-1 for an aggregated row or a toy sample). */
  rows: string;
  /** uint8 [rows, label_columns.length], 0/1. */
  labels: string;
  /** Per hook: the data file (dtype [rows, n_neurons]) and, for u8, the f32 quantisation params. */
  hooks: Record<string, { data: string; qparams?: string }>;
}

export interface StoreChunk {
  index: number;
  rows: number;
  /** Sequences (or toy samples) whose rows this chunk holds; a sequence never spans two chunks. */
  sequences: number;
  /** Model tokens read to make the chunk (BOS excluded). */
  tokens: number;
  files: ChunkFiles;
  /** Format 2: sha256 (hex) of each of the chunk's files, by relative path; checked whenever one is read. */
  sha256?: Record<string, string>;
}

export interface StoreManifest {
  format: typeof STORE_FORMAT;
  format_version: number;
  byte_order: 'little';
  /** sha256 of the canonical JSON of `config`: a rerun resumes only when it matches. */
  config_hash: string;
  config: Record<string, unknown>;
  model: Record<string, unknown>;
  dataset: {
    name: string;
    level: 'token' | 'sequence';
    features: string[];
    /** Column names of the labels files, in order (equal to features unless labels are per instance). */
    label_columns: string[];
  };
  seed: number;
  aggregation: Aggregation;
  dtype: StoreDtype;
  quantisation: Quantisation;
  hooks: StoreHook[];
  chunks: StoreChunk[];
  total_rows: number;
  total_sequences: number;
  total_tokens: number;
  complete: boolean;
  versions: Record<string, string>;
  /** Format 2: sha256 of the canonical JSON of every other field, so an edit or a flip in store.json is caught. */
  digest?: string;
  /** For toy sources: the toy run directory, for ground-truth validation. */
  toy?: { run_dir: string };
}

export { canonicalJson, configHash } from '../../lab/core/index.ts';

/** Hook names become folder names as they are (TransformerLens names are dots and word characters). */
export function chunkFiles(index: number, hooks: StoreHook[], dtype: StoreDtype): ChunkFiles {
  const id = String(index).padStart(5, '0');
  const files: ChunkFiles = { rows: `rows/${id}.i32`, labels: `labels/${id}.u8`, hooks: {} };
  for (const h of hooks) {
    files.hooks[h.name] = { data: `acts/${h.name}/${id}.${dtype}`, ...(dtype === 'u8' ? { qparams: `acts/${h.name}/${id}.qparams.f32` } : {}) };
  }
  return files;
}
