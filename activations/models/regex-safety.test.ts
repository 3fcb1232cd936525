import { describe, expect, it } from 'vitest';
import { riskyRepeat, checkTokenizerRegexes } from './regex-safety.ts';
import { tokenizerFromJson } from './tokenizer.ts';

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

describe('pre-tokenizer regexes that backtrack (issue 19 case 14)', () => {
  it('refuses repeated groups holding a repetition or alternation, passes real tokenizers', () => {
    expect(riskyRepeat('(a|aa)+$')).toBe('(a|aa)+');
    expect(riskyRepeat('(a+)+b')).toBe('(a+)+');
    expect(riskyRepeat('((ab)*c)*')).toBe('((ab)*c)*');
    expect(riskyRepeat('(x\\w{2,})*')).toBe('(x\\w{2,})*');
    expect(riskyRepeat('[(a|b)+]+')).toBeUndefined();
    expect(riskyRepeat('(ab)+c')).toBeUndefined();
    expect(riskyRepeat(GPT2)).toBeUndefined();
    expect(riskyRepeat(LLAMA3)).toBeUndefined();
  });
  it('a tokenizer.json with such a Split pattern is a named error before any text runs', () => {
    const json = {
      model: { type: 'WordLevel', vocab: { a: 0, '[UNK]': 1 }, unk_token: '[UNK]' },
      pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '(a|aa)+$' }, behavior: 'Isolated', invert: false }] },
    };
    expect(() => checkTokenizerRegexes(json, 'tok.json')).toThrow(/tok\.json: tokenizer\.pre_tokenizer\.pretokenizers\[0\]\.pattern\.Regex repeats the group \(a\|aa\)\+/);
    const t0 = performance.now();
    expect(() => tokenizerFromJson(json, {}, 'tok.json')).toThrow(/backtrack for minutes/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
