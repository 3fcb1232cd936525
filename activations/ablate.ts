/**
 * What a model loses without some neurons: the mean next-token loss over a text with and without
 * them, through the models' own hook writes (activations/models/hooks.ts).
 *
 *  - The text is encoded once and cut into windows of at most the context length. With a BOS token
 *    every window is [BOS, t_i .. t_j] and predicts all of its text tokens (the first from BOS alone);
 *    without one, a window's first token is context only. Windows of equal length run as one batch. `ablationWindows` is the one definition, shared
 *    with the PyTorch peer through the golden's cases.
 *  - zero: the neurons' values are set to 0 at every position. mean: to their mean over the text's
 *    tokens (BOS positions excluded: they are not part of the text), measured on the unablated pass.
 *  - loss: mean negative log-likelihood in nats per predicted token; `delta_bits_per_byte` counts the
 *    same difference, summed over the predicted tokens, in bits per byte of the text's UTF-8, the unit
 *    `lab compress --report` reports.
 */
import { tf } from '../lab/core/backend.ts';
import { UsageError } from '../lab/core/index.ts';
import { resolveHooks } from './models/hooks.ts';
import type { HookName, LanguageModel } from './types.ts';

export type AblationMode = 'zero' | 'mean';

export interface AblateOptions {
  hook: string;
  neurons: number[];
  mode?: AblationMode;
  /** Window length in tokens (default: the model's context length). */
  window?: number;
  /**
   * zero mode: the unablated loss of this same text and window, from an earlier call, so the base pass
   * is skipped (the report ablates many neurons over one text).
   */
  base?: number;
  /**
   * mean mode: the hook's mean per neuron over this same text and window (`hookBaseline` in
   * ablate-direction.ts); with `base` it skips the unablated pass (lab capacity ablates many neuron sets).
   */
  hookMean?: ArrayLike<number>;
}

export interface AblateResult {
  hook: string;
  neurons: number[];
  mode: AblationMode;
  bytes: number;
  tokens: number;
  predicted: number;
  windows: number;
  base_loss: number;
  ablated_loss: number;
  delta_loss: number;
  delta_bits_per_byte: number;
  /** mean mode: the value each neuron was replaced by. */
  means?: number[];
}

const NOT_PER_TOKEN = /(hook_pattern|hook_attn_scores)$/;

/** The forward windows for a token sequence (see the header). */
export function ablationWindows(ids: number[], context: number, bosId?: number): number[][] {
  const out: number[][] = [];
  if (bosId !== undefined) {
    const step = context - 1;
    if (step < 1) throw new UsageError(`a window of ${context} tokens leaves no room after BOS`, 'window');
    for (let i = 0; i < ids.length; i += step) out.push([bosId, ...ids.slice(i, i + step)]);
  } else {
    // Windows overlap by one token so every token after the first is predicted exactly once.
    if (context < 2) throw new UsageError(`a window of ${context} tokens predicts nothing`, 'window');
    for (let i = 0; i + 1 < ids.length; i += context - 1) out.push(ids.slice(i, i + context));
  }
  return out;
}

/** Sum of -log p(next token) over the predicted positions of equal-length windows (logits [B, S, V]). */
export function batchNll(logits: tf.Tensor3D, wins: number[][]): number {
  const [B, S] = logits.shape;
  const lp = tf.tidy(() => tf.logSoftmax(tf.slice(logits, [0, 0, 0], [B, S - 1, -1])));
  const v = lp.dataSync() as Float32Array;
  const V = lp.shape[2]!;
  lp.dispose();
  let sum = 0;
  wins.forEach((win, b) => {
    for (let p = 0; p < S - 1; p++) sum -= v[(b * (S - 1) + p) * V + win[p + 1]!]!;
  });
  return sum;
}

/** Runs of consecutive equal-length windows, each at most ~32M logits (B x S x vocab) so memory stays bounded. */
export function batches(windows: number[][], vocab: number): number[][][] {
  const out: number[][][] = [];
  for (const w of windows) {
    const last = out[out.length - 1];
    const cap = Math.max(1, Math.floor(2 ** 25 / (w.length * vocab)));
    if (last && last[0]!.length === w.length && last.length < cap) last.push(w);
    else out.push([w]);
  }
  return out;
}

/** What every ablation of `text` at one hook shares: the resolved hook, the windows and their batches. */
export interface AblationText {
  hook: HookName;
  ids: number[];
  windows: number[][];
  groups: number[][][];
  hasBos: boolean;
  predicted: number;
  bytes: number;
}

/** Resolves the hook (exactly one per-token hook of the model) and cuts the text into windows. */
export function ablationText(model: LanguageModel, text: string, hookArg: string, window?: number): AblationText {
  const names = model.hookNames();
  const hooks = resolveHooks([hookArg], names, model.config.nLayers, names.includes('hook_pos_embed'));
  const hook = hooks[0];
  if (hooks.length !== 1) {
    throw new UsageError(`--hook '${hookArg}' matches several hooks; give exactly one`, 'hook');
  }
  if (NOT_PER_TOKEN.test(hook!)) throw new UsageError(`--hook ${hook} is [batch, head, query, key]; ablate a per-token hook`, 'hook');
  const ids = model.tokenizer.encode(text);
  const bos = model.tokenizer.bosId;
  const context = Math.min(window ?? model.config.contextLength, model.config.contextLength);
  const windows = ablationWindows(ids, context, bos);
  if (windows.length === 0) throw new UsageError('--text-file: the text encodes to fewer than two tokens, so nothing is predicted', 'text-file');
  let predicted = 0;
  for (const win of windows) predicted += win.length - 1;
  return {
    hook: hook!, ids, windows, groups: batches(windows, model.config.vocabSize), hasBos: bos !== undefined, predicted,
    bytes: Buffer.byteLength(text, 'utf8'),
  };
}

/** Base and ablated loss over `text` (see the header). The model stays loaded; the caller disposes it. */
export function ablateNeurons(model: LanguageModel, text: string, opts: AblateOptions): AblateResult {
  const mode = opts.mode ?? 'zero';
  const at = ablationText(model, text, opts.hook, opts.window);
  const { hook, ids, windows, groups, hasBos, predicted } = at;
  if (opts.neurons.length === 0) throw new UsageError('--neurons: give at least one neuron', 'neurons');

  // Unablated pass: losses and the neurons' sums over text positions for mean mode.
  let width = -1;
  const checkWidth = (size: number, len: number) => {
    if (width >= 0) return;
    width = size / len;
    for (const n of opts.neurons) {
      if (!Number.isInteger(n) || n < 0 || n >= width) throw new UsageError(`--neurons: neuron ${n} is past ${hook}'s width ${width} (0..${width - 1})`, 'neurons');
    }
  };
  let baseSum = 0, textTokens = 0;
  const sums = new Float64Array(opts.neurons.length);
  const skipBase = opts.base !== undefined && (mode === 'zero' || opts.hookMean !== undefined);
  if (skipBase) baseSum = opts.base! * predicted;
  for (const wins of skipBase ? [] : groups) {
    const S = wins[0]!.length;
    const x = tf.tensor2d(wins, [wins.length, S], 'int32');
    const { logits, cache } = model.forward(x, { names: [hook!] });
    try {
      const h = cache.get(hook!)!;
      checkWidth(h.size / wins.length, S);
      const hv = h.dataSync() as Float32Array;
      for (let b = 0; b < wins.length; b++) {
        for (let p = hasBos ? 1 : 0; p < S; p++) {
          opts.neurons.forEach((n, s) => (sums[s] += hv[(b * S + p) * width + n]!));
          textTokens++;
        }
      }
      baseSum += batchNll(logits, wins);
    } finally {
      tf.dispose([x, logits, ...cache.values()]);
    }
  }
  const means = mode !== 'mean' ? undefined
    : skipBase ? opts.neurons.map((n) => {
      const m = opts.hookMean![n];
      if (m === undefined) throw new UsageError(`--neurons: neuron ${n} is past ${hook}'s width ${opts.hookMean!.length} (0..${opts.hookMean!.length - 1})`, 'neurons');
      return m;
    })
    : Array.from(sums, (s) => s / textTokens);

  // Ablated pass: keep * v + fill, with keep 0 and fill the replacement value at the ablated neurons.
  let keepArr: Float32Array | undefined, fillArr: Float32Array | undefined;
  let ablSum = 0;
  for (const wins of groups) {
    const S = wins[0]!.length;
    const x = tf.tensor2d(wins, [wins.length, S], 'int32');
    const write: Record<HookName, (n: HookName, v: tf.Tensor) => tf.Tensor> = {
      [hook!]: (_n, v) => {
        checkWidth(v.size / wins.length, S);
        if (!keepArr || !fillArr) {
          keepArr = new Float32Array(width).fill(1);
          fillArr = new Float32Array(width);
          opts.neurons.forEach((n, s) => {
            keepArr![n] = 0;
            fillArr![n] = means ? means[s]! : 0;
          });
        }
        const shape = [1, 1, ...v.shape.slice(2)];
        return tf.add(tf.mul(v, tf.tensor(keepArr, shape)), tf.tensor(fillArr, shape));
      },
    };
    const { logits } = model.forward(x, { hooks: write });
    try {
      ablSum += batchNll(logits, wins);
    } finally {
      tf.dispose([x, logits]);
    }
  }
  const bytes = at.bytes;
  const base = baseSum / predicted;
  const ablated = ablSum / predicted;
  return {
    hook: hook!, neurons: [...opts.neurons], mode, bytes, tokens: ids.length, predicted, windows: windows.length,
    base_loss: base, ablated_loss: ablated, delta_loss: ablated - base,
    delta_bits_per_byte: (ablSum - baseSum) / Math.LN2 / bytes,
    ...(means ? { means } : {}),
  };
}
