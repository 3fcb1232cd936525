/**
 * GPT-2 in the Hugging Face layout (GPT2LMHeadModel). Its Conv1D weights are stored [in, out], the
 * layout the shared forward pass uses, so the tf.Variables named after the HF tensors are the
 * parameters themselves: one definition serves loading, inference and training.
 */
import { tf } from '../../lab/core/backend.ts';
import { InputError } from '../../lab/core/index.ts';
import { Rng } from '../../lab/core/index.ts';
import type { ForwardOptions, ForwardResult } from '../types.ts';
import { gpt2Config, gpt2HfConfig, type Gpt2Shape, type TransformerConfig } from './config.ts';
import type { TensorToWrite } from './safetensors.ts';
import { transformerForward, type Params } from './transformer.ts';

/** HF tensor names (GPT2LMHeadModel state dict, lm_head tied) and their shapes. */
export function gpt2TensorShapes(cfg: TransformerConfig): Map<string, number[]> {
  const { dModel: d, dMlp: m, vocabSize: V, contextLength: C } = cfg;
  const s = new Map<string, number[]>();
  s.set('transformer.wte.weight', [V, d]);
  s.set('transformer.wpe.weight', [C, d]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `transformer.h.${l}.`;
    s.set(p + 'ln_1.weight', [d]);
    s.set(p + 'ln_1.bias', [d]);
    s.set(p + 'attn.c_attn.weight', [d, 3 * d]);
    s.set(p + 'attn.c_attn.bias', [3 * d]);
    s.set(p + 'attn.c_proj.weight', [d, d]);
    s.set(p + 'attn.c_proj.bias', [d]);
    s.set(p + 'ln_2.weight', [d]);
    s.set(p + 'ln_2.bias', [d]);
    s.set(p + 'mlp.c_fc.weight', [d, m]);
    s.set(p + 'mlp.c_fc.bias', [m]);
    s.set(p + 'mlp.c_proj.weight', [m, d]);
    s.set(p + 'mlp.c_proj.bias', [d]);
  }
  s.set('transformer.ln_f.weight', [d]);
  s.set('transformer.ln_f.bias', [d]);
  if (!cfg.tiedEmbeddings) s.set('lm_head.weight', [V, d]);
  return s;
}

/** GPT-2's initialisation (HF _init_weights): N(0, 0.02), residual projections scaled by 1/sqrt(2 nLayers), LN 1/0. */
function initValue(name: string, shape: number[], cfg: TransformerConfig, rng: Rng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (name.endsWith('.bias')) return out;
  if (/ln_[12f]\.weight$/.test(name)) return out.fill(1);
  const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * cfg.nLayers) : 0.02;
  for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
  return out;
}

export class Gpt2 {
  readonly config: TransformerConfig;
  /** One trainable tf.Variable per HF tensor name. */
  readonly variables: Map<string, tf.Variable>;
  /** The forward pass's view of the variables. */
  readonly params: Params;

  constructor(config: TransformerConfig, variables: Map<string, tf.Variable>) {
    this.config = config;
    this.variables = variables;
    const v = (n: string) => variables.get(n)! as tf.Tensor as never;
    this.params = {
      embed: v('transformer.wte.weight'),
      pos: v('transformer.wpe.weight'),
      lnfg: v('transformer.ln_f.weight'),
      lnfb: v('transformer.ln_f.bias'),
      unembed: config.tiedEmbeddings ? v('transformer.wte.weight') : v('lm_head.weight'),
      layers: Array.from({ length: config.nLayers }, (_, l) => {
        const p = `transformer.h.${l}.`;
        return {
          ln1g: v(p + 'ln_1.weight'),
          ln1b: v(p + 'ln_1.bias'),
          wqkv: v(p + 'attn.c_attn.weight'),
          bqkv: v(p + 'attn.c_attn.bias'),
          wo: v(p + 'attn.c_proj.weight'),
          bo: v(p + 'attn.c_proj.bias'),
          ln2g: v(p + 'ln_2.weight'),
          ln2b: v(p + 'ln_2.bias'),
          win: v(p + 'mlp.c_fc.weight'),
          bin: v(p + 'mlp.c_fc.bias'),
          wout: v(p + 'mlp.c_proj.weight'),
          bout: v(p + 'mlp.c_proj.bias'),
        };
      }),
    };
  }

  /** Logits [batch, seq, vocab]; differentiable with respect to `variables` (tf.variableGrads). */
  forwardLogits(ids: tf.Tensor2D): tf.Tensor3D {
    return transformerForward(this.config, this.params, ids, {}, true).logits;
  }

  /** The full forward with hooks and KV cache (activations/types.ts semantics). */
  forward(ids: tf.Tensor2D, opts?: ForwardOptions): ForwardResult {
    return transformerForward(this.config, this.params, ids, opts);
  }

  /** The HF config.json object for this model. */
  hfConfig(): Record<string, unknown> {
    const c = this.config;
    const hf = gpt2HfConfig({ ...c, activation: c.activation });
    hf.layer_norm_epsilon = c.layerNormEps;
    hf.tie_word_embeddings = c.tiedEmbeddings;
    return hf;
  }

  /** Current weights by HF name, ready for writeCheckpoint. */
  toTensors(dtype: 'f32' | 'f16' = 'f32'): Map<string, TensorToWrite> {
    const out = new Map<string, TensorToWrite>();
    for (const [name, v] of this.variables) out.set(name, { dtype, shape: [...v.shape], data: v.dataSync() as Float32Array });
    return out;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}

/**
 * A GPT-2 from a shape (or a parsed config). `weights` (HF names, with or without the `transformer.`
 * prefix) supplies initial values; any tensor not given is initialised as GPT-2 does, from `seed`.
 * The variables copy the given tensors, so the caller may dispose them.
 */
export function createGpt2(config: Gpt2Shape | TransformerConfig, weights?: Map<string, tf.Tensor>, opts: { seed?: number; trainable?: boolean } = {}): Gpt2 {
  const cfg: TransformerConfig = 'architecture' in config ? (config as TransformerConfig) : gpt2Config(config);
  if (cfg.architecture !== 'gpt2') throw new InputError(`createGpt2 needs a gpt2 config, got ${cfg.architecture}`);
  const rng = new Rng(opts.seed ?? 0);
  const given = new Map<string, tf.Tensor>();
  for (const [k, t] of weights ?? []) given.set(k.startsWith('transformer.') || k === 'lm_head.weight' ? k : `transformer.${k}`, t);
  const vars = new Map<string, tf.Variable>();
  for (const [name, shape] of gpt2TensorShapes(cfg)) {
    const w = given.get(name);
    let init: tf.Tensor;
    if (w) {
      if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
        throw new InputError(`weight '${name}' has shape [${w.shape}] but the config implies [${shape}]`);
      }
      init = w.clone();
    } else {
      init = tf.tensor(initValue(name, shape, cfg, rng), shape);
    }
    vars.set(name, tf.variable(init, opts.trainable ?? true));
    init.dispose();
  }
  return new Gpt2(cfg, vars);
}
