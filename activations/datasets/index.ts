/**
 * Feature datasets: labelled sequences for probing. Each takes a Tokenizer (the model's own) and packs
 * whole sentences of one document into sequences up to the context length, with a stable sequence id
 * (doc_index * 100000 + chunk) so train/test splits can group by sequence.
 */
// Run for its effect: list.ts registers the built-in datasets.
import './list.ts';

export { gpt2Tokenizer } from './gpt2-tokenizer.ts';
export { encodeAligned, alignIds, tokenText, type EncodedText } from './align.ts';
export { brownPos, tokenWords, type BrownPosOptions } from './brown-pos.ts';
export { brownGenre, GENRE_FEATURES, GENRE_GROUPS } from './brown-genre.ts';
export { textPropsDataset, textProps, TEXT_PROP_FEATURES } from './text-props.ts';
export { compoundWords, compoundLabels, COMPOUND_FEATURES } from './compound-words.ts';
export { udhrLang, udhrArticles, htmlText, UDHR_LANGUAGES, UDHR_FEATURES } from './udhr-lang.ts';
export { tokenPropsDataset, tokenProps, TOKEN_PROP_FEATURES } from './token-props.ts';
export { affixesDataset, affixFeatures, AFFIX_FEATURES, PREFIXES, SUFFIXES } from './affixes.ts';
export { compoundBigrams, bigramLabels, hardNegativeColumns, BIGRAM_FEATURES, COMPOUND_BIGRAMS } from './compound-bigrams.ts';
export { POS_FEATURES, tagFeatures, isKnownTag } from './brown-tags.ts';
export {
  brownDir, brownDocs, brownFiles, parseBrown, parseBrownFile, detokenize, readBrown, brownDocumentText, brownFileText, genreOf,
  BROWN_ID, type BrownDocument, type BrownWord,
} from './brown.ts';
export { packedDataset, SEQ_STRIDE, type TextDataset, type SequenceOptions, type SourceDoc } from './sequences.ts';
export { TEXT_SOURCES, type TextSource } from './text-sources.ts';
export { readUserTable, userFileDataset, spanTokenLabels, type UserTable, type UserFileOptions } from './user-file.ts';
export { readTable, tableFormat, binaryValue, type Table, type TableRow, type TableFormat } from './table-file.ts';

export {
  makeDataset, registerDataset, defineDataset, datasetNames, datasetSpecs, checkDatasetName, sequenceLevelDatasets,
  type DatasetOptions, type DatasetSpec,
} from './registry.ts';
export { BUILT_IN_DATASETS, type DatasetName } from './list.ts';
