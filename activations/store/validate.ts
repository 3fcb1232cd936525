/**
 * What a store.json must say before any chunk is read: the fields the reader uses have the right types,
 * the chunk list is 0..n-1 with the file names the writer gives them (so a path cannot point outside
 * the store), and the totals are the sums over the chunks. From format version 2 every chunk carries the
 * sha256 of each of its files, checked as the file is read (`checkedBytes`); a version 1 store reads
 * without that check, with a note saying so.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, canonicalJson, readFileChecked, writeJsonAtomic } from '../../lab/core/index.ts';
import { STORE_FORMAT, STORE_FORMAT_VERSION, STORE_MANIFEST, chunkFiles, type StoreChunk, type StoreManifest } from './format.ts';
import { DTYPE_BYTES } from './quantize.ts';

/** Formats this reader opens: 1 (no checksums) and the current one. */
export const READABLE_FORMAT_VERSIONS = [1, STORE_FORMAT_VERSION];

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** Every relative file of one chunk with its expected byte length. */
export function chunkFileSizes(m: StoreManifest, c: StoreChunk): Array<[string, number]> {
  const out: Array<[string, number]> = [[c.files.rows, c.rows * 12], [c.files.labels, c.rows * m.dataset.label_columns.length]];
  for (const h of m.hooks) {
    const f = c.files.hooks[h.name]!;
    out.push([f.data, c.rows * h.n_neurons * DTYPE_BYTES[m.dtype]]);
    if (f.qparams) out.push([f.qparams, (m.quantisation === 'per_tensor' ? 1 : h.n_neurons) * 8]);
  }
  return out;
}

/**
 * Checks a parsed store.json against itself and the folder (no chunk data read). Returns notes for
 * the user (an old format without checksums). Throws an InputError naming `path` and the field.
 */
export function checkStoreManifest(m: StoreManifest, path: string, dir: string): string[] {
  const bad = (why: string) => new InputError(`${path}: ${why}: the store is corrupt (or was edited); rerun the harvest with --overwrite`, path);
  if (typeof m !== 'object' || m === null || m.format !== STORE_FORMAT) throw new InputError(`${path} is not a ${STORE_FORMAT} manifest`, path);
  if (!READABLE_FORMAT_VERSIONS.includes(m.format_version)) {
    throw new InputError(`${path} has store format version ${m.format_version}; this lab reads ${READABLE_FORMAT_VERSIONS.join(' and ')}: rerun the harvest with --overwrite`, path);
  }
  if (!(m.dtype in DTYPE_BYTES)) throw bad(`dtype ${JSON.stringify(m.dtype)} is not one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
  if (m.dtype === 'u8' && m.quantisation !== 'per_neuron' && m.quantisation !== 'per_tensor') throw bad(`u8 store with quantisation ${JSON.stringify(m.quantisation)}`);
  if (!Array.isArray(m.hooks) || m.hooks.length === 0) throw bad('no hooks');
  const names = new Set<string>();
  for (const h of m.hooks) {
    if (typeof h?.name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(h.name) || h.name.startsWith('.')) throw bad(`hook name ${JSON.stringify(h?.name)}`);
    if (names.has(h.name)) throw bad(`hook '${h.name}' is listed twice`);
    names.add(h.name);
    if (!isCount(h.n_neurons) || h.n_neurons === 0) throw bad(`hook '${h.name}' has n_neurons ${JSON.stringify(h.n_neurons)}`);
  }
  const d = m.dataset;
  if (!d || !Array.isArray(d.features) || !Array.isArray(d.label_columns) || !d.label_columns.every((c) => typeof c === 'string')) {
    throw bad('dataset.features / dataset.label_columns are not lists of names');
  }
  if (new Set(d.label_columns).size !== d.label_columns.length) throw bad('dataset.label_columns lists a column twice');
  if (!Array.isArray(m.chunks)) throw bad('chunks is not a list');
  const sums = { rows: 0, sequences: 0, tokens: 0 };
  m.chunks.forEach((c, i) => {
    if (typeof c !== 'object' || c === null) throw bad(`chunk ${i} is not an object`);
    if (c.index !== i) throw bad(`chunk ${i} has index ${JSON.stringify(c.index)} (a chunk entry is missing or out of order)`);
    for (const k of ['rows', 'sequences', 'tokens'] as const) {
      if (!isCount(c[k])) throw bad(`chunk ${i} has ${k} ${JSON.stringify(c[k])}`);
      sums[k] += c[k];
    }
    if (c.rows === 0) throw bad(`chunk ${i} has no rows`);
    const want = chunkFiles(i, m.hooks, m.dtype);
    if (JSON.stringify(c.files) !== JSON.stringify(want)) throw bad(`chunk ${i} names files other than the store's own (${JSON.stringify(want.rows)}, ...)`);
    if (m.format_version >= 2) {
      const sums256 = (c as StoreChunk).sha256;
      for (const [rel] of chunkFileSizes(m, c)) {
        if (typeof sums256?.[rel] !== 'string' || !/^[0-9a-f]{64}$/.test(sums256[rel]!)) throw bad(`chunk ${i} has no sha256 for ${rel}`);
      }
    }
  });
  if (m.total_rows !== sums.rows) throw bad(`total_rows is ${m.total_rows} but the chunks hold ${sums.rows} rows`);
  if (m.total_sequences !== sums.sequences) throw bad(`total_sequences is ${m.total_sequences} but the chunks hold ${sums.sequences}`);
  if (m.total_tokens !== sums.tokens) throw bad(`total_tokens is ${m.total_tokens} but the chunks hold ${sums.tokens}`);
  // A chunk written after the last listed one exists only while a harvest runs; in a complete store it
  // means a chunk entry was removed from the list.
  if (m.complete) {
    const next = chunkFiles(m.chunks.length, m.hooks, m.dtype).rows;
    if (existsSync(join(dir, next))) throw bad(`it lists ${m.chunks.length} chunks but ${next} exists`);
  }
  if (m.format_version >= 2 && m.digest !== storeDigest(m)) throw bad('its content does not match its digest (it was edited, or a byte changed)');
  return m.format_version < 2 ? [`${path}: store format 1 has no checksums, so its chunks are read unverified (a new harvest writes format ${STORE_FORMAT_VERSION})`] : [];
}

/** The digest of a store manifest: sha256 of its canonical JSON without the digest field. */
export function storeDigest(m: StoreManifest): string {
  const { digest: _d, ...rest } = m;
  return sha256Hex(Buffer.from(canonicalJson(rest), 'utf8'));
}

/** Writes store.json (atomically) with its digest. */
export function writeStoreManifest(dir: string, m: StoreManifest): void {
  m.digest = storeDigest(m);
  writeJsonAtomic(join(dir, STORE_MANIFEST), m);
}

/** Reads one chunk file, checking its length and (format 2) its sha256. */
export function checkedBytes(dir: string, rel: string, expect: number, sha?: string): Uint8Array {
  const p = join(dir, rel);
  const b = readFileChecked(p, Math.max(expect, 0), 'store chunk');
  if (b.length !== expect) throw new InputError(`${p} has ${b.length} bytes, expected ${expect}: the store is corrupt`, p);
  if (sha !== undefined && sha256Hex(b) !== sha) throw new InputError(`${p} does not match its sha256 in store.json: the store is corrupt (rerun the harvest with --overwrite)`, p);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
