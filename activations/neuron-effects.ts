/**
 * A neuron's direct effect on the vocabulary: what it writes to the logits through the residual
 * stream, ignoring every later layer. This is TransformerLens's neuron-level direct logit attribution,
 * `model.W_out[L, n] @ model.W_U` on a HookedTransformer loaded with its defaults (fold_ln=True,
 * center_writing_weights=True, center_unembed=True), computed here from the checkpoint alone:
 *
 *   w      = W_out[n, :] - mean_d W_out[n, d]        (center_writing_weights: the final LN removes the mean)
 *   e[v]   = sum_d w[d] * gamma_f[d] * W_U[d, v]      (fold_ln: the final LN's scale gamma_f folded into W_U)
 *   out[v] = e[v] - mean_v' e[v']                     (center_unembed: softmax ignores a shift over the vocab)
 *
 * The final LN's bias moves every neuron's logits alike (it folds into b_U) and the LN's division by
 * the residual norm depends on the input, so neither is part of a neuron's direct effect. Values are in
 * logits per unit of activation. W_out and W_U are read as stored (GPT-2 c_proj [m, d] and wte or
 * lm_head [V, d]; NeoX dense_4h_to_h [d, m] and embed_out [V, d]); sums run in float64.
 */
import { InputError, UsageError } from '../lab/core/index.ts';
import { CheckpointReader, readConfigJson } from './models/checkpoint.ts';
import { parseHfConfig, type TransformerConfig } from './models/index.ts';
import { loadTokenizer } from './models/tokenizer.ts';
import type { Tokenizer } from './types.ts';
import { join } from 'node:path';

export interface LogitEffect {
  token_id: number;
  token: string;
  value: number;
}

export interface NeuronLogits {
  hook: string;
  neuron: number;
  top: LogitEffect[];
  bottom: LogitEffect[];
}

/** The layer of a `blocks.L.mlp.hook_post` hook, or a UsageError naming `flag`. */
export function mlpPostLayer(hook: string, nLayers: number, flag = 'hook'): number {
  const m = /^blocks\.(\d+)\.mlp\.hook_post$/.exec(hook);
  if (!m) throw new UsageError(`--${flag} '${hook}': logit effects are defined for MLP neurons, blocks.L.mlp.hook_post`, flag);
  const layer = Number(m[1]);
  if (layer >= nLayers) throw new UsageError(`--${flag} '${hook}': the model has ${nLayers} layers (blocks.0..${nLayers - 1})`, flag);
  return layer;
}

/** Reads a model folder's config; the error names the folder. */
function readConfig(dir: string): TransformerConfig {
  return parseHfConfig(readConfigJson(dir), join(dir, 'config.json'));
}

/**
 * The full vocabulary effect of each neuron (length vocabSize, float64), as defined above. Reads only
 * W_out of one layer, the final LN's scale and the unembedding.
 */
export function neuronLogitVectors(modelDir: string, hook: string, neurons: number[]): Float64Array[] {
  const cfg = readConfig(modelDir);
  const layer = mlpPostLayer(hook, cfg.nLayers);
  const { dModel: d, dMlp: m, vocabSize: V } = cfg;
  for (const n of neurons) {
    if (!Number.isInteger(n) || n < 0 || n >= m) throw new UsageError(`--neurons: neuron ${n} is past ${hook}'s width ${m} (0..${m - 1})`, 'neurons');
  }
  const reader = new CheckpointReader(modelDir);
  try {
    let wout: (n: number, j: number) => number;
    let gamma: Float32Array;
    let unembed: Float32Array;
    if (cfg.architecture === 'gpt2') {
      const pre = reader.has('transformer.wte.weight') ? 'transformer.' : '';
      const w = reader.read(`${pre}h.${layer}.mlp.c_proj.weight`, [m, d]); // Conv1D [in, out]
      wout = (n, j) => w[n * d + j]!;
      gamma = reader.read(`${pre}ln_f.weight`, [d]);
      unembed = cfg.tiedEmbeddings || !reader.has('lm_head.weight') ? reader.read(`${pre}wte.weight`, [V, d]) : reader.read('lm_head.weight', [V, d]);
    } else {
      const w = reader.read(`gpt_neox.layers.${layer}.mlp.dense_4h_to_h.weight`, [d, m]); // nn.Linear [out, in]
      wout = (n, j) => w[j * m + n]!;
      gamma = reader.read('gpt_neox.final_layer_norm.weight', [d]);
      unembed = cfg.tiedEmbeddings ? reader.read('gpt_neox.embed_in.weight', [V, d]) : reader.read('embed_out.weight', [V, d]);
    }
    // The folded, centred writing direction of each neuron.
    const dirs = neurons.map((n) => {
      const g = new Float64Array(d);
      let mean = 0;
      for (let j = 0; j < d; j++) mean += wout(n, j);
      mean /= d;
      for (let j = 0; j < d; j++) g[j] = (wout(n, j) - mean) * gamma[j]!;
      return g;
    });
    const out = neurons.map(() => new Float64Array(V));
    for (let v = 0; v < V; v++) {
      const row = v * d;
      for (let s = 0; s < dirs.length; s++) {
        const g = dirs[s]!;
        let acc = 0;
        for (let j = 0; j < d; j++) acc += g[j]! * unembed[row + j]!;
        out[s]![v] = acc;
      }
    }
    for (const e of out) {
      let mean = 0;
      for (let v = 0; v < V; v++) mean += e[v]!;
      mean /= V;
      for (let v = 0; v < V; v++) e[v]! -= mean;
    }
    return out;
  } finally {
    reader.close();
  }
}

/** Indices of the k largest (or smallest) values, ties to the lower index. */
function extremes(e: Float64Array, k: number, largest: boolean): number[] {
  const idx = Array.from({ length: e.length }, (_, i) => i);
  const sign = largest ? -1 : 1;
  idx.sort((a, b) => sign * (e[a]! - e[b]!) || a - b);
  return idx.slice(0, k);
}

/** The `k` tokens each neuron promotes most (top) and suppresses most (bottom), with their values. */
export function neuronLogitEffects(modelDir: string, hook: string, neurons: number[], k = 10, tokenizer?: Tokenizer): NeuronLogits[] {
  const vecs = neuronLogitVectors(modelDir, hook, neurons);
  const tok = tokenizer ?? loadTokenizer(modelDir);
  const effect = (e: Float64Array) => (v: number): LogitEffect => ({ token_id: v, token: tok.decode([v]), value: e[v]! });
  return vecs.map((e, s) => ({
    hook, neuron: neurons[s]!,
    top: extremes(e, k, true).map(effect(e)),
    bottom: extremes(e, k, false).map(effect(e)),
  }));
}

/** The vocabulary size a model folder declares, for checking a store's token ids against it. */
export function modelVocabSize(modelDir: string): number {
  try {
    return readConfig(modelDir).vocabSize;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${modelDir}: cannot read config.json: ${(err as Error).message}`, modelDir);
  }
}
