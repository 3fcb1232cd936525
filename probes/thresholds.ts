/**
 * The classification's thresholds in one light file: \`lab classify\` shows them as its flags' defaults
 * (through probes/kinds.ts) without loading the classifier. probes/classify.ts and probes/neurons.ts say
 * what each one means and why it has its value.
 */
export { COVER_SHARE, DEAD_ACT, DEAD_FRAC } from '../activations/toy/kinds.ts';

/** 1-sparse test F1 at or above which a feature has a dedicated neuron. */
export const DEDICATED_F1 = 0.8;
/** k* is the smallest k whose F1 reaches this fraction of the best F1 over all k. */
export const KSTAR_FRAC = 0.95;
/** Welch z a feature's response needs to count for a neuron. */
export const MIN_Z = 4;
