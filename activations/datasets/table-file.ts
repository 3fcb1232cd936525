/**
 * Reading a user's table of records: JSON Lines, CSV (csv-parse) or Parquet (hyparquet). Every row comes
 * back as a plain object with where it came from ('line 7', 'row 7'), so whoever checks the values can
 * name the line. Used for a user's labelled text (`lab harvest --dataset FILE`) and for the labels of
 * imported activations (`lab store import --labels FILE`).
 *
 * Parquet: hyparquet, a maintained pure-JavaScript reader with no dependencies and no install script
 * (it reads snappy, the pandas/pyarrow default, itself; gzip, zstd and brotli files need its optional
 * hyparquet-compressors, which the lab does not bundle, and are refused with that advice).
 */
import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { InputError } from '../../lab/core/index.ts';

export type TableFormat = 'jsonl' | 'csv' | 'parquet';

export interface TableRow {
  /** 'line N' (JSON Lines, CSV: the file's line, 1-based) or 'row N' (Parquet, 1-based). */
  where: string;
  values: Record<string, unknown>;
}

export interface Table {
  path: string;
  format: TableFormat;
  /** Column names (CSV header, Parquet schema; JSON Lines: keys in order of first appearance). */
  columns: string[];
  rows: TableRow[];
  /** sha256 of the file's bytes, for config hashes (a changed file is another dataset). */
  sha256: string;
}

const FORMATS: Record<string, TableFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.json': 'jsonl', '.csv': 'csv', '.parquet': 'parquet', '.pq': 'parquet' };

/** The format a path's extension names, or undefined. */
export function tableFormat(path: string): TableFormat | undefined {
  return FORMATS[extname(path).toLowerCase()];
}

export async function readTable(path: string): Promise<Table> {
  const format = tableFormat(path);
  if (!format) throw new InputError(`${path}: unknown table format '${extname(path)}' (expected .jsonl, .csv or .parquet)`, path);
  let bytes: Buffer;
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const t = format === 'jsonl' ? readJsonLines(path, bytes) : format === 'csv' ? await readCsv(path, bytes) : await readParquet(path, bytes);
  if (t.rows.length === 0) throw new InputError(`${path} holds no records`, path);
  return { path, format, sha256, ...t };
}

function readJsonLines(path: string, bytes: Buffer): Pick<Table, 'columns' | 'rows'> {
  const text = bytes.toString('utf8');
  const rows: TableRow[] = [];
  const columns = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new InputError(`${path} line ${i + 1}: not valid JSON (${(err as Error).message})`, path);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(`${path} line ${i + 1}: expected a JSON object, got ${Array.isArray(v) ? 'an array' : JSON.stringify(v)}`, path);
    for (const k of Object.keys(v)) columns.add(k);
    rows.push({ where: `line ${i + 1}`, values: v as Record<string, unknown> });
  }
  return { columns: [...columns], rows };
}

async function readCsv(path: string, bytes: Buffer): Promise<Pick<Table, 'columns' | 'rows'>> {
  const { parse } = await import('csv-parse/sync');
  let records: { info: { lines: number }; record: Record<string, string> }[];
  let columns: string[] = [];
  try {
    records = parse(bytes, {
      bom: true,
      columns: (header: string[]) => (columns = header.map((h) => h.trim())),
      info: true,
      skip_empty_lines: true,
      relax_column_count: false,
    }) as unknown as typeof records;
  } catch (err) {
    // csv-parse's messages name the line ("Invalid Record Length: expect 2, got 3 on line 4").
    throw new InputError(`${path}: ${(err as Error).message}`, path);
  }
  // info.lines is the line the record ends on (a quoted field may span lines).
  return { columns, rows: records.map((r) => ({ where: `line ${r.info.lines}`, values: r.record })) };
}

async function readParquet(path: string, bytes: Buffer): Promise<Pick<Table, 'columns' | 'rows'>> {
  const { parquetMetadata, parquetReadObjects, parquetSchema } = await import('hyparquet');
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let columns: string[];
  let objects: Record<string, unknown>[];
  try {
    const metadata = parquetMetadata(file);
    columns = parquetSchema(metadata).children.map((c) => c.element.name);
    objects = await parquetReadObjects({ file, metadata, rowFormat: 'object' });
  } catch (err) {
    const msg = (err as Error).message;
    const hint = /compress|codec|gzip|zstd|brotli|lz4/i.test(msg) ? ' (the lab reads uncompressed and snappy Parquet: rewrite it with compression="snappy")' : '';
    throw new InputError(`${path}: cannot read Parquet: ${msg}${hint}`, path);
  }
  return { columns, rows: objects.map((values, i) => ({ where: `row ${i + 1}`, values: normaliseParquet(values) })) };
}

/** Parquet integers come back as BigInt (INT64): small ones become numbers so 0/1 checks work. */
function normaliseParquet(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'bigint' && x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
  return out;
}

/** A 0/1 label value: 0, 1, true, false, '0', '1', 'true', 'false'; anything else is undefined. */
export function binaryValue(x: unknown): 0 | 1 | undefined {
  if (x === 0 || x === false || x === '0' || x === 'false' || x === 'False') return 0;
  if (x === 1 || x === true || x === '1' || x === 'true' || x === 'True') return 1;
  if (typeof x === 'string' && /^\s*[01](\.0*)?\s*$/.test(x)) return Number(x) as 0 | 1;
  return undefined;
}
