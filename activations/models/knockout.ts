/**
 * Attention knockout: block chosen attention edges (query position -> key position) by setting their
 * pre-softmax scores to minus infinity, so the remaining weights of that row renormalise. This is the
 * intervention of Geva et al. 2023 ("Dissecting Recall of Factual Associations"), written as writes to
 * the `blocks.{l}.attn.hook_attn_scores` hook point (scores [batch, heads, query, key], causal mask
 * already added), so it works for every architecture the shared forward pass runs (GPT-2, GPT-NeoX).
 *
 * The reference (google-research dissecting_factual_predictions) passes a new HF attention_mask whose
 * blocked entries are finfo.min; adding finfo.min and taking minus infinity give the same softmax to
 * float precision, except when a whole row is blocked: there the reference falls back to a uniform row,
 * while here that is refused (a row with no edge left has no defined attention).
 */
import { tf } from '../../lab/core/backend.ts';
import { UsageError } from '../../lab/core/index.ts';
import type { HookFn, HookName } from '../types.ts';

/** One set of blocked edges: from each query position in `from` to each key position in `to`. */
export interface EdgeBlock {
  /** Layers (0-based) whose attention is cut. */
  layers: readonly number[];
  /** Absolute query positions (0-based, counting positions already in a KV cache). */
  from: readonly number[];
  /** Absolute key positions. */
  to: readonly number[];
  /** Heads to cut; all heads when absent. */
  heads?: readonly number[];
  /** Batch items the block applies to; all items when absent. */
  batch?: readonly number[];
}

/**
 * Hooks (for ForwardOptions.hooks) that block the given edges. Blocks may overlap; their union is cut.
 * Keys past a query (already causally masked) may be listed and are ignored.
 */
export function attentionKnockoutHooks(blocks: readonly EdgeBlock[], nLayers: number): Record<HookName, HookFn> {
  const byLayer = new Map<number, EdgeBlock[]>();
  for (const b of blocks) {
    for (const l of b.layers) {
      if (!Number.isInteger(l) || l < 0 || l >= nLayers) throw new UsageError(`knockout layer ${l} is outside 0..${nLayers - 1}`);
      const list = byLayer.get(l) ?? [];
      list.push(b);
      byLayer.set(l, list);
    }
  }
  const hooks: Record<HookName, HookFn> = {};
  for (const [l, list] of byLayer) {
    hooks[`blocks.${l}.attn.hook_attn_scores`] = (_name, scores) => {
      const [B, H, S, T] = scores.shape as [number, number, number, number];
      const mask = blockedMask(list, B, H, S, T, l);
      return tf.tidy(() => tf.where(tf.tensor4d(mask, [B, H, S, T], 'bool'), tf.fill([B, H, S, T], -Infinity), scores));
    };
  }
  return hooks;
}

/** 1 where an edge is blocked, laid out [B, H, S, T]; throws if a query row would lose every edge. */
function blockedMask(list: readonly EdgeBlock[], B: number, H: number, S: number, T: number, layer: number): Uint8Array {
  const offset = T - S;
  const mask = new Uint8Array(B * H * S * T);
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  for (const blk of list) {
    const items = blk.batch ?? all(B);
    const heads = blk.heads ?? all(H);
    for (const b of items) {
      if (b < 0 || b >= B) throw new UsageError(`knockout batch item ${b} is outside 0..${B - 1}`);
      for (const h of heads) {
        if (h < 0 || h >= H) throw new UsageError(`knockout head ${h} is outside 0..${H - 1}`);
        for (const q of blk.from) {
          const row = q - offset;
          if (row < 0 || row >= S) continue; // a query not computed in this pass
          const base = ((b * H + h) * S + row) * T;
          for (const k of blk.to) if (k >= 0 && k <= q && k < T) mask[base + k] = 1;
        }
      }
    }
  }
  // Every causally visible key of a row blocked: softmax of all minus infinity is NaN.
  for (let r = 0; r < B * H * S; r++) {
    const q = (r % S) + offset;
    let open = false;
    for (let k = 0; k <= q && !open; k++) open = mask[r * T + k] === 0;
    if (!open) {
      const b = Math.floor(r / (H * S));
      const h = Math.floor(r / S) % H;
      throw new UsageError(`knockout blocks every key of query position ${q} (layer ${layer}, head ${h}, batch item ${b}); leave at least one edge`);
    }
  }
  return mask;
}

/**
 * The layers a window of K centred on `layer` covers, as the reference computes them:
 * range(max(0, l - K // 2), min(L, l - (-K // 2))), i.e. l - floor(K/2) .. l + ceil(K/2) - 1, clipped.
 * For odd K that is l - (K-1)/2 .. l + (K-1)/2; for even K one more layer below than above.
 */
export function knockoutWindow(layer: number, k: number, nLayers: number): number[] {
  const lo = Math.max(0, layer - Math.floor(k / 2));
  const hi = Math.min(nLayers, layer + Math.ceil(k / 2));
  const out: number[] = [];
  for (let l = lo; l < hi; l++) out.push(l);
  return out;
}
