/**
 * Held-out cross-entropy of a model over token streams: every scored position exactly once, in windows
 * of the model's context (lab/lm/windows.ts), in nats per token and bits per byte.
 */
import type { Gpt2 } from '../../activations/index.ts';
import type { LanguageModel } from '../../activations/index.ts';
import { tf } from '../core/backend.ts';
import { crossEntropySum, headLogits } from './head.ts';
import { finalHidden } from './hidden.ts';
import { gatherWindows, tilingWindows, type FlatStream, type Window } from './windows.ts';

export interface LossSum {
  nats: number;
  targets: number;
}

export interface LossReport {
  nats_per_token: number;
  bits_per_byte: number;
  targets: number;
  bytes: number;
}

export function lossReport(s: LossSum, bytes: number): LossReport {
  return { nats_per_token: s.nats / s.targets, bits_per_byte: s.nats / Math.LN2 / bytes, targets: s.targets, bytes };
}

/** Splits windows into batches of at most `batch` windows of one length. */
function batches(ws: readonly Window[], batch: number): Window[][] {
  const byLen = new Map<number, Window[]>();
  for (const w of ws) byLen.set(w.len, [...(byLen.get(w.len) ?? []), w]);
  const out: Window[][] = [];
  for (const group of byLen.values()) for (let i = 0; i < group.length; i += batch) out.push(group.slice(i, i + batch));
  return out;
}

/**
 * Scores `windows` (default: all of the stream) with `rowLogits`, which maps inputs [rows, len] to the
 * logits of the scored rows only.
 */
function score(
  f: FlatStream,
  context: number,
  batch: number,
  windows: readonly Window[] | undefined,
  rowLogits: (ids: tf.Tensor2D, rows: tf.Tensor1D) => tf.Tensor2D,
): LossSum {
  let nats = 0;
  let targets = 0;
  for (const b of batches(windows ?? tilingWindows(f.ids.length, context), batch)) {
    const { inputs, targets: tg, scored } = gatherWindows(f, b);
    const rows: number[] = [];
    const kept: number[] = [];
    scored.forEach((s, i) => {
      if (s) {
        rows.push(i);
        kept.push(tg[i]!);
      }
    });
    if (rows.length === 0) continue;
    const logits = tf.tidy(() => rowLogits(tf.tensor2d(inputs, [b.length, b[0]!.len], 'int32'), tf.tensor1d(rows, 'int32')));
    nats += crossEntropySum(logits, Int32Array.from(kept));
    logits.dispose();
    targets += rows.length;
  }
  return { nats, targets };
}

/** Loss of a lab GPT-2 under training (tied head, lab/lm/head.ts). */
export function evaluateGpt2(model: Gpt2, f: FlatStream, opts: { batch?: number; windows?: readonly Window[] } = {}): LossSum {
  const d = model.config.dModel;
  const wte = model.variables.get('transformer.wte.weight')! as tf.Tensor as tf.Tensor2D;
  return score(f, model.config.contextLength, opts.batch ?? 8, opts.windows, (ids, rows) => {
    const h = tf.reshape(finalHidden(model, ids), [-1, d]) as tf.Tensor2D;
    return headLogits(tf.gather(h, rows), wte);
  });
}

/** Loss of any LanguageModel through its own forward pass (e.g. a checkpoint loaded from disk). */
export function evaluateLanguageModel(lm: LanguageModel, f: FlatStream, opts: { batch?: number; windows?: readonly Window[] } = {}): LossSum {
  return score(f, lm.config.contextLength, opts.batch ?? 8, opts.windows, (ids, rows) => {
    const { logits, cache } = lm.forward(ids);
    for (const t of cache.values()) t.dispose();
    return tf.gather(tf.reshape(logits, [-1, logits.shape[2]]), rows) as tf.Tensor2D;
  });
}
