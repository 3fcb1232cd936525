/**
 * Subject spans from character offsets to tokens, for any tokenizer whose decode(encode(text)) gives the
 * text back. Token i covers the characters between the decoded lengths of the prefixes ids[0..i) and
 * ids[0..i]; a prefix that ends inside a character (a byte-level token holding part of a UTF-8 sequence)
 * decodes to something that is not a prefix of the text, so its token shares the span of the next one.
 * The subject's tokens S are those whose span meets [start, end); a leading space carried by a token
 * (GPT-2's " Name") belongs to it, as in the reference's find_token_range.
 */
import type { Tokenizer } from '../../activations/index.ts';

export interface SubjectSpan {
  ids: number[];
  /** Subject tokens [first, end): first is its first token, end - 1 its last (s_last). */
  first: number;
  end: number;
}

/** Character span [start, end) of each token of `ids` in `text`, or a reason it cannot be had. */
export function tokenCharSpans(tokenizer: Tokenizer, text: string, ids: readonly number[]): [number, number][] | string {
  const ends: (number | undefined)[] = [];
  for (let i = 1; i <= ids.length; i++) {
    const prefix = tokenizer.decode(ids.slice(0, i));
    ends.push(text.startsWith(prefix) ? prefix.length : undefined);
  }
  if (ends[ends.length - 1] !== text.length) return 'the tokenizer does not give the prompt back from its tokens (decode(encode(prompt)) differs)';
  const spans: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < ids.length; i++) {
    let j = i;
    while (ends[j] === undefined) j++;
    spans.push([start, ends[j]!]);
    if (ends[i] !== undefined) start = ends[i]!;
  }
  return spans;
}

/** Tokenises `prompt` and finds the subject's tokens; a string is the reason it cannot. */
export function subjectSpan(tokenizer: Tokenizer, prompt: string, start: number, end: number): SubjectSpan | string {
  const ids = tokenizer.encode(prompt);
  if (ids.length === 0) return 'the prompt encodes to no tokens';
  const spans = tokenCharSpans(tokenizer, prompt, ids);
  if (typeof spans === 'string') return spans;
  let first = -1;
  let last = -1;
  spans.forEach(([a, b], i) => {
    // A token meets the subject if their character ranges overlap (a zero-width token never does).
    if (a < end && b > start && b > a) {
      if (first < 0) first = i;
      last = i;
    }
  });
  if (first < 0) return `no token covers characters ${start}..${end}`;
  return { ids, first, end: last + 1 };
}
