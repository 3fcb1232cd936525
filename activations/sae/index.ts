/**
 * Sparse autoencoders over a store's rows: the SAELens architectures (topk, relu-l1, jumprelu), the
 * streaming trainer, SAELens's folder layout, and evaluation (reconstruction, sparsity, toy ground truth).
 */
export { SAE_ARCHS, DEFAULT_COEFFICIENTS, DENSE_MATMUL_MIN, setDenseMatMul, encodeDecode, encodeLatents, lossAndGrad, zeroGrads, type Sae, type SaeArch, type LossCoefficients, type SaeGrads } from './model.ts';
export { readSae, writeSae, encodeSae, saeCfgJson, hookLayer, SAE_CFG, SAE_WEIGHTS, type LoadedSae, type SaeMeta } from './layout.ts';
export { trainSae, defaultSaeConfig, initSae, SaeStopped, SAE_RUN_KIND, type SaeTrainConfig, type SaeTrainOptions, type SaeTrainResult } from './train.ts';
export { ReconAccumulator, truthMetrics, type ReconMetrics, type TruthMetrics, type TruthFeature } from './eval.ts';
export { evaluateSae, checkSaeForStore, toyTruth, type SaeEvalResult } from './evaluate.ts';
export { encodeStore, saeHookEncoder, LATENT_HOOK_SUFFIX, type EncodeResult } from './encode.ts';
export { splicedLoss, type SplicedLoss } from './spliced.ts';
export { useTfMatMul } from './tf-matmul.ts';
