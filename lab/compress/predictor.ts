/**
 * The model side of the coder: the next-token distribution after each token, one forward step per
 * token through the KV cache.
 *
 * Windows: the model sees at most `context` positions. When the cache is full, it is dropped and a
 * new one is prefilled in one forward call with the BOS token (when the tokenizer has one) and the
 * last `overlap` tokens, so the context after a restart never falls below `overlap` tokens and a
 * restart costs one batched forward over `overlap` positions every `context - overlap - 1` tokens.
 * The encoder and the decoder make exactly the same calls with the same shapes, which is what makes
 * their logits identical (see quantise.ts).
 *
 * Without a BOS token the first token of the stream has no context: it is coded with a uniform
 * distribution.
 */
import { tf } from '../core/backend.ts';
import type { KVCache, LanguageModel } from '../../activations/index.ts';
import { quantise, modelBits, type Quantised } from './quantise.ts';

export interface PredictorOptions {
  /** Positions per window (<= the model's context length). */
  context: number;
  /** Tokens carried into the next window when one fills. */
  overlap: number;
  /** Frequencies of the vocabulary sum to this (the escape symbol adds 1 on top). */
  tokenTotal: number;
}

export class Predictor {
  private cache: KVCache | undefined;
  private history: number[] = [];
  private pending = false;
  private logits: Float32Array | undefined;
  private q: Quantised | undefined;
  private readonly freqBuf: Int32Array;
  readonly vocab: number;
  forwardCalls = 0;
  forwardSeconds = 0;

  constructor(private readonly model: LanguageModel, private readonly opts: PredictorOptions) {
    this.vocab = model.config.vocabSize;
    this.freqBuf = new Int32Array(this.vocab);
    const bos = model.tokenizer.bosId;
    if (bos !== undefined) this.startWindow([bos]);
    else this.uniform();
  }

  /** Frequencies of the next token (length vocab, summing to tokenTotal); valid until the next push. */
  get freqs(): Int32Array {
    this.settle();
    return this.q ? this.q.freqs : this.freqBuf;
  }

  /** -log2 of the model's unquantised probability of `token` (uniform before any context). */
  modelBits(token: number): number {
    this.settle();
    return this.q && this.logits ? modelBits(this.logits, this.q, token) : Math.log2(this.vocab);
  }

  /**
   * Feeds one token. The forward step runs when the next distribution is first asked for, so the
   * last token of a stream costs no forward call.
   */
  push(token: number): void {
    this.settle();
    this.history.push(token);
    this.pending = true;
  }

  private settle(): void {
    if (!this.pending) return;
    this.pending = false;
    const token = this.history[this.history.length - 1]!;
    if (this.cache && this.cache.length < this.opts.context) {
      this.step([token], this.cache);
      return;
    }
    const bos = this.model.tokenizer.bosId;
    const keep = this.history.slice(-Math.max(1, this.cache ? this.opts.overlap : 1));
    this.startWindow(bos !== undefined ? [bos, ...keep] : keep);
    // Only the window's tail is ever needed again.
    if (this.history.length > 4 * this.opts.context) this.history = this.history.slice(-this.opts.context);
  }

  private startWindow(ids: number[]): void {
    this.cache?.dispose();
    this.cache = this.model.newKVCache(1);
    this.step(ids, this.cache);
  }

  private step(ids: number[], cache: KVCache): void {
    const t0 = performance.now();
    // No tf.tidy here: the model writes new tensors into the cache during forward, and a tidy would
    // dispose them. What this method creates it disposes itself.
    const input = tf.tensor2d(ids, [1, ids.length], 'int32');
    const { logits, cache: hooks } = this.model.forward(input, { kvCache: cache });
    input.dispose();
    for (const v of hooks.values()) v.dispose();
    if (ids.length === 1) {
      this.logits = logits.dataSync() as Float32Array;
    } else {
      const last = tf.slice(logits, [0, ids.length - 1, 0], [1, 1, this.vocab]);
      this.logits = last.dataSync() as Float32Array;
      last.dispose();
    }
    logits.dispose();
    this.forwardSeconds += (performance.now() - t0) / 1000;
    this.forwardCalls++;
    this.q = quantise(this.logits, this.opts.tokenTotal, this.freqBuf);
  }

  private uniform(): void {
    const f = Math.floor(this.opts.tokenTotal / this.vocab);
    this.freqBuf.fill(f);
    this.freqBuf[0]! += this.opts.tokenTotal - f * this.vocab;
    this.q = undefined;
    this.logits = undefined;
  }

  dispose(): void {
    this.cache?.dispose();
    this.cache = undefined;
  }
}
