/**
 * GPT-Neo in the Hugging Face layout (GPTNeoForCausalLM: EleutherAI's gpt-neo-125M..2.7B and the
 * TinyStories models): config keys, tensor names and shapes, and the conversion to the canonical
 * layout (as TransformerLens' weight_conversions/neo.py).
 *
 * The traps, said plainly:
 *  - attention scores are NOT scaled by 1/sqrt(head_dim): GPT-Neo computes q.k raw (in float32);
 *  - layers alternate global and local attention as attention_types says ([[["global", "local"], 12]]
 *    expands to global, local, global, ...); a local layer's query sees the window_size keys up to
 *    itself (HF's mask: tril minus tril(-window_size)), which only matters past window_size tokens;
 *  - q_proj, k_proj, v_proj have no bias; out_proj does; all are nn.Linear [out, in], as are the
 *    MLP's c_fc and c_proj (the names are GPT-2's, the layout is not: they are transposed here);
 *  - learned positions (wpe) as GPT-2, lm_head tied to wte.
 */
import { InputError } from '../../lab/core/index.ts';
import { defineArchitecture, type ArchitectureShape } from './architecture.ts';
import type { CheckpointReader } from './checkpoint.ts';
import type { HfConfigReader, TransformerConfig } from './config.ts';
import { bool, refuseUnknownFields, WeightReader } from './family-support.ts';
import type { LayerParams } from './transformer.ts';

const KEYS = [
  'vocab_size', 'max_position_embeddings', 'hidden_size', 'num_layers', 'num_heads', 'intermediate_size', 'window_size',
  'activation_function', 'layer_norm_epsilon', 'attention_types', 'attention_layers', 'tie_word_embeddings',
];

/** attention_types [[kinds, repeat], ...] -> one kind per layer (GPTNeoConfig.expand_attention_types_params). */
function attentionLayers(r: HfConfigReader, nLayers: number): string[] {
  const { hf, path } = r;
  const types = hf.attention_types ?? [[['global', 'local'], 12]];
  const out: string[] = [];
  const bad = () => new InputError(`${path}: "attention_types" must be [[["global" | "local", ...], count], ...], got ${JSON.stringify(types)?.slice(0, 80)}`, path);
  if (!Array.isArray(types)) throw bad();
  for (const item of types) {
    if (!Array.isArray(item) || !Array.isArray(item[0]) || !Number.isInteger(item[1])) throw bad();
    for (let i = 0; i < (item[1] as number); i++) out.push(...(item[0] as string[]));
  }
  for (const [l, t] of out.entries()) {
    if (t !== 'global' && t !== 'local') throw new InputError(`${path}: attention type ${JSON.stringify(t)} of layer ${l} is not global or local`, path);
  }
  if (out.length !== nLayers) throw new InputError(`${path}: attention_types expand to ${out.length} layers but num_layers is ${nLayers}`, path);
  // to_dict() writes the expansion too; HF would run the saved list, so the two must agree.
  const saved = hf.attention_layers;
  if (saved != null && JSON.stringify(saved) !== JSON.stringify(out)) {
    throw new InputError(`${path}: "attention_layers" ${JSON.stringify(saved).slice(0, 80)} disagrees with attention_types' expansion ${JSON.stringify(out).slice(0, 80)}`, path);
  }
  return out;
}

function parseGptNeoConfig(r: HfConfigReader): TransformerConfig {
  const { hf } = r;
  refuseUnknownFields(r, KEYS);
  const dModel = r.int('hidden_size', 2048);
  const nHeads = r.int('num_heads', 16);
  const nLayers = r.int('num_layers', 24);
  const window = r.int('window_size', 256);
  const layers = attentionLayers(r, nLayers);
  return {
    architecture: 'gpt-neo',
    nLayers,
    dModel,
    nHeads,
    dHead: dModel / nHeads,
    dMlp: hf.intermediate_size == null ? 4 * dModel : r.int('intermediate_size'),
    vocabSize: r.int('vocab_size', 50257),
    contextLength: r.int('max_position_embeddings', 2048),
    layerNormEps: r.num('layer_norm_epsilon', 1e-5),
    activation: r.act('activation_function', 'gelu_new'),
    tiedEmbeddings: bool(r, 'tie_word_embeddings', true),
    rotaryDims: 0,
    rotaryBase: 0,
    parallelResidual: false,
    weightDtype: r.weightDtype,
    attnScale: 1,
    slidingWindows: layers.some((t) => t === 'local') ? layers.map((t) => (t === 'local' ? window : 0)) : undefined,
  };
}

function gptNeoTensorShapes(cfg: TransformerConfig): Map<string, number[]> {
  const { dModel: d, dMlp: m, vocabSize: V, contextLength: C } = cfg;
  const s = new Map<string, number[]>();
  s.set('transformer.wte.weight', [V, d]);
  s.set('transformer.wpe.weight', [C, d]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `transformer.h.${l}.`;
    for (const n of ['ln_1', 'ln_2']) {
      s.set(p + n + '.weight', [d]);
      s.set(p + n + '.bias', [d]);
    }
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) s.set(p + `attn.attention.${n}.weight`, [d, d]);
    s.set(p + 'attn.attention.out_proj.bias', [d]);
    s.set(p + 'mlp.c_fc.weight', [m, d]);
    s.set(p + 'mlp.c_fc.bias', [m]);
    s.set(p + 'mlp.c_proj.weight', [d, m]);
    s.set(p + 'mlp.c_proj.bias', [d]);
  }
  s.set('transformer.ln_f.weight', [d]);
  s.set('transformer.ln_f.bias', [d]);
  if (!cfg.tiedEmbeddings) s.set('lm_head.weight', [V, d]);
  return s;
}

function loadGptNeoParams(cfg: TransformerConfig, reader: CheckpointReader) {
  const { dModel: d, dMlp: m, vocabSize: V, contextLength: C } = cfg;
  const w = new WeightReader(reader, cfg.weightDtype);
  const layers: LayerParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `transformer.h.${l}.`;
    const a = p + 'attn.attention.';
    layers.push({
      ln1g: w.vec(p + 'ln_1.weight', d),
      ln1b: w.vec(p + 'ln_1.bias', d),
      wqkv: w.qkv([a + 'q_proj.weight', a + 'k_proj.weight', a + 'v_proj.weight'], d, d, d),
      bqkv: w.zeros(3 * d),
      wo: w.linear(a + 'out_proj.weight', d, d),
      bo: w.vec(a + 'out_proj.bias', d),
      ln2g: w.vec(p + 'ln_2.weight', d),
      ln2b: w.vec(p + 'ln_2.bias', d),
      win: w.linear(p + 'mlp.c_fc.weight', m, d),
      bin: w.vec(p + 'mlp.c_fc.bias', m),
      wout: w.linear(p + 'mlp.c_proj.weight', d, m),
      bout: w.vec(p + 'mlp.c_proj.bias', d),
    });
  }
  const embed = w.matrix('transformer.wte.weight', V, d);
  return w.done({
    embed,
    pos: w.matrix('transformer.wpe.weight', C, d),
    layers,
    lnfg: w.vec('transformer.ln_f.weight', d),
    lnfb: w.vec('transformer.ln_f.bias', d),
    unembed: cfg.tiedEmbeddings ? embed : w.matrix('lm_head.weight', V, d),
  });
}

/** A GPTNeoConfig.to_dict()-style config.json for a shape. */
function gptNeoHfConfig(s: ArchitectureShape): Record<string, unknown> {
  return {
    architectures: ['GPTNeoForCausalLM'],
    model_type: 'gpt_neo',
    vocab_size: s.vocabSize,
    max_position_embeddings: s.contextLength,
    hidden_size: s.dModel,
    num_layers: s.nLayers,
    num_heads: s.nHeads,
    intermediate_size: s.dMlp ?? null,
    attention_types: [[['global', 'local'], s.nLayers / 2]],
    attention_layers: Array.from({ length: s.nLayers }, (_, l) => (l % 2 ? 'local' : 'global')),
    window_size: 256,
    activation_function: 'gelu_new',
    layer_norm_epsilon: s.layerNormEps ?? 1e-5,
  };
}

export const gptNeoArchitecture = defineArchitecture({
  name: 'gpt-neo',
  modelTypes: ['gpt_neo'],
  summary: 'GPT-Neo / TinyStories (GPTNeoForCausalLM): unscaled attention, alternating global and local (windowed) layers',
  positional: true,
  tokenizer: 'gpt2',
  normGain: /ln_[12f]\.weight$/,
  parseConfig: parseGptNeoConfig,
  hfConfig: gptNeoHfConfig,
  tensorShapes: gptNeoTensorShapes,
  loadParams: loadGptNeoParams,
});
