import { describe, expect, it } from 'vitest';
import r50k from 'gpt-tokenizer/bpeRanks/r50k_base';
import { encode as gptEncode } from 'gpt-tokenizer/encoding/r50k_base';
import { byteLevelBpeJson, bytesToUnicode, tokenizerFromJson } from './tokenizer.ts';

/**
 * GPT-2's real tokenizer.json rebuilt from gpt-tokenizer's r50k ranks (merges derived the way HF's
 * tiktoken converter does), so the wrapper can be checked against an independent BPE implementation.
 */
function gpt2TokenizerJson(): Record<string, unknown> {
  const b2u = bytesToUnicode();
  const enc = new TextEncoder();
  const vocab: Record<string, number> = {};
  (r50k as (string | number[])[]).forEach((t, rank) => {
    const bytes = typeof t === 'string' ? enc.encode(t) : Uint8Array.from(t);
    vocab[[...bytes].map((b) => b2u[b]).join('')] = rank;
  });
  const merges: [string, string, number, number, number][] = [];
  for (const [tok, rank] of Object.entries(vocab)) {
    const chars = [...tok];
    if (chars.length < 2) continue;
    for (let i = 1; i < chars.length; i++) {
      const l = chars.slice(0, i).join('');
      const r = chars.slice(i).join('');
      if (l in vocab && r in vocab) merges.push([l, r, rank, vocab[l]!, vocab[r]!]);
    }
  }
  merges.sort((a, b) => a[2] - b[2] || a[3] - b[3] || a[4] - b[4]);
  const json = byteLevelBpeJson([]) as { model: { vocab: Record<string, number>; merges: string[] }; added_tokens: { id: number }[] };
  json.model.vocab = { ...vocab, '<|endoftext|>': 50256 };
  json.model.merges = merges.map(([l, r]) => `${l} ${r}`);
  json.added_tokens[0]!.id = 50256;
  return json;
}

describe('tokenizer', () => {
  it('GPT-2 ByteLevel BPE matches gpt-tokenizer (an independent implementation) id for id', () => {
    const tok = tokenizerFromJson(gpt2TokenizerJson());
    expect(tok.vocabSize).toBe(50257);
    expect(tok.bosId).toBe(50256);
    const texts = [
      'Hello world',
      " The quick brown fox doesn't jump; it's 2024 and 3.14159 are numbers!",
      'Multiple   spaces\tand\nnew lines\n\n  indented',
      'Unicode: café, naïve, 日本語, emoji 🙂 and Ünïcödé',
      "They'll we've I'm you're HE'S",
      'antidisestablishmentarianism supercalifragilistic',
    ];
    for (const t of texts) {
      const ids = tok.encode(t);
      expect(ids, t).toEqual(gptEncode(t));
      expect(tok.decode(ids)).toBe(t);
    }
    expect(tok.idToToken(tok.encode(' world')[0]!)).toBe('Ġworld');
  });

  it('GPT-NeoX style tokenizer (NFC normaliser, <|endoftext|> at 0) encodes and decodes', () => {
    const tok = tokenizerFromJson(byteLevelBpeJson([['Ġ', 't'], ['h', 'e'], ['Ġt', 'he']], { neox: true }));
    expect(tok.bosId).toBe(0);
    // NFC: "e" + combining acute becomes the single code point é before byte-level encoding.
    expect(tok.encode('cafe\u0301')).toEqual(tok.encode('café'));
    const ids = tok.encode('in the end');
    expect(ids.map((i) => tok.idToToken(i))).toEqual(['i', 'n', 'Ġthe', 'Ġ', 'e', 'n', 'd']);
    expect(tok.decode(ids)).toBe('in the end');
  });

  it('rejects a file that is not a tokenizer.json', () => {
    expect(() => tokenizerFromJson({ vocab: {} }, {}, '/x/tokenizer.json')).toThrow(/\/x\/tokenizer\.json is not a tokenizer\.json/);
  });
});
