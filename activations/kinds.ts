/**
 * The activations room's light face: the registry of feature datasets and the text sources, for help
 * texts and flag validation (`lab harvest --dataset`, `--source`), without the models, tokenizers or
 * tfjs. lab/architecture.test.ts checks it stays light. (The architecture registry is not here: each
 * architecture's file holds its conversion code, which needs tfjs.)
 */
export { checkDatasetName, datasetNames, datasetSpecs, registerDataset, defineDataset, type DatasetSpec, type DatasetOptions } from './datasets/registry.ts';
export { BUILT_IN_DATASETS, type DatasetName } from './datasets/list.ts';
export { TEXT_SOURCES, type TextSource } from './datasets/text-sources.ts';
export { tableFormat } from './datasets/table-file.ts';
