/**
 * The lab's model config (TransformerConfig: the shape and flavour the shared forward pass reads) and
 * the typed readers an architecture's config.json parser uses. What each architecture's config.json
 * calls its fields lives with that architecture (gpt2.ts, neox.ts); the dispatch by model_type is in
 * architecture.ts.
 */
import { checkConfigValues } from './config-checks.ts';
import { InputError } from '../../lab/core/index.ts';
import type { ModelConfig } from '../types.ts';

/** gelu_tanh: GPT-2's gelu_new (tanh approximation); gelu: the exact erf form. */
export type Activation = 'gelu_tanh' | 'gelu' | 'relu';

export interface TransformerConfig extends ModelConfig {
  dHead: number;
  layerNormEps: number;
  activation: Activation;
  /** The unembedding reuses the token embedding (GPT-2 default). */
  tiedEmbeddings: boolean;
  /** Rotary dims per head (0: none, learned positions instead), their base, and whether attention and MLP read the same residual. */
  rotaryDims: number;
  rotaryBase: number;
  parallelResidual: boolean;
  /** The float dtype config.json promises for the weights (safetensors name), if any. */
  weightDtype?: string;
}

/** HF activation names -> the forward pass's. */
export const ACTIVATIONS: Record<string, Activation> = {
  gelu_new: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu: 'gelu',
  relu: 'relu',
};

/** The forward pass's activation -> the HF name a written config.json uses. */
export const ACT_HF: Record<Activation, string> = { gelu_tanh: 'gelu_new', gelu: 'gelu', relu: 'relu' };

/** Typed reads of one config.json object; every error names the file and the key. */
export interface HfConfigReader {
  /** The raw object. */
  hf: Record<string, unknown>;
  path: string;
  /** A positive integer (`fallback` when the key is absent). */
  int(key: string, fallback?: number): number;
  /** A finite number. */
  num(key: string, fallback: number): number;
  /** An activation name the forward pass knows. */
  act(key: string, fallback: string): Activation;
  /** torch_dtype / dtype as a safetensors dtype name, if given. */
  weightDtype: string | undefined;
}

export function hfConfigReader(hf: Record<string, unknown>, path: string): HfConfigReader {
  const d = hf.torch_dtype ?? hf.dtype;
  return {
    hf,
    path,
    int(key, fallback) {
      const v = hf[key] ?? fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
        throw new InputError(`${path}: "${key}" must be a positive integer, got ${JSON.stringify(hf[key])}`, path);
      }
      return v;
    },
    num(key, fallback) {
      const v = hf[key] ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`${path}: "${key}" must be a number, got ${JSON.stringify(v)}`, path);
      return v;
    },
    act(key, fallback) {
      const v = String(hf[key] ?? fallback);
      const a = ACTIVATIONS[v];
      if (!a) throw new InputError(`${path}: "${key}" is '${v}'; supported: ${Object.keys(ACTIVATIONS).join(', ')}`, path);
      return a;
    },
    weightDtype: typeof d === 'string' ? ({ float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as Record<string, string>)[d] : undefined,
  };
}

/** Checks that hold for every architecture (the forward pass splits d_model evenly into heads). */
export function checkTransformerConfig(cfg: TransformerConfig, path: string): TransformerConfig {
  if (!Number.isInteger(cfg.dHead)) {
    throw new InputError(`${path}: d_model ${cfg.dModel} is not divisible by ${cfg.nHeads} heads`, path);
  }
  checkConfigValues(cfg, path);
  return cfg;
}
