/**
 * Token-to-character alignment. Labels live on characters (a word's span, a token's own text), the
 * model sees token ids; this maps each token of an encoded text to the span of text it covers, using
 * only the Tokenizer contract (encode/decode), so it works for any tokenizer that round-trips text.
 */
import type { Tokenizer } from '../types.ts';

export interface EncodedText {
  ids: number[];
  /** Character span [start[i], end[i]) of token i in the text. A token holding only some bytes of a
   * multi-byte character gets an empty span at that character (start = end). */
  start: Int32Array;
  end: Int32Array;
}

const REPLACEMENT = '\ufffd';

/** Encodes `text` and aligns every token to the characters it covers. */
export function encodeAligned(tok: Tokenizer, text: string): EncodedText {
  const ids = tok.encode(text);
  const spans = alignIds(tok, text, ids);
  if (spans) return { ids, ...spans };
  return encodeByPieces(tok, text);
}

/** Spans of `ids` in `text`, or undefined when decoding the ids does not give back the text. */
export function alignIds(tok: Tokenizer, text: string, ids: number[]): { start: Int32Array; end: Int32Array } | undefined {
  const n = ids.length;
  const start = new Int32Array(n);
  const end = new Int32Array(n);
  // Fast path: every token decodes to whole characters (always so for ASCII text with byte-level BPE).
  let pos = 0;
  let ok = true;
  for (let i = 0; i < n; i++) {
    const piece = tok.decode([ids[i]!]);
    if (piece.length === 0 || piece.includes(REPLACEMENT) || !text.startsWith(piece, pos)) {
      ok = false;
      break;
    }
    start[i] = pos;
    pos += piece.length;
    end[i] = pos;
  }
  if (ok && pos === text.length) return { start, end };
  // Slow path: lengths of decoded prefixes, dropping a trailing partial character, give the boundaries.
  let prev = 0;
  for (let i = 0; i < n; i++) {
    let prefix = tok.decode(ids.slice(0, i + 1));
    // A trailing U+FFFD is a partial character unless the text itself has one there.
    while (prefix.endsWith(REPLACEMENT) && !text.startsWith(prefix) && i < n - 1) prefix = prefix.slice(0, -1);
    if (!text.startsWith(prefix.slice(prev), prev)) return undefined;
    start[i] = prev;
    end[i] = Math.max(prev, prefix.length);
    prev = end[i]!;
  }
  return prev === text.length ? { start, end } : undefined;
}

/**
 * Fallback for tokenizers that do not round-trip a whole text (normalisers, unknown tokens): encode
 * each whitespace-led piece on its own; a piece whose tokens cannot be aligned gives all of them its span.
 */
function encodeByPieces(tok: Tokenizer, text: string): EncodedText {
  const ids: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (const m of text.matchAll(/\s*\S+|\s+$/g)) {
    const at = m.index!;
    const pieceIds = tok.encode(m[0]);
    const spans = alignIds(tok, m[0], pieceIds);
    for (let i = 0; i < pieceIds.length; i++) {
      ids.push(pieceIds[i]!);
      starts.push(at + (spans ? spans.start[i]! : 0));
      ends.push(at + (spans ? spans.end[i]! : m[0].length));
    }
  }
  return { ids, start: Int32Array.from(starts), end: Int32Array.from(ends) };
}

/** The text a token stands for: its span, or for a partial-character token the character it is part of. */
export function tokenText(text: string, start: number, end: number): string {
  return end > start ? text.slice(start, end) : text.slice(start, start + 1);
}
