/**
 * The shared forward pass (transformer.ts) as one ONNX graph, for ONNX Runtime's native CPU kernels
 * (activations/models/onnx/engine.ts). It is the same computation op for op: the same TransformerConfig
 * fields read the same way (norms, gated MLPs, grouped keys, both rotary layouts with the same cos/sin
 * tables, sliding windows, soft-capping, embedding scale, Gemma 2's output norms), the same additive
 * mask value, the same hook points (TransformerLens names, hook_q/hook_k before rotary), and the
 * canonical Params the loaders produce, so every registered family runs here unchanged. A config
 * field this file does not read is refused (HONOURED below), never ignored.
 *
 * What differs by design: the graph is built for the hooks asked for, so it stops after the last
 * layer they need and never computes the logits (a harvest's forward); the batch and the sequence
 * length are symbolic, so one session serves every padded batch.
 */
import type { tf } from '../../../lab/core/backend.ts';
import { UsageError } from '../../../lab/core/index.ts';
import type { HookName } from '../../types.ts';
import type { TransformerConfig } from '../config.ts';
import { allHookNames } from '../hooks.ts';
import { rotaryTables } from '../rotary.ts';
import type { LayerParams, Params } from '../transformer.ts';
import { DT, type AttrValue, type ModelSpec, type NodeSpec, type TensorSpec } from './proto.ts';

/** Every TransformerConfig field the graph reads (or that changes nothing in a hooks-only forward). */
const HONOURED = new Set([
  'architecture', 'nLayers', 'dModel', 'nHeads', 'dMlp', 'vocabSize', 'contextLength', 'dHead', 'layerNormEps', 'activation',
  // The unembedding is never computed here (no logits), so how it is tied changes nothing.
  'tiedEmbeddings', 'finalSoftcap',
  'rotaryDims', 'rotaryBase', 'rotaryInterleaved', 'rotaryScaling', 'parallelResidual', 'scaleAttnWeights', 'scaleAttnByInverseLayerIdx',
  // Loaders convert every stored dtype to float32 before Params exist.
  'weightDtype',
  'norm', 'nKVHeads', 'gatedMlp', 'attnScale', 'slidingWindows', 'attnSoftcap', 'embedScale', 'postNorms',
  // Loader fields (llama.ts, gemma.ts, opt.ts): they decide which tensors the checkpoint holds, and the loader
  // turns them into Params (absent biases as zeros, absent gains as ones, Gemma's 1 + w folded into the
  // gains), which transformer.ts and this graph read alike.
  'attnBias', 'mlpBias', 'normOffset', 'bias', 'affine',
]);

/** The additive mask value transformer.ts uses. */
const MASKED = -1e9;

/** A host copy of a parameter's float32 values. */
export type HostWeights = (t: tf.Tensor) => Float32Array;

class Builder {
  readonly nodes: NodeSpec[] = [];
  readonly inits: TensorSpec[] = [];
  private n = 0;
  private consts = new Map<string, string>();

  op(opType: string, input: string[], attrs?: Record<string, AttrValue>, name?: string): string {
    const out = name ?? `t${this.n++}`;
    this.nodes.push({ opType, input, output: [out], attrs });
    return out;
  }

  ops(opType: string, input: string[], outputs: number, attrs?: Record<string, AttrValue>): string[] {
    const out = Array.from({ length: outputs }, () => `t${this.n++}`);
    this.nodes.push({ opType, input, output: out, attrs });
    return out;
  }

  weight(name: string, dims: number[], data: Float32Array): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`${name}: ${data.length} values for shape [${dims}]`);
    this.inits.push({ name, dims, dataType: DT.FLOAT, data });
    return name;
  }

  /** A constant initializer, one per distinct key: the same value asked for twice is one tensor. */
  private constant(key: string, dims: number[], dataType: number, data: () => ArrayBufferView): string {
    let name = this.consts.get(key);
    if (!name) {
      name = `c${this.consts.size}`;
      this.inits.push({ name, dims, dataType, data: data() });
      this.consts.set(key, name);
    }
    return name;
  }

  /** An int64 constant (shapes, axes, slice bounds). */
  ints(values: number[]): string {
    return this.constant(`i64:${values.join(',')}`, [values.length], DT.INT64, () => BigInt64Array.from(values.map(BigInt)));
  }

  /** An int64 scalar (0-d) constant. */
  int(v: number): string {
    return this.constant(`i64s:${v}`, [], DT.INT64, () => BigInt64Array.of(BigInt(v)));
  }

  /** A float32 scalar constant (rounded to float32 as tfjs rounds a JS number it multiplies by). */
  scalar(v: number): string {
    return this.constant(`f32:${Math.fround(v)}`, [], DT.FLOAT, () => Float32Array.of(v));
  }

  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }

  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
}

export interface GraphRequest {
  cfg: TransformerConfig;
  params: Params;
  /** Whether the architecture has learned positions (the hook_pos_embed point). */
  positional: boolean;
  names: HookName[];
  /** Reads a parameter's values to the host (tf.Tensor.dataSync, or a test's own). */
  host: HostWeights;
  producer: string;
  /** Outputs as float16 (Cast in the graph, round to nearest even: toHalf's bits) instead of float32. */
  float16?: boolean;
}

/** A per-token hook's shape past [batch, seq], as transformer.ts gives it: [heads, dHead] for q/k/v/z, else a width. */
export function hookRowShape(cfg: TransformerConfig, name: HookName): number[] {
  if (/attn\.hook_[qkvz]$/.test(name)) return [/hook_[kv]$/.test(name) ? (cfg.nKVHeads ?? cfg.nHeads) : cfg.nHeads, cfg.dHead];
  if (/mlp\.hook_(pre|pre_linear|post)$/.test(name)) return [cfg.dMlp];
  return [cfg.dModel];
}

/** Refuses a config this graph would compute differently from transformer.ts. */
export function checkGraphConfig(cfg: TransformerConfig): void {
  const unknown = Object.keys(cfg).filter((k) => !HONOURED.has(k) && (cfg as Record<string, unknown>)[k] !== undefined);
  if (unknown.length) {
    throw new UsageError(`the onnx engine does not implement config field(s) ${unknown.join(', ')} of ${cfg.architecture}; run with --engine tfjs`, 'engine');
  }
}

/**
 * The graph: inputs `ids` int64 [batch, seq] and `rows` int64 [N] (the flattened positions that are real
 * tokens, in order; all batch * seq of them for a batch without padding), outputs the asked-for hooks in
 * `names` order, float32 (or float16), each [N, ...] with transformer.ts's per-token shape (hook_pos_embed:
 * [1, seq, d]).
 */
export function transformerGraph(req: GraphRequest): ModelSpec {
  const { cfg, params: p, names, host } = req;
  checkGraphConfig(cfg);
  const valid = new Set(allHookNames(cfg.nLayers, req.positional, cfg));
  for (const n of names) {
    if (!valid.has(n)) throw new UsageError(`hook '${n}' is not a hook of this model`, 'hooks');
    if (/hook_(pattern|attn_scores)$/.test(n)) throw new UsageError(`the onnx engine keeps per-token hooks; '${n}' is [batch, head, query, key]: run with --engine tfjs`, 'hooks');
  }
  if (names.length === 0) throw new UsageError('the onnx engine needs at least one hook to output', 'hooks');
  const want = new Set(names);
  const g = new Builder();
  const { dModel: d, nHeads: H, dHead: dh } = cfg;
  const Hkv = cfg.nKVHeads ?? H;
  const eps = cfg.layerNormEps;
  const outputs = new Map<string, string>();
  const hook = (name: string, value: string): string => {
    if (want.has(name)) outputs.set(name, req.float16 ? g.op('Cast', [value], { to: DT.FLOAT16 }, name) : g.op('Identity', [value], undefined, name));
    return value;
  };
  const layerOf = (n: string) => (n.startsWith('blocks.') ? Number(n.split('.')[1]) : n.startsWith('ln_final') ? cfg.nLayers : -1);
  const lastLayer = Math.max(...names.map(layerOf));

  // Sequence length as a 1-element int64 tensor, for the mask and the slices of the position tables.
  const seqLen = g.op('Slice', [g.op('Shape', ['ids']), g.ints([1]), g.ints([2])]);
  const norm = (x: string, gain: string, bias: string | undefined): string => {
    if (cfg.norm === 'rmsnorm') return rms(x, gain);
    return g.op('LayerNormalization', [x, gain, bias!], { axis: -1, epsilon: { float: eps } });
  };
  // transformer.ts's rmsNorm: x * rsqrt(mean(x^2) + eps) * g.
  const rms = (x: string, gain: string): string => {
    const ms = g.op('ReduceMean', [g.mul(x, x), g.ints([-1])], { keepdims: 1 });
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.add(ms, g.scalar(eps))])]);
    return g.mul(g.mul(x, inv), gain);
  };
  const act = (x: string): string => {
    switch (cfg.activation) {
      case 'relu':
        return g.op('Relu', [x]);
      case 'gelu':
        return g.op('Gelu', [x]);
      case 'gelu_tanh':
        return g.op('Gelu', [x], { approximate: 'tanh' });
      case 'silu':
        return g.mul(x, g.op('Sigmoid', [x]));
    }
  };
  const softcap = (x: string, cap: number | undefined): string => (cap ? g.mul(g.op('Tanh', [g.op('Div', [x, g.scalar(cap)])]), g.scalar(cap)) : x);
  const linear = (x: string, w: string, b: string) => g.add(g.op('MatMul', [x, w]), b);

  const embed = g.weight('embed', [cfg.vocabSize, d], host(p.embed));
  const looked = g.op('Gather', [embed, 'ids'], { axis: 0 });
  // Rows: the real tokens only. `rows` (int64 [N]) indexes the flattened [batch * seq] positions that are not
  // padding; every position-wise step (norms, projections, the MLP: ~85% of the time) runs on those N rows,
  // and only attention goes back to the padded [batch, seq] layout (zeros where the padding was, which a
  // causal mask keeps out of every real row). Hooks come out as [N, ...].
  const flatRows = (x: string, width: number[]) => g.op('Gather', [g.op('Reshape', [x, g.ints([-1, ...width])]), 'rows'], { axis: 0 });
  const batchSeq = g.op('Shape', ['ids']);
  const paddedRows = g.op('ReduceProd', [batchSeq], { keepdims: 1 }); // [1]: batch * seq
  const toPadded = (x: string, width: number): string => {
    const zeros = g.op('ConstantOfShape', [g.op('Concat', [paddedRows, g.ints([width])], { axis: 0 })], { value: { name: 'z', dims: [1], dataType: DT.FLOAT, data: Float32Array.of(0) } });
    const scattered = g.op('ScatterND', [zeros, g.op('Unsqueeze', ['rows', g.ints([1])]), x]);
    return g.op('Reshape', [scattered, g.op('Concat', [batchSeq, g.ints([width])], { axis: 0 })]);
  };
  const emb = cfg.embedScale ? g.mul(looked, g.scalar(cfg.embedScale)) : looked;
  let resid = hook('hook_embed', flatRows(emb, [d]));
  if (p.pos) {
    const table = g.weight('pos', p.pos.shape, host(p.pos));
    const pos = g.op('Unsqueeze', [g.op('Slice', [table, g.ints([0]), seqLen, g.ints([0])]), g.ints([0])]);
    hook('hook_pos_embed', pos);
    resid = flatRows(g.add(emb, pos), [d]);
  }

  // Rotary tables for positions 0 .. context-1, sliced to the sequence: rotaryTables' own values.
  let rope: { cos: string; sin: string; R: string } | undefined;
  if (cfg.rotaryDims > 0) {
    const r = cfg.rotaryDims;
    const [cosT, sinT] = rotaryTables(cfg, 0, cfg.contextLength);
    const cut = (t: string) => g.op('Unsqueeze', [g.op('Slice', [t, g.ints([0]), seqLen, g.ints([0])]), g.ints([1])]); // [T, 1, r]
    const cos = cut(g.weight('rope_cos', [cfg.contextLength, r], cosT.dataSync() as Float32Array));
    const sin = cut(g.weight('rope_sin', [cfg.contextLength, r], sinT.dataSync() as Float32Array));
    cosT.dispose();
    sinT.dispose();
    // The rotation as a signed permutation: rotate-half (x1, x2) -> (-x2, x1); interleaved (x0, x1) -> (-x1, x0).
    const R = new Float32Array(r * r);
    for (let i = 0; i < r / 2; i++) {
      const [lo, hi] = cfg.rotaryInterleaved ? [2 * i, 2 * i + 1] : [i, i + r / 2];
      R[hi * r + lo] = -1; // out[lo] = -x[hi]
      R[lo * r + hi] = 1; // out[hi] = x[lo]
    }
    rope = { cos, sin, R: g.weight('rope_rotation', [r, r], R) };
  }
  const rotate = (x: string): string => {
    const r = cfg.rotaryDims;
    const part = g.op('Slice', [x, g.ints([0]), g.ints([r]), g.ints([3])]);
    const out = g.add(g.mul(part, rope!.cos), g.mul(g.op('MatMul', [part, rope!.R]), rope!.sin));
    if (r === dh) return out;
    return g.op('Concat', [out, g.op('Slice', [x, g.ints([r]), g.ints([dh]), g.ints([3])])], { axis: 3 });
  };

  // The additive causal mask [T, T] (and per window size, keys j <= i - w masked too), built for the run's T.
  const masks = new Map<number, string>();
  const maskFor = (w: number): string => {
    let m = masks.get(w);
    if (m) return m;
    const full = g.op('ConstantOfShape', [g.op('Concat', [seqLen, seqLen], { axis: 0 })], { value: { name: 'v', dims: [1], dataType: DT.FLOAT, data: Float32Array.of(MASKED) } });
    m = g.op('Trilu', [full, g.int(1)], { upper: 1 });
    if (w > 0) m = g.add(m, g.op('Trilu', [full, g.int(-w)], { upper: 0 }));
    masks.set(w, m);
    return m;
  };
  const baseScale = cfg.attnScale ?? (cfg.scaleAttnWeights === false ? 1 : 1 / Math.sqrt(dh));

  for (let l = 0; l <= Math.min(lastLayer, cfg.nLayers - 1); l++) {
    const L = p.layers[l]!;
    const h = (name: string) => `blocks.${l}.${name}`;
    const w = (name: string, t: LayerParams[keyof LayerParams]) => g.weight(`l${l}.${name}`, t!.shape, host(t!));
    const scale = cfg.scaleAttnByInverseLayerIdx ? baseScale / (l + 1) : baseScale;
    const residPre = hook(h('hook_resid_pre'), resid);
    const n1 = hook(h('ln1.hook_normalized'), norm(residPre, w('ln1g', L.ln1g), cfg.norm === 'rmsnorm' ? undefined : w('ln1b', L.ln1b)));
    const qkv = linear(n1, w('wqkv', L.wqkv), w('bqkv', L.bqkv));
    const [qf, kf, vf] = g.ops('Split', [toPadded(qkv, (H + 2 * Hkv) * dh), g.ints([H * dh, Hkv * dh, Hkv * dh])], 3, { axis: 2 });
    let q = g.op('Reshape', [qf!, g.ints([0, 0, H, dh])]);
    let k = g.op('Reshape', [kf!, g.ints([0, 0, Hkv, dh])]);
    const v = g.op('Reshape', [vf!, g.ints([0, 0, Hkv, dh])]);
    if (want.has(h('attn.hook_q'))) hook(h('attn.hook_q'), flatRows(q, [H, dh]));
    if (want.has(h('attn.hook_k'))) hook(h('attn.hook_k'), flatRows(k, [Hkv, dh]));
    if (want.has(h('attn.hook_v'))) hook(h('attn.hook_v'), flatRows(v, [Hkv, dh]));
    if (rope) {
      q = rotate(q);
      k = rotate(k);
    }
    const heads = (x: string, perm: number[]) => g.op('Transpose', [x], { perm });
    // Keys/values [B, Hkv, a, b] -> [B, H, a, b], each kv head repeated for its H / Hkv query heads.
    const repeat = (x: string, inner: number[]): string => {
      if (Hkv === H) return x;
      const e = g.op('Expand', [g.op('Unsqueeze', [x, g.ints([2])]), g.ints([1, 1, H / Hkv, 1, 1])]);
      return g.op('Reshape', [e, g.ints([0, H, ...inner])]);
    };
    const qh = heads(q, [0, 2, 1, 3]);
    const kT = repeat(heads(k, [0, 2, 3, 1]), [dh, -1]); // [B, H, dh, T]
    const vh = repeat(heads(v, [0, 2, 1, 3]), [-1, dh]);
    const raw = g.mul(g.op('MatMul', [qh, kT]), g.scalar(scale));
    const scores = g.add(softcap(raw, cfg.attnSoftcap), maskFor(cfg.slidingWindows?.[l] ?? 0));
    const pattern = g.op('Softmax', [scores], { axis: -1 });
    const z = flatRows(heads(g.op('MatMul', [pattern, vh]), [0, 2, 1, 3]), [H * dh]); // [N, H dh]
    if (want.has(h('attn.hook_z'))) hook(h('attn.hook_z'), g.op('Reshape', [z, g.ints([-1, H, dh])]));
    let attnOut = linear(z, w('wo', L.wo), w('bo', L.bo));
    if (cfg.postNorms) attnOut = hook(h('ln1_post.hook_normalized'), rms(attnOut, w('ln1postg', L.ln1postg)));
    attnOut = hook(h('hook_attn_out'), attnOut);
    const residMid = hook(h('hook_resid_mid'), g.add(residPre, attnOut));
    const mlpIn = cfg.parallelResidual ? residPre : residMid;
    const n2 = hook(h('ln2.hook_normalized'), norm(mlpIn, w('ln2g', L.ln2g), cfg.norm === 'rmsnorm' ? undefined : w('ln2b', L.ln2b)));
    let post: string;
    if (cfg.gatedMlp) {
      const pre = hook(h('mlp.hook_pre'), linear(n2, w('wgate', L.wgate), w('bgate', L.bgate)));
      const preLinear = hook(h('mlp.hook_pre_linear'), linear(n2, w('win', L.win), w('bin', L.bin)));
      post = hook(h('mlp.hook_post'), g.mul(act(pre), preLinear));
    } else {
      const pre = hook(h('mlp.hook_pre'), linear(n2, w('win', L.win), w('bin', L.bin)));
      post = hook(h('mlp.hook_post'), act(pre));
    }
    // Past the last hook asked for, the rest of the block is dead code: stop building.
    if (l === lastLayer && !names.some((n) => layerOf(n) === l && /hook_(mlp_out|resid_post)$|ln2_post/.test(n))) break;
    let mlpOut = linear(post, w('wout', L.wout), w('bout', L.bout));
    if (cfg.postNorms) mlpOut = hook(h('ln2_post.hook_normalized'), rms(mlpOut, w('ln2postg', L.ln2postg)));
    mlpOut = hook(h('hook_mlp_out'), mlpOut);
    resid = hook(h('hook_resid_post'), g.add(residMid, mlpOut));
  }
  if (want.has('ln_final.hook_normalized')) {
    const gain = g.weight('lnfg', p.lnfg.shape, host(p.lnfg));
    hook('ln_final.hook_normalized', norm(resid, gain, cfg.norm === 'rmsnorm' ? undefined : g.weight('lnfb', p.lnfb.shape, host(p.lnfb))));
  }
  const dims = (n: string): (number | string)[] => (n === 'hook_pos_embed' ? [1, 'seq', d] : ['rows', ...hookRowShape(cfg, n)]);
  return {
    nodes: g.nodes,
    initializers: g.inits,
    inputs: [{ name: 'ids', elemType: DT.INT64, dims: ['batch', 'seq'] }, { name: 'rows', elemType: DT.INT64, dims: ['rows'] }],
    outputs: names.map((n) => ({ name: outputs.get(n)!, elemType: req.float16 ? DT.FLOAT16 : DT.FLOAT, dims: dims(n) })),
    opset: 20,
    producer: req.producer,
  };
}
