import { describe, expect, it } from 'vitest';
import { detokenize, documentText, readBrown, wordsOfLine } from './brown-text.ts';
import { splitDocuments } from './split.ts';

describe('Brown text', () => {
  it('joins words the way printed English does', () => {
    expect(detokenize(['``', 'No', 'evidence', "''", ',', 'the', 'jury', 'said', '(', 'twice', ')', '.'])).toBe('"No evidence", the jury said (twice).');
    expect(detokenize(['He', "didn't", 'go', ';', 'why', '?'])).toBe("He didn't go; why?");
    expect(detokenize(['the', 'players', "'", 'union', '--', 'then'])).toBe("the players' union -- then");
  });

  it('drops the tag after the last slash only', () => {
    expect(wordsOfLine('\tThe/at 1/2/cd inch/nn ./.')).toEqual(['The', '1/2', 'inch', '.']);
    expect(documentText('\n\n\tA/at b/nn ./.\n\n\n\tC/np !/.\n')).toBe('A b. C!');
  });

  it('reads all 500 documents of the installed corpus with their genre letters', () => {
    const docs = readBrown();
    expect(docs).toHaveLength(500);
    expect(docs[0]!.id).toBe('ca01');
    expect(docs[0]!.text.startsWith('The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.')).toBe(true);
    expect(new Set(docs.map((d) => d.genre))).toEqual(new Set('abcdefghjklmnpr'.split('')));
    for (const d of docs) expect(d.text).not.toMatch(/``| [a-z]+\/(at|nn|nns|vbd|jj|cc) /);
  });
});

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
