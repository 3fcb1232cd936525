/**
 * brown-pos: token-level part-of-speech features from the Brown corpus tags (mapping in brown-tags.ts).
 * Alignment: a token belongs to the word holding its first non-space character. With align 'all'
 * (the default) every token of a word gets the word's features, so the later pieces of a multi-token
 * noun are nouns too; with 'first' only the word's first token does and the rest are 0.
 * Tokens outside any word (a lone space) and punctuation words get all 0.
 */
import type { Tokenizer } from '../types.ts';
import { defineDataset } from './registry.ts';
import type { EncodedText } from './align.ts';
import { brownDocs } from './brown.ts';
import { POS_FEATURES, tagFeatures } from './brown-tags.ts';
import { packedDataset, type SequenceOptions, type SourceSentence, type TextDataset } from './sequences.ts';

export interface BrownPosOptions extends SequenceOptions {
  align?: 'all' | 'first';
}

/** For each token, the index of the word it belongs to (-1 for none). */
export function tokenWords(enc: EncodedText, text: string, wordStart: Int32Array, wordEnd: Int32Array, offset: number): Int32Array {
  const charWord = new Int32Array(text.length).fill(-1);
  for (let w = 0; w < wordStart.length; w++) {
    for (let c = wordStart[w]! + offset; c < wordEnd[w]! + offset; c++) charWord[c] = w;
  }
  const out = new Int32Array(enc.ids.length).fill(-1);
  for (let i = 0; i < out.length; i++) {
    const to = Math.max(enc.end[i]!, enc.start[i]! + 1);
    for (let c = enc.start[i]!; c < to && c < text.length; c++) {
      if (charWord[c]! >= 0) {
        out[i] = charWord[c]!;
        break;
      }
    }
  }
  return out;
}

export function brownPos(tok: Tokenizer, opts: BrownPosOptions): TextDataset {
  const align = opts.align ?? 'all';
  const features = [...POS_FEATURES];
  return packedDataset(
    tok,
    {
      name: 'brown-pos',
      level: 'token',
      features,
      docs: () => brownDocs(),
      config: { align },
      tokenLabels: (s: SourceSentence, enc, text, offset) => {
        const words = s.words!;
        const tw = tokenWords(enc, text, words.start, words.end, offset);
        const out: Record<string, Uint8Array> = {};
        for (const f of features) out[f] = new Uint8Array(enc.ids.length);
        let prevWord = -1;
        for (let i = 0; i < tw.length; i++) {
          const w = tw[i]!;
          const first = w !== prevWord;
          if (w >= 0) prevWord = w;
          if (w < 0 || (align === 'first' && !first)) continue;
          for (const f of tagFeatures(words.tags[w]!)) out[f]![i] = 1;
        }
        return out;
      },
    },
    opts,
  );
}

export const brownPosDataset = defineDataset({
  name: 'brown-pos',
  summary: 'part of speech of each token, from the Brown tags (--align all|first)',
  level: 'token',
  build: brownPos,
});
