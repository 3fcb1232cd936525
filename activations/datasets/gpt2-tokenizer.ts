/**
 * GPT-2's byte-level BPE (r50k_base, 50257 ids) from the `gpt-tokenizer` package, which ships the
 * vocabulary and merges offline. It is a Tokenizer for tests and a fallback when a model folder has
 * no tokenizer.json; real checkpoints bring their own tokenizer through activations/models.
 * `idToToken` returns the decoded text of one id (GPT-2's vocab file shows 'Ġthe' for ' the').
 *
 * Decoding goes through the package's per-token bytes and one non-streaming TextDecoder: its own
 * decode() shares a streaming decoder across calls, so a partial UTF-8 character left by one call
 * corrupts the next (decode of ' café 日本' prefixes gives ' café\ufffd ...').
 */
import api, { encode, vocabularySize } from 'gpt-tokenizer/encoding/r50k_base';
import type { Tokenizer } from '../types.ts';

const EOT = 50256;

interface TokenBytes {
  decodeNativeGenerator(ids: Iterable<number>): Generator<Uint8Array | string>;
}
const core = (api as unknown as { bytePairEncodingCoreProcessor: TokenBytes }).bytePairEncodingCoreProcessor;
const utf8 = new TextEncoder();

function decodeIds(ids: number[]): string {
  const parts: Uint8Array[] = [];
  let len = 0;
  for (const p of core.decodeNativeGenerator(ids)) {
    const b = typeof p === 'string' ? utf8.encode(p) : p;
    parts.push(b);
    len += b.length;
  }
  const all = new Uint8Array(len);
  let at = 0;
  for (const b of parts) {
    all.set(b, at);
    at += b.length;
  }
  return new TextDecoder().decode(all);
}

export function gpt2Tokenizer(): Tokenizer {
  return {
    // Special-token strings in text are encoded as plain text, never as <|endoftext|>.
    encode: (text: string) => encode(text, { disallowedSpecial: new Set() }),
    decode: decodeIds,
    idToToken: (id: number) => (Number.isInteger(id) && id >= 0 && id < vocabularySize ? decodeIds([id]) : undefined),
    vocabSize: vocabularySize,
    bosId: EOT,
  };
}
