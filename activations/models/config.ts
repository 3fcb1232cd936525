/**
 * Hugging Face config.json -> the lab's ModelConfig. Field names follow the HF modelling code:
 * GPT-2 (n_layer, n_embd, n_head, n_inner, n_positions, layer_norm_epsilon, activation_function) and
 * GPT-NeoX (num_hidden_layers, hidden_size, num_attention_heads, intermediate_size,
 * max_position_embeddings, rotary_pct, rotary_emb_base, use_parallel_residual, hidden_act).
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
  /** GPT-NeoX only: rotary dims per head, their base, and whether attention and MLP read the same residual. */
  rotaryDims: number;
  rotaryBase: number;
  parallelResidual: boolean;
  /** The float dtype config.json promises for the weights (safetensors name), if any. */
  weightDtype?: string;
}

export const SUPPORTED_ARCHITECTURES = ['gpt2', 'gpt_neox'] as const;

const ACTIVATIONS: Record<string, Activation> = {
  gelu_new: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu: 'gelu',
  relu: 'relu',
};

/** Parses a config.json object; `path` names the file in errors. */
export function parseHfConfig(hf: Record<string, unknown>, path: string): TransformerConfig {
  const type = hf.model_type;
  const int = (key: string, fallback?: number): number => {
    const v = hf[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new InputError(`${path}: "${key}" must be a positive integer, got ${JSON.stringify(hf[key])}`, path);
    }
    return v;
  };
  const num = (key: string, fallback: number): number => {
    const v = hf[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`${path}: "${key}" must be a number, got ${JSON.stringify(v)}`, path);
    return v;
  };
  const act = (key: string, fallback: string): Activation => {
    const v = String(hf[key] ?? fallback);
    const a = ACTIVATIONS[v];
    if (!a) throw new InputError(`${path}: "${key}" is '${v}'; supported: ${Object.keys(ACTIVATIONS).join(', ')}`, path);
    return a;
  };
  const weightDtype = (() => {
    const d = hf.torch_dtype ?? hf.dtype;
    return typeof d === 'string' ? ({ float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as Record<string, string>)[d] : undefined;
  })();

  let cfg: TransformerConfig;
  if (type === 'gpt2') {
    const dModel = int('n_embd');
    const nHeads = int('n_head');
    cfg = {
      architecture: 'gpt2',
      nLayers: int('n_layer'),
      dModel,
      nHeads,
      dHead: dModel / nHeads,
      dMlp: hf.n_inner == null ? 4 * dModel : int('n_inner'),
      vocabSize: int('vocab_size'),
      contextLength: int('n_positions', hf.n_ctx as number | undefined),
      layerNormEps: num('layer_norm_epsilon', 1e-5),
      activation: act('activation_function', 'gelu_new'),
      tiedEmbeddings: hf.tie_word_embeddings !== false,
      rotaryDims: 0,
      rotaryBase: 0,
      parallelResidual: false,
      weightDtype,
    };
  } else if (type === 'gpt_neox') {
    const dModel = int('hidden_size');
    const nHeads = int('num_attention_heads');
    const dHead = dModel / nHeads;
    // Newer transformers releases renamed rotary_pct / rotary_emb_base to partial_rotary_factor / rope_theta.
    const pct = num('rotary_pct', (hf.partial_rotary_factor as number | undefined) ?? 0.25);
    cfg = {
      architecture: 'gpt-neox',
      nLayers: int('num_hidden_layers'),
      dModel,
      nHeads,
      dHead,
      dMlp: int('intermediate_size'),
      vocabSize: int('vocab_size'),
      contextLength: int('max_position_embeddings'),
      layerNormEps: num('layer_norm_eps', 1e-5),
      activation: act('hidden_act', 'gelu'),
      tiedEmbeddings: hf.tie_word_embeddings === true,
      rotaryDims: Math.floor(dHead * pct),
      rotaryBase: num('rotary_emb_base', (hf.rope_theta as number | undefined) ?? 10000),
      parallelResidual: hf.use_parallel_residual !== false,
      weightDtype,
    };
    if (hf.attention_bias === false) throw new InputError(`${path}: attention_bias=false is not supported`, path);
    if (cfg.rotaryDims % 2 !== 0) throw new InputError(`${path}: rotary dims ${cfg.rotaryDims} per head must be even`, path);
  } else {
    throw new InputError(
      `${path}: unknown architecture model_type=${JSON.stringify(type)}; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`,
      path,
    );
  }
  if (!Number.isInteger(cfg.dHead)) {
    throw new InputError(`${path}: d_model ${cfg.dModel} is not divisible by ${cfg.nHeads} heads`, path);
  }
  checkConfigValues(cfg, path);
  return cfg;
}

export interface Gpt2Shape {
  nLayers: number;
  dModel: number;
  nHeads: number;
  dMlp?: number;
  vocabSize: number;
  contextLength: number;
  layerNormEps?: number;
  activation?: Activation;
}

const ACT_HF: Record<Activation, string> = { gelu_tanh: 'gelu_new', gelu: 'gelu', relu: 'relu' };

/** A GPT-2 config.json for the given shape, as GPT2Config.to_dict() would write it. */
export function gpt2HfConfig(s: Gpt2Shape): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    n_layer: s.nLayers,
    n_embd: s.dModel,
    n_head: s.nHeads,
    n_inner: s.dMlp ?? null,
    vocab_size: s.vocabSize,
    n_positions: s.contextLength,
    n_ctx: s.contextLength,
    layer_norm_epsilon: s.layerNormEps ?? 1e-5,
    activation_function: ACT_HF[s.activation ?? 'gelu_tanh'],
    tie_word_embeddings: true,
  };
}

/** Shape -> full config (validated through the same parser as a loaded config.json). */
export function gpt2Config(s: Gpt2Shape): TransformerConfig {
  return parseHfConfig(gpt2HfConfig(s), '<gpt2 config>');
}
