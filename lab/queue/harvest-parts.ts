/**
 * Chunk parts: how a queue worker hands a harvest chunk's rows to the coordinator. A chunk is up to
 * --chunk-mb (64 MiB) of float32 values, too heavy for Redis, so it goes through the run directory's
 * file system: the worker writes `<out>/.queue/chunk-NNNNN.part` atomically, the coordinator reads it,
 * appends its sequences to the store with the same StoreWriter a local run uses, and deletes it.
 *
 * The folder also holds `token`, a random value the coordinator writes once per store and every job
 * carries: a worker that cannot read it (or reads another) is not looking at the coordinator's file
 * system, and fails the job naming the path instead of writing a part nobody would see.
 *
 * Layout (little-endian): u32 header length, the JSON header (padded with spaces to a multiple of 4),
 * int32 rows [R, 3] (seq_id, position, token_id or -1), uint8 labels [R, F] (padded to 4), then per hook
 * float32 [R, n_neurons]. Values are the loop's floats before any dtype encoding (the writer encodes).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, writeFileAtomic } from '../core/index.ts';
import type { ChunkSpan, SequenceRows } from '../../activations/index.ts';

export const PARTS_DIR = '.queue';
const FORMAT = 'neuronlab-harvest-part';

export interface PartHeader {
  format: typeof FORMAT;
  /** The queued run's id: a part of another run (another config) is never appended. */
  run_id: string;
  chunk: ChunkSpan;
  hooks: number[];
  label_columns: number;
  /** [rows, tokens] per sequence, in order. */
  sequences: [number, number][];
}

export const partPath = (dir: string, index: number) => join(dir, PARTS_DIR, `chunk-${String(index).padStart(5, '0')}.part`);
export const tokenPath = (dir: string) => join(dir, PARTS_DIR, 'token');

/** The store's token: the one already there (an earlier coordinator's jobs carry it), else a new one. */
export function ensureToken(dir: string): string {
  const p = tokenPath(dir);
  if (existsSync(p)) return readFileSync(p, 'utf8').trim();
  const token = randomBytes(16).toString('hex');
  writeFileAtomic(p, token + '\n');
  return token;
}

export function encodePart(runId: string, chunk: ChunkSpan, hooks: number[], nLabels: number, seqs: SequenceRows[]): Uint8Array {
  const R = seqs.reduce((a, s) => a + s.rows, 0);
  const header: PartHeader = { format: FORMAT, run_id: runId, chunk, hooks, label_columns: nLabels, sequences: seqs.map((s) => [s.rows, s.tokens]) };
  let json = JSON.stringify(header);
  json += ' '.repeat((4 - ((4 + Buffer.byteLength(json)) % 4)) % 4);
  const head = Buffer.byteLength(json);
  const labelsBytes = Math.ceil((R * nLabels) / 4) * 4;
  const total = 4 + head + R * 12 + labelsBytes + hooks.reduce((a, d) => a + R * d * 4, 0);
  const buf = new Uint8Array(total);
  new DataView(buf.buffer).setUint32(0, head, true);
  buf.set(Buffer.from(json), 4);
  let off = 4 + head;
  const index = new Int32Array(buf.buffer, off, R * 3);
  const labels = new Uint8Array(buf.buffer, off + R * 12, R * nLabels);
  let r = 0;
  for (const s of seqs) {
    for (let i = 0; i < s.rows; i++, r++) {
      index[r * 3] = typeof s.seqIds === 'number' ? s.seqIds : s.seqIds[i]!;
      index[r * 3 + 1] = s.positions[i]!;
      index[r * 3 + 2] = s.tokenIds ? s.tokenIds[i]! : -1;
    }
    labels.set(s.labels.subarray(0, s.rows * nLabels), (r - s.rows) * nLabels);
  }
  off += R * 12 + labelsBytes;
  hooks.forEach((d, h) => {
    const out = new Float32Array(buf.buffer, off, R * d);
    let row = 0;
    for (const s of seqs) {
      out.set(s.values[h]!.subarray(0, s.rows * d), row * d);
      row += s.rows;
    }
    off += R * d * 4;
  });
  return buf;
}

/** Reads a part back as the sequences the worker made; the error names the file. */
export function decodePart(path: string): { header: PartHeader; seqs: SequenceRows[] } {
  const file = readFileSync(path);
  // A copy aligned for the typed views (Buffer pools may start at any byte offset).
  const buf = new Uint8Array(file.length);
  buf.set(file);
  const bad = (why: string) => new InputError(`${path} is not a whole harvest part (${why}): delete it and rerun`, path);
  if (buf.length < 4) throw bad('shorter than its header');
  const head = new DataView(buf.buffer).getUint32(0, true);
  if (4 + head > buf.length) throw bad('truncated header');
  let header: PartHeader;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, 4, head).toString('utf8')) as PartHeader;
  } catch {
    throw bad('unreadable header');
  }
  if (header.format !== FORMAT) throw bad(`format '${header.format}'`);
  const R = header.sequences.reduce((a, s) => a + s[0], 0);
  const F = header.label_columns;
  const labelsBytes = Math.ceil((R * F) / 4) * 4;
  let off = 4 + head;
  const want = off + R * 12 + labelsBytes + header.hooks.reduce((a, d) => a + R * d * 4, 0);
  if (buf.length !== want) throw bad(`${buf.length} bytes, the header describes ${want}`);
  const index = new Int32Array(buf.buffer, off, R * 3);
  const labels = new Uint8Array(buf.buffer, off + R * 12, R * F);
  off += R * 12 + labelsBytes;
  const values = header.hooks.map((d) => {
    const v = new Float32Array(buf.buffer, off, R * d);
    off += R * d * 4;
    return v;
  });
  const seqs: SequenceRows[] = [];
  let r = 0;
  for (const [rows, tokens] of header.sequences) {
    const seqIds = new Int32Array(rows);
    const positions = new Int32Array(rows);
    const tokenIds = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      seqIds[i] = index[(r + i) * 3]!;
      positions[i] = index[(r + i) * 3 + 1]!;
      tokenIds[i] = index[(r + i) * 3 + 2]!;
    }
    seqs.push({
      rows, tokens, seqIds, positions, tokenIds, labels: labels.subarray(r * F, (r + rows) * F),
      values: header.hooks.map((d, h) => values[h]!.subarray(r * d, (r + rows) * d)),
    });
    r += rows;
  }
  return { header, seqs };
}
