import { describe, expect, it } from 'vitest';
import { Rng } from '../core/index.ts';
import { detExp, modelBits, quantise } from './quantise.ts';

describe('detExp', () => {
  it('matches Math.exp to 1e-14 relative on [-60, 0] and is 0 below the cutoff', () => {
    let worst = 0;
    for (let i = 0; i <= 60000; i++) {
      const x = -i / 1000;
      worst = Math.max(worst, Math.abs(detExp(x) - Math.exp(x)) / Math.exp(x));
    }
    expect(worst).toBeLessThan(1e-14);
    expect(detExp(0)).toBe(1);
    expect(detExp(-60.0001)).toBe(0);
  });
});

describe('quantise', () => {
  const rng = new Rng(3);
  const randomLogits = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);

  it('gives every symbol at least 1, sums to the total and follows the probabilities', () => {
    for (const [n, scale, bits] of [[10, 1, 16], [1000, 3, 20], [5000, 10, 24], [50257, 4, 24]] as const) {
      const logits = randomLogits(n, scale);
      const total = 2 ** bits;
      const { freqs, max, sum } = quantise(logits, total);
      let s = 0;
      let argmax = 0;
      for (let i = 0; i < n; i++) {
        s += freqs[i]!;
        if (logits[i]! > logits[argmax]!) argmax = i;
      }
      expect(Math.min(...freqs)).toBeGreaterThanOrEqual(1);
      expect(s).toBe(total);
      let worstOther = 0;
      for (let i = 0; i < n; i++) {
        const p = Math.exp(logits[i]! - max) / sum;
        const err = Math.abs(freqs[i]! - (1 + p * (total - n)));
        // Every token but the argmax is floored (within 1); the argmax takes the remainder (< n).
        if (i === argmax) expect(err).toBeLessThanOrEqual(n + 2);
        else worstOther = Math.max(worstOther, err);
      }
      expect(worstOther).toBeLessThanOrEqual(1);
    }
  });

  it('is monotone in the logit and breaks ties by id', () => {
    const logits = Float32Array.from([0.5, 2, 2, -1, 0.5, 2]);
    const { freqs } = quantise(logits, 2 ** 16);
    expect(freqs[0]).toBe(freqs[4]);
    expect(freqs[2]).toBe(freqs[5]);
    expect(freqs[1]).toBeGreaterThanOrEqual(freqs[2]!); // the remainder goes to the lowest id among maxima
    expect(freqs[3]).toBeLessThan(freqs[0]!);
  });

  it('handles one token with almost all the mass and -Infinity logits', () => {
    const logits = new Float32Array(1000).fill(-Infinity);
    logits[17] = 0;
    logits[3] = -30;
    const { freqs } = quantise(logits, 2 ** 24);
    expect(freqs[17]).toBe(2 ** 24 - 999);
    expect(freqs[3]).toBe(1);
  });

  it('costs little over the model cross-entropy at 2^24 for a 50k vocabulary', () => {
    const n = 50257;
    let model = 0;
    let coded = 0;
    for (let t = 0; t < 20; t++) {
      const logits = randomLogits(n, 6);
      const q = quantise(logits, 2 ** 24);
      for (let j = 0; j < 20; j++) {
        // Draw the token from the model's distribution so the average is a cross-entropy.
        let u = rng.next() * q.sum;
        let tok = 0;
        for (; tok < n - 1; tok++) {
          u -= Math.exp(logits[tok]! - q.max);
          if (u <= 0) break;
        }
        model += modelBits(logits, q, tok);
        coded += Math.log2(2 ** 24 / q.freqs[tok]!);
      }
    }
    // The floor of 1 per symbol takes n / 2^24 = 0.3% of the mass: about 0.004 bits per token.
    expect((coded - model) / 400).toBeLessThan(0.01);
    expect(coded).toBeGreaterThan(model * 0.999);
  });

  it('rejects NaN logits and too small a total', () => {
    expect(() => quantise(Float32Array.from([0, NaN]), 1024)).toThrow(/non-finite/);
    expect(() => quantise(new Float32Array(100), 300)).toThrow(/too small/);
  });
});
