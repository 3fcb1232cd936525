/**
 * The probe engine's public face for the sweep and classification layer: ranking, fitting, scoring,
 * metrics. Types live in probes/types.ts.
 */
export { rankNeurons, RANK_METHODS, type RankOptions } from './rank/index.ts';
export { fitProbe, fitProbes, predictScores, decisionFunction, classWeights, checkXy, checkK } from './fit/index.ts';
export { computeMetrics } from './metrics.ts';
export type { Matrix, RankMethod, RankResult, ProbeFit, FitOptions, Metrics } from './types.ts';
