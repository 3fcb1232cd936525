/**
 * text-props: per-token properties of the token's own text (the characters it covers in the source,
 * which for byte-level BPE equals the decoded token). Leading space is stripped before the
 * digit/capital checks, as the token ' Paris' has a leading capital.
 *   contains_digit   any decimal digit
 *   all_digits       non-empty and only digits (after the leading space)
 *   leading_capital  first character (after the leading space) is an uppercase letter
 *   all_capitals     at least two letters, all uppercase (so 'I' and 'A' do not count), letters only
 *   leading_space    starts with a space
 *   punctuation      non-empty and only punctuation or symbols (after the leading space)
 *   non_ascii        any character outside ASCII (a token holding part of a multi-byte character counts)
 */
import type { Tokenizer } from '../types.ts';
import { defineDataset } from './registry.ts';
import { tokenText } from './align.ts';
import { packedDataset, type SequenceOptions, type TextDataset } from './sequences.ts';
import { textDocs, type TextSource } from './text-sources.ts';

export const TEXT_PROP_FEATURES = [
  'contains_digit', 'all_digits', 'leading_capital', 'all_capitals', 'leading_space', 'punctuation', 'non_ascii',
] as const;

/** The properties of one token string, in TEXT_PROP_FEATURES order. */
export function textProps(s: string): Record<(typeof TEXT_PROP_FEATURES)[number], boolean> {
  const body = s.startsWith(' ') ? s.slice(1) : s;
  return {
    contains_digit: /\p{Nd}/u.test(s),
    all_digits: /^\p{Nd}+$/u.test(body),
    leading_capital: /^\p{Lu}/u.test(body),
    all_capitals: /^\p{Lu}{2,}$/u.test(body),
    leading_space: s.startsWith(' '),
    punctuation: /^[\p{P}\p{S}]+$/u.test(body),
    non_ascii: /[^\x00-\x7f]/.test(s),
  };
}

export interface TextPropsOptions extends SequenceOptions {
  source?: TextSource;
}

export function textPropsDataset(tok: Tokenizer, opts: TextPropsOptions): TextDataset {
  const source = opts.source ?? 'brown';
  const features = [...TEXT_PROP_FEATURES];
  return packedDataset(
    tok,
    {
      name: 'text-props',
      level: 'token',
      features,
      docs: () => textDocs(source),
      config: { source },
      tokenLabels: (_s, enc, text) => {
        const out: Record<string, Uint8Array> = {};
        for (const f of features) out[f] = new Uint8Array(enc.ids.length);
        for (let i = 0; i < enc.ids.length; i++) {
          const props = textProps(tokenText(text, enc.start[i]!, enc.end[i]!));
          for (const f of features) if (props[f]) out[f]![i] = 1;
        }
        return out;
      },
    },
    opts,
  );
}

export const textPropsSpec = defineDataset({
  name: 'text-props',
  summary: 'surface properties of each token: digits, capitals, leading space, punctuation, non-ASCII (--source)',
  level: 'token',
  build: textPropsDataset,
});
