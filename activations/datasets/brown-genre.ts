/**
 * brown-genre: sequence-level genre features from the Brown file prefix. The 15 categories are grouped
 * into 8 one-hot features, so each has enough files to probe (counts of the 500 files in brackets):
 *   press          a reportage (44), b editorial (27), c reviews (17)
 *   religion       d (17)
 *   hobbies        e skill and hobbies (36)
 *   popular_lore   f (48)
 *   belles_lettres g biography, essays (75)
 *   government     h government documents and house organs (30)
 *   learned        j academic writing (80)
 *   fiction        k general (29), l mystery (24), m science fiction (6), n adventure (29),
 *                  p romance (29), r humor (9)
 * Sequences are chunks of one file, so all of a sequence's tokens share its genre.
 */
import type { Tokenizer } from '../types.ts';
import { defineDataset } from './registry.ts';
import { brownDocs, genreOf } from './brown.ts';
import { packedDataset, type SequenceOptions, type TextDataset } from './sequences.ts';

export const GENRE_GROUPS: Record<string, string> = {
  a: 'press', b: 'press', c: 'press', d: 'religion', e: 'hobbies', f: 'popular_lore', g: 'belles_lettres',
  h: 'government', j: 'learned', k: 'fiction', l: 'fiction', m: 'fiction', n: 'fiction', p: 'fiction', r: 'fiction',
};
export const GENRE_FEATURES = ['press', 'religion', 'hobbies', 'popular_lore', 'belles_lettres', 'government', 'learned', 'fiction'];

export function brownGenre(tok: Tokenizer, opts: SequenceOptions): TextDataset {
  return packedDataset(
    tok,
    {
      name: 'brown-genre',
      level: 'sequence',
      features: GENRE_FEATURES,
      docs: () => brownDocs(),
      config: {},
      seqLabels: (doc) => {
        const group = GENRE_GROUPS[genreOf(doc.name)];
        return Object.fromEntries(GENRE_FEATURES.map((f) => [f, f === group ? 1 : 0])) as Record<string, 0 | 1>;
      },
    },
    opts,
  );
}

export const brownGenreDataset = defineDataset({
  name: 'brown-genre',
  summary: 'one-hot genre group of the Brown file (8 features; sequence level, mean-aggregated by default)',
  level: 'sequence',
  build: brownGenre,
});
