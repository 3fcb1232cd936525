/**
 * One decoder-only transformer forward pass for every registered architecture (GPT-2, GPT-NeoX, the
 * Llama family, Gemma, GPT-Neo, GPT-J, OPT), with TransformerLens hook points and a key/value cache.
 * Every linear weight is stored [in, out] and the fused qkv projection with columns laid out q | k | v,
 * each head-major (k and v have nKVHeads heads); the loaders convert each checkpoint layout to this.
 * What differs between families is a TransformerConfig field read here (norm, gated MLP, grouped
 * keys, rotary layout, sliding windows, soft-capping), never a branch on the architecture's name.
 * With `differentiable` it uses only ops with gradients on every backend (the embedding has its own
 * gradient), so the same pass trains under tf.variableGrads; without, attention takes a faster path.
 */
import { tf } from '../../lab/core/backend.ts';
import { UsageError } from '../../lab/core/index.ts';
import type { ForwardOptions, ForwardResult, KVCache } from '../types.ts';
import type { TransformerConfig } from './config.ts';
import { ensureGradients } from './gradients.ts';
import { HookRunner } from './hooks.ts';
import { applyRotary, rotaryTables } from './rotary.ts';

ensureGradients();

export interface LayerParams {
  ln1g: tf.Tensor1D;
  ln1b: tf.Tensor1D;
  /** [d, (H + 2 Hkv) dHead]: q | k | v columns, each [head, dHead] (3d without grouped keys) */
  wqkv: tf.Tensor2D;
  bqkv: tf.Tensor1D;
  /** [H dHead, d] */
  wo: tf.Tensor2D;
  bo: tf.Tensor1D;
  ln2g: tf.Tensor1D;
  ln2b: tf.Tensor1D;
  /** [d, dMlp] */
  win: tf.Tensor2D;
  bin: tf.Tensor1D;
  /** [dMlp, d] */
  wout: tf.Tensor2D;
  bout: tf.Tensor1D;
  /** Gated MLPs only (cfg.gatedMlp): [d, dMlp], the projection the activation reads. */
  wgate?: tf.Tensor2D;
  bgate?: tf.Tensor1D;
  /** cfg.postNorms only: RMSNorm gains on the attention and MLP outputs (Gemma 2). */
  ln1postg?: tf.Tensor1D;
  ln2postg?: tf.Tensor1D;
}

export interface Params {
  /** [vocab, d] */
  embed: tf.Tensor2D;
  /** [context, d]: learned positions (GPT-2); absent for rotary models. */
  pos?: tf.Tensor2D;
  layers: LayerParams[];
  lnfg: tf.Tensor1D;
  lnfb: tf.Tensor1D;
  /** [vocab, d]; the embedding itself when tied. */
  unembed: tf.Tensor2D;
  /** [vocab]: GPT-J's lm_head bias; absent elsewhere. */
  unembedBias?: tf.Tensor1D;
  /** [d, vocab]: unembed transposed once, for inference; absent while training (then transposed per pass). */
  unembedT?: tf.Tensor2D;
}

/** Per-layer keys and values [batch, heads, length, dHead]. */
export class TransformerKVCache implements KVCache {
  length = 0;
  keys: (tf.Tensor4D | undefined)[];
  values: (tf.Tensor4D | undefined)[];

  constructor(readonly batch: number, nLayers: number) {
    this.keys = new Array(nLayers).fill(undefined);
    this.values = new Array(nLayers).fill(undefined);
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(undefined);
    this.values.fill(undefined);
    this.length = 0;
  }
}

const MASKED = -1e9;

/** Token embedding lookup whose gradient is a scatter-add (wasm has no UnsortedSegmentSum, so gather has no gradient there). */
function embed(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const idx = ids.dataSync() as Int32Array;
  const [vocab, d] = table.shape;
  for (let i = 0; i < idx.length; i++) {
    const id = idx[i]!;
    if (id < 0 || id >= vocab || !Number.isInteger(id)) throw new UsageError(`token id ${id} is outside the vocabulary [0, ${vocab})`);
  }
  const f = tf.customGrad(((w: tf.Tensor) => {
    const value = tf.gather(w as tf.Tensor2D, ids);
    const gradFunc = (dy: tf.Tensor) => {
      const g = new Float32Array(vocab * d);
      const dyv = dy.dataSync() as Float32Array;
      for (let i = 0; i < idx.length; i++) {
        const row = idx[i]! * d;
        const src = i * d;
        for (let j = 0; j < d; j++) g[row + j]! += dyv[src + j]!;
      }
      return tf.tensor2d(g, [vocab, d]);
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(table) as tf.Tensor2D;
}

export function layerNorm(x: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.square(xc), -1, true);
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), g), b);
}

/** RMSNorm (Llama's LlamaRMSNorm): x / sqrt(mean(x^2) + eps) * g; Gemma's (1 + w) is folded into g by its loader. */
export function rmsNorm(x: tf.Tensor, g: tf.Tensor1D, eps: number): tf.Tensor {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), g);
}

/** The config's norm: LayerNorm (gain and bias) or RMSNorm (gain only). */
export function normalize(cfg: TransformerConfig, x: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D | undefined): tf.Tensor {
  return cfg.norm === 'rmsnorm' ? rmsNorm(x, g, cfg.layerNormEps) : layerNorm(x, g, b!, cfg.layerNormEps);
}

/** cap * tanh(x / cap) (Gemma 2's soft-capping); x itself without a cap. */
export function softcap(x: tf.Tensor, cap: number | undefined): tf.Tensor {
  return cap ? tf.mul(tf.tanh(tf.div(x, cap)), cap) : x;
}

/** x [N, in] @ w [in, out] + b */
function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D;
}

function activation(x: tf.Tensor, kind: TransformerConfig['activation']): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.relu(x);
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
    case 'gelu_tanh': {
      // GPT-2's gelu_new, 0.5 x (1 + tanh(z)) with z = sqrt(2/pi) (x + 0.044715 x^3), written as
      // x * sigmoid(2z): the same function in fewer ops, and without tf.pow (slow on wasm).
      const c = 2 * Math.sqrt(2 / Math.PI);
      return tf.mul(x, tf.sigmoid(tf.mul(x, tf.add(tf.mul(tf.square(x), c * 0.044715), c))));
    }
    case 'silu':
      return tf.mul(x, tf.sigmoid(x));
  }
}

/**
 * n independent matMuls [n, r, k] x [n, k, c]. Differentiable: tfjs' batched matMul. Otherwise one 2D
 * matMul per item, because tfjs-wasm's batched kernel runs several times slower than its 2D one; the
 * operands are cut apart on the host (one download each), since a wasm Slice copies its whole input.
 */
function perItemMatMul(a: tf.Tensor3D, b: tf.Tensor3D, differentiable: boolean): tf.Tensor3D {
  if (differentiable) return tf.matMul(a, b);
  const [n, r, k] = a.shape;
  const c = b.shape[2];
  const av = a.dataSync() as Float32Array;
  const bv = b.dataSync() as Float32Array;
  const parts: tf.Tensor2D[] = [];
  for (let i = 0; i < n; i++) {
    const x = tf.tensor2d(av.subarray(i * r * k, (i + 1) * r * k), [r, k]);
    const y = tf.tensor2d(bv.subarray(i * k * c, (i + 1) * k * c), [k, c]);
    parts.push(tf.matMul(x, y));
  }
  return tf.reshape(n === 1 ? parts[0]! : tf.concat(parts, 0), [n, r, c]) as tf.Tensor3D;
}

/** Attention scores [B, H, S, T] (unscaled) from q [B, S, H, dh] and cached keys [B, H, T, dh]. */
function headScores(q: tf.Tensor4D, kh: tf.Tensor4D, B: number, H: number, S: number, T: number, dh: number, differentiable: boolean): tf.Tensor4D {
  const q3 = tf.reshape(tf.transpose(q, [0, 2, 1, 3]), [B * H, S, dh]) as tf.Tensor3D;
  const kT = tf.reshape(tf.transpose(kh, [0, 1, 3, 2]), [B * H, dh, T]) as tf.Tensor3D;
  return tf.reshape(perItemMatMul(q3, kT, differentiable), [B, H, S, T]) as tf.Tensor4D;
}

/** pattern [B, H, S, T] x values [B, H, T, dh] -> [B, H, S, dh]. */
function headMix(pattern: tf.Tensor4D, vh: tf.Tensor4D, B: number, H: number, S: number, T: number, dh: number, differentiable: boolean): tf.Tensor4D {
  const p3 = tf.reshape(pattern, [B * H, S, T]) as tf.Tensor3D;
  const v3 = tf.reshape(vh, [B * H, T, dh]) as tf.Tensor3D;
  return tf.reshape(perItemMatMul(p3, v3, differentiable), [B, H, S, dh]) as tf.Tensor4D;
}

/**
 * Additive causal mask [seq, total] for queries at positions offset.. over keys 0..total-1; with a
 * window w > 0 a query at position i also loses keys j <= i - w (it sees w keys, itself included), as
 * current transformers' sliding_window_overlay and GPT-Neo's local attention mask do.
 */
function causalMask(offset: number, seq: number, total: number, window = 0): tf.Tensor2D {
  const m = new Float32Array(seq * total);
  for (let i = 0; i < seq; i++) {
    for (let j = offset + i + 1; j < total; j++) m[i * total + j] = MASKED;
    if (window > 0) for (let j = 0; j <= offset + i - window; j++) m[i * total + j] = MASKED;
  }
  return tf.tensor2d(m, [seq, total]);
}

/** Keys/values [B, Hkv, T, dh] -> [B, H, T, dh], each kv head repeated for its H / Hkv query heads (HF repeat_kv). */
function repeatKV(x: tf.Tensor4D, H: number): tf.Tensor4D {
  const [B, Hkv, T, dh] = x.shape;
  if (Hkv === H) return x;
  return tf.reshape(tf.tile(tf.reshape(x, [B, Hkv, 1, T, dh]), [1, 1, H / Hkv, 1, 1]), [B, H, T, dh]) as tf.Tensor4D;
}

/**
 * The forward pass. `opts` as in activations/types.ts. With a kvCache, `ids` are the next positions
 * after cache.length and the cache is extended in place once the pass has succeeded.
 */
export function transformerForward(
  cfg: TransformerConfig,
  p: Params,
  ids: tf.Tensor2D,
  opts: ForwardOptions = {},
  /** Use only ops with gradients (training); the default takes faster host-assisted paths. */
  differentiable = false,
): ForwardResult {
  if (ids.rank !== 2) throw new UsageError(`ids must be [batch, seq]; got shape [${ids.shape}]`);
  const [B, S] = ids.shape;
  const cache = opts.kvCache as TransformerKVCache | undefined;
  if (cache !== undefined && !(cache instanceof TransformerKVCache)) throw new UsageError('kvCache must come from this model\'s newKVCache()');
  if (cache && cache.batch !== B) throw new UsageError(`kvCache holds batch ${cache.batch}; ids have batch ${B}`);
  const offset = cache?.length ?? 0;
  if (offset + S > cfg.contextLength) {
    throw new UsageError(`${offset + S} tokens exceed the model's context window of ${cfg.contextLength}`);
  }
  const hooks = new HookRunner(opts);
  const { dModel: d, nHeads: H, dHead: dh } = cfg;
  const Hkv = cfg.nKVHeads ?? H;
  const T = offset + S;
  const newK: tf.Tensor4D[] = [];
  const newV: tf.Tensor4D[] = [];

  let logits: tf.Tensor3D;
  try {
    logits = tf.tidy(() => {
      const flatIds = tf.cast(tf.reshape(ids, [B * S]), 'int32') as tf.Tensor1D;
      const looked = tf.reshape(embed(p.embed, flatIds), [B, S, d]);
      const tok = hooks.point('hook_embed', cfg.embedScale ? tf.mul(looked, Math.fround(cfg.embedScale)) : looked);
      let resid: tf.Tensor = tok;
      if (p.pos) {
        const pos = hooks.point('hook_pos_embed', tf.reshape(tf.slice(p.pos, [offset, 0], [S, d]), [1, S, d]));
        resid = tf.add(tok, pos);
      }
      const rope = cfg.rotaryDims > 0 ? rotaryTables(cfg, offset, S) : undefined;
      const masks = new Map<number, tf.Tensor>();
      const maskFor = (w: number) => masks.get(w) ?? masks.set(w, tf.reshape(causalMask(offset, S, T, w), [1, 1, S, T])).get(w)!;
      // A family's own scale (Gemma's query_pre_attn_scalar), else 1/sqrt(dh) unless GPT-2's scale_attn_weights is false.
      const baseScale = cfg.attnScale ?? (cfg.scaleAttnWeights === false ? 1 : 1 / Math.sqrt(dh));

      // The masks exist before the layers so a layer's own tidy scope (below) cannot dispose them.
      for (let l = 0; l < cfg.nLayers; l++) maskFor(cfg.slidingWindows?.[l] ?? 0);
      for (let l = 0; l < cfg.nLayers; l++) {
        // Outside training each layer runs in its own tidy scope, so the wasm heap holds one layer's
        // intermediates at a time, not every layer's until the pass ends (GPT-2 small at batch 8 x 128:
        // 2.9 GB of intermediates). Kept hooks and kv-cache tensors are tf.keep'd and survive it.
        const layer = (): tf.Tensor => {
          const L = p.layers[l]!;
          const h = (name: string) => `blocks.${l}.${name}`;
          // GPT-2's scale_attn_by_inverse_layer_idx: layer l's scores also divided by l + 1 (TransformerLens folds it into attn_scale too).
          const scale = cfg.scaleAttnByInverseLayerIdx ? baseScale / (l + 1) : baseScale;
          const residPre = hooks.point(h('hook_resid_pre'), resid);
          const n1 = hooks.point(h('ln1.hook_normalized'), normalize(cfg, residPre, L.ln1g, L.ln1b));
          const qkv = linear(tf.reshape(n1, [B * S, d]) as tf.Tensor2D, L.wqkv, L.bqkv);
          const split = tf.split(qkv, [H * dh, Hkv * dh, Hkv * dh], 1);
          let q = hooks.point(h('attn.hook_q'), tf.reshape(split[0]!, [B, S, H, dh]) as tf.Tensor4D);
          let k = hooks.point(h('attn.hook_k'), tf.reshape(split[1]!, [B, S, Hkv, dh]) as tf.Tensor4D);
          const v = hooks.point(h('attn.hook_v'), tf.reshape(split[2]!, [B, S, Hkv, dh]) as tf.Tensor4D);
          if (rope) {
            q = applyRotary(q, rope[0], rope[1], cfg.rotaryDims, cfg.rotaryInterleaved);
            k = applyRotary(k, rope[0], rope[1], cfg.rotaryDims, cfg.rotaryInterleaved);
          }
          let kh = tf.transpose(k, [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, S, dh]
          let vh = tf.transpose(v, [0, 2, 1, 3]) as tf.Tensor4D;
          if (cache) {
            const pk = cache.keys[l];
            const pv = cache.values[l];
            if (pk && pv) {
              kh = tf.concat([pk, kh], 2);
              vh = tf.concat([pv, vh], 2);
            }
            newK.push(tf.keep(kh));
            newV.push(tf.keep(vh));
          }
          const raw = tf.mul(headScores(q, repeatKV(kh, H), B, H, S, T, dh, differentiable), scale);
          const mask = maskFor(cfg.slidingWindows?.[l] ?? 0);
          const scores = hooks.point(h('attn.hook_attn_scores'), tf.add(softcap(raw, cfg.attnSoftcap), mask));
          const pattern = hooks.point(h('attn.hook_pattern'), tf.softmax(scores, -1));
          const zh = headMix(pattern as tf.Tensor4D, repeatKV(vh, H), B, H, S, T, dh, differentiable);
          const z = hooks.point(h('attn.hook_z'), tf.transpose(tf.reshape(zh, [B, H, S, dh]), [0, 2, 1, 3]));
          let attnOut: tf.Tensor = tf.reshape(linear(tf.reshape(z, [B * S, H * dh]) as tf.Tensor2D, L.wo, L.bo), [B, S, d]);
          if (cfg.postNorms) attnOut = hooks.point(h('ln1_post.hook_normalized'), rmsNorm(attnOut, L.ln1postg!, cfg.layerNormEps));
          attnOut = hooks.point(h('hook_attn_out'), attnOut);
          // With a parallel residual (NeoX) the MLP reads resid_pre; resid_mid is still resid_pre + attn_out,
          // so resid_post = resid_mid + mlp_out holds for both layouts.
          const residMid = hooks.point(h('hook_resid_mid'), tf.add(residPre, attnOut));
          const mlpIn = cfg.parallelResidual ? residPre : residMid;
          const n2 = hooks.point(h('ln2.hook_normalized'), normalize(cfg, mlpIn, L.ln2g, L.ln2b));
          const n2flat = tf.reshape(n2, [B * S, d]) as tf.Tensor2D;
          const mlpDims = [B, S, cfg.dMlp];
          let post: tf.Tensor;
          if (cfg.gatedMlp) {
            // TransformerLens' GatedMLP: hook_pre = x W_gate (what the activation reads), hook_pre_linear = x W_in.
            const pre = hooks.point(h('mlp.hook_pre'), tf.reshape(linear(n2flat, L.wgate!, L.bgate!), mlpDims));
            const preLinear = hooks.point(h('mlp.hook_pre_linear'), tf.reshape(linear(n2flat, L.win, L.bin), mlpDims));
            post = hooks.point(h('mlp.hook_post'), tf.mul(activation(pre, cfg.activation), preLinear));
          } else {
            const pre = hooks.point(h('mlp.hook_pre'), tf.reshape(linear(n2flat, L.win, L.bin), mlpDims));
            post = hooks.point(h('mlp.hook_post'), activation(pre, cfg.activation));
          }
          let mlpOut: tf.Tensor = tf.reshape(linear(tf.reshape(post, [B * S, cfg.dMlp]) as tf.Tensor2D, L.wout, L.bout), [B, S, d]);
          if (cfg.postNorms) mlpOut = hooks.point(h('ln2_post.hook_normalized'), rmsNorm(mlpOut, L.ln2postg!, cfg.layerNormEps));
          mlpOut = hooks.point(h('hook_mlp_out'), mlpOut);
          return hooks.point(h('hook_resid_post'), tf.add(residMid, mlpOut));
        };
        resid = differentiable ? layer() : tf.tidy(layer);
      }
      if (opts.logits === false) {
        // No unembedding; the final layer norm only when a hook asks for it (training reads it there).
        if (hooks.wants('ln_final.hook_normalized')) hooks.point('ln_final.hook_normalized', normalize(cfg, resid, p.lnfg, p.lnfb));
        return tf.zeros([B, S, 0]) as tf.Tensor3D;
      }
      const nf = hooks.point('ln_final.hook_normalized', normalize(cfg, resid, p.lnfg, p.lnfb));
      // A plain [d, vocab] matMul: with transposeB the wasm kernel runs several times slower.
      let out: tf.Tensor = tf.matMul(tf.reshape(nf, [B * S, d]) as tf.Tensor2D, p.unembedT ?? tf.transpose(p.unembed));
      if (p.unembedBias) out = tf.add(out, p.unembedBias);
      return tf.reshape(softcap(out, cfg.finalSoftcap), [B, S, cfg.vocabSize]) as tf.Tensor3D;
    });
  } catch (err) {
    tf.dispose([...newK, ...newV, ...hooks.cache.values()]);
    throw err;
  }
  if (cache) {
    for (let l = 0; l < cfg.nLayers; l++) {
      cache.keys[l]?.dispose();
      cache.values[l]?.dispose();
      cache.keys[l] = newK[l];
      cache.values[l] = newV[l];
    }
    cache.length = T;
  }
  return { logits, cache: hooks.cache };
}
