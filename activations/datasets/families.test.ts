import { describe, expect, it } from 'vitest';
import { textDocs } from './text-sources.ts';
import {
  affixFeatures, AFFIX_FEATURES, bigramLabels, BIGRAM_FEATURES, encodeAligned, gpt2Tokenizer, makeDataset, SEQ_STRIDE, UDHR_FEATURES, udhrArticles, UDHR_LANGUAGES,
} from './index.ts';

const tok = gpt2Tokenizer();

describe('udhr-lang', () => {
  it('reads 11 translations of the declaration, preamble and 30 articles each, hand-checked on article 1', () => {
    expect(UDHR_FEATURES.length).toBeGreaterThanOrEqual(9);
    for (const code of Object.values(UDHR_LANGUAGES)) expect(udhrArticles(code).length).toBe(31);
    expect(udhrArticles('eng')[1]![0]).toMatch(/^All human beings are born free and equal in dignity and rights\./);
    expect(udhrArticles('fra')[1]![0]).toMatch(/^Tous les êtres humains naissent libres et égaux en dignité et en droits\./);
    expect(udhrArticles('ell_monotonic')[1]![0]).toMatch(/^Όλοι οι άνθρωποι γεννιούνται ελεύθεροι/);
  });

  it('labels each sequence with the language of its article, one-hot, ids language * 100 + article', () => {
    const ds = makeDataset('udhr-lang', tok, { context: 64, seed: 0 });
    expect(ds.level).toBe('sequence');
    const perLang = new Map<string, number>();
    for (const s of ds.sequences()) {
      const doc = Math.floor(s.seqId / SEQ_STRIDE);
      const lang = UDHR_FEATURES[Math.floor(doc / 100)]!;
      expect(s.seqLabels).toEqual(Object.fromEntries(UDHR_FEATURES.map((f) => [f, f === lang ? 1 : 0])));
      perLang.set(lang, (perLang.get(lang) ?? 0) + 1);
    }
    expect([...perLang.keys()].sort()).toEqual([...UDHR_FEATURES].sort());
    for (const n of perLang.values()) expect(n).toBeGreaterThan(40);
  });
});

describe('affixes', () => {
  it('matches prefixes after one leading space and suffixes at the end, groups as one feature', () => {
    expect(affixFeatures(' rebuild')).toEqual(['starts_with_re']);
    expect(affixFeatures('re')).toEqual(['starts_with_re']);
    expect(affixFeatures(' Nation')).toEqual(['ends_with_tion_sion']);
    expect(affixFeatures(' inside').sort()).toEqual(['starts_with_il_ir_im_in', 'starts_with_in']);
    expect(affixFeatures(' understandable').sort()).toEqual(['ends_with_able', 'starts_with_un', 'starts_with_under']);
    expect(affixFeatures(' cat')).toEqual([]);
    expect(AFFIX_FEATURES).toContain('starts_with_anti');
    expect(new Set(AFFIX_FEATURES).size).toBe(AFFIX_FEATURES.length);
  });

  it('labels every token of real text with its own affixes', () => {
    const ds = makeDataset('affixes', tok, { context: 48, seed: 0 });
    let n = 0;
    let positives = 0;
    for (const s of ds.sequences()) {
      for (let i = 1; i < s.ids.length; i++) {
        const want = new Set(affixFeatures(tok.decode([s.ids[i]!])));
        for (const f of AFFIX_FEATURES) expect(s.tokenLabels![f]![i]).toBe(want.has(f) ? 1 : 0);
        positives += want.size;
      }
      if (++n >= 4) break;
    }
    expect(positives).toBeGreaterThan(20);
  });
});

describe('compound-bigrams', () => {
  it('labels the bigram and both hard negatives on the last token of the word (hand-checked)', () => {
    const text = ' She left high school. The school was high above a school bus, high schools and a high, school.';
    const enc = encodeAligned(tok, text);
    const lab = bigramLabels(enc, text);
    const on = (f: string) => enc.ids.map((_, i) => i).filter((i) => lab[f]![i] === 1).map((i) => text.slice(enc.start[i]!, enc.end[i]!));
    expect(on('high_school')).toEqual([' school']);
    // 'The school', 'a school bus' and the 'school' after 'high,' (not adjacent: a comma between).
    expect(on('high_school_missing_first')).toEqual([' school', ' school', ' school']);
    expect(on('high_school_missing_second')).toEqual([' above', ' schools']);
    for (const f of BIGRAM_FEATURES.filter((x) => !x.startsWith('high_school'))) expect(on(f)).toEqual([]);
  });

  it('a second word of several tokens carries the label on its last token', () => {
    const text = ' the magnetic fieldwork and magnetic field';
    const enc = encodeAligned(tok, text);
    const lab = bigramLabels(enc, text);
    const last = enc.ids.length - 1;
    expect(lab.magnetic_field![last]).toBe(1);
    const fw = enc.ids.map((_, i) => i).filter((i) => lab.magnetic_field_missing_second![i] === 1);
    expect(fw.length).toBe(1);
    expect(text.slice(0, enc.end[fw[0]!]!)).toBe(' the magnetic fieldwork');
  });

  it('on real text, the bigram positives are the regex count of the pair with only spaces between (Brown)', () => {
    // An independent reading: a regex over the raw sentences, against the labels of the tokenised ones.
    const pair = /(?<![\p{L}\p{M}])high +school(?![\p{L}\p{M}])/giu;
    let sentences = 0;
    let found = 0;
    for (const doc of textDocs('brown')) {
      for (const s of doc.sentences()) {
        if (!/high +school/i.test(s.text)) continue;
        const text = ' ' + s.text;
        const lab = bigramLabels(encodeAligned(tok, text), text);
        const n = lab.high_school!.reduce((a, b) => a + b, 0);
        expect(n).toBe([...text.matchAll(pair)].length);
        found += n;
        sentences++;
      }
      if (sentences >= 25) break;
    }
    expect(found).toBeGreaterThanOrEqual(20);
  });
});
