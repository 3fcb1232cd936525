/**
 * compound-words: tokens inside words the tokenizer splits. A word is a maximal run of letters
 * (\p{L}\p{M}); a token belongs to the word holding its first letter. Features:
 *   continuation     the 2nd or later token of a multi-token word (the token follows its word's first)
 *   first_of_multi   the first token of a multi-token word
 *   single_token     a word that is exactly one token
 * Tokens with no letter (spaces, digits, punctuation) are 0 everywhere.
 */
import type { Tokenizer } from '../types.ts';
import { defineDataset } from './registry.ts';
import type { EncodedText } from './align.ts';
import { tokenWords } from './brown-pos.ts';
import { packedDataset, type SequenceOptions, type TextDataset } from './sequences.ts';
import { textDocs, type TextSource } from './text-sources.ts';

export const COMPOUND_FEATURES = ['continuation', 'first_of_multi', 'single_token'];

export function compoundLabels(enc: EncodedText, text: string): Record<string, Uint8Array> {
  const starts: number[] = [];
  const ends: number[] = [];
  for (const m of text.matchAll(/[\p{L}\p{M}]+/gu)) {
    starts.push(m.index!);
    ends.push(m.index! + m[0].length);
  }
  const tw = tokenWords(enc, text, Int32Array.from(starts), Int32Array.from(ends), 0);
  const n = enc.ids.length;
  const count = new Int32Array(starts.length);
  for (let i = 0; i < n; i++) if (tw[i]! >= 0) count[tw[i]!]!++;
  const out = { continuation: new Uint8Array(n), first_of_multi: new Uint8Array(n), single_token: new Uint8Array(n) };
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const w = tw[i]!;
    if (w < 0) continue;
    if (count[w] === 1) out.single_token[i] = 1;
    else if (w === prev) out.continuation[i] = 1;
    else out.first_of_multi[i] = 1;
    prev = w;
  }
  return out;
}

export interface CompoundWordsOptions extends SequenceOptions {
  source?: TextSource;
}

export function compoundWords(tok: Tokenizer, opts: CompoundWordsOptions): TextDataset {
  const source = opts.source ?? 'brown';
  return packedDataset(
    tok,
    {
      name: 'compound-words',
      level: 'token',
      features: COMPOUND_FEATURES,
      docs: () => textDocs(source),
      config: { source },
      tokenLabels: (_s, enc, text) => compoundLabels(enc, text),
    },
    opts,
  );
}

export const compoundWordsDataset = defineDataset({
  name: 'compound-words',
  summary: 'tokens of words the tokenizer splits: continuation, first_of_multi, single_token (--source)',
  level: 'token',
  build: compoundWords,
});
