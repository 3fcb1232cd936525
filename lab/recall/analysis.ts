/**
 * The three analyses of Geva et al. 2023 on one query, written from the reference notebook
 * (google-research dissecting_factual_predictions, factual_associations_dissection.ipynb):
 *
 * - Attention knockout: for each layer l and block set (subject S, non_subject N = every other position
 *   before T, last {T}) the edges from T to the set are cut in every head of the window of K layers
 *   around l (activations' attentionKnockoutHooks; all 3L variants run as one batch). delta_p_pct =
 *   100 (p_blocked - p_base) / p_base of the target token at T.
 * - Subject enrichment: the residual stream after block l at s_first, s_last, the token after the
 *   subject and T, projected through W_U (raw, as the reference; and through the final layer norm, the
 *   logit lens). Attributes rate = percent of the top tokens that are tokens of the subject's attributes,
 *   where the top tokens are the reference's: the 500 highest, minus stop-words (NLTK English) and tokens
 *   of 2 or fewer characters after trimming, then the first m (50).
 *   Also at one representation layer with the MLP or the attention sublayers of a window of earlier
 *   layers knocked out (the MLP's hidden activations set to 0 and the attention weights set to 0, so each
 *   knocked sublayer adds only its output bias, as the reference's MLP knockout does).
 * - Attribute extraction: the attention and MLP sublayer outputs at T (bias included) projected through
 *   W_U without the final layer norm; an event when the target is the top-1 token.
 */
import type { tf as TF } from '../core/backend.ts';
import { tf } from '../core/backend.ts';
import { attentionKnockoutHooks, knockoutWindow, type EdgeBlock, type HookFn, type TransformerModel } from '../../activations/index.ts';

export const BLOCKS = ['subject', 'non_subject', 'last'] as const;
export type BlockSet = (typeof BLOCKS)[number];
export const POSITIONS = ['subject_first', 'subject_last', 'subject_next', 'last'] as const;
export type Position = (typeof POSITIONS)[number];
export const LENSES = ['raw', 'ln_final'] as const;
export type Lens = (typeof LENSES)[number];
export type Sublayer = 'attn' | 'mlp';

/** The reference's candidate pool before cleaning, and m. */
export const TOP_POOL = 500;
export const TOP_M = 50;

export interface QueryInput {
  ids: number[];
  /** Subject tokens [first, end). */
  first: number;
  end: number;
  /** Target token; absent: the model's own top-1 at T. */
  target?: number;
  /** The attribute's token, for accuracy (when known). */
  attributeToken?: number;
  /** Token ids of the subject's attributes (enrichment); absent: no enrichment for this query. */
  attributeTokens?: Set<number>;
}

export interface AnalysisOptions {
  window: number;
  /** Layer whose resid_post the sublayer-knockout enrichment reads. */
  reprLayer: number;
  /** 1 where a token may count among the top tokens (not a stop-word, more than 2 characters). */
  clean: Uint8Array;
  m?: number;
}

export interface QueryAnalysis {
  target: number;
  pBase: number;
  top1: number;
  knockout: { layer: number; block: BlockSet; p_blocked: number; delta_p_pct: number }[];
  enrichment: { layer: number; position: Position; lens: Lens; attributes_rate: number }[];
  enrichmentKnockout: { start_layer: number; layers: number[]; sublayer: Sublayer | 'none'; attributes_rate: number }[];
  extraction: { layer: number; sublayer: Sublayer; hit: boolean }[];
}

function softmaxAt(logits: Float32Array, row: number, V: number, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[row * V + i]!);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += Math.exp(logits[row * V + i]! - max);
  return Math.exp(logits[row * V + id]! - max) / sum;
}

function argmaxRow(x: Float32Array, row: number, V: number): number {
  let best = 0;
  for (let i = 1; i < V; i++) if (x[row * V + i]! > x[row * V + best]!) best = i;
  return best;
}

/** Attributes rate (percent) of each row of scores [n, V]: the reference's cleaned top-m. */
function attributesRates(model: TransformerModel, vecs: TF.Tensor2D, finalNorm: boolean, attrs: Set<number>, clean: Uint8Array, m: number): number[] {
  const V = model.config.vocabSize;
  const k = Math.min(TOP_POOL, V);
  const { indices } = tf.tidy(() => {
    const scores = model.projectToVocab(vecs, finalNorm);
    const t = tf.topk(scores, k);
    tf.keep(t.indices);
    return t;
  });
  const idx = indices.dataSync() as Int32Array;
  indices.dispose();
  const n = vecs.shape[0];
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    let taken = 0;
    let hits = 0;
    for (let j = 0; j < k && taken < m; j++) {
      const id = idx[r * k + j]!;
      if (!clean[id]) continue;
      taken++;
      if (attrs.has(id)) hits++;
    }
    out.push(taken === 0 ? 0 : (100 * hits) / taken);
  }
  return out;
}

/** A hook that multiplies the activation of the listed batch items by 0 (the rest by 1). */
function zeroItems(items: Set<number>): HookFn {
  return (_name, v) => {
    const B = v.shape[0]!;
    const keep = new Float32Array(B).map((_, b) => (items.has(b) ? 0 : 1));
    return tf.tidy(() => tf.mul(v, tf.tensor(keep, [B, ...v.shape.slice(1).map(() => 1)])));
  };
}

export function analyseQuery(model: TransformerModel, q: QueryInput, opts: AnalysisOptions): QueryAnalysis {
  const L = model.config.nLayers;
  const d = model.config.dModel;
  const V = model.config.vocabSize;
  const S = q.ids.length;
  const T = S - 1;
  const m = opts.m ?? TOP_M;
  const names: string[] = [];
  for (let l = 0; l < L; l++) names.push(`blocks.${l}.hook_resid_post`, `blocks.${l}.hook_attn_out`, `blocks.${l}.hook_mlp_out`);

  // The clean run: target, its probability, and the cached sublayer outputs and residuals.
  const ids1 = tf.tensor2d(q.ids, [1, S], 'int32');
  const base = model.forward(ids1, { names });
  ids1.dispose();
  const baseLogits = tf.tidy(() => tf.reshape(tf.slice(base.logits, [0, T, 0], [1, 1, V]), [V]).dataSync() as Float32Array);
  base.logits.dispose();
  const top1 = argmaxRow(baseLogits, 0, V);
  const target = q.target ?? top1;
  const pBase = softmaxAt(baseLogits, 0, V, target);
  const at = (name: string, pos: number) => tf.tidy(() => tf.reshape(tf.slice(base.cache.get(name)!, [0, pos, 0], [1, 1, d]), [1, d]) as TF.Tensor2D);

  try {
    // Knockout: item b = block * L + layer, all in one batch.
    const subject = Array.from({ length: q.end - q.first }, (_, i) => q.first + i);
    const sets: Record<BlockSet, number[]> = {
      subject,
      non_subject: Array.from({ length: T }, (_, i) => i).filter((i) => i < q.first || i >= q.end),
      last: [T],
    };
    const items: { block: BlockSet; layer: number }[] = [];
    const edgeBlocks: EdgeBlock[] = [];
    for (const block of BLOCKS) {
      if (sets[block].length === 0) continue; // e.g. no non-subject position before T
      for (let l = 0; l < L; l++) {
        edgeBlocks.push({ layers: knockoutWindow(l, opts.window, L), from: [T], to: sets[block], batch: [items.length] });
        items.push({ block, layer: l });
      }
    }
    const knockout: QueryAnalysis['knockout'] = [];
    if (items.length > 0) {
      const idsB = tf.tensor2d(items.flatMap(() => q.ids), [items.length, S], 'int32');
      const r = model.forward(idsB, { hooks: attentionKnockoutHooks(edgeBlocks, L) });
      idsB.dispose();
      const lastRows = tf.tidy(() => tf.slice(r.logits, [0, T, 0], [items.length, 1, V]).dataSync() as Float32Array);
      tf.dispose([r.logits, ...r.cache.values()]);
      items.forEach((it, i) => {
        const p = softmaxAt(lastRows, i, V, target);
        knockout.push({ layer: it.layer, block: it.block, p_blocked: p, delta_p_pct: (100 * (p - pBase)) / pBase });
      });
    }

    // Extraction: attn and MLP outputs at T, raw projection, top-1 against the target.
    const extraction: QueryAnalysis['extraction'] = [];
    {
      const rows = tf.tidy(() => tf.concat(Array.from({ length: L }, (_, l) => [at(`blocks.${l}.hook_attn_out`, T), at(`blocks.${l}.hook_mlp_out`, T)]).flat(), 0) as TF.Tensor2D);
      const proj = model.projectToVocab(rows);
      const pv = proj.dataSync() as Float32Array;
      tf.dispose([rows, proj]);
      for (let l = 0; l < L; l++) {
        extraction.push({ layer: l, sublayer: 'attn', hit: argmaxRow(pv, 2 * l, V) === target });
        extraction.push({ layer: l, sublayer: 'mlp', hit: argmaxRow(pv, 2 * l + 1, V) === target });
      }
    }

    const enrichment: QueryAnalysis['enrichment'] = [];
    const enrichmentKnockout: QueryAnalysis['enrichmentKnockout'] = [];
    if (q.attributeTokens) {
      const positions: [Position, number][] = [['subject_first', q.first], ['subject_last', q.end - 1], ['last', T]];
      if (q.end <= T) positions.splice(2, 0, ['subject_next', q.end]);
      const keys: [number, Position][] = [];
      const vecs: TF.Tensor2D[] = [];
      for (let l = 0; l < L; l++) for (const [name, pos] of positions) {
        keys.push([l, name]);
        vecs.push(at(`blocks.${l}.hook_resid_post`, pos));
      }
      const mat = tf.concat(vecs, 0) as TF.Tensor2D;
      tf.dispose(vecs);
      for (const lens of LENSES) {
        const rates = attributesRates(model, mat, lens === 'ln_final', q.attributeTokens, opts.clean, m);
        keys.forEach(([layer, position], i) => enrichment.push({ layer, position, lens, attributes_rate: rates[i]! }));
      }
      mat.dispose();
      enrichmentKnockout.push(...sublayerKnockout(model, q, opts, m, enrichment));
    }
    return { target, pBase, top1, knockout, enrichment, enrichmentKnockout, extraction };
  } finally {
    tf.dispose([...base.cache.values()]);
  }
}

/**
 * Enrichment at s_last after block `reprLayer` with the MLP (or attention) sublayers of layers
 * start .. min(start + K, reprLayer) - 1 knocked out, for each start < reprLayer; one batch of 2 per start.
 */
function sublayerKnockout(model: TransformerModel, q: QueryInput, opts: AnalysisOptions, m: number, enrichment: QueryAnalysis['enrichment']): QueryAnalysis['enrichmentKnockout'] {
  const R = opts.reprLayer;
  const out: QueryAnalysis['enrichmentKnockout'] = [];
  if (R < 1) return out;
  const none = enrichment.find((e) => e.layer === R && e.position === 'subject_last' && e.lens === 'raw')!.attributes_rate;
  const S = q.ids.length;
  const d = model.config.dModel;
  const variants: { start: number; layers: number[]; sublayer: Sublayer }[] = [];
  for (let start = 0; start < R; start++) {
    const layers: number[] = [];
    for (let l = start; l < Math.min(start + opts.window, R); l++) layers.push(l);
    for (const sublayer of ['mlp', 'attn'] as const) variants.push({ start, layers, sublayer });
  }
  const hooks: Record<string, HookFn> = {};
  for (let l = 0; l < R; l++) {
    const mlp = new Set(variants.flatMap((v, i) => (v.sublayer === 'mlp' && v.layers.includes(l) ? [i] : [])));
    const attn = new Set(variants.flatMap((v, i) => (v.sublayer === 'attn' && v.layers.includes(l) ? [i] : [])));
    if (mlp.size) hooks[`blocks.${l}.mlp.hook_post`] = zeroItems(mlp);
    if (attn.size) hooks[`blocks.${l}.attn.hook_pattern`] = zeroItems(attn);
  }
  const name = `blocks.${R}.hook_resid_post`;
  const ids = tf.tensor2d(variants.flatMap(() => q.ids), [variants.length, S], 'int32');
  const r = model.forward(ids, { hooks, names: [name], logits: false });
  ids.dispose();
  const vecs = tf.tidy(() => tf.reshape(tf.slice(r.cache.get(name)!, [0, q.end - 1, 0], [variants.length, 1, d]), [variants.length, d]) as TF.Tensor2D);
  tf.dispose([r.logits, ...r.cache.values()]);
  const rates = attributesRates(model, vecs, false, q.attributeTokens!, opts.clean, m);
  vecs.dispose();
  variants.forEach((v, i) => out.push({ start_layer: v.start, layers: v.layers, sublayer: v.sublayer, attributes_rate: rates[i]! }));
  for (let start = 0; start < R; start++) out.push({ start_layer: start, layers: [], sublayer: 'none', attributes_rate: none });
  return out;
}
