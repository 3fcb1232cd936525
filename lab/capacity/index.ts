/**
 * The capacity study's face: does a model give its important features monosemantic neurons and pack
 * the rest into polysemantic ones (Scherlis et al. 2022)? Importance by directional ablation, capacity
 * and mono share from classify, rank correlations with bootstrap intervals, the toy model beside it.
 */
export { runCapacity, summarise, formatCorrelations, CAPACITY_COLUMNS, SUMMARY_COLUMNS, EVAL_BYTES, type CapacityOptions, type CapacityResult, type SummaryRow } from './run.ts';
export { planCapacity, measureHook, type CapacityRow, type CapacityInputs, type HookMeasurement } from './measure.ts';
export { heldOutText, type EvalText } from './eval-text.ts';
export { toyCapacityRows, type ToyCapacityRow } from './toy.ts';
export { spearman, averageRanks, bootstrapSpearman, percentile, BOOTSTRAP_REPS, type RankCorrelation } from './stats.ts';
