/**
 * GPT-J in the Hugging Face layout (GPTJForCausalLM: EleutherAI's gpt-j-6b and its fine-tunes):
 * config keys, tensor names and shapes, and the conversion to the canonical layout (as
 * TransformerLens' weight_conversions/gptj.py).
 *
 * The traps, said plainly:
 *  - one LayerNorm per block (ln_1) feeds both attention and MLP, which run in parallel:
 *    x + attn(ln_1(x)) + mlp(ln_1(x)). The lab's ln2 is ln_1 itself (the same tensors);
 *  - rotary covers only the first rotary_dim dims of each head and pairs dims (2i, 2i + 1)
 *    (rotate_every_two, sin/cos repeat_interleaved), not NeoX's rotate-half: the same weights with
 *    the wrong layout give a model that runs and is wrong. The base is 10000, fixed;
 *  - q, k, v, out_proj have no bias; lm_head has one (and is not tied to wte);
 *  - every nn.Linear is [out, in]; scale_attn_weights is ignored by HF's GPT-J (always 1/sqrt(dh)).
 */
import { InputError } from '../../lab/core/index.ts';
import { defineArchitecture, type ArchitectureShape } from './architecture.ts';
import type { CheckpointReader } from './checkpoint.ts';
import type { HfConfigReader, TransformerConfig } from './config.ts';
import { bool, checkAttentionShape, refuseUnknownFields, WeightReader } from './family-support.ts';
import type { LayerParams } from './transformer.ts';

const KEYS = [
  'vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head', 'rotary_dim', 'n_inner', 'activation_function',
  'layer_norm_epsilon', 'tie_word_embeddings', 'scale_attn_weights', 'rotary', 'n_ctx',
];

function parseGptjConfig(r: HfConfigReader): TransformerConfig {
  const { hf, path } = r;
  refuseUnknownFields(r, KEYS);
  const dModel = r.int('n_embd', 4096);
  const nHeads = r.int('n_head', 16);
  const dHead = dModel / nHeads;
  if (hf.rotary_dim === null) {
    throw new InputError(`${path}: "rotary_dim" null (rotary over the whole model width) is not implemented; GPT-J checkpoints set it (64)`, path);
  }
  if (hf.tie_word_embeddings === true) throw new InputError(`${path}: "tie_word_embeddings" true is not implemented for GPT-J (its lm_head has a bias)`, path);
  const cfg: TransformerConfig = {
    architecture: 'gptj',
    nLayers: r.int('n_layer', 28),
    dModel,
    nHeads,
    dHead,
    dMlp: hf.n_inner == null ? 4 * dModel : r.int('n_inner'),
    vocabSize: r.int('vocab_size', 50400),
    contextLength: r.int('n_positions', 2048),
    layerNormEps: r.num('layer_norm_epsilon', 1e-5),
    activation: r.act('activation_function', 'gelu_new'),
    tiedEmbeddings: bool(r, 'tie_word_embeddings', false),
    rotaryDims: r.int('rotary_dim', 64),
    rotaryBase: 10000,
    rotaryInterleaved: true,
    parallelResidual: true,
    weightDtype: r.weightDtype,
  };
  return checkAttentionShape(cfg, path);
}

function gptjTensorShapes(cfg: TransformerConfig): Map<string, number[]> {
  const { dModel: d, dMlp: m, vocabSize: V } = cfg;
  const s = new Map<string, number[]>();
  s.set('transformer.wte.weight', [V, d]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `transformer.h.${l}.`;
    s.set(p + 'ln_1.weight', [d]);
    s.set(p + 'ln_1.bias', [d]);
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) s.set(p + `attn.${n}.weight`, [d, d]);
    s.set(p + 'mlp.fc_in.weight', [m, d]);
    s.set(p + 'mlp.fc_in.bias', [m]);
    s.set(p + 'mlp.fc_out.weight', [d, m]);
    s.set(p + 'mlp.fc_out.bias', [d]);
  }
  s.set('transformer.ln_f.weight', [d]);
  s.set('transformer.ln_f.bias', [d]);
  s.set('lm_head.weight', [V, d]);
  s.set('lm_head.bias', [V]);
  return s;
}

function loadGptjParams(cfg: TransformerConfig, reader: CheckpointReader) {
  const { dModel: d, dMlp: m, vocabSize: V } = cfg;
  const w = new WeightReader(reader, cfg.weightDtype);
  const layers: LayerParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `transformer.h.${l}.`;
    const a = p + 'attn.';
    const ln1g = w.vec(p + 'ln_1.weight', d);
    const ln1b = w.vec(p + 'ln_1.bias', d);
    layers.push({
      ln1g,
      ln1b,
      wqkv: w.qkv([a + 'q_proj.weight', a + 'k_proj.weight', a + 'v_proj.weight'], d, d, d),
      bqkv: w.zeros(3 * d),
      wo: w.linear(a + 'out_proj.weight', d, d),
      bo: w.zeros(d),
      // The MLP reads the same ln_1 output (parallel residual on resid_pre).
      ln2g: ln1g,
      ln2b: ln1b,
      win: w.linear(p + 'mlp.fc_in.weight', m, d),
      bin: w.vec(p + 'mlp.fc_in.bias', m),
      wout: w.linear(p + 'mlp.fc_out.weight', d, m),
      bout: w.vec(p + 'mlp.fc_out.bias', d),
    });
  }
  return w.done({
    embed: w.matrix('transformer.wte.weight', V, d),
    layers,
    lnfg: w.vec('transformer.ln_f.weight', d),
    lnfb: w.vec('transformer.ln_f.bias', d),
    unembed: w.matrix('lm_head.weight', V, d),
    unembedBias: w.vec('lm_head.bias', V),
  });
}

/** A GPTJConfig.to_dict()-style config.json for a shape; rotaryPct is the rotated share of each head. */
function gptjHfConfig(s: ArchitectureShape): Record<string, unknown> {
  const dh = s.dModel / s.nHeads;
  return {
    architectures: ['GPTJForCausalLM'],
    model_type: 'gptj',
    vocab_size: s.vocabSize,
    n_positions: s.contextLength,
    n_embd: s.dModel,
    n_layer: s.nLayers,
    n_head: s.nHeads,
    rotary_dim: Math.floor(dh * (s.rotaryPct ?? 0.25)),
    n_inner: s.dMlp ?? null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: s.layerNormEps ?? 1e-5,
    tie_word_embeddings: false,
  };
}

export const gptjArchitecture = defineArchitecture({
  name: 'gptj',
  modelTypes: ['gptj'],
  summary: 'GPT-J (GPTJForCausalLM): parallel attention and MLP on one LayerNorm, partial interleaved rotary, lm_head bias',
  positional: false,
  tokenizer: 'gpt2',
  normGain: /ln_[1f]\.weight$/,
  parseConfig: parseGptjConfig,
  hfConfig: gptjHfConfig,
  tensorShapes: gptjTensorShapes,
  loadParams: loadGptjParams,
});
