/**
 * Reads an activation store back: one hook's rows as a dequantised matrix for probing (ProbeData),
 * chunk by chunk for streaming, and the labels as an arquero table.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as aq from 'arquero';
import { InputError, UsageError } from '../../lab/core/index.ts';
import { readJson, readManifest, type Manifest } from '../../lab/core/index.ts';
import type { ProbeData } from '../types.ts';
import { STORE_MANIFEST, type StoreChunk, type StoreHook, type StoreManifest } from './format.ts';
import { checkedBytes, checkStoreManifest, chunkFileSizes } from './validate.ts';
import { DTYPE_BYTES, decodeChunk } from './quantize.ts';

export interface ChunkData {
  index: number;
  rows: number;
  nNeurons: number;
  /** rows x nNeurons, dequantised. */
  values: Float32Array;
  seqIds: Int32Array;
  positions: Int32Array;
  /** -1 where the row has no single token (aggregated rows, toy samples). */
  tokenIds: Int32Array;
}

export interface ActivationStore {
  dir: string;
  /** The store manifest (store.json). */
  manifest: StoreManifest;
  /** The run manifest (manifest.json). */
  run: Manifest;
  hooks: string[];
  features: string[];
  /** What the user should know about this store (an old format read without checksums). */
  notes: string[];
  /** Reads every chunk file, checking lengths and checksums; throws an InputError at the first bad one. */
  verify(): { chunks: number; files: number; bytes: number; checksummed: boolean };
  readProbeData(hook: string, opts?: { features?: string[] }): ProbeData;
  chunks(hook: string): IterableIterator<ChunkData>;
  /** seq_id, position, token_id and one 0/1 column per label column. */
  labelsTable(): aq.ColumnTable;
}

export interface OpenOptions {
  /** Read the whole chunks of a run that was killed or is still running. */
  allowPartial?: boolean;
}

export function openActivationStore(dir: string, opts: OpenOptions = {}): ActivationStore {
  const run = readManifest(dir, { kind: 'harvest', allowPartial: opts.allowPartial });
  const path = join(dir, STORE_MANIFEST);
  if (!existsSync(path)) throw new InputError(`${dir} has no ${STORE_MANIFEST}: not an activation store`, path);
  const manifest = readJson<StoreManifest>(path);
  const notes = checkStoreManifest(manifest, path, dir);
  if (!manifest.complete && !opts.allowPartial) {
    throw new InputError(`${dir} holds a partial harvest (store.json not complete): rerun the harvest to resume it`, path);
  }
  const hooks = manifest.hooks.map((h) => h.name);
  const nCols = manifest.dataset.label_columns.length;

  const hookOf = (name: string): StoreHook => {
    const h = manifest.hooks.find((x) => x.name === name);
    if (!h) throw new UsageError(`hook '${name}' is not in the store ${dir}; it holds: ${hooks.join(', ')}`, 'hook');
    return h;
  };
  // Every chunk file is checked against its length and (format 2) its sha256 as it is read.
  const readBytes = (c: StoreChunk, rel: string, expect: number): Uint8Array => checkedBytes(dir, rel, expect, c.sha256?.[rel]);
  const readRows = (c: StoreChunk): Int32Array => {
    const b = readBytes(c, c.files.rows, c.rows * 12);
    return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  };
  const readValues = (h: StoreHook, c: StoreManifest['chunks'][number], out: Float32Array, at: number): void => {
    const f = c.files.hooks[h.name]!;
    const bytes = readBytes(c, f.data, c.rows * h.n_neurons * DTYPE_BYTES[manifest.dtype]);
    let qp: Float32Array | undefined;
    if (manifest.dtype === 'u8') {
      const groups = manifest.quantisation === 'per_tensor' ? 1 : h.n_neurons;
      const qb = readBytes(c, f.qparams!, groups * 2 * 4);
      qp = new Float32Array(qb.buffer.slice(qb.byteOffset, qb.byteOffset + qb.length));
    }
    decodeChunk(bytes, c.rows, h.n_neurons, manifest.dtype, qp, out, at);
  };
  const split = (idx: Int32Array, rows: number) => {
    const seqIds = new Int32Array(rows), positions = new Int32Array(rows), tokenIds = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      seqIds[r] = idx[r * 3]!;
      positions[r] = idx[r * 3 + 1]!;
      tokenIds[r] = idx[r * 3 + 2]!;
    }
    return { seqIds, positions, tokenIds };
  };
  const columnIndex = (name: string): number => {
    const j = manifest.dataset.label_columns.indexOf(name);
    if (j < 0) throw new UsageError(`feature '${name}' is not in the store ${dir}; it has: ${manifest.dataset.features.join(', ')}`, 'features');
    return j;
  };

  return {
    dir,
    manifest,
    run,
    notes,

    verify() {
      let bytes = 0;
      for (const c of manifest.chunks) {
        for (const [rel, size] of chunkFileSizes(manifest, c)) {
          readBytes(c, rel, size);
          bytes += size;
        }
      }
      return { chunks: manifest.chunks.length, files: manifest.chunks.reduce((a, c) => a + chunkFileSizes(manifest, c).length, 0), bytes, checksummed: manifest.format_version >= 2 };
    },
    hooks,
    features: manifest.dataset.features,

    readProbeData(hook, o = {}) {
      const h = hookOf(hook);
      const feats = o.features ?? manifest.dataset.features;
      const cols = feats.map((f) => columnIndex((h.label_prefix ?? '') + f));
      const nRows = manifest.total_rows;
      const X = new Float32Array(nRows * h.n_neurons);
      const seqIds = new Int32Array(nRows), positions = new Int32Array(nRows);
      const labels: Record<string, Uint8Array> = Object.fromEntries(feats.map((f) => [f, new Uint8Array(nRows)]));
      let at = 0;
      for (const c of manifest.chunks) {
        readValues(h, c, X, at * h.n_neurons);
        const s = split(readRows(c), c.rows);
        seqIds.set(s.seqIds, at);
        positions.set(s.positions, at);
        const lb = readBytes(c, c.files.labels, c.rows * nCols);
        feats.forEach((f, k) => {
          const dst = labels[f]!, j = cols[k]!;
          for (let r = 0; r < c.rows; r++) dst[at + r] = lb[r * nCols + j]!;
        });
        at += c.rows;
      }
      const data: ProbeData = { hook, nRows, nNeurons: h.n_neurons, X, seqIds, positions, labels };
      if (manifest.toy) data.toy = { runDir: manifest.toy.run_dir, instance: h.instance ?? 0 };
      return data;
    },

    *chunks(hook) {
      const h = hookOf(hook);
      for (const c of manifest.chunks) {
        const values = new Float32Array(c.rows * h.n_neurons);
        readValues(h, c, values, 0);
        yield { index: c.index, rows: c.rows, nNeurons: h.n_neurons, values, ...split(readRows(c), c.rows) };
      }
    },

    labelsTable() {
      const n = manifest.total_rows;
      const cols: Record<string, Int32Array | Uint8Array> = {
        seq_id: new Int32Array(n), position: new Int32Array(n), token_id: new Int32Array(n),
      };
      for (const name of manifest.dataset.label_columns) cols[name] = new Uint8Array(n);
      let at = 0;
      for (const c of manifest.chunks) {
        const s = split(readRows(c), c.rows);
        cols.seq_id!.set(s.seqIds, at);
        cols.position!.set(s.positions, at);
        cols.token_id!.set(s.tokenIds, at);
        const lb = readBytes(c, c.files.labels, c.rows * nCols);
        manifest.dataset.label_columns.forEach((name, j) => {
          const dst = cols[name]!;
          for (let r = 0; r < c.rows; r++) dst[at + r] = lb[r * nCols + j]!;
        });
        at += c.rows;
      }
      return aq.table(cols);
    },
  };
}
