/**
 * token-props: the 11 token text properties of Gurnee et al. 2023 (sparse_probing's
 * true_binary_token_supervised_feature_conditions), with its names and definitions, on each token's own
 * text (its span in the source; for byte-level BPE the decoded token). Python's str methods and
 * Unicode regexes are matched with Unicode properties:
 *   contains_digit                   a decimal digit (\d)
 *   all_digits                       an optional whitespace character, then only digits
 *   contains_capital                 an ASCII capital A-Z
 *   leading_capital                  first character uppercase, or a space then an uppercase character
 *   all_capitals                     optional whitespace, then only A-Z; not 'I', ' I', 'A', ' A'
 *   contains_whitespace              any whitespace
 *   has_leading_space                starts with a space
 *   no_leading_space_and_loweralpha  only letters, at least one lowercase, none uppercase (isalpha and islower)
 *   contains_all_whitespace          only whitespace
 *   is_not_alphanumeric              no letter, number or underscore (\W+)
 *   is_not_ascii                     any character outside ASCII
 * activations/datasets/token-props.test.ts checks these against the Python definitions on every GPT-2
 * token. The lab's older text-props (7 properties, its own definitions) stays as it was for the demo.
 */
import type { Tokenizer } from '../types.ts';
import { tokenText } from './align.ts';
import { defineDataset } from './registry.ts';
import { packedDataset, type SequenceOptions, type TextDataset } from './sequences.ts';
import { textDocs, type TextSource } from './text-sources.ts';

export const TOKEN_PROP_FEATURES = [
  'contains_digit', 'all_digits', 'contains_capital', 'leading_capital', 'all_capitals', 'contains_whitespace',
  'has_leading_space', 'no_leading_space_and_loweralpha', 'contains_all_whitespace', 'is_not_alphanumeric', 'is_not_ascii',
] as const;
export type TokenProp = (typeof TOKEN_PROP_FEATURES)[number];

// Python's \s (str.isspace): JavaScript's \s less U+FEFF, plus the separators U+001C-U+001F and U+0085.
const WS = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const re = (s: string) => new RegExp(s, 'u');
const DIGIT = re('\\p{Nd}');
const ALL_DIGITS = re(`^${WS}?\\p{Nd}+$`);
const ALL_CAPS = re(`^${WS}*[A-Z]+$`);
const HAS_WS = re(WS);
const ALL_WS = re(`^${WS}+$`);
// Python's \w is str.isalnum() (letters and numbers) or '_'.
const NOT_ALNUM = re('^[^\\p{L}\\p{N}_]+$');
const UPPER = re('^\\p{Uppercase}$');
const LETTERS = re('^\\p{L}+$');
const HAS_LOWER = re('\\p{Lowercase}');
const HAS_UPPER_OR_TITLE = re('[\\p{Uppercase}\\p{Lt}]');

export function tokenProps(s: string): Record<TokenProp, boolean> {
  const chars = [...s];
  return {
    contains_digit: DIGIT.test(s),
    all_digits: ALL_DIGITS.test(s),
    contains_capital: /[A-Z]/.test(s),
    leading_capital: (chars.length > 1 && chars[0] === ' ' && UPPER.test(chars[1]!)) || (chars.length > 0 && chars[0] !== ' ' && UPPER.test(chars[0]!)),
    all_capitals: ALL_CAPS.test(s) && !['I', ' I', 'A', ' A'].includes(s),
    contains_whitespace: HAS_WS.test(s),
    has_leading_space: s.startsWith(' '),
    no_leading_space_and_loweralpha: LETTERS.test(s) && HAS_LOWER.test(s) && !HAS_UPPER_OR_TITLE.test(s),
    contains_all_whitespace: ALL_WS.test(s),
    is_not_alphanumeric: NOT_ALNUM.test(s),
    is_not_ascii: /[^\x00-\x7f]/.test(s),
  };
}

export function tokenPropsDataset(tok: Tokenizer, opts: SequenceOptions & { source?: TextSource }): TextDataset {
  const source = opts.source ?? 'brown';
  const features = [...TOKEN_PROP_FEATURES];
  return packedDataset(
    tok,
    {
      name: 'token-props',
      level: 'token',
      features,
      docs: () => textDocs(source),
      config: { source },
      tokenLabels: (_s, enc, text) => {
        const out = Object.fromEntries(features.map((f) => [f, new Uint8Array(enc.ids.length)])) as Record<string, Uint8Array>;
        for (let i = 0; i < enc.ids.length; i++) {
          const p = tokenProps(tokenText(text, enc.start[i]!, enc.end[i]!));
          for (const f of features) if (p[f]) out[f]![i] = 1;
        }
        return out;
      },
    },
    opts,
  );
}

export const tokenPropsSpec = defineDataset({
  name: 'token-props',
  summary: "the paper's 11 token text properties with its definitions (contains_digit ... is_not_ascii) (--source)",
  level: 'token',
  build: tokenPropsDataset,
});
