/**
 * Writes an activation store chunk by chunk. Rows are buffered per hook up to `chunkRows` (whole
 * sequences only), encoded, written atomically, and only then added to store.json, so memory stays
 * at one chunk and a killed run leaves only whole chunks behind. Reopening the same directory with
 * the same config resumes after the last listed chunk; a different config is refused unless
 * `overwrite`, which clears the old store first. Nothing is ever mixed.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { NumericError, UsageError } from '../../lab/core/index.ts';
import { describeConfigDiff, packageVersions, readJson, writeFileAtomic } from '../../lab/core/index.ts';
import {
  STORE_FORMAT, STORE_FORMAT_VERSION, STORE_MANIFEST, chunkFiles, configHash,
  type Aggregation, type StoreHook, type StoreManifest,
} from './format.ts';
import { encodeChunk, encodeHalfInto, firstNonFiniteHalf, halfToFloatTable, type Quantisation, type StoreDtype } from './quantize.ts';
import { checkStoreManifest, sha256Hex, writeStoreManifest } from './validate.ts';

export interface StoreInit {
  /** Everything that fixes the store's content; hashed to decide between resuming and refusing. */
  config: Record<string, unknown>;
  model: Record<string, unknown>;
  dataset: StoreManifest['dataset'];
  seed: number;
  aggregation: Aggregation;
  dtype: StoreDtype;
  quantisation: Quantisation;
  hooks: StoreHook[];
  toy?: { run_dir: string };
}

export interface WriterOptions {
  /** Target rows per chunk (a chunk closes at the first sequence boundary at or past it). */
  chunkRows: number;
  /** Replace a store with a different config instead of refusing. */
  overwrite?: boolean;
}

const SAFE_HOOK = /^[A-Za-z0-9_.-]+$/;
const STORE_DIRS = ['acts', 'rows', 'labels'];

export class StoreWriter {
  readonly manifest: StoreManifest;
  /** Sequences already in the store when it was opened (a resumed run skips them). */
  readonly resumedSequences: number;
  private rows = 0;
  private seqs = 0;
  private tokens = 0;
  private cap: number;
  /** Per hook, the chunk's rows: f16 bits for an f16 store (encoded as they arrive), else float32. */
  private values: (Float32Array | Uint16Array)[];
  private index: Int32Array;
  private labels: Uint8Array;
  private readonly nLabels: number;

  private constructor(readonly dir: string, manifest: StoreManifest, private readonly opts: WriterOptions) {
    this.manifest = manifest;
    this.resumedSequences = manifest.total_sequences;
    this.nLabels = manifest.dataset.label_columns.length;
    this.cap = Math.max(1, opts.chunkRows);
    this.values = manifest.hooks.map((h) => this.buffer(this.cap * h.n_neurons));
    this.index = new Int32Array(this.cap * 3);
    this.labels = new Uint8Array(this.cap * this.nLabels);
  }

  /** Opens `dir` for writing: fresh, resumed (same config) or refused (different config). */
  static open(dir: string, init: StoreInit, opts: WriterOptions): StoreWriter {
    for (const h of init.hooks) {
      if (!SAFE_HOOK.test(h.name)) throw new UsageError(`hook name '${h.name}' has characters a folder name cannot hold`, 'hooks');
    }
    const hash = configHash(init.config);
    const path = join(dir, STORE_MANIFEST);
    if (existsSync(path)) {
      const old = readJson<StoreManifest>(path);
      if (old.format === STORE_FORMAT && old.config_hash === hash && (old.format_version === STORE_FORMAT_VERSION || !opts.overwrite)) {
        if (old.format_version !== STORE_FORMAT_VERSION) {
          throw new UsageError(`--out ${dir} holds a store of format ${old.format_version}; a resume would mix it with format ${STORE_FORMAT_VERSION} chunks: pass --overwrite to harvest it again`, 'out');
        }
        checkStoreManifest(old, path, dir);
        cleanUnlisted(dir, old);
        return new StoreWriter(dir, old, opts);
      }
      if (!opts.overwrite) {
        throw new UsageError(
          `--out ${dir} already holds a harvest with a different config (${describeConfigDiff(old.config, init.config)}): ` +
            'pass --overwrite to replace it, or choose another --out',
          'out',
        );
      }
      for (const d of STORE_DIRS) rmSync(join(dir, d), { recursive: true, force: true });
      rmSync(path, { force: true });
    } else if (existsSync(join(dir, 'manifest.json')) && !opts.overwrite) {
      const m = readJson<{ kind?: string }>(join(dir, 'manifest.json'));
      if (m.kind !== 'harvest') {
        throw new UsageError(`--out ${dir} is a '${m.kind}' run directory, not a harvest: choose another --out`, 'out');
      }
    }
    const manifest: StoreManifest = {
      format: STORE_FORMAT,
      format_version: STORE_FORMAT_VERSION,
      byte_order: 'little',
      config_hash: hash,
      config: init.config,
      model: init.model,
      dataset: init.dataset,
      seed: init.seed,
      aggregation: init.aggregation,
      dtype: init.dtype,
      quantisation: init.dtype === 'u8' ? (init.quantisation === 'none' ? 'per_neuron' : init.quantisation) : 'none',
      hooks: init.hooks,
      chunks: [],
      total_rows: 0,
      total_sequences: 0,
      total_tokens: 0,
      complete: false,
      versions: packageVersions(),
      ...(init.toy ? { toy: init.toy } : {}),
    };
    writeStoreManifest(dir, manifest);
    return new StoreWriter(dir, manifest, opts);
  }

  private buffer(n: number): Float32Array | Uint16Array {
    return this.manifest.dtype === 'f16' ? new Uint16Array(n) : new Float32Array(n);
  }

  get complete(): boolean {
    return this.manifest.complete;
  }

  /**
   * Appends one sequence's rows. `values[h]` holds rows x n_neurons of hook h (row-major), `labels`
   * rows x label_columns, `tokenIds` may be undefined (toy samples, aggregated rows). `tokens` is
   * how many model tokens the sequence took (for the totals).
   */
  appendSequence(seq: {
    rows: number; seqIds: ArrayLike<number> | number; positions: ArrayLike<number>; tokenIds?: ArrayLike<number>;
    labels: Uint8Array; values: (Float32Array | Uint16Array)[]; tokens: number;
  }): void {
    const n = seq.rows;
    if (this.rows + n > this.cap) this.grow(this.rows + n);
    const hooks = this.manifest.hooks;
    for (let h = 0; h < hooks.length; h++) {
      const d = hooks[h]!.n_neurons;
      const src = seq.values[h]!;
      const what = `hook ${hooks[h]!.name}`;
      if (src.length < n * d) throw new Error(`${what}: ${src.length} values for ${n} rows of ${d}`);
      const at = (i: number) => {
        const r = Math.floor(i / d);
        return `${what}, seq_id ${typeof seq.seqIds === 'number' ? seq.seqIds : seq.seqIds[r]}, position ${seq.positions[r]}, neuron ${i % d}`;
      };
      const part = src.subarray(0, n * d);
      const dst = this.values[h]!;
      if (part instanceof Uint16Array) {
        // f16 bits already (the onnx engine casts in its graph): only for an f16 store, copied as they are.
        if (!(dst instanceof Uint16Array)) throw new Error(`${what}: f16 values for a ${this.manifest.dtype} store`);
        const bad = firstNonFiniteHalf(part);
        if (bad >= 0) throw new NumericError(`activation ${halfToFloatTable()[part[bad]!]} (beyond f16's range, or not finite) at ${at(bad)}; use --dtype f32`);
        dst.set(part, this.rows * d);
        continue;
      }
      for (let i = 0; i < n * d; i++) {
        if (!Number.isFinite(part[i]!)) throw new NumericError(`non-finite activation (${part[i]}) at ${at(i)}`);
      }
      if (dst instanceof Uint16Array) encodeHalfInto(part, dst, this.rows * d, what);
      else dst.set(part, this.rows * d);
    }
    for (let r = 0; r < n; r++) {
      const o = (this.rows + r) * 3;
      this.index[o] = typeof seq.seqIds === 'number' ? seq.seqIds : seq.seqIds[r]!;
      this.index[o + 1] = seq.positions[r]!;
      this.index[o + 2] = seq.tokenIds ? seq.tokenIds[r]! : -1;
    }
    this.labels.set(seq.labels.subarray(0, n * this.nLabels), this.rows * this.nLabels);
    this.rows += n;
    this.seqs++;
    this.tokens += seq.tokens;
    if (this.rows >= this.opts.chunkRows) this.flush();
  }

  /** Writes the buffered rows as one chunk (no-op when empty). */
  flush(): void {
    if (this.rows === 0) return;
    const m = this.manifest;
    const index = m.chunks.length;
    const files = chunkFiles(index, m.hooks, m.dtype);
    const sha256: Record<string, string> = {};
    // The checksum is of the bytes handed to the write, so a flip on disk (or in a copy) is caught on read.
    const put = (rel: string, bytes: Uint8Array) => {
      sha256[rel] = sha256Hex(bytes);
      writeFileAtomic(join(this.dir, rel), bytes);
    };
    m.hooks.forEach((h, i) => {
      const v = this.values[i]!;
      const enc = v instanceof Uint16Array
        ? { data: new Uint8Array(v.buffer, 0, this.rows * h.n_neurons * 2), qparams: undefined }
        : encodeChunk(v, this.rows, h.n_neurons, m.dtype, m.quantisation, `hook ${h.name}`);
      put(files.hooks[h.name]!.data, enc.data);
      if (enc.qparams) put(files.hooks[h.name]!.qparams!, new Uint8Array(enc.qparams.buffer));
    });
    put(files.rows, new Uint8Array(this.index.buffer, 0, this.rows * 3 * 4));
    put(files.labels, this.labels.subarray(0, this.rows * this.nLabels));
    m.chunks.push({ index, rows: this.rows, sequences: this.seqs, tokens: this.tokens, files, sha256 });
    m.total_rows += this.rows;
    m.total_sequences += this.seqs;
    m.total_tokens += this.tokens;
    writeStoreManifest(this.dir, m);
    this.rows = this.seqs = this.tokens = 0;
  }

  /** Flushes the last chunk and marks the store complete. */
  finish(extra: Record<string, unknown> = {}): StoreManifest {
    this.flush();
    Object.assign(this.manifest, extra, { complete: true });
    writeStoreManifest(this.dir, this.manifest);
    return this.manifest;
  }

  private grow(rows: number): void {
    const cap = Math.max(rows, Math.ceil(this.cap * 1.5));
    this.values = this.values.map((v, h) => {
      const nv = this.buffer(cap * this.manifest.hooks[h]!.n_neurons);
      nv.set(v);
      return nv;
    });
    const ni = new Int32Array(cap * 3);
    ni.set(this.index);
    this.index = ni;
    const nl = new Uint8Array(cap * this.nLabels);
    nl.set(this.labels);
    this.labels = nl;
    this.cap = cap;
  }
}

/** Removes chunk files a killed run wrote but never listed, and stray temp files. */
function cleanUnlisted(dir: string, m: StoreManifest): void {
  const listed = new Set<string>();
  for (const c of m.chunks) {
    listed.add(c.files.rows);
    listed.add(c.files.labels);
    for (const f of Object.values(c.files.hooks)) {
      listed.add(f.data);
      if (f.qparams) listed.add(f.qparams);
    }
  }
  const walk = (rel: string): void => {
    const abs = join(dir, rel);
    if (!existsSync(abs)) return;
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else if (!listed.has(r)) rmSync(join(dir, r), { force: true });
    }
  };
  for (const d of STORE_DIRS) walk(d);
}
