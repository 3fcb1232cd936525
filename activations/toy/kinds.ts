/**
 * The toy room's light face: the lists of kinds and the thresholds that help texts and flag validation
 * read (\`lab toy --help\`, \`lab classify\`'s defaults), without the trainers. lab/architecture.test.ts
 * checks that nothing here loads tfjs or another heavy package.
 */
export { TOY_MODELS, TOY_ENGINES, TOY_DEFAULTS, parseFeatureProb, type ToyConfig, type ToyModel, type ToyEngine } from './config.ts';
export { COVER_SHARE, DEAD_ACT, DEAD_FRAC } from './neurons.ts';
