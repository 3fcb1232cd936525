/**
 * affixes: the prefix and suffix features of Gurnee et al. 2023 (sparse_probing's starts_with_* and
 * ends_with_*, from the uefap.com word-building lists), on each token's own text, lower-cased:
 *   starts_with_P   the token, less one leading space, starts with P
 *   ends_with_S     the token ends with S
 * A group such as ('tion', 'sion') is one feature, named with its members joined by '_'
 * (ends_with_tion_sion). Where this differs from the reference, on purpose: its prefix test compares
 * a len(P) slice with ' ' + P (never equal), so only tokens without a leading space counted there;
 * here ' re' counts like 're'. Its list also runs 'under' and 'anti' together ('underanti', a missing
 * comma); here they are two prefixes. Duplicates in its sets ('age', 'al', 'inter', ...) appear once.
 */
import type { Tokenizer } from '../types.ts';
import { tokenText } from './align.ts';
import { defineDataset } from './registry.ts';
import { packedDataset, type SequenceOptions, type TextDataset } from './sequences.ts';
import { textDocs, type TextSource } from './text-sources.ts';

/** Verb, noun and adjective prefixes, in the reference's order. */
export const PREFIXES: (string | string[])[] = [
  're', 'dis', 'over', 'un', 'mis', 'out', 'be', 'co', 'de', 'fore', 'inter', 'pre', 'sub', 'trans', 'under',
  'anti', 'auto', 'bi', 'counter', 'ex', 'hyper', 'in', 'kilo', 'mal', 'mega', 'mini', 'mono', 'neo', 'poly',
  'pseudo', 'semi', 'super', 'tele', 'tri', 'ultra', 'vice', ['il', 'ir', 'im', 'in'], 'non',
];
/** Verb, noun and adjective suffixes, in the reference's order. */
export const SUFFIXES: (string | string[])[] = [
  ['ise', 'ize'], 'ate', 'fy', 'en', ['tion', 'sion'], 'er', 'ment', ['ant', 'ent'], 'age', 'al', ['ence', 'ance'],
  'ry', 'ism', 'ship', 'ity', 'ness', 'cy', 'ent', 'ive', 'ous', 'ful', 'less', 'able',
];

const members = (a: string | string[]) => (typeof a === 'string' ? [a] : a);
const nameOf = (kind: string, a: string | string[]) => `${kind}_${members(a).join('_')}`;
export const AFFIX_FEATURES = [...PREFIXES.map((p) => nameOf('starts_with', p)), ...SUFFIXES.map((s) => nameOf('ends_with', s))];

/** The affix features a token string has. */
export function affixFeatures(s: string): string[] {
  const lower = s.toLowerCase();
  const body = lower.startsWith(' ') ? lower.slice(1) : lower;
  return [
    ...PREFIXES.filter((p) => members(p).some((m) => body.startsWith(m))).map((p) => nameOf('starts_with', p)),
    ...SUFFIXES.filter((x) => members(x).some((m) => lower.endsWith(m))).map((x) => nameOf('ends_with', x)),
  ];
}

export function affixesDataset(tok: Tokenizer, opts: SequenceOptions & { source?: TextSource }): TextDataset {
  const source = opts.source ?? 'brown';
  return packedDataset(
    tok,
    {
      name: 'affixes',
      level: 'token',
      features: AFFIX_FEATURES,
      docs: () => textDocs(source),
      config: { source },
      tokenLabels: (_s, enc, text) => {
        const out = Object.fromEntries(AFFIX_FEATURES.map((f) => [f, new Uint8Array(enc.ids.length)])) as Record<string, Uint8Array>;
        for (let i = 0; i < enc.ids.length; i++) for (const f of affixFeatures(tokenText(text, enc.start[i]!, enc.end[i]!))) out[f]![i] = 1;
        return out;
      },
    },
    opts,
  );
}

export const affixesSpec = defineDataset({
  name: 'affixes',
  summary: "the paper's prefix and suffix features of each token (starts_with_re ... ends_with_able) (--source)",
  level: 'token',
  build: affixesDataset,
});
