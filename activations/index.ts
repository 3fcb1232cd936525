/**
 * The activations room's public face: model adapters, feature datasets, the activation store and
 * the harvester. Other rooms import from here only.
 */
export type * from './types.ts';
export * from './models/index.ts';
export {
  makeDataset, registerDataset, defineDataset, datasetNames, datasetSpecs, checkDatasetName, BUILT_IN_DATASETS, gpt2Tokenizer, brownPos, brownGenre, textPropsDataset, compoundWords,
  POS_FEATURES, GENRE_FEATURES, GENRE_GROUPS, TEXT_PROP_FEATURES, COMPOUND_FEATURES, TEXT_SOURCES, SEQ_STRIDE,
  tagFeatures, textProps, encodeAligned,
  brownDir, brownFiles, readBrown, brownDocumentText, brownFileText, detokenize, BROWN_ID, type BrownDocument,
  type DatasetName, type DatasetOptions, type DatasetSpec, type TextDataset, type TextSource, type EncodedText,
  readUserTable, userFileDataset, type UserTable, type UserFileOptions, hardNegativeColumns,
} from './datasets/index.ts';
export {
  openActivationStore, StoreWriter, configHash, halfToFloatTable, dequantU8,
  type ActivationStore, type ChunkData, type OpenOptions, type StoreManifest, type StoreHook, type StoreChunk,
  type Aggregation, type StoreDtype, type Quantisation,
} from './store/index.ts';
export {
  harvestModel, harvestToy, matchHooks, planModelHarvest, batchForward,
  type HarvestOptions, type HarvestResult, type ToyHarvestOptions, type ModelHarvestPlan, type SequenceRows, type RemoteChunks, type BatchForward, type HarvestEngine,
} from './harvest.ts';
export { OnnxForward, ONNX_MAX_MODEL_BYTES, type OnnxForwardOptions } from './models/onnx/engine.ts';
export { planChunks, harvestChunk, type ChunkSpan } from './harvest-chunks.ts';
export { importStore, type ImportOptions, type ImportResult } from './import-store.ts';
export { openNpy, RowReader, type ArraySource } from './import-npy.ts';
export { byteLevelTokenizerJson } from './models/tokenizer.ts';
export { transformerForward } from './models/transformer.ts';
export { inspectText, type InspectResult } from './inspect.ts';
export { neuronLogitEffects, neuronLogitVectors, mlpPostLayer, modelVocabSize, type LogitEffect, type NeuronLogits } from './neuron-effects.ts';
export { ablateNeurons, ablationWindows, type AblateOptions, type AblateResult, type AblationMode } from './ablate.ts';
export { ablateDirection, hookBaseline, type DirectionOptions, type DirectionResult, type HookBaseline } from './ablate-direction.ts';
export * from './sae/index.ts';
