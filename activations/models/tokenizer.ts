/**
 * tokenizer.json through @huggingface/tokenizers (BPE with ByteLevel for GPT-2 and GPT-NeoX, WordLevel,
 * WordPiece, Unigram): the lab only wraps it as the Tokenizer contract.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { checkTokenizerRegexes } from './regex-safety.ts';
import { InputError } from '../../lab/core/index.ts';
import { readJson } from '../../lab/core/index.ts';
import type { Tokenizer } from '../types.ts';

const BOS_CANDIDATES = ['<|endoftext|>', '<s>', '<bos>', '[CLS]'];

export class HfTokenizerWrapper implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId?: number;

  constructor(private readonly tok: HfTokenizer, config: Record<string, unknown> = {}) {
    const vocab = tok.get_vocab(true);
    let max = -1;
    for (const id of vocab.values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    const bosName = typeof config.bos_token === 'string' ? config.bos_token : undefined;
    for (const name of bosName ? [bosName] : BOS_CANDIDATES) {
      const id = tok.token_to_id(name);
      if (id !== undefined) {
        this.bosId = id;
        break;
      }
    }
  }

  encode(text: string): number[] {
    // No BOS/EOS added: GPT-2 and Pythia add none, and harvesting wants the text's own tokens.
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: number[]): string {
    return this.tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }
}

/** Builds the Tokenizer from a tokenizer.json object (and tokenizer_config.json, if any). */
export function tokenizerFromJson(json: unknown, config: Record<string, unknown> = {}, path = '<tokenizer.json>'): HfTokenizerWrapper {
  if (typeof json !== 'object' || json === null || !('model' in json)) {
    throw new InputError(`${path} is not a tokenizer.json (no "model")`, path);
  }
  checkTokenizerRegexes(json, path);
  try {
    return new HfTokenizerWrapper(new HfTokenizer(json, config), config);
  } catch (err) {
    throw new InputError(`${path}: cannot build the tokenizer: ${(err as Error).message}`, path);
  }
}

export function loadTokenizer(dir: string): HfTokenizerWrapper {
  const path = join(dir, 'tokenizer.json');
  if (!existsSync(path)) throw new InputError(`${dir} has no tokenizer.json (${path} is missing)`, path);
  const cfgPath = join(dir, 'tokenizer_config.json');
  const config = existsSync(cfgPath) ? readJson<Record<string, unknown>>(cfgPath) : {};
  return tokenizerFromJson(readJson(path), config, path);
}

/**
 * GPT-2's byte-to-unicode table (bytes_to_unicode in openai/gpt-2 encoder.py): printable bytes map to
 * themselves, the rest to code points from 256 up, so every byte is one visible character.
 */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i]!)));
  return out;
}

/** The parts of a ByteLevel BPE tokenizer.json (the Hugging Face layout) that differ between the lab's. */
export interface ByteLevelBpeSpec {
  vocab: Record<string, number>;
  /** "a b" strings, in merge order. */
  merges: string[];
  endOfText: { id: number; normalized: boolean };
  normalizer: Record<string, unknown> | null;
  /** trim_offsets of the post-processor (the pre-tokenizer and decoder always trim). */
  postTrimOffsets: boolean;
  /** Written only when given. */
  byteFallback?: boolean;
}

/** A ByteLevel BPE tokenizer.json object in the Hugging Face layout (GPT-2's). */
export function byteLevelTokenizerJson(spec: ByteLevelBpeSpec): Record<string, unknown> {
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: spec.endOfText.id, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: spec.endOfText.normalized, special: true },
    ],
    normalizer: spec.normalizer,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: { type: 'ByteLevel', ...byteLevel, trim_offsets: spec.postTrimOffsets },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: spec.byteFallback,
      vocab: spec.vocab,
      merges: spec.merges,
    },
  };
}

const END_OF_TEXT = '<|endoftext|>';

/**
 * A small ByteLevel BPE tokenizer.json in the GPT-2 layout (256 byte symbols, then `merges` in order,
 * then <|endoftext|>); `neox` gives the GPT-NeoX variant (NFC normaliser, <|endoftext|> at id 0).
 * For tests and for models trained in the lab on a small vocabulary.
 */
export function byteLevelBpeJson(merges: [string, string][], opts: { neox?: boolean } = {}): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  let next = 0;
  if (opts.neox) vocab[END_OF_TEXT] = next++;
  for (const c of bytesToUnicode()) if (!(c in vocab)) vocab[c] = next++;
  for (const [a, b] of merges) if (!((a + b) in vocab)) vocab[a + b] = next++;
  if (!opts.neox) vocab[END_OF_TEXT] = next++;
  return byteLevelTokenizerJson({
    vocab,
    merges: merges.map(([a, b]) => `${a} ${b}`),
    endOfText: { id: vocab[END_OF_TEXT]!, normalized: !!opts.neox },
    normalizer: opts.neox ? { type: 'NFC' } : null,
    postTrimOffsets: true,
  });
}
