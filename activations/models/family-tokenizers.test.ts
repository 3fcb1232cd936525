/**
 * The tokenizer.json flavours of the new model families, in miniature, through the lab's tokenizer
 * (tokenizer.ts, @huggingface/tokenizers): Llama 3's tiktoken-style BPE (a Split regex with an
 * inline (?i:...) group, then ByteLevel without its own regex, merges ignored for whole-word vocab
 * hits) and the SentencePiece-style BPE of Llama 2 / Mistral / Gemma (a Prepend/Replace normalizer
 * turning spaces into U+2581, byte fallback to <0xNN> tokens, a Replace/ByteFallback/Fuse/Strip
 * decoder). Each encodes to the ids the layout implies and decodes back to the text.
 */
import { describe, expect, it } from 'vitest';
import { byteLevelBpeJson, tokenizerFromJson } from './tokenizer.ts';

// Llama 3's pre-tokenizer pattern (tokenizer.json of Meta-Llama-3-8B), as stored.
const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

describe('family tokenizer.json flavours', () => {
  it('Llama 3: Split regex + ByteLevel(use_regex false), ignore_merges', () => {
    const json = byteLevelBpeJson([['h', 'e'], ['l', 'l'], ['he', 'll'], ['Ġ', 'w']]) as Record<string, any>;
    json.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_SPLIT }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    };
    json.model.ignore_merges = true;
    const tok = tokenizerFromJson(json);
    const v = json.model.vocab as Record<string, number>;
    const text = "hello world, it's 12345";
    const ids = tok.encode(text);
    // "hello" -> hell + o via the merges; " world" -> Ġw + o r l d; digits split in threes; 's isolated.
    expect(ids.slice(0, 2)).toEqual([v['hell'], v['o']]);
    expect(ids[2]).toBe(v['Ġw']);
    expect(tok.decode(ids)).toBe(text);
    const digits = ids.slice(-2).map((i) => tok.idToToken(i));
    expect(digits).toEqual(['4', '5']);
  });

  it('Mistral / Llama 2 / Gemma: SentencePiece-style BPE with byte fallback', () => {
    const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
    for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
    let next = 259;
    for (const t of ['▁', 'h', 'e', 'l', 'o', 'w', 'r', 'd', '▁h', 'el', '▁hel', 'lo', '▁hello', '▁w', 'or', '▁wor', 'ld', '▁world']) vocab[t] = next++;
    const merges = ['▁ h', 'e l', '▁h el', 'l o', '▁hel lo', '▁ w', 'o r', '▁w or', 'l d', '▁wor ld'];
    const json = {
      version: '1.0',
      added_tokens: [{ id: 1, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
      pre_tokenizer: null,
      post_processor: null,
      decoder: {
        type: 'Sequence',
        decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
      },
      model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges },
    };
    const tok = tokenizerFromJson(json);
    const ids = tok.encode('hello world ü');
    // ü is not in the vocabulary: its UTF-8 bytes C3 BC become byte tokens.
    expect(ids).toEqual([vocab['▁hello'], vocab['▁world'], vocab['▁'], vocab['<0xC3>'], vocab['<0xBC>']]);
    expect(tok.decode(ids)).toBe('hello world ü');
    expect(tok.bosId).toBe(1);
  });
});
