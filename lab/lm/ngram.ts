/**
 * Count-based baselines a language model has to beat: an add-k unigram and an interpolated Kneser-Ney
 * bigram, fitted on training token streams and scored on held-out ones in nats per token.
 *
 * A stream is one document's ids with the <|endoftext|> id before it (so the first word has a context);
 * the first id of a stream is context only, every later id is a target. This matches how the transformer
 * is scored (lab/lm/evaluate.ts), so the three numbers cover exactly the same targets.
 */
import { UsageError } from '../core/index.ts';

export interface NgramScore {
  /** Sum of -ln p over every target. */
  nats: number;
  targets: number;
}

function check(ids: Iterable<number>, vocabSize: number): void {
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new UsageError(`token id ${id} is outside the vocabulary [0, ${vocabSize})`);
  }
}

/** Add-k unigram: p(w) = (c(w) + k) / (N + kV). With k = 0 it is the empirical distribution. */
export class UnigramModel {
  readonly counts: Float64Array;
  readonly total: number;

  constructor(readonly vocabSize: number, streams: readonly (readonly number[])[], readonly k = 1) {
    if (k < 0) throw new UsageError(`unigram smoothing k must be >= 0, got ${k}`);
    this.counts = new Float64Array(vocabSize);
    let total = 0;
    for (const s of streams) {
      check(s, vocabSize);
      for (let i = 1; i < s.length; i++) {
        this.counts[s[i]!]!++;
        total++;
      }
    }
    this.total = total;
  }

  logProb(w: number): number {
    return Math.log((this.counts[w]! + this.k) / (this.total + this.k * this.vocabSize));
  }

  score(streams: readonly (readonly number[])[]): NgramScore {
    let nats = 0;
    let targets = 0;
    for (const s of streams) {
      check(s, this.vocabSize);
      for (let i = 1; i < s.length; i++, targets++) nats -= this.logProb(s[i]!);
    }
    return { nats, targets };
  }
}

/**
 * Interpolated Kneser-Ney bigram (Chen & Goodman 1998) with one discount D = n1 / (n1 + 2 n2):
 *   p(w | v) = max(c(v,w) - D, 0) / c(v) + D N1+(v .) / c(v) * p_cont(w)
 * and a context never seen in training falls back to p_cont alone. The continuation distribution
 * p_cont(w) = (N1+(. w) + 1) / (N1+(. .) + V) is add-one smoothed so unseen words keep some mass.
 */
export class KneserNeyBigram {
  /** c(v, w), keyed v * V + w. */
  private readonly pair = new Map<number, number>();
  private readonly ctxCount: Float64Array;
  private readonly ctxTypes: Float64Array;
  private readonly contTypes: Float64Array;
  private readonly bigramTypes: number;
  readonly discount: number;

  constructor(readonly vocabSize: number, streams: readonly (readonly number[])[]) {
    const V = vocabSize;
    for (const s of streams) {
      check(s, V);
      for (let i = 1; i < s.length; i++) {
        const key = s[i - 1]! * V + s[i]!;
        this.pair.set(key, (this.pair.get(key) ?? 0) + 1);
      }
    }
    this.ctxCount = new Float64Array(V);
    this.ctxTypes = new Float64Array(V);
    this.contTypes = new Float64Array(V);
    let n1 = 0;
    let n2 = 0;
    for (const [key, c] of this.pair) {
      const v = Math.floor(key / V);
      const w = key - v * V;
      this.ctxCount[v]! += c;
      this.ctxTypes[v]!++;
      this.contTypes[w]!++;
      if (c === 1) n1++;
      else if (c === 2) n2++;
    }
    this.bigramTypes = this.pair.size;
    this.discount = n1 + 2 * n2 > 0 ? n1 / (n1 + 2 * n2) : 0.75;
  }

  contProb(w: number): number {
    return (this.contTypes[w]! + 1) / (this.bigramTypes + this.vocabSize);
  }

  prob(v: number, w: number): number {
    const cv = this.ctxCount[v]!;
    if (cv === 0) return this.contProb(w);
    const c = this.pair.get(v * this.vocabSize + w) ?? 0;
    return Math.max(c - this.discount, 0) / cv + ((this.discount * this.ctxTypes[v]!) / cv) * this.contProb(w);
  }

  score(streams: readonly (readonly number[])[]): NgramScore {
    let nats = 0;
    let targets = 0;
    for (const s of streams) {
      check(s, this.vocabSize);
      for (let i = 1; i < s.length; i++, targets++) nats -= Math.log(this.prob(s[i - 1]!, s[i]!));
    }
    return { nats, targets };
  }
}
