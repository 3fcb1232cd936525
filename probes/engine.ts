/**
 * The probe engine's public face for the sweep and classification layer: ranking, fitting, scoring,
 * metrics. Types live in probes/types.ts (RankMethod in probes/rank/methods.ts, derived from the
 * built-in list). rankNeurons('osp') needs `await prepareRanking(['osp'])` once first (HiGHS is a wasm
 * module that loads asynchronously).
 */
export {
  rankNeurons, prepareRanking, checkRankMethods, registerRankMethod, defineRankMethod, rankMethod, rankMethodNames, rankMethodSpecs,
  nestedRanking, BUILT_IN_RANK_METHODS, STANDARD_KS, type RankOptions, type RankMethod, type RankMethodSpec, type RankContext,
} from './rank/index.ts';
export { fitProbe, fitProbes, predictScores, predictScoresMany, decisionFunction, classWeights, checkXy, checkK } from './fit/index.ts';
export { computeMetrics } from './metrics.ts';
export type { Matrix, RankResult, ProbeFit, FitOptions, Metrics } from './types.ts';
