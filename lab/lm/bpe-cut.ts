/**
 * GPT-2's byte-level BPE cut down to the tokens a corpus uses, written as a standard Hugging Face
 * `tokenizer.json`.
 *
 * `gpt-tokenizer` ships GPT-2's ranks offline (r50k_base: rank = GPT-2 token id, 0..50255) but no merge
 * list and no trace of which merges an encoding used. The cut needs exactly that, so `BpeTracer` replays
 * tiktoken's rule (repeatedly merge the adjacent pair whose concatenation has the lowest rank, leftmost on
 * ties) on each distinct pre-token and records every merge it applies. Keeping the 256 byte tokens, every
 * merge applied and every token it produced gives a tokenizer that segments the traced text exactly as
 * GPT-2 does: at each step the merge GPT-2 picked is still present and still the lowest-ranked one on offer,
 * because only merges that were never picked were removed. Tests check the result against gpt-tokenizer and
 * through @huggingface/tokenizers, which is what reads the file at run time.
 */
import ranks from 'gpt-tokenizer/bpeRanks/r50k_base';
import { R50K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { byteLevelTokenizerJson } from '../../activations/index.ts';
import { LabError } from '../core/index.ts';

export const END_OF_TEXT = '<|endoftext|>';
const GPT2_VOCAB = 50256;

/** GPT-2's printable stand-in for each byte (bytes_to_unicode in GPT-2's encoder.py). */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const out = new Array<string>(256);
  for (const b of printable) out[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCodePoint(256 + n++);
  return out;
})();

/** Bytes as a JS string of code points 0..255: a cheap exact map key. */
function byteKey(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function toUnicode(key: string): string {
  let s = '';
  for (let i = 0; i < key.length; i++) s += BYTE_TO_UNICODE[key.charCodeAt(i)];
  return s;
}

/** GPT-2's ranks as byte keys, loaded once. */
class Gpt2Ranks {
  readonly keys: string[] = [];
  readonly rankOf = new Map<string, number>();

  constructor() {
    const enc = new TextEncoder();
    if (ranks.length !== GPT2_VOCAB) throw new LabError(`gpt-tokenizer's r50k_base has ${ranks.length} ranks, expected ${GPT2_VOCAB}`);
    ranks.forEach((v, rank) => {
      const key = byteKey(typeof v === 'string' ? enc.encode(v) : Uint8Array.from(v));
      this.keys[rank] = key;
      this.rankOf.set(key, rank);
    });
    for (let b = 0; b < 256; b++) {
      if (this.keys[b]!.length !== 1) throw new LabError(`gpt-tokenizer rank ${b} is not a single byte`);
    }
  }
}

let gpt2: Gpt2Ranks | undefined;
function gpt2Ranks(): Gpt2Ranks {
  return (gpt2 ??= new Gpt2Ranks());
}

/** Splits text into GPT-2 pre-tokens (its regex, shared with gpt-tokenizer). */
export function preTokenize(text: string): string[] {
  return Array.from(text.matchAll(R50K_TOKEN_SPLIT_REGEX), (m) => m[0]);
}

/** Replays GPT-2's BPE and records the merges it uses. */
export class BpeTracer {
  private readonly r = gpt2Ranks();
  private readonly cache = new Map<string, number[]>();
  private readonly enc = new TextEncoder();
  /** result rank -> the (left, right) rank pairs that produced it. */
  readonly used = new Map<number, Set<string>>();
  /** GPT-2 id -> how often it ends up in an encoding (counted per encode call). */
  readonly counts = new Map<number, number>();

  /** GPT-2 token ids (ranks) of one pre-token. */
  encodePiece(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    let parts = Array.from(this.enc.encode(piece), (b) => String.fromCharCode(b));
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const rank = this.r.rankOf.get(parts[i]! + parts[i + 1]!);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const pair = `${this.r.rankOf.get(parts[best]!)},${this.r.rankOf.get(parts[best + 1]!)}`;
      let set = this.used.get(bestRank);
      if (!set) this.used.set(bestRank, (set = new Set()));
      set.add(pair);
      parts = [...parts.slice(0, best), parts[best]! + parts[best + 1]!, ...parts.slice(best + 2)];
    }
    const ids = parts.map((p) => this.r.rankOf.get(p)!);
    this.cache.set(piece, ids);
    return ids;
  }

  /** GPT-2 token ids of a text (no special tokens). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const piece of preTokenize(text)) out.push(...this.encodePiece(piece));
    for (const id of out) this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    return out;
  }

  /**
   * The cut tokenizer covering everything traced so far. With `minCount` > 1 it keeps only tokens that
   * occur at least that often in the traced encodings, plus the intermediate tokens and merges that build
   * them; rarer tokens then split into kept pieces (still a valid BPE, but no longer GPT-2's segmentation).
   */
  cut(minCount = 1): CutTokenizer {
    const results = new Set<number>();
    const visit = (rank: number) => {
      if (rank < 256 || results.has(rank)) return;
      results.add(rank);
      for (const p of this.used.get(rank) ?? []) for (const part of p.split(',')) visit(Number(part));
    };
    for (const rank of this.used.keys()) if (minCount <= 1 || (this.counts.get(rank) ?? 0) >= minCount) visit(rank);
    const kept = [...Array(256).keys(), ...[...results].sort((a, b) => a - b)];
    const newId = new Map<number, number>(kept.map((rank, i) => [rank, i]));
    const vocab: Record<string, number> = {};
    kept.forEach((rank, i) => (vocab[toUnicode(this.r.keys[rank]!)] = i));
    const merges: string[] = [];
    for (const rank of kept.slice(256)) {
      const pairs = [...this.used.get(rank)!].map((p) => p.split(',').map(Number) as [number, number]);
      pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      for (const [l, r] of pairs) merges.push(`${toUnicode(this.r.keys[l]!)} ${toUnicode(this.r.keys[r]!)}`);
    }
    const eotId = kept.length;
    return { gpt2Ids: kept, newId, eotId, vocabSize: kept.length + 1, json: tokenizerJson(vocab, merges, eotId) };
  }
}

export interface CutTokenizer {
  /** New id -> GPT-2 id (the byte tokens keep their ids 0..255; <|endoftext|> is last and not listed). */
  gpt2Ids: number[];
  /** GPT-2 id -> new id. */
  newId: Map<number, number>;
  eotId: number;
  vocabSize: number;
  /** The Hugging Face tokenizer.json object. */
  json: Record<string, unknown>;
}

/** The tokenizer.json layout of GPT-2 on the Hugging Face hub, with the cut vocabulary and merges. */
function tokenizerJson(vocab: Record<string, number>, merges: string[], eotId: number): Record<string, unknown> {
  return byteLevelTokenizerJson({
    vocab: { ...vocab, [END_OF_TEXT]: eotId },
    merges,
    endOfText: { id: eotId, normalized: true },
    normalizer: null,
    postTrimOffsets: false,
    byteFallback: false,
  });
}

/** Traces GPT-2's BPE over the texts and returns the cut tokenizer (see BpeTracer.cut for `minCount`). */
export function cutGpt2Tokenizer(texts: Iterable<string>, minCount = 1): CutTokenizer {
  const tracer = new BpeTracer();
  for (const t of texts) tracer.encode(t);
  return tracer.cut(minCount);
}
