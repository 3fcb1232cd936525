import { describe, expect, it } from 'vitest';
import { KneserNeyBigram, UnigramModel } from './ngram.ts';

// Streams start with a context-only token (here 0, standing for <|endoftext|>).
const train = [
  [0, 1, 2, 1, 3, 1, 2],
  [0, 2, 2, 4, 1],
];
const V = 6;

describe('unigram baseline', () => {
  it('with k = 0 scores its own training text at the entropy of the empirical distribution', () => {
    const u = new UnigramModel(V, train, 0);
    const counts = new Map<number, number>();
    let n = 0;
    for (const s of train) for (const w of s.slice(1)) (counts.set(w, (counts.get(w) ?? 0) + 1), n++);
    const entropy = -[...counts.values()].reduce((h, c) => h + (c / n) * Math.log(c / n), 0);
    const s = u.score(train);
    expect(s.targets).toBe(n);
    expect(s.nats / s.targets).toBeCloseTo(entropy, 12);
  });

  it('add-k gives (c + k) / (N + kV) and sums to one', () => {
    const u = new UnigramModel(V, train, 0.5);
    expect(Math.exp(u.logProb(1))).toBeCloseTo((4 + 0.5) / (10 + 0.5 * V), 12);
    expect(Math.exp(u.logProb(5))).toBeCloseTo(0.5 / (10 + 0.5 * V), 12);
    let total = 0;
    for (let w = 0; w < V; w++) total += Math.exp(u.logProb(w));
    expect(total).toBeCloseTo(1, 12);
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => new UnigramModel(3, [[0, 1, 7]])).toThrow(/outside the vocabulary/);
  });
});

describe('Kneser-Ney bigram baseline', () => {
  const kn = new KneserNeyBigram(V, train);

  it('uses D = n1 / (n1 + 2 n2) from the bigram count-of-counts', () => {
    // bigrams: 0-1, 1-2 x2, 2-1, 1-3, 3-1, 0-2, 2-2, 2-4, 4-1: nine types, n1 = 8 (once), n2 = 1 (1-2 twice).
    expect(kn.discount).toBeCloseTo(8 / (8 + 2), 12);
  });

  it('is a distribution for every context, seen or not', () => {
    for (let v = 0; v < V; v++) {
      let total = 0;
      for (let w = 0; w < V; w++) total += kn.prob(v, w);
      expect(total).toBeCloseTo(1, 12);
    }
  });

  it('matches the interpolated formula by hand', () => {
    const D = 0.8;
    // Bigrams from context 1: 1-2 (twice), 1-3 (once): c(1) = 3 over two types.
    // Continuation counts N1+(. w): w=1 follows {0,2,3,4}, w=2 follows {0,1,2}; nine bigram types; add-one over V = 6.
    const pcont1 = (4 + 1) / (9 + 6);
    const pcont2 = (3 + 1) / (9 + 6);
    expect(kn.prob(1, 2)).toBeCloseTo((2 - D) / 3 + ((D * 2) / 3) * pcont2, 12);
    expect(kn.prob(1, 1)).toBeCloseTo(((D * 2) / 3) * pcont1, 12);
    expect(kn.prob(5, 1)).toBeCloseTo(pcont1, 12); // 5 never a context
  });

  it('scores unseen pairs finitely and beats the unigram on text like its training text', () => {
    const s = kn.score([[0, 4, 3, 5]]);
    expect(Number.isFinite(s.nats)).toBe(true);
    const u = new UnigramModel(V, train, 1);
    expect(kn.score(train).nats).toBeLessThan(u.score(train).nats);
  });
});
