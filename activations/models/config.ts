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
  /**
   * Attention scores are q.k / sqrt(dHead) unless scaleAttnWeights is false (GPT-2's scale_attn_weights),
   * and further divided by (layer index + 1) with scaleAttnByInverseLayerIdx (GPT-2's
   * scale_attn_by_inverse_layer_idx, the Stanford CRFM suites). Absent: the usual 1/sqrt(dHead).
   */
  scaleAttnWeights?: boolean;
  scaleAttnByInverseLayerIdx?: boolean;
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
  /** Every key the parser looked at (through `hf` or the typed reads): the allow-list of an architecture without an explicit one. */
  readKeys: Set<string>;
}

export function hfConfigReader(raw: Record<string, unknown>, path: string): HfConfigReader {
  const d = raw.torch_dtype ?? raw.dtype;
  const readKeys = new Set<string>();
  // Records what the parser reads, so a field no parser looked at can be refused by name.
  const hf = new Proxy(raw, {
    get(target, key) {
      if (typeof key === 'string') readKeys.add(key);
      return target[key as string];
    },
  });
  return {
    hf,
    readKeys,
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

/** Rotary settings read from every place a config.json may keep them. */
export interface RotarySettings {
  /** Fraction of each head's dims rotated. */
  fraction: number;
  base: number;
  /** Linear scaling factor (1: none). */
  linearFactor: number;
}

/** The keys a rope_parameters / rope_scaling object may hold that readRotary implements. */
const ROPE_DICT_KEYS = new Set(['rope_type', 'type', 'rope_theta', 'partial_rotary_factor', 'factor']);

/**
 * Rotary settings across transformers' renames: `fractionKeys` / `baseKeys` at the top level (older
 * names first, e.g. rotary_pct then partial_rotary_factor), and the same quantities inside
 * `rope_parameters` (transformers 5) or `rope_scaling` (4.x; 5 reads it as rope_parameters). Every
 * place that gives a value must give the same one: two that disagree are an error naming both, rather
 * than a precedence the lab could get wrong. rope types: 'default' and 'linear' (frequencies / factor)
 * are implemented; any other (dynamic, yarn, longrope, llama3, ...) is refused by name.
 */
export function readRotary(r: HfConfigReader, fractionKeys: string[], baseKeys: string[], defaults: { fraction: number; base: number }): RotarySettings {
  const { hf, path } = r;
  const dicts: [string, Record<string, unknown>][] = [];
  for (const key of ['rope_parameters', 'rope_scaling']) {
    const v = hf[key];
    if (v == null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) throw new InputError(`${path}: "${key}" must be an object or null, got ${JSON.stringify(v)}`, path);
    for (const k of Object.keys(v)) {
      if (!ROPE_DICT_KEYS.has(k)) throw new InputError(`${path}: "${key}.${k}" is not a rotary setting the lab implements (it reads ${[...ROPE_DICT_KEYS].join(', ')}): refusing rather than ignoring it`, path);
    }
    dicts.push([key, v as Record<string, unknown>]);
  }
  const agree = (what: string, top: string[], inner: string[], fallback: number | string): number | string => {
    const found: [string, unknown][] = [];
    for (const k of top) if (hf[k] != null) found.push([k, hf[k]]);
    for (const [d, o] of dicts) for (const k of inner) if (o[k] != null) found.push([`${d}.${k}`, o[k]]);
    for (const [k, v] of found) {
      if (typeof v !== typeof fallback || (typeof v === 'number' && !Number.isFinite(v))) throw new InputError(`${path}: "${k}" must be a ${typeof fallback}, got ${JSON.stringify(v)}`, path);
    }
    const other = found.find(([, v]) => v !== found[0]![1]);
    if (other) {
      throw new InputError(`${path}: the ${what} is given twice and differently, "${found[0]![0]}" = ${JSON.stringify(found[0]![1])} and "${other[0]}" = ${JSON.stringify(other[1])}: refusing to guess which one the model was trained with`, path);
    }
    return (found[0]?.[1] as number | string | undefined) ?? fallback;
  };
  const fraction = agree('rotary fraction', fractionKeys, ['partial_rotary_factor'], defaults.fraction) as number;
  const base = agree('rotary base', baseKeys, ['rope_theta'], defaults.base) as number;
  const type = agree('rope type', [], ['rope_type', 'type'], 'default') as string;
  let linearFactor = 1;
  if (type === 'linear') {
    linearFactor = agree('rope scaling factor', [], ['factor'], NaN) as number;
    if (!(linearFactor > 0)) throw new InputError(`${path}: linear rope scaling needs a "factor" > 0, got ${linearFactor}`, path);
  } else if (type !== 'default') {
    throw new InputError(`${path}: rope type '${type}' is not implemented (the lab implements 'default' and 'linear'): refusing rather than running unscaled rotary embeddings`, path);
  } else if (dicts.some(([, o]) => o.factor != null)) {
    throw new InputError(`${path}: a rope "factor" without rope type 'linear': refusing to guess the scaling`, path);
  }
  return { fraction, base, linearFactor };
}
