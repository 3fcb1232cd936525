export { fitProbe, fitProbes, predictScores, predictScoresMany, decisionFunction, resolveFitOptions } from './fit-probe.ts';
export { classWeights, newtonLogistic } from './newton.ts';
export { gatherColumns } from './gather.ts';
export { checkXy, checkFinite, checkK, checkNeurons } from './validate.ts';
