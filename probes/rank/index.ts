export { rankNeurons, prepareRanking, checkRankMethods, type RankOptions } from './rank-neurons.ts';
export {
  registerRankMethod, defineRankMethod, rankMethod, rankMethodNames, rankMethodSpecs, hasRankMethod, nestedRanking,
  type RankMethodSpec, type RankContext,
} from './registry.ts';
export { BUILT_IN_RANK_METHODS, type RankMethod } from './methods.ts';
export { meanDifScores } from './mean-dif.ts';
export { fStatScores } from './f-stat.ts';
export { mutualInfoScores } from './mutual-info.ts';
export { l1PathRanking } from './l1-path.ts';
export { adaptiveRanking } from './adaptive.ts';
export { ospRanking, loadOspSolver, type OspSolution } from './osp.ts';
export { orderByScore } from './class-stats.ts';
export { STANDARD_KS, chainKs } from './k-list.ts';
