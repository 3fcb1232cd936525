export { rankNeurons, prepareRanking, RANK_METHODS, type RankOptions } from './rank-neurons.ts';
export { meanDifScores } from './mean-dif.ts';
export { fStatScores } from './f-stat.ts';
export { mutualInfoScores } from './mutual-info.ts';
export { l1PathRanking } from './l1-path.ts';
export { adaptiveRanking } from './adaptive.ts';
export { ospRanking, loadOspSolver, type OspSolution } from './osp.ts';
export { orderByScore } from './class-stats.ts';
export { STANDARD_KS } from './k-list.ts';
