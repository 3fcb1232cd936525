/**
 * `lab store import`: activations harvested elsewhere (a TransformerLens cache saved with numpy or
 * safetensors) plus a labels table become an activation store that lab probe, classify, neurons and
 * report read like a harvest. Shapes: [rows, ...] (one row per token or per sequence) or
 * [batch, pos, ...] (one row per token, flattened batch-major, as cache[hook] is).
 *
 * The labels table has one row per activation row: 0/1 feature columns, and optionally a sequence id
 * column (--seq-ids, default 'seq_id' when present), 'position' and 'token_id'. Without sequence ids a
 * [batch, pos, ...] array's sequence is its batch index and a [rows, ...] array's row is its own
 * sequence. A sequence's rows must be consecutive (the store and the splits group by sequence).
 *
 * Everything is checked before the first write (shapes against label rows, every label value); then
 * the rows are read a chunk at a time and written through the harvester's store run (atomic chunks,
 * resumable: a killed import rerun with the same inputs continues after its last whole chunk).
 */
import { statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, extname, resolve } from 'node:path';
import { InputError, UsageError, unlockRunDir } from '../lab/core/index.ts';
import { Progress } from '../lab/core/index.ts';
import { readTable, binaryValue, type Table } from './datasets/table-file.ts';
import { beginStoreRun, matchHooks } from './harvest.ts';
import { openNpy, openSafetensorsArrays, readFileRange, RowReader, type ArraySource } from './import-npy.ts';
import type { Aggregation, StoreDtype, StoreHook, StoreInit, StoreManifest } from './store/index.ts';

export interface ImportOptions {
  activations: string;
  labels: string;
  out: string;
  /** .npy: the hook name to record (default the file name); safetensors: names or globs of tensors (default all). */
  hooks?: string[];
  seqIdColumn?: string;
  /** Label columns to keep (default every column but the id columns). */
  features?: string[];
  /** How each row of a one-row-per-sequence import was made (default mean); token rows are 'none'. */
  aggregation?: Aggregation;
  dtype?: StoreDtype;
  chunkMb?: number;
  seed?: number;
  overwrite?: boolean;
  silent?: boolean;
  command?: string;
}

export interface ImportResult {
  dir: string;
  manifest: StoreManifest;
  alreadyComplete: boolean;
  resumedFromChunk: number;
  seconds: number;
}

const ID_COLUMNS = ['position', 'token_id'];

/** The arrays to import and the rows they hold, checked against each other. */
function openArrays(path: string, hooks: string[] | undefined): { arrays: ArraySource[]; rows: number; batch?: number; pos?: number } {
  const ext = extname(path).toLowerCase();
  let arrays: ArraySource[];
  if (ext === '.npy') {
    const a = openNpy(path);
    if (hooks && hooks.length !== 1) throw new UsageError('--hook names the one array of a .npy file: give one name', 'hook');
    arrays = [{ ...a, name: hooks?.[0] ?? a.name }];
  } else if (ext === '.safetensors') {
    const all = openSafetensorsArrays(path);
    if (all.length === 0) throw new InputError(`${path} holds no tensors`, path);
    const names = hooks ? matchHooks(hooks, all.map((a) => a.name), 'hook') : all.map((a) => a.name);
    arrays = names.map((n) => all.find((a) => a.name === n)!);
  } else {
    throw new UsageError(`--activations must be a .npy or .safetensors file, got '${path}'`, 'activations');
  }
  let rows: number | undefined;
  let dims: { batch?: number; pos?: number } = {};
  for (const a of arrays) {
    if (!/^[A-Za-z0-9_.-]+$/.test(a.name)) throw new UsageError(`hook name '${a.name}' has characters a folder name cannot hold: name it with --hook`, 'hook');
    if (a.shape.length < 2) throw new InputError(`${path}: '${a.name}' has shape [${a.shape}]; activations need [rows, neurons] or [batch, pos, ...]`, path);
    const r = a.shape.length === 2 ? a.shape[0]! : a.shape[0]! * a.shape[1]!;
    const d = a.shape.length === 2 ? {} : { batch: a.shape[0]!, pos: a.shape[1]! };
    if (rows === undefined) [rows, dims] = [r, d];
    else if (r !== rows || d.batch !== dims.batch) {
      throw new InputError(`${path}: '${a.name}' has shape [${a.shape}], ${r} rows; '${arrays[0]!.name}' has [${arrays[0]!.shape}]: every hook must have the same rows (pick tensors with --hook)`, path);
    }
  }
  return { arrays, rows: rows!, ...dims };
}

interface Rows {
  seqIds: Int32Array;
  positions: Int32Array;
  tokenIds: Int32Array;
  labels: Uint8Array;
  features: string[];
  /** Start row of each sequence, plus the total at the end. */
  starts: number[];
}

const int32 = (x: unknown): number | undefined => {
  const n = typeof x === 'string' && x.trim() !== '' ? Number(x) : typeof x === 'bigint' ? Number(x) : x;
  return typeof n === 'number' && Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 ? n : undefined;
};

function readRows(t: Table, arrays: { rows: number; batch?: number; pos?: number }, activations: string, opts: ImportOptions): Rows {
  const n = arrays.rows;
  if (t.rows.length !== n) {
    throw new InputError(`${activations} has ${n} rows${arrays.batch !== undefined ? ` (batch ${arrays.batch} x pos ${arrays.pos})` : ''} but ${t.path} has ${t.rows.length} label rows: they must match one to one`, t.path);
  }
  const seqCol = opts.seqIdColumn ?? (t.columns.includes('seq_id') ? 'seq_id' : undefined);
  if (seqCol !== undefined && !t.columns.includes(seqCol)) throw new InputError(`${t.path}: sequence id column '${seqCol}' is missing (columns: ${t.columns.join(', ')})`, t.path);
  const idCols = new Set([...(seqCol ? [seqCol] : []), ...ID_COLUMNS.filter((c) => t.columns.includes(c))]);
  const features = opts.features ?? t.columns.filter((c) => !idCols.has(c));
  for (const f of features) if (!t.columns.includes(f)) throw new InputError(`${t.path}: label column '${f}' is missing (columns: ${t.columns.join(', ')})`, t.path);
  if (features.length === 0) throw new InputError(`${t.path}: no label column (columns: ${t.columns.join(', ')})`, t.path);
  const F = features.length;
  const out: Rows = { seqIds: new Int32Array(n), positions: new Int32Array(n), tokenIds: new Int32Array(n).fill(-1), labels: new Uint8Array(n * F), features, starts: [] };
  const seen = new Set<number>();
  const hasPos = t.columns.includes('position');
  const hasTok = t.columns.includes('token_id');
  for (let r = 0; r < n; r++) {
    const row = t.rows[r]!;
    const at = `${t.path} ${row.where}`;
    let sid: number | undefined;
    if (seqCol) {
      sid = int32(row.values[seqCol]);
      if (sid === undefined) throw new InputError(`${at}: ${seqCol} must be a whole number (int32), got ${JSON.stringify(row.values[seqCol])}`, t.path);
    } else sid = arrays.pos !== undefined ? Math.floor(r / arrays.pos) : r;
    out.seqIds[r] = sid;
    if (r === 0 || sid !== out.seqIds[r - 1]) {
      if (seen.has(sid)) throw new InputError(`${at}: sequence ${sid} appears again after other sequences: a sequence's rows must be consecutive`, t.path);
      seen.add(sid);
      out.starts.push(r);
    }
    const first = out.starts[out.starts.length - 1]!;
    if (hasPos) {
      const p = int32(row.values.position);
      if (p === undefined) throw new InputError(`${at}: position must be a whole number, got ${JSON.stringify(row.values.position)}`, t.path);
      out.positions[r] = p;
    } else out.positions[r] = arrays.pos !== undefined && !seqCol ? r % arrays.pos : r - first;
    if (hasTok) {
      const id = int32(row.values.token_id);
      if (id === undefined) throw new InputError(`${at}: token_id must be a whole number, got ${JSON.stringify(row.values.token_id)}`, t.path);
      out.tokenIds[r] = id;
    }
    for (let j = 0; j < F; j++) {
      const v = binaryValue(row.values[features[j]!]);
      if (v === undefined) throw new InputError(`${at}: label column '${features[j]}' must be 0 or 1, got ${JSON.stringify(row.values[features[j]!])} (keep 0/1 columns with --features)`, t.path);
      out.labels[r * F + j] = v;
    }
  }
  out.starts.push(n);
  return out;
}

/** A cheap identity of a big file: size, and sha256 of its first and last MiB (the header included). */
function fileIdentity(path: string): Record<string, unknown> {
  const size = statSync(path).size;
  const M = 1 << 20;
  const h = createHash('sha256').update(readFileRange(path, 0, Math.min(size, M)));
  if (size > M) h.update(readFileRange(path, Math.max(M, size - M), size - Math.max(M, size - M)));
  return { file: resolve(path), size, sha256_head_tail: h.digest('hex') };
}

export async function importStore(opts: ImportOptions): Promise<ImportResult> {
  const t0 = performance.now();
  const src = openArrays(opts.activations, opts.hooks);
  const table = await readTable(opts.labels);
  const rows = readRows(table, src, opts.activations, opts);
  const nSeq = rows.starts.length - 1;
  const perSequence = nSeq === src.rows && src.batch === undefined;
  const level = perSequence ? 'sequence' : 'token';
  const aggregation: Aggregation = perSequence ? (opts.aggregation ?? 'mean') : 'none';
  if (!perSequence && opts.aggregation && opts.aggregation !== 'none') {
    throw new UsageError(`--aggregation ${opts.aggregation}: ${opts.activations} has several rows per sequence (token rows); only a one-row-per-sequence import was aggregated`, 'aggregation');
  }
  const hooks: StoreHook[] = src.arrays.map((a) => {
    const rowShape = a.shape.slice(src.batch === undefined ? 1 : 2);
    return { name: a.name, n_neurons: rowShape.reduce((x, y) => x * y, 1), row_shape: rowShape };
  });
  const dtype = opts.dtype ?? 'f32';
  const seed = opts.seed ?? 0;
  const config = {
    source: 'import', activations: fileIdentity(opts.activations), hooks: hooks.map((h) => h.name),
    labels: { file: resolve(opts.labels), sha256: table.sha256, seq_id_column: opts.seqIdColumn ?? null, features: rows.features },
    aggregation, dtype, seed,
  };
  const init: StoreInit = {
    config,
    model: { source: 'import', name: `import:${basename(opts.activations)}`, activations: resolve(opts.activations), arrays: src.arrays.map((a) => ({ name: a.name, dtype: a.dtype, shape: a.shape })) },
    dataset: { name: `import:${table.path.split(/[\\/]/).pop()}`, level, features: rows.features, label_columns: rows.features },
    seed, aggregation, dtype, quantisation: dtype === 'u8' ? 'per_neuron' : 'none', hooks,
  };
  const perRow = hooks.reduce((s, h) => s + h.n_neurons, 0) * 4;
  const chunkRows = Math.max(1, Math.floor(((opts.chunkMb ?? 64) * 1024 * 1024) / Math.max(1, perRow)));
  const { writer, run } = beginStoreRun(opts.out, init, chunkRows, { seed, command: opts.command, overwrite: opts.overwrite });
  const resumedFromChunk = writer.manifest.chunks.length;
  const seconds = () => (performance.now() - t0) / 1000;
  if (!run) return { dir: opts.out, manifest: writer.manifest, alreadyComplete: true, resumedFromChunk, seconds: seconds() };
  const readers = src.arrays.map((a, k) => new RowReader(a, hooks[k]!.n_neurons));
  try {
    const F = rows.features.length;
    const progress = new Progress({ label: 'import', total: src.rows, unit: 'rows', silent: opts.silent });
    // Rows are read a block of about one chunk at a time (a sequence longer than a chunk is one block).
    let s = writer.resumedSequences;
    while (s < nSeq) {
      const b0 = rows.starts[s]!;
      let e = s + 1;
      while (e < nSeq && rows.starts[e + 1]! - b0 <= chunkRows) e++;
      const b1 = rows.starts[e]!;
      const block = readers.map((r) => r.read(b0, b1));
      for (let q = s; q < e; q++) {
        const r0 = rows.starts[q]!;
        const r1 = rows.starts[q + 1]!;
        writer.appendSequence({
          rows: r1 - r0, seqIds: rows.seqIds.subarray(r0, r1), positions: rows.positions.subarray(r0, r1), tokenIds: rows.tokenIds.subarray(r0, r1),
          labels: rows.labels.subarray(r0 * F, r1 * F), values: block.map((v, k) => v.subarray((r0 - b0) * hooks[k]!.n_neurons, (r1 - b0) * hooks[k]!.n_neurons)),
          tokens: r1 - r0,
        });
      }
      s = e;
      progress.update(b1);
    }
    progress.finish();
    const manifest = writer.finish();
    run.manifest.files = ['store.json', 'acts/', 'rows/', 'labels/'];
    run.timing('import_s', seconds());
    run.finish({ rows: manifest.total_rows, sequences: manifest.total_sequences, resumed_from_chunk: resumedFromChunk });
    unlockRunDir(opts.out);
    return { dir: opts.out, manifest, alreadyComplete: false, resumedFromChunk, seconds: seconds() };
  } catch (err) {
    // A non-finite value (the writer's NumericError) or a read error: the listed chunks stay whole and
    // store.json says incomplete, so nothing reads it as a store; a rerun resumes after them.
    unlockRunDir(opts.out);
    throw err;
  } finally {
    for (const r of readers) r.close();
  }
}
