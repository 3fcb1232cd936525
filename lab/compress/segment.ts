/**
 * From bytes to the items the coder codes, and back.
 *
 * The model's tokenizer takes strings, so any byte string is cut into text the tokenizer reproduces
 * exactly and raw bytes that go around it (the escape scheme):
 *
 *   1. Maximal runs of valid UTF-8 become text; invalid bytes and control characters other than
 *      tab, newline, form feed and carriage return (NUL, ESC, DEL, ...) are raw. A text run shorter
 *      than MIN_TEXT_BYTES between raw bytes is raw as well, so binary data does not pay for an
 *      escape every few bytes nor for the model's guesses at its ASCII fragments.
 *   2. A text run is kept whole when decode(encode(run)) === run, which byte-level BPE (GPT-2, GPT-NeoX)
 *      satisfies for any valid text. Otherwise (a tokenizer with <unk>, a normaliser such as NFC) it
 *      is split into lines, a failing line into words, a failing word into code points; a code point
 *      the tokenizer cannot reproduce is raw. Neighbouring pieces that round-trip are joined again
 *      when their concatenation round-trips too.
 *
 * In the coded stream an item is a token, or ESC (one extra symbol after the vocabulary) followed by
 * a byte L coded as 8 raw bits: L = 0 marks a break between two text segments (the decoder decodes
 * each segment's tokens on its own, since decode(a ++ b) need not equal decode(a) + decode(b)), and
 * L = 1..255 is followed by L raw bytes of 8 bits each. The model sees only the tokens; raw bytes and
 * breaks do not enter its context.
 */
import type { Tokenizer } from '../../activations/index.ts';

export const MIN_TEXT_BYTES = 8;
export const MAX_RAW_RUN = 255;

export type Item = { kind: 'token'; id: number } | { kind: 'raw'; bytes: Uint8Array } | { kind: 'break' };

type Segment = { text: string; ids: number[] } | { raw: Uint8Array };

const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true }); // keep a leading BOM: it is data
const utf8Encoder = new TextEncoder();

/** Length of the valid UTF-8 sequence starting at i (WHATWG rules), or 0 if the byte there starts none. */
export function utf8CharLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/**
 * Control characters other than tab, newline, form feed and carriage return (C0 and DEL). Text holds
 * almost none; binary files (NUL padding, headers) are full of them, and a language model would code
 * them, and the short runs between them, far above 8 bits a byte.
 */
function isBinaryControl(c: number): boolean {
  return (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || c === 0x7f;
}

/** Length of the text character at i: valid UTF-8 that is not a binary control; 0 for a raw byte. */
function textCharLength(b: Uint8Array, i: number): number {
  return isBinaryControl(b[i]!) ? 0 : utf8CharLength(b, i);
}

/** Splits bytes into alternating text runs (valid UTF-8 without binary controls) and raw bytes. */
function utf8Runs(b: Uint8Array): { valid: boolean; start: number; end: number }[] {
  const runs: { valid: boolean; start: number; end: number }[] = [];
  let i = 0;
  while (i < b.length) {
    const start = i;
    const len = textCharLength(b, i);
    const valid = len > 0;
    if (valid) {
      i += len;
      for (let l; i < b.length && (l = textCharLength(b, i)) > 0; ) i += l;
    } else {
      i++;
      while (i < b.length && textCharLength(b, i) === 0) i++;
    }
    runs.push({ valid, start, end: i });
  }
  // Short text between raw bytes is cheaper coded raw than behind an escape of its own.
  if (runs.length > 1) {
    for (const r of runs) if (r.valid && r.end - r.start < MIN_TEXT_BYTES) r.valid = false;
  }
  const merged: typeof runs = [];
  for (const r of runs) {
    const last = merged[merged.length - 1];
    if (last && last.valid === r.valid) last.end = r.end;
    else merged.push({ ...r });
  }
  return merged;
}

const LEVELS: ((s: string) => string[])[] = [
  (s) => s.match(/[^\n]*\n|[^\n]+$/g) ?? [s],
  (s) => s.match(/\s*\S+|\s+/g) ?? [s],
  (s) => Array.from(s),
];

function tryText(tok: Tokenizer, text: string): Segment | undefined {
  const ids = tok.encode(text);
  return ids.length > 0 && tok.decode(ids) === text ? { text, ids } : undefined;
}

function textSegments(tok: Tokenizer, text: string, level: number): Segment[] {
  const whole = tryText(tok, text);
  if (whole) return [whole];
  if (level >= LEVELS.length) return [{ raw: utf8Encoder.encode(text) }];
  const pieces = LEVELS[level]!(text);
  if (pieces.length <= 1) return textSegments(tok, text, level + 1);
  const parts = pieces.flatMap((p) => textSegments(tok, p, level + 1));
  // Join neighbouring text pieces back when the tokenizer reproduces their concatenation.
  const out: Segment[] = [];
  for (let i = 0; i < parts.length; ) {
    if (!('text' in parts[i]!)) {
      out.push(parts[i++]!);
      continue;
    }
    let j = i;
    while (j < parts.length && 'text' in parts[j]!) j++;
    const group = parts.slice(i, j) as { text: string; ids: number[] }[];
    const joined = group.length > 1 ? tryText(tok, group.map((g) => g.text).join('')) : undefined;
    out.push(...(joined ? [joined] : group));
    i = j;
  }
  return out;
}

/** Cuts `data` into coder items: tokens of text segments, breaks between them, raw byte runs. */
export function toItems(tok: Tokenizer, data: Uint8Array): Item[] {
  const segments: Segment[] = [];
  for (const run of utf8Runs(data)) {
    const bytes = data.subarray(run.start, run.end);
    if (run.valid) segments.push(...textSegments(tok, utf8Decoder.decode(bytes), 0));
    else segments.push({ raw: bytes });
  }
  const items: Item[] = [];
  let prevText = false;
  for (const seg of absorbShortText(segments)) {
    if ('text' in seg) {
      if (prevText) items.push({ kind: 'break' });
      for (const id of seg.ids) items.push({ kind: 'token', id });
      prevText = true;
    } else {
      for (let i = 0; i < seg.raw.length; i += MAX_RAW_RUN) {
        items.push({ kind: 'raw', bytes: seg.raw.slice(i, i + MAX_RAW_RUN) });
      }
      prevText = false;
    }
  }
  return items;
}

/** Short text beside other segments costs more behind escapes and breaks than as raw bytes. */
function absorbShortText(segments: Segment[]): Segment[] {
  if (segments.length <= 1) return segments;
  const out: Segment[] = [];
  for (const seg of segments) {
    const raw = 'raw' in seg ? seg.raw : utf8Encoder.encode(seg.text).length < MIN_TEXT_BYTES ? utf8Encoder.encode(seg.text) : undefined;
    const last = out[out.length - 1];
    if (raw && last && 'raw' in last) {
      const joined = new Uint8Array(last.raw.length + raw.length);
      joined.set(last.raw);
      joined.set(raw, last.raw.length);
      out[out.length - 1] = { raw: joined };
    } else out.push(raw ? { raw } : seg);
  }
  return out;
}

/** Rebuilds the bytes from decoded items, decoding each text segment on its own. */
export class ItemSink {
  private chunks: Uint8Array[] = [];
  private ids: number[] = [];
  private size = 0;

  constructor(private readonly tok: Tokenizer) {}

  push(item: Item): void {
    if (item.kind === 'token') {
      this.ids.push(item.id);
      return;
    }
    this.flushText();
    if (item.kind === 'raw') this.add(item.bytes);
  }

  private flushText(): void {
    if (this.ids.length === 0) return;
    this.add(utf8Encoder.encode(this.tok.decode(this.ids)));
    this.ids = [];
  }

  private add(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  finish(): Uint8Array {
    this.flushText();
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) out.set(c, off), (off += c.length);
    return out;
  }
}
