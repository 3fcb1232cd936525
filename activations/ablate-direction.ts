/**
 * Removing a direction instead of neurons: the mean next-token loss over a text when the activations at
 * one hook lose their component along a unit vector u, through the model's own hook writes.
 *
 *   zero: v' = v - (v . u) u                 (the component along u set to 0)
 *   mean: v' = v - (v . u - mu . u) u        (set to its mean over the text, mu = the hook's mean vector)
 *
 * mu is measured on the unablated pass over the same windows, BOS positions excluded, exactly as
 * `ablateNeurons`' mean mode (activations/ablate.ts shares the windows, the loss and the units). With
 * u a basis vector e_n, mean mode is the mean-ablation of neuron n. A hook with a [head, d_head] shape
 * per token is flattened to one vector per token first, the layout the activation store keeps.
 *
 * `hookBaseline` measures the unablated loss and mu once, so many directions (lab capacity: one per
 * feature) cost one forward pass each.
 */
import { tf } from '../lab/core/backend.ts';
import { UsageError } from '../lab/core/index.ts';
import { ablationText, batchNll, type AblationMode } from './ablate.ts';
import type { HookName, LanguageModel } from './types.ts';

export interface HookBaseline {
  hook: HookName;
  /** Values per token at the hook (flattened). */
  width: number;
  /** Mean next-token loss in nats per predicted token, unablated. */
  base_loss: number;
  /** The hook's mean vector over the text's tokens (BOS excluded). */
  mean: Float64Array;
  bytes: number;
  tokens: number;
  predicted: number;
  windows: number;
  /** The window length it was measured with (a later ablation must use the same). */
  window: number | undefined;
}

export interface DirectionOptions {
  hook: string;
  /** Any non-zero vector of the hook's width; it is normalised to unit length. */
  direction: ArrayLike<number>;
  mode?: AblationMode;
  /** Tokens per forward window (default: the model's context length). */
  window?: number;
  /** From `hookBaseline` on the same text, hook and window: skips the unablated pass. */
  baseline?: HookBaseline;
}

export interface DirectionResult {
  hook: HookName;
  mode: AblationMode;
  bytes: number;
  tokens: number;
  predicted: number;
  windows: number;
  base_loss: number;
  ablated_loss: number;
  delta_loss: number;
  delta_bits_per_byte: number;
  /** Length of the direction as given (before normalising). */
  norm: number;
  /** mu . u, the value the component is set to in mean mode (0 in zero mode). */
  fill: number;
}

/** One unablated pass: the loss and the hook's mean vector over the text's tokens. */
export function hookBaseline(model: LanguageModel, text: string, opts: { hook: string; window?: number }): HookBaseline {
  const at = ablationText(model, text, opts.hook, opts.window);
  let width = -1;
  let sum: Float64Array | undefined;
  let baseSum = 0, textTokens = 0;
  for (const wins of at.groups) {
    const S = wins[0]!.length;
    const x = tf.tensor2d(wins, [wins.length, S], 'int32');
    const { logits, cache } = model.forward(x, { names: [at.hook] });
    try {
      const h = cache.get(at.hook);
      if (!h) throw new UsageError(`--hook: the model did not produce '${at.hook}'`, 'hook');
      width = h.size / (wins.length * S);
      sum ??= new Float64Array(width);
      const hv = h.dataSync() as Float32Array;
      for (let b = 0; b < wins.length; b++) {
        for (let p = at.hasBos ? 1 : 0; p < S; p++) {
          const o = (b * S + p) * width;
          for (let j = 0; j < width; j++) sum[j]! += hv[o + j]!;
          textTokens++;
        }
      }
      baseSum += batchNll(logits, wins);
    } finally {
      tf.dispose([x, logits, ...cache.values()]);
    }
  }
  const mean = sum!.map((s) => s / Math.max(1, textTokens));
  return {
    hook: at.hook, width, base_loss: baseSum / at.predicted, mean, bytes: at.bytes, tokens: at.ids.length,
    predicted: at.predicted, windows: at.windows.length, window: opts.window,
  };
}

/** Base and direction-ablated loss over `text` (see the header). The caller disposes the model. */
export function ablateDirection(model: LanguageModel, text: string, opts: DirectionOptions): DirectionResult {
  const mode = opts.mode ?? 'mean';
  const base = opts.baseline ?? hookBaseline(model, text, { hook: opts.hook, window: opts.window });
  const at = ablationText(model, text, opts.hook, opts.window);
  if (base.hook !== at.hook || base.predicted !== at.predicted || base.window !== opts.window) {
    throw new Error(`ablateDirection: the baseline was measured on ${base.hook} over ${base.predicted} tokens, not this text and hook`);
  }
  const W = base.width;
  if (opts.direction.length !== W) {
    throw new UsageError(`direction has ${opts.direction.length} values, ${at.hook} has ${W} per token`, 'direction');
  }
  let n2 = 0;
  for (let j = 0; j < W; j++) n2 += opts.direction[j]! ** 2;
  const norm = Math.sqrt(n2);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new UsageError(`direction at ${at.hook} is zero or not finite: nothing to remove`, 'direction');
  const u = new Float32Array(W);
  let fill = 0;
  for (let j = 0; j < W; j++) {
    u[j] = opts.direction[j]! / norm;
    fill += base.mean[j]! * (opts.direction[j]! / norm);
  }
  if (mode === 'zero') fill = 0;

  let ablSum = 0;
  for (const wins of at.groups) {
    const S = wins[0]!.length;
    const x = tf.tensor2d(wins, [wins.length, S], 'int32');
    const write = {
      [at.hook]: (_n: HookName, v: tf.Tensor) => tf.tidy(() => {
        // Broadcast products and a sum, not matMul: tfjs-wasm's matMul gave wrong values for the
        // [N, W] x [W, 1] and [N, 1] x [1, W] shapes here (measured on a 6 x 4 case).
        const flat = tf.reshape(v, [-1, W]);
        const uRow = tf.tensor2d(u, [1, W]);
        // (v . u - fill) per token, times u, taken off: only the component along u changes.
        const coef = tf.sub(tf.sum(tf.mul(flat, uRow), 1, true), tf.scalar(fill));
        return tf.reshape(tf.sub(flat, tf.mul(coef, uRow)), v.shape);
      }),
    };
    const { logits } = model.forward(x, { hooks: write });
    try {
      ablSum += batchNll(logits, wins);
    } finally {
      tf.dispose([x, logits]);
    }
  }
  const ablated = ablSum / at.predicted;
  return {
    hook: at.hook, mode, bytes: at.bytes, tokens: at.ids.length, predicted: at.predicted, windows: at.windows.length,
    base_loss: base.base_loss, ablated_loss: ablated, delta_loss: ablated - base.base_loss,
    delta_bits_per_byte: (ablated - base.base_loss) * at.predicted / Math.LN2 / at.bytes,
    norm, fill,
  };
}
