/**
 * A user's own labelled text as a feature dataset (`lab harvest --dataset FILE`): JSON Lines, CSV or
 * Parquet, one record per line (row). Three record shapes:
 *   {"text": "...", "label": "french"}                   sequence level, one-hot over the label values
 *   {"text": "...", "labels": {"french": 1, "legal": 0}} sequence level, one binary feature per key
 *   {"text": "...", "spans": [{"start": 10, "end": 17, "feature": "person"}]}   token level
 * CSV and Parquet name their columns with --text-column (default text) and --label-column (default label;
 * several comma-separated columns are binary features named after them; one column of 0/1 values is one
 * binary feature, any other values are one-hot classes). A `spans` column (JSON text in CSV) works too.
 *
 * Span offsets count Unicode code points of the record's text (as Python's str indexes it), end exclusive.
 * A token is positive for a feature when its first non-space character lies inside a span of that
 * feature. Each record is a document of the built-in packer (sequences.ts): encoded with one leading space
 * like every built-in sentence, cut at token boundaries when longer than the context, sequence id =
 * record index (0-based, in file order) * 100000 + chunk (a file of more than 21,474 records uses 10000,
 * 1000, ... so ids fit int32), so splits by sequence keep a record's
 * pieces together and aggregation works as for the built-in sets.
 */
import { basename, resolve } from 'node:path';
import { InputError, UsageError } from '../../lab/core/index.ts';
import type { Tokenizer } from '../types.ts';
import type { EncodedText } from './align.ts';
import { packedDataset, SEQ_STRIDE, type SequenceOptions, type SourceDoc, type SourceSentence, type TextDataset } from './sequences.ts';
import { binaryValue, readTable, type Table, type TableRow } from './table-file.ts';

export interface UserFileOptions {
  /** Column (JSON key) holding the text; default 'text'. */
  textColumn?: string;
  /** Label column(s); default: 'label', else 'labels' (object), else 'spans' (token level). */
  labelColumns?: string[];
}

interface Span { start: number; end: number; feature: number }

interface UserRecord {
  text: string;
  where: string;
  seqLabels?: Record<string, 0 | 1>;
  /** UTF-16 offsets into text. */
  spans?: Span[];
}

export interface UserTable {
  path: string;
  sha256: string;
  format: Table['format'];
  level: 'token' | 'sequence';
  features: string[];
  records: UserRecord[];
  textColumn: string;
  labelColumns: string[];
}

const MAX_FEATURES = 10_000;

/** Reads and checks the whole file; every problem names the file, the line and the field. */
export async function readUserTable(path: string, opts: UserFileOptions = {}): Promise<UserTable> {
  const table = await readTable(path);
  const textColumn = opts.textColumn ?? 'text';
  if (!table.columns.includes(textColumn)) {
    throw new InputError(`${path}: no text column '${textColumn}' (columns: ${table.columns.join(', ')}); name it with --text-column`, path);
  }
  let labelColumns = opts.labelColumns;
  if (labelColumns === undefined) {
    const found = ['label', 'labels', 'spans'].find((c) => table.columns.includes(c));
    if (!found) throw new InputError(`${path}: no label column: expected 'label', 'labels' or 'spans' (columns: ${table.columns.join(', ')}); name it with --label-column`, path);
    labelColumns = [found];
  }
  for (const c of labelColumns) {
    if (!table.columns.includes(c)) throw new InputError(`${path}: label column '${c}' is missing (columns: ${table.columns.join(', ')})`, path);
  }
  const text = (row: TableRow): string => {
    const t = row.values[textColumn];
    if (typeof t !== 'string') throw new InputError(`${path} ${row.where}: '${textColumn}' must be a string, got ${JSON.stringify(t) ?? 'nothing'}`, path);
    if (t.trim() === '') throw new InputError(`${path} ${row.where}: '${textColumn}' is empty`, path);
    return t;
  };
  const base = { path: resolve(path), sha256: table.sha256, format: table.format, textColumn, labelColumns };
  if (labelColumns.length === 1 && labelColumns[0] === 'spans') return { ...base, level: 'token', ...spanRecords(path, table, text) };
  if (labelColumns.length === 1 && labelColumns[0] === 'labels') return { ...base, level: 'sequence', ...objectRecords(path, table, text) };
  return { ...base, level: 'sequence', ...columnRecords(path, table, text, labelColumns) };
}

function checkFeatureName(path: string, where: string, name: string): string {
  if (name.length === 0 || name.length > 200 || /[\x00-\x1f]/.test(name)) {
    throw new InputError(`${path} ${where}: feature name ${JSON.stringify(name)} must be 1-200 printable characters`, path);
  }
  return name;
}

function spanRecords(path: string, table: Table, text: (r: TableRow) => string): Pick<UserTable, 'features' | 'records'> {
  const featureIndex = new Map<string, number>();
  const records = table.rows.map((row): UserRecord => {
    const t = text(row);
    let raw = row.values.spans;
    if (typeof raw === 'string') {
      try {
        raw = JSON.parse(raw);
      } catch (err) {
        throw new InputError(`${path} ${row.where}: 'spans' is not valid JSON (${(err as Error).message})`, path);
      }
    }
    if (raw === undefined || raw === null) raw = [];
    if (!Array.isArray(raw)) throw new InputError(`${path} ${row.where}: 'spans' must be a list of {start, end, feature}`, path);
    const toUtf16 = codePointToUtf16(t);
    const nPoints = toUtf16.length - 1;
    const spans = raw.map((s: unknown, k: number): Span => {
      const o = s as { start?: unknown; end?: unknown; feature?: unknown };
      const field = `spans[${k}]`;
      if (typeof o !== 'object' || o === null) throw new InputError(`${path} ${row.where}: ${field} must be an object {start, end, feature}`, path);
      const start = typeof o.start === 'bigint' ? Number(o.start) : o.start;
      const end = typeof o.end === 'bigint' ? Number(o.end) : o.end;
      if (typeof o.feature !== 'string') throw new InputError(`${path} ${row.where}: ${field}.feature must be a string`, path);
      if (!Number.isInteger(start) || !Number.isInteger(end)) throw new InputError(`${path} ${row.where}: ${field}.start and .end must be whole numbers`, path);
      const a = start as number;
      const b = end as number;
      if (a < 0 || b <= a || b > nPoints) {
        throw new InputError(`${path} ${row.where}: ${field} [${a}, ${b}) lies outside its text of ${nPoints} characters (need 0 <= start < end <= length)`, path);
      }
      let f = featureIndex.get(o.feature);
      if (f === undefined) {
        featureIndex.set(checkFeatureName(path, row.where, o.feature), (f = featureIndex.size));
        if (featureIndex.size > MAX_FEATURES) throw new InputError(`${path}: more than ${MAX_FEATURES} features`, path);
      }
      return { start: toUtf16[a]!, end: toUtf16[b]!, feature: f };
    });
    return { text: t, where: row.where, spans };
  });
  if (featureIndex.size === 0) throw new InputError(`${path}: no record has a span, so there is no feature to label`, path);
  return { features: [...featureIndex.keys()], records };
}

/** UTF-16 index of each code point index 0..n (so offsets from Python land on the same characters). */
function codePointToUtf16(s: string): Int32Array {
  const out: number[] = [];
  let i = 0;
  for (const ch of s) {
    out.push(i);
    i += ch.length;
  }
  out.push(i);
  return Int32Array.from(out);
}

function objectRecords(path: string, table: Table, text: (r: TableRow) => string): Pick<UserTable, 'features' | 'records'> {
  const first = table.rows[0]!;
  const keysOf = (row: TableRow): string[] => {
    let o = row.values.labels;
    if (typeof o === 'string') {
      try {
        o = JSON.parse(o);
      } catch {
        /* reported below */
      }
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InputError(`${path} ${row.where}: 'labels' must be an object of feature: 0/1`, path);
    row.values.labels = o;
    return Object.keys(o);
  };
  const features = keysOf(first).map((k) => checkFeatureName(path, first.where, k));
  if (features.length === 0) throw new InputError(`${path} ${first.where}: 'labels' is empty`, path);
  const records = table.rows.map((row): UserRecord => {
    const t = text(row);
    const keys = keysOf(row);
    const o = row.values.labels as Record<string, unknown>;
    const extra = keys.find((k) => !features.includes(k));
    if (extra !== undefined) throw new InputError(`${path} ${row.where}: labels has '${extra}', which ${first.where} does not (every record must label the same features)`, path);
    const seqLabels: Record<string, 0 | 1> = {};
    for (const f of features) {
      if (!(f in o)) throw new InputError(`${path} ${row.where}: labels lacks '${f}' (every record must label the same features)`, path);
      const v = binaryValue(o[f]);
      if (v === undefined) throw new InputError(`${path} ${row.where}: labels.${f} must be 0 or 1, got ${JSON.stringify(o[f])}`, path);
      seqLabels[f] = v;
    }
    return { text: t, where: row.where, seqLabels };
  });
  return { features, records };
}

function columnRecords(path: string, table: Table, text: (r: TableRow) => string, cols: string[]): Pick<UserTable, 'features' | 'records'> {
  const present = (row: TableRow, c: string): unknown => {
    const v = row.values[c];
    if (v === undefined || v === null || v === '') throw new InputError(`${path} ${row.where}: label column '${c}' is empty`, path);
    return v;
  };
  const binary = cols.length > 1 || table.rows.every((r) => binaryValue(present(r, cols[0]!)) !== undefined);
  if (binary) {
    const records = table.rows.map((row): UserRecord => {
      const seqLabels: Record<string, 0 | 1> = {};
      for (const c of cols) {
        const v = binaryValue(present(row, c));
        if (v === undefined) throw new InputError(`${path} ${row.where}: label column '${c}' must be 0 or 1 (several --label-column columns are binary features), got ${JSON.stringify(row.values[c])}`, path);
        seqLabels[c] = v;
      }
      return { text: text(row), where: row.where, seqLabels };
    });
    return { features: cols.map((c) => checkFeatureName(path, 'header', c)), records };
  }
  // One column of class names: one-hot features, in order of first appearance.
  const col = cols[0]!;
  const classes: string[] = [];
  const values = table.rows.map((row) => {
    const v = present(row, col);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new InputError(`${path} ${row.where}: label column '${col}' must be a class name, got ${JSON.stringify(v)}`, path);
    const name = checkFeatureName(path, row.where, String(v));
    if (!classes.includes(name)) classes.push(name);
    if (classes.length > MAX_FEATURES) throw new InputError(`${path}: label column '${col}' has more than ${MAX_FEATURES} classes`, path);
    return name;
  });
  const records = table.rows.map((row, i): UserRecord => ({
    text: text(row), where: row.where, seqLabels: Object.fromEntries(classes.map((c) => [c, c === values[i] ? 1 : 0])) as Record<string, 0 | 1>,
  }));
  return { features: classes, records };
}

/** Token labels from spans: a token is positive when its first non-space character lies in a span. */
export function spanTokenLabels(enc: EncodedText, text: string, offset: number, spans: Span[], features: string[]): Record<string, Uint8Array> {
  const n = enc.ids.length;
  const out = features.map(() => new Uint8Array(n));
  for (let i = 0; i < n; i++) {
    let c = enc.start[i]!;
    const to = Math.max(enc.end[i]!, c + 1);
    while (c < to && /\s/.test(text[c] ?? '')) c++;
    if (c >= to || c >= text.length) continue;
    const at = c - offset;
    for (const s of spans) if (at >= s.start && at < s.end) out[s.feature]![i] = 1;
  }
  return Object.fromEntries(features.map((f, j) => [f, out[j]!]));
}

/** The dataset a read file makes, for one tokenizer. */
export function userFileDataset(tok: Tokenizer, t: UserTable, opts: SequenceOptions): TextDataset {
  const docs: SourceDoc[] = t.records.map((r, index) => ({
    index,
    name: `${basename(t.path)} ${r.where}`,
    sentences: (): SourceSentence[] => [{ text: r.text, ...(r.spans ? { spans: r.spans } : {}) } as SourceSentence],
  }));
  // Sequence ids are int32 in the store: many records get a smaller stride (a power of ten), recorded in the config.
  let seqStride = SEQ_STRIDE;
  while (seqStride > 10 && t.records.length * seqStride > 2 ** 31 - 1) seqStride /= 10;
  if (t.records.length * seqStride > 2 ** 31 - 1) throw new UsageError(`${t.path}: too many records (${t.records.length}) for int32 sequence ids: split the file`, 'dataset');
  return packedDataset(
    tok,
    {
      name: `file:${basename(t.path)}`,
      level: t.level,
      features: t.features,
      docs: () => docs,
      seqStride,
      config: { seq_stride: seqStride, file: t.path, sha256: t.sha256, format: t.format, text_column: t.textColumn, label_columns: t.labelColumns, level: t.level },
      ...(t.level === 'token'
        ? { tokenLabels: (s, enc, text, offset) => spanTokenLabels(enc, text, offset, (s as SourceSentence & { spans: Span[] }).spans, t.features) }
        : { seqLabels: (doc) => t.records[doc.index]!.seqLabels! }),
    },
    opts,
  );
}
