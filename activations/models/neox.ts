/**
 * GPT-NeoX (Pythia) in the Hugging Face layout (GPTNeoXForCausalLM): the architecture's config keys,
 * tensor names and shapes, and the conversion to the lab's canonical layout (as TransformerLens'
 * pretrained/weight_conversions/neox.py does for its own layout).
 *
 * The traps, said plainly, because each one gives a model that loads, runs and is wrong:
 *  - nn.Linear weights are stored [out, in]; the forward pass wants [in, out]: every matrix is
 *    transposed here (GPT-2's Conv1D is the other way round, so code copied from gpt2.ts forgets this).
 *  - query_key_value fuses q, k, v PER HEAD, not as three blocks: output row h*3*dHead + j*dHead + e is
 *    head h, part j (q, k, v), dim e. The forward wants q | k | v column blocks, each head-major.
 *    Splitting the fused rows into three equal thirds (the GPT-2 way) scrambles heads and parts.
 *  - rotary covers only the first rotary_pct of each head's dims, in the rotate-half layout (first
 *    half of the rotary dims paired with the second, frequencies repeated twice), not GPT-J's
 *    interleaved pairs; newer transformers releases renamed rotary_pct / rotary_emb_base to
 *    partial_rotary_factor / rope_theta, so both are read.
 *  - use_parallel_residual (default true): attention and MLP both read the block's input residual.
 *  - embed_out is a separate unembedding (tie_word_embeddings is false unless said otherwise);
 *    there are no learned positions, so there is no hook_pos_embed.
 */
import { tf } from '../../lab/core/backend.ts';
import { InputError } from '../../lab/core/index.ts';
import { defineArchitecture, type ArchitectureShape } from './architecture.ts';
import type { CheckpointReader } from './checkpoint.ts';
import { readRotary, type HfConfigReader, type TransformerConfig } from './config.ts';
import type { LayerParams, Params } from './transformer.ts';

/**
 * The GPTNeoXConfig fields the lab implements (beyond config-checks.ts INERT_CONFIG_KEYS); any other is
 * refused by name. The rotary settings have moved across transformers releases: rotary_pct /
 * rotary_emb_base (4.x), partial_rotary_factor / rope_theta (later 4.x writes both pairs), and
 * rope_parameters {rope_type, rope_theta, partial_rotary_factor} (5.x), with rope_scaling beside them;
 * readRotary reads all of them and refuses two that disagree.
 */
export const NEOX_CONFIG_KEYS = [
  'num_hidden_layers', 'hidden_size', 'num_attention_heads', 'intermediate_size', 'vocab_size', 'max_position_embeddings',
  'layer_norm_eps', 'hidden_act', 'tie_word_embeddings', 'use_parallel_residual', 'attention_bias',
  'rotary_pct', 'partial_rotary_factor', 'rotary_emb_base', 'rope_theta', 'rope_scaling', 'rope_parameters',
] as const;

/** GPTNeoXConfig fields -> TransformerConfig. */
function parseNeoxConfig(r: HfConfigReader): TransformerConfig {
  const { hf, path } = r;
  const dModel = r.int('hidden_size');
  const nHeads = r.int('num_attention_heads');
  const dHead = dModel / nHeads;
  const rope = readRotary(r, ['rotary_pct', 'partial_rotary_factor'], ['rotary_emb_base', 'rope_theta'], { fraction: 0.25, base: 10000 });
  const bool = (key: string, fallback: boolean): boolean => {
    const v = hf[key] ?? fallback;
    if (typeof v !== 'boolean') throw new InputError(`${path}: "${key}" must be true or false, got ${JSON.stringify(v)}`, path);
    return v;
  };
  const cfg: TransformerConfig = {
    architecture: 'gpt-neox',
    nLayers: r.int('num_hidden_layers'),
    dModel,
    nHeads,
    dHead,
    dMlp: r.int('intermediate_size'),
    vocabSize: r.int('vocab_size'),
    contextLength: r.int('max_position_embeddings'),
    layerNormEps: r.num('layer_norm_eps', 1e-5),
    activation: r.act('hidden_act', 'gelu'),
    tiedEmbeddings: bool('tie_word_embeddings', false),
    rotaryDims: Math.floor(dHead * rope.fraction),
    rotaryBase: rope.base,
    parallelResidual: bool('use_parallel_residual', true),
    weightDtype: r.weightDtype,
  };
  if (rope.linearFactor !== 1) cfg.rotaryScaling = { type: 'linear', factor: rope.linearFactor };
  if (!bool('attention_bias', true)) throw new InputError(`${path}: attention_bias=false is not supported`, path);
  if (cfg.rotaryDims % 2 !== 0) throw new InputError(`${path}: rotary dims ${cfg.rotaryDims} per head must be even`, path);
  return cfg;
}

export function neoxTensorShapes(cfg: TransformerConfig): Map<string, number[]> {
  const { dModel: d, dMlp: m, vocabSize: V } = cfg;
  const s = new Map<string, number[]>();
  s.set('gpt_neox.embed_in.weight', [V, d]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `gpt_neox.layers.${l}.`;
    s.set(p + 'input_layernorm.weight', [d]);
    s.set(p + 'input_layernorm.bias', [d]);
    s.set(p + 'post_attention_layernorm.weight', [d]);
    s.set(p + 'post_attention_layernorm.bias', [d]);
    s.set(p + 'attention.query_key_value.weight', [3 * d, d]);
    s.set(p + 'attention.query_key_value.bias', [3 * d]);
    s.set(p + 'attention.dense.weight', [d, d]);
    s.set(p + 'attention.dense.bias', [d]);
    s.set(p + 'mlp.dense_h_to_4h.weight', [m, d]);
    s.set(p + 'mlp.dense_h_to_4h.bias', [m]);
    s.set(p + 'mlp.dense_4h_to_h.weight', [d, m]);
    s.set(p + 'mlp.dense_4h_to_h.bias', [d]);
  }
  s.set('gpt_neox.final_layer_norm.weight', [d]);
  s.set('gpt_neox.final_layer_norm.bias', [d]);
  if (!cfg.tiedEmbeddings) s.set('embed_out.weight', [V, d]);
  return s;
}

/** [out, in] row-major -> [in, out] row-major. */
function transpose(w: Float32Array, out: number, inp: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w[o * inp + i]!;
  return t;
}

/** NeoX fused row index (head-major, then q/k/v) -> the forward pass's column (q/k/v-major, then head). */
function qkvColumn(row: number, H: number, dh: number): number {
  const h = Math.floor(row / (3 * dh));
  const j = Math.floor((row % (3 * dh)) / dh);
  const e = row % dh;
  return j * H * dh + h * dh + e;
}

/** Builds forward-pass parameters from NeoX tensors read one at a time (`read(name)` returns f32 data). */
export function neoxParams(cfg: TransformerConfig, read: (name: string) => Float32Array): Params {
  const { dModel: d, dMlp: m, vocabSize: V, nHeads: H, dHead: dh } = cfg;
  const t1 = (n: string) => tf.tensor1d(read(n));
  const layers: LayerParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `gpt_neox.layers.${l}.`;
    const wq = read(p + 'attention.query_key_value.weight'); // [3d, d]
    const bq = read(p + 'attention.query_key_value.bias');
    const wqkv = new Float32Array(3 * d * d);
    const bqkv = new Float32Array(3 * d);
    for (let r = 0; r < 3 * d; r++) {
      const c = qkvColumn(r, H, dh);
      bqkv[c] = bq[r]!;
      for (let i = 0; i < d; i++) wqkv[i * 3 * d + c] = wq[r * d + i]!;
    }
    layers.push({
      ln1g: t1(p + 'input_layernorm.weight'),
      ln1b: t1(p + 'input_layernorm.bias'),
      wqkv: tf.tensor2d(wqkv, [d, 3 * d]),
      bqkv: tf.tensor1d(bqkv),
      wo: tf.tensor2d(transpose(read(p + 'attention.dense.weight'), d, d), [d, d]),
      bo: t1(p + 'attention.dense.bias'),
      ln2g: t1(p + 'post_attention_layernorm.weight'),
      ln2b: t1(p + 'post_attention_layernorm.bias'),
      win: tf.tensor2d(transpose(read(p + 'mlp.dense_h_to_4h.weight'), m, d), [d, m]),
      bin: t1(p + 'mlp.dense_h_to_4h.bias'),
      wout: tf.tensor2d(transpose(read(p + 'mlp.dense_4h_to_h.weight'), d, m), [m, d]),
      bout: t1(p + 'mlp.dense_4h_to_h.bias'),
    });
  }
  const embed = tf.tensor2d(read('gpt_neox.embed_in.weight'), [V, d]);
  return {
    embed,
    layers,
    lnfg: t1('gpt_neox.final_layer_norm.weight'),
    lnfb: t1('gpt_neox.final_layer_norm.bias'),
    unembed: cfg.tiedEmbeddings ? embed : tf.tensor2d(read('embed_out.weight'), [V, d]),
  };
}

/** A GPT-NeoX config.json (GPTNeoXConfig.to_dict() field names). */
export function neoxHfConfig(s: ArchitectureShape & { hiddenAct?: string }): Record<string, unknown> {
  return {
    architectures: ['GPTNeoXForCausalLM'],
    model_type: 'gpt_neox',
    num_hidden_layers: s.nLayers,
    hidden_size: s.dModel,
    num_attention_heads: s.nHeads,
    intermediate_size: s.dMlp ?? 4 * s.dModel,
    vocab_size: s.vocabSize,
    max_position_embeddings: s.contextLength,
    rotary_pct: s.rotaryPct ?? 0.25,
    rotary_emb_base: s.rotaryBase ?? 10000,
    use_parallel_residual: s.parallelResidual ?? true,
    layer_norm_eps: s.layerNormEps ?? 1e-5,
    hidden_act: s.hiddenAct ?? 'gelu',
    tie_word_embeddings: false,
  };
}

function loadNeoxParams(cfg: TransformerConfig, reader: CheckpointReader): { params: Params; dispose: () => void } {
  const shapes = neoxTensorShapes(cfg);
  const params = neoxParams(cfg, (name) => reader.read(name, shapes.get(name)!, cfg.weightDtype));
  const all = [params.embed, params.unembed, params.lnfg, params.lnfb, ...params.layers.flatMap((l) => Object.values(l) as tf.Tensor[])];
  // A Set: a tied unembed is the embedding itself.
  return { params, dispose: () => tf.dispose([...new Set(all)]) };
}

export const neoxArchitecture = defineArchitecture({
  name: 'gpt-neox',
  modelTypes: ['gpt_neox'],
  summary: 'GPT-NeoX / Pythia (GPTNeoXForCausalLM): partial rotary, per-head fused qkv, parallel residual',
  positional: false,
  tokenizer: 'neox',
  normGain: /(layernorm|layer_norm)\.weight$/,
  configKeys: NEOX_CONFIG_KEYS,
  parseConfig: parseNeoxConfig,
  hfConfig: (s) => neoxHfConfig({ ...s, hiddenAct: 'gelu' }),
  tensorShapes: neoxTensorShapes,
  loadParams: loadNeoxParams,
});
