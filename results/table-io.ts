/**
 * Tables on disk: CSV for people and other tools, Arrow IPC for fast typed reloads. Every read names
 * the file when it fails, and every write goes through lab/core/run-dir.ts so it is atomic.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { InputError } from '../lab/core/index.ts';
import { writeFileAtomic, type RunDir } from '../lab/core/index.ts';

export type { ColumnTable };

/** Reads a .csv or .arrow file into an arquero table; a missing, empty or truncated file is an InputError naming it. */
export function readTable(path: string): ColumnTable {
  if (!existsSync(path)) throw new InputError(`${path} is missing`, path);
  const ext = extname(path).toLowerCase();
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
  if (ext === '.arrow' || ext === '.feather' || ext === '.ipc') {
    try {
      return aq.fromArrow(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (err) {
      throw new InputError(`${path} is not a readable Arrow IPC file: ${(err as Error).message}`, path);
    }
  }
  return parseCsv(bytes.toString('utf8'), path);
}

/** Parses CSV text; `source` names it in errors. */
export function parseCsv(text: string, source: string): ColumnTable {
  if (text.trim().length === 0) throw new InputError(`${source} is empty (no header row)`, source);
  checkComplete(text, source);
  try {
    return aq.fromCSV(text);
  } catch (err) {
    throw new InputError(`${source} is not valid CSV: ${(err as Error).message}`, source);
  }
}

/**
 * A table cut off mid-write (by a tool that did not write atomically) shows as a last row with fewer
 * fields than the header. Quoted fields may hold commas and newlines, so fields are counted with quotes
 * in mind.
 */
function checkComplete(text: string, source: string): void {
  const rows = splitRows(text);
  if (rows.length < 2) return;
  const width = rows[0]!;
  const last = rows[rows.length - 1]!;
  if (last !== width) {
    throw new InputError(
      `${source} looks truncated: its last row has ${last} fields where the header has ${width}`,
      source,
    );
  }
}

/** Field counts per non-empty row. */
function splitRows(text: string): number[] {
  const counts: number[] = [];
  let fields = 1;
  let inQuotes = false;
  let rowHasContent = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') i++;
        else inQuotes = false;
      }
      continue;
    }
    if (c === '"') {
      inQuotes = true;
      rowHasContent = true;
    } else if (c === ',') {
      fields++;
      rowHasContent = true;
    } else if (c === '\n' || c === '\r') {
      if (rowHasContent) counts.push(fields);
      fields = 1;
      rowHasContent = false;
    } else {
      rowHasContent = true;
    }
  }
  if (rowHasContent) counts.push(fields);
  return counts;
}

export function tableToCsv(table: ColumnTable): string {
  const csv = aq.toCSV(table);
  return csv.endsWith('\n') ? csv : csv + '\n';
}

export function tableToArrow(table: ColumnTable): Uint8Array {
  return aq.toArrowIPC(table);
}

/**
 * Writes `name.csv` and `name.arrow` (unless `arrow: false`) into a run directory being written, both
 * recorded in its manifest.
 */
export function writeRunTable(run: RunDir, name: string, table: ColumnTable, opts: { arrow?: boolean } = {}): void {
  run.write(`${name}.csv`, tableToCsv(table));
  if (opts.arrow !== false) run.write(`${name}.arrow`, tableToArrow(table));
}

/** Writes one table to a path, atomically, as CSV or Arrow by its extension. */
export function writeTable(path: string, table: ColumnTable): void {
  const ext = extname(path).toLowerCase();
  writeFileAtomic(path, ext === '.arrow' ? tableToArrow(table) : tableToCsv(table));
}

/** Reads `name.arrow` when present (typed, faster), else `name.csv`; undefined when neither exists. */
export function readRunTable(dir: string, name: string): ColumnTable | undefined {
  for (const ext of ['.arrow', '.csv']) {
    const path = `${dir}/${name}${ext}`;
    if (existsSync(path)) return readTable(path);
  }
  return undefined;
}
