/**
 * The built-in feature datasets, in the order help texts list them. Adding a dataset is its own file in
 * this folder (exporting a defineDataset spec) plus its entry here: see ADDING_A_DATASET.md. The
 * DatasetName type is derived from this list; a dataset registered at run time (registerDataset) is
 * known to makeDataset, help and validation but not to the type.
 */
import { brownGenreDataset } from './brown-genre.ts';
import { brownPosDataset } from './brown-pos.ts';
import { compoundWordsDataset } from './compound-words.ts';
import { registerDataset } from './registry.ts';
import { udhrLangDataset } from './udhr-lang.ts';
import { tokenPropsSpec } from './token-props.ts';
import { affixesSpec } from './affixes.ts';
import { compoundBigramsSpec } from './compound-bigrams.ts';
import { textPropsSpec } from './text-props.ts';

const BUILT_IN = [
  brownPosDataset, brownGenreDataset, textPropsSpec, compoundWordsDataset, udhrLangDataset, tokenPropsSpec, affixesSpec, compoundBigramsSpec,
] as const;

export type DatasetName = (typeof BUILT_IN)[number]['name'];

for (const spec of BUILT_IN) registerDataset(spec);

/** The built-in dataset names (a run-time registration appears in datasetNames(), not here). */
export const BUILT_IN_DATASETS: readonly DatasetName[] = BUILT_IN.map((d) => d.name);
