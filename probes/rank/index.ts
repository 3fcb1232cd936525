export { rankNeurons, RANK_METHODS, type RankOptions } from './rank-neurons.ts';
export { meanDifScores } from './mean-dif.ts';
export { fStatScores } from './f-stat.ts';
export { orderByScore } from './class-stats.ts';
