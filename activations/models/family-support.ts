/**
 * What the nn.Linear families (Llama, Mistral, Qwen2, Gemma, GPT-Neo, GPT-J, OPT) share when read
 * into the canonical layout: refusing config.json fields the lab does not know, the rotary settings
 * under their three spellings, per-layer attention types, and weights transposed from [out, in] with
 * separate q, k, v projections fused into the forward's q | k | v columns.
 *
 * Refusing unknown fields: a family's parser lists the keys it honours; any other key is an error
 * naming it, unless it is one of the generic PretrainedConfig keys that cannot change a forward pass
 * (token ids, dropout rates, generation defaults, bookkeeping). A key the lab has never seen might
 * be a new variant (a rope type, a quantization_config, a new norm), so silence would be a guess.
 */
import { tf } from '../../lab/core/backend.ts';
import { InputError } from '../../lab/core/index.ts';
import type { CheckpointReader } from './checkpoint.ts';
import { isInertField } from './config-checks.ts';
import type { HfConfigReader, RotaryScaling, TransformerConfig } from './config.ts';
import type { Params } from './transformer.ts';

/**
 * Keys the newer families' configs carry that never change the forward, beyond the shared list every
 * architecture accepts (config-checks.ts isInertField: bookkeeping, token ids, generation defaults, and
 * pruned_heads / is_encoder_decoder / cross-attention only at their defaults).
 */
const HARMLESS = new Set([
  'init_std', 'layerdrop', 'cache_implementation',
  // Llama's tensor-parallel slicing: the same sums in another order.
  'pretraining_tp',
]);
/** Dropout rates, token ids and GPT-2-style summary heads (a classification head the causal LM never runs). */
const HARMLESS_PATTERN = /(^|_)(dropout|pdrop)$|_token_ids?$|^summary_/;

/** Refuses any key of config.json that is neither honoured by the family (`known`) nor harmless. */
export function refuseUnknownFields(r: HfConfigReader, known: readonly string[]): void {
  const k = new Set(known);
  for (const key of Object.keys(r.hf)) {
    if (isInertField(key, r.hf[key])) continue; // the shared check (architecture.ts parseWith) accepts it too
    if (k.has(key) || HARMLESS.has(key) || HARMLESS_PATTERN.test(key)) {
      // Vetted by this family's list: mark it read, so the shared allow-list check agrees.
      r.readKeys.add(key);
      continue;
    }
    throw new InputError(
      `${r.path}: config field "${key}" (${JSON.stringify(r.hf[key])?.slice(0, 80)}) is not one the lab knows for model_type ${r.hf.model_type}; ` +
        'it could change the forward pass, so the model is refused rather than run without it',
      r.path,
    );
  }
}

/** A field that must hold one value (the only one the lab implements) when present. */
export function requireValue(r: HfConfigReader, key: string, allowed: unknown, why: string): void {
  const v = r.hf[key];
  if (v === undefined || v === null || v === allowed) return;
  throw new InputError(`${r.path}: "${key}" is ${JSON.stringify(v)}; the lab implements only ${JSON.stringify(allowed)} (${why})`, r.path);
}

/** A boolean field (default when absent or null). */
export function bool(r: HfConfigReader, key: string, fallback: boolean): boolean {
  const v = r.hf[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new InputError(`${r.path}: "${key}" must be true or false, got ${JSON.stringify(v)}`, r.path);
  return v;
}

/**
 * The rotary base and scaling, from rope_theta + rope_scaling (transformers 4.x) or rope_parameters
 * (5.x: rope_theta and rope_type together). Implemented: default, linear, llama3; anything else
 * (dynamic, yarn, longrope, su, mrope sections) is refused naming the field, since it changes the numbers.
 */
export function readRope(r: HfConfigReader, defaultBase: number): { rotaryBase: number; rotaryScaling?: RotaryScaling } {
  const { hf, path } = r;
  const params = hf.rope_parameters as Record<string, unknown> | null | undefined;
  const field = params != null ? 'rope_parameters' : 'rope_scaling';
  const sc = (params ?? hf.rope_scaling) as Record<string, unknown> | null | undefined;
  if (sc != null && (typeof sc !== 'object' || Array.isArray(sc))) throw new InputError(`${path}: "${field}" must be an object, got ${JSON.stringify(sc)}`, path);
  const theta = (params?.rope_theta ?? hf.rope_theta ?? defaultBase) as unknown;
  if (typeof theta !== 'number' || !(theta > 0)) throw new InputError(`${path}: rope_theta must be a positive number, got ${JSON.stringify(theta)}`, path);
  if (sc == null) return { rotaryBase: theta };
  const type = sc.rope_type ?? sc.type ?? 'default';
  const num = (key: string, fallback?: number): number => {
    const v = sc[key] ?? fallback;
    if (typeof v !== 'number' || !(v > 0)) throw new InputError(`${path}: "${field}.${key}" must be a positive number, got ${JSON.stringify(sc[key])}`, path);
    return v;
  };
  const known = new Set(['rope_type', 'type', 'rope_theta', 'factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings', 'partial_rotary_factor']);
  for (const k of Object.keys(sc)) if (!known.has(k)) throw new InputError(`${path}: "${field}.${k}" is not implemented (rope type ${JSON.stringify(type)})`, path);
  if (sc.partial_rotary_factor !== undefined && sc.partial_rotary_factor !== 1) {
    throw new InputError(`${path}: "${field}.partial_rotary_factor" ${JSON.stringify(sc.partial_rotary_factor)} is not implemented for this family`, path);
  }
  if (type === 'default') return { rotaryBase: theta };
  if (type === 'linear') return { rotaryBase: theta, rotaryScaling: { type: 'linear', factor: num('factor') } };
  if (type === 'llama3') {
    const s: RotaryScaling = {
      type: 'llama3', factor: num('factor'), lowFreqFactor: num('low_freq_factor'), highFreqFactor: num('high_freq_factor'),
      originalMaxPositions: num('original_max_position_embeddings'),
    };
    if (!(s.highFreqFactor > s.lowFreqFactor)) throw new InputError(`${path}: "${field}.high_freq_factor" must exceed low_freq_factor`, path);
    return { rotaryBase: theta, rotaryScaling: s };
  }
  throw new InputError(`${path}: "${field}" rope type ${JSON.stringify(type)} is not implemented (the lab has default, linear, llama3)`, path);
}

/**
 * Per-layer sliding windows (0 = full attention) from `layer_types` when config.json has it
 * (newer transformers write it out: 'full_attention' / 'sliding_attention'), else from `fallback`.
 */
export function slidingWindows(r: HfConfigReader, nLayers: number, window: number, fallback: (layer: number) => boolean): number[] | undefined {
  const types = r.hf.layer_types;
  let sliding: boolean[];
  if (types != null) {
    if (!Array.isArray(types) || types.length !== nLayers) {
      throw new InputError(`${r.path}: "layer_types" must list ${nLayers} layer types, got ${JSON.stringify(types)?.slice(0, 80)}`, r.path);
    }
    sliding = types.map((t, l) => {
      if (t !== 'full_attention' && t !== 'sliding_attention') {
        throw new InputError(`${r.path}: "layer_types"[${l}] is ${JSON.stringify(t)}; the lab implements full_attention and sliding_attention`, r.path);
      }
      return t === 'sliding_attention';
    });
  } else {
    sliding = Array.from({ length: nLayers }, (_, l) => fallback(l));
  }
  if (!sliding.some((s) => s)) return undefined;
  if (!(Number.isInteger(window) && window > 0)) throw new InputError(`${r.path}: "sliding_window" must be a positive integer for sliding layers, got ${JSON.stringify(r.hf.sliding_window)}`, r.path);
  return sliding.map((s) => (s ? window : 0));
}

/** Checks every rotary / grouped-query family shares (the shared ones live in config-checks.ts). */
export function checkAttentionShape(cfg: TransformerConfig, path: string): TransformerConfig {
  const bad = (what: string) => new InputError(`${path}: ${what}`, path);
  const kv = cfg.nKVHeads ?? cfg.nHeads;
  if (cfg.nHeads % kv !== 0) throw bad(`num_key_value_heads ${kv} must divide num_attention_heads ${cfg.nHeads}`);
  if (cfg.rotaryDims % 2 !== 0 || cfg.rotaryDims > cfg.dHead) throw bad(`rotary dims ${cfg.rotaryDims} must be even and at most the head size ${cfg.dHead}`);
  return cfg;
}

/** [out, in] row-major -> [in, out] row-major. */
export function transposed(w: Float32Array, out: number, inp: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w[o * inp + i]!;
  return t;
}

/**
 * Reads weights of one checkpoint by stored name, tracking every tensor made so `dispose` frees them
 * (once each: a tied unembedding or GPT-J's shared norm is the same tensor twice).
 */
export class WeightReader {
  private readonly made: tf.Tensor[] = [];
  constructor(private readonly reader: CheckpointReader, private readonly dtype: string | undefined) {}

  has(name: string): boolean {
    return this.reader.has(name);
  }

  raw(name: string, shape: number[]): Float32Array {
    return this.reader.read(name, shape, this.dtype);
  }

  keep<T extends tf.Tensor>(t: T): T {
    this.made.push(t);
    return t;
  }

  vec(name: string, n: number, add = 0): tf.Tensor1D {
    const v = this.raw(name, [n]);
    return this.keep(tf.tensor1d(add ? v.map((x) => x + add) : v));
  }

  zeros(n: number): tf.Tensor1D {
    return this.keep(tf.zeros([n]));
  }

  ones(n: number): tf.Tensor1D {
    return this.keep(tf.ones([n]));
  }

  /** An nn.Linear weight [out, in] as the forward's [in, out]. */
  linear(name: string, out: number, inp: number): tf.Tensor2D {
    return this.keep(tf.tensor2d(transposed(this.raw(name, [out, inp]), out, inp), [inp, out]));
  }

  matrix(name: string, rows: number, cols: number): tf.Tensor2D {
    return this.keep(tf.tensor2d(this.raw(name, [rows, cols]), [rows, cols]));
  }

  /** Separate q [H dh, d], k and v [Hkv dh, d] projections fused as the forward's [d, (H + 2 Hkv) dh] q | k | v columns. */
  qkv(names: [string, string, string], d: number, qRows: number, kvRows: number): tf.Tensor2D {
    const rows = [qRows, kvRows, kvRows];
    const total = qRows + 2 * kvRows;
    const out = new Float32Array(d * total);
    let col = 0;
    names.forEach((n, part) => {
      const w = this.raw(n, [rows[part]!, d]);
      for (let o = 0; o < rows[part]!; o++, col++) for (let i = 0; i < d; i++) out[i * total + col] = w[o * d + i]!;
    });
    return this.keep(tf.tensor2d(out, [d, total]));
  }

  /** q, k, v biases concatenated; names[i] undefined means that projection has no bias (zeros). */
  qkvBias(names: [string | undefined, string | undefined, string | undefined], qRows: number, kvRows: number): tf.Tensor1D {
    const rows = [qRows, kvRows, kvRows];
    const parts = names.map((n, i) => (n ? this.raw(n, [rows[i]!]) : new Float32Array(rows[i]!)));
    const out = new Float32Array(qRows + 2 * kvRows);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return this.keep(tf.tensor1d(out));
  }

  done(params: Params): { params: Params; dispose: () => void } {
    return { params, dispose: () => tf.dispose([...new Set(this.made)]) };
  }
}
