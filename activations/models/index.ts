/**
 * Model adapters: Hugging Face checkpoints (safetensors, config.json, tokenizer.json) of GPT-2 and
 * GPT-NeoX on tfjs, with TransformerLens hook points and a KV cache.
 */
export { loadModel, TransformerModel } from './load.ts';
export { createGpt2, Gpt2, gpt2TensorShapes, gpt2HfConfig, gpt2Config, gpt2Architecture, type Gpt2Shape } from './gpt2.ts';
export { neoxTensorShapes, neoxHfConfig, neoxArchitecture } from './neox.ts';
export { hfConfigReader, checkTransformerConfig, type TransformerConfig, type Activation, type HfConfigReader } from './config.ts';
export {
  parseHfConfig, parseWith, registerArchitecture, defineArchitecture, architecture, architectureSpecs, supportedModelTypes,
  type ArchitectureSpec, type ArchitectureShape,
} from './architecture.ts';
export { SUPPORTED_ARCHITECTURES, type ArchitectureName } from './architectures.ts';
export { writeCheckpoint, CheckpointReader, readConfigJson, type CheckpointToWrite, type TensorFile } from './checkpoint.ts';
export { resolveModelDir, hubCacheDir } from './hf-cache.ts';
export { SafetensorsFile, encodeSafetensors, f32ToF16, type TensorToWrite, type TensorInfo } from './safetensors.ts';
export { loadTokenizer, tokenizerFromJson, byteLevelBpeJson, bytesToUnicode, HfTokenizerWrapper } from './tokenizer.ts';
export { allHookNames, hookPatterns, resolveHooks, globToRegExp, hookGlobMatcher, expandHookGlobs, BLOCK_HOOKS } from './hooks.ts';
export { TransformerKVCache } from './transformer.ts';
export { writeRandomCheckpoint, randomCheckpointTensors, type RandomCheckpointSpec } from './random-checkpoint.ts';
export { ForwardPool, type PoolRequest, type PoolResult, type HostTensor } from './forward-pool.ts';
export { ensureGradients } from './gradients.ts';
export { attentionKnockoutHooks, knockoutWindow, type EdgeBlock } from './knockout.ts';
export { verifyModel, readReference, parseNpy, VERIFY_PROMPT, type VerifyResult, type VerifyRow, type RefArray } from './verify.ts';
