import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { LabelledSequence } from '../types.ts';
import { encodeAligned, gpt2Tokenizer, readUserTable, SEQ_STRIDE, spanTokenLabels, userFileDataset } from './index.ts';

const tok = gpt2Tokenizer();
const tmp = mkdtempSync(join(tmpdir(), 'user-file-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, body: string | Uint8Array) => {
  const p = join(tmp, name);
  writeFileSync(p, body);
  return p;
};
const jsonl = (name: string, rows: unknown[]) => file(name, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
const all = (ds: { sequences(): Iterable<LabelledSequence> }) => [...ds.sequences()];

describe('a user file of sequence labels', () => {
  it('one-hot labels from "label", binary ones from "labels", a long record cut into chunks that keep its id and labels', async () => {
    const p = jsonl('lang.jsonl', [
      { text: 'Le chat dort.', label: 'french' },
      { text: 'The cat sleeps.', label: 'english' },
      { text: 'Die Katze schläft. '.repeat(20), label: 'german' },
    ]);
    const t = await readUserTable(p);
    expect(t.level).toBe('sequence');
    expect(t.features).toEqual(['french', 'english', 'german']);
    const ds = userFileDataset(tok, t, { context: 16, seed: 0 });
    const seqs = all(ds);
    const byRecord = new Map<number, LabelledSequence[]>();
    for (const s of seqs) byRecord.set(Math.floor(s.seqId / SEQ_STRIDE), [...(byRecord.get(Math.floor(s.seqId / SEQ_STRIDE)) ?? []), s]);
    expect([...byRecord.keys()].sort()).toEqual([0, 1, 2]);
    expect(byRecord.get(0)![0]!.seqLabels).toEqual({ french: 1, english: 0, german: 0 });
    // The German record (~120 tokens) is cut into pieces of at most 15 tokens plus BOS, ids record*STRIDE + 0, 1, ...
    const de = byRecord.get(2)!;
    expect(de.length).toBeGreaterThan(5);
    expect(de.map((s) => s.seqId)).toEqual(de.map((_, k) => 2 * SEQ_STRIDE + k));
    for (const s of de) {
      expect(s.ids.length).toBeLessThanOrEqual(16);
      expect(s.seqLabels).toEqual({ french: 0, english: 0, german: 1 });
    }
    // The tokens are the record's text with one leading space, as every built-in sentence.
    expect(tok.decode(byRecord.get(1)![0]!.ids.slice(1))).toBe(' The cat sleeps.');

    const q = jsonl('multi.jsonl', [{ text: 'a', labels: { legal: 1, french: 0 } }, { text: 'b', labels: { french: true, legal: false } }]);
    const u = await readUserTable(q);
    expect(u.features).toEqual(['legal', 'french']);
    expect(all(userFileDataset(tok, u, { context: 8, seed: 0 })).map((s) => s.seqLabels).sort((a, b) => a!.legal! - b!.legal!)).toEqual([
      { legal: 0, french: 1 }, { legal: 1, french: 0 },
    ]);
  });

  it('CSV and Parquet with --text-column / --label-column read the same records as the JSON Lines file', async () => {
    const rows = [
      { body: 'Hello, "world"\nsecond line', lang: 'english', legal: 1 },
      { body: 'Bonjour', lang: 'french', legal: 0 },
      { body: 'Hallo', lang: 'german', legal: 1 },
    ];
    const csvQuote = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const csv = file('t.csv', 'body,lang,legal\n' + rows.map((r) => `${csvQuote(r.body)},${r.lang},${r.legal}`).join('\n') + '\n');
    const pq = file('t.parquet', new Uint8Array(parquetWriteBuffer({
      columnData: [
        { name: 'body', data: rows.map((r) => r.body) }, { name: 'lang', data: rows.map((r) => r.lang) }, { name: 'legal', data: rows.map((r) => r.legal), type: 'INT32' },
      ],
    })));
    const js = jsonl('t.jsonl', rows.map((r) => ({ body: r.body, label: r.lang })));
    const a = await readUserTable(csv, { textColumn: 'body', labelColumns: ['lang'] });
    const b = await readUserTable(pq, { textColumn: 'body', labelColumns: ['lang'] });
    const c = await readUserTable(js, { textColumn: 'body' });
    expect(a.format).toBe('csv');
    expect(b.format).toBe('parquet');
    for (const t of [a, b]) {
      expect(t.features).toEqual(['english', 'french', 'german']);
      expect(t.records.map((r) => [r.text, r.seqLabels])).toEqual(c.records.map((r) => [r.text, r.seqLabels]));
    }
    expect(a.records.map((r) => r.where)).toEqual(['line 3', 'line 4', 'line 5']); // a quoted newline spans lines 2-3
    // Two 0/1 columns are two binary features; one 0/1 column is one binary feature named after it.
    const d = await readUserTable(pq, { textColumn: 'body', labelColumns: ['legal'] });
    expect(d.features).toEqual(['legal']);
    expect(d.records.map((r) => r.seqLabels!.legal)).toEqual([1, 0, 1]);
  });
});

describe('a user file of token spans', () => {
  it('labels a token when its first non-space character lies in a span (hand-checked on GPT-2 tokens)', async () => {
    // Code-point offsets: the emoji is one character to Python, two UTF-16 units to JavaScript.
    const text = 'Alice met Bob in 😀 Paris.';
    const p = jsonl('spans.jsonl', [{ text, spans: [
      { start: 0, end: 5, feature: 'person' }, { start: 10, end: 13, feature: 'person' }, { start: 19, end: 24, feature: 'place' }, { start: 2, end: 4, feature: 'inner' },
    ] }, { text: 'No entities here.', spans: [] }]);
    const t = await readUserTable(p);
    expect(t.level).toBe('token');
    expect(t.features).toEqual(['person', 'place', 'inner']);
    const seqs = all(userFileDataset(tok, t, { context: 64, seed: 0 }));
    const s = seqs.find((q) => q.seqId === 0)!;
    const pieces = s.ids.map((id) => tok.decode([id]));
    const on = (f: string) => pieces.filter((_, i) => s.tokenLabels![f]![i] === 1).join('|');
    expect(on('person')).toBe(' Alice| Bob');
    expect(on('place')).toBe(' Paris');
    expect(on('inner')).toBe(''); // 'ic' is inside ' Alice' but its first non-space character 'A' is not
    expect(s.tokenLabels!.person![0]).toBe(0); // BOS
    const none = seqs.find((q) => q.seqId === SEQ_STRIDE)!;
    expect([...none.tokenLabels!.person!].every((v) => v === 0)).toBe(true);
  });

  it('a span starting mid-token labels the next token only, and whitespace-only tokens are never positive', () => {
    const text = '  hello   world';
    const enc = encodeAligned(tok, text);
    const got = spanTokenLabels(enc, text, 0, [{ start: 0, end: text.length, feature: 0 }, { start: 9, end: 15, feature: 1 }], ['all', 'world']);
    enc.ids.forEach((_, i) => {
      const piece = text.slice(enc.start[i]!, enc.end[i]!);
      expect(got.all![i]).toBe(piece.trim() === '' ? 0 : 1);
      expect(got.world![i]).toBe(piece.includes('world') ? 1 : 0);
    });
  });
});

describe('bad user files', () => {
  it('names the file, the line and the field, before anything is built', async () => {
    const bad = file('bad.jsonl', '{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n{"text": "c", "label": \n');
    await expect(readUserTable(bad)).rejects.toThrow(/bad\.jsonl line 3: not valid JSON/);
    const outside = jsonl('outside.jsonl', [{ text: 'short', spans: [{ start: 2, end: 9, feature: 'x' }] }]);
    await expect(readUserTable(outside)).rejects.toThrow(/outside\.jsonl line 1: spans\[0\] \[2, 9\) lies outside its text of 5 characters/);
    const csv = file('nolabel.csv', 'text,lang\nhello,en\n');
    await expect(readUserTable(csv, { labelColumns: ['language'] })).rejects.toThrow(/nolabel\.csv: label column 'language' is missing \(columns: text, lang\)/);
    await expect(readUserTable(csv)).rejects.toThrow(/nolabel\.csv: no label column/);
    await expect(readUserTable(csv, { textColumn: 'body', labelColumns: ['lang'] })).rejects.toThrow(/no text column 'body'/);
    const ragged = file('ragged.csv', 'text,label\na,x\nb,y,z\n');
    await expect(readUserTable(ragged)).rejects.toThrow(/ragged\.csv: .*line 3/);
    const lacking = jsonl('lacking.jsonl', [{ text: 'a', labels: { p: 1, q: 0 } }, { text: 'b', labels: { p: 1 } }]);
    await expect(readUserTable(lacking)).rejects.toThrow(/lacking\.jsonl line 2: labels lacks 'q'/);
    const notBinary = jsonl('nb.jsonl', [{ text: 'a', labels: { p: 2 } }]);
    await expect(readUserTable(notBinary)).rejects.toThrow(/nb\.jsonl line 1: labels\.p must be 0 or 1, got 2/);
    const empty = jsonl('empty.jsonl', [{ text: 'a', label: 'x' }, { text: '  ', label: 'y' }]);
    await expect(readUserTable(empty)).rejects.toThrow(/empty\.jsonl line 2: 'text' is empty/);
    await expect(readUserTable(join(tmp, 'x.txt'))).rejects.toThrow(/unknown table format '\.txt'/);
    await expect(readUserTable(join(tmp, 'missing.jsonl'))).rejects.toThrow(/cannot read .*missing\.jsonl/);
    const notPq = file('not.parquet', 'hello');
    await expect(readUserTable(notPq)).rejects.toThrow(/not\.parquet: cannot read Parquet/);
  });
});
