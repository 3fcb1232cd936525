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
export type Activation = 'gelu_tanh' | 'gelu' | 'relu' | 'silu';

/**
 * Rotary frequency scaling (HF rope_scaling / rope_parameters): 'linear' divides positions by factor;
 * 'llama3' rescales the inverse frequencies by wavelength band (Llama 3.1+).
 */
export type RotaryScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

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
  // Fields of the Llama / Gemma / GPT-Neo / GPT-J / OPT families; absent means the GPT-2/NeoX behaviour.
  /** 'rmsnorm': x / rms(x) * g, no centring, no bias (Llama, Gemma). Default 'layernorm'. */
  norm?: 'layernorm' | 'rmsnorm';
  /** Key/value heads (grouped-query attention); default nHeads. Query head h reads kv head floor(h / (nHeads / nKVHeads)). */
  nKVHeads?: number;
  /** Gated MLP: post = act(x W_gate) * (x W_in) (SwiGLU / GeGLU); Params.win is W_in, LayerParams.wgate W_gate. */
  gatedMlp?: boolean;
  /** GPT-J's rotary layout: pairs (2i, 2i+1) rotated together, instead of NeoX's rotate-half. */
  rotaryInterleaved?: boolean;
  rotaryScaling?: RotaryScaling;
  /** The factor on q.k; default 1/sqrt(dHead) (GPT-Neo: 1; Gemma 2: query_pre_attn_scalar^-0.5). */
  attnScale?: number;
  /** Per layer: how many keys back a query sees (itself included), 0 = all (Mistral, GPT-Neo local, Gemma 2). */
  slidingWindows?: number[];
  /** Gemma 2: scores = cap * tanh(scores / cap) before the mask, logits likewise. */
  attnSoftcap?: number;
  finalSoftcap?: number;
  /** The token embedding is multiplied by this (Gemma: sqrt(d_model)). */
  embedScale?: number;
  /** Gemma 2: RMSNorms on the attention and MLP outputs before they join the residual (LayerParams.ln1postg, ln2postg). */
  postNorms?: boolean;
}

/** HF activation names -> the forward pass's. */
export const ACTIVATIONS: Record<string, Activation> = {
  gelu_new: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu: 'gelu',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

/** The forward pass's activation -> the HF name a written config.json uses. */
export const ACT_HF: Record<Activation, string> = { gelu_tanh: 'gelu_new', gelu: 'gelu', relu: 'relu', silu: 'silu' };

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
