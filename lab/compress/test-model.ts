/**
 * Test double (used by tests only): a tiny character-level LanguageModel on tfjs with a real KV cache
 * contract. Its next-token logits depend on the last token, the position and a running mean of all
 * earlier embeddings, so the context and the window restarts matter. Characters outside its alphabet
 * encode to <unk>, which decodes to U+FFFD: the escape path of the coder gets exercised.
 */
import { tf } from '../backend.ts';
import { Rng } from '../rng.ts';
import type { ForwardOptions, ForwardResult, KVCache, LanguageModel, Tokenizer } from '../../activations/types.ts';

const ALPHABET = ' etaoinshrdlcumwfgypbvkjxqzETAOINSHRDLCUMWFGYPBVKJXQZ0123456789.,;:!?\'"-()\n';

class CharCache implements KVCache {
  length = 0;
  sum: tf.Tensor2D | undefined;
  dispose(): void {
    this.sum?.dispose();
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
  const E = tf.keep(tf.tensor2d(rand(vocabSize * d, 1), [vocabSize, d]));
  const P = tf.keep(tf.tensor2d(rand(ctx * d, 0.3), [ctx, d]));
  const W = tf.keep(tf.tensor2d(rand(d * nLogits, 0.8), [d, nLogits]));
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
    dispose: () => tf.dispose([E, P, W]),
    forward(ids: tf.Tensor2D, fo: ForwardOptions = {}): ForwardResult {
      const cache = fo.kvCache as CharCache | undefined;
      const n = ids.shape[1];
      const start = cache?.length ?? 0;
      if (start + n > ctx) throw new Error(`char model: ${start + n} positions exceed the context of ${ctx}`);
      calls.push(n);
      const logits = tf.tidy(() => {
        const e = tf.gather(E, tf.reshape(ids, [n])) as tf.Tensor2D; // [n, d]
        const prev = cache?.sum ?? tf.zeros([1, d]);
        const cum = tf.add(tf.cumsum(e, 0), prev) as tf.Tensor2D;
        const counts = tf.reshape(tf.range(start + 1, start + n + 1), [n, 1]);
        const mean = tf.div(cum, counts);
        const pos = tf.slice(P, [start, 0], [n, d]);
        const h = tf.add(tf.add(e, tf.mul(mean, 0.5)), pos);
        if (cache) {
          const last = tf.slice(cum, [n - 1, 0], [1, d]) as tf.Tensor2D;
          cache.sum?.dispose();
          cache.sum = tf.keep(last);
        }
        return tf.reshape(tf.matMul(h, W), [1, n, nLogits]) as tf.Tensor3D;
      });
      if (cache) cache.length += n;
      return { logits, cache: new Map() };
    },
  };
}
