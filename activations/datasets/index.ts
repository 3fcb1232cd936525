/**
 * Feature datasets: labelled sequences for probing. Each takes a Tokenizer (the model's own) and packs
 * whole sentences of one document into sequences up to the context length, with a stable sequence id
 * (doc_index * 100000 + chunk) so train/test splits can group by sequence.
 */
import { UsageError } from '../../lab/core/index.ts';
import type { Tokenizer } from '../types.ts';
import { brownGenre } from './brown-genre.ts';
import { brownPos } from './brown-pos.ts';
import { compoundWords } from './compound-words.ts';
import type { TextDataset } from './sequences.ts';
import { textPropsDataset } from './text-props.ts';
import { TEXT_SOURCES, type TextSource } from './text-sources.ts';

export { gpt2Tokenizer } from './gpt2-tokenizer.ts';
export { encodeAligned, alignIds, tokenText, type EncodedText } from './align.ts';
export { brownPos, tokenWords, type BrownPosOptions } from './brown-pos.ts';
export { brownGenre, GENRE_FEATURES, GENRE_GROUPS } from './brown-genre.ts';
export { textPropsDataset, textProps, TEXT_PROP_FEATURES } from './text-props.ts';
export { compoundWords, compoundLabels, COMPOUND_FEATURES } from './compound-words.ts';
export { POS_FEATURES, tagFeatures, isKnownTag } from './brown-tags.ts';
export {
  brownDir, brownDocs, brownFiles, parseBrown, parseBrownFile, detokenize, readBrown, brownDocumentText, brownFileText, genreOf,
  BROWN_ID, type BrownDocument, type BrownWord,
} from './brown.ts';
export { packedDataset, SEQ_STRIDE, type TextDataset, type SequenceOptions, type SourceDoc } from './sequences.ts';
export { TEXT_SOURCES, type TextSource } from './text-sources.ts';

export const DATASET_NAMES = ['brown-pos', 'brown-genre', 'text-props', 'compound-words'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export interface DatasetOptions {
  context: number;
  seed: number;
  bos?: boolean;
  /** Text for text-props and compound-words (default brown). */
  source?: TextSource;
  /** brown-pos: label every token of a word ('all', default) or only its first. */
  align?: 'all' | 'first';
}

/** Builds a dataset by name; an unknown name is a UsageError listing the valid ones. */
export function makeDataset(name: string, tok: Tokenizer, opts: DatasetOptions): TextDataset {
  if (opts.source !== undefined && !(TEXT_SOURCES as readonly string[]).includes(opts.source)) {
    throw new UsageError(`--source must be one of ${TEXT_SOURCES.join(', ')}; got '${opts.source}'`, 'source');
  }
  switch (name) {
    case 'brown-pos':
      return brownPos(tok, opts);
    case 'brown-genre':
      return brownGenre(tok, opts);
    case 'text-props':
      return textPropsDataset(tok, opts);
    case 'compound-words':
      return compoundWords(tok, opts);
    default:
      throw new UsageError(`unknown dataset '${name}' for --dataset; valid: ${DATASET_NAMES.join(', ')}`, 'dataset');
  }
}
