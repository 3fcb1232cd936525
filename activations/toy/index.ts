/**
 * Toy models of superposition: the public face of activations/toy. Other rooms import from here only.
 */
export { TOY_MODELS, TOY_ENGINES, TOY_DEFAULTS, resolveConfig, featureProbs, importances, hasNeurons, parseFeatureProb } from './config.ts';
export type { ToyConfig, ToyModel, ToyEngine } from './config.ts';
export { trainToy, describeInstance, specOf, EVAL_ROWS } from './train.ts';
export type { ToyInstance, ToyResult, TrainOptions } from './train.ts';
export { loadToyRun, sampleToyBatch, toyHidden, writeToyRun, toyJson, instancesCsv, neuronsCsv } from './run.ts';
export type { ToyRun } from './run.ts';
export { featureMetrics, gram, ZERO_NORM2 } from './metrics.ts';
export type { FeatureMetrics } from './metrics.ts';
export { featureGeometry, geometrySummary, symmetricEigenvalues, REPRESENTED_NORM, OVERLAP_COS, RANK_REL, D_TOL } from './geometry.ts';
export type { FeatureGroup } from './geometry.ts';
export { neuronLabels, COVER_SHARE, DEAD_ACT, DEAD_FRAC } from './neurons.ts';
export type { NeuronInfo, NeuronLabel } from './neurons.ts';
export { forward } from './kernels.ts';
export { sweepToy, phaseCsv, phaseMap, phaseOf, geomGrid, DEDICATED_D } from './sweep.ts';
export type { SweepConfig, PhaseRow, Phase } from './sweep.ts';
export type { ModelSpec } from './layout.ts';
