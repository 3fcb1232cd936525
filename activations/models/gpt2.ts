/**
 * GPT-2 in the Hugging Face layout (GPT2LMHeadModel): the architecture's config keys, tensor names and
 * shapes, its registry entry, and the trainable model the lab's LM is.
 *
 * The trap, said plainly: GPT-2's linear layers are HF `Conv1D`, whose weight is stored [in, out], the
 * transpose of every nn.Linear checkpoint (NeoX, Llama, ...). That is already the forward pass's layout,
 * so nothing is transposed here; copying this file for an nn.Linear model without transposing gives a
 * model that runs and outputs garbage (or throws only when d_model != d_mlp). c_attn fuses q | k | v as
 * three column blocks, again the forward's layout. Positions are learned (wpe), there is no rotary. The
 * original OpenAI uploads name tensors without the `transformer.` prefix (GPT2Model), later saves add
 * it; lm_head is tied to wte unless tie_word_embeddings is false.
 *
 * Because the layout is the canonical one, the tf.Variables named after the HF tensors are the
 * parameters themselves: one definition serves loading, inference and training.
 */
import { tf } from '../../lab/core/backend.ts';
import { InputError } from '../../lab/core/index.ts';
import { Rng } from '../../lab/core/index.ts';
import type { ForwardOptions, ForwardResult } from '../types.ts';
import { defineArchitecture, parseWith, type ArchitectureShape } from './architecture.ts';
import type { CheckpointReader } from './checkpoint.ts';
import { ACT_HF, type Activation, type HfConfigReader, type TransformerConfig } from './config.ts';
import type { TensorToWrite } from './safetensors.ts';
import { transformerForward, type Params } from './transformer.ts';

/** A GPT-2's shape (rotary fields of ArchitectureShape are ignored: GPT-2 has learned positions). */
export interface Gpt2Shape extends ArchitectureShape {
  activation?: Activation;
}

/**
 * The GPT2Config fields the lab implements (beyond config-checks.ts INERT_CONFIG_KEYS); any other is
 * refused by name. reorder_and_upcast_attn (HF _upcast_and_reordered_attn) computes the scores in
 * float32 as scale * (q k^T) with the scale folded into the product; the lab computes every score in
 * float32 with the same scale, so the flag changes nothing here beyond float rounding and is accepted
 * as implemented. scale_attn_by_inverse_layer_idx divides layer l's scores by l + 1 (both code paths).
 */
export const GPT2_CONFIG_KEYS = [
  'n_layer', 'n_embd', 'n_head', 'n_inner', 'n_positions', 'n_ctx', 'vocab_size', 'layer_norm_epsilon',
  'activation_function', 'tie_word_embeddings', 'scale_attn_weights', 'scale_attn_by_inverse_layer_idx',
  'reorder_and_upcast_attn',
] as const;

function flag(r: HfConfigReader, key: string, fallback: boolean): boolean {
  const v = r.hf[key] ?? fallback;
  if (typeof v !== 'boolean') throw new InputError(`${r.path}: "${key}" must be true or false, got ${JSON.stringify(v)}`, r.path);
  return v;
}

/** GPT2Config fields (n_layer, n_embd, n_head, n_inner, n_positions, layer_norm_epsilon, activation_function). */
function parseGpt2Config(r: HfConfigReader): TransformerConfig {
  const hf = r.hf;
  const dModel = r.int('n_embd');
  const nHeads = r.int('n_head');
  // Checked for its type only: see GPT2_CONFIG_KEYS on why the lab's float32 attention already is it.
  flag(r, 'reorder_and_upcast_attn', false);
  return {
    architecture: 'gpt2',
    nLayers: r.int('n_layer'),
    dModel,
    nHeads,
    dHead: dModel / nHeads,
    dMlp: hf.n_inner == null ? 4 * dModel : r.int('n_inner'),
    vocabSize: r.int('vocab_size'),
    contextLength: r.int('n_positions', hf.n_ctx as number | undefined),
    layerNormEps: r.num('layer_norm_epsilon', 1e-5),
    activation: r.act('activation_function', 'gelu_new'),
    tiedEmbeddings: flag(r, 'tie_word_embeddings', true),
    rotaryDims: 0,
    rotaryBase: 0,
    parallelResidual: false,
    scaleAttnWeights: flag(r, 'scale_attn_weights', true),
    scaleAttnByInverseLayerIdx: flag(r, 'scale_attn_by_inverse_layer_idx', false),
    weightDtype: r.weightDtype,
  };
}

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
  return parseWith(gpt2Architecture, gpt2HfConfig(s), '<gpt2 config>');
}

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

/**
 * The name a GPT-2 checkpoint stores a tensor under: with or without the `transformer.` prefix (the
 * original uploads are GPT2Model state dicts), lm_head always unprefixed. A tied checkpoint may hold
 * the embedding only as lm_head.weight (some exporters keep the head and drop wte): then that is it.
 */
function storedGpt2Name(reader: CheckpointReader, prefixed: boolean, name: string, tied: boolean): string {
  if (name === 'lm_head.weight') return name;
  const stored = prefixed ? name : name.replace(/^transformer\./, '');
  if (name === 'transformer.wte.weight' && tied && !reader.has(stored) && reader.has('lm_head.weight')) return 'lm_head.weight';
  return stored;
}

/** Reads a checkpoint into a (non-trainable) Gpt2, whose params are the canonical layout already. */
function loadGpt2Params(cfg: TransformerConfig, reader: CheckpointReader): { params: Params; dispose: () => void } {
  const vars = new Map<string, tf.Variable>();
  const prefixed = reader.names().some((n) => n.startsWith('transformer.'));
  try {
    for (const [name, shape] of gpt2TensorShapes(cfg)) {
      const stored = storedGpt2Name(reader, prefixed, name, cfg.tiedEmbeddings);
      if (!reader.has(stored) && name === 'transformer.wte.weight') {
        throw new InputError(
          `${reader.dir}: the token embedding is missing: no tensor '${stored}'${cfg.tiedEmbeddings ? " and no 'lm_head.weight' (tied to it)" : ''}`,
          reader.dir,
        );
      }
      // Each tensor into its variable (a copy on wasm) before the next is read: building them all first
      // and then the variables (createGpt2) held two copies at once, and a wasm heap never shrinks, so
      // every loaded model kept a copy's worth of empty heap (GPT-2 small: 0.5 GB).
      const t = tf.tensor(reader.read(stored, shape, cfg.weightDtype), shape);
      try {
        vars.set(name, tf.variable(t, false));
      } finally {
        t.dispose();
      }
    }
  } catch (err) {
    for (const v of vars.values()) v.dispose();
    throw err;
  }
  const model = new Gpt2(cfg, vars);
  return { params: model.params, dispose: () => model.dispose() };
}

export const gpt2Architecture = defineArchitecture({
  name: 'gpt2',
  modelTypes: ['gpt2'],
  summary: 'GPT-2 (GPT2LMHeadModel): learned positions, Conv1D [in, out] weights, sequential residual',
  positional: true,
  tokenizer: 'gpt2',
  normGain: /ln_[12f]\.weight$/,
  configKeys: GPT2_CONFIG_KEYS,
  parseConfig: parseGpt2Config,
  hfConfig: (s) => gpt2HfConfig(s),
  // The checkpoint may omit the `transformer.` prefix; these are the prefixed names (loadParams maps them).
  tensorShapes: (cfg) => gpt2TensorShapes(cfg),
  loadParams: loadGpt2Params,
});

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
    if (c.scaleAttnWeights === false) hf.scale_attn_weights = false;
    if (c.scaleAttnByInverseLayerIdx) hf.scale_attn_by_inverse_layer_idx = true;
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
