/**
 * The probes room's light face: the registry of ranking methods, the standard k list and the
 * classification thresholds, for help texts and flag validation (\`lab probe\`, \`lab classify\`,
 * \`lab demo\`), without the sweep, the store or tfjs. lab/architecture.test.ts checks it stays light.
 */
export { checkRankMethods } from './rank/rank-neurons.ts';
export { rankMethodNames, rankMethodSpecs, registerRankMethod, defineRankMethod, type RankMethodSpec } from './rank/registry.ts';
export { BUILT_IN_RANK_METHODS, type RankMethod } from './rank/methods.ts';
export { STANDARD_KS } from './rank/k-list.ts';
export { DEDICATED_F1, KSTAR_FRAC, MIN_Z, COVER_SHARE, DEAD_ACT, DEAD_FRAC } from './thresholds.ts';
