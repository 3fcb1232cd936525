/**
 * Test double (used by tests only): a tiny character-level LanguageModel on tfjs with a real KV cache
 * contract. Its next-token logits depend on the last token, the position and a running mean of all
 * earlier embeddings, so the context and the window restarts matter. Characters outside its alphabet
 * encode to <unk>, which decodes to U+FFFD: the escape path of the coder gets exercised.
 */
import { tf } from '../core/backend.ts';
import { Rng } from '../core/index.ts';
import type { ForwardOptions, ForwardResult, KVCache, LanguageModel, Tokenizer } from '../../activations/index.ts';

const ALPHABET = ' etaoinshrdlcumwfgypbvkjxqzETAOINSHRDLCUMWFGYPBVKJXQZ0123456789.,;:!?\'"-()\n';

class CharCache implements KVCache {
  length = 0;
  sum: Float64Array | undefined;
  dispose(): void {
    this.sum = undefined;
  }
}

export interface CharModelOptions {
  seed?: number;
  contextLength?: number;
  withBos?: boolean;
  checksum?: string;
  /** Extra logit columns no token maps to (a padded vocabulary). */
  pad?: number;
}

export function charModel(opts: CharModelOptions = {}): LanguageModel & { calls: number[] } {
  const rng = new Rng(opts.seed ?? 0);
  const withBos = opts.withBos ?? true;
  const chars = Array.from(ALPHABET);
  const offset = withBos ? 2 : 1; // ids: [<bos>], <unk>, chars
  const unk = offset - 1;
  const vocabSize = chars.length + offset;
  const nLogits = vocabSize + (opts.pad ?? 0);
  const d = 16;
  const ctx = opts.contextLength ?? 64;
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => rng.normal() * s);
  // Plain arrays, not tensors: the double's arithmetic runs in JS (fast and exact to reproduce) and
  // only its output is a tensor, as the contract asks.
  const E = rand(vocabSize * d, 1);
  const P = rand(ctx * d, 0.3);
  const W = rand(d * nLogits, 0.8);
  const index = new Map(chars.map((c, i) => [c, i + offset]));
  const tokenizer: Tokenizer = {
    vocabSize,
    bosId: withBos ? 0 : undefined,
    encode: (text) => Array.from(text).map((c) => index.get(c) ?? unk),
    decode: (ids) => ids.map((i) => (i === unk ? '\ufffd' : i < offset ? '' : chars[i - offset]!)).join(''),
    idToToken: (id) => (id === unk ? '<unk>' : id < offset ? '<bos>' : chars[id - offset]),
  };
  const calls: number[] = [];
  return {
    calls,
    config: { architecture: 'gpt2', nLayers: 1, dModel: d, nHeads: 1, dMlp: d, vocabSize: nLogits, contextLength: ctx },
    tokenizer,
    source: { dir: '(char test model)', checksum: opts.checksum ?? `char-model-seed-${opts.seed ?? 0}` },
    hookNames: () => [],
    newKVCache: () => new CharCache(),
    dispose: () => undefined,
    forward(ids: tf.Tensor2D, fo: ForwardOptions = {}): ForwardResult {
      const cache = fo.kvCache as CharCache | undefined;
      const n = ids.shape[1];
      const start = cache?.length ?? 0;
      if (start + n > ctx) throw new Error(`char model: ${start + n} positions exceed the context of ${ctx}`);
      calls.push(n);
      const idx = ids.dataSync();
      const sum = cache?.sum ? Float64Array.from(cache.sum) : new Float64Array(d);
      const out = new Float32Array(n * nLogits);
      const h = new Float64Array(d);
      for (let t = 0; t < n; t++) {
        const id = idx[t]!;
        const pos = start + t;
        for (let k = 0; k < d; k++) {
          const e = E[id * d + k]!;
          sum[k] += e;
          h[k] = e + (0.5 * sum[k]!) / (pos + 1) + P[pos * d + k]!;
        }
        for (let j = 0; j < nLogits; j++) {
          let acc = 0;
          for (let k = 0; k < d; k++) acc += h[k]! * W[k * nLogits + j]!;
          out[t * nLogits + j] = acc;
        }
      }
      if (cache) cache.sum = sum;
      const logits = tf.tensor3d(out, [1, n, nLogits]);
      if (cache) cache.length += n;
      return { logits, cache: new Map() };
    },
  };
}
