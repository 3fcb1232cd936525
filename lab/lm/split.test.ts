import { describe, expect, it } from 'vitest';
import { splitDocuments } from './split.ts';

describe('held-out split', () => {
  const docs = Array.from({ length: 500 }, (_, i) => ({ id: `c${'abcdefghjklmnpr'[i % 15]}${String(i).padStart(3, '0')}`, genre: 'abcdefghjklmnpr'[i % 15]! }));
  const uneven = [...Array(44)].map((_, i) => ({ id: `a${i}`, genre: 'a' })).concat([...Array(9)].map((_, i) => ({ id: `r${i}`, genre: 'r' })));

  it('holds out round(5%) of the documents, disjoint from training, the same for the same seed', () => {
    const s = splitDocuments(docs, 0.05, 7);
    expect(s.heldOut).toHaveLength(25);
    expect(s.train).toHaveLength(475);
    const held = new Set(s.heldOut.map((d) => d.id));
    expect(s.train.some((d) => held.has(d.id))).toBe(false);
    expect(splitDocuments(docs, 0.05, 7).heldOut.map((d) => d.id)).toEqual(s.heldOut.map((d) => d.id));
    expect(splitDocuments(docs, 0.05, 8).heldOut.map((d) => d.id)).not.toEqual(s.heldOut.map((d) => d.id));
  });

  it('stratifies by genre with largest-remainder rounding', () => {
    // 5% of 53 rounds to 3: genre a's quota 2.2 and r's 0.45 floor to 2 and 0; r has the larger remainder.
    const s = splitDocuments(uneven, 0.05, 0);
    expect(s.heldOut.filter((d) => d.genre === 'a')).toHaveLength(2);
    expect(s.heldOut.filter((d) => d.genre === 'r')).toHaveLength(1);
    expect(() => splitDocuments(uneven, 1.5, 0)).toThrow(/fraction/);
  });
});
