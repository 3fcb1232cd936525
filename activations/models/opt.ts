/**
 * OPT in the Hugging Face layout (OPTForCausalLM: facebook/opt-125m .. 66b): config keys, tensor
 * names and shapes, and the conversion to the canonical layout (as TransformerLens'
 * weight_conversions/opt.py).
 *
 * The traps, said plainly:
 *  - learned positions are offset by 2 (OPTLearnedPositionalEmbedding): embed_positions has
 *    max_position_embeddings + 2 rows and position p reads row p + 2; the loader keeps rows 2.. so
 *    the lab's pos[p] is the row HF adds (without padding: HF derives positions from the mask);
 *  - separate q, k, v, out_proj with biases, nn.Linear [out, in]; fc1 / fc2 the MLP, ReLU;
 *  - do_layer_norm_before false (opt-350m: post-LN) and word_embed_proj_dim != hidden_size (its
 *    project_in / project_out) are refused with the field named, as is _remove_final_layer_norm;
 *  - the saved state dict may lack the `model.` prefix (OPTModel saves): both are read;
 *  - lm_head is tied to embed_tokens (some saves store a copy; checkAllUsed tolerates it).
 */
import { tf } from '../../lab/core/backend.ts';
import { defineArchitecture, type ArchitectureShape } from './architecture.ts';
import type { CheckpointReader } from './checkpoint.ts';
import type { HfConfigReader, TransformerConfig } from './config.ts';
import { bool, refuseUnknownFields, requireValue, WeightReader } from './family-support.ts';
import type { LayerParams } from './transformer.ts';

const KEYS = [
  'vocab_size', 'hidden_size', 'num_hidden_layers', 'ffn_dim', 'max_position_embeddings', 'do_layer_norm_before',
  '_remove_final_layer_norm', 'word_embed_proj_dim', 'num_attention_heads', 'activation_function', 'enable_bias',
  'layer_norm_elementwise_affine', 'tie_word_embeddings',
];

interface OptConfig extends TransformerConfig {
  bias: boolean;
  affine: boolean;
}

function parseOptConfig(r: HfConfigReader): OptConfig {
  const { hf } = r;
  refuseUnknownFields(r, KEYS);
  const dModel = r.int('hidden_size', 768);
  const nHeads = r.int('num_attention_heads', 12);
  requireValue(r, 'do_layer_norm_before', true, 'post-LN OPT (opt-350m) is not implemented');
  requireValue(r, '_remove_final_layer_norm', false, 'the final layer norm is always applied');
  if (hf.word_embed_proj_dim != null) requireValue(r, 'word_embed_proj_dim', dModel, 'project_in / project_out are not implemented');
  requireValue(r, 'tie_word_embeddings', true, 'OPT ties lm_head to embed_tokens');
  return {
    architecture: 'opt',
    nLayers: r.int('num_hidden_layers', 12),
    dModel,
    nHeads,
    dHead: dModel / nHeads,
    dMlp: r.int('ffn_dim', 3072),
    vocabSize: r.int('vocab_size', 50272),
    contextLength: r.int('max_position_embeddings', 2048),
    layerNormEps: 1e-5,
    activation: r.act('activation_function', 'relu'),
    tiedEmbeddings: true,
    rotaryDims: 0,
    rotaryBase: 0,
    parallelResidual: false,
    weightDtype: r.weightDtype,
    bias: bool(r, 'enable_bias', true),
    affine: bool(r, 'layer_norm_elementwise_affine', true),
  };
}

function optTensorShapes(c: TransformerConfig): Map<string, number[]> {
  const cfg = c as OptConfig;
  const { dModel: d, dMlp: m, vocabSize: V, contextLength: C } = cfg;
  const s = new Map<string, number[]>();
  const ln = (n: string) => {
    if (!cfg.affine) return;
    s.set(n + '.weight', [d]);
    s.set(n + '.bias', [d]);
  };
  const lin = (n: string, out: number, inp: number) => {
    s.set(n + '.weight', [out, inp]);
    if (cfg.bias) s.set(n + '.bias', [out]);
  };
  s.set('model.decoder.embed_tokens.weight', [V, d]);
  s.set('model.decoder.embed_positions.weight', [C + 2, d]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `model.decoder.layers.${l}.`;
    ln(p + 'self_attn_layer_norm');
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) lin(p + `self_attn.${n}`, d, d);
    ln(p + 'final_layer_norm');
    lin(p + 'fc1', m, d);
    lin(p + 'fc2', d, m);
  }
  ln('model.decoder.final_layer_norm');
  return s;
}

function loadOptParams(c: TransformerConfig, reader: CheckpointReader) {
  const cfg = c as OptConfig;
  const { dModel: d, dMlp: m, vocabSize: V, contextLength: C } = cfg;
  const prefix = reader.has('model.decoder.embed_tokens.weight') ? 'model.decoder.' : 'decoder.';
  const w = new WeightReader(reader, cfg.weightDtype);
  const gain = (n: string) => (cfg.affine ? w.vec(prefix + n + '.weight', d) : w.ones(d));
  const shift = (n: string) => (cfg.affine ? w.vec(prefix + n + '.bias', d) : w.zeros(d));
  const bias = (n: string, size: number) => (cfg.bias ? w.vec(prefix + n + '.bias', size) : w.zeros(size));
  const layers: LayerParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `layers.${l}.`;
    const a = p + 'self_attn.';
    const names = ['q_proj', 'k_proj', 'v_proj'].map((n) => prefix + a + n) as [string, string, string];
    layers.push({
      ln1g: gain(p + 'self_attn_layer_norm'),
      ln1b: shift(p + 'self_attn_layer_norm'),
      wqkv: w.qkv(names.map((n) => n + '.weight') as [string, string, string], d, d, d),
      bqkv: cfg.bias ? w.qkvBias(names.map((n) => n + '.bias') as [string, string, string], d, d) : w.zeros(3 * d),
      wo: w.linear(prefix + a + 'out_proj.weight', d, d),
      bo: bias(a + 'out_proj', d),
      ln2g: gain(p + 'final_layer_norm'),
      ln2b: shift(p + 'final_layer_norm'),
      win: w.linear(prefix + p + 'fc1.weight', m, d),
      bin: bias(p + 'fc1', m),
      wout: w.linear(prefix + p + 'fc2.weight', d, m),
      bout: bias(p + 'fc2', d),
    });
  }
  const embed = w.matrix(prefix + 'embed_tokens.weight', V, d);
  // Rows 2.. of the position table: HF's position p reads row p + 2.
  const table = w.raw(prefix + 'embed_positions.weight', [C + 2, d]);
  return w.done({
    embed,
    pos: w.keep(tf.tensor2d(table.subarray(2 * d), [C, d])),
    layers,
    lnfg: gain('final_layer_norm'),
    lnfb: shift('final_layer_norm'),
    unembed: embed,
  });
}

/** An OPTConfig.to_dict()-style config.json for a shape. */
function optHfConfig(s: ArchitectureShape): Record<string, unknown> {
  return {
    architectures: ['OPTForCausalLM'],
    model_type: 'opt',
    vocab_size: s.vocabSize,
    hidden_size: s.dModel,
    num_hidden_layers: s.nLayers,
    ffn_dim: s.dMlp ?? 4 * s.dModel,
    max_position_embeddings: s.contextLength,
    do_layer_norm_before: true,
    _remove_final_layer_norm: false,
    word_embed_proj_dim: s.dModel,
    num_attention_heads: s.nHeads,
    activation_function: 'relu',
    enable_bias: true,
    layer_norm_elementwise_affine: true,
  };
}

export const optArchitecture = defineArchitecture({
  name: 'opt',
  modelTypes: ['opt'],
  summary: 'OPT (OPTForCausalLM): learned positions offset by 2, separate biased q/k/v, ReLU MLP, pre-LN',
  positional: true,
  tokenizer: 'gpt2',
  normGain: /layer_norm\.weight$/,
  parseConfig: parseOptConfig,
  hfConfig: optHfConfig,
  tensorShapes: optTensorShapes,
  loadParams: loadOptParams,
});
