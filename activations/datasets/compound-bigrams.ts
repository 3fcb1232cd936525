/**
 * compound-bigrams: the compound-word bigrams of Gurnee et al. 2023 (sparse_probing's COMPOUND_WORDS,
 * 21 pairs such as 'social security', 'blood pressure') with its hard negatives. Words are maximal runs
 * of letters, compared lower-cased; two words are adjacent when only spaces lie between them. For each
 * pair (a, b) three features, all on the LAST token of the word in question (where the model has read it):
 *   a_b                 the word b right after the word a (the bigram)
 *   a_b_missing_first   the word b not after a (the second word without the first)
 *   a_b_missing_second  the word right after a, when it is not b (the first word without the second)
 * Where this differs from the reference: it matches single tokens (a vocabulary entry equal to the word),
 * so words the tokenizer splits never count there; here a word of any number of tokens does, and its
 * label sits on its last token, as the reference's sits on the one token. Its negatives are the token
 * after a; here the last token of the word after a. It samples a fixed number of each kind per pair;
 * here every occurrence is labelled, and the probe's class balancing weighs them. A probe of a_b against
 * only its two hard negatives needs the rows where one of the three is 1.
 */
import type { Tokenizer } from '../types.ts';
import type { EncodedText } from './align.ts';
import { tokenWords } from './brown-pos.ts';
import { defineDataset } from './registry.ts';
import { packedDataset, type SequenceOptions, type TextDataset } from './sequences.ts';
import { textDocs, type TextSource } from './text-sources.ts';

export const COMPOUND_BIGRAMS: [string, string][] = [
  ['high', 'school'], ['living', 'room'], ['social', 'security'], ['credit', 'card'], ['blood', 'pressure'],
  ['prime', 'factors'], ['social', 'media'], ['gene', 'expression'], ['control', 'group'], ['magnetic', 'field'],
  ['cell', 'lines'], ['trial', 'court'], ['second', 'derivative'], ['north', 'america'], ['human', 'rights'],
  ['side', 'effects'], ['public', 'health'], ['federal', 'government'], ['third', 'party'], ['clinical', 'trials'],
  ['mental', 'health'],
];
/** The two hard-negative columns of bigram feature f: its second word without the first, its first without the second. */
export function hardNegativeColumns(feature: string): [string, string] {
  return [`${feature}_missing_first`, `${feature}_missing_second`];
}

/** Each pair's words and its three column names. */
const PAIRS = COMPOUND_BIGRAMS.map(([a, b]) => {
  const f = `${a}_${b}`;
  const [missingFirst, missingSecond] = hardNegativeColumns(f);
  return { a, b, f, missingFirst, missingSecond };
});
export const BIGRAM_FEATURES = PAIRS.flatMap((p) => [p.f, p.missingFirst, p.missingSecond]);

export function bigramLabels(enc: EncodedText, text: string): Record<string, Uint8Array> {
  const words: { start: number; end: number; word: string }[] = [];
  for (const m of text.matchAll(/[\p{L}\p{M}]+/gu)) words.push({ start: m.index!, end: m.index! + m[0].length, word: m[0].toLowerCase() });
  const n = enc.ids.length;
  const out = Object.fromEntries(BIGRAM_FEATURES.map((f) => [f, new Uint8Array(n)])) as Record<string, Uint8Array>;
  const tw = tokenWords(enc, text, Int32Array.from(words.map((w) => w.start)), Int32Array.from(words.map((w) => w.end)), 0);
  const last = new Int32Array(words.length).fill(-1);
  for (let i = 0; i < n; i++) if (tw[i]! >= 0) last[tw[i]!] = i;
  for (let w = 0; w < words.length; w++) {
    const at = last[w]!;
    if (at < 0) continue;
    const adjacent = w > 0 && /^ +$/.test(text.slice(words[w - 1]!.end, words[w]!.start));
    const prev = adjacent ? words[w - 1]!.word : undefined;
    for (const { a, b, f, missingFirst, missingSecond } of PAIRS) {
      if (words[w]!.word === b) out[prev === a ? f : missingFirst]![at] = 1;
      else if (prev === a) out[missingSecond]![at] = 1;
    }
  }
  return out;
}

export function compoundBigrams(tok: Tokenizer, opts: SequenceOptions & { source?: TextSource }): TextDataset {
  const source = opts.source ?? 'brown';
  return packedDataset(
    tok,
    {
      name: 'compound-bigrams',
      level: 'token',
      features: BIGRAM_FEATURES,
      docs: () => textDocs(source),
      config: { source, bigrams: COMPOUND_BIGRAMS },
      tokenLabels: (_s, enc, text) => bigramLabels(enc, text),
    },
    opts,
  );
}

export const compoundBigramsSpec = defineDataset({
  name: 'compound-bigrams',
  summary: "the paper's 21 compound-word bigrams (high school, ...) with hard negatives: a_b, a_b_missing_first, a_b_missing_second (--source)",
  level: 'token',
  build: compoundBigrams,
});
