/**
 * The probes room's public face: the engine (ranking, fitting, metrics), sweeps, classification,
 * and the ground-truth validation on toy models.
 */
export * from './engine.ts';
export { splitBySequence, takeRows, takeLabels, type Split, type SplitOptions } from './split.ts';
export {
  runSweep, readSweep, labEngine, hookMatcher, checkProbeData, splitFor, ksFor, METRIC_NAMES, SWEEP_COLUMNS,
  type ProbeEngine, type ProbeSource, type SweepConfig, type SweepRow, type SweepResult, type SweepOptions, type RowStatus,
  type RemoteUnits, type UnitRequest,
} from './sweep.ts';
// lab/queue's workers run remote units on the same worker threads as a local --threads sweep.
export { UnitPool } from './unit-pool.ts';
export {
  classifyProbeRun, summariseFeature, DEDICATED_F1, KSTAR_FRAC, DEFAULT_CLASSIFY_OPTIONS,
  type ClassifyOptions, type ClassifyResult, type ClassifyDeps, type FeatureRow, type ToyTruth, type ToyComparison,
} from './classify.ts';
export {
  neuronResponses, labelNeurons, COVER_SHARE, DEAD_ACT, DEAD_FRAC, MIN_Z, DEFAULT_NEURON_THRESHOLDS,
  type NeuronLabel, type NeuronRow, type NeuronResponses, type NeuronThresholds,
} from './neurons.ts';
export { responseCapacity, capacityAgreement, type CapacityAgreement } from './capacity.ts';
export { privilegedBasis, randomRotation, rotate, bestSingleDirection, type PrivilegedRow } from './privileged.ts';
export { storeSource, toyTruthLoader } from './source.ts';
export { plantedData, type PlantedSpec, type PlantedNeuron, type Planted } from './planted.ts';
export { validateOnToy, sparseLimitLabels, SMALL as VALIDATION_SMALL, LARGE as VALIDATION_LARGE, type ValidationSpec, type ValidationReport } from './validate.ts';
export { writeClassifyRun } from './classify-run.ts';
export {
  neuronEvidence, topRows, quantileGroups, histogram, EVIDENCE_DEFAULTS,
  type NeuronEvidence, type EvidenceOptions, type RowSample, type ContextToken, type QuantileGroup, type NeuronHistogram, type CorrelatedNeuron,
} from './neuron-evidence.ts';
export { neuronPages, neuronsOfInterest, classifyLookup, type NeuronPage, type NeuronPagesOptions, type NeuronClassification, type InterestingNeurons } from './neuron-pages.ts';
