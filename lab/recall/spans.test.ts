/**
 * Subject spans map character offsets to the right tokens: GPT-2's full BPE (gpt-tokenizer), a tiny
 * byte-level BPE through @huggingface/tokenizers that splits names into many tokens, subjects at the
 * start of the prompt and subjects holding multi-byte characters (tokens ending inside a character).
 */
import { describe, expect, it } from 'vitest';
import { byteLevelBpeJson, gpt2Tokenizer, tokenizerFromJson, type Tokenizer } from '../../activations/index.ts';
import { parseFacts } from './facts-file.ts';
import { subjectSpan, tokenCharSpans } from './spans.ts';

const tiny = tokenizerFromJson(byteLevelBpeJson([['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['i', 'n'], ['Ġ', 'l']]));
const gpt2 = gpt2Tokenizer();

/** The subject's tokens decode to the subject (a leading space aside) and no neighbour token overlaps it. */
function check(tok: Tokenizer, prompt: string, subject: string) {
  const start = prompt.indexOf(subject);
  const span = subjectSpan(tok, prompt, start, start + subject.length);
  if (typeof span === 'string') throw new Error(span);
  expect(tok.decode(span.ids.slice(span.first, span.end)).trim()).toBe(subject);
  if (span.first > 0) expect(tok.decode(span.ids.slice(0, span.first)).length).toBeLessThanOrEqual(start);
  expect(tok.decode(span.ids.slice(0, span.end)).length).toBe(start + subject.length);
  return span;
}

describe('subject spans', () => {
  for (const [name, tok] of [['gpt2', gpt2], ['tiny byte-level BPE', tiny]] as const) {
    it(`${name}: subject in the middle, at the start, and at the end`, () => {
      const mid = check(tok, 'At home Zorvandek Thelquil lives in', 'Zorvandek Thelquil');
      expect(mid.first).toBeGreaterThan(0);
      expect(mid.end).toBeLessThan(mid.ids.length);
      const start = check(tok, 'Zorvandek Thelquil lives in', 'Zorvandek Thelquil');
      expect(start.first).toBe(0);
      const end = check(tok, 'The city of Beats Music', 'Beats Music');
      expect(end.end).toBe(end.ids.length);
    });
  }

  it('a name split into many tokens covers all of them, and only them', () => {
    const prompt = 'the home of Qxzvwj Pfltrk is in';
    const span = check(tiny, prompt, 'Qxzvwj Pfltrk');
    expect(span.end - span.first).toBe(13); // byte-level: one token per byte, the space merged into neither
    const g = check(gpt2, prompt, 'Qxzvwj Pfltrk');
    expect(g.end - g.first).toBeGreaterThan(3);
  });

  it('multi-byte characters: tokens ending inside a character share the next span', () => {
    for (const tok of [tiny, gpt2]) {
      const span = check(tok, 'Today Zoë Ünal speaks', 'Zoë Ünal');
      const spans = tokenCharSpans(tok, 'Today Zoë Ünal speaks', span.ids) as [number, number][];
      expect(spans[spans.length - 1]![1]).toBe('Today Zoë Ünal speaks'.length);
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![0]);
    }
    // A span of only part of the name still finds the tokens that touch it.
    const part = subjectSpan(gpt2, 'Today Zoë Ünal speaks', 6, 9);
    expect(typeof part).toBe('object');
  });

  it('a tokenizer that does not give the prompt back is refused with the reason', () => {
    const lossy: Tokenizer = { ...gpt2, decode: (ids) => gpt2.decode(ids).toUpperCase() };
    expect(subjectSpan(lossy, 'Zorvan lives in', 0, 6)).toMatch(/does not give the prompt back/);
  });
});

describe('facts file', () => {
  const ok = '{"prompt": "Zorvan lives in", "subject_start": 0, "subject_end": 6, "attribute": "Paris"}';
  it('reads queries with their line numbers, skipping blank lines', () => {
    const q = parseFacts(`${ok}\n\n${ok}\n`, 'f.jsonl');
    expect(q.map((x) => x.line)).toEqual([1, 3]);
    expect(q[0]).toMatchObject({ prompt: 'Zorvan lives in', subjectStart: 0, subjectEnd: 6, attribute: 'Paris' });
  });
  it('names the file and line of a bad line', () => {
    expect(() => parseFacts(`${ok}\n{"prompt": "x", oops}`, 'f.jsonl')).toThrow(/f\.jsonl:2: line 2 is not valid JSON/);
    expect(() => parseFacts('{"prompt": "", "subject_start": 0, "subject_end": 1}', 'f.jsonl')).toThrow(/f\.jsonl:1: "prompt" is empty/);
    expect(() => parseFacts(`${ok}\n{"prompt": "abc", "subject_start": 1, "subject_end": 9}`, 'f.jsonl')).toThrow(/f\.jsonl:2: subject span 1\.\.9 is outside the prompt \(3 characters\)/);
    expect(() => parseFacts('{"prompt": "abc", "subject_start": 1.5, "subject_end": 2}', 'f.jsonl')).toThrow(/"subject_start" must be an integer/);
    expect(() => parseFacts('\n\n', 'f.jsonl')).toThrow(/holds no queries/);
  });
});
